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

/// The review state of a card template (cards.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardStatus {
    /// Waiting for review.
    NotVerify,
    /// Review rejected.
    VerifyFail,
    /// Approved.
    VerifyOk,
    /// Deleted by the merchant.
    Delete,
    /// Distributed from the MP console.
    Dispatch,
}

impl CardStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [CardStatus; 5] = [
        CardStatus::NotVerify,
        CardStatus::VerifyFail,
        CardStatus::VerifyOk,
        CardStatus::Delete,
        CardStatus::Dispatch,
    ];

    /// The wire and stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::NotVerify => "CARD_STATUS_NOT_VERIFY",
            CardStatus::VerifyFail => "CARD_STATUS_VERIFY_FAIL",
            CardStatus::VerifyOk => "CARD_STATUS_VERIFY_OK",
            CardStatus::Delete => "CARD_STATUS_DELETE",
            CardStatus::Dispatch => "CARD_STATUS_DISPATCH",
        }
    }

    /// Reads a status, accepting the `_USER_` spellings some SDKs send (cards.md §2).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "CARD_STATUS_NOT_VERIFY" => Some(CardStatus::NotVerify),
            "CARD_STATUS_VERIFY_FAIL" | "CARD_STATUS_VERIFY_FALL" => Some(CardStatus::VerifyFail),
            "CARD_STATUS_VERIFY_OK" => Some(CardStatus::VerifyOk),
            "CARD_STATUS_DELETE" | "CARD_STATUS_USER_DELETE" => Some(CardStatus::Delete),
            "CARD_STATUS_DISPATCH" | "CARD_STATUS_USER_DISPATCH" => Some(CardStatus::Dispatch),
            _ => None,
        }
    }
}

/// A card template.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// 28 characters starting with `p`.
    pub card_id: String,
    /// The Service Account that owns it.
    pub appid: String,
    /// `GROUPON`, `CASH`, ….
    pub card_type: String,
    /// The type object as created and updated, without the server's fields, as JSON text.
    /// Reads hand it on without parsing it; [`Card::document_value`] parses it when needed.
    pub document: String,
    /// Review state.
    pub status: CardStatus,
    /// Remaining stock.
    pub quantity: i64,
    /// Stock ever added.
    pub total_quantity: i64,
    /// `system`, `custom` or `deposit`.
    pub code_mode: String,
    /// Each issuance names its receiver.
    pub bind_openid: bool,
    /// Most cards one user may hold.
    pub get_limit: i64,
    /// When a pending review decides itself.
    pub review_due_at: Option<i64>,
    /// Why review rejected it.
    pub refuse_reason: Option<String>,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds.
    pub update_time: i64,
}

impl Card {
    /// The type object as a JSON value.
    ///
    /// # Errors
    /// When the stored text is not JSON (a corrupt row).
    pub fn document_value(&self) -> Result<serde_json::Value, crate::store::StoreError> {
        self.document_as()
    }

    /// The type object read into `T`, which may take only the fields it needs: the rest of
    /// the text is skipped, not built.
    ///
    /// # Errors
    /// When the stored text is not JSON of that shape (a corrupt row).
    pub fn document_as<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<T, crate::store::StoreError> {
        serde_json::from_str(&self.document).map_err(|error| {
            crate::store::StoreError::Corrupt(format!("card {} document: {error}", self.card_id))
        })
    }

    /// A string field of `base_info` (`title`, `brand_name`, `color`), for display.
    #[must_use]
    pub fn base_info_text(&self, field: &str) -> Option<String> {
        let document = self.document_value().ok()?;
        document
            .get("base_info")?
            .get(field)?
            .as_str()
            .map(str::to_owned)
    }
}

/// A card QR code.
#[derive(Debug, Clone, PartialEq)]
pub struct QrCode {
    /// The opaque ticket (also its id).
    pub ticket: String,
    /// The short id in the QR's url.
    pub url_id: String,
    /// The Service Account that made it.
    pub appid: String,
    /// `QR_CARD` or `QR_MULTIPLE_CARD`.
    pub action_name: String,
    /// The request's `action_info`.
    pub action_info: serde_json::Value,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A landing page (card shelf).
#[derive(Debug, Clone, PartialEq)]
pub struct LandingPage {
    /// Its number.
    pub page_id: i64,
    /// The Service Account that made it.
    pub appid: String,
    /// Banner image URL.
    pub banner: String,
    /// Page title.
    pub page_title: String,
    /// Whether it may be shared.
    pub can_share: bool,
    /// Where it is shown.
    pub scene: String,
    /// `[{card_id, thumb_url}]`.
    pub card_list: serde_json::Value,
    /// Unix seconds.
    pub created_at: i64,
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Its id, stable across redeliveries.
    pub id: i64,
    /// The Service Account whose server receives it.
    pub appid: String,
    /// WeChat's event name (`card_pass_check`).
    pub event: String,
    /// The event's fields (a serialized [`crate::domain::events::DomainEvent`]).
    pub payload: serde_json::Value,
    /// Unix seconds.
    pub created_at: i64,
    /// `pending`, `retrying`, `delivered` or `dead`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: i64,
}

/// The state of a code in a user's card package (codes.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserCardStatus {
    /// Usable.
    Normal,
    /// Redeemed.
    Consumed,
    /// Past its validity window (computed from the clock, never stored).
    Expire,
    /// Being gifted.
    Gifting,
    /// Accepted by the friend it was gifted to.
    GiftSucc,
    /// Not accepted in time; returned.
    GiftTimeout,
    /// Deleted by the user.
    Delete,
    /// Made unusable by the merchant.
    Unavailable,
}

