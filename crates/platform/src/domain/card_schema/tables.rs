//! The field tables: every card type's JSON as data, transcribed from cards.md §3 and §6,
//! membercard.md §1 and miniprogram-jump.md §1. A row reads: name, JSON kind and limit, then
//! `required()` for create and `updatable()` / `review()` / `widen_only()` for `/card/update`
//! (no marker = not updatable). Limits are UTF-8 bytes, the spec's `string(N)`.

use crate::domain::card_schema::{CardType, Check, FieldSpec as F, Kind, Limit, ObjectSpec, Rule};

/// The 14 colour names of `/card/getcolors` (cards.md §3.6).
pub const COLORS: &[&str] = &[
    "Color010", "Color020", "Color030", "Color040", "Color050", "Color060", "Color070", "Color080",
    "Color081", "Color082", "Color090", "Color100", "Color101", "Color102",
];

/// `base_info.code_type` values (cards.md §3.5).
pub const CODE_TYPES: &[&str] = &[
    "CODE_TYPE_TEXT",
    "CODE_TYPE_BARCODE",
    "CODE_TYPE_QRCODE",
    "CODE_TYPE_ONLY_QRCODE",
    "CODE_TYPE_ONLY_BARCODE",
    "CODE_TYPE_NONE",
];

/// `date_info.type` strings (cards.md §3.8, membercard.md §1.2). The legacy integers 1 and 2
/// stand for the first two.
pub const DATE_TYPES: &[&str] = &[
    "DATE_TYPE_FIX_TIME_RANGE",
    "DATE_TYPE_FIX_TERM",
    "DATE_TYPE_PERMANENT",
];

/// `base_info.get_custom_code_mode` values (cards.md §3.3).
pub const CUSTOM_CODE_MODES: &[&str] = &["GET_CUSTOM_CODE_MODE_DEPOSIT"];

/// `advanced_info.business_service` values (cards.md §3.4).
pub const BUSINESS_SERVICES: &[&str] = &[
    "BIZ_SERVICE_DELIVER",
    "BIZ_SERVICE_FREE_PARK",
    "BIZ_SERVICE_WITH_PET",
    "BIZ_SERVICE_FREE_WIFI",
];

/// `advanced_info.time_limit[].type` values (cards.md §3.4).
// Compat: cards.md §3.4 — `HOLIDAY` appears only in some copies of the table; it is accepted,
// since rejecting a value some clients send costs more than displaying one more slot.
pub const TIME_LIMIT_TYPES: &[&str] = &[
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
    "HOLIDAY",
];

/// `custom_fieldN.name_type` values (membercard.md §1.3); `ACHIEVEMEN` and `TIMS` are the
/// real wire spellings.
pub const FIELD_NAME_TYPES: &[&str] = &[
    "FIELD_NAME_TYPE_LEVEL",
    "FIELD_NAME_TYPE_COUPON",
    "FIELD_NAME_TYPE_STAMP",
    "FIELD_NAME_TYPE_DISCOUNT",
    "FIELD_NAME_TYPE_ACHIEVEMEN",
    "FIELD_NAME_TYPE_MILEAGE",
    "FIELD_NAME_TYPE_SET_POINTS",
    "FIELD_NAME_TYPE_TIMS",
];

/// The largest value of the spec's `int`, a signed 32-bit number on WeChat's side.
pub const INT_MAX: i64 = 2_147_483_647;
/// The largest `uint` timestamp.
pub const TIMESTAMP_MAX: i64 = 4_294_967_295;
/// The largest `sku.quantity` (cards.md §3.7).
pub const MAX_STOCK: i64 = 100_000_000;
/// The largest `get_limit` (errors.md §7, 72009).
pub const MAX_GET_LIMIT: i64 = 50;

// Compat: cards.md §3.2 — ticket-type field lengths are not reliably transcribed, so the
// ticket fields get generous limits: descriptions as long as `description`, everything else
// four times the longest short field of base_info.
const TICKET_TEXT: usize = 3072;
const TICKET_SHORT: usize = 512;

// Compat: membercard.md §1.3 and §1.2 — `code_type`, `name_type` and the date types are
// checked against their value lists only: the spec's `string(16)` / `string(24)` would reject
// real values such as `CODE_TYPE_ONLY_BARCODE` (22 bytes) and `FIELD_NAME_TYPE_ACHIEVEMEN`.

