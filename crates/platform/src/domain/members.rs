//! Member cards (spec/membercard.md §2) and the card-opening component
//! (spec/card-opening-component.md): the activation form, the component's link, sessions of
//! the simulated component, activate_tickets, activation, member details and updates, and the
//! Mini Program entries of a card (spec/miniprogram-jump.md).
//!
//! A member's state lives beside its code row as one JSON document ([`Member`]); a code of a
//! member card without one is a member that was never activated (or, for `auto_activate`
//! cards, one activated on receipt with its code as membership number).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::code_crypto::CodeCipher;
use crate::domain::codes::{claim_in, find_code, owned_card, usable, Claim};
use crate::domain::events::DomainEvent;
use crate::domain::ids::IdGen;
use crate::domain::model::{Card, CardStatus, User, UserCard, UserCardStatus};
use crate::domain::DomainError;
use crate::store::{self, Document, Store, StoreError, Tx};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// The card-opening component's appId (card-opening-component.md §1).
pub const COMPONENT_APPID: &str = "wxeb490c6f9b154ef9";

/// How long an activate_ticket works.
///
/// Compat: card-opening-component.md §11 — the real lifetime is undocumented; users report
/// tickets expiring. wxcard picks 30 minutes (docs/compat.md).
pub const ACTIVATE_TICKET_TTL: i64 = 1800;

/// The scene a Mini Program sees when another Mini Program returns to it.
const SCENE_BACK_FROM_MINI_PROGRAM: u32 = 1038;
/// The scene of a page opened from a card's detail page (miniprogram-jump.md §2).
const SCENE_FROM_CARD_DETAIL: u32 = 1029;

/// Versions below which the component cannot be used (card-opening-component.md §9).
const COMPONENT_MIN_BASE_LIBRARY: [u32; 3] = [1, 3, 0];
const COMPONENT_MIN_IOS: [u32; 3] = [6, 5, 9];
const COMPONENT_MIN_ANDROID: [u32; 3] = [6, 5, 10];

/// Byte limits of membercard.md §2.
const MAX_MEMBERSHIP_NUMBER: usize = 20;
const MAX_CUSTOM_FIELD_VALUE: usize = 12;
const MAX_BONUS_RECORD: usize = 32;
const MAX_CHANGE_RECORD: usize = 42;
const MAX_PIC_URL: usize = 128;
const MAX_FORM_LABEL: usize = 32;
const MAX_FORM_URL: usize = 128;

/// `USER_FORM_INFO_FLAG_*` values, each with the profile key that pre-fills it.
///
/// Compat: membercard.md §2.2 — both spellings of education (`…_BACKGRO`, `…_BACKGROUND`) and
/// of the address (`…_LOCATION`, `…_DETAIL_LOCATION`) are accepted, and `…_CAREER` too.
const COMMON_FIELDS: &[(&str, Option<&str>)] = &[
    ("USER_FORM_INFO_FLAG_MOBILE", Some("mobile")),
    ("USER_FORM_INFO_FLAG_SEX", Some("sex")),
    ("USER_FORM_INFO_FLAG_NAME", Some("name")),
    ("USER_FORM_INFO_FLAG_BIRTHDAY", Some("birthday")),
    ("USER_FORM_INFO_FLAG_IDCARD", Some("idcard")),
    ("USER_FORM_INFO_FLAG_EMAIL", Some("email")),
    ("USER_FORM_INFO_FLAG_LOCATION", Some("location")),
    ("USER_FORM_INFO_FLAG_DETAIL_LOCATION", Some("location")),
    (
        "USER_FORM_INFO_FLAG_EDUCATION_BACKGRO",
        Some("education_background"),
    ),
    (
        "USER_FORM_INFO_FLAG_EDUCATION_BACKGROUND",
        Some("education_background"),
    ),
    ("USER_FORM_INFO_FLAG_INDUSTRY", Some("industry")),
    ("USER_FORM_INFO_FLAG_INCOME", Some("income")),
    ("USER_FORM_INFO_FLAG_HABIT", Some("habit")),
    ("USER_FORM_INFO_FLAG_CAREER", None),
];

const RICH_FIELD_TYPES: &[&str] = &[
    "FORM_FIELD_RADIO",
    "FORM_FIELD_SELECT",
    "FORM_FIELD_CHECK_BOX",
];

/// The key under which an answer to a common field is remembered (both spellings share one).
fn common_key(name: &str) -> Option<String> {
    COMMON_FIELDS
        .iter()
        .find(|(field, _)| *field == name)
        .map(|(field, profile)| match profile {
            Some(profile) => format!("common:{profile}"),
            None => format!("common:{field}"),
        })
}

/// A `{name, url}` link on the activation form (terms, binding an old card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormLink {
    /// The link text.
    pub name: String,
    /// Where it leads.
    pub url: String,
}

/// A choice field of the activation form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceField {
    /// `FORM_FIELD_RADIO`, `FORM_FIELD_SELECT` or `FORM_FIELD_CHECK_BOX`.
    pub field_type: String,
    /// The label.
    pub name: String,
    /// The choices.
    pub values: Vec<String>,
}

/// The required or the optional half of an activation form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormHalf {
    /// Whether the user may edit these fields after activation.
    pub can_modify: Option<bool>,
    /// WeChat-formatted fields (`USER_FORM_INFO_FLAG_…`).
    pub common_field_id_list: Vec<String>,
    /// Free-text fields, by label.
    pub custom_field_list: Vec<String>,
    /// Choice fields.
    pub rich_field_list: Vec<ChoiceField>,
}

/// A card's activation form (`/card/membercard/activateuserform/set`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationForm {
    /// The member card.
    pub card_id: String,
    /// Link to the membership terms.
    pub service_statement: Option<FormLink>,
    /// Link for existing members.
    pub bind_old_card: Option<FormLink>,
    /// Fields the user must fill.
    pub required_form: Option<FormHalf>,
    /// Fields the user may fill.
    pub optional_form: Option<FormHalf>,
}

/// One answer to a WeChat-formatted field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonAnswer {
    /// `USER_FORM_INFO_FLAG_…`.
    pub name: String,
    /// The value.
    pub value: String,
}

/// One answer to a free-text or choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAnswer {
    /// The label.
    pub name: String,
    /// Text, or the one choice of a radio or select.
    pub value: String,
    /// The ticked choices of a check box.
    pub value_list: Vec<String>,
}

/// Form data as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormData {
    /// WeChat-formatted fields.
    pub common_field_list: Vec<CommonAnswer>,
    /// Free-text and choice fields.
    pub custom_field_list: Vec<CustomAnswer>,
}

/// What `/card/membercard/activate` sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activation {
    /// The member number.
    pub membership_number: String,
    /// The real code.
    pub code: String,
    /// The card (needed for custom codes).
    pub card_id: Option<String>,
    /// This member's card face.
    pub background_pic_url: Option<String>,
    /// Membership window.
    pub activate_begin_time: Option<i64>,
    /// Membership window.
    pub activate_end_time: Option<i64>,
    /// Initial points.
    pub init_bonus: Option<i64>,
    /// Why the initial points.
    pub init_bonus_record: Option<String>,
    /// Initial balance, in fen.
    pub init_balance: Option<i64>,
    /// Initial slot 1.
    pub init_custom_field_value1: Option<String>,
    /// Initial slot 2.
    pub init_custom_field_value2: Option<String>,
    /// Initial slot 3.
    pub init_custom_field_value3: Option<String>,
}

/// What `/card/membercard/updateuser` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberUpdate {
    /// The real code.
    pub code: String,
    /// The card.
    pub card_id: String,
    /// New card face.
    pub background_pic_url: Option<String>,
    /// New total points.
    pub bonus: Option<i64>,
    /// Points delta.
    pub add_bonus: Option<i64>,
    /// Why the points changed.
    pub record_bonus: Option<String>,
    /// New total balance.
    pub balance: Option<i64>,
    /// Balance delta.
    pub add_balance: Option<i64>,
    /// Why the balance changed.
    pub record_balance: Option<String>,
    /// New slot 1.
    pub custom_field_value1: Option<String>,
    /// New slot 2.
    pub custom_field_value2: Option<String>,
    /// New slot 3.
    pub custom_field_value3: Option<String>,
}

