//! The admin and simulator JSON shapes of wxcard itself (DESIGN §8). These are not WeChat's,
//! but scripts and users' CI depend on them, so they are a compatibility promise too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /admin/v1/open-platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOpenPlatformRequest {
    /// A display name.
    pub name: String,
}

/// The answer to `POST /admin/v1/open-platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateOpenPlatformResponse {
    /// The new open platform account's id.
    pub id: String,
}

/// What kind of app an appid names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// A Service Account (公众号): owns cards, receives pushes.
    ServiceAccount,
    /// A Mini Program: calls `wx.addCard` and friends.
    MiniProgram,
}

/// `POST /admin/v1/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAppRequest {
    /// Service Account or Mini Program.
    pub kind: AppKind,
    /// A display name.
    pub name: String,
    /// The open platform account the app is bound to, which gives its users a unionid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_platform_id: Option<String>,
}

/// An app as the admin API shows it (the answer to `POST /admin/v1/apps` and `GET` on one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppView {
    /// `wx` + 16 hex digits.
    pub appid: String,
    /// 32 hex digits.
    pub secret: String,
    /// `gh_` + 12 hex digits.
    pub original_id: String,
    /// Service Account or Mini Program.
    pub kind: AppKind,
    /// The display name.
    pub name: String,
    /// A Mini Program's `user_name` (`gh_…@app`), used by card jump fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The bound open platform account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_platform_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A virtual user's WeChat client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    /// `ios` or `android`.
    pub os: String,
    /// A dotted version, `8.0.50`.
    pub version: String,
}

/// The profile that pre-fills the member card activation form. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Mobile number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Sex, as the form shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Real name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Birthday, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Identity card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idcard: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Detailed address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Education.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education_background: Option<String>,
    /// Industry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// Income.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income: Option<String>,
    /// Hobbies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub habit: Option<String>,
}

/// `POST /admin/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// The name shown in the simulator.
    pub nickname: String,
    /// Data that pre-fills forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The WeChat client; defaults to a current iOS client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    /// The Mini Program base library version; defaults to a current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_library: Option<String>,
}

/// The answer to `POST /admin/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateUserResponse {
    /// The new user's id.
    pub user_id: String,
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserView {
    /// The user's id.
    pub user_id: String,
    /// The name shown in the simulator.
    pub nickname: String,
    /// Data that pre-fills forms.
    pub profile: Profile,
    /// The WeChat client.
    pub client: ClientInfo,
    /// The Mini Program base library version.
    pub base_library: String,
    /// The user's openid in every app, by appid.
    pub openids: BTreeMap<String, String>,
    /// The user's unionid in every open platform account, by its id.
    pub unionids: BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// `POST /admin/v1/clock/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClockAdvanceRequest {
    /// How far to move the platform's clock forward (0 to 10 years).
    pub seconds: i64,
}

/// The platform clock (the answer to `POST /admin/v1/clock/advance` and `GET /admin/v1/clock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClockView {
    /// The platform's "now", in Unix seconds.
    pub now: i64,
    /// How far it is ahead of the machine's clock, in seconds.
    pub offset: i64,
}

/// `POST /sim/v1/login`: `wx.login` inside a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SimLoginRequest {
    /// The acting user.
    pub user_id: String,
    /// The Mini Program the user is in.
    pub appid: String,
}

/// The answer to `POST /sim/v1/login`: the `wx.login` success callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimLoginResponse {
    /// `login:ok`.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// The code for `/sns/jscode2session`, valid for 5 minutes, once.
    pub code: String,
}

/// `POST /admin/v1/cards/{card_id}/review`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Approve (true) or reject (false).
    pub approve: bool,
    /// Why it was rejected (shown as `RefuseReason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer to a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewResponse {
    /// The card.
    pub card_id: String,
    /// Its status now.
    pub status: String,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refuse_reason: Option<String>,
}

/// `GET /admin/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventList {
    /// Newest first.
    pub events: Vec<EventView>,
}

