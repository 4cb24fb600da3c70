//! What can go wrong in business terms. The HTTP edge decides the errcode of each variant in
//! one exhaustive match (`http::error`), so a new variant does not compile until it has one.

use crate::domain::model::AppKind;
use crate::store::StoreError;

/// A failed domain operation.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No app has this appid.
    #[error("no app has the appid {0:?}")]
    UnknownApp(String),
    /// The secret does not belong to the app.
    #[error("the secret is not the AppSecret of {0}")]
    WrongSecret(String),
    /// `grant_type` is missing or not the literal the endpoint wants.
    #[error("grant_type must be {expected:?}, got {got:?}")]
    BadGrantType {
        /// The literal the endpoint wants.
        expected: &'static str,
        /// What came.
        got: String,
    },
    /// The app is of the wrong kind for this operation.
    #[error("{appid} is a {}, and this needs a {}", kind_name(*.actual), kind_name(*.needed))]
    WrongAppKind {
        /// The app.
        appid: String,
        /// The kind the operation needs.
        needed: AppKind,
        /// The kind the app is.
        actual: AppKind,
    },
    /// No user has this id.
    #[error("no user has the id {0:?}")]
    UnknownUser(String),
    /// No open platform account has this id.
    #[error("no open platform account has the id {0:?}")]
    UnknownOpenPlatform(String),
    /// The `wx.login` code is unknown, or was issued in another Mini Program.
    #[error("the js_code is unknown or was issued to another Mini Program; get a fresh one from wx.login")]
    UnknownLoginCode,
    /// The `wx.login` code is older than five minutes.
    #[error("the js_code expired {0} s ago; wx.login codes last 5 minutes")]
    LoginCodeExpired(i64),
    /// The `wx.login` code was exchanged before.
    #[error("the js_code was already exchanged; each wx.login code works once")]
    LoginCodeUsed,
    /// `type` of getticket is not a ticket type.
    #[error("type must be \"wx_card\" or \"jsapi\", got {0:?}")]
    BadTicketType(String),
    /// A field's value breaks a rule.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A card field breaks a rule of the card schema.
    #[error("{0}")]
    CardRule(crate::domain::card_schema::Violation),
    /// No card of this app has this id.
    #[error("no card of this Service Account has the card_id {0:?}")]
    UnknownCard(String),
    /// The card's state does not allow the operation.
    #[error("card {card_id} is {}: {why}", .status.as_str())]
    CardNotUsable {
        /// The card.
        card_id: String,
        /// Its state.
        status: crate::domain::model::CardStatus,
        /// Why that stops the operation.
        why: &'static str,
    },
    /// Only Service Accounts own cards.
    #[error("{0} is a Mini Program; cards belong to Service Accounts, so call the card API with a Service Account's access_token")]
    CardsNeedServiceAccount(String),
    /// A jump field names a Mini Program that is unknown or not linked.
    #[error("{field} names {user_name}: {why}")]
    UnlinkedMiniProgram {
        /// The field.
        field: String,
        /// The Mini Program's user_name.
        user_name: String,
        /// What is wrong.
        why: String,
    },
    /// Stock would leave 0..=100000000.
    #[error("{0}")]
    StockOutOfRange(String),
    /// Deposit mode: stock may not exceed the deposited codes.
    #[error("deposit-mode stock would be {stock}, but only {deposited} deposited codes are not handed out yet; deposit more with /card/code/deposit first")]
    DepositStockExceedsCodes {
        /// The stock asked for.
        stock: i64,
        /// Codes deposited.
        deposited: i64,
    },
    /// An openid that is not a user of this app.
    #[error("{0:?} is not the openid of any user of this Service Account (GET /admin/v1/users lists them)")]
    UnknownOpenid(String),
    /// A WeChat ID that cannot be one.
    #[error("{0:?} is not a WeChat ID")]
    InvalidUsername(String),
    /// A custom-code card without its code.
    #[error("{0}")]
    MissingCode(String),
    /// `action_name` is not a QR action.
    #[error("action_name must be QR_CARD or QR_MULTIPLE_CARD, got {0:?}")]
    BadQrAction(String),
    /// `action_info` does not fit the action.
    #[error("{0}")]
    BadQrInfo(String),
    /// More than five cards on one QR code.
    #[error("QR_MULTIPLE_CARD takes at most 5 cards, got {0}")]
    TooManyQrCards(usize),
    /// No QR code has this ticket.
    #[error("no QR code has this ticket")]
    UnknownQrCode,
    /// The QR code expired.
    #[error("this QR code expired {0} s ago")]
    QrCodeExpired(i64),
    /// A landing page scene outside the enum.
    #[error("scene must be one of SCENE_NEAR_BY, SCENE_MENU, SCENE_QRCODE, SCENE_ARTICLE, SCENE_H5, SCENE_IVR, SCENE_CARD_CUSTOM_CELL; got {0:?}")]
    BadScene(String),
    /// The card cannot be used this way.
    #[error("{0}")]
    CardFunctionNotSupported(String),
    /// No landing page has this id.
    #[error("no landing page has the id {0}")]
    UnknownLandingPage(i64),
    /// No stock left.
    #[error("card {0} has no stock left; add some with /card/modifystock")]
    StockExhausted(String),
    /// The user holds as many of this card as `get_limit` allows.
    #[error("the user already received {held} of card {card_id}; its get_limit is {limit}")]
    GetLimitReached {
        /// The card.
        card_id: String,
        /// How many the user received.
        held: u64,
        /// The limit.
        limit: i64,
    },
    /// The card is in review and the user is not on the test whitelist.
    #[error("card {0} is not approved yet and the user is not on the test whitelist (/card/testwhitelist/set)")]
    NotWhitelisted(String),
    /// The card's validity window is over (or has not begun).
    #[error("{0}")]
    OutsideValidity(String),
    /// The cardExt signature was used before.
    #[error("this cardExt was used for a claim before; sign a new one with a fresh timestamp and nonce_str for every wx.addCard")]
    ReplayedCardExt,
    /// A custom code that the card already has.
    #[error("the code {0:?} was already claimed or deposited for this card")]
    CodeTaken(String),
    /// No such code (or never claimed).
    #[error("no user holds the code {0:?} of this Service Account's cards")]
    UnknownCode(String),
    /// The code exists but its state forbids the operation.
    #[error("the code is {}: {why}", .status.as_str())]
    CodeNotUsable {
        /// Its state.
        status: crate::domain::model::UserCardStatus,
        /// Why that stops the operation.
        why: &'static str,
    },
    /// `card_id` is needed to find the code.
    #[error("{0}")]
    CardIdRequired(String),
    /// The encrypt_code cannot be decrypted.
    #[error("{0}")]
    BadEncryptCode(String),
    /// The card does not support this API.
    #[error("{0}")]
    WrongCodeMode(String),
    /// A code list breaks a rule.
    #[error("{reason}")]
    BadCodeList {
        /// Which rule: too many, empty, duplicate.
        rule: CodeListRule,
        /// What is wrong.
        reason: String,
    },
    /// The code is marked for another user (friends' coupon).
    #[error("{0}")]
    MarkedByOther(String),
    /// Cells of a card exclude each other.
    #[error("{reason}")]
    CellConflict {
        /// The pay cell against the centre button (40145), or cells against each other (45046).
        with_center: bool,
        /// What conflicts.
        reason: String,
    },
    /// The feature needs platform-generated codes.
    #[error("{0}")]
    NeedsSystemCodes(String),
    /// A required field is missing (the ticket fields have errcodes of their own).
    #[error("{0} is missing")]
    MissingField(&'static str),
    /// No event has this id.
    #[error("no event has the id {0}")]
    UnknownEvent(i64),
    /// The push configuration cannot be used.
    #[error("{0}")]
    BadPushConfig(String),
    /// The user does not hold this code.
    #[error("{0}")]
    NotHolder(String),
    /// A string longer than its limit.
    #[error("{field}: at most {max} bytes (UTF-8), got {got}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit in bytes.
        max: usize,
        /// What was given, in bytes.
        got: usize,
    },
    /// The API needs a MEMBER_CARD.
    #[error("{0}")]
    NotMemberCard(String),
    /// The card does not use one-tap activation.
    #[error("{0}")]
    NeedWxActivate(String),
    /// An activate_ticket that is unknown, foreign or used.
    #[error("{0}")]
    BadActivateTicket(String),
    /// An activate_ticket past its lifetime.
    #[error("{0}")]
    ActivateTicketExpired(String),
    /// The member card is activated already.
    #[error("{0}")]
    AlreadyMember(String),
    /// The member card is not activated yet.
    #[error("{0}")]
    NotActivated(String),
    /// Points would leave their range.
    #[error("{0}")]
    BonusOutOfLimit(String),
    /// A balance would leave its range.
    #[error("{0}")]
    BalanceOutOfLimit(String),
    /// The simulated client cannot do this (version gates, unknown Mini Programs).
    #[error("{0}")]
    ClientCannot(String),
    /// The extraData passed to the card-opening component is not what geturl gave.
    #[error("{0}")]
    BadExtraData(String),
    /// A card-opening component session that is unknown or already closed.
    #[error("{0}")]
    ComponentSession(String),
    /// The form submitted in the card-opening component is incomplete or wrong.
    #[error("{0}")]
    BadSubmission(String),
    /// Storage failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// Rules of `/card/code/deposit` and `/card/code/checkcode` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeListRule {
    /// More than 100 codes.
    TooMany,
    /// An empty string.
    Empty,
    /// The same code twice.
    Duplicate,
}

/// Why an `access_token` was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `access_token` in the query.
    #[error("add ?access_token=ACCESS_TOKEN from /cgi-bin/token to the URL")]
    Missing,
    /// The value cannot be a token.
    #[error("the access_token {0}")]
    Malformed(&'static str),
    /// No such token was ever issued here.
    #[error("this access_token was not issued by this wxcard; fetch one from /cgi-bin/token")]
    Unknown,
    /// A newer token replaced this one and its 5-minute grace period is over.
    #[error("a newer access_token replaced this one {0} s ago (old tokens stay valid for 5 minutes after a refresh)")]
    Superseded(i64),
    /// The token is past its `expires_in`.
    #[error("this access_token expired {0} s ago; fetch a new one from /cgi-bin/token")]
    Expired(i64),
    /// Storage failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
}

fn kind_name(kind: AppKind) -> &'static str {
    match kind {
        AppKind::ServiceAccount => "Service Account",
        AppKind::MiniProgram => "Mini Program",
    }
}