const POI_ID: Kind = Kind::PoiId;
const IMAGE_URL: Kind = Kind::ImageUrl(Limit::Bytes(128));
const BUSINESS_SERVICE: Kind = Kind::OneOf {
    values: BUSINESS_SERVICES,
    rule: Rule::InvalidValue,
};
const TEXT_IMAGE_ITEM: Kind = Kind::Object(&TEXT_IMAGE);
const TIME_LIMIT_ITEM: Kind = Kind::Object(&TIME_LIMIT);

// ---------------------------------------------------------------------------------------
// base_info (cards.md §3.3)

const SKU_FIELDS: &[F] = &[F::integer("quantity", 0, MAX_STOCK, Rule::BadQuantity)
    .required()
    .wrong_type_is(Rule::BadQuantity)];
const SKU: ObjectSpec = ObjectSpec::new(&[SKU_FIELDS]);

const DATE_INFO_FIELDS: &[F] = &[
    F::of_kind("type", Kind::DateType).required().widen_only(),
    F::integer("begin_timestamp", 0, TIMESTAMP_MAX, Rule::BadTime).widen_only(),
    F::integer("end_timestamp", 0, TIMESTAMP_MAX, Rule::BadTime).widen_only(),
    // `fixed_term: 0` is legal next to FIX_TIME_RANGE (clients that send every field send
    // it); Check::DateInfo rejects it for FIX_TERM.
    F::integer("fixed_term", 0, INT_MAX, Rule::BadTime).widen_only(),
    F::integer("fixed_begin_term", 0, INT_MAX, Rule::BadTime).widen_only(),
];
const DATE_INFO: ObjectSpec = ObjectSpec::new(&[DATE_INFO_FIELDS])
    .merged()
    .with_checks(&[Check::DateInfo]);

const SUB_MERCHANT_FIELDS: &[F] = &[F::of_kind("merchant_id", Kind::NumericId)];
const SUB_MERCHANT: ObjectSpec = ObjectSpec::new(&[SUB_MERCHANT_FIELDS]);

/// The `base_info` fields every card type has.
const BASE_INFO_FIELDS: &[F] = &[
    F::image_url("logo_url").required().updatable(),
    F::one_of("code_type", CODE_TYPES, Rule::BadCodeType)
        .required()
        .updatable(),
    F::text("brand_name", 36).required(),
    F::text("title", 27).required().review(),
    F::one_of("color", COLORS, Rule::BadColor)
        .required()
        .updatable(),
    F::text("notice", 48).required().review_except_member_card(),
    F::text("description", 3072).required().review(),
    F::object("sku", &SKU)
        .required()
        .wrong_type_is(Rule::BadSku),
    F::object("date_info", &DATE_INFO).required().widen_only(),
    F::boolean("use_custom_code"),
    F::one_of(
        "get_custom_code_mode",
        CUSTOM_CODE_MODES,
        Rule::InvalidValue,
    ),
    F::boolean("bind_openid"),
    F::text("service_phone", 24).updatable(),
    F::array("location_id_list", &POI_ID).updatable(),
    F::boolean("use_all_locations").updatable(),
    F::text("center_title", 18).updatable(),
    F::text("center_sub_title", 24).updatable(),
    // Compat: cards.md §3.3 — the H5 entry URLs (center_url, custom_url, promotion_url and the
    // member-card ones) are checked for length only: clients send "" for "no link" next to a
    // Mini Program jump, and the spec gives no format.
    F::text("center_url", 128).updatable(),
    F::app_brand_user_name("center_app_brand_user_name").updatable(),
    F::app_brand_pass("center_app_brand_pass", "center_app_brand_user_name").updatable(),
    // Compat: cards.md §3.3 — the create table says string(15), the update table string(16);
    // 16 bytes are accepted on both.
    F::text("custom_url_name", 16).updatable(),
    F::text("custom_url", 128).updatable(),
    F::text("custom_url_sub_title", 18).updatable(),
    F::app_brand_user_name("custom_app_brand_user_name").updatable(),
    F::app_brand_pass("custom_app_brand_pass", "custom_app_brand_user_name").updatable(),
    F::text("promotion_url_name", 16).updatable(),
    F::text("promotion_url", 128).updatable(),
    F::text("promotion_url_sub_title", 18).updatable(),
    F::app_brand_user_name("promotion_app_brand_user_name").updatable(),
    F::app_brand_pass("promotion_app_brand_pass", "promotion_app_brand_user_name").updatable(),
    // Compat: cards.md §3.3 and errors.md §7 — 72009 caps get_limit at 50. A 0 reads as "not
    // set" (the default 50), as it does for clients that serialize every integer; a negative
    // number is 72009 too.
    F::integer("get_limit", 0, MAX_GET_LIMIT, Rule::BadGetLimit).updatable(),
    F::integer("use_limit", 0, INT_MAX, Rule::InvalidValue),
    F::boolean("can_share").updatable(),
    F::boolean("can_give_friend").updatable(),
    F::text("source", 36),
    F::boolean("need_push_on_view"),
    F::object("sub_merchant_info", &SUB_MERCHANT),
];
const BASE_INFO: ObjectSpec = ObjectSpec::new(&[BASE_INFO_FIELDS])
    .merged()
    .with_checks(&[Check::CodeMode, Check::Locations]);