impl UserCardStatus {
    /// The wire and stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            UserCardStatus::Normal => "NORMAL",
            UserCardStatus::Consumed => "CONSUMED",
            UserCardStatus::Expire => "EXPIRE",
            UserCardStatus::Gifting => "GIFTING",
            UserCardStatus::GiftSucc => "GIFT_SUCC",
            UserCardStatus::GiftTimeout => "GIFT_TIMEOUT",
            UserCardStatus::Delete => "DELETE",
            UserCardStatus::Unavailable => "UNAVAILABLE",
        }
    }

    /// Reads the stored spelling back.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            UserCardStatus::Normal,
            UserCardStatus::Consumed,
            UserCardStatus::Expire,
            UserCardStatus::Gifting,
            UserCardStatus::GiftSucc,
            UserCardStatus::GiftTimeout,
            UserCardStatus::Delete,
            UserCardStatus::Unavailable,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// A cardExt that a claim used: it works once (jsapi.md §8 step 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCardExt {
    /// Its `timestamp`.
    pub timestamp: i64,
    /// Its `nonce_str` (empty when it had none).
    pub nonce_str: String,
    /// Its `signature`, lower case.
    pub signature: String,
}

/// A code a user holds (or held).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCard {
    /// Row id.
    pub id: i64,
    /// The card template.
    pub card_id: String,
    /// The card's Service Account.
    pub appid: String,
    /// The code.
    pub code: String,
    /// The holder.
    pub user_id: String,
    /// The holder's openid in the Service Account.
    pub openid: String,
    /// The stored state (`Expire` is never stored: see [`UserCard::status_at`]).
    pub status: UserCardStatus,
    /// Unix seconds: usable from.
    pub begin_time: i64,
    /// Unix seconds: usable until (inclusive).
    pub end_time: i64,
    /// The channel tag from the claim.
    pub outer_str: Option<String>,
    /// Unix seconds.
    pub claimed_at: i64,
    /// Unix seconds.
    pub consumed_at: Option<i64>,
}

impl UserCard {
    /// The state as of `now`: a usable code past its window is `Expire`.
    #[must_use]
    pub fn status_at(&self, now: i64) -> UserCardStatus {
        if self.status == UserCardStatus::Normal && now > self.end_time {
            UserCardStatus::Expire
        } else {
            self.status
        }
    }
}

/// Where and how a Service Account's server receives pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    /// The server URL.
    pub url: String,
    /// The Token that signs requests.
    pub token: String,
    /// The EncodingAESKey (safe and compatible modes).
    pub encoding_aes_key: Option<String>,
    /// `plain`, `compatible` or `safe`.
    pub mode: String,
}

/// An outbox event claimed for delivery, with where to deliver it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueEvent {
    /// The event.
    pub event: OutboxEvent,
    /// The receiving account.
    pub app: App,
    /// Its push configuration; `None` when none is set (the event waits).
    pub push: Option<PushConfig>,
}

/// One delivery attempt of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The event.
    pub event_id: i64,
    /// 1 for the first try.
    pub attempt: i64,
    /// Unix seconds (platform clock).
    pub at: i64,
    /// Where it went.
    pub url: String,
    /// The HTTP status, if an answer came.
    pub http_status: Option<i64>,
    /// The answer's body (cut to 1 KiB).
    pub answer: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// A gift of a code from one user to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gift {
    /// Its id.
    pub gift_id: String,
    /// The giver's code.
    pub user_card_id: i64,
    /// The giver.
    pub from_user_id: String,
    /// `pending`, `accepted` or `returned`.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When an unaccepted gift goes back to the giver.
    pub expires_at: i64,
    /// Who accepted it.
    pub to_user_id: Option<String>,
}