/// One outbox event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventView {
    /// Stable across redeliveries.
    pub id: i64,
    /// The Service Account whose server receives it.
    pub appid: String,
    /// WeChat's event name.
    pub event: String,
    /// `pending`, `retrying`, `delivered` or `dead`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// The event's fields.
    pub payload: serde_json::Value,
}

/// One card of `wx.addCard`'s `cardList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AddCardItem {
    /// The card.
    #[serde(rename = "cardId")]
    pub card_id: String,
    /// The serialized cardExt JSON.
    #[serde(rename = "cardExt")]
    pub card_ext: String,
}

/// `POST /sim/v1/addCard`: `wx.addCard` in a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimAddCardRequest {
    /// The acting user.
    pub user_id: String,
    /// The Mini Program the user is in.
    pub appid: String,
    /// The cards to add.
    #[serde(rename = "cardList")]
    pub card_list: Vec<AddCardItem>,
}

/// One card of the `wx.addCard` success callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AddedCard {
    /// The card.
    #[serde(rename = "cardId")]
    pub card_id: String,
    /// The cardExt echoed.
    #[serde(rename = "cardExt")]
    pub card_ext: String,
    /// The **encrypted** code: decrypt it with `/card/code/decrypt`.
    pub code: String,
    /// Whether this card was added.
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
}

/// The `wx.addCard` success callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimAddCardResponse {
    /// `addCard:ok`.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// The cards added.
    #[serde(rename = "cardList")]
    pub card_list: Vec<AddedCard>,
}

/// One card of `wx.openCard`'s `cardList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OpenCardItem {
    /// The card.
    #[serde(rename = "cardId")]
    pub card_id: String,
    /// The **real** code.
    pub code: String,
}

/// `POST /sim/v1/openCard`: `wx.openCard` in a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimOpenCardRequest {
    /// The acting user.
    pub user_id: String,
    /// The Mini Program the user is in.
    pub appid: String,
    /// The cards to open.
    #[serde(rename = "cardList")]
    pub card_list: Vec<OpenCardItem>,
}

/// `PUT /admin/v1/apps/{appid}/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetPushRequest {
    /// The merchant server's URL.
    pub url: String,
    /// The Token that signs requests (1 to 32 letters or digits).
    pub token: String,
    /// The 43-character EncodingAESKey (safe and compatible modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_aes_key: Option<String>,
    /// `plain`, `compatible` or `safe`.
    pub mode: String,
}

/// `POST /sim/v1/navigateToMiniProgram`: `wx.navigateToMiniProgram` from a Mini Program; with
/// the card-opening component's appId it opens a component session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimNavigateRequest {
    /// The acting user.
    pub user_id: String,
    /// The Mini Program the user is in.
    pub appid: String,
    /// The Mini Program to open (`wxeb490c6f9b154ef9` for the card-opening component).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// `encrypt_card_id`, `outer_str` and `biz` from the geturl link, url-decoded.
    #[serde(rename = "extraData", default)]
    pub extra_data: serde_json::Value,
}

/// The `navigateToMiniProgram` success callback, with the component session it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimNavigateResponse {
    /// `navigateToMiniProgram:ok`.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// The component session: read its form, then submit or cancel it.
    pub session: String,
}

/// One field of the card-opening component's form, with the value it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComponentField {
    /// `common` (WeChat-formatted), `custom` (free text) or `rich` (a choice).
    pub kind: String,
    /// `USER_FORM_INFO_FLAG_…` for common fields, the label otherwise.
    pub name: String,
    /// The pre-filled value (radio and select choices too).
    pub value: String,
    /// The pre-ticked choices of a check-box field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_list: Vec<String>,
    /// `FORM_FIELD_RADIO`, `FORM_FIELD_SELECT` or `FORM_FIELD_CHECK_BOX` (rich fields).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
    /// The choices (rich fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Where the pre-filled value came from: `earlier_submission`, `profile` or `none`.
    pub prefilled_from: String,
}

