//! `card_schema`: the JSON of every card type as data, and the validator of `/card/create` and
//! `/card/update` bodies that walks a request against it.
//!
//! It owns field names, JSON types, length limits (UTF-8 bytes, the spec's `string(N)`),
//! required-ness, enum values, which fields an update may change and which changes send a card
//! back to review (cards.md §3 and §6, membercard.md §1, miniprogram-jump.md §1). The tables
//! are in `tables`, readable on their own and reachable through [`CardType::schema`].
//!
//! It must not touch storage or accounts: it names the Mini Programs a card jumps to and leaves
//! checking them to the card service, and it turns no violation into an errcode (the HTTP edge
//! maps each [`Rule`]). It sees plain `serde_json::Value`s, never wire types. It never panics,
//! and it descends only into fields the tables know, so no input can exhaust the stack.

mod tables;
mod types;
mod walk;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::domain::card_schema::walk::{date_rule, integer, join, Object, Walker};

pub use crate::domain::card_schema::tables::{
    BUSINESS_SERVICES, CODE_TYPES, COLORS, CUSTOM_CODE_MODES, DATE_TYPES, FIELD_NAME_TYPES,
    INT_MAX, MAX_GET_LIMIT, MAX_STOCK, TIMESTAMP_MAX, TIME_LIMIT_TYPES,
};
pub use crate::domain::card_schema::types::{
    Check, FieldSpec, Kind, Limit, ObjectSpec, OnUpdate, Update,
};

/// `get_limit` when a card does not set one (cards.md §3.3).
pub const DEFAULT_GET_LIMIT: u32 = 50;

/// A card type: `card_type` on the wire, and the lowercase key of its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardType {
    /// 团购券, a group-buy voucher.
    Groupon,
    /// 代金券, a cash voucher.
    Cash,
    /// 折扣券, a discount coupon.
    Discount,
    /// 兑换券, a gift voucher.
    Gift,
    /// 优惠券, a general coupon.
    GeneralCoupon,
    /// 会员卡, a member card.
    MemberCard,
    /// 通用卡 / 礼品卡, a general (gift) card.
    GeneralCard,
    /// 景区门票, a scenic-spot ticket.
    ScenicTicket,
    /// 电影票, a movie ticket.
    MovieTicket,
    /// 飞机票, a boarding pass.
    BoardingPass,
    /// 会议门票, a meeting ticket.
    MeetingTicket,
}

impl CardType {
    /// Every card type wxcard emulates.
    // Compat: cards.md §3.2 — the legacy LUCKY_MONEY type is not emulated; creating one is
    // 40071 like any unknown type.
    pub const ALL: [CardType; 11] = [
        CardType::Groupon,
        CardType::Cash,
        CardType::Discount,
        CardType::Gift,
        CardType::GeneralCoupon,
        CardType::MemberCard,
        CardType::GeneralCard,
        CardType::ScenicTicket,
        CardType::MovieTicket,
        CardType::BoardingPass,
        CardType::MeetingTicket,
    ];

    /// Reads `card_type` (`"GROUPON"`); the match is exact.
    #[must_use]
    pub fn from_wire(text: &str) -> Option<CardType> {
        CardType::ALL
            .into_iter()
            .find(|card_type| card_type.wire_name() == text)
    }

