//! The platform's records: what the domain reasons about and the store persists.
//! Plain data with no wire shapes and no SQL.

use std::collections::BTreeMap;

/// What kind of app an appid names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// Owns cards and receives pushes.
    ServiceAccount,
    /// Calls `wx.addCard` and friends.
    MiniProgram,
}

impl AppKind {
    /// The stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::ServiceAccount => "service_account",
            AppKind::MiniProgram => "mini_program",
        }
    }

    /// Reads the stored spelling back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "service_account" => Some(AppKind::ServiceAccount),
            "mini_program" => Some(AppKind::MiniProgram),
            _ => None,
        }
    }
}

/// An open platform account: groups apps, gives each user one unionid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPlatform {
    /// `op_` + 12 hex digits.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unix seconds (platform clock).
    pub created_at: i64,
}

/// A Service Account or a Mini Program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// `wx` + 16 hex digits.
    pub appid: String,
    /// 32 hex digits.
    pub secret: String,
    /// Service Account or Mini Program.
    pub kind: AppKind,
    /// Display name.
    pub name: String,
    /// `gh_` + 12 hex digits.
    pub original_id: String,
    /// The open platform account the app is bound to.
    pub open_platform_id: Option<String>,
    /// Unix seconds (platform clock).
    pub created_at: i64,
}

impl App {
    /// A Mini Program's `user_name` as card jump fields name it (`gh_…@app`).
    #[must_use]
    pub fn user_name(&self) -> Option<String> {
        (self.kind == AppKind::MiniProgram).then(|| format!("{}@app", self.original_id))
    }
}

/// A virtual WeChat user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `user_` + 8 hex digits.
    pub user_id: String,
    /// Display name.
    pub nickname: String,
    /// Form pre-fill data by key (`mobile`, `name`, …); keys are checked at the edge.
    pub profile: BTreeMap<String, String>,
    /// `ios` or `android`.
    pub client_os: String,
    /// Dotted version of the WeChat client.
    pub client_version: String,
    /// Dotted version of the Mini Program base library.
    pub base_library: String,
    /// Unix seconds (platform clock).
    pub created_at: i64,
}

/// Which of an app's two kinds of access_token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// From `/cgi-bin/token`: each fetch replaces the previous one.
    Normal,
    /// From `/cgi-bin/stable_token`: reused until it expires or is forced.
    Stable,
}

impl TokenKind {
    /// The stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Normal => "normal",
            TokenKind::Stable => "stable",
        }
    }

    /// Reads the stored spelling back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "normal" => Some(TokenKind::Normal),
            "stable" => Some(TokenKind::Stable),
            _ => None,
        }
    }
}

/// An issued access_token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The opaque token.
    pub token: String,
    /// Whose it is.
    pub appid: String,
    /// Normal or stable.
    pub kind: TokenKind,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; at and after this the token is expired.
    pub expires_at: i64,
    /// Set once a newer token replaced this one: the end of its grace period.
    pub revoked_until: Option<i64>,
}

/// The two ticket kinds of `/cgi-bin/ticket/getticket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketType {
    /// The card api_ticket.
    WxCard,
    /// The jsapi_ticket for `wx.config`.
    Jsapi,
}

impl TicketType {
    /// The wire and stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::WxCard => "wx_card",
            TicketType::Jsapi => "jsapi",
        }
    }

    /// Reads the wire spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "wx_card" => Some(TicketType::WxCard),
            "jsapi" => Some(TicketType::Jsapi),
            _ => None,
        }
    }
}

/// An issued ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The opaque ticket.
    pub ticket: String,
    /// Whose it is.
    pub appid: String,
    /// Card or jsapi.
    pub ticket_type: TicketType,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A `wx.login` code waiting for `/sns/jscode2session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCode {
    /// The code.
    pub code: String,
    /// The Mini Program it was issued in.
    pub appid: String,
    /// The user who logged in.
    pub user_id: String,
    /// The session key the exchange returns.
    pub session_key: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once exchanged: a code works once.
    pub used_at: Option<i64>,
}