/// The required or optional half of the component's form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComponentForm {
    /// Whether the user may edit these fields after activation.
    pub can_modify: bool,
    /// The fields in the order the form lists them.
    pub fields: Vec<ComponentField>,
}

/// Whether the user is already known to the merchant (DESIGN.md §3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComponentMember {
    /// The user holds a code of this card.
    pub holds_card: bool,
    /// That code, when held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// That code is activated.
    pub active: bool,
    /// The merchant has seen this user's unionid: a card of the Service Account was pushed
    /// with it, or the user logged in to a Mini Program on the same open platform account.
    pub unionid_known_to_merchant: bool,
    /// `new` or `existing`.
    pub kind: String,
}

/// `GET /sim/v1/component/{session}`: what the card-opening component shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComponentView {
    /// The session.
    pub session: String,
    /// `open`, `submitted` or `cancelled`.
    pub status: String,
    /// `jump` (the merchant activates) or `non_jump` (WeChat activates on submit).
    pub variant: String,
    /// The card: `card_id`, `title`, `brand_name`, `logo_url`, `color`.
    pub card: serde_json::Value,
    /// The membership terms link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_statement: Option<crate::member::FormLink>,
    /// The link for existing members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_old_card: Option<crate::member::FormLink>,
    /// Fields the user must fill.
    pub required_form: ComponentForm,
    /// Fields the user may fill.
    pub optional_form: ComponentForm,
    /// New or existing member.
    pub member: ComponentMember,
}

/// `referrerInfo` of the Mini Program's `App.onShow` after the component returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReferrerInfo {
    /// `wxeb490c6f9b154ef9`.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Present only when a jump-type submission returns data.
    #[serde(rename = "extraData", default, skip_serializing_if = "Option::is_none")]
    pub extra_data: Option<serde_json::Value>,
}

/// The `App.onShow` options the Mini Program gets back from the component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OnShowOptions {
    /// 1038: returned from another Mini Program.
    pub scene: u32,
    /// Who returned, with what.
    #[serde(rename = "referrerInfo")]
    pub referrer_info: ReferrerInfo,
    /// Notes where the simulated client differs from what a merchant may expect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<serde_json::Value>,
}

/// `POST /sim/v1/tap`: the user taps an entry of a card in the card package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimTapRequest {
    /// The acting user.
    pub user_id: String,
    /// The card.
    pub card_id: String,
    /// The real code the user holds.
    pub code: String,
    /// `center`, `custom_url`, `promotion_url`, `activate`, `custom_field1`…`3`,
    /// `custom_cell1`…`3`, `bonus` or `balance`.
    pub entry: String,
}

/// Where a tap leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimTapResponse {
    /// `mini_program` or `h5`.
    pub kind: String,
    /// The Mini Program (`gh_…@app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Its appid, when wxcard knows the Mini Program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The page path (without a leading `/` or query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The page's query: the path's own, then `card_id`, `encrypt_code`, `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<serde_json::Map<String, serde_json::Value>>,
    /// The scene the Mini Program sees (1029, a card's detail page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<u32>,
    /// The page to open, with its query percent-encoded.
    pub url: String,
}

/// `GET /sim/v1/users/{user_id}`: what a Mini Program page may know of its user (the `wx`
/// shim's version gates); no openids, no profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimUserView {
    /// The user.
    pub user_id: String,
    /// The WeChat client.
    pub client: ClientInfo,
    /// The Mini Program base library version.
    pub base_library: String,
}

/// `GET /admin/v1/events/{id}`: one event with every delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventDetail {
    /// The outbox id.
    pub id: i64,
    /// The Service Account it is pushed to.
    pub appid: String,
    /// `user_get_card`, `user_consume_card`, ...
    pub event: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Unix seconds (platform clock).
    pub created_at: i64,
    /// When the next attempt is due, Unix seconds.
    pub next_attempt_at: i64,
    /// The event's fields.
    pub payload: serde_json::Value,
    /// Every attempt, oldest first.
    pub deliveries: Vec<DeliveryView>,
    /// The XML the event is pushed as, before safe-mode encryption.
    pub xml: Option<String>,
}