    /// The `card_type` value: `"GROUPON"`.
    #[must_use]
    pub fn wire_name(self) -> &'static str {
        match self {
            CardType::Groupon => "GROUPON",
            CardType::Cash => "CASH",
            CardType::Discount => "DISCOUNT",
            CardType::Gift => "GIFT",
            CardType::GeneralCoupon => "GENERAL_COUPON",
            CardType::MemberCard => "MEMBER_CARD",
            CardType::GeneralCard => "GENERAL_CARD",
            CardType::ScenicTicket => "SCENIC_TICKET",
            CardType::MovieTicket => "MOVIE_TICKET",
            CardType::BoardingPass => "BOARDING_PASS",
            CardType::MeetingTicket => "MEETING_TICKET",
        }
    }

    /// The key of the type object: `"groupon"`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            CardType::Groupon => "groupon",
            CardType::Cash => "cash",
            CardType::Discount => "discount",
            CardType::Gift => "gift",
            CardType::GeneralCoupon => "general_coupon",
            CardType::MemberCard => "member_card",
            CardType::GeneralCard => "general_card",
            CardType::ScenicTicket => "scenic_ticket",
            CardType::MovieTicket => "movie_ticket",
            CardType::BoardingPass => "boarding_pass",
            CardType::MeetingTicket => "meeting_ticket",
        }
    }

    /// The fields of this type's object, `base_info` and `advanced_info` included.
    #[must_use]
    pub fn schema(self) -> &'static ObjectSpec {
        tables::type_object(self)
    }
}

/// Which rule a request broke. The HTTP layer maps each to an errcode; the number in each
/// variant's documentation is the spec's choice (errors.md §3–§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// 41011: a required field is missing (or is an empty string).
    MissingField,
    /// 45021: a string is over its length limit.
    TooLong,
    /// 47001: a field has the wrong JSON type.
    WrongType,
    /// 40071: `card_type` is unknown, or the type object is missing or under another key.
    UnknownCardType,
    /// 40072 (the card error page's meaning, cards.md §3.5): `code_type` is not a code type.
    BadCodeType,
    /// 40076: `color` is not a palette name.
    BadColor,
    /// 40079: `date_info` is wrong: unknown type, begin not before end, end in the past,
    /// `fixed_term` 0, a timestamp out of range.
    BadTime,
    /// 40122: `sku.quantity` is below 0 or above 100 000 000, or not 0 in deposit-code mode.
    BadQuantity,
    /// 40070: `sku` is not an object.
    BadSku,
    /// 72009: `get_limit` is above 50, or negative.
    BadGetLimit,
    /// 72007: CASH `reduce_cost` is below 100 fen.
    BadReduceCost,
    /// 72008: CASH `least_cost` is negative, or positive and not larger than `reduce_cost`.
    BadLeastCost,
    /// 40124: a card has more custom fields than `custom_field1..3`.
    TooManyCustomFields,
    /// 40141: an image URL is not an `http(s)` URL.
    BadImageUrl,
    /// 40149: an `advanced_info.time_limit` entry is wrong.
    BadUseTimeLimit,
    /// 40098 (`invalid poiid`): a `location_id_list` entry is not a non-negative integer.
    BadLocation,
    /// 40100: an update narrows `date_info` or changes its type.
    DateNarrowed,
    /// 40150: an update changes a field `/card/update` may not change; the field names it.
    NotUpdatable,
    /// 40150: any other bad value (enums such as `business_service`, code-mode combinations,
    /// Mini Program jump fields, ranges without a code of their own, more than one cover
    /// image where the spec has 45044, `supply_bonus` switched off where it has 40135).
    InvalidValue,
}

/// A broken rule: which rule, where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {detail}")]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Dotted path from the request root: `card.cash.base_info.title` on create,
    /// `general_coupon.base_info.notice` on update, `[i]` for array elements.
    pub field: String,
    /// A lowercase phrase that follows the field:
    /// `is 40 bytes; the limit is 27 bytes (about 9 Chinese characters)`.
    pub detail: String,
}

impl Violation {
    /// A violation of `rule` at `field`.
    pub fn new(rule: Rule, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            rule,
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// Who supplies a card's codes (cards.md §3.3, codes.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMode {
    /// The platform generates codes.
    System,
    /// `use_custom_code: true`: the merchant names a code at each issuance.
    Custom,
    /// `get_custom_code_mode: GET_CUSTOM_CODE_MODE_DEPOSIT`: the merchant deposits codes first.
    Deposit,
}

/// When a card's codes are valid (cards.md §3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRule {
    /// Valid from `begin` to `end`, Unix seconds.
    FixTimeRange {
        /// Start, Unix seconds.
        begin: i64,
        /// End, Unix seconds; later than `begin`.
        end: i64,
    },
    /// Valid for `term_days` days, starting `begin_days` days after the claim, and never
    /// after `end` when it is set.
    FixTerm {
        /// Days of validity; at least 1.
        term_days: i64,
        /// Days between the claim and the start; 0 = the claim day.
        begin_days: i64,
        /// A hard expiry, Unix seconds.
        end: Option<i64>,
    },
    /// Never expires (member and general cards).
    Permanent,
}

