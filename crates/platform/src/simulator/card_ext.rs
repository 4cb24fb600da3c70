//! `simulator::card_ext`: the check of one `wx.addCard` cardList item's `cardExt` (jsapi.md §8
//! steps 1, 3 and 4), and the diagnosis that names the merchant's mistake when it fails.
//!
//! It owns parsing the cardExt, the code and openid presence rules, the card signature check,
//! and the search for the first mistake it can prove. It reads no storage and knows no card
//! state: the caller passes the tickets, AppSecret and card ids of the card's account, and does
//! the card-state, stock, get_limit and replay checks itself (steps 2 and 5).
//!
//! Every named signature mistake is a fact, not a guess: it is reported only when the given
//! signature verifies under that mistake (a stale ticket, the jsapi ticket, another card id, a
//! timestamp a few seconds off, …). When nothing verifies, the failure is a plain
//! [`Mistake::SignatureMismatch`] with the values we signed, so the merchant can compare.

use serde_json::{Map, Value};
use wxcard_wire::sign::{
    card_signature, explain_card_signature, sha1_sorted_concat, verify_digest, CardSignInput,
};
use wxcard_wire::ErrCode;

use crate::domain::card_schema::CodeMode;

/// Above this a timestamp is in milliseconds: 10^11 seconds is the year 5138.
const MILLISECONDS_THRESHOLD: i64 = 100_000_000_000;
/// `nonce_str` is a string of at most 32 characters (jsapi.md §2).
const MAX_NONCE_STR_LEN: usize = 32;
/// How far, in seconds, the search looks for the timestamp a signature was made with.
const TIMESTAMP_SEARCH_SECONDS: i64 = 300;
/// How much of a merchant's value a summary repeats.
const PREVIEW_CHARS: usize = 40;
/// How much of the given signature the diagnosis repeats; a SHA1 hex digest has 40.
const GIVEN_SIGNATURE_CHARS: usize = 128;
/// How much of a ticket the diagnosis shows next to its label.
const TICKET_PREFIX_CHARS: usize = 6;

/// One cardList item to check, with what the card's account knows.
pub(crate) struct CardExtCheck<'a> {
    /// `cardList[i].cardId`.
    pub(crate) list_card_id: &'a str,
    /// `cardList[i].cardExt`: a JSON object serialized to a string.
    pub(crate) card_ext: &'a str,
    /// Who supplies the card's codes.
    pub(crate) code_mode: CodeMode,
    /// Whether each claim names the receiving openid.
    pub(crate) bind_openid: bool,
    /// The claiming user's openid in the card's Service Account.
    pub(crate) user_openid: &'a str,
    /// The `wx_card` tickets of the card's account, newest first.
    pub(crate) tickets: &'a [TicketCandidate<'a>],
    /// The account's AppSecret, to recognise it used in place of the ticket.
    pub(crate) app_secret: &'a str,
    /// The account's jsapi ticket, if one was issued, to recognise it used by mistake.
    pub(crate) jsapi_ticket: Option<&'a str>,
    /// The account's other card ids, to recognise a signature made for another card.
    pub(crate) other_card_ids: &'a [&'a str],
    /// The current time, Unix seconds.
    pub(crate) now: i64,
}

/// A `wx_card` ticket of the card's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TicketCandidate<'a> {
    /// The ticket itself.
    pub(crate) ticket: &'a str,
    /// Whether a signature made with it is accepted (current, or in its rotation grace).
    pub(crate) usable: bool,
    /// What to call it in a diagnosis, e.g. "previous wx_card ticket (replaced 40 s ago)".
    pub(crate) label: &'a str,
}

/// A cardExt whose fields and signature check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedCardExt {
    /// The custom code to issue (custom-code cards only).
    pub(crate) code: Option<String>,
    /// The openid the card is bound to (`bind_openid` cards only).
    pub(crate) openid: Option<String>,
    /// The signed timestamp, Unix seconds.
    pub(crate) timestamp: i64,
    /// The signed nonce, or empty when the client sent none.
    pub(crate) nonce_str: String,
    /// The channel tag, echoed as `OuterStr` in `user_get_card`.
    pub(crate) outer_str: Option<String>,
    /// The legacy integer channel id, echoed as `OuterId`.
    pub(crate) outer_id: Option<i64>,
    /// When the code's validity starts, for `DATE_TYPE_FIX_TERM` cards.
    pub(crate) fixed_begintimestamp: Option<i64>,
    /// The signature as given.
    pub(crate) signature: String,
}

/// What the merchant got wrong, as precisely as we can prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mistake {
    /// cardExt is empty.
    CardExtEmpty,
    /// cardExt is not JSON.
    NotJson,
    /// cardExt is a JSON string holding the object: it was serialized twice.
    SerializedTwice,
    /// cardExt is JSON but not an object.
    NotAnObject,
    /// The named field has the wrong JSON type.
    WrongFieldType(&'static str),
    /// No `signature`.
    MissingSignature,
    /// No `timestamp`.
    MissingTimestamp,
    /// `timestamp` is not a whole, non-negative number of seconds.
    BadTimestamp,
    /// `timestamp` is in milliseconds.
    TimestampInMilliseconds,
    /// `fixed_begintimestamp` is not whole Unix seconds.
    BadFixedBegintimestamp,
    /// `nonce_str` is longer than 32 characters.
    NonceStrTooLong,
    /// The nonce was sent as `nonceStr`.
    NonceStrMisspelled,
    /// A code was given for a card whose codes the platform generates.
    CodeForSystemCard,
    /// A code was given for a card whose codes come from the deposited pool.
    CodeForDepositCard,
    /// No code for a custom-code card.
    MissingCodeForCustomCard,
    /// An openid was given for a card without `bind_openid`.
    OpenidWithoutBindOpenid,
    /// No openid for a `bind_openid` card.
    MissingOpenidForBindOpenid,
    /// The openid is not the claiming user's openid in the card's account.
    OpenidOfAnotherUser,
    /// The account has no valid `wx_card` ticket, so nothing can verify.
    NoUsableTicket,
    /// Signed with a replaced or expired `wx_card` ticket.
    SignedWithStaleTicket,
    /// Signed with the jsapi ticket (the `wx.config` one).
    SignedWithJsapiTicket,
    /// Signed with the AppSecret in place of the ticket.
    SignedWithAppSecret,
    /// Signed for another card of the account (its card id).
    SignedForAnotherCard(String),
    /// cardExt has a code that the signature leaves out.
    CodeNotSigned,
    /// cardExt has an openid that the signature leaves out.
    OpenidNotSigned,
    /// cardExt has a `nonce_str` that the signature leaves out.
    NonceStrNotSigned,
    /// The signature includes fields that are not signed (their names).
    UnsignedFieldsSigned(Vec<&'static str>),
    /// Signed with another timestamp than cardExt's (the one signed).
    SignedWithOtherTimestamp(i64),
    /// The signature is not 40 hex characters, so it cannot be a SHA1.
    SignatureNotSha1Hex,
    /// The signature does not verify and no mistake above explains it.
    SignatureMismatch,
}

impl Mistake {
    /// The errcode the failure carries.
    pub(crate) fn errcode(&self) -> ErrCode {
        match self {
            // Compat: errors.md §2 lists 40003 `invalid openid` for a cardExt-bound add whose
            // openid is not the claiming user's; jsapi.md §8 step 1 gives every other cardExt
            // or signature failure 40080 `invalid card ext`.
            Mistake::OpenidOfAnotherUser => ErrCode::INVALID_OPENID,
            Mistake::CardExtEmpty
            | Mistake::NotJson
            | Mistake::SerializedTwice
            | Mistake::NotAnObject
            | Mistake::WrongFieldType(_)
            | Mistake::MissingSignature
            | Mistake::MissingTimestamp
            | Mistake::BadTimestamp
            | Mistake::TimestampInMilliseconds
            | Mistake::BadFixedBegintimestamp
            | Mistake::NonceStrTooLong
            | Mistake::NonceStrMisspelled
            | Mistake::CodeForSystemCard
            | Mistake::CodeForDepositCard
            | Mistake::MissingCodeForCustomCard
            | Mistake::OpenidWithoutBindOpenid
            | Mistake::MissingOpenidForBindOpenid
            | Mistake::NoUsableTicket
            | Mistake::SignedWithStaleTicket
            | Mistake::SignedWithJsapiTicket
            | Mistake::SignedWithAppSecret
            | Mistake::SignedForAnotherCard(_)
            | Mistake::CodeNotSigned
            | Mistake::OpenidNotSigned
            | Mistake::NonceStrNotSigned
            | Mistake::UnsignedFieldsSigned(_)
            | Mistake::SignedWithOtherTimestamp(_)
            | Mistake::SignatureNotSha1Hex
            | Mistake::SignatureMismatch => ErrCode::INVALID_CARD_EXT,
        }
    }

    /// A stable snake_case name, for a diagnosis that scripts can branch on.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "for the addCard diagnosis, which shows `Debug` today"
        )
    )]
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Mistake::CardExtEmpty => "card_ext_empty",
            Mistake::NotJson => "not_json",
            Mistake::SerializedTwice => "serialized_twice",
            Mistake::NotAnObject => "not_an_object",
            Mistake::WrongFieldType(_) => "wrong_field_type",
            Mistake::MissingSignature => "missing_signature",
            Mistake::MissingTimestamp => "missing_timestamp",
            Mistake::BadTimestamp => "bad_timestamp",
            Mistake::TimestampInMilliseconds => "timestamp_in_milliseconds",
            Mistake::BadFixedBegintimestamp => "bad_fixed_begintimestamp",
            Mistake::NonceStrTooLong => "nonce_str_too_long",
            Mistake::NonceStrMisspelled => "nonce_str_misspelled",
            Mistake::CodeForSystemCard => "code_for_system_card",
            Mistake::CodeForDepositCard => "code_for_deposit_card",
            Mistake::MissingCodeForCustomCard => "missing_code_for_custom_card",
            Mistake::OpenidWithoutBindOpenid => "openid_without_bind_openid",
            Mistake::MissingOpenidForBindOpenid => "missing_openid_for_bind_openid",
            Mistake::OpenidOfAnotherUser => "openid_of_another_user",
            Mistake::NoUsableTicket => "no_usable_ticket",
            Mistake::SignedWithStaleTicket => "signed_with_stale_ticket",
            Mistake::SignedWithJsapiTicket => "signed_with_jsapi_ticket",
            Mistake::SignedWithAppSecret => "signed_with_app_secret",
            Mistake::SignedForAnotherCard(_) => "signed_for_another_card",
            Mistake::CodeNotSigned => "code_not_signed",
            Mistake::OpenidNotSigned => "openid_not_signed",
            Mistake::NonceStrNotSigned => "nonce_str_not_signed",
            Mistake::UnsignedFieldsSigned(_) => "unsigned_fields_signed",
            Mistake::SignedWithOtherTimestamp(_) => "signed_with_other_timestamp",
            Mistake::SignatureNotSha1Hex => "signature_not_sha1_hex",
            Mistake::SignatureMismatch => "signature_mismatch",
        }
    }
}

