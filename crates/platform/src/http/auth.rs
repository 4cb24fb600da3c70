//! Handlers of tokens, tickets and the Mini Program login exchange (spec/auth.md).

use axum::extract::State;
use wxcard_wire::auth::{
    JsCode2SessionResponse, StableTokenRequest, TicketResponse, TokenResponse,
};
use wxcard_wire::ErrCode;

use crate::domain::auth::Caller;
use crate::domain::DomainError;
use crate::http::error::HttpError;
use crate::http::extract::{QueryParams, WxJson};
use crate::http::respond::{Bare, WxOk};
use crate::http::AppState;

/// `GET /cgi-bin/token`: a new access_token; the previous one keeps working for 5 minutes.
pub(crate) async fn token(
    State(app): State<AppState>,
    query: QueryParams,
) -> Result<Bare<TokenResponse>, HttpError> {
    check_grant_type(query.get("grant_type"), "client_credential")?;
    let appid = query.required("appid", ErrCode::APPID_MISSING)?;
    let secret = query.required("secret", ErrCode::APPSECRET_MISSING)?;
    let token = app.auth.issue_token(appid, secret).await?;
    // Compat: auth.md §1 — the token's success body has no errcode/errmsg.
    Ok(Bare(TokenResponse {
        access_token: token.token,
        expires_in: token.expires_at - token.issued_at,
    }))
}

/// `POST /cgi-bin/stable_token`: the current stable token, or a fresh one when forced.
pub(crate) async fn stable_token(
    State(app): State<AppState>,
    WxJson(request): WxJson<StableTokenRequest>,
) -> Result<Bare<TokenResponse>, HttpError> {
    check_grant_type(Some(&request.grant_type), "client_credential")?;
    if request.appid.is_empty() {
        return Err(HttpError::MissingParam {
            name: "appid",
            errcode: ErrCode::APPID_MISSING,
        });
    }
    if request.secret.is_empty() {
        return Err(HttpError::MissingParam {
            name: "secret",
            errcode: ErrCode::APPSECRET_MISSING,
        });
    }
    let (token, expires_in) = app
        .auth
        .issue_stable_token(
            request.appid,
            request.secret,
            request.force_refresh.unwrap_or(false),
        )
        .await?;
    Ok(Bare(TokenResponse {
        access_token: token.token,
        expires_in,
    }))
}

/// `GET /cgi-bin/ticket/getticket?type=wx_card|jsapi`: the app's current ticket.
pub(crate) async fn get_ticket(
    State(app): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<WxOk<TicketResponse>, HttpError> {
    let ticket_type = query.get("type").unwrap_or_default();
    // The ticket is the same until it expires, so `expires_in` says how long it has left;
    // a client that caches it for that long never signs with a dead ticket.
    let (ticket, expires_in) = app.auth.ticket(&caller, ticket_type).await?;
    Ok(WxOk(TicketResponse {
        ticket: ticket.ticket,
        expires_in,
    }))
}

/// `GET /sns/jscode2session`: a `wx.login` code for the Mini Program openid, once.
pub(crate) async fn jscode2session(
    State(app): State<AppState>,
    query: QueryParams,
) -> Result<WxOk<JsCode2SessionResponse>, HttpError> {
    let appid = query.required("appid", ErrCode::APPID_MISSING)?;
    let secret = query.required("secret", ErrCode::APPSECRET_MISSING)?;
    let js_code = query.required("js_code", ErrCode::CODE_MISSING)?;
    check_grant_type(query.get("grant_type"), "authorization_code")?;
    let session = app.auth.code_to_session(appid, secret, js_code).await?;
    Ok(WxOk(JsCode2SessionResponse {
        openid: session.openid,
        session_key: session.session_key,
        unionid: session.unionid,
    }))
}

fn check_grant_type(given: Option<&str>, expected: &'static str) -> Result<(), HttpError> {
    if given == Some(expected) {
        Ok(())
    } else {
        Err(DomainError::BadGrantType {
            expected,
            got: given.unwrap_or_default().to_owned(),
        }
        .into())
    }
}