impl DateRule {
    /// The last second of validity the rule fixes for every code, if any.
    #[must_use]
    pub fn end(self) -> Option<i64> {
        match self {
            DateRule::FixTimeRange { end, .. } => Some(end),
            DateRule::FixTerm { end, .. } => end,
            DateRule::Permanent => None,
        }
    }
}

/// A valid `/card/create` request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCard {
    /// The card type.
    pub card_type: CardType,
    /// The type object exactly as /card/get will show it (minus the server fields id, status,
    /// sku.total_quantity, create_time, update_time, which the service adds): the known fields
    /// the request gave, values unchanged. Unknown fields are dropped and listed in `ignored`.
    pub document: Value,
    /// `sku.quantity`, the initial stock.
    pub quantity: u64,
    /// Who supplies the codes.
    pub code_mode: CodeMode,
    /// Whether each issuance names its receiver.
    pub bind_openid: bool,
    /// Cards one user may hold; [`DEFAULT_GET_LIMIT`] when absent or 0.
    pub get_limit: u32,
    /// Whether the claim page may be shared; true when absent.
    pub can_share: bool,
    /// Whether the card may be gifted; true when absent.
    pub can_give_friend: bool,
    /// When codes are valid.
    pub date: DateRule,
    /// `(field path, user name)` of every Mini Program named by a `*_app_brand_user_name`
    /// field, so the service can check the Mini Program exists and is linked to the card's
    /// account.
    pub mini_programs: Vec<(String, String)>,
    /// Paths of fields that were present but are not part of the schema (the service logs
    /// them).
    pub ignored: Vec<String>,
}

/// A valid `/card/update` request, applied to the stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct CardUpdate {
    /// The stored document with the update merged in.
    pub document: Value,
    /// Whether the update sends the card back to review: `title` or `description` changed, or
    /// `notice` on a card that is not a member card (cards.md §6's recommendation).
    pub send_check: bool,
    /// When codes are valid, after the update.
    pub date: DateRule,
    /// `get_limit` after the update; [`DEFAULT_GET_LIMIT`] when absent or 0.
    pub get_limit: u32,
    /// `can_share` after the update.
    pub can_share: bool,
    /// `can_give_friend` after the update.
    pub can_give_friend: bool,
    /// `(field path, user name)` of the Mini Programs the update itself names; the ones the
    /// card already had were checked when they were set.
    pub mini_programs: Vec<(String, String)>,
    /// Paths of fields that were present but are not part of the schema.
    pub ignored: Vec<String>,
}