const SWIPE_CARD_FIELDS: &[F] = &[F::boolean("is_swipe_card").updatable()];
const SWIPE_CARD: ObjectSpec = ObjectSpec::new(&[SWIPE_CARD_FIELDS]).merged();
const PAY_INFO_FIELDS: &[F] = &[F::object("swipe_card", &SWIPE_CARD).updatable()];
const PAY_INFO: ObjectSpec = ObjectSpec::new(&[PAY_INFO_FIELDS]).merged();

/// The `base_info` fields only member cards have (membercard.md §1.2, miniprogram-jump.md §1:
/// the "小程序&卡券打通" announcement puts the activation jump in base_info).
const MEMBER_BASE_INFO_FIELDS: &[F] = &[
    F::object("pay_info", &PAY_INFO).updatable(),
    F::boolean("is_pay_and_qrcode").updatable(),
    F::app_brand_user_name("activate_app_brand_user_name").updatable(),
    F::app_brand_pass("activate_app_brand_pass", "activate_app_brand_user_name").updatable(),
];
const MEMBER_BASE_INFO: ObjectSpec = ObjectSpec::new(&[BASE_INFO_FIELDS, MEMBER_BASE_INFO_FIELDS])
    .merged()
    .with_checks(&[Check::CodeMode, Check::Locations]);

const GIFTCARD_INFO_FIELDS: &[F] = &[F::integer("price", 0, INT_MAX, Rule::InvalidValue)];
const GIFTCARD_INFO: ObjectSpec = ObjectSpec::new(&[GIFTCARD_INFO_FIELDS]);

/// The `base_info` fields only general (gift) cards have (cards.md §3.2, GENERAL_CARD row).
const GENERAL_BASE_INFO_FIELDS: &[F] = &[
    F::object("giftcard_info", &GIFTCARD_INFO),
    F::integer("max_give_friend_times", 0, INT_MAX, Rule::InvalidValue),
];
const GENERAL_BASE_INFO: ObjectSpec =
    ObjectSpec::new(&[BASE_INFO_FIELDS, GENERAL_BASE_INFO_FIELDS])
        .merged()
        .with_checks(&[Check::CodeMode, Check::Locations]);

// ---------------------------------------------------------------------------------------
// advanced_info (cards.md §3.4)

// Compat: cards.md §3.4 — the "CASH only" / "GIFT only" notes on use_condition describe what
// the card face shows, so every type accepts every use_condition field.
const USE_CONDITION_FIELDS: &[F] = &[
    F::text("accept_category", 512),
    F::text("reject_category", 512),
    F::integer("least_cost", 0, INT_MAX, Rule::InvalidValue),
    F::text("object_use_for", 512),
    F::boolean("can_use_with_other_discount"),
];
const USE_CONDITION: ObjectSpec = ObjectSpec::new(&[USE_CONDITION_FIELDS]);

