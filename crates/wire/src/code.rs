//! Code endpoints (`spec/codes.md`): query, redeem, decrypt, change, invalidate, deposit, list.

use serde::{Deserialize, Serialize};

use crate::card::Empty;
use crate::endpoint::{Endpoint, Method};

/// `POST /card/code/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CodeGetRequest {
    /// The code.
    pub code: String,
    /// Needed for custom-code cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// `true` (the default): a code that cannot be consumed is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_consume: Option<bool>,
}

impl Endpoint for CodeGetRequest {
    const PATH: &'static str = "/card/code/get";
    const METHOD: Method = Method::Post;
    type Response = CodeGetResponse;
}

/// The card part of a code answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CodeCard {
    /// The card template.
    pub card_id: String,
    /// The code's window start (absent in consume answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_time: Option<i64>,
    /// The code's window end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
}

/// The success body of `/card/code/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CodeGetResponse {
    /// The card and the code's window.
    pub card: CodeCard,
    /// The holder's openid in the Service Account.
    pub openid: String,
    /// Whether consume would succeed now.
    pub can_consume: bool,
    /// `NORMAL`, `CONSUMED`, `EXPIRE`, ….
    pub user_card_status: String,
}

/// `POST /card/code/consume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsumeRequest {
    /// The code.
    pub code: String,
    /// Needed for custom-code cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// Echoed as `OuterStr` in `user_consume_card`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outer_str: Option<String>,
}

impl Endpoint for ConsumeRequest {
    const PATH: &'static str = "/card/code/consume";
    const METHOD: Method = Method::Post;
    type Response = ConsumeResponse;
}

/// The success body of `/card/code/consume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsumeResponse {
    /// The card.
    pub card: CodeCard,
    /// The holder's openid.
    pub openid: String,
}

/// `POST /card/code/decrypt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecryptRequest {
    /// The encrypted code (percent-encoded or not).
    pub encrypt_code: String,
}

impl Endpoint for DecryptRequest {
    const PATH: &'static str = "/card/code/decrypt";
    const METHOD: Method = Method::Post;
    type Response = DecryptResponse;
}

/// The success body of `/card/code/decrypt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecryptResponse {
    /// The real code.
    pub code: String,
}

/// `POST /card/code/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CodeUpdateRequest {
    /// The current code.
    pub code: String,
    /// The card (required: custom-code cards only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// The new code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_code: Option<String>,
    /// The new code as node's wechat-api spells it.
    ///
    /// Compat: clients.md §6 item 6 — wechat-api and co-wechat-api send `newcode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newcode: Option<String>,
}

impl Endpoint for CodeUpdateRequest {
    const PATH: &'static str = "/card/code/update";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/code/unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnavailableRequest {
    /// The code.
    pub code: String,
    /// Needed for custom-code cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// Why (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Endpoint for UnavailableRequest {
    const PATH: &'static str = "/card/code/unavailable";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/code/deposit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DepositRequest {
    /// A deposit-mode card.
    pub card_id: String,
    /// 1 to 100 codes.
    pub code: Vec<String>,
}

impl Endpoint for DepositRequest {
    const PATH: &'static str = "/card/code/deposit";
    const METHOD: Method = Method::Post;
    type Response = DepositResponse;
}

/// The success body of `/card/code/deposit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DepositResponse {
    /// Codes newly deposited.
    pub succ_code: Vec<String>,
    /// Codes deposited before.
    pub duplicate_code: Vec<String>,
    /// Codes that failed.
    pub fail_code: Vec<String>,
}

/// `POST /card/code/getdepositcount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetDepositCountRequest {
    /// A deposit-mode card.
    pub card_id: String,
}

impl Endpoint for GetDepositCountRequest {
    const PATH: &'static str = "/card/code/getdepositcount";
    const METHOD: Method = Method::Post;
    type Response = GetDepositCountResponse;
}

/// The success body of `/card/code/getdepositcount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetDepositCountResponse {
    /// Codes ever deposited.
    pub count: u64,
}

/// `POST /card/code/checkcode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckCodeRequest {
    /// A deposit-mode card.
    pub card_id: String,
    /// 1 to 100 codes.
    pub code: Vec<String>,
}

impl Endpoint for CheckCodeRequest {
    const PATH: &'static str = "/card/code/checkcode";
    const METHOD: Method = Method::Post;
    type Response = CheckCodeResponse;
}

/// The success body of `/card/code/checkcode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckCodeResponse {
    /// Deposited.
    pub exist_code: Vec<String>,
    /// Not deposited.
    pub not_exist_code: Vec<String>,
}

/// `POST /card/user/getcardlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetCardListRequest {
    /// The user's openid in the Service Account.
    pub openid: String,
    /// Only this card; all when absent or empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
}

impl Endpoint for GetCardListRequest {
    const PATH: &'static str = "/card/user/getcardlist";
    const METHOD: Method = Method::Post;
    type Response = GetCardListResponse;
}

/// One code of a user's card list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CardListItem {
    /// The code.
    pub code: String,
    /// The card.
    pub card_id: String,
}

/// The success body of `/card/user/getcardlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetCardListResponse {
    /// The codes the user holds.
    pub card_list: Vec<CardListItem>,
    /// Whether the user holds usable friends' coupons (a retired feature: always false).
    pub has_share_card: bool,
}

/// `POST /card/code/mark` (friends' coupons, legacy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MarkRequest {
    /// The code.
    pub code: String,
    /// Always required for this endpoint (41012 without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// The user the code is marked for.
    pub openid: String,
    /// `true` marks, `false` releases.
    pub is_mark: bool,
}

impl Endpoint for MarkRequest {
    const PATH: &'static str = "/card/code/mark";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/movieticket/updateuser`: `code`, `card_id`?, `ticket_class`, `show_time`,
/// `duration`, `screening_room`, `seat_number`. Kept as JSON: the platform stores the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct MovieTicketRequest(pub serde_json::Value);

impl Endpoint for MovieTicketRequest {
    const PATH: &'static str = "/card/movieticket/updateuser";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/boardingpass/checkin`: `code`, `card_id`?, `passenger_name`, `class`,
/// `etkt_bnr`, `seat`, `qrcode_data`, `is_cancel`, `gate`?, `boarding_time`?.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct BoardingPassRequest(pub serde_json::Value);

impl Endpoint for BoardingPassRequest {
    const PATH: &'static str = "/card/boardingpass/checkin";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/meetingticket/updateuser`: `code`, `card_id`?, `begin_time`, `end_time`,
/// `zone`, `entrance`, `seat_number`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct MeetingTicketRequest(pub serde_json::Value);

impl Endpoint for MeetingTicketRequest {
    const PATH: &'static str = "/card/meetingticket/updateuser";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}
