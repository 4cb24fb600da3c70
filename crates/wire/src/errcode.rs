//! The errcode table: every code the card platform answers, with WeChat's wire `errmsg`.
//!
//! Numbers and strings come from the project's protocol notes (`spec/errors.md`); clients
//! branch on the number only, so the strings are kept byte for byte but never parsed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A WeChat `errcode`. Zero is success; `-1` is the only negative value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ErrCode(pub i32);

impl fmt::Display for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! errcodes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal, $msg:literal;)*) => {
        impl ErrCode {
            $($(#[doc = $doc])* pub const $name: ErrCode = ErrCode($code);)*

            /// WeChat's wire `errmsg` for this code, or `None` for a code outside the table.
            #[must_use]
            pub fn wire_message(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($msg),)*
                    _ => None,
                }
            }

            /// The constant's name (`INVALID_CODE`), for logs and generated docs.
            #[must_use]
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }

        /// Every errcode in the table, in ascending order.
        pub const ALL_ERRCODES: &[ErrCode] = &[$(ErrCode::$name),*];
    };
}

errcodes! {
    /// The platform is busy or failed internally; retry later.
    SYSTEM_BUSY = -1, "system error";
    /// Success.
    OK = 0, "ok";
    /// The access_token is unknown, superseded, or the AppSecret is wrong.
    INVALID_CREDENTIAL = 40001, "invalid credential, access_token is invalid or not latest";
    /// `grant_type` is not the expected literal.
    INVALID_GRANT_TYPE = 40002, "invalid grant_type";
    /// The openid is unknown or belongs to another app.
    INVALID_OPENID = 40003, "invalid openid";
    /// An uploaded image is too large.
    IMAGE_TOO_LARGE = 40009, "invalid image size";
    /// The AppID is malformed or unknown.
    INVALID_APPID = 40013, "invalid appid";
    /// The access_token string is malformed.
    INVALID_ACCESS_TOKEN = 40014, "invalid access_token";
    /// The `wx.login` code is unknown or expired.
    INVALID_JS_CODE = 40029, "invalid code";
    /// `action_name` is not an allowed value.
    INVALID_ACTION_NAME = 40052, "invalid action name";
    /// `action_info` is malformed.
    INVALID_ACTION_INFO = 40053, "invalid action info, please check document";
    /// The code string is not acceptable.
    INVALID_SERIAL_CODE = 40056, "invalid serial code";
    /// The request path is not an API that exists.
    INVALID_URL = 40066, "invalid url";
    /// The `sku` object is malformed.
    INVALID_SKU_INFO = 40070, "invalid sku info";
    /// `card_type` is unknown or its type object is missing.
    INVALID_CARD_TYPE = 40071, "invalid card type";
    /// A location id is invalid.
    INVALID_LOCATION_ID = 40072, "invalid location id";
    /// The card_id is unknown or not owned by this app.
    INVALID_CARD_ID = 40073, "invalid card id";
    /// The encrypt_code cannot be decrypted.
    INVALID_ENCRYPT_CODE = 40075, "invalid encrypt code";
    /// The colour is not in the palette.
    INVALID_COLOR_ID = 40076, "invalid color id";
    /// A member-card bonus field is invalid.
    INVALID_SCORE_TYPE = 40077, "invalid score type";
    /// The card's status does not allow the operation.
    INVALID_CARD_STATUS = 40078, "invalid card status";
    /// A timestamp in `date_info` is invalid.
    INVALID_TIME = 40079, "invalid time";
    /// The cardExt is malformed or its signature does not verify.
    INVALID_CARD_EXT = 40080, "invalid card ext";
    /// A parameter is invalid.
    INVALID_ARGS = 40097, "invalid args";
    /// A location (POI) id is invalid.
    INVALID_POIID = 40098, "invalid poiid";
    /// The code was already redeemed.
    CODE_CONSUMED = 40099, "invalid code, this code has consumed.";
    /// An update may only widen the validity window and keep its type.
    INVALID_DATE_INFO_UPDATE = 40100, "invalid DateInfo, Make Sure OldDateInfoType==NewDateInfoType && NewBeginTime<=OldBeginTime && OldEndTime<= NewEndTime";
    /// A parameter is missing.
    MISSING_PARAMETER = 40101, "missing parameter";
    /// The card is not approved or has no stores.
    CARD_NOT_VERIFIED_OR_NO_LOCATION = 40107, "invalid card id! 1,card status must verify ok; 2,this card must have location_id";
    /// More than 100 codes in one call.
    TOO_MANY_CODES = 40109, "too many code size, must <= 100";
    /// An empty string in the code list.
    EMPTY_CODE = 40110, "have empty code";
    /// A duplicate in the code list.
    DUPLICATE_CODE = 40111, "have same code";
    /// `bind_openid` is not allowed here.
    CANNOT_BIND_OPENID = 40112, "can not set bind openid";
    /// No such code for this card.
    INVALID_CODE = 40116, "invalid code";
    /// A stock value is invalid.
    INVALID_CARD_QUANTITY = 40122, "invalid card quantity";
    /// A member card has too many custom fields.
    TOO_MANY_CUSTOM_FIELDS = 40124, "too many custom field!";
    /// The AppSecret is wrong.
    INVALID_APPSECRET = 40125, "invalid appsecret";
    /// The user's card is deleted, expired, unavailable or being gifted.
    INVALID_USER_CARD_STATUS = 40127, "invalid user-card status! Hint: the card was given to user, but may be deleted or expired or set unavailable !";
    /// The landing-page `scene` is not in the enum.
    INVALID_SCENE = 40129, "invalid scene";
    /// Too many tickets.
    OUT_OF_TICKET_LIMIT = 40131, "out of limit of ticket";
    /// A WeChat ID is invalid.
    INVALID_USERNAME = 40132, "invalid username";
    /// `supply_bonus` cannot go from true to false.
    CANNOT_UNSET_SUPPLY_BONUS = 40135, "invalid not supply bonus, can not change card_id which supply bonus to be not supply";
    /// Stock would exceed the deposited codes.
    DEPOSIT_STOCK_EXCEEDS_CODES = 40136, "invalid use DepositCodeMode, make sure sku.quantity>DepositCode.quantity";
    /// The sub-merchant id is invalid.
    INVALID_SUB_MERCHANT_ID = 40139, "invalid sub merchant id";
    /// The sub-merchant is not approved.
    INVALID_SUB_MERCHANT_STATUS = 40140, "invalid sub merchant status";
    /// An image URL is not from the WeChat CDN upload.
    INVALID_IMAGE_URL = 40141, "invalid image url";
    /// The pay cell and the centre button exclude each other.
    PAY_CELL_CONFLICTS_WITH_CENTER = 40145, "invalid update! Can not both set PayCell and CenterCellInfo(include: center_title, center_sub_title, center_url).";
    /// The code is marked by another user.
    CODE_MARKED_BY_OTHER = 40146, "invalid openid! card may be marked by other user!";
    /// Redemption outside the allowed time.
    CONSUME_TIME_RESTRICTED = 40147, "invalid consume! Consume time overranging restricts.";
    /// `advanced_info.time_limit` is invalid.
    INVALID_USE_TIME_LIMIT = 40149, "invalid use time limit";
    /// A card field is invalid.
    INVALID_CARD_PARAMETERS = 40150, "invalid card parameters";
    /// Content failed the anti-spam filter.
    CARD_ANTISPAM = 40151, "invalid card info, text/pic hit antispam";
    /// The feature needs platform-generated codes.
    CUSTOM_CODE_NOT_ALLOWED = 40158, "invalid use_custom_code, need be false";
    /// The `wx.login` code was already exchanged.
    JS_CODE_USED = 40163, "code been used";
    /// The card's Mini Program is not linked to this account.
    UNLINKED_WEAPP_CARD = 40168, "unlinked weapp card";
    /// The openid does not own the card.
    NOT_CARD_USER = 40174, "not card user";
    /// No `access_token` query parameter.
    ACCESS_TOKEN_MISSING = 41001, "access_token missing";
    /// No `appid` parameter.
    APPID_MISSING = 41002, "appid missing";
    /// No `secret` parameter.
    APPSECRET_MISSING = 41004, "appsecret missing";
    /// No `js_code` parameter.
    CODE_MISSING = 41008, "missing code";
    /// A required field is absent.
    MISSING_REQUIRED_FIELDS = 41011, "missing required fields! please check document and request json!";
    /// `card_id` is required here.
    MISSING_CARD_ID = 41012, "missing card id";
    /// `code` is absent.
    MISSING_CODE = 41013, "missing code";
    /// `ticket_class` is absent.
    MISSING_TICKET_CLASS = 41014, "missing ticket_class";
    /// `show_time` is absent.
    MISSING_SHOW_TIME = 41015, "missing show_time";
    /// `screening_room` is absent.
    MISSING_SCREENING_ROOM = 41016, "missing screening_room";
    /// `seat_number` is absent.
    MISSING_SEAT_NUMBER = 41017, "missing seat_number";
    /// The access_token is past its `expires_in`.
    ACCESS_TOKEN_EXPIRED = 42001, "access_token expired";
    /// This API needs GET.
    REQUIRE_GET = 43001, "require GET method";
    /// This API needs POST.
    REQUIRE_POST = 43002, "require POST method";
    /// This API needs HTTPS.
    REQUIRE_HTTPS = 43003, "require https";
    /// No custom-code permission.
    CUSTOM_CODE_NEEDS_AUTHORIZE = 43009, "can not use custom code, need authorize";
    /// No stored-value permission.
    BALANCE_NEEDS_AUTHORIZE = 43010, "can not use balance, need authorize";
    /// No bonus permission.
    BONUS_NEEDS_AUTHORIZE = 43011, "can not use bonus, need authorize";
    /// Custom URL cells are not permitted.
    CUSTOM_URL_NEEDS_AUTHORIZE = 43012, "can not use custom url, need authorize";
    /// The operation needs the card to have stores.
    REQUIRE_LOCATION_ID = 43017, "require location id!";
    /// The code must be marked before it is consumed.
    CODE_NOT_MARKED = 43018, "code has no been mark!";
    /// The POST body is empty.
    EMPTY_POST_DATA = 44002, "empty post data";
    /// The daily quota for this API is used up.
    API_DAILY_QUOTA = 45009, "reach max api daily quota limit";
    /// Too many calls this minute.
    API_MINUTE_QUOTA = 45011, "api minute-quota reach limit";
    /// A string is over its length limit.
    OUT_OF_LENGTH_LIMIT = 45021, "some argument may be out of length limit! please check document and request json!";
    /// A bonus value is out of range.
    BONUS_OUT_OF_LIMIT = 45022, "bonus is out of limit";
    /// A balance value is out of range.
    BALANCE_OUT_OF_LIMIT = 45023, "balance is out of limit";
    /// Too many locations.
    POIID_COUNT_OUT_OF_LIMIT = 45025, "poiid count is out of limit";
    /// Too many QR codes.
    QRCODE_COUNT_OUT_OF_LIMIT = 45029, "qrcode count out of limit";
    /// This card cannot use this API.
    CARD_FUNCTION_NOT_SUPPORTED = 45030, "limit cardid, not support this function";
    /// The stock is exhausted.
    STOCK_OUT_OF_LIMIT = 45031, "stock is out of limit";
    /// The user already holds `get_limit` cards.
    GET_LIMIT_EXCEEDED = 45033, "user get card num is out of get_limit";
    /// Too many cards in one list.
    CARD_LIST_SIZE_OUT_OF_LIMIT = 45039, "card_list_size out of limit";
    /// The cumulative stock cap is reached.
    TOTAL_SKU_QUANTITY_LIMIT = 45041, "this card reach total sku quantity limit!";
    /// Only one of centre button, pay cell and self-consume cell.
    CELL_CONFLICT = 45046, "operate field conflict, CenterCell, PayCell, SelfConsumeCell conflict";
    /// The self-consume verify code is too long.
    VERIFY_CODE_TOO_LONG = 45053, "exceed consume verify code size";
    /// The self-consume verify code is too short.
    VERIFY_CODE_TOO_SHORT = 45054, "below consume verify code size";
    /// The self-consume verify code has bad characters.
    VERIFY_CODE_BAD_CHARSET = 45055, "the code is not in consume verify code charset";
    /// The user does not exist.
    USER_NOT_EXIST = 46004, "not existed user";
    /// The body is not valid JSON, or a field has the wrong JSON type.
    DATA_FORMAT_ERROR = 47001, "data format error";
    /// `\u` escapes are not accepted.
    UNICODE_ESCAPE_REJECTED = 47002, "data format error, do NOT use json unicode encode (\\uxxxx\\uxxxx), please use utf8 encoded text!";
    /// The account lacks the permission for this API.
    API_UNAUTHORIZED = 48001, "api unauthorized";
    /// The API is banned for this account.
    API_FORBIDDEN = 48004, "api forbidden for irregularities, view detail on mp.weixin.qq.com";
    /// The account is restricted.
    USER_LIMITED = 50002, "user limited";
    /// The card is expired.
    CARD_IS_EXPIRED = 71004, "card is expired";
    /// The API needs a MEMBER_CARD.
    NEED_MEMBER_CARD = 72003, "invalid card type, need member card";
    /// CASH `reduce_cost` is below 100 fen.
    INVALID_REDUCE_COST = 72007, "invalid reduce cost, can not less than 100";
    /// CASH `least_cost` must exceed `reduce_cost`.
    INVALID_LEAST_COST = 72008, "invalid least cost, most larger than reduce cost";
    /// `get_limit` is over 50.
    INVALID_GET_LIMIT = 72009, "invalid get limit, can not over 50";
    /// The activate_ticket is unknown or belongs to another app.
    INVALID_ACTIVATE_TICKET = 72011, "invalid activate_ticket.Maybe this ticket is not belong this AppId";
    /// The activate_ticket is past its lifetime.
    ACTIVATE_TICKET_EXPIRED = 72012, "activate_ticket has been expired";
    /// No member-card permission.
    UNAUTHORIZED_MEMBER_CARD = 72016, "unauthorized create member card";
    /// At most 5 cards in one list.
    CARD_LIST_SIZE_OVER_FIVE = 72019, "limit msg operation card list size, must <= 5";
    /// Redemptions exceed `use_limit`.
    USE_LIMIT_EXCEEDED = 72020, "limit consume in use limit";
    /// No GENERAL_CARD permission.
    UNAUTHORIZED_GENERAL_CARD = 72021, "unauthorized create general card";
    /// The card is in review and the user is not whitelisted.
    USER_NOT_WHITELISTED = 72022, "user unexpected, please add user to white list";
    /// The API needs one-tap activation (`wx_activate`).
    NEED_WX_ACTIVATE = 72026, "need set wx_activate true";
    /// The Mini Program in a cell is not bound to the account.
    WXA_APPID_NOT_BOUND = 73103, "invalid wxa appid in url_cell, wxa appid is need to bind biz appid";
    /// `code_type` is invalid.
    INVALID_CODE_TYPE = 73213, "invalid code type";
    /// The user is already a member.
    ALREADY_MEMBER = 73214, "the user is already a member";
}