/// What we hashed for a signature failure, next to what the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureDiagnosis {
    /// The values we signed, sorted, in full (this is a local test tool: the ticket included).
    pub(crate) sorted_values: Vec<String>,
    /// The exact string we hashed.
    pub(crate) joined: String,
    /// Our digest, lower-case hex.
    pub(crate) expected: String,
    /// The client's signature (cut to 128 characters).
    pub(crate) given: String,
    /// The ticket `expected` was made with: its label and first 6 characters, e.g.
    /// "current wx_card ticket (E0o2-a…)"; the full ticket is in `sorted_values`.
    pub(crate) ticket: String,
}

/// Why a cardExt was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CardExtFailure {
    /// The errcode (40080 for nearly everything; see [`Mistake::errcode`]).
    pub(crate) errcode: ErrCode,
    /// The mistake.
    pub(crate) mistake: Mistake,
    /// One sentence naming the mistake and its fix.
    pub(crate) summary: String,
    /// What we signed, for signature failures (boxed: failures are passed around by value).
    pub(crate) signature: Option<Box<SignatureDiagnosis>>,
}

impl CardExtFailure {
    fn new(mistake: Mistake, summary: String) -> CardExtFailure {
        CardExtFailure {
            errcode: mistake.errcode(),
            mistake,
            summary,
            signature: None,
        }
    }
}

/// Checks one cardList item's cardExt: its fields, the code and openid rules of the card, and
/// its signature against the account's usable `wx_card` tickets.
///
/// # Errors
///
/// A [`CardExtFailure`] naming the first mistake found, with a [`SignatureDiagnosis`] when the
/// signature is what failed. Nothing panics, whatever the cardExt holds.
pub(crate) fn check_card_ext(check: &CardExtCheck<'_>) -> Result<VerifiedCardExt, CardExtFailure> {
    let card_ext = parse_card_ext(check)?;
    check_code_and_openid(check, &card_ext)?;
    check_signature(check, &card_ext)?;
    Ok(VerifiedCardExt {
        code: card_ext.code,
        openid: card_ext.openid,
        timestamp: card_ext.timestamp,
        nonce_str: card_ext.nonce_str.unwrap_or_default(),
        outer_str: card_ext.outer_str,
        outer_id: card_ext.outer_id,
        fixed_begintimestamp: card_ext.fixed_begintimestamp,
        signature: card_ext.signature,
    })
}

/// The cardExt fields, typed; an empty string counts as absent.
struct ParsedCardExt {
    signature: String,
    timestamp: i64,
    nonce_str: Option<String>,
    /// The value of a misspelled `nonceStr`.
    nonce_str_misspelled: Option<String>,
    code: Option<String>,
    openid: Option<String>,
    outer_str: Option<String>,
    outer_id: Option<i64>,
    fixed_begintimestamp: Option<i64>,
    balance: Option<String>,
}

/// Step 1: the cardExt is a JSON object and each field has a usable type.
fn parse_card_ext(check: &CardExtCheck<'_>) -> Result<ParsedCardExt, CardExtFailure> {
    let object = parse_object(check.card_ext)?;

    let Some(signature) = string_field(&object, "signature")? else {
        return Err(CardExtFailure::new(
            Mistake::MissingSignature,
            "cardExt has no signature; add \"signature\": the SHA1 hex of the api_ticket, \
             timestamp, card_id, code, openid and nonce_str, sorted and joined without \
             separators."
                .to_owned(),
        ));
    };
    let timestamp = parse_timestamp(check, &object)?;
    let nonce_str = string_field(&object, "nonce_str")?;
    if let Some(nonce_str) = &nonce_str {
        if nonce_str.len() > MAX_NONCE_STR_LEN {
            return Err(CardExtFailure::new(
                Mistake::NonceStrTooLong,
                format!(
                    "cardExt.nonce_str has {} bytes, but it may have at most 32; use a shorter \
                     random string of letters and digits, such as 16 characters.",
                    nonce_str.len()
                ),
            ));
        }
    }
    // jsapi.md §3 names `nonceStr` in cardExt as a common integration mistake. It is not a
    // cardExt field, so it is only remembered for the diagnosis, never signed.
    let nonce_str_misspelled = match object.get("nonceStr") {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        _ => None,
    };
    let fixed_begintimestamp = match integer_field(&object, "fixed_begintimestamp") {
        Ok(Some(seconds)) if (0..MILLISECONDS_THRESHOLD).contains(&seconds) => Some(seconds),
        Ok(None) => None,
        Ok(Some(_)) | Err(()) => {
            return Err(CardExtFailure::new(
                Mistake::BadFixedBegintimestamp,
                format!(
                    "cardExt.fixed_begintimestamp is {}, but it must be whole Unix seconds (a \
                     number or a string of digits, not milliseconds) of the claim in your \
                     system.",
                    preview_value(object.get("fixed_begintimestamp"))
                ),
            ));
        }
    };
    let Ok(outer_id) = integer_field(&object, "outer_id") else {
        return Err(wrong_type(&object, "outer_id", "an integer"));
    };

    Ok(ParsedCardExt {
        signature,
        timestamp,
        nonce_str,
        nonce_str_misspelled,
        code: string_field(&object, "code")?,
        openid: string_field(&object, "openid")?,
        outer_str: string_field(&object, "outer_str")?,
        outer_id,
        fixed_begintimestamp,
        balance: balance_field(&object)?,
    })
}