/// One field as the component shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenField {
    /// `common`, `custom` or `rich`.
    pub kind: String,
    /// Flag or label.
    pub name: String,
    /// The pre-filled value.
    pub value: String,
    /// The pre-ticked choices.
    pub value_list: Vec<String>,
    /// The choice type (rich fields).
    pub field_type: Option<String>,
    /// The choices (rich fields).
    pub values: Vec<String>,
    /// `earlier_submission`, `profile` or `none`.
    pub prefilled_from: String,
}

/// One half of the form as the component shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenForm {
    /// Editable after activation.
    pub can_modify: bool,
    /// The fields.
    pub fields: Vec<ScreenField>,
}

/// New or existing member (DESIGN.md §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberStatus {
    /// The user holds a usable code of the card.
    pub holds_card: bool,
    /// That code.
    pub code: Option<String>,
    /// It is activated.
    pub active: bool,
    /// The merchant has seen the user's unionid.
    pub unionid_known_to_merchant: bool,
    /// `new` or `existing`.
    pub kind: String,
}

/// What the card-opening component shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentScreen {
    /// The session.
    pub session: String,
    /// `open`, `submitted` or `cancelled`.
    pub status: String,
    /// `jump` or `non_jump`.
    pub variant: String,
    /// The card face: `card_id`, `title`, `brand_name`, `logo_url`, `color`.
    pub card: Value,
    /// Terms link.
    pub service_statement: Option<FormLink>,
    /// Existing-member link.
    pub bind_old_card: Option<FormLink>,
    /// Required fields.
    pub required_form: ScreenForm,
    /// Optional fields.
    pub optional_form: ScreenForm,
    /// New or existing member.
    pub member: MemberStatus,
}

/// How the component returns to the Mini Program (`App.onShow`).
#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    /// 1038.
    pub scene: u32,
    /// The component's appId.
    pub referrer: &'static str,
    /// A jump-type submission's data.
    pub extra_data: Option<Value>,
    /// Where the simulation differs from what a merchant may expect.
    pub diagnosis: Option<Value>,
}

/// Where a tap on a card entry leads.
#[derive(Debug, Clone, PartialEq)]
pub struct TapTarget {
    /// `mini_program` or `h5`.
    pub kind: String,
    /// The Mini Program (`gh_…@app`).
    pub user_name: Option<String>,
    /// Its appid, when known here.
    pub appid: Option<String>,
    /// The page path.
    pub path: Option<String>,
    /// The page's query.
    pub query: Option<Map<String, Value>>,
    /// The scene the page sees.
    pub scene: Option<u32>,
    /// The page with its query percent-encoded.
    pub url: String,
}

/// A member's state, stored beside its code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Activated (by `/card/membercard/activate`, a non-jump submission or `auto_activate`).
    pub has_active: bool,
    /// The number shown on the card.
    pub membership_number: String,
    /// Points.
    pub bonus: i64,
    /// Balance, in fen.
    pub balance: i64,
    /// This member's card face.
    pub background_pic_url: Option<String>,
    /// Values of header slots 1 to 3.
    pub custom_field_values: [String; 3],
    /// Membership window set by activation.
    pub activate_begin_time: Option<i64>,
    /// Membership window set by activation.
    pub activate_end_time: Option<i64>,
    /// What the user submitted in a non-jump activation.
    pub user_info: FormData,
    /// When it was activated.
    pub activated_at: Option<i64>,
    /// The last activate_ticket issued for this code.
    pub activate_ticket: Option<String>,
}

/// An activate_ticket: a jump-type submission waiting for the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ActivateTicket {
    appid: String,
    card_id: String,
    user_card_id: i64,
    info: FormData,
    issued_at: i64,
    expires_at: i64,
}

/// A card-opening component session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    session_id: String,
    user_id: String,
    /// The Mini Program that opened the component.
    mini_program: String,
    card_id: String,
    card_appid: String,
    outer_str: Option<String>,
    /// `open`, `submitted` or `cancelled`.
    status: String,
    opened_at: i64,
}

/// How a member card is activated (membercard.md §1.6, in its order of precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActivationMode {
    Auto,
    Api,
    OneTap { jump: bool },
    None,
}

/// The member-card part of a card's document.
struct MemberSettings {
    document: Value,
}

/// 72003 unless the card is a MEMBER_CARD.
fn require_member_card(card: &Card) -> Result<(), DomainError> {
    if card.card_type != "MEMBER_CARD" {
        return Err(DomainError::NotMemberCard(format!(
            "card {} is a {}, and this needs a MEMBER_CARD",
            card.card_id, card.card_type
        )));
    }
    Ok(())
}

/// Whether a member card activates on receipt. The document is compact JSON written by
/// serde_json, so a card whose text lacks `"auto_activate":true` cannot have the flag set;
/// only the others are parsed (activation runs on the writer thread, where a parse of the
/// whole document per call shows).
fn auto_activates(card: &Card) -> Result<bool, DomainError> {
    if !card.document.contains(r#""auto_activate":true"#) {
        require_member_card(card)?;
        return Ok(false);
    }
    Ok(MemberSettings::of(card)?.mode() == ActivationMode::Auto)
}

impl MemberSettings {
    fn of(card: &Card) -> Result<MemberSettings, DomainError> {
        require_member_card(card)?;
        Ok(MemberSettings {
            document: card.document_value()?,
        })
    }

    fn flag(&self, name: &str) -> bool {
        self.document
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn text(&self, pointer: &str) -> Option<&str> {
        self.document
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    }

    fn mode(&self) -> ActivationMode {
        if self.flag("auto_activate") {
            ActivationMode::Auto
        } else if self.text("/activate_url").is_some() {
            ActivationMode::Api
        } else if self.flag("wx_activate") {
            ActivationMode::OneTap {
                jump: self.flag("wx_activate_after_submit"),
            }
        } else {
            ActivationMode::None
        }
    }

    fn init_bonus(&self) -> i64 {
        self.document
            .pointer("/bonus_rule/init_increase_bonus")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }
}

/// The stored member of a code, or the one a code without a stored state stands for.
pub(crate) fn member_of(
    tx: &mut dyn Tx,
    card: &Card,
    user_card: &UserCard,
) -> Result<Member, DomainError> {
    if let Some(text) = tx.document(Document::Member, &user_card.id.to_string())? {
        return parse_document(&text, "member");
    }
    let auto = auto_activates(card)?;
    // Compat: membercard.md §1.5 — init_increase_bonus is granted on activation, which for an
    // auto_activate card is receipt.
    let bonus = if auto {
        MemberSettings::of(card)?.init_bonus()
    } else {
        0
    };
    Ok(Member {
        has_active: auto,
        bonus,
        // Compat: membercard.md §2.8 — an auto-activated member's number is its code.
        membership_number: if auto {
            user_card.code.clone()
        } else {
            String::new()
        },
        activated_at: auto.then_some(user_card.claimed_at),
        ..Member::default()
    })
}

fn put_member(tx: &mut dyn Tx, user_card_id: i64, member: &Member) -> Result<(), DomainError> {
    tx.put_document(
        Document::Member,
        &user_card_id.to_string(),
        &to_json(member)?,
    )?;
    Ok(())
}

fn parse_document<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, DomainError> {
    serde_json::from_str(text)
        .map_err(|error| DomainError::Store(StoreError::Corrupt(format!("{what}: {error}"))))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, DomainError> {
    serde_json::to_string(value)
        .map_err(|error| DomainError::Store(StoreError::Corrupt(error.to_string())))
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.len() > max {
        return Err(DomainError::TooLong {
            field,
            max,
            got: value.len(),
        });
    }
    Ok(())
}

fn check_required(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(DomainError::MissingField(field));
    }
    check_len(field, value, max)
}

fn check_pic_url(field: &'static str, value: Option<&String>) -> Result<(), DomainError> {
    let Some(value) = value else { return Ok(()) };
    check_len(field, value, MAX_PIC_URL)?;
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err(DomainError::Invalid {
            field,
            reason: format!("an http(s) image URL (from the image upload API), got {value:?}"),
        });
    }
    Ok(())
}

