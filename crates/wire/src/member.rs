//! Member-card endpoints (`spec/membercard.md` §2): the activation form, the card-opening
//! component's link, submitted form data, activation, member details and member updates.

use serde::{Deserialize, Serialize};

use crate::card::Empty;
use crate::endpoint::{Endpoint, Method};

/// A `{name, url}` link on the activation form (terms, binding an old card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FormLink {
    /// The link text.
    pub name: String,
    /// Where it leads.
    pub url: String,
}

/// A choice field of the activation form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RichField {
    /// `FORM_FIELD_RADIO`, `FORM_FIELD_SELECT` or `FORM_FIELD_CHECK_BOX`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// The label.
    pub name: String,
    /// The choices.
    #[serde(default)]
    pub values: Vec<String>,
}

/// The required or the optional half of an activation form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivateForm {
    /// Whether the user may edit these fields after activation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_modify: Option<bool>,
    /// WeChat-formatted fields (`USER_FORM_INFO_FLAG_MOBILE`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub common_field_id_list: Vec<String>,
    /// Free-text fields, by label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_field_list: Vec<String>,
    /// Choice fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rich_field_list: Vec<RichField>,
}

/// `POST /card/membercard/activateuserform/set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivateUserFormRequest {
    /// The member card.
    pub card_id: String,
    /// Link to the membership terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_statement: Option<FormLink>,
    /// Link for existing members to bind an old card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_old_card: Option<FormLink>,
    /// Fields the user must fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_form: Option<ActivateForm>,
    /// Fields the user may fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_form: Option<ActivateForm>,
}

impl Endpoint for ActivateUserFormRequest {
    const PATH: &'static str = "/card/membercard/activateuserform/set";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/membercard/activate/geturl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetActivateUrlRequest {
    /// The member card.
    pub card_id: String,
    /// Channel tag, echoed as `OuterStr` in `user_get_card` (wechatpy sends `null`).
    #[serde(default)]
    pub outer_str: Option<String>,
}

impl Endpoint for GetActivateUrlRequest {
    const PATH: &'static str = "/card/membercard/activate/geturl";
    const METHOD: Method = Method::Post;
    type Response = GetActivateUrlResponse;
}

/// The success body of `/card/membercard/activate/geturl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GetActivateUrlResponse {
    /// The card-opening link; its query carries `encrypt_card_id`, `outer_str` and `biz`.
    pub url: String,
}

/// One submitted WeChat-formatted field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CommonFieldValue {
    /// `USER_FORM_INFO_FLAG_…`.
    pub name: String,
    /// What the user entered.
    #[serde(default)]
    pub value: String,
}

/// One submitted free-text or choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CustomFieldValue {
    /// The label.
    pub name: String,
    /// What the user entered or chose (radio and select).
    #[serde(default)]
    pub value: String,
    /// What the user ticked (check boxes); empty otherwise.
    #[serde(default)]
    pub value_list: Vec<String>,
}

/// Form data as a user submitted it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserInfo {
    /// WeChat-formatted fields.
    #[serde(default)]
    pub common_field_list: Vec<CommonFieldValue>,
    /// Free-text and choice fields.
    #[serde(default)]
    pub custom_field_list: Vec<CustomFieldValue>,
}

/// `POST /card/membercard/activatetempinfo/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivateTempInfoRequest {
    /// From the component's `extraData` (or the jump URL, percent-decoded).
    pub activate_ticket: String,
}

impl Endpoint for ActivateTempInfoRequest {
    const PATH: &'static str = "/card/membercard/activatetempinfo/get";
    const METHOD: Method = Method::Post;
    type Response = ActivateTempInfoResponse;
}

/// The success body of `/card/membercard/activatetempinfo/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivateTempInfoResponse {
    /// What the user submitted.
    pub info: UserInfo,
}

/// `POST /card/membercard/activate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivateRequest {
    /// The member number shown on the card (≤ 20 bytes).
    pub membership_number: String,
    /// The real code (≤ 20 bytes).
    pub code: String,
    /// Needed for custom-code cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// This member's card face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_pic_url: Option<String>,
    /// Unix seconds the membership starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activate_begin_time: Option<i64>,
    /// Unix seconds the membership ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activate_end_time: Option<i64>,
    /// Initial bonus points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_bonus: Option<i64>,
    /// Why the initial points were given (≤ 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_bonus_record: Option<String>,
    /// Initial balance, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_balance: Option<i64>,
    /// Initial value of header slot 1 (≤ 12 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_custom_field_value1: Option<String>,
    /// Slot 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_custom_field_value2: Option<String>,
    /// Slot 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_custom_field_value3: Option<String>,
}

impl Endpoint for ActivateRequest {
    const PATH: &'static str = "/card/membercard/activate";
    const METHOD: Method = Method::Post;
    type Response = Empty;
}

/// `POST /card/membercard/userinfo/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberInfoRequest {
    /// The member card.
    pub card_id: String,
    /// The real code.
    pub code: String,
}

impl Endpoint for MemberInfoRequest {
    const PATH: &'static str = "/card/membercard/userinfo/get";
    const METHOD: Method = Method::Post;
    type Response = MemberInfoResponse;
}

/// The success body of `/card/membercard/userinfo/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberInfoResponse {
    /// The holder's openid in the card's Service Account.
    pub openid: String,
    /// The holder's nickname.
    pub nickname: String,
    /// Set by activation.
    pub membership_number: String,
    /// Current points.
    pub bonus: i64,
    /// Current balance, in fen.
    pub balance: i64,
    /// `MALE`, `FEMALE` or empty.
    pub sex: String,
    /// What the user submitted in a one-tap (non-jump) activation.
    pub user_info: UserInfo,
    /// `NORMAL`, `EXPIRE`, ….
    pub user_card_status: String,
    /// Whether the card is activated.
    pub has_active: bool,
}

/// Which change notifications `/card/membercard/updateuser` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NotifyOptional {
    /// On a bonus change (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_notify_bonus: Option<bool>,
    /// On a balance change (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_notify_balance: Option<bool>,
    /// On a change of slot 1 (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_notify_custom_field1: Option<bool>,
    /// Slot 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_notify_custom_field2: Option<bool>,
    /// Slot 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_notify_custom_field3: Option<bool>,
}

/// `POST /card/membercard/updateuser`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpdateMemberRequest {
    /// The real code.
    pub code: String,
    /// The member card.
    pub card_id: String,
    /// New card face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_pic_url: Option<String>,
    /// New total points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<i64>,
    /// Points delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_bonus: Option<i64>,
    /// Why the points changed (≤ 42 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_bonus: Option<String>,
    /// New total balance, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
    /// Balance delta, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_balance: Option<i64>,
    /// Why the balance changed (≤ 42 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_balance: Option<String>,
    /// New value of slot 1 (≤ 12 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_value1: Option<String>,
    /// Slot 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_value2: Option<String>,
    /// Slot 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_value3: Option<String>,
    /// Notification switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_optional: Option<NotifyOptional>,
}

impl Endpoint for UpdateMemberRequest {
    const PATH: &'static str = "/card/membercard/updateuser";
    const METHOD: Method = Method::Post;
    type Response = UpdateMemberResponse;
}

/// The success body of `/card/membercard/updateuser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpdateMemberResponse {
    /// Points after the update.
    pub result_bonus: i64,
    /// Balance after the update, in fen.
    pub result_balance: i64,
    /// The holder's openid.
    pub openid: String,
}