// Compat: cards.md §3.4 — "exactly one cover image": more than one is rejected (errors.md
// has 45044 for it; it maps to the generic 40150 here), an empty list means "no cover".
const ABSTRACT_FIELDS: &[F] = &[
    F::text("abstract", 24),
    F::array_at_most("icon_url_list", &IMAGE_URL, 1, Rule::InvalidValue),
];
const ABSTRACT: ObjectSpec = ObjectSpec::new(&[ABSTRACT_FIELDS]);

const TEXT_IMAGE_FIELDS: &[F] = &[F::image_url("image_url"), F::text("text", 512)];
const TEXT_IMAGE: ObjectSpec = ObjectSpec::new(&[TEXT_IMAGE_FIELDS]);

// Compat: cards.md §3.4 — the slots are display only, so only each number's range is checked,
// not that a slot begins before it ends (a slot may run past midnight).
const TIME_LIMIT_FIELDS: &[F] = &[
    F::one_of("type", TIME_LIMIT_TYPES, Rule::BadUseTimeLimit).required(),
    F::integer("begin_hour", 0, 23, Rule::BadUseTimeLimit),
    F::integer("begin_minute", 0, 59, Rule::BadUseTimeLimit),
    F::integer("end_hour", 0, 23, Rule::BadUseTimeLimit),
    F::integer("end_minute", 0, 59, Rule::BadUseTimeLimit),
];
const TIME_LIMIT: ObjectSpec = ObjectSpec::new(&[TIME_LIMIT_FIELDS]);

// Compat: cards.md §3.4 — "coupons must provide at least one text_image_list entry" is not
// enforced (uncertain upstream, and test cards rarely have one).
const ADVANCED_INFO_FIELDS: &[F] = &[
    F::object("use_condition", &USE_CONDITION),
    F::object("abstract", &ABSTRACT),
    F::array("text_image_list", &TEXT_IMAGE_ITEM),
    F::array("business_service", &BUSINESS_SERVICE),
    F::array("time_limit", &TIME_LIMIT_ITEM),
    F::boolean("share_friends"),
];
const ADVANCED_INFO: ObjectSpec = ObjectSpec::new(&[ADVANCED_INFO_FIELDS]);

// ---------------------------------------------------------------------------------------
// The type objects (cards.md §3.2)

// Compat: cards.md §6 — only base_info is listed as updatable for coupons, and advanced_info
// is not in the update table at all, so an update that changes advanced_info is 40150.
const COUPON_COMMON: &[F] = &[
    F::object("base_info", &BASE_INFO).required().updatable(),
    F::object("advanced_info", &ADVANCED_INFO),
];

const GROUPON_FIELDS: &[F] = &[F::text("deal_detail", 3072).required()];
const GROUPON: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, GROUPON_FIELDS]).merged();

// Compat: errors.md §7 — 72008 applies only when least_cost > 0: 0 means "no threshold".
const CASH_FIELDS: &[F] = &[
    F::integer("least_cost", 0, INT_MAX, Rule::BadLeastCost).required(),
    F::integer("reduce_cost", 100, INT_MAX, Rule::BadReduceCost).required(),
];
const CASH: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, CASH_FIELDS])
    .merged()
    .with_checks(&[Check::CashCosts]);

// Compat: cards.md §3.2 — `discount` is the percentage off; 0 (nothing off) and 100 (free)
// make no sense as a discount coupon, so 1..=99 is accepted.
const DISCOUNT_FIELDS: &[F] = &[F::integer("discount", 1, 99, Rule::InvalidValue).required()];
const DISCOUNT: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, DISCOUNT_FIELDS]).merged();

const GIFT_FIELDS: &[F] = &[F::text("gift", 3072).required()];
const GIFT: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, GIFT_FIELDS]).merged();

const GENERAL_COUPON_FIELDS: &[F] = &[F::text("default_detail", 3072).required()];
const GENERAL_COUPON: ObjectSpec =
    ObjectSpec::new(&[COUPON_COMMON, GENERAL_COUPON_FIELDS]).merged();

const SCENIC_TICKET_FIELDS: &[F] = &[
    F::text("ticket_class", TICKET_SHORT),
    F::text("guide_url", TICKET_SHORT).updatable(),
];
const SCENIC_TICKET: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, SCENIC_TICKET_FIELDS]).merged();

const MOVIE_TICKET_FIELDS: &[F] = &[F::text("detail", TICKET_TEXT).updatable()];
const MOVIE_TICKET: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, MOVIE_TICKET_FIELDS]).merged();