/// The account id that `biz` encodes: a stable number derived from the appid.
fn account_number(appid: &str) -> u32 {
    let digest = Sha1::new()
        .chain_update(b"wxcard biz ")
        .chain_update(appid.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// `biz`: the base64 of the account's number in decimal, as mp.weixin.qq.com's `__biz`.
#[must_use]
pub fn biz_of(appid: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(account_number(appid).to_string())
}

fn card_id_cipher(code_key: &[u8], appid: &str) -> CodeCipher {
    CodeCipher::new(code_key, &format!("{appid} encrypt_card_id"))
}

/// Member cards, the activation form and the card-opening component.
#[derive(Debug, Clone)]
pub struct MemberService {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    ids: IdGen,
    code_key: Arc<[u8]>,
}

/// The query values of a geturl link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivateLink {
    /// The encrypted card_id.
    pub encrypt_card_id: String,
    /// The channel tag.
    pub outer_str: String,
    /// The account.
    pub biz: String,
}

/// A member as `/card/membercard/userinfo/get` shows it.
#[derive(Debug, Clone)]
pub struct MemberView {
    /// The code.
    pub user_card: UserCard,
    /// Its state now.
    pub status: UserCardStatus,
    /// The member.
    pub member: Member,
    /// The holder.
    pub user: User,
}

impl MemberService {
    /// A service over `store`; `code_key` keys encrypt_card_id and encrypt_code.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>, ids: IdGen, code_key: Arc<[u8]>) -> Self {
        Self {
            store,
            clock,
            ids,
            code_key,
        }
    }

    /// `/card/membercard/activateuserform/set`: checks and stores a card's activation form.
    ///
    /// # Errors
    /// Unknown or foreign card, not a member card, a malformed form, storage.
    pub async fn set_form(&self, appid: &str, form: ActivationForm) -> Result<(), DomainError> {
        check_form(&form)?;
        let appid = appid.to_owned();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &form.card_id)?;
            require_member_card(&card)?;
            tx.put_document(Document::ActivateForm, &card.card_id, &to_json(&form)?)?;
            Ok(())
        })
        .await
    }

    /// `/card/membercard/activate/geturl`: the values of the card-opening link.
    ///
    /// # Errors
    /// Unknown or foreign card, not a member card, a custom-code card without deposit.
    pub async fn activate_link(
        &self,
        appid: &str,
        card_id: &str,
        outer_str: Option<String>,
    ) -> Result<ActivateLink, DomainError> {
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        let card = store::read(&*self.store, move |tx: &mut dyn Tx| {
            owned_card(tx, &appid, &card_id)
        })
        .await?;
        require_member_card(&card)?;
        if card.code_mode == "custom" {
            // Compat: membercard.md §2.3 — only system-code and deposited-code cards.
            return Err(DomainError::NeedsSystemCodes(format!(
                "card {} uses custom codes that nobody deposited: the card-opening link works for system codes and for deposited codes (/card/code/deposit)",
                card.card_id
            )));
        }
        Ok(ActivateLink {
            encrypt_card_id: card_id_cipher(&self.code_key, &card.appid).encrypt(&card.card_id),
            outer_str: outer_str.unwrap_or_default(),
            biz: biz_of(&card.appid),
        })
    }

    /// `/card/membercard/activatetempinfo/get`: what a user submitted in a jump-type form.
    ///
    /// # Errors
    /// An unknown, foreign, used or expired ticket.
    pub async fn temp_info(&self, appid: &str, ticket: &str) -> Result<FormData, DomainError> {
        let (appid, ticket) = (appid.to_owned(), ticket.to_owned());
        let now = self.clock.now();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let (ticket, member) = live_ticket(tx, &appid, &ticket, now)?;
            if member.has_active {
                return Err(DomainError::BadActivateTicket(format!(
                    "this activate_ticket was used: code {} of card {} was activated at {}; read the member with /card/membercard/userinfo/get",
                    ticket.user_card_id_code(tx)?, ticket.card_id, member.activated_at.unwrap_or_default()
                )));
            }
            Ok(ticket.info)
        })
        .await
    }

    /// `/card/membercard/activate`: activates a member.
    ///
    /// # Errors
    /// Field limits, unknown code, not a member card, a code that is not usable, an active
    /// member, storage.
    pub async fn activate(&self, appid: &str, request: Activation) -> Result<(), DomainError> {
        check_required(
            "membership_number",
            &request.membership_number,
            MAX_MEMBERSHIP_NUMBER,
        )?;
        check_required("code", &request.code, MAX_MEMBERSHIP_NUMBER)?;
        check_pic_url("background_pic_url", request.background_pic_url.as_ref())?;
        if let Some(record) = &request.init_bonus_record {
            check_len("init_bonus_record", record, MAX_BONUS_RECORD)?;
        }
        let values = [
            (
                "init_custom_field_value1",
                &request.init_custom_field_value1,
            ),
            (
                "init_custom_field_value2",
                &request.init_custom_field_value2,
            ),
            (
                "init_custom_field_value3",
                &request.init_custom_field_value3,
            ),
        ];
        for (field, value) in values {
            if let Some(value) = value {
                check_len(field, value, MAX_CUSTOM_FIELD_VALUE)?;
            }
        }
        for (field, value) in [
            ("activate_begin_time", request.activate_begin_time),
            ("activate_end_time", request.activate_end_time),
        ] {
            if value.is_some_and(|value| value < 0 || value > i64::from(u32::MAX)) {
                return Err(DomainError::Invalid {
                    field,
                    reason: "Unix seconds as an unsigned 32-bit integer".into(),
                });
            }
        }
        if let (Some(begin), Some(end)) = (request.activate_begin_time, request.activate_end_time) {
            if begin > end {
                return Err(DomainError::OutsideValidity(format!(
                    "activate_begin_time {begin} is after activate_end_time {end}"
                )));
            }
        }
        if request.init_bonus.is_some_and(|bonus| bonus < 0) {
            return Err(DomainError::BonusOutOfLimit(
                "init_bonus cannot be negative".into(),
            ));
        }
        if request.init_balance.is_some_and(|balance| balance < 0) {
            return Err(DomainError::BalanceOutOfLimit(
                "init_balance (fen) cannot be negative".into(),
            ));
        }
        let appid = appid.to_owned();
        let now = self.clock.now();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let card_id = request.card_id.as_deref().filter(|id| !id.is_empty());
            let user_card = find_code(tx, &appid, &request.code, card_id)?;
            let card = owned_card(tx, &appid, &user_card.card_id)?;
            require_member_card(&card)?;
            usable(user_card.status_at(now))?;
            let mut member = member_of(tx, &card, &user_card)?;
            if member.has_active {
                return Err(DomainError::AlreadyMember(format!(
                    "code {} of card {} is activated already (membership_number {:?}); change a member with /card/membercard/updateuser",
                    user_card.code, card.card_id, member.membership_number
                )));
            }
            member.has_active = true;
            member.membership_number = request.membership_number.clone();
            member.bonus = request.init_bonus.unwrap_or(0);
            member.balance = request.init_balance.unwrap_or(0);
            member.background_pic_url = request.background_pic_url.clone();
            member.activate_begin_time = request.activate_begin_time;
            member.activate_end_time = request.activate_end_time;
            member.custom_field_values = [
                request.init_custom_field_value1.clone().unwrap_or_default(),
                request.init_custom_field_value2.clone().unwrap_or_default(),
                request.init_custom_field_value3.clone().unwrap_or_default(),
            ];
            member.activated_at = Some(now);
            put_member(tx, user_card.id, &member)
        })
        .await
    }

    /// `/card/membercard/userinfo/get`: a member.
    ///
    /// # Errors
    /// Unknown code or card, not a member card, storage.
    pub async fn info(
        &self,
        appid: &str,
        card_id: &str,
        code: &str,
    ) -> Result<MemberView, DomainError> {
        check_required("card_id", card_id, 32)?;
        check_required("code", code, MAX_MEMBERSHIP_NUMBER)?;
        let (appid, card_id, code) = (appid.to_owned(), card_id.to_owned(), code.to_owned());
        let now = self.clock.now();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let user_card = find_code(tx, &appid, &code, Some(&card_id))?;
            let card = owned_card(tx, &appid, &user_card.card_id)?;
            let member = member_of(tx, &card, &user_card)?;
            let user = tx
                .user(&user_card.user_id)?
                .ok_or_else(|| DomainError::UnknownUser(user_card.user_id.clone()))?;
            Ok(MemberView {
                status: user_card.status_at(now),
                user_card,
                member,
                user,
            })
        })
        .await
    }

    /// `/card/membercard/updateuser`: changes a member's points, balance and fields, and
    /// records `update_member_card` when points or balance changed.
    ///
    /// # Errors
    /// Field limits, unknown code, not a member card, an inactive member, totals out of range.
    pub async fn update(
        &self,
        appid: &str,
        request: MemberUpdate,
    ) -> Result<(Member, UserCard), DomainError> {
        check_required("code", &request.code, MAX_MEMBERSHIP_NUMBER)?;
        check_required("card_id", &request.card_id, 32)?;
        check_pic_url("background_pic_url", request.background_pic_url.as_ref())?;
        for (field, value) in [
            ("record_bonus", &request.record_bonus),
            ("record_balance", &request.record_balance),
        ] {
            if let Some(value) = value {
                check_len(field, value, MAX_CHANGE_RECORD)?;
            }
        }
        for (field, value) in [
            ("custom_field_value1", &request.custom_field_value1),
            ("custom_field_value2", &request.custom_field_value2),
            ("custom_field_value3", &request.custom_field_value3),
        ] {
            if let Some(value) = value {
                check_len(field, value, MAX_CUSTOM_FIELD_VALUE)?;
            }
        }
        let appid = appid.to_owned();
        let now = self.clock.now();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let user_card = find_code(tx, &appid, &request.code, Some(&request.card_id))?;
            let card = owned_card(tx, &appid, &user_card.card_id)?;
            let mut member = member_of(tx, &card, &user_card)?;
            if !member.has_active {
                return Err(DomainError::NotActivated(format!(
                    "code {} of card {} is not activated yet: activate it with /card/membercard/activate first",
                    user_card.code, card.card_id
                )));
            }
            // Compat: membercard.md §2.6 — an absolute total wins over a delta.
            let bonus = new_total(member.bonus, request.bonus, request.add_bonus)
                .ok_or_else(|| DomainError::BonusOutOfLimit(format!("bonus would leave 0..={}: now {}, bonus {:?}, add_bonus {:?}", i64::from(i32::MAX), member.bonus, request.bonus, request.add_bonus)))?;
            let balance = new_total(member.balance, request.balance, request.add_balance)
                .ok_or_else(|| DomainError::BalanceOutOfLimit(format!("balance (fen) would leave 0..={}: now {}, balance {:?}, add_balance {:?}", i64::from(i32::MAX), member.balance, request.balance, request.add_balance)))?;
            let modify_bonus = bonus - member.bonus;
            let modify_balance = balance - member.balance;
            member.bonus = bonus;
            member.balance = balance;
            if let Some(url) = request.background_pic_url.clone() {
                member.background_pic_url = Some(url);
            }
            for (slot, value) in [
                request.custom_field_value1.clone(),
                request.custom_field_value2.clone(),
                request.custom_field_value3.clone(),
            ]
            .into_iter()
            .enumerate()
            {
                if let Some(value) = value {
                    member.custom_field_values[slot] = value;
                }
            }
            put_member(tx, user_card.id, &member)?;
            if modify_bonus != 0 || modify_balance != 0 {
                DomainEvent::UpdateMemberCard {
                    card_id: card.card_id.clone(),
                    code: user_card.code.clone(),
                    openid: user_card.openid.clone(),
                    modify_bonus,
                    modify_balance,
                }
                .record(tx, &appid, now)?;
            }
            Ok((member, user_card))
        })
        .await
    }

    /// `wx.navigateToMiniProgram` to the card-opening component: checks the client, the
    /// extraData and the card, and opens a session.
    ///
    /// # Errors
    /// What the client or the component would refuse, each with what to do.
    pub async fn open_component(
        &self,
        user_id: &str,
        mini_program: &str,
        app_id: &str,
        extra_data: Value,
    ) -> Result<String, DomainError> {
        let (user_id, mini_program, app_id) = (
            user_id.to_owned(),
            mini_program.to_owned(),
            app_id.to_owned(),
        );
        let (ids, key, now) = (
            self.ids.clone(),
            Arc::clone(&self.code_key),
            self.clock.now(),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let user = tx
                .user(&user_id)?
                .ok_or_else(|| DomainError::UnknownUser(user_id.clone()))?;
            tx.app(&mini_program)?
                .ok_or_else(|| DomainError::UnknownApp(mini_program.clone()))?;
            check_component_client(&user)?;
            if app_id != COMPONENT_APPID {
                return Err(DomainError::ClientCannot(format!(
                    "appId {app_id:?} is not a Mini Program wxcard simulates: the card-opening component is {COMPONENT_APPID}"
                )));
            }
            let (card_appid, card_id, outer_str) = read_extra_data(tx, &key, &extra_data)?;
            let card = tx
                .card(&card_id)?
                .ok_or_else(|| DomainError::UnknownCard(card_id.clone()))?;
            let settings = MemberSettings::of(&card)?;
            match settings.mode() {
                ActivationMode::OneTap { .. } => {}
                ActivationMode::Auto => {
                    return Err(DomainError::NeedWxActivate(format!(
                        "card {card_id} has auto_activate: true, which wins over wx_activate; the component needs a one-tap card (wx_activate: true, no auto_activate)"
                    )))
                }
                ActivationMode::Api => {
                    return Err(DomainError::NeedWxActivate(format!(
                        "card {card_id} has an activate_url, which wins over wx_activate; clear activate_url with /card/update to use the component"
                    )))
                }
                ActivationMode::None => {
                    return Err(DomainError::NeedWxActivate(format!(
                        "card {card_id} does not use one-tap activation: set wx_activate: true (with /card/update) to open it in the component"
                    )))
                }
            }
            if card.status == CardStatus::Delete {
                return Err(DomainError::CardNotUsable {
                    card_id: card.card_id,
                    status: card.status,
                    why: "deleted cards cannot be opened",
                });
            }
            if tx.document(Document::ActivateForm, &card_id)?.is_none() {
                return Err(DomainError::BadExtraData(format!(
                    "card {card_id} has no activation form: call /card/membercard/activateuserform/set first (WeChat's one-tap button does nothing until then)"
                )));
            }
            let seq = IdGen::next(tx, "component_session")?;
            let session = Session {
                session_id: format!("cs_{}", ids.hex("component-session", &seq, 24)),
                user_id: user.user_id,
                mini_program: mini_program.clone(),
                card_id,
                card_appid,
                outer_str,
                status: "open".into(),
                opened_at: now,
            };
            tx.put_document(Document::ComponentSession, &session.session_id, &to_json(&session)?)?;
            Ok(session.session_id)
        })
        .await
    }

    /// What the component shows: the form pre-filled from earlier answers and the profile,
    /// and whether the user is a new or an existing member.
    ///
    /// # Errors
    /// Unknown session, storage.
    pub async fn component(&self, session_id: &str) -> Result<ComponentScreen, DomainError> {
        let session_id = session_id.to_owned();
        let now = self.clock.now();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let session = load_session(tx, &session_id)?;
            let card = tx
                .card(&session.card_id)?
                .ok_or_else(|| DomainError::UnknownCard(session.card_id.clone()))?;
            let jump = MemberSettings::of(&card)?.mode() == ActivationMode::OneTap { jump: true };
            let form = load_form(tx, &card.card_id)?;
            let user = tx
                .user(&session.user_id)?
                .ok_or_else(|| DomainError::UnknownUser(session.user_id.clone()))?;
            let answers = load_answers(tx, &user.user_id)?;
            let member = member_status(tx, &card, &user, now)?;
            Ok(ComponentScreen {
                session: session.session_id,
                status: session.status,
                variant: if jump { "jump" } else { "non_jump" }.into(),
                card: serde_json::json!({
                    "card_id": card.card_id,
                    "title": card.base_info_text("title"),
                    "brand_name": card.base_info_text("brand_name"),
                    "logo_url": card.base_info_text("logo_url"),
                    "color": card.base_info_text("color"),
                }),
                required_form: view_form(form.required_form.as_ref(), &user, &answers),
                optional_form: view_form(form.optional_form.as_ref(), &user, &answers),
                service_statement: form.service_statement,
                bind_old_card: form.bind_old_card,
                member,
            })
        })
        .await
    }

    /// The user submits the component's form: the card enters the card package; a jump-type
    /// card returns an activate_ticket and the real code to the Mini Program, a non-jump card
    /// is activated and `submit_membercard_user_info` is recorded.
    ///
    /// # Errors
    /// Unknown or closed session, a required field left empty, a value not on the form, what
    /// claiming refuses (stock, get_limit), storage.
    pub async fn submit(
        &self,
        session_id: &str,
        submitted: FormData,
    ) -> Result<Return, DomainError> {
        let session_id = session_id.to_owned();
        let (ids, key, now) = (
            self.ids.clone(),
            Arc::clone(&self.code_key),
            self.clock.now(),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut session = open_session(tx, &session_id)?;
            let card = tx
                .card(&session.card_id)?
                .ok_or_else(|| DomainError::UnknownCard(session.card_id.clone()))?;
            let settings = MemberSettings::of(&card)?;
            let jump = settings.mode() == ActivationMode::OneTap { jump: true };
            let form = load_form(tx, &card.card_id)?;
            let user = tx
                .user(&session.user_id)?
                .ok_or_else(|| DomainError::UnknownUser(session.user_id.clone()))?;
            let mut answers = load_answers(tx, &user.user_id)?;
            let info = fill_form(&form, &user, &answers, &submitted)?;
            remember_answers(&mut answers, &info);
            tx.put_document(Document::FormAnswers, &user.user_id, &to_json(&answers)?)?;
            session.status = "submitted".into();
            tx.put_document(Document::ComponentSession, &session.session_id, &to_json(&session)?)?;

            let user_cards = tx.user_cards_of_user(&user.user_id)?;
            let held = held_code(tx, &card, &user_cards, now)?;
            let user_card = match held {
                Some((user_card, member)) if member.has_active => {
                    // Compat: card-opening-component.md §4 — no extraData once activated.
                    return Ok(back_to_mini_program(None, Some(serde_json::json!({
                        "summary": format!("the user already holds code {} of card {} and it is activated: the component shows the card and returns without extraData; open it with wx.openCard instead", user_card.code, card.card_id),
                    }))));
                }
                Some((user_card, _)) => user_card,
                None => claim_in(
                    tx,
                    &ids,
                    Claim {
                        user_id: user.user_id.clone(),
                        card_id: card.card_id.clone(),
                        code: None,
                        outer_str: session.outer_str.clone(),
                        outer_id: None,
                        fixed_begintimestamp: None,
                        card_ext: None,
                    },
                    now,
                )?,
            };
            let mut member = member_of(tx, &card, &user_card)?;
            if !jump {
                member.has_active = true;
                // Compat: card-opening-component.md §7 — WeChat activates non-jump cards and
                // numbers the member; wxcard uses the code as the number.
                member.membership_number = user_card.code.clone();
                member.bonus = settings.init_bonus();
                member.user_info = info;
                member.activated_at = Some(now);
                put_member(tx, user_card.id, &member)?;
                DomainEvent::SubmitMembercardUserInfo {
                    card_id: card.card_id.clone(),
                    code: user_card.code.clone(),
                    openid: user_card.openid.clone(),
                }
                .record(tx, &card.appid, now)?;
                return Ok(back_to_mini_program(None, None));
            }
            let seq = IdGen::next(tx, "activate_ticket")?;
            let ticket = ids.base64("activate-ticket", &seq, 60);
            let stored = ActivateTicket {
                appid: card.appid.clone(),
                card_id: card.card_id.clone(),
                user_card_id: user_card.id,
                info,
                issued_at: now,
                expires_at: now + ACTIVATE_TICKET_TTL,
            };
            tx.put_document(Document::ActivateTicket, &ticket, &to_json(&stored)?)?;
            member.activate_ticket = Some(ticket.clone());
            put_member(tx, user_card.id, &member)?;
            let mut extra = serde_json::json!({
                "activate_ticket": ticket,
                "card_id": card.card_id,
                "code": user_card.code,
                "errCode": 0,
            });
            let mut diagnosis = None;
            match settings.text("/wx_activate_after_submit_url") {
                Some(url) => {
                    let encrypt_code = CodeCipher::new(&key, &card.appid).encrypt(&user_card.code);
                    let query = [
                        ("card_id", card.card_id.as_str()),
                        ("encrypt_code", encrypt_code.as_str()),
                        ("openid", user_card.openid.as_str()),
                        ("outer_str", session.outer_str.as_deref().unwrap_or("")),
                    ];
                    extra["wx_activate_after_submit_url"] = Value::String(append_query(url, &query));
                }
                None => {
                    diagnosis = Some(serde_json::json!({
                        "summary": format!("card {} has no wx_activate_after_submit_url: wxcard returns extraData anyway, but real clients are reported to return it only when the card sets that url (card-opening-component.md §4); set it with /card/update", card.card_id),
                    }));
                }
            }
            Ok(back_to_mini_program(Some(extra), diagnosis))
        })
        .await
    }

    /// The user backs out of the component: the Mini Program gets no extraData.
    ///
    /// # Errors
    /// Unknown or closed session, storage.
    pub async fn cancel(&self, session_id: &str) -> Result<Return, DomainError> {
        let session_id = session_id.to_owned();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut session = open_session(tx, &session_id)?;
            session.status = "cancelled".into();
            tx.put_document(
                Document::ComponentSession,
                &session.session_id,
                &to_json(&session)?,
            )?;
            Ok(back_to_mini_program(None, None))
        })
        .await
    }

    /// The user taps an entry of a card: where it leads, with the query WeChat appends.
    ///
    /// # Errors
    /// Unknown card or code, a code of another user, an entry the card does not set.
    pub async fn tap(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
        entry: &str,
    ) -> Result<TapTarget, DomainError> {
        let (user_id, card_id, code, entry) = (
            user_id.to_owned(),
            card_id.to_owned(),
            code.to_owned(),
            entry.to_owned(),
        );
        let key = Arc::clone(&self.code_key);
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let card = tx
                .card(&card_id)?
                .ok_or_else(|| DomainError::UnknownCard(card_id.clone()))?;
            let user_card = find_code(tx, &card.appid, &code, Some(&card.card_id))?;
            if user_card.user_id != user_id {
                return Err(DomainError::NotHolder(format!(
                    "user {user_id} does not hold code {code} of card {card_id}"
                )));
            }
            let document = card.document_value()?;
            let target = entry_target(&document, &entry)?;
            let encrypt_code = CodeCipher::new(&key, &card.appid).encrypt(&user_card.code);
            let mut params = vec![
                ("card_id", card.card_id.as_str()),
                ("encrypt_code", encrypt_code.as_str()),
            ];
            // Compat: card-opening-component.md §6 — the activation entry's web page gets the
            // holder's openid too.
            if entry == "activate" {
                params.push(("openid", user_card.openid.as_str()));
            }
            let Some(user_name) = target.user_name else {
                let url = target.url.ok_or_else(|| DomainError::Invalid {
                    field: "entry",
                    reason: format!(
                        "card {card_id} sets neither a Mini Program nor a URL for {entry:?}"
                    ),
                })?;
                return Ok(TapTarget {
                    kind: "h5".into(),
                    user_name: None,
                    appid: None,
                    path: None,
                    query: None,
                    scene: None,
                    url: append_query(&url, &params),
                });
            };
            if entry != "activate" {
                params.push(("openid", user_card.openid.as_str()));
            }
            let original_id = user_name.trim_end_matches("@app");
            let appid = tx.app_by_original_id(original_id)?.map(|app| app.appid);
            let pass = target.pass.unwrap_or_default();
            let pass = pass.strip_prefix('/').unwrap_or(&pass);
            let (path, own_query) = pass.split_once('?').unwrap_or((pass, ""));
            let mut query = Map::new();
            for pair in own_query.split('&').filter(|pair| !pair.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                query.insert(name.to_owned(), Value::String(value.to_owned()));
            }
            for (name, value) in &params {
                query.insert((*name).to_owned(), Value::String((*value).to_owned()));
            }
            Ok(TapTarget {
                kind: "mini_program".into(),
                url: append_query(pass, &params),
                user_name: Some(user_name),
                appid,
                path: Some(path.to_owned()),
                query: Some(query),
                scene: Some(SCENE_FROM_CARD_DETAIL),
            })
        })
        .await
    }
}

