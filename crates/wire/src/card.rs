//! Card template endpoints (`spec/cards.md`). Only the ones built so far have types here.

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Method};

/// `GET /card/getcolors`: the colour palette cards may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetColorsRequest {}

impl Endpoint for GetColorsRequest {
    const PATH: &'static str = "/card/getcolors";
    const METHOD: Method = Method::Get;
    type Response = GetColorsResponse;
}

/// The success body of `/card/getcolors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetColorsResponse {
    /// Every colour, by name and hex value.
    pub colors: Vec<Color>,
}

/// One palette entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Color {
    /// `Color010` … `Color102`.
    pub name: String,
    /// `#63b359` and so on.
    pub value: String,
}

/// The palette, by name and hex value (`spec/cards.md`, colour table; wechatpy and WxJava agree).
pub const PALETTE: &[(&str, &str)] = &[
    ("Color010", "#63b359"),
    ("Color020", "#2c9f67"),
    ("Color030", "#509fc9"),
    ("Color040", "#5885cf"),
    ("Color050", "#9062c0"),
    ("Color060", "#d09a45"),
    ("Color070", "#e4b138"),
    ("Color080", "#ee903c"),
    ("Color081", "#f08500"),
    ("Color082", "#a9d92d"),
    ("Color090", "#dd6549"),
    ("Color100", "#cc463d"),
    ("Color101", "#cf3e36"),
    ("Color102", "#5E6671"),
];

/// `POST /card/create`. The body is the card as WeChat documents it
/// (`{"card": {"card_type": "CASH", "cash": {...}}}`); it is kept as JSON because its shape
/// depends on the card type, and the platform checks every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct CreateCardRequest(pub serde_json::Value);

impl Endpoint for CreateCardRequest {
    const PATH: &'static str = "/card/create";
    const METHOD: Method = Method::Post;
    type Response = CreateCardResponse;
}

/// The success body of `/card/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateCardResponse {
    /// The new card's id (28 characters).
    pub card_id: String,
}

/// `POST /card/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetCardRequest {
    /// The card.
    pub card_id: String,
}

impl Endpoint for GetCardRequest {
    const PATH: &'static str = "/card/get";
    const METHOD: Method = Method::Post;
    type Response = GetCardResponse;
}

/// The success body of `/card/get`: the card as created, with the server's fields in
/// `base_info` (`id`, `status`, `sku.total_quantity`, `create_time`, `update_time`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetCardResponse {
    /// `{"card_type": "CASH", "cash": {...}}`.
    pub card: serde_json::Value,
}

/// A status filter, which some SDKs send as one string instead of a list.
///
/// Compat: cards.md §5 — easywechat sends a single string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum StatusList {
    /// `"CARD_STATUS_VERIFY_OK"`.
    One(String),
    /// `["CARD_STATUS_VERIFY_OK", "CARD_STATUS_DISPATCH"]`.
    Many(Vec<String>),
}

/// `POST /card/batchget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BatchGetRequest {
    /// 0-based index of the first card.
    pub offset: u64,
    /// 1 to 50.
    pub count: u64,
    /// Only cards in these states; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list: Option<StatusList>,
}

impl Endpoint for BatchGetRequest {
    const PATH: &'static str = "/card/batchget";
    const METHOD: Method = Method::Post;
    type Response = BatchGetResponse;
}

/// The success body of `/card/batchget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BatchGetResponse {
    /// This page's card ids, oldest first.
    pub card_id_list: Vec<String>,
    /// How many cards match the filter in all.
    pub total_num: u64,
}

/// `POST /card/update`: `card_id` plus an object named after the card type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct UpdateCardRequest(pub serde_json::Value);

impl Endpoint for UpdateCardRequest {
    const PATH: &'static str = "/card/update";
    const METHOD: Method = Method::Post;
    type Response = UpdateCardResponse;
}

/// The success body of `/card/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpdateCardResponse {
    /// Whether the change sent the card back to review.
    pub send_check: bool,
}

/// `POST /card/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeleteCardRequest {
    /// The card.
    pub card_id: String,
}

impl Endpoint for DeleteCardRequest {
    const PATH: &'static str = "/card/delete";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// A success body with nothing but `errcode` and `errmsg`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Empty {}

/// `POST /card/modifystock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModifyStockRequest {
    /// The card.
    pub card_id: String,
    /// Stock to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increase_stock_value: Option<i64>,
    /// Stock to remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_stock_value: Option<i64>,
}

impl Endpoint for ModifyStockRequest {
    const PATH: &'static str = "/card/modifystock";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/testwhitelist/set`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestWhitelistRequest {
    /// Openids (of the Service Account) who may claim cards in review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<Vec<String>>,
    /// WeChat IDs who may claim cards in review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Vec<String>>,
}

impl Endpoint for TestWhitelistRequest {
    const PATH: &'static str = "/card/testwhitelist/set";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/qrcode/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QrCodeCreateRequest {
    /// `QR_CARD` or `QR_MULTIPLE_CARD`.
    pub action_name: String,
    /// 60 to 1800; absent means 365 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_seconds: Option<i64>,
    /// `{"card": {...}}` or `{"multiple_card": {"card_list": [...]}}`.
    pub action_info: serde_json::Value,
}

impl Endpoint for QrCodeCreateRequest {
    const PATH: &'static str = "/card/qrcode/create";
    const METHOD: Method = Method::Post;
    type Response = QrCodeCreateResponse;
}

/// The success body of `/card/qrcode/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QrCodeCreateResponse {
    /// Exchanged for the image at `show_qrcode_url`.
    pub ticket: String,
    /// Seconds the QR code lasts.
    pub expire_seconds: i64,
    /// What the QR code encodes.
    pub url: String,
    /// The image.
    pub show_qrcode_url: String,
}

/// `POST /card/landingpage/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LandingPageCreateRequest {
    /// Banner image URL.
    pub banner: String,
    /// Page title.
    ///
    /// Compat: cards.md §11 — the doc table says `title`, its example and the SDKs `page_title`.
    #[serde(alias = "title")]
    pub page_title: String,
    /// Whether the page may be shared.
    pub can_share: bool,
    /// `SCENE_NEAR_BY` and the rest.
    pub scene: String,
    /// `[{card_id, thumb_url}]`.
    pub card_list: serde_json::Value,
}

impl Endpoint for LandingPageCreateRequest {
    const PATH: &'static str = "/card/landingpage/create";
    const METHOD: Method = Method::Post;
    type Response = LandingPageCreateResponse;
}

/// The success body of `/card/landingpage/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LandingPageCreateResponse {
    /// The page.
    pub url: String,
    /// Its number.
    pub page_id: i64,
}

/// `POST /card/paycell/set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PayCellRequest {
    /// The card.
    pub card_id: String,
    /// On or off.
    pub is_open: bool,
}

impl Endpoint for PayCellRequest {
    const PATH: &'static str = "/card/paycell/set";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/selfconsumecell/set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SelfConsumeCellRequest {
    /// The card.
    pub card_id: String,
    /// On or off.
    pub is_open: bool,
    /// The user types a verify code when redeeming (the field's name is WeChat's spelling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_verify_cod: Option<bool>,
    /// The user notes the amount when redeeming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_remark_amount: Option<bool>,
}

impl Endpoint for SelfConsumeCellRequest {
    const PATH: &'static str = "/card/selfconsumecell/set";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}
