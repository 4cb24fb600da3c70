//! Tokens, tickets and the Mini Program login exchange (`spec/auth.md`).

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Method};

/// `GET /cgi-bin/token`: a global access_token for an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenRequest {
    /// Must be the literal `client_credential`.
    pub grant_type: String,
    /// The app's AppID.
    pub appid: String,
    /// The app's AppSecret.
    pub secret: String,
}

impl Endpoint for TokenRequest {
    const PATH: &'static str = "/cgi-bin/token";
    const METHOD: Method = Method::Get;
    const NEEDS_TOKEN: bool = false;
    type Response = TokenResponse;
}

/// The success body of `/cgi-bin/token` and `/cgi-bin/stable_token`.
///
/// Compat: auth.md §1 — this success body carries no `errcode`/`errmsg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenResponse {
    /// The opaque token.
    pub access_token: String,
    /// Lifetime in seconds (7200).
    pub expires_in: i64,
}

/// `POST /cgi-bin/stable_token`: a token that does not replace the one from `/cgi-bin/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StableTokenRequest {
    /// Must be the literal `client_credential`.
    pub grant_type: String,
    /// The app's AppID.
    pub appid: String,
    /// The app's AppSecret.
    pub secret: String,
    /// Issue a new stable token even when the current one is still valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_refresh: Option<bool>,
}

impl Endpoint for StableTokenRequest {
    const PATH: &'static str = "/cgi-bin/stable_token";
    const METHOD: Method = Method::Post;
    const NEEDS_TOKEN: bool = false;
    type Response = TokenResponse;
}

/// `GET /cgi-bin/ticket/getticket?type=wx_card|jsapi`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TicketRequest {
    /// `wx_card` (card signatures) or `jsapi` (`wx.config`).
    #[serde(rename = "type")]
    pub ticket_type: String,
}

impl Endpoint for TicketRequest {
    const PATH: &'static str = "/cgi-bin/ticket/getticket";
    const METHOD: Method = Method::Get;
    type Response = TicketResponse;
}

/// The success body of `/cgi-bin/ticket/getticket` (after the `errcode`/`errmsg` envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TicketResponse {
    /// The opaque ticket.
    pub ticket: String,
    /// Seconds the ticket has left.
    pub expires_in: i64,
}

/// `GET /sns/jscode2session`: turns a `wx.login` code into the Mini Program openid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JsCode2SessionRequest {
    /// The Mini Program's AppID.
    pub appid: String,
    /// The Mini Program's AppSecret.
    pub secret: String,
    /// The code `wx.login` returned.
    pub js_code: String,
    /// Must be the literal `authorization_code`.
    pub grant_type: String,
}

impl Endpoint for JsCode2SessionRequest {
    const PATH: &'static str = "/sns/jscode2session";
    const METHOD: Method = Method::Get;
    const NEEDS_TOKEN: bool = false;
    type Response = JsCode2SessionResponse;
}

/// The success body of `/sns/jscode2session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JsCode2SessionResponse {
    /// The user's openid in this Mini Program.
    pub openid: String,
    /// The session key (base64 of 16 bytes).
    pub session_key: String,
    /// Present when the Mini Program is bound to an open platform account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}
