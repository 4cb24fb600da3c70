//! The admin and simulator JSON shapes of wxcard itself (DESIGN §8). These are not WeChat's,
//! but scripts and users' CI depend on them, so they are a compatibility promise too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /admin/v1/open-platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOpenPlatformRequest {
    /// A display name.
    pub name: String,
}

/// The answer to `POST /admin/v1/open-platforms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOpenPlatformResponse {
    /// The new open platform account's id.
    pub id: String,
}

/// What kind of app an appid names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// A Service Account (公众号): owns cards, receives pushes.
    ServiceAccount,
    /// A Mini Program: calls `wx.addCard` and friends.
    MiniProgram,
}

/// `POST /admin/v1/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    /// `ios` or `android`.
    pub os: String,
    /// A dotted version, `8.0.50`.
    pub version: String,
}

/// The profile that pre-fills the member card activation form. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct CreateUserResponse {
    /// The new user's id.
    pub user_id: String,
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct ClockAdvanceRequest {
    /// How far to move the platform's clock forward (0 to 10 years).
    pub seconds: i64,
}

/// The platform clock (the answer to `POST /admin/v1/clock/advance` and `GET /admin/v1/clock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// The platform's "now", in Unix seconds.
    pub now: i64,
    /// How far it is ahead of the machine's clock, in seconds.
    pub offset: i64,
}

/// `POST /sim/v1/login`: `wx.login` inside a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimLoginRequest {
    /// The acting user.
    pub user_id: String,
    /// The Mini Program the user is in.
    pub appid: String,
}

/// The answer to `POST /sim/v1/login`: the `wx.login` success callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimLoginResponse {
    /// `login:ok`.
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    /// The code for `/sns/jscode2session`, valid for 5 minutes, once.
    pub code: String,
}

/// `POST /admin/v1/cards/{card_id}/review`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct EventList {
    /// Newest first.
    pub events: Vec<EventView>,
}

/// One outbox event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct OpenCardItem {
    /// The card.
    #[serde(rename = "cardId")]
    pub card_id: String,
    /// The **real** code.
    pub code: String,
}

/// `POST /sim/v1/openCard`: `wx.openCard` in a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