impl ActivateTicket {
    fn user_card_id_code(&self, tx: &mut dyn Tx) -> Result<String, DomainError> {
        Ok(tx
            .user_card(self.user_card_id)?
            .map(|user_card| user_card.code)
            .unwrap_or_default())
    }
}

/// A ticket of this account that has not expired, with its member.
fn live_ticket(
    tx: &mut dyn Tx,
    appid: &str,
    ticket: &str,
    now: i64,
) -> Result<(ActivateTicket, Member), DomainError> {
    if ticket.is_empty() {
        return Err(DomainError::MissingField("activate_ticket"));
    }
    if ticket.contains('%') {
        return Err(DomainError::BadActivateTicket(
            "activate_ticket is still percent-encoded: url-decode the value you read from the jump URL (extraData.activate_ticket is already decoded)".into(),
        ));
    }
    let stored: ActivateTicket = match tx.document(Document::ActivateTicket, ticket)? {
        Some(text) => parse_document(&text, "activate_ticket")?,
        None => {
            return Err(DomainError::BadActivateTicket(
                "no activate_ticket like this was issued: pass extraData.activate_ticket from the component's return (App.onShow referrerInfo) unchanged".into(),
            ))
        }
    };
    if stored.appid != appid {
        return Err(DomainError::BadActivateTicket(
            "this activate_ticket belongs to another Service Account: call with the access_token of the account that owns the card".into(),
        ));
    }
    if now > stored.expires_at {
        return Err(DomainError::ActivateTicketExpired(format!(
            "this activate_ticket expired {} s ago (tickets work for {ACTIVATE_TICKET_TTL} s after the user submits); ask the user to open the card-opening component again",
            now - stored.expires_at
        )));
    }
    let user_card = tx
        .user_card(stored.user_card_id)?
        .ok_or_else(|| DomainError::BadActivateTicket("the code of this ticket is gone".into()))?;
    let card = tx
        .card(&stored.card_id)?
        .ok_or_else(|| DomainError::UnknownCard(stored.card_id.clone()))?;
    let member = member_of(tx, &card, &user_card)?;
    Ok((stored, member))
}