/// Parses the cardExt text into its JSON object, naming what else it is.
fn parse_object(text: &str) -> Result<Map<String, Value>, CardExtFailure> {
    if text.trim().is_empty() {
        return Err(CardExtFailure::new(
            Mistake::CardExtEmpty,
            "cardExt is empty; pass JSON.stringify of an object such as \
             {\"timestamp\":…,\"nonce_str\":…,\"signature\":…}."
                .to_owned(),
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(Value::String(inner))
            if matches!(serde_json::from_str::<Value>(&inner), Ok(Value::Object(_))) =>
        {
            Err(CardExtFailure::new(
                Mistake::SerializedTwice,
                "cardExt is a JSON string that holds the object, so it was serialized twice; \
                 call JSON.stringify once on the object."
                    .to_owned(),
            ))
        }
        Ok(other) => Err(CardExtFailure::new(
            Mistake::NotAnObject,
            format!(
                "cardExt is a JSON {}, but it must be an object such as \
                 {{\"timestamp\":…,\"nonce_str\":…,\"signature\":…}}, serialized to a string.",
                json_kind(&other)
            ),
        )),
        Err(error) => Err(CardExtFailure::new(
            Mistake::NotJson,
            format!(
                "cardExt is not valid JSON ({error}); pass JSON.stringify of an object, not a \
                 hand-built string."
            ),
        )),
    }
}

/// Reads `timestamp`: a number or a numeric string (jsapi.md §2), in seconds.
fn parse_timestamp(
    check: &CardExtCheck<'_>,
    object: &Map<String, Value>,
) -> Result<i64, CardExtFailure> {
    match integer_field(object, "timestamp") {
        Ok(None) => Err(CardExtFailure::new(
            Mistake::MissingTimestamp,
            "cardExt has no timestamp; add \"timestamp\": the current Unix time in seconds, \
             the same value you signed."
                .to_owned(),
        )),
        Ok(Some(timestamp)) if timestamp >= MILLISECONDS_THRESHOLD => Err(CardExtFailure::new(
            Mistake::TimestampInMilliseconds,
            format!(
                "cardExt.timestamp {timestamp} is in milliseconds; use Unix seconds, like \
                     {} now (Math.floor(Date.now() / 1000)), and sign that same value.",
                check.now
            ),
        )),
        Ok(Some(timestamp)) if timestamp >= 0 => Ok(timestamp),
        Ok(Some(_)) | Err(()) => Err(CardExtFailure::new(
            Mistake::BadTimestamp,
            format!(
                "cardExt.timestamp is {}, but it must be the Unix time in whole seconds, as a \
                 number or a string of digits.",
                preview_value(object.get("timestamp"))
            ),
        )),
    }
}

/// A string field; absent, `null` and `""` are all "not given".
fn string_field(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, CardExtFailure> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(wrong_type(object, field, "a string")),
    }
}

/// An integer field, as a JSON number or a string of digits; `Err` when it is neither.
fn integer_field(object: &Map<String, Value>, field: &str) -> Result<Option<i64>, ()> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::Number(number)) => number.as_i64().map(Some).ok_or(()),
        Some(Value::String(text)) if text.bytes().all(|byte| byte.is_ascii_digit()) => {
            text.parse().map(Some).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

/// The legacy LUCKY_MONEY `balance`, signed as its decimal text when present (jsapi.md §2).
fn balance_field(object: &Map<String, Value>) -> Result<Option<String>, CardExtFailure> {
    match object.get("balance") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(wrong_type(object, "balance", "a number")),
    }
}

fn wrong_type(object: &Map<String, Value>, field: &'static str, expected: &str) -> CardExtFailure {
    let found = object.get(field).map_or("missing", json_kind);
    CardExtFailure::new(
        Mistake::WrongFieldType(field),
        format!("cardExt.{field} is a JSON {found}, but it must be {expected}; fix its type."),
    )
}

/// Step 3: code and openid presence against the card's code mode and `bind_openid`.
fn check_code_and_openid(
    check: &CardExtCheck<'_>,
    card_ext: &ParsedCardExt,
) -> Result<(), CardExtFailure> {
    // Compat: jsapi.md §2: a code is required for custom-code cards and must not be given for
    // system-code or deposit-mode cards; an openid is given exactly when `bind_openid` is on.
    let code_mistake = match (check.code_mode, &card_ext.code) {
        (CodeMode::Custom, None) => Some(CardExtFailure::new(
            Mistake::MissingCodeForCustomCard,
            "This card uses custom codes (use_custom_code), so cardExt must carry the \"code\" \
             to issue; add it and sign it."
                .to_owned(),
        )),
        (CodeMode::System, Some(code)) => Some(CardExtFailure::new(
            Mistake::CodeForSystemCard,
            format!(
                "cardExt has code {:?}, but this card's codes are generated by WeChat; remove \
                 code from cardExt and from the signed values.",
                preview(code)
            ),
        )),
        (CodeMode::Deposit, Some(code)) => Some(CardExtFailure::new(
            Mistake::CodeForDepositCard,
            format!(
                "cardExt has code {:?}, but this card hands out codes from the ones you \
                 deposited (GET_CUSTOM_CODE_MODE_DEPOSIT); remove code from cardExt and from the \
                 signed values.",
                preview(code)
            ),
        )),
        (CodeMode::Custom, Some(_)) | (CodeMode::System | CodeMode::Deposit, None) => None,
    };
    if let Some(failure) = code_mistake {
        return Err(failure);
    }
    match (check.bind_openid, &card_ext.openid) {
        (true, None) => Err(CardExtFailure::new(
            Mistake::MissingOpenidForBindOpenid,
            "This card is bound to users (bind_openid), so cardExt must carry the \"openid\" of \
             the user in the Service Account that owns the card; add it and sign it."
                .to_owned(),
        )),
        (false, Some(openid)) => Err(CardExtFailure::new(
            Mistake::OpenidWithoutBindOpenid,
            format!(
                "cardExt has openid {:?}, but this card is not created with bind_openid; remove \
                 openid from cardExt and from the signed values.",
                preview(openid)
            ),
        )),
        (true, Some(openid)) if openid != check.user_openid => Err(CardExtFailure::new(
            Mistake::OpenidOfAnotherUser,
            format!(
                "cardExt.openid {:?} is not this user's openid in the Service Account that owns \
                 the card ({:?}); use that openid, not the user's Mini Program openid or another \
                 user's.",
                preview(openid),
                preview(check.user_openid)
            ),
        )),
        _ => Ok(()),
    }
}

/// The values of the card signature except the ticket (jsapi.md §3).
#[derive(Clone)]
struct SignedValues<'a> {
    timestamp: String,
    card_id: &'a str,
    code: &'a str,
    openid: &'a str,
    nonce_str: &'a str,
    balance: Option<&'a str>,
}

impl<'a> SignedValues<'a> {
    fn of(check: &CardExtCheck<'a>, card_ext: &'a ParsedCardExt) -> SignedValues<'a> {
        SignedValues {
            timestamp: card_ext.timestamp.to_string(),
            card_id: check.list_card_id,
            code: card_ext.code.as_deref().unwrap_or_default(),
            openid: card_ext.openid.as_deref().unwrap_or_default(),
            nonce_str: card_ext.nonce_str.as_deref().unwrap_or_default(),
            balance: card_ext.balance.as_deref(),
        }
    }

    fn input<'s>(&'s self, api_ticket: &'s str) -> CardSignInput<'s> {
        CardSignInput {
            api_ticket,
            timestamp: &self.timestamp,
            card_id: self.card_id,
            code: self.code,
            openid: self.openid,
            nonce_str: self.nonce_str,
            balance: self.balance,
        }
    }

    /// Whether `given` is the signature of these values under `secret`, ignoring hex case.
    fn signed_with(&self, secret: &str, given: &str) -> bool {
        verify_digest(&card_signature(&self.input(secret)), given)
    }

    /// Whether `given` signs these values plus `extra` values that must not be signed.
    fn signed_with_extra(&self, secret: &str, extra: &[&str], given: &str) -> bool {
        let mut values = vec![
            secret,
            self.timestamp.as_str(),
            self.card_id,
            self.code,
            self.openid,
            self.nonce_str,
        ];
        values.extend(self.balance);
        values.extend_from_slice(extra);
        verify_digest(&sha1_sorted_concat(&values), given)
    }
}