/// Validates a `/card/create` body (`{"card": {"card_type": …, "<key>": {…}}}`) at Unix time
/// `now`, and returns the card it describes.
///
/// # Errors
///
/// The first rule the request breaks, in table order.
pub fn validate_create(request: &Value, now: i64) -> Result<NewCard, Violation> {
    let Some(root) = request.as_object() else {
        return Err(Violation::new(
            Rule::WrongType,
            "request",
            "must be a JSON object",
        ));
    };
    let card = match root.get("card") {
        None | Some(Value::Null) => {
            return Err(Violation::new(Rule::MissingField, "card", "is required"));
        }
        Some(card) => card
            .as_object()
            .ok_or_else(|| Violation::new(Rule::WrongType, "card", "must be an object"))?,
    };
    let card_type = read_card_type(card)?;
    let key = card_type.key();
    let path = format!("card.{key}");
    let type_object = match card.get(key) {
        None | Some(Value::Null) => return Err(missing_type_object(card_type, card, &path)),
        Some(object) => object
            .as_object()
            .ok_or_else(|| Violation::new(Rule::WrongType, path.as_str(), "must be an object"))?,
    };

    let mut walker = Walker::new(card_type, now);
    walker.ignored.extend(
        root.keys()
            .filter(|name| *name != "card")
            .map(String::clone),
    );
    walker.ignored.extend(
        card.keys()
            .filter(|name| *name != "card_type" && *name != key)
            .map(|name| join("card", name)),
    );
    let document = walker.object(card_type.schema(), type_object, None, &path)?;
    let settings = Settings::read(card_type, &document, &path)?;
    Ok(NewCard {
        card_type,
        document: Value::Object(document),
        quantity: settings.quantity,
        code_mode: settings.code_mode,
        bind_openid: settings.bind_openid,
        get_limit: settings.get_limit,
        can_share: settings.can_share,
        can_give_friend: settings.can_give_friend,
        date: settings.date,
        mini_programs: walker.mini_programs,
        ignored: walker.ignored,
    })
}

/// Validates a `/card/update` body (`card_id` plus the object named after the type) against
/// the stored type object of a `card_type` card at Unix time `now`, and merges it in.
///
/// `stored` is the type object as [`NewCard::document`] (plus any server fields) holds it.
///
/// # Errors
///
/// The first rule the request breaks, in table order.
pub fn validate_update(
    card_type: CardType,
    stored: &Value,
    request: &Value,
    now: i64,
) -> Result<CardUpdate, Violation> {
    let key = card_type.key();
    let Some(root) = request.as_object() else {
        return Err(Violation::new(
            Rule::WrongType,
            "request",
            "must be a JSON object",
        ));
    };
    let sent = match root.get(key) {
        None | Some(Value::Null) => {
            return Err(Violation::new(
                Rule::UnknownCardType,
                key,
                format!(
                    "is missing; an update of a {} card sends its fields under {key:?}",
                    card_type.wire_name()
                ),
            ));
        }
        Some(sent) => sent
            .as_object()
            .ok_or_else(|| Violation::new(Rule::WrongType, key, "must be an object"))?,
    };
    let empty = Map::new();
    let stored = stored.as_object().unwrap_or(&empty);

    let mut walker = Walker::new(card_type, now);
    walker.ignored.extend(
        root.keys()
            .filter(|name| *name != "card_id" && *name != key)
            .map(String::clone),
    );
    let document = walker.object(card_type.schema(), sent, Some(stored), key)?;
    let send_check = needs_review(card_type, card_type.schema(), stored, &document);
    let settings = Settings::read(card_type, &document, key)?;
    Ok(CardUpdate {
        document: Value::Object(document),
        send_check,
        date: settings.date,
        get_limit: settings.get_limit,
        can_share: settings.can_share,
        can_give_friend: settings.can_give_friend,
        mini_programs: walker.mini_programs,
        ignored: walker.ignored,
    })
}

/// Checks one image URL outside a card body (a landing page's `banner` or `thumb_url`) by the
/// rule card images follow: any `http(s)` URL.
///
/// # Errors
///
/// [`Rule::BadImageUrl`] at `field` when `url` is not an `http(s)` URL.
pub fn check_image_url(field: &str, url: &str) -> Result<(), Violation> {
    if walk::is_http_url(url) {
        Ok(())
    } else {
        Err(Violation::new(
            Rule::BadImageUrl,
            field,
            format!("is {url:?}; an image must be an http:// or https:// URL"),
        ))
    }
}

fn read_card_type(card: &Object) -> Result<CardType, Violation> {
    let field = "card.card_type";
    match card.get("card_type") {
        None | Some(Value::Null) => Err(Violation::new(Rule::MissingField, field, "is required")),
        Some(Value::String(name)) => CardType::from_wire(name).ok_or_else(|| {
            let detail = if name == "LUCKY_MONEY" {
                "is LUCKY_MONEY, a legacy type wxcard does not emulate".to_owned()
            } else {
                format!(
                    "is {name:?}, which is not a card type; use one of {}",
                    CardType::ALL.map(CardType::wire_name).join(", ")
                )
            };
            Violation::new(Rule::UnknownCardType, field, detail)
        }),
        Some(_) => Err(Violation::new(
            Rule::UnknownCardType,
            field,
            "must be a card type name such as \"CASH\"",
        )),
    }
}