const BOARDING_PASS_FIELDS: &[F] = &[
    F::text("from", TICKET_SHORT).required(),
    F::text("to", TICKET_SHORT).required(),
    F::text("flight", TICKET_SHORT).required(),
    F::integer("departure_time", 0, TIMESTAMP_MAX, Rule::InvalidValue).updatable(),
    F::integer("landing_time", 0, TIMESTAMP_MAX, Rule::InvalidValue).updatable(),
    F::text("check_in_url", TICKET_SHORT),
    F::text("gate", TICKET_SHORT).updatable(),
    F::integer("boarding_time", 0, TIMESTAMP_MAX, Rule::InvalidValue).updatable(),
    F::text("air_model", TICKET_SHORT),
];
const BOARDING_PASS: ObjectSpec = ObjectSpec::new(&[COUPON_COMMON, BOARDING_PASS_FIELDS]).merged();

const MEETING_TICKET_FIELDS: &[F] = &[
    F::text("meeting_detail", TICKET_TEXT)
        .required()
        .updatable(),
    F::text("map_url", TICKET_SHORT).updatable(),
];
const MEETING_TICKET: ObjectSpec =
    ObjectSpec::new(&[COUPON_COMMON, MEETING_TICKET_FIELDS]).merged();

// ---------------------------------------------------------------------------------------
// Member card (membercard.md §1)

const CUSTOM_FIELD_FIELDS: &[F] = &[
    F::one_of("name_type", FIELD_NAME_TYPES, Rule::InvalidValue),
    F::text("name", 24),
    F::text("url", 128),
    F::app_brand_user_name("app_brand_user_name"),
    F::app_brand_pass("app_brand_pass", "app_brand_user_name"),
];
const CUSTOM_FIELD: ObjectSpec =
    ObjectSpec::new(&[CUSTOM_FIELD_FIELDS]).with_checks(&[Check::NameOrNameType]);

const CUSTOM_CELL_FIELDS: &[F] = &[
    F::text("name", 15).required(),
    F::text("tips", 18).required(),
    F::text("url", 128).required(),
    F::app_brand_user_name("app_brand_user_name"),
    F::app_brand_pass("app_brand_pass", "app_brand_user_name"),
];
const CUSTOM_CELL: ObjectSpec = ObjectSpec::new(&[CUSTOM_CELL_FIELDS]);

const BONUS_RULE_FIELDS: &[F] = &[
    F::integer("cost_money_unit", 0, INT_MAX, Rule::InvalidValue),
    F::integer("increase_bonus", 0, INT_MAX, Rule::InvalidValue),
    F::integer("max_increase_bonus", 0, INT_MAX, Rule::InvalidValue),
    F::integer("init_increase_bonus", 0, INT_MAX, Rule::InvalidValue),
    F::integer("cost_bonus_unit", 0, INT_MAX, Rule::InvalidValue),
    F::integer("reduce_money", 0, INT_MAX, Rule::InvalidValue),
    F::integer("least_money_to_use_bonus", 0, INT_MAX, Rule::InvalidValue),
    F::integer("max_reduce_bonus", 0, INT_MAX, Rule::InvalidValue),
];
const BONUS_RULE: ObjectSpec = ObjectSpec::new(&[BONUS_RULE_FIELDS]);