/// Step 4: the signature against every usable ticket, and the diagnosis when none matches.
fn check_signature(
    check: &CardExtCheck<'_>,
    card_ext: &ParsedCardExt,
) -> Result<(), CardExtFailure> {
    let values = SignedValues::of(check, card_ext);
    let usable: Vec<&TicketCandidate<'_>> = check
        .tickets
        .iter()
        .filter(|ticket| ticket.usable)
        .collect();
    // Compat: jsapi.md §8 step 4: during a ticket rotation both the current and the previous
    // ticket verify; the caller marks which ones are still usable.
    if usable
        .iter()
        .any(|ticket| values.signed_with(ticket.ticket, &card_ext.signature))
    {
        return Ok(());
    }
    let (mistake, summary) = name_the_mistake(check, card_ext, &values, &usable);
    let mut failure = CardExtFailure::new(mistake, summary);
    failure.signature = Some(Box::new(diagnose(check, card_ext, &values, &usable)));
    Err(failure)
}

/// What we hashed with the current ticket (the newest usable one, else the newest at all).
fn diagnose(
    check: &CardExtCheck<'_>,
    card_ext: &ParsedCardExt,
    values: &SignedValues<'_>,
    usable: &[&TicketCandidate<'_>],
) -> SignatureDiagnosis {
    let current = usable.first().copied().or(check.tickets.first());
    let (ticket, label) = current.map_or(("", "no wx_card ticket has been issued"), |ticket| {
        (ticket.ticket, ticket.label)
    });
    let breakdown = explain_card_signature(&values.input(ticket));
    SignatureDiagnosis {
        sorted_values: breakdown.sorted_values,
        joined: breakdown.joined,
        expected: breakdown.digest,
        given: shorten(&card_ext.signature, GIVEN_SIGNATURE_CHARS),
        ticket: describe_ticket(label, ticket),
    }
}

/// The first mistake that makes the given signature verify, trying the wrong secrets first and
/// then wrong values; [`Mistake::SignatureMismatch`] when none does.
///
/// Each step changes one thing only. The search costs at most a few thousand SHA1s per usable
/// ticket (the timestamp windows), and runs only for a failing cardExt.
fn name_the_mistake(
    check: &CardExtCheck<'_>,
    card_ext: &ParsedCardExt,
    values: &SignedValues<'_>,
    usable: &[&TicketCandidate<'_>],
) -> (Mistake, String) {
    let given = card_ext.signature.as_str();
    if !is_sha1_hex(given) {
        return (
            Mistake::SignatureNotSha1Hex,
            format!(
                "cardExt.signature is not 40 hex characters (it has {}), so it is not a SHA1; \
                 the card signature is the hex SHA1 of the sorted, joined values, not SHA-256, \
                 MD5, base64 or an HMAC.",
                given.chars().count()
            ),
        );
    }
    if let Some(found) = stale_or_wrong_secret(check, values, given) {
        return found;
    }
    if usable.is_empty() {
        return (
            Mistake::NoUsableTicket,
            "The Service Account has no valid wx_card ticket, so no signature can verify; fetch \
             one with GET /cgi-bin/ticket/getticket?type=wx_card and sign with it."
                .to_owned(),
        );
    }
    let verifies = |variant: &SignedValues<'_>| {
        usable
            .iter()
            .any(|ticket| variant.signed_with(ticket.ticket, given))
    };

    for &card_id in check.other_card_ids {
        if card_id != check.list_card_id
            && verifies(&SignedValues {
                card_id,
                ..values.clone()
            })
        {
            return (
                Mistake::SignedForAnotherCard(card_id.to_owned()),
                format!(
                    "The signature was made for card {card_id:?}, but this cardList item's cardId \
                     is {:?}; sign the same card_id that you put in cardList[].cardId.",
                    preview(check.list_card_id)
                ),
            );
        }
    }
    if let Some(found) = left_out_value(card_ext, values, &verifies) {
        return found;
    }
    if let Some(found) = unsigned_fields_signed(card_ext, values, usable, given) {
        return found;
    }
    if let Some(found) = other_timestamp(check, card_ext, values, &verifies) {
        return found;
    }
    if card_ext.nonce_str.is_none() && card_ext.nonce_str_misspelled.is_some() {
        return (
            Mistake::NonceStrMisspelled,
            "cardExt has nonceStr, which must be spelled nonce_str; the signature does not match \
             with its value as nonce_str either, so also compare your signed values with ours."
                .to_owned(),
        );
    }
    (
        Mistake::SignatureMismatch,
        "The signature does not match the one we made from the values in the diagnosis, and no \
         common mistake explains it; sign exactly those values (the wx_card api_ticket, \
         timestamp, card_id, code, openid and nonce_str), sorted byte-wise and joined without \
         separators."
            .to_owned(),
    )
}

/// A replaced or expired ticket, the jsapi ticket, or the AppSecret, in that order.
fn stale_or_wrong_secret(
    check: &CardExtCheck<'_>,
    values: &SignedValues<'_>,
    given: &str,
) -> Option<(Mistake, String)> {
    if let Some(stale) = check
        .tickets
        .iter()
        .find(|ticket| !ticket.usable && values.signed_with(ticket.ticket, given))
    {
        return Some((
            Mistake::SignedWithStaleTicket,
            format!(
                "The signature was made with the {}, which no longer verifies; fetch the current \
                 ticket with GET /cgi-bin/ticket/getticket?type=wx_card, cache it no longer than \
                 its expires_in, and sign with it.",
                stale.label
            ),
        ));
    }
    if let Some(jsapi_ticket) = check.jsapi_ticket.filter(|ticket| !ticket.is_empty()) {
        if values.signed_with(jsapi_ticket, given) {
            return Some((
                Mistake::SignedWithJsapiTicket,
                "The signature was made with the jsapi ticket (type=jsapi, the one for wx.config); \
                 sign cardExt with the card ticket from GET \
                 /cgi-bin/ticket/getticket?type=wx_card instead."
                    .to_owned(),
            ));
        }
    }
    // Compat: jsapi.md §3 "Legacy variants": older docs let the AppSecret stand in for the
    // api_ticket. Today's platform does not accept it, so it is named, not accepted.
    if !check.app_secret.is_empty() && values.signed_with(check.app_secret, given) {
        return Some((
            Mistake::SignedWithAppSecret,
            "The signature was made with the AppSecret in place of the api_ticket (a variant of \
             old docs); sign with the card ticket from GET \
             /cgi-bin/ticket/getticket?type=wx_card, and never send the AppSecret to a client."
                .to_owned(),
        ));
    }
    None
}

/// A code, openid or nonce_str that is in cardExt but not in the signature, or a nonce sent as
/// `nonceStr`.
fn left_out_value(
    card_ext: &ParsedCardExt,
    values: &SignedValues<'_>,
    verifies: &dyn Fn(&SignedValues<'_>) -> bool,
) -> Option<(Mistake, String)> {
    if !values.code.is_empty()
        && verifies(&SignedValues {
            code: "",
            ..values.clone()
        })
    {
        return Some((
            Mistake::CodeNotSigned,
            format!(
                "cardExt.code {:?} is not in the signature; a custom code must be signed too, so \
                 add it to the values you sign.",
                preview(values.code)
            ),
        ));
    }
    if !values.openid.is_empty()
        && verifies(&SignedValues {
            openid: "",
            ..values.clone()
        })
    {
        return Some((
            Mistake::OpenidNotSigned,
            format!(
                "cardExt.openid {:?} is not in the signature; a bound openid must be signed too, \
                 so add it to the values you sign.",
                preview(values.openid)
            ),
        ));
    }
    if let Some(misspelled) = card_ext
        .nonce_str_misspelled
        .as_deref()
        .filter(|misspelled| Some(*misspelled) != card_ext.nonce_str.as_deref())
    {
        if verifies(&SignedValues {
            nonce_str: misspelled,
            ..values.clone()
        }) {
            let summary = if card_ext.nonce_str.is_none() {
                "cardExt has nonceStr; the signature was made with it as nonce_str, but the \
                 field must be spelled nonce_str."
            } else {
                "cardExt has both nonce_str and nonceStr, and the signature was made with \
                 nonceStr's value; put the value you signed in nonce_str and drop nonceStr."
            };
            return Some((Mistake::NonceStrMisspelled, summary.to_owned()));
        }
    }
    // Compat: jsapi.md §3 "Legacy variants": node's wechat-api signs without nonce_str. That
    // verifies when cardExt has no nonce_str; with one, the client sent a nonce it did not sign.
    if !values.nonce_str.is_empty()
        && verifies(&SignedValues {
            nonce_str: "",
            ..values.clone()
        })
    {
        return Some((
            Mistake::NonceStrNotSigned,
            format!(
                "cardExt.nonce_str {:?} is not in the signature (it matches the old formula \
                 without nonce_str); sign the nonce_str too, or leave it out of cardExt.",
                preview(values.nonce_str)
            ),
        ));
    }
    None
}

/// `outer_str`, `outer_id` or `fixed_begintimestamp` included in the signed values.
fn unsigned_fields_signed(
    card_ext: &ParsedCardExt,
    values: &SignedValues<'_>,
    usable: &[&TicketCandidate<'_>],
    given: &str,
) -> Option<(Mistake, String)> {
    let outer_id = card_ext.outer_id.map(|outer_id| outer_id.to_string());
    let fixed_begintimestamp = card_ext
        .fixed_begintimestamp
        .map(|seconds| seconds.to_string());
    let present: Vec<(&'static str, &str)> = [
        ("outer_str", card_ext.outer_str.as_deref()),
        ("outer_id", outer_id.as_deref()),
        ("fixed_begintimestamp", fixed_begintimestamp.as_deref()),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.map(|value| (field, value)))
    .collect();
    // Each field alone, then all of them together.
    let mut combinations: Vec<Vec<(&'static str, &str)>> =
        present.iter().map(|field| vec![*field]).collect();
    if present.len() > 1 {
        combinations.push(present.clone());
    }
    let signed_fields = combinations.into_iter().find(|combination| {
        let extra: Vec<&str> = combination.iter().map(|(_, value)| *value).collect();
        usable
            .iter()
            .any(|ticket| values.signed_with_extra(ticket.ticket, &extra, given))
    })?;
    let names: Vec<&'static str> = signed_fields.iter().map(|(field, _)| *field).collect();
    let summary = format!(
        "The signature includes {}, which must not be signed; sign only the api_ticket, \
         timestamp, card_id, code, openid and nonce_str.",
        names.join(" and ")
    );
    Some((Mistake::UnsignedFieldsSigned(names), summary))
}

/// A signature made with a timestamp near cardExt's, near now, or cardExt's in milliseconds.
fn other_timestamp(
    check: &CardExtCheck<'_>,
    card_ext: &ParsedCardExt,
    values: &SignedValues<'_>,
    verifies: &dyn Fn(&SignedValues<'_>) -> bool,
) -> Option<(Mistake, String)> {
    let timestamp = card_ext.timestamp;
    let near_card_ext =
        (timestamp - TIMESTAMP_SEARCH_SECONDS)..=(timestamp + TIMESTAMP_SEARCH_SECONDS);
    // A timestamp written into cardExt long before it was signed: the signing time is now-ish.
    let near_now = check.now.saturating_sub(TIMESTAMP_SEARCH_SECONDS)..=check.now.saturating_add(5);
    let near_now = near_now.filter(|candidate| !near_card_ext.contains(candidate));
    // `Date.now()` signed, seconds sent (or the other way round): the same moment in ms.
    let milliseconds = timestamp
        .checked_mul(1000)
        .map(|base| (base - 1000)..(base + 2000))
        .into_iter()
        .flatten();
    let signed = near_card_ext
        .clone()
        .chain(near_now)
        .chain(milliseconds)
        .filter(|candidate| *candidate != timestamp)
        .find(|candidate| {
            verifies(&SignedValues {
                timestamp: candidate.to_string(),
                ..values.clone()
            })
        })?;
    let summary = if signed >= MILLISECONDS_THRESHOLD {
        format!(
            "The signature was made with the millisecond timestamp {signed}, but \
             cardExt.timestamp is {timestamp}; sign the same Unix seconds that you put in cardExt."
        )
    } else {
        let (distance, direction) = if signed > timestamp {
            (signed - timestamp, "later")
        } else {
            (timestamp - signed, "earlier")
        };
        format!(
            "The signature was made with timestamp {signed}, {distance} s {direction} than \
             cardExt.timestamp {timestamp}; take the timestamp once and use that same value in \
             cardExt and in the signature."
        )
    };
    Some((Mistake::SignedWithOtherTimestamp(signed), summary))
}

fn is_sha1_hex(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// "label (E0o2-a…)": enough of the ticket to tell tickets apart; `sorted_values` has it whole.
fn describe_ticket(label: &str, ticket: &str) -> String {
    if ticket.is_empty() {
        return label.to_owned();
    }
    format!("{label} ({})", shorten(ticket, TICKET_PREFIX_CHARS))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A field's value as JSON, shortened, for a summary.
fn preview_value(value: Option<&Value>) -> String {
    value.map_or_else(
        || "missing".to_owned(),
        |value| shorten(&value.to_string(), PREVIEW_CHARS),
    )
}

/// A merchant's value, shortened, for a summary.
fn preview(text: &str) -> String {
    shorten(text, PREVIEW_CHARS)
}

/// The first `max_chars` characters of `text`, with "…" when something was cut.
fn shorten(text: &str, max_chars: usize) -> String {
    let mut shortened: String = text.chars().take(max_chars).collect();
    if shortened.len() < text.len() {
        shortened.push('…');
    }
    shortened
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use wxcard_wire::sign::{card_signature, sha1_sorted_concat, CardSignInput};
    use wxcard_wire::ErrCode;

    use crate::domain::card_schema::CodeMode;
    use crate::simulator::card_ext::{
        check_card_ext, CardExtCheck, CardExtFailure, Mistake, TicketCandidate, VerifiedCardExt,
    };

    // The example values of jsapi.md §3.1, plus the account's other secrets.
    const CURRENT_TICKET: &str =
        "E0o2-at6NcC2OsJiQTlwlLaeD5Ixsy-VOrvy0s0Z0g7n3W9Hk9xDsASgkZUQ-0q4ejvnkV8mpEfO5dG6XCTdzA";
    const PREVIOUS_TICKET: &str =
        "Prev-tk9NcC2OsJiQTlwlLaeD5Ixsy-VOrvy0s0Z0g7n3W9Hk9xDsASgkZUQ-0q4ejvnkV8mpEfO5dG6XCTdzA";
    const EXPIRED_TICKET: &str =
        "Old-tk0NcC2OsJiQTlwlLaeD5Ixsy-VOrvy0s0Z0g7n3W9Hk9xDsASgkZUQ-0q4ejvnkV8mpEfO5dG6XCTdzA";
    const JSAPI_TICKET: &str =
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";
    const APP_SECRET: &str = "0123456789abcdef0123456789abcdef";
    const CARD_ID: &str = "pFS7Fjg8kV1IdDz01r4SQwMkuCKc";
    const OTHER_CARD_ID: &str = "pFS7FjSomeOtherCard000000000";
    const USER_OPENID: &str = "oFS7Fjl0WsZ9AMZqrI80nbIq8xrA";
    const OTHER_OPENID: &str = "oFS7FjSomebodyElse0000000000";
    const CODE: &str = "110201201245";
    const TIMESTAMP: i64 = 1_700_000_000;
    const NONCE: &str = "Zx8pQ2rTv5";
    const NOW: i64 = 1_700_000_030;

    const TICKETS: &[TicketCandidate<'static>] = &[
        TicketCandidate {
            ticket: CURRENT_TICKET,
            usable: true,
            label: "current wx_card ticket",
        },
        TicketCandidate {
            ticket: PREVIOUS_TICKET,
            usable: true,
            label: "previous wx_card ticket (replaced 40 s ago)",
        },
        TicketCandidate {
            ticket: EXPIRED_TICKET,
            usable: false,
            label: "expired wx_card ticket",
        },
    ];
    const OTHER_CARD_IDS: &[&str] = &[OTHER_CARD_ID, "pFS7FjThirdCard0000000000000"];

    /// The values a merchant signs; [`SIGNING`] holds the spec's system-card example.
    #[derive(Clone, Copy)]
    struct Signing<'a> {
        ticket: &'a str,
        timestamp: i64,
        card_id: &'a str,
        code: &'a str,
        openid: &'a str,
        nonce_str: &'a str,
    }

    const SIGNING: Signing<'static> = Signing {
        ticket: CURRENT_TICKET,
        timestamp: TIMESTAMP,
        card_id: CARD_ID,
        code: "",
        openid: "",
        nonce_str: NONCE,
    };

    impl Signing<'_> {
        fn sign(self) -> String {
            let timestamp = self.timestamp.to_string();
            card_signature(&CardSignInput {
                api_ticket: self.ticket,
                timestamp: &timestamp,
                card_id: self.card_id,
                code: self.code,
                openid: self.openid,
                nonce_str: self.nonce_str,
                balance: None,
            })
        }
    }

    fn given_a_check(card_ext: &str, code_mode: CodeMode, bind_openid: bool) -> CardExtCheck<'_> {
        CardExtCheck {
            list_card_id: CARD_ID,
            card_ext,
            code_mode,
            bind_openid,
            user_openid: USER_OPENID,
            tickets: TICKETS,
            app_secret: APP_SECRET,
            jsapi_ticket: Some(JSAPI_TICKET),
            other_card_ids: OTHER_CARD_IDS,
            now: NOW,
        }
    }

    fn check_text(
        card_ext: &str,
        code_mode: CodeMode,
        bind_openid: bool,
    ) -> Result<VerifiedCardExt, CardExtFailure> {
        check_card_ext(&given_a_check(card_ext, code_mode, bind_openid))
    }

    fn check(
        card_ext: &Value,
        code_mode: CodeMode,
        bind_openid: bool,
    ) -> Result<VerifiedCardExt, CardExtFailure> {
        check_text(&card_ext.to_string(), code_mode, bind_openid)
    }

    fn system_card(card_ext: &Value) -> Result<VerifiedCardExt, CardExtFailure> {
        check(card_ext, CodeMode::System, false)
    }

    fn rejected(result: Result<VerifiedCardExt, CardExtFailure>) -> CardExtFailure {
        result.expect_err("the cardExt is rejected")
    }

    /// A system-card cardExt with the spec's timestamp and nonce and the given signature.
    fn card_ext_signed(signature: &str) -> Value {
        json!({"timestamp": TIMESTAMP, "nonce_str": NONCE, "signature": signature})
    }

    // Passing cases.

    #[test]
    fn a_system_code_card_signed_as_in_the_spec_example_is_accepted() {
        let card_ext = json!({
            "timestamp": 1_700_000_000,
            "nonce_str": "Zx8pQ2rTv5",
            "outer_str": "poster01",
            "signature": "4202dcb271e6eced28f8e2e72b1c5d4f871e2eba",
        });

        let verified = system_card(&card_ext).expect("the spec's example verifies");

        assert_eq!(
            verified,
            VerifiedCardExt {
                code: None,
                openid: None,
                timestamp: TIMESTAMP,
                nonce_str: NONCE.to_owned(),
                outer_str: Some("poster01".to_owned()),
                outer_id: None,
                fixed_begintimestamp: None,
                signature: "4202dcb271e6eced28f8e2e72b1c5d4f871e2eba".to_owned(),
            }
        );
    }

    #[test]
    fn a_card_signed_without_nonce_str_like_node_wechat_api_is_accepted() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "signature": "e4d692fb52f69a1f14102fca015b81b3fea3b82a",
        });

        let verified = system_card(&card_ext).expect("the legacy formula verifies");

        assert_eq!(verified.nonce_str, "");
        assert_eq!(verified.timestamp, TIMESTAMP);
    }

    #[test]
    fn a_bound_custom_code_card_accepts_upper_case_hex_and_a_string_timestamp() {
        let card_ext = json!({
            "timestamp": "1700000000",
            "nonce_str": NONCE,
            "code": CODE,
            "openid": USER_OPENID,
            "signature": "E56461C4F7F223ACB6E49A39660D5C7B18A11B95",
        });

        let verified = check(&card_ext, CodeMode::Custom, true).expect("vector B verifies");

        assert_eq!(verified.code.as_deref(), Some(CODE));
        assert_eq!(verified.openid.as_deref(), Some(USER_OPENID));
        assert_eq!(verified.timestamp, TIMESTAMP);
    }

    #[test]
    fn a_deposit_card_without_code_is_accepted_and_its_unsigned_fields_are_read() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "outer_str": "poster01",
            "outer_id": 42,
            "fixed_begintimestamp": "1700003600",
            "signature": SIGNING.sign(),
        });

        let verified = check(&card_ext, CodeMode::Deposit, false).expect("verifies");

        assert_eq!(verified.code, None);
        assert_eq!(verified.outer_str.as_deref(), Some("poster01"));
        assert_eq!(verified.outer_id, Some(42));
        assert_eq!(verified.fixed_begintimestamp, Some(1_700_003_600));
        assert_eq!(verified.signature, SIGNING.sign());
    }

    #[test]
    fn a_signature_made_with_the_previous_ticket_is_accepted_during_rotation() {
        let signature = Signing {
            ticket: PREVIOUS_TICKET,
            ..SIGNING
        }
        .sign();

        let result = system_card(&card_ext_signed(&signature));

        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn empty_code_and_openid_strings_count_as_absent() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "code": "",
            "openid": "",
            "signature": SIGNING.sign(),
        });

        let verified = system_card(&card_ext).expect("empty strings are absent values");

        assert_eq!((verified.code, verified.openid), (None, None));
    }

    #[test]
    fn a_stray_nonce_str_spelled_in_camel_case_is_ignored_when_nothing_signed_it() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonceStr": NONCE,
            "signature": Signing { nonce_str: "", ..SIGNING }.sign(),
        });

        let verified = system_card(&card_ext).expect("unknown fields are ignored");

        assert_eq!(verified.nonce_str, "");
    }

    #[test]
    fn a_legacy_balance_is_signed_when_present() {
        let timestamp = TIMESTAMP.to_string();
        let signature = card_signature(&CardSignInput {
            api_ticket: CURRENT_TICKET,
            timestamp: &timestamp,
            card_id: CARD_ID,
            code: "",
            openid: "",
            nonce_str: NONCE,
            balance: Some("100"),
        });
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "balance": 100,
            "signature": signature,
        });

        let result = system_card(&card_ext);

        assert!(result.is_ok(), "{result:?}");
    }

    // One test per mistake.

    #[test]
    fn an_empty_card_ext_is_named_as_empty() {
        for text in ["", "   "] {
            let failure = rejected(check_text(text, CodeMode::System, false));

            assert_eq!(failure.mistake, Mistake::CardExtEmpty);
        }
    }

    #[test]
    fn a_card_ext_that_is_not_json_is_named_as_such() {
        let failure = rejected(check_text(
            "{timestamp: 1700000000, signature: 'x'}",
            CodeMode::System,
            false,
        ));

        assert_eq!(failure.mistake, Mistake::NotJson);
        assert!(
            failure.summary.contains("not valid JSON"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_card_ext_serialized_twice_is_named_as_such() {
        let twice = Value::String(card_ext_signed(&SIGNING.sign()).to_string());

        let failure = rejected(system_card(&twice));

        assert_eq!(failure.mistake, Mistake::SerializedTwice);
    }

    #[test]
    fn a_card_ext_that_is_an_array_is_not_an_object() {
        let failure = rejected(check_text("[1700000000]", CodeMode::System, false));

        assert_eq!(failure.mistake, Mistake::NotAnObject);
        assert!(failure.summary.contains("array"), "{}", failure.summary);
    }

    #[test]
    fn a_code_sent_as_a_json_number_is_a_wrong_field_type() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "code": 110_201_201_245_i64,
            "signature": SIGNING.sign(),
        });

        let failure = rejected(check(&card_ext, CodeMode::Custom, false));

        assert_eq!(failure.mistake, Mistake::WrongFieldType("code"));
        assert!(
            failure.summary.contains("cardExt.code is a JSON number"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_card_ext_without_signature_is_named_as_such() {
        for signature in [Value::Null, json!("")] {
            let card_ext =
                json!({"timestamp": TIMESTAMP, "nonce_str": NONCE, "signature": signature});

            let failure = rejected(system_card(&card_ext));

            assert_eq!(failure.mistake, Mistake::MissingSignature);
        }
        let failure = rejected(system_card(&json!({"timestamp": TIMESTAMP})));
        assert_eq!(failure.mistake, Mistake::MissingSignature);
    }

    #[test]
    fn a_card_ext_without_timestamp_is_named_as_such() {
        let card_ext = json!({"nonce_str": NONCE, "signature": SIGNING.sign()});

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::MissingTimestamp);
    }

    #[test]
    fn a_timestamp_that_is_not_whole_seconds_is_a_bad_timestamp() {
        for timestamp in [
            json!(1_700_000_000.5),
            json!("1700000000.0"),
            json!(" 1700000000"),
            json!(-5),
            json!("soon"),
            json!(true),
            json!([TIMESTAMP]),
            json!("99999999999999999999999"),
        ] {
            let card_ext = json!({"timestamp": timestamp, "signature": SIGNING.sign()});

            let failure = rejected(system_card(&card_ext));

            assert_eq!(failure.mistake, Mistake::BadTimestamp, "{timestamp}");
        }
    }

    #[test]
    fn a_timestamp_in_milliseconds_is_named_as_such() {
        let card_ext = json!({"timestamp": 1_700_000_000_123_i64, "signature": SIGNING.sign()});

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::TimestampInMilliseconds);
        assert!(
            failure.summary.contains(&NOW.to_string()),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_fixed_begintimestamp_that_is_not_seconds_is_named_as_such() {
        for fixed in [json!("tomorrow"), json!(1_700_000_000_123_i64), json!(-1)] {
            let card_ext = json!({
                "timestamp": TIMESTAMP,
                "nonce_str": NONCE,
                "fixed_begintimestamp": fixed,
                "signature": SIGNING.sign(),
            });

            let failure = rejected(system_card(&card_ext));

            assert_eq!(failure.mistake, Mistake::BadFixedBegintimestamp, "{fixed}");
        }
    }

    #[test]
    fn a_nonce_str_longer_than_32_characters_is_named_as_such() {
        let long_nonce = "n".repeat(33);
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": long_nonce,
            "signature": Signing { nonce_str: &long_nonce, ..SIGNING }.sign(),
        });

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::NonceStrTooLong);
    }

    #[test]
    fn a_nonce_signed_as_nonce_str_but_sent_as_camel_case_is_named_and_confirmed() {
        let card_ext =
            json!({"timestamp": TIMESTAMP, "nonceStr": NONCE, "signature": SIGNING.sign()});

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::NonceStrMisspelled);
        assert_eq!(
            failure.summary,
            "cardExt has nonceStr; the signature was made with it as nonce_str, but the field \
             must be spelled nonce_str."
        );
        assert!(failure.signature.is_some());
    }

    #[test]
    fn a_camel_case_nonce_that_the_signature_does_not_use_is_named_without_a_false_claim() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonceStr": NONCE,
            "signature": sha1_sorted_concat(&["something", "else"]),
        });

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::NonceStrMisspelled);
        assert!(
            failure
                .summary
                .contains("does not match with its value as nonce_str either"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_signature_made_with_the_camel_case_nonce_next_to_another_nonce_str_is_named() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": "unsigned",
            "nonceStr": NONCE,
            "signature": SIGNING.sign(),
        });

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::NonceStrMisspelled);
        assert!(
            failure.summary.contains("both nonce_str and nonceStr"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_code_for_a_system_code_card_is_named_as_such() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "code": CODE,
            "signature": Signing { code: CODE, ..SIGNING }.sign(),
        });

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::CodeForSystemCard);
        assert_eq!(failure.signature, None);
    }

    #[test]
    fn a_code_for_a_deposit_card_is_named_as_such() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "code": CODE,
            "signature": Signing { code: CODE, ..SIGNING }.sign(),
        });

        let failure = rejected(check(&card_ext, CodeMode::Deposit, false));

        assert_eq!(failure.mistake, Mistake::CodeForDepositCard);
    }

    #[test]
    fn a_custom_code_card_without_code_is_named_as_such() {
        let failure = rejected(check(
            &card_ext_signed(&SIGNING.sign()),
            CodeMode::Custom,
            false,
        ));

        assert_eq!(failure.mistake, Mistake::MissingCodeForCustomCard);
    }

    #[test]
    fn an_openid_for_a_card_without_bind_openid_is_named_as_such() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "openid": USER_OPENID,
            "signature": Signing { openid: USER_OPENID, ..SIGNING }.sign(),
        });

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::OpenidWithoutBindOpenid);
    }

    #[test]
    fn a_bind_openid_card_without_openid_is_named_as_such() {
        let failure = rejected(check(
            &card_ext_signed(&SIGNING.sign()),
            CodeMode::System,
            true,
        ));

        assert_eq!(failure.mistake, Mistake::MissingOpenidForBindOpenid);
    }

    #[test]
    fn another_users_openid_is_named_and_answered_with_invalid_openid() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "openid": OTHER_OPENID,
            "signature": Signing { openid: OTHER_OPENID, ..SIGNING }.sign(),
        });

        let failure = rejected(check(&card_ext, CodeMode::System, true));

        assert_eq!(failure.mistake, Mistake::OpenidOfAnotherUser);
        assert_eq!(failure.errcode, ErrCode::INVALID_OPENID);
    }

    #[test]
    fn an_account_without_a_usable_ticket_is_named_as_such() {
        let text = card_ext_signed(&SIGNING.sign()).to_string();
        let expired_only = [TICKETS[2]];
        let check = CardExtCheck {
            tickets: &expired_only,
            ..given_a_check(&text, CodeMode::System, false)
        };

        let failure = rejected(check_card_ext(&check));

        assert_eq!(failure.mistake, Mistake::NoUsableTicket);
        let diagnosis = failure.signature.expect("a signature failure is diagnosed");
        assert_eq!(diagnosis.ticket, "expired wx_card ticket (Old-tk…)");
    }

    #[test]
    fn a_signature_made_with_an_expired_ticket_is_named_with_its_label() {
        let signature = Signing {
            ticket: EXPIRED_TICKET,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(failure.mistake, Mistake::SignedWithStaleTicket);
        assert!(
            failure.summary.contains("expired wx_card ticket"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_signature_made_with_the_jsapi_ticket_is_named_as_such() {
        let signature = Signing {
            ticket: JSAPI_TICKET,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(failure.mistake, Mistake::SignedWithJsapiTicket);
    }

    #[test]
    fn a_signature_made_with_the_app_secret_is_named_as_such() {
        let signature = Signing {
            ticket: APP_SECRET,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(failure.mistake, Mistake::SignedWithAppSecret);
    }

    #[test]
    fn a_signature_made_for_another_card_of_the_account_names_that_card() {
        let signature = Signing {
            card_id: OTHER_CARD_ID,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(
            failure.mistake,
            Mistake::SignedForAnotherCard(OTHER_CARD_ID.to_owned())
        );
        assert!(
            failure.summary.contains(OTHER_CARD_ID),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_custom_code_left_out_of_the_signature_is_named_as_such() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "code": CODE,
            "signature": SIGNING.sign(),
        });

        let failure = rejected(check(&card_ext, CodeMode::Custom, false));

        assert_eq!(failure.mistake, Mistake::CodeNotSigned);
    }

    #[test]
    fn a_bound_openid_left_out_of_the_signature_is_named_as_such() {
        let card_ext = json!({
            "timestamp": TIMESTAMP,
            "nonce_str": NONCE,
            "openid": USER_OPENID,
            "signature": SIGNING.sign(),
        });

        let failure = rejected(check(&card_ext, CodeMode::System, true));

        assert_eq!(failure.mistake, Mistake::OpenidNotSigned);
    }

    #[test]
    fn a_nonce_str_sent_but_not_signed_is_named_as_such() {
        let signature = Signing {
            nonce_str: "",
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(failure.mistake, Mistake::NonceStrNotSigned);
    }

    #[test]
    fn signing_the_unsigned_channel_fields_is_named_with_the_fields() {
        let timestamp = TIMESTAMP.to_string();
        let with_outer_str =
            sha1_sorted_concat(&[CURRENT_TICKET, &timestamp, CARD_ID, NONCE, "poster01"]);
        let with_both = sha1_sorted_concat(&[
            CURRENT_TICKET,
            &timestamp,
            CARD_ID,
            NONCE,
            "poster01",
            "1700003600",
        ]);

        let mut failures = Vec::new();
        for signature in [with_outer_str, with_both] {
            let card_ext = json!({
                "timestamp": TIMESTAMP,
                "nonce_str": NONCE,
                "outer_str": "poster01",
                "fixed_begintimestamp": 1_700_003_600,
                "signature": signature,
            });
            failures.push(rejected(system_card(&card_ext)));
        }

        assert_eq!(
            failures[0].mistake,
            Mistake::UnsignedFieldsSigned(vec!["outer_str"])
        );
        assert_eq!(
            failures[1].mistake,
            Mistake::UnsignedFieldsSigned(vec!["outer_str", "fixed_begintimestamp"])
        );
    }

    #[test]
    fn a_signature_made_a_second_later_than_the_card_ext_timestamp_is_named() {
        let signature = Signing {
            timestamp: TIMESTAMP + 1,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(
            failure.mistake,
            Mistake::SignedWithOtherTimestamp(TIMESTAMP + 1)
        );
        assert!(failure.summary.contains("1 s later"), "{}", failure.summary);
    }

    #[test]
    fn a_signature_made_with_the_millisecond_timestamp_is_named() {
        let milliseconds = TIMESTAMP * 1000 + 123;
        let signature = Signing {
            timestamp: milliseconds,
            ..SIGNING
        }
        .sign();

        let failure = rejected(system_card(&card_ext_signed(&signature)));

        assert_eq!(
            failure.mistake,
            Mistake::SignedWithOtherTimestamp(milliseconds)
        );
        assert!(
            failure.summary.contains("millisecond"),
            "{}",
            failure.summary
        );
    }

    #[test]
    fn a_hard_coded_card_ext_timestamp_with_a_fresh_signature_is_named() {
        let signature = Signing {
            timestamp: NOW - 2,
            ..SIGNING
        }
        .sign();
        let card_ext =
            json!({"timestamp": 1_600_000_000, "nonce_str": NONCE, "signature": signature});

        let failure = rejected(system_card(&card_ext));

        assert_eq!(failure.mistake, Mistake::SignedWithOtherTimestamp(NOW - 2));
    }

    #[test]
    fn a_signature_that_is_not_a_sha1_hex_digest_is_named_as_such() {
        for signature in [
            "ab".repeat(32),
            "not a signature".to_owned(),
            "g".repeat(40),
        ] {
            let failure = rejected(system_card(&card_ext_signed(&signature)));

            assert_eq!(failure.mistake, Mistake::SignatureNotSha1Hex, "{signature}");
        }
    }

    #[test]
    fn an_unexplained_mismatch_shows_what_we_signed_with_the_current_ticket() {
        let given = sha1_sorted_concat(&["something", "else"]);

        let failure = rejected(system_card(&card_ext_signed(&given)));

        assert_eq!(failure.mistake, Mistake::SignatureMismatch);
        assert_eq!(failure.errcode, ErrCode::INVALID_CARD_EXT);
        let diagnosis = failure.signature.expect("a signature failure is diagnosed");
        assert_eq!(
            diagnosis.sorted_values,
            ["", "", "1700000000", CURRENT_TICKET, NONCE, CARD_ID]
        );
        assert_eq!(
            diagnosis.joined,
            format!("1700000000{CURRENT_TICKET}{NONCE}{CARD_ID}")
        );
        assert_eq!(
            diagnosis.expected,
            "4202dcb271e6eced28f8e2e72b1c5d4f871e2eba"
        );
        assert_eq!(diagnosis.given, given);
        assert_eq!(diagnosis.ticket, "current wx_card ticket (E0o2-a…)");
    }

    #[test]
    fn a_huge_given_signature_is_shortened_in_the_diagnosis() {
        let huge = "f".repeat(100_000);

        let failure = rejected(system_card(&card_ext_signed(&huge)));

        let diagnosis = failure.signature.expect("diagnosed");
        assert_eq!(diagnosis.given.chars().count(), 129);
        assert!(failure.summary.len() < 400, "{}", failure.summary);
    }

    #[test]
    fn every_mistake_but_another_users_openid_is_invalid_card_ext() {
        let failures = [
            rejected(check_text("", CodeMode::System, false)),
            rejected(system_card(&json!({"timestamp": TIMESTAMP}))),
            rejected(system_card(&card_ext_signed(&"0".repeat(40)))),
        ];

        for failure in failures {
            assert_eq!(failure.errcode, ErrCode::INVALID_CARD_EXT, "{failure:?}");
            assert_eq!(failure.errcode, failure.mistake.errcode());
        }
        assert_eq!(
            Mistake::OpenidOfAnotherUser.errcode(),
            ErrCode::INVALID_OPENID
        );
        assert_eq!(
            Mistake::SignedForAnotherCard(String::new()).name(),
            "signed_for_another_card"
        );
    }

    // Garbage.

    #[test]
    fn garbage_of_any_shape_is_a_failure_with_a_sentence_and_never_a_panic() {
        let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_object = "{\"a\":".repeat(100_000);
        let huge_string = json!("x".repeat(1 << 20)).to_string();
        let huge_fields = json!({
            "timestamp": "9".repeat(10_000),
            "signature": "码".repeat(100_000),
            "code": "c".repeat(100_000),
        })
        .to_string();
        let junk_types = json!({
            "timestamp": {"seconds": TIMESTAMP},
            "nonce_str": [NONCE],
            "signature": {"sha1": true},
            "code": null,
            "openid": 5,
            "outer_id": "x",
            "balance": [],
        })
        .to_string();
        let inputs = [
            "null".to_owned(),
            "true".to_owned(),
            "0".to_owned(),
            "\"\"".to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            "{\"timestamp\":1e400,\"signature\":\"x\"}".to_owned(),
            "{\"timestamp\":170000000".to_owned(),
            "\u{0}".to_owned(),
            "\u{feff}{}".to_owned(),
            "😀".repeat(1_000),
            "{\"signature\":\"\u{202e}\",\"timestamp\":0}".to_owned(),
            deep_array,
            deep_object,
            huge_string,
            huge_fields,
            junk_types,
        ];

        for input in &inputs {
            for (code_mode, bind_openid) in [
                (CodeMode::System, false),
                (CodeMode::Custom, true),
                (CodeMode::Deposit, false),
            ] {
                let failure = rejected(check_text(input, code_mode, bind_openid));

                assert!(failure.summary.ends_with('.'), "{}", failure.summary);
                assert!(failure.summary.len() < 600, "{}", failure.summary);
            }
        }
    }

    #[test]
    fn every_mutation_of_a_card_ext_is_answered_without_panicking() {
        let seeds = [
            json!({"timestamp": TIMESTAMP, "nonce_str": NONCE, "outer_str": "poster01", "signature": "4202dcb271e6eced28f8e2e72b1c5d4f871e2eba"}).to_string(),
            json!({"code": "C1", "openid": USER_OPENID, "timestamp": 1_700_000_000, "nonce_str": NONCE, "fixed_begintimestamp": 1_700_000_000, "signature": "x"}).to_string(),
        ];
        wxcard_wire::fuzz::Campaign {
            name: "cardExt check",
            seed: 0x5eed_0102,
            rounds: 3000,
        }
        .run(
            |rng, round| wxcard_wire::fuzz::mutate(rng, &seeds[round % seeds.len()]),
            |input| {
                for (code_mode, bind_openid) in [
                    (CodeMode::System, false),
                    (CodeMode::Custom, true),
                    (CodeMode::Deposit, false),
                ] {
                    let _ = check_card_ext(&given_a_check(input, code_mode, bind_openid));
                }
            },
        );
    }
}