fn missing_type_object(card_type: CardType, card: &Object, path: &str) -> Violation {
    let elsewhere = CardType::ALL
        .into_iter()
        .find(|other| card.get(other.key()).is_some_and(Value::is_object));
    let detail = match elsewhere {
        Some(other) => format!(
            "is missing: card_type is {} but the fields are under {:?}",
            card_type.wire_name(),
            other.key()
        ),
        None => format!(
            "is missing; card_type {} needs its fields under {:?}",
            card_type.wire_name(),
            card_type.key()
        ),
    };
    Violation::new(Rule::UnknownCardType, path, detail)
}

/// Whether any field marked for review differs between `before` and `after`.
fn needs_review<'d>(
    card_type: CardType,
    spec: &ObjectSpec,
    before: &'d Object,
    after: &'d Object,
) -> bool {
    let empty = Map::new();
    spec.fields().any(|field| {
        let changed = before.get(field.name) != after.get(field.name);
        let reviewed = match field.update {
            Update::Review => true,
            Update::ReviewExceptMemberCard => card_type != CardType::MemberCard,
            Update::Never | Update::Allowed | Update::WidenOnly => false,
        };
        if reviewed && changed {
            return true;
        }
        match field.kind {
            Kind::Object(inner) if changed && inner.on_update == OnUpdate::MergeFields => {
                let object = |document: &'d Object| {
                    document
                        .get(field.name)
                        .and_then(Value::as_object)
                        .unwrap_or(&empty)
                };
                needs_review(card_type, inner, object(before), object(after))
            }
            _ => false,
        }
    })
}

/// The settings the service needs, read back from a validated document.
struct Settings {
    quantity: u64,
    code_mode: CodeMode,
    bind_openid: bool,
    get_limit: u32,
    can_share: bool,
    can_give_friend: bool,
    date: DateRule,
}

impl Settings {
    fn read(card_type: CardType, document: &Object, path: &str) -> Result<Settings, Violation> {
        let base_path = join(path, "base_info");
        let Some(base_info) = document.get("base_info").and_then(Value::as_object) else {
            return Err(Violation::new(Rule::MissingField, base_path, "is required"));
        };
        let flag = |name: &str| base_info.get(name).and_then(Value::as_bool);
        let date_path = join(&base_path, "date_info");
        let Some(date_info) = base_info.get("date_info").and_then(Value::as_object) else {
            return Err(Violation::new(Rule::MissingField, date_path, "is required"));
        };
        let quantity = base_info
            .get("sku")
            .and_then(|sku| sku.get("quantity"))
            .and_then(integer)
            .and_then(|quantity| u64::try_from(quantity).ok())
            .unwrap_or(0);
        let code_mode = if base_info.contains_key("get_custom_code_mode") {
            CodeMode::Deposit
        } else if flag("use_custom_code") == Some(true) {
            CodeMode::Custom
        } else {
            CodeMode::System
        };
        let get_limit = base_info
            .get("get_limit")
            .and_then(integer)
            .and_then(|limit| u32::try_from(limit).ok())
            .filter(|limit| *limit > 0)
            .unwrap_or(DEFAULT_GET_LIMIT);
        // Compat: cards.md §3.3 — can_share and can_give_friend default to true, as the older
        // docs say; the current ones give no default.
        Ok(Settings {
            quantity,
            code_mode,
            bind_openid: flag("bind_openid").unwrap_or(false),
            get_limit,
            can_share: flag("can_share").unwrap_or(true),
            can_give_friend: flag("can_give_friend").unwrap_or(true),
            date: date_rule(card_type, date_info, &date_path)?,
        })
    }
}