/// The envelope of every error answer (and of success answers, with `errcode: 0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WxError {
    /// The code; clients branch on this alone.
    pub errcode: ErrCode,
    /// The wire message, optionally followed by a ` hint: [...]` explanation.
    pub errmsg: String,
}

impl WxError {
    /// An error with the table's wire message and no hint.
    #[must_use]
    pub fn new(errcode: ErrCode) -> Self {
        Self {
            errcode,
            errmsg: errcode.wire_message().unwrap_or("error").to_owned(),
        }
    }

    /// An error whose `errmsg` is the wire message followed by ` hint: [detail]`.
    ///
    /// Compat: errors.md §1 — real answers decorate the base string with `hint: [...]`, and
    /// clients never parse `errmsg`, so the hint is where wxcard explains what went wrong.
    #[must_use]
    pub fn with_hint(errcode: ErrCode, detail: &str) -> Self {
        let base = errcode.wire_message().unwrap_or("error");
        Self {
            errcode,
            errmsg: format!("{base} hint: [{detail}]"),
        }
    }
}

impl fmt::Display for WxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errcode {}: {}", self.errcode, self.errmsg)
    }
}

impl std::error::Error for WxError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_table_has_a_message_and_a_unique_number() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL_ERRCODES {
            assert!(code.wire_message().is_some(), "{code} has no message");
            assert!(seen.insert(code.0), "{code} is listed twice");
        }
        assert!(
            ALL_ERRCODES.windows(2).all(|pair| pair[0] < pair[1]),
            "table is not sorted"
        );
    }

    #[test]
    fn wire_messages_match_the_spec_strings_clients_see() {
        assert_eq!(
            ErrCode::INVALID_CREDENTIAL.wire_message(),
            Some("invalid credential, access_token is invalid or not latest")
        );
        assert_eq!(
            ErrCode::ACCESS_TOKEN_EXPIRED.wire_message(),
            Some("access_token expired")
        );
        assert_eq!(
            ErrCode::CODE_CONSUMED.wire_message(),
            Some("invalid code, this code has consumed.")
        );
        assert_eq!(ErrCode(12345).wire_message(), None);
    }

    #[test]
    fn a_hint_follows_the_wire_message() {
        let error = WxError::with_hint(ErrCode::ACCESS_TOKEN_MISSING, "add ?access_token=");

        assert_eq!(
            error.errmsg,
            "access_token missing hint: [add ?access_token=]"
        );
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"errcode":41001,"errmsg":"access_token missing hint: [add ?access_token=]"}"#
        );
    }
}