fn load_session(tx: &mut dyn Tx, session_id: &str) -> Result<Session, DomainError> {
    match tx.document(Document::ComponentSession, session_id)? {
        Some(text) => parse_document(&text, "component session"),
        None => Err(DomainError::ComponentSession(format!(
            "no card-opening component session {session_id:?}: open one with POST /sim/v1/navigateToMiniProgram"
        ))),
    }
}

fn open_session(tx: &mut dyn Tx, session_id: &str) -> Result<Session, DomainError> {
    let session = load_session(tx, session_id)?;
    if session.status != "open" {
        return Err(DomainError::ComponentSession(format!(
            "component session {session_id} is {} already: open a new one with POST /sim/v1/navigateToMiniProgram",
            session.status
        )));
    }
    Ok(session)
}

fn load_form(tx: &mut dyn Tx, card_id: &str) -> Result<ActivationForm, DomainError> {
    match tx.document(Document::ActivateForm, card_id)? {
        Some(text) => parse_document(&text, "activation form"),
        None => Err(DomainError::BadExtraData(format!(
            "card {card_id} has no activation form: call /card/membercard/activateuserform/set"
        ))),
    }
}

type Answers = BTreeMap<String, Value>;

fn load_answers(tx: &mut dyn Tx, user_id: &str) -> Result<Answers, DomainError> {
    match tx.document(Document::FormAnswers, user_id)? {
        Some(text) => parse_document(&text, "form answers"),
        None => Ok(Answers::new()),
    }
}

