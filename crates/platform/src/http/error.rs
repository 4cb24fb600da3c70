//! `HttpError`: every way a request can fail, and the one place that decides its errcode.
//!
//! WeChat answers errors with HTTP 200 and `{errcode, errmsg}`; the admin and simulator APIs use
//! the same body with a 4xx status, set by a layer on their routers from [`HttpError::admin_status`].

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wxcard_wire::catalogue::EndpointInfo;
use wxcard_wire::{ErrCode, Method, WxError};

use crate::domain::card_schema::Rule;
use crate::domain::error::CodeListRule;
use crate::domain::model::UserCardStatus;
use crate::domain::{AuthError, DomainError};
use crate::http::respond::json_response;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// A POST without a body.
    #[error("the request body is empty; send the JSON object the API documents")]
    EmptyBody,
    /// The body is not JSON, or a field has the wrong JSON type.
    #[error("{0}")]
    BadBody(String),
    /// A required JSON field is absent.
    #[error("{0}")]
    MissingField(String),
    /// A required query parameter is absent.
    #[error("the query parameter {name} is missing")]
    MissingParam {
        name: &'static str,
        errcode: ErrCode,
    },
    /// The access_token was refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The operation was refused.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The path exists with another method.
    #[error("{} needs {}", .path, .expected.as_str())]
    WrongMethod { path: String, expected: Method },
    /// An admin or simulator path that does not take this method.
    #[error("{path} does not take {method}")]
    MethodNotAllowed { method: String, path: String },
    /// No such path.
    #[error("no API has the path {0}; see docs/compat.md for what wxcard serves")]
    UnknownPath(String),
    /// A WeChat path that wxcard has not built yet.
    #[error("wxcard does not emulate {} yet ({}); see docs/compat.md", .0.path, .0.spec)]
    Unbuilt(&'static EndpointInfo),
    /// A WeChat path outside what wxcard emulates.
    #[error("wxcard does not emulate {}: {}", .0.path, .0.summary)]
    OutOfScope(&'static EndpointInfo),
    /// The admin token is missing or wrong.
    #[error("send the admin token as Authorization: Bearer TOKEN (wxcard serve --admin-token)")]
    AdminAuth,
}

impl HttpError {
    /// The errcode. One exhaustive match, so a new variant needs a decision here.
    pub(crate) fn errcode(&self) -> ErrCode {
        match self {
            HttpError::EmptyBody => ErrCode::EMPTY_POST_DATA,
            HttpError::BadBody(_) => ErrCode::DATA_FORMAT_ERROR,
            HttpError::MissingField(_) => ErrCode::MISSING_REQUIRED_FIELDS,
            HttpError::MissingParam { errcode, .. } => *errcode,
            HttpError::Auth(auth) => match auth {
                AuthError::Missing => ErrCode::ACCESS_TOKEN_MISSING,
                AuthError::Malformed(_) => ErrCode::INVALID_ACCESS_TOKEN,
                AuthError::Unknown | AuthError::Superseded(_) => ErrCode::INVALID_CREDENTIAL,
                AuthError::Expired(_) => ErrCode::ACCESS_TOKEN_EXPIRED,
                AuthError::Store(_) => ErrCode::SYSTEM_BUSY,
            },
            HttpError::Domain(domain) => match domain {
                DomainError::UnknownApp(_) | DomainError::WrongAppKind { .. } => {
                    ErrCode::INVALID_APPID
                }
                // Compat: auth.md §1 lists 40001 and 40125 for a wrong secret; 40125 keeps
                // wechatpy's auto-retry on 40001 from looping (clients.md §1.5).
                DomainError::WrongSecret(_) => ErrCode::INVALID_APPSECRET,
                DomainError::BadGrantType { .. } => ErrCode::INVALID_GRANT_TYPE,
                DomainError::UnknownUser(_) => ErrCode::USER_NOT_EXIST,
                DomainError::UnknownLoginCode | DomainError::LoginCodeExpired(_) => {
                    ErrCode::INVALID_JS_CODE
                }
                DomainError::LoginCodeUsed => ErrCode::JS_CODE_USED,
                DomainError::UnknownOpenPlatform(_)
                | DomainError::BadTicketType(_)
                | DomainError::Invalid { .. }
                | DomainError::UnknownQrCode
                | DomainError::QrCodeExpired(_)
                | DomainError::UnknownLandingPage(_)
                | DomainError::UnknownEvent(_)
                | DomainError::BadExtraData(_)
                | DomainError::ComponentSession(_)
                | DomainError::BadSubmission(_) => ErrCode::INVALID_ARGS,
                DomainError::CardRule(violation) => rule_errcode(&violation.rule),
                DomainError::UnknownCard(_) => ErrCode::INVALID_CARD_ID,
                DomainError::CardNotUsable { .. } => ErrCode::INVALID_CARD_STATUS,
                DomainError::CardsNeedServiceAccount(_) | DomainError::ClientCannot(_) => {
                    ErrCode::API_UNAUTHORIZED
                }
                DomainError::UnlinkedMiniProgram { .. } => ErrCode::UNLINKED_WEAPP_CARD,
                DomainError::StockOutOfRange(_) => ErrCode::INVALID_CARD_QUANTITY,
                DomainError::DepositStockExceedsCodes { .. } => {
                    ErrCode::DEPOSIT_STOCK_EXCEEDS_CODES
                }
                DomainError::UnknownOpenid(_) => ErrCode::INVALID_OPENID,
                DomainError::InvalidUsername(_) => ErrCode::INVALID_USERNAME,
                DomainError::MissingCode(_) => ErrCode::MISSING_CODE,
                DomainError::BadQrAction(_) => ErrCode::INVALID_ACTION_NAME,
                DomainError::BadQrInfo(_) => ErrCode::INVALID_ACTION_INFO,
                DomainError::TooManyQrCards(_) => ErrCode::CARD_LIST_SIZE_OVER_FIVE,
                DomainError::BadScene(_) => ErrCode::INVALID_SCENE,
                DomainError::CardFunctionNotSupported(_) | DomainError::WrongCodeMode(_) => {
                    ErrCode::CARD_FUNCTION_NOT_SUPPORTED
                }
                DomainError::StockExhausted(_) => ErrCode::STOCK_OUT_OF_LIMIT,
                DomainError::GetLimitReached { .. } => ErrCode::GET_LIMIT_EXCEEDED,
                DomainError::NotWhitelisted(_) => ErrCode::USER_NOT_WHITELISTED,
                DomainError::OutsideValidity(_) => ErrCode::INVALID_TIME,
                DomainError::ReplayedCardExt => ErrCode::INVALID_CARD_EXT,
                DomainError::CodeTaken(_)
                | DomainError::UnknownCode(_)
                | DomainError::NotHolder(_) => ErrCode::INVALID_SERIAL_CODE,
                DomainError::CodeNotUsable {
                    status: UserCardStatus::Consumed,
                    ..
                } => ErrCode::CODE_CONSUMED,
                DomainError::CodeNotUsable { .. } | DomainError::NotActivated(_) => {
                    ErrCode::INVALID_USER_CARD_STATUS
                }
                DomainError::CardIdRequired(_) => ErrCode::MISSING_CARD_ID,
                DomainError::BadEncryptCode(_) => ErrCode::INVALID_ENCRYPT_CODE,
                DomainError::BadCodeList { rule, .. } => match rule {
                    CodeListRule::TooMany => ErrCode::TOO_MANY_CODES,
                    CodeListRule::Empty => ErrCode::EMPTY_CODE,
                    CodeListRule::Duplicate => ErrCode::DUPLICATE_CODE,
                },
                DomainError::BadPushConfig(_) => ErrCode::INVALID_URL,
                DomainError::MarkedByOther(_) => ErrCode::CODE_MARKED_BY_OTHER,
                DomainError::CellConflict {
                    with_center: true, ..
                } => ErrCode::PAY_CELL_CONFLICTS_WITH_CENTER,
                DomainError::CellConflict {
                    with_center: false, ..
                } => ErrCode::CELL_CONFLICT,
                DomainError::NeedsSystemCodes(_) => ErrCode::CUSTOM_CODE_NOT_ALLOWED,
                DomainError::MissingField(field) => match *field {
                    "ticket_class" => ErrCode::MISSING_TICKET_CLASS,
                    "show_time" => ErrCode::MISSING_SHOW_TIME,
                    "screening_room" => ErrCode::MISSING_SCREENING_ROOM,
                    "seat_number" => ErrCode::MISSING_SEAT_NUMBER,
                    _ => ErrCode::MISSING_REQUIRED_FIELDS,
                },
                DomainError::TooLong { .. } => ErrCode::OUT_OF_LENGTH_LIMIT,
                DomainError::NotMemberCard(_) => ErrCode::NEED_MEMBER_CARD,
                DomainError::NeedWxActivate(_) => ErrCode::NEED_WX_ACTIVATE,
                DomainError::BadActivateTicket(_) => ErrCode::INVALID_ACTIVATE_TICKET,
                DomainError::ActivateTicketExpired(_) => ErrCode::ACTIVATE_TICKET_EXPIRED,
                DomainError::AlreadyMember(_) => ErrCode::ALREADY_MEMBER,
                DomainError::BonusOutOfLimit(_) => ErrCode::BONUS_OUT_OF_LIMIT,
                DomainError::BalanceOutOfLimit(_) => ErrCode::BALANCE_OUT_OF_LIMIT,
                DomainError::Store(_) => ErrCode::SYSTEM_BUSY,
            },
            HttpError::WrongMethod { expected, .. } => match expected {
                Method::Get => ErrCode::REQUIRE_GET,
                Method::Post => ErrCode::REQUIRE_POST,
            },
            // The admin API knows the method it got, not the one it wanted: a GET where none is
            // served can only want POST (or PUT), anything else wants GET.
            HttpError::MethodNotAllowed { method, .. } => {
                if method == "GET" {
                    ErrCode::REQUIRE_POST
                } else {
                    ErrCode::REQUIRE_GET
                }
            }
            HttpError::UnknownPath(_) => ErrCode::INVALID_URL,
            HttpError::Unbuilt(_) | HttpError::OutOfScope(_) => ErrCode::API_UNAUTHORIZED,
            HttpError::AdminAuth => ErrCode::INVALID_CREDENTIAL,
        }
    }

    /// The HTTP status the admin and simulator APIs use for this error.
    pub(crate) fn admin_status(&self) -> StatusCode {
        match self {
            HttpError::AdminAuth => StatusCode::UNAUTHORIZED,
            HttpError::Domain(
                DomainError::UnknownApp(_)
                | DomainError::UnknownUser(_)
                | DomainError::UnknownCard(_)
                | DomainError::UnknownQrCode
                | DomainError::UnknownLandingPage(_)
                | DomainError::UnknownEvent(_),
            )
            | HttpError::UnknownPath(_) => StatusCode::NOT_FOUND,
            HttpError::Domain(DomainError::CardNotUsable { .. }) => StatusCode::CONFLICT,
            HttpError::WrongMethod { .. } | HttpError::MethodNotAllowed { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            HttpError::Unbuilt(_) | HttpError::OutOfScope(_) => StatusCode::NOT_IMPLEMENTED,
            HttpError::Domain(DomainError::Store(_)) | HttpError::Auth(AuthError::Store(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The body: the wire message, and a hint that says what was wrong unless that would leak
    /// internals (storage failures are explained in the log only).
    pub(crate) fn body(&self) -> WxError {
        let errcode = self.errcode();
        if errcode == ErrCode::SYSTEM_BUSY {
            WxError::new(errcode)
        } else {
            WxError::with_hint(errcode, &self.to_string())
        }
    }
}

/// What the request log and the admin status layer learn about a failed request.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The error.
    pub(crate) error: Arc<HttpError>,
    /// Keep the status the handler chose (simulated JSAPI results are 200 even on failure).
    pub(crate) keep_status: bool,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = json_response(StatusCode::OK, &self.body());
        response.extensions_mut().insert(Failure {
            error: Arc::new(self),
            keep_status: false,
        });
        response
    }
}

/// The errcode of each card-schema rule (spec/errors.md §3–§9, cards.md §3.10).
fn rule_errcode(rule: &Rule) -> ErrCode {
    match rule {
        Rule::MissingField => ErrCode::MISSING_REQUIRED_FIELDS,
        Rule::TooLong => ErrCode::OUT_OF_LENGTH_LIMIT,
        Rule::WrongType => ErrCode::DATA_FORMAT_ERROR,
        Rule::UnknownCardType => ErrCode::INVALID_CARD_TYPE,
        // Compat: cards.md §3.5 and the card error page give 40072 for a bad code_type.
        Rule::BadCodeType => ErrCode::INVALID_LOCATION_ID,
        Rule::BadColor => ErrCode::INVALID_COLOR_ID,
        Rule::BadTime => ErrCode::INVALID_TIME,
        Rule::BadQuantity => ErrCode::INVALID_CARD_QUANTITY,
        Rule::BadSku => ErrCode::INVALID_SKU_INFO,
        Rule::BadGetLimit => ErrCode::INVALID_GET_LIMIT,
        Rule::BadReduceCost => ErrCode::INVALID_REDUCE_COST,
        Rule::BadLeastCost => ErrCode::INVALID_LEAST_COST,
        Rule::TooManyCustomFields => ErrCode::TOO_MANY_CUSTOM_FIELDS,
        Rule::BadImageUrl => ErrCode::INVALID_IMAGE_URL,
        Rule::BadUseTimeLimit => ErrCode::INVALID_USE_TIME_LIMIT,
        Rule::BadLocation => ErrCode::INVALID_POIID,
        Rule::DateNarrowed => ErrCode::INVALID_DATE_INFO_UPDATE,
        Rule::NotUpdatable | Rule::InvalidValue => ErrCode::INVALID_CARD_PARAMETERS,
    }
}