/// One delivery attempt of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeliveryView {
    /// 1 for the first try.
    pub attempt: i64,
    /// Unix seconds (platform clock).
    pub at: i64,
    /// Where it was sent.
    pub url: String,
    /// The merchant server's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// The start of its answer.
    pub answer: Option<String>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// `POST /admin/v1/events/{id}/redeliver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Redelivered {
    /// The event.
    pub id: i64,
    /// `pending` again.
    pub status: String,
}

/// `GET /admin/v1/requests`: the last WeChat API calls answered, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequestList {
    /// At most 100.
    pub requests: Vec<RequestView>,
}

/// One WeChat API call (never its query string, which carries the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequestView {
    /// When it was answered, Unix milliseconds (machine clock).
    pub at_ms: u64,
    /// `GET` or `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The HTTP status.
    pub status: u16,
    /// The errcode answered (0 for success).
    pub errcode: i64,
    /// How long it took, in microseconds.
    pub micros: u64,
}

/// `PUT /admin/v1/apps/{appid}/push`: whether the URL answered the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PushSet {
    /// True when the URL is stored.
    pub ok: bool,
    /// What happened, in words.
    pub detail: String,
}

/// `GET /sim/v1/users/{user_id}/cards`: the card package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CardPackage {
    /// Every code the user holds.
    pub cards: Vec<PackagedCardView>,
}

/// One card in the card package, with what its face shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PackagedCardView {
    /// The card.
    pub card_id: String,
    /// The code (the real one).
    pub code: String,
    /// `GENERAL_COUPON`, `MEMBER_CARD`, ...
    pub card_type: String,
    /// From `base_info`.
    pub title: Option<String>,
    /// From `base_info`.
    pub brand_name: Option<String>,
    /// From `base_info` (`Color010`).
    pub color: Option<String>,
    /// From `base_info` (`CODE_TYPE_QRCODE`).
    pub code_type: Option<String>,
    /// `NORMAL`, `CONSUMED`, `EXPIRE`, ...
    pub status: String,
    /// Unix seconds.
    pub begin_time: i64,
    /// Unix seconds.
    pub end_time: i64,
    /// The user's openid under the card's Service Account.
    pub openid: String,
    /// The details a ticket API last set on the code, or null.
    pub ticket: Option<serde_json::Value>,
    /// From `base_info`.
    pub logo_url: Option<String>,
    /// For member cards.
    pub member: Option<PackagedMember>,
}

/// What a member card's face shows of its member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PackagedMember {
    /// Activated.
    pub has_active: bool,
    /// The membership number.
    pub membership_number: String,
    /// Points.
    pub bonus: i64,
    /// Balance, in fen.
    pub balance: i64,
}

/// `POST /sim/v1/users/{user_id}/cards/{card_id}/{code}/gift`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GiftStarted {
    /// The gift, for `/sim/v1/gifts/{gift_id}/accept`.
    pub gift_id: String,
}

/// `POST /sim/v1/gifts/{gift_id}/accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AcceptGiftRequest {
    /// The friend who accepts.
    pub user_id: String,
}

/// The card a friend received: a new code of the same card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GiftAccepted {
    /// The card.
    pub card_id: String,
    /// The receiver's code.
    pub code: String,
}

/// A counter action's body (`…/self-consume` or `…/pay`); what each needs is in docs/compat.md.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CounterRequest {
    /// Self-consume: the code the cell asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_code: Option<String>,
    /// Self-consume: the amount the cell asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark_amount: Option<String>,
    /// Pay: the amount paid, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<i64>,
    /// Pay: the amount before discount, in fen (`fee` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_fee: Option<i64>,
}

/// A simulated JSAPI call that succeeded with nothing more to say (`openCard:ok`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JsapiOk {
    /// `openCard:ok`.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
}