fn remember_answers(answers: &mut Answers, info: &FormData) {
    for field in &info.common_field_list {
        if let Some(key) = common_key(&field.name) {
            if !field.value.is_empty() {
                answers.insert(key, Value::String(field.value.clone()));
            }
        }
    }
    for field in &info.custom_field_list {
        let key = format!("custom:{}", field.name);
        if !field.value_list.is_empty() {
            answers.insert(key, serde_json::json!(field.value_list));
        } else if !field.value.is_empty() {
            answers.insert(key, Value::String(field.value.clone()));
        }
    }
}

/// The pre-filled value of a field: an earlier answer, else the profile.
fn prefill(name: &str, common: bool, user: &User, answers: &Answers) -> (Value, &'static str) {
    let key = if common {
        common_key(name)
    } else {
        Some(format!("custom:{name}"))
    };
    if let Some(answer) = key.as_ref().and_then(|key| answers.get(key)) {
        return (answer.clone(), "earlier_submission");
    }
    if common {
        let profile_key = COMMON_FIELDS
            .iter()
            .find(|(field, _)| *field == name)
            .and_then(|(_, profile)| *profile);
        if let Some(value) = profile_key.and_then(|key| user.profile.get(key)) {
            return (Value::String(value.clone()), "profile");
        }
    }
    (Value::Null, "none")
}

fn view_form(form: Option<&FormHalf>, user: &User, answers: &Answers) -> ScreenForm {
    let Some(form) = form else {
        return ScreenForm::default();
    };
    let mut fields = Vec::new();
    for name in &form.common_field_id_list {
        let (value, from) = prefill(name, true, user, answers);
        fields.push(ScreenField {
            kind: "common".into(),
            name: name.clone(),
            value: value.as_str().unwrap_or_default().to_owned(),
            value_list: Vec::new(),
            field_type: None,
            values: Vec::new(),
            prefilled_from: from.into(),
        });
    }
    for name in &form.custom_field_list {
        let (value, from) = prefill(name, false, user, answers);
        fields.push(ScreenField {
            kind: "custom".into(),
            name: name.clone(),
            value: value.as_str().unwrap_or_default().to_owned(),
            value_list: Vec::new(),
            field_type: None,
            values: Vec::new(),
            prefilled_from: from.into(),
        });
    }
    for rich in &form.rich_field_list {
        let (value, from) = prefill(&rich.name, false, user, answers);
        let value_list = value
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        fields.push(ScreenField {
            kind: "rich".into(),
            name: rich.name.clone(),
            value: value.as_str().unwrap_or_default().to_owned(),
            value_list,
            field_type: Some(rich.field_type.clone()),
            values: rich.values.clone(),
            prefilled_from: from.into(),
        });
    }
    ScreenForm {
        can_modify: form.can_modify.unwrap_or(false),
        fields,
    }
}