// Compat: cards.md §6 names no member-card fields, so the updatable set follows the official
// member-card update page as quoted in miniprogram-jump.md §3: every display field below, the
// activation settings (including wx_activate_after_submit and its URL) and the jump fields.
// advanced_info and base_info's non-updatable fields stay as for coupons.
// Compat: membercard.md §1.2 — custom_cell3 is accepted too (WxJava and SKIT both send it).
// Compat: membercard.md §1.2 — `discount` is percent off; 0 (no member discount) is allowed.
// Compat: membercard.md §1.2 — which fields supply_bonus/supply_balance make mandatory is
// undocumented, so none are required.
const MEMBER_CARD_FIELDS: &[F] = &[
    F::object("base_info", &MEMBER_BASE_INFO)
        .required()
        .updatable(),
    F::object("advanced_info", &ADVANCED_INFO),
    F::image_url("background_pic_url").updatable(),
    F::text("prerogative", 3072).required().updatable(),
    F::boolean("auto_activate").updatable(),
    F::boolean("wx_activate").updatable(),
    F::boolean("wx_activate_after_submit").updatable(),
    F::http_url("wx_activate_after_submit_url", 128).updatable(),
    F::text("activate_url", 128).updatable(),
    F::app_brand_user_name("activate_app_brand_user_name").updatable(),
    F::app_brand_pass("activate_app_brand_pass", "activate_app_brand_user_name").updatable(),
    F::boolean("supply_bonus").required().updatable(),
    F::text("bonus_url", 128).updatable(),
    F::app_brand_user_name("bonus_app_brand_user_name").updatable(),
    F::app_brand_pass("bonus_app_brand_pass", "bonus_app_brand_user_name").updatable(),
    F::boolean("supply_balance").required().updatable(),
    F::text("balance_url", 128).updatable(),
    F::app_brand_user_name("balance_app_brand_user_name").updatable(),
    F::app_brand_pass("balance_app_brand_pass", "balance_app_brand_user_name").updatable(),
    F::object("custom_field1", &CUSTOM_FIELD).updatable(),
    F::object("custom_field2", &CUSTOM_FIELD).updatable(),
    F::object("custom_field3", &CUSTOM_FIELD).updatable(),
    F::object("custom_cell1", &CUSTOM_CELL).updatable(),
    F::object("custom_cell2", &CUSTOM_CELL).updatable(),
    F::object("custom_cell3", &CUSTOM_CELL).updatable(),
    F::text("bonus_cleared", 128).updatable(),
    F::text("bonus_rules", 128).updatable(),
    F::text("balance_rules", 128).updatable(),
    F::object("bonus_rule", &BONUS_RULE).updatable(),
    F::integer("discount", 0, 99, Rule::InvalidValue).updatable(),
];
const MEMBER_CARD: ObjectSpec = ObjectSpec::new(&[MEMBER_CARD_FIELDS])
    .merged()
    .with_checks(&[
        Check::CustomFieldCount,
        Check::MemberActivation,
        Check::BonusStaysOn,
    ]);

// ---------------------------------------------------------------------------------------
// General (gift) card (cards.md §3.2, GENERAL_CARD row)

// Compat: cards.md §3.2 — the GENERAL_CARD field list is uncertain and says nothing about
// required fields or updates: nothing type-specific is required, only base_info is updatable,
// and sub_card_type is free text (SKIT sends "" when unset; "GIFT_CARD" is the one known value).
const GENERAL_CARD_FIELDS: &[F] = &[
    F::object("base_info", &GENERAL_BASE_INFO)
        .required()
        .updatable(),
    F::object("advanced_info", &ADVANCED_INFO),
    F::text("sub_card_type", 32),
    F::image_url("background_pic_url"),
    F::text("prerogative", 3072),
    F::boolean("auto_activate"),
    F::boolean("supply_bonus"),
    F::integer("init_bonus", 0, INT_MAX, Rule::InvalidValue),
    F::boolean("supply_balance"),
    F::integer("init_balance", 0, INT_MAX, Rule::InvalidValue),
    F::object("custom_field1", &CUSTOM_FIELD),
    F::object("custom_field2", &CUSTOM_FIELD),
    F::object("custom_field3", &CUSTOM_FIELD),
];
const GENERAL_CARD: ObjectSpec = ObjectSpec::new(&[GENERAL_CARD_FIELDS])
    .merged()
    .with_checks(&[Check::CustomFieldCount]);

/// The spec of `card_type`'s object (the one under its lowercase key).
pub(crate) fn type_object(card_type: CardType) -> &'static ObjectSpec {
    match card_type {
        CardType::Groupon => &GROUPON,
        CardType::Cash => &CASH,
        CardType::Discount => &DISCOUNT,
        CardType::Gift => &GIFT,
        CardType::GeneralCoupon => &GENERAL_COUPON,
        CardType::MemberCard => &MEMBER_CARD,
        CardType::GeneralCard => &GENERAL_CARD,
        CardType::ScenicTicket => &SCENIC_TICKET,
        CardType::MovieTicket => &MOVIE_TICKET,
        CardType::BoardingPass => &BOARDING_PASS,
        CardType::MeetingTicket => &MEETING_TICKET,
    }
}