/// The submitted form: given values over pre-filled ones, every required field filled,
/// every value one the form offers.
fn fill_form(
    form: &ActivationForm,
    user: &User,
    answers: &Answers,
    submitted: &FormData,
) -> Result<FormData, DomainError> {
    let halves = [
        (form.required_form.as_ref(), true),
        (form.optional_form.as_ref(), false),
    ];
    let on_form = |name: &str| {
        halves.iter().filter_map(|(half, _)| *half).any(|half| {
            half.common_field_id_list.iter().any(|field| field == name)
                || half.custom_field_list.iter().any(|field| field == name)
                || half.rich_field_list.iter().any(|field| field.name == name)
        })
    };
    for field in &submitted.common_field_list {
        if !on_form(&field.name) {
            return Err(DomainError::BadSubmission(format!(
                "common field {:?} is not on this card's form",
                field.name
            )));
        }
    }
    for field in &submitted.custom_field_list {
        if !on_form(&field.name) {
            return Err(DomainError::BadSubmission(format!(
                "custom field {:?} is not on this card's form",
                field.name
            )));
        }
    }
    let mut info = FormData::default();
    for (half, required) in halves {
        let Some(half) = half else { continue };
        for name in &half.common_field_id_list {
            let value = match submitted
                .common_field_list
                .iter()
                .find(|field| field.name == *name)
            {
                Some(field) => field.value.clone(),
                None => prefill(name, true, user, answers)
                    .0
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            };
            if required && value.is_empty() {
                return Err(DomainError::BadSubmission(format!(
                    "{name} is required on this form and is empty: pass it in common_field_list"
                )));
            }
            info.common_field_list.push(CommonAnswer {
                name: name.clone(),
                value,
            });
        }
        for name in &half.custom_field_list {
            let value = match submitted
                .custom_field_list
                .iter()
                .find(|field| field.name == *name)
            {
                Some(field) => field.value.clone(),
                None => prefill(name, false, user, answers)
                    .0
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            };
            if required && value.is_empty() {
                return Err(DomainError::BadSubmission(format!(
                    "custom field {name:?} is required on this form and is empty"
                )));
            }
            info.custom_field_list.push(CustomAnswer {
                name: name.clone(),
                value,
                value_list: Vec::new(),
            });
        }
        for rich in &half.rich_field_list {
            let (mut value, mut value_list) = (String::new(), Vec::new());
            match submitted
                .custom_field_list
                .iter()
                .find(|field| field.name == rich.name)
            {
                Some(field) => {
                    value.clone_from(&field.value);
                    value_list.clone_from(&field.value_list);
                }
                None => match prefill(&rich.name, false, user, answers).0 {
                    Value::String(text) => value = text,
                    Value::Array(list) => {
                        value_list = list
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect();
                    }
                    _ => {}
                },
            }
            let check_box = rich.field_type == "FORM_FIELD_CHECK_BOX";
            if check_box && !value.is_empty() && value_list.is_empty() {
                value_list.push(std::mem::take(&mut value));
            }
            if !check_box && value.is_empty() && value_list.len() == 1 {
                value = value_list.remove(0);
            }
            let chosen: Vec<&String> = if check_box {
                value_list.iter().collect()
            } else {
                value_list
                    .iter()
                    .chain(std::iter::once(&value))
                    .filter(|v| !v.is_empty())
                    .collect()
            };
            if !check_box && chosen.len() > 1 {
                return Err(DomainError::BadSubmission(format!(
                    "{:?} is a {} field: choose one value, not {}",
                    rich.name,
                    rich.field_type,
                    chosen.len()
                )));
            }
            if let Some(bad) = chosen.iter().find(|choice| !rich.values.contains(choice)) {
                return Err(DomainError::BadSubmission(format!(
                    "{bad:?} is not a choice of {:?} (choices: {})",
                    rich.name,
                    rich.values.join(", ")
                )));
            }
            if required && chosen.is_empty() {
                return Err(DomainError::BadSubmission(format!(
                    "choice field {:?} is required on this form and nothing is chosen",
                    rich.name
                )));
            }
            info.custom_field_list.push(CustomAnswer {
                name: rich.name.clone(),
                value,
                value_list,
            });
        }
    }
    Ok(info)
}

/// The user's usable code of this card, with its member.
/// The usable code of this card among a user's codes, with its member.
fn held_code(
    tx: &mut dyn Tx,
    card: &Card,
    user_cards: &[UserCard],
    now: i64,
) -> Result<Option<(UserCard, Member)>, DomainError> {
    let held = user_cards.iter().find(|user_card| {
        user_card.card_id == card.card_id && user_card.status_at(now) == UserCardStatus::Normal
    });
    match held {
        Some(user_card) => {
            let member = member_of(tx, card, user_card)?;
            Ok(Some((user_card.clone(), member)))
        }
        None => Ok(None),
    }
}

fn member_status(
    tx: &mut dyn Tx,
    card: &Card,
    user: &User,
    now: i64,
) -> Result<MemberStatus, DomainError> {
    let user_cards = tx.user_cards_of_user(&user.user_id)?;
    let held = held_code(tx, card, &user_cards, now)?;
    let owner = tx
        .app(&card.appid)?
        .ok_or_else(|| DomainError::UnknownApp(card.appid.clone()))?;
    let known = match &owner.open_platform_id {
        Some(open_platform) => {
            let pushed = user_cards
                .iter()
                .any(|user_card| user_card.appid == card.appid);
            let mut logged_in = false;
            for appid in tx.login_apps_of_user(&user.user_id)? {
                if tx
                    .app(&appid)?
                    .is_some_and(|app| app.open_platform_id.as_ref() == Some(open_platform))
                {
                    logged_in = true;
                }
            }
            pushed || logged_in
        }
        None => false,
    };
    let existing = held.is_some() || known;
    Ok(MemberStatus {
        holds_card: held.is_some(),
        active: held.as_ref().is_some_and(|(_, member)| member.has_active),
        code: held.map(|(user_card, _)| user_card.code),
        unionid_known_to_merchant: known,
        kind: if existing { "existing" } else { "new" }.into(),
    })
}

fn back_to_mini_program(extra_data: Option<Value>, diagnosis: Option<Value>) -> Return {
    Return {
        scene: SCENE_BACK_FROM_MINI_PROGRAM,
        referrer: COMPONENT_APPID,
        extra_data,
        diagnosis,
    }
}

/// The client and base library versions that can open the component.
fn check_component_client(user: &User) -> Result<(), DomainError> {
    if version_below(&user.base_library, COMPONENT_MIN_BASE_LIBRARY) {
        return Err(DomainError::ClientCannot(format!(
            "wx.navigateToMiniProgram is not a function: the user's base library {} is older than 1.3.0; check wx.canIUse('navigateToMiniProgram') and fall back to your own registration page",
            user.base_library
        )));
    }
    let (minimum, label) = match user.client_os.as_str() {
        "android" => (COMPONENT_MIN_ANDROID, "Android 6.5.10"),
        _ => (COMPONENT_MIN_IOS, "iOS 6.5.9"),
    };
    if version_below(&user.client_version, minimum) {
        return Err(DomainError::ClientCannot(format!(
            "the card-opening component needs WeChat {label} or later and the user runs {} {}: check wx.getSystemInfo().version and fall back to wx.addCard plus your own activation page",
            user.client_os, user.client_version
        )));
    }
    Ok(())
}

/// Whether a dotted version is below `minimum`.
#[must_use]
pub fn version_below(version: &str, minimum: [u32; 3]) -> bool {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let given = [
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    ];
    given < minimum
}

/// Reads `encrypt_card_id`, `outer_str` and `biz` as geturl produced them.
fn read_extra_data(
    tx: &mut dyn Tx,
    key: &[u8],
    extra_data: &Value,
) -> Result<(String, String, Option<String>), DomainError> {
    let Some(object) = extra_data.as_object() else {
        return Err(DomainError::BadExtraData(format!(
            "extraData must be an object {{encrypt_card_id, outer_str, biz}} read from the /card/membercard/activate/geturl link, got {}",
            if extra_data.is_null() { "nothing".to_owned() } else { extra_data.to_string() }
        )));
    };
    let text = |name: &str| -> Result<Option<String>, DomainError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(DomainError::BadExtraData(format!(
                "extraData.{name} must be a string, got {other}"
            ))),
        }
    };
    let encrypt_card_id = text("encrypt_card_id")?.filter(|text| !text.is_empty()).ok_or_else(|| {
        DomainError::BadExtraData("extraData.encrypt_card_id is missing: copy it from the query of the /card/membercard/activate/geturl link".into())
    })?;
    let biz = text("biz")?.filter(|text| !text.is_empty()).ok_or_else(|| {
        DomainError::BadExtraData("extraData.biz is missing: copy it from the query of the /card/membercard/activate/geturl link".into())
    })?;
    let outer_str = text("outer_str")?.filter(|text| !text.is_empty());
    for (name, value) in [("encrypt_card_id", &encrypt_card_id), ("biz", &biz)] {
        if value.contains('%') {
            return Err(DomainError::BadExtraData(format!(
                "extraData.{name} is still percent-encoded ({value:?}): url-decode each value of the geturl link before passing it"
            )));
        }
    }
    let appid = tx
        .apps()?
        .into_iter()
        .map(|app| app.appid)
        .find(|appid| biz_of(appid) == biz)
        .ok_or_else(|| {
            DomainError::BadExtraData(format!(
                "extraData.biz {biz:?} names no Service Account here: pass the biz value of the geturl link unchanged"
            ))
        })?;
    let card_id = card_id_cipher(key, &appid)
        .decrypt(&encrypt_card_id)
        .map_err(|_| {
            DomainError::BadExtraData(format!(
                "extraData.encrypt_card_id {encrypt_card_id:?} is not an encrypted card_id of this account: pass the value of the geturl link unchanged (and after url-decoding: '+' and '/' stay as they are)"
            ))
        })?;
    Ok((appid, card_id, outer_str))
}

/// Where an entry of a card leads.
struct EntryTarget {
    user_name: Option<String>,
    pass: Option<String>,
    url: Option<String>,
}

const ENTRIES: &[&str] = &[
    "center",
    "custom_url",
    "promotion_url",
    "activate",
    "custom_field1",
    "custom_field2",
    "custom_field3",
    "custom_cell1",
    "custom_cell2",
    "custom_cell3",
    "bonus",
    "balance",
];

fn entry_target(document: &Value, entry: &str) -> Result<EntryTarget, DomainError> {
    let text = |pointer: &str| {
        document
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let target = |prefix: &str, url: &str| EntryTarget {
        user_name: text(&format!("{prefix}app_brand_user_name")),
        pass: text(&format!("{prefix}app_brand_pass")),
        url: text(url),
    };
    let found = match entry {
        "center" => target("/base_info/center_", "/base_info/center_url"),
        "custom_url" => target("/base_info/custom_", "/base_info/custom_url"),
        "promotion_url" => target("/base_info/promotion_", "/base_info/promotion_url"),
        "activate" => {
            // Compat: miniprogram-jump.md §1 — member_card's pair wins over base_info's.
            let member = target("/activate_", "/activate_url");
            if member.user_name.is_some() {
                member
            } else {
                EntryTarget {
                    url: member.url,
                    ..target("/base_info/activate_", "/activate_url")
                }
            }
        }
        "custom_field1" | "custom_field2" | "custom_field3" | "custom_cell1" | "custom_cell2"
        | "custom_cell3" => target(&format!("/{entry}/"), &format!("/{entry}/url")),
        "bonus" => target("/bonus_", "/bonus_url"),
        "balance" => target("/balance_", "/balance_url"),
        _ => {
            return Err(DomainError::Invalid {
                field: "entry",
                reason: format!(
                    "{entry:?} is not an entry of a card; one of {}",
                    ENTRIES.join(", ")
                ),
            })
        }
    };
    if found.user_name.is_none() && found.url.is_none() {
        return Err(DomainError::Invalid {
            field: "entry",
            reason: format!(
                "the card sets no Mini Program (app_brand_user_name) and no URL for {entry:?}; set them with /card/update"
            ),
        });
    }
    Ok(found)
}

/// `url` with `params` appended (`?` or `&`), values percent-encoded.
fn append_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_owned();
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
        separator = '&';
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
#[must_use]
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A new total from an absolute value or a delta, within 0..=i32::MAX.
fn new_total(current: i64, absolute: Option<i64>, delta: Option<i64>) -> Option<i64> {
    let total = match (absolute, delta) {
        (Some(total), _) => total,
        (None, Some(delta)) => current.checked_add(delta)?,
        (None, None) => current,
    };
    (0..=i64::from(i32::MAX)).contains(&total).then_some(total)
}

/// The rules of `/card/membercard/activateuserform/set` that serde does not check.
fn check_form(form: &ActivationForm) -> Result<(), DomainError> {
    check_required("card_id", &form.card_id, 32)?;
    for (field, link) in [
        ("service_statement", &form.service_statement),
        ("bind_old_card", &form.bind_old_card),
    ] {
        if let Some(link) = link {
            check_len(field, &link.name, MAX_FORM_LABEL)?;
            check_len(field, &link.url, MAX_FORM_URL)?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for half in [&form.required_form, &form.optional_form]
        .into_iter()
        .flatten()
    {
        for name in &half.common_field_id_list {
            let Some(key) = common_key(name) else {
                return Err(DomainError::Invalid {
                    field: "common_field_id_list",
                    reason: format!(
                        "{name:?} is not a USER_FORM_INFO_FLAG_ value; one of {}",
                        COMMON_FIELDS
                            .iter()
                            .map(|(field, _)| *field)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            if !seen.insert(key) {
                return Err(DomainError::Invalid {
                    field: "common_field_id_list",
                    reason: format!("{name} is on the form twice"),
                });
            }
        }
        for name in &half.custom_field_list {
            check_required("custom_field_list", name, MAX_FORM_LABEL)?;
            if !seen.insert(format!("custom:{name}")) {
                return Err(DomainError::Invalid {
                    field: "custom_field_list",
                    reason: format!("{name:?} is on the form twice"),
                });
            }
        }
        for rich in &half.rich_field_list {
            if !RICH_FIELD_TYPES.contains(&rich.field_type.as_str()) {
                return Err(DomainError::Invalid {
                    field: "rich_field_list.type",
                    reason: format!(
                        "{:?} is not one of {}",
                        rich.field_type,
                        RICH_FIELD_TYPES.join(", ")
                    ),
                });
            }
            check_required("rich_field_list.name", &rich.name, MAX_FORM_LABEL)?;
            if rich.values.is_empty() {
                return Err(DomainError::Invalid {
                    field: "rich_field_list.values",
                    reason: format!("{:?} offers no choices", rich.name),
                });
            }
            if !seen.insert(format!("custom:{}", rich.name)) {
                return Err(DomainError::Invalid {
                    field: "rich_field_list.name",
                    reason: format!("{:?} is on the form twice", rich.name),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_moves_the_total_and_an_absolute_total_wins_over_a_delta() {
        assert_eq!(new_total(10, None, Some(5)), Some(15));
        assert_eq!(new_total(10, Some(100), Some(5)), Some(100));
        assert_eq!(new_total(10, None, None), Some(10));
    }

    #[test]
    fn a_total_below_zero_or_past_the_int_range_is_refused() {
        assert_eq!(new_total(10, None, Some(-11)), None);
        assert_eq!(new_total(0, Some(-1), None), None);
        assert_eq!(new_total(i64::from(i32::MAX), None, Some(1)), None);
        assert_eq!(new_total(i64::MAX, None, Some(1)), None);
    }

    #[test]
    fn biz_is_the_base64_of_a_decimal_account_number_and_stable() {
        let biz = biz_of("wx1234567890abcdef");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&biz)
            .expect("base64");
        let text = String::from_utf8(decoded).expect("utf-8");
        assert!(text.chars().all(|c| c.is_ascii_digit()), "{text}");
        assert_eq!(biz, biz_of("wx1234567890abcdef"));
        assert_ne!(biz, biz_of("wx1234567890abcdee"));
    }

    #[test]
    fn query_values_are_percent_encoded_and_appended_after_an_existing_query() {
        assert_eq!(
            append_query("pages/a", &[("x", "a+b/c=")]),
            "pages/a?x=a%2Bb%2Fc%3D"
        );
        assert_eq!(
            append_query("pages/a?id=1", &[("y", "2")]),
            "pages/a?id=1&y=2"
        );
    }

    #[test]
    fn both_spellings_of_education_and_location_share_one_answer() {
        assert_eq!(
            common_key("USER_FORM_INFO_FLAG_EDUCATION_BACKGRO"),
            common_key("USER_FORM_INFO_FLAG_EDUCATION_BACKGROUND")
        );
        assert_eq!(
            common_key("USER_FORM_INFO_FLAG_LOCATION"),
            common_key("USER_FORM_INFO_FLAG_DETAIL_LOCATION")
        );
        assert_eq!(common_key("USER_FORM_FLAG_MOBILE"), None);
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_below("6.5.8", COMPONENT_MIN_IOS));
        assert!(!version_below("6.5.9", COMPONENT_MIN_IOS));
        assert!(version_below("6.5.9", COMPONENT_MIN_ANDROID));
        assert!(!version_below("8.0.50", COMPONENT_MIN_ANDROID));
        assert!(version_below("1.2.9", COMPONENT_MIN_BASE_LIBRARY));
        assert!(!version_below("1.10.0", COMPONENT_MIN_BASE_LIBRARY));
    }
}
