//! Handlers of the admin API (DESIGN §8): accounts, users and the clock.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use serde::Serialize;
use wxcard_wire::admin::{
    AppKind as WireAppKind, AppView, ClientInfo, ClockAdvanceRequest, ClockView, CreateAppRequest,
    CreateOpenPlatformRequest, CreateOpenPlatformResponse, CreateUserRequest, CreateUserResponse,
    Profile, UserView,
};

use wxcard_wire::admin::{EventList, EventView, ReviewRequest, ReviewResponse};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wxcard_wire::admin::{
    DeliveryView, EventDetail, PushSet, Redelivered, RequestList, SetPushRequest, SimUserView,
};

use crate::domain::accounts::{NewUser, UserDetails};
use crate::domain::events::EventFilter;
use crate::domain::model::PushConfig;
use crate::domain::model::{App, AppKind};
use crate::domain::DomainError;
use crate::http::error::HttpError;
use crate::http::extract::QueryParams;
use crate::http::extract::WxJson;
use crate::http::respond::json_response;
use crate::http::respond::WxOk;
use crate::http::AppState;

/// `POST /admin/v1/open-platforms`: an open platform account.
pub(crate) async fn create_open_platform(
    State(app): State<AppState>,
    WxJson(request): WxJson<CreateOpenPlatformRequest>,
) -> Result<WxOk<CreateOpenPlatformResponse>, HttpError> {
    let open_platform = app.accounts.create_open_platform(request.name).await?;
    Ok(WxOk(CreateOpenPlatformResponse {
        id: open_platform.id,
    }))
}

/// `POST /admin/v1/apps`: a Service Account or Mini Program with its appid and secret.
pub(crate) async fn create_app(
    State(app): State<AppState>,
    WxJson(request): WxJson<CreateAppRequest>,
) -> Result<WxOk<AppView>, HttpError> {
    let kind = match request.kind {
        WireAppKind::ServiceAccount => AppKind::ServiceAccount,
        WireAppKind::MiniProgram => AppKind::MiniProgram,
    };
    let created = app
        .accounts
        .create_app(kind, request.name, request.open_platform_id)
        .await?;
    Ok(WxOk(app_view(created)))
}

/// The answer of `GET /admin/v1/apps`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct AppList {
    apps: Vec<AppView>,
}

/// `GET /admin/v1/apps`: every app.
pub(crate) async fn list_apps(State(app): State<AppState>) -> Result<WxOk<AppList>, HttpError> {
    let apps = app.accounts.apps().await?;
    Ok(WxOk(AppList {
        apps: apps.into_iter().map(app_view).collect(),
    }))
}

/// `GET /admin/v1/apps/{appid}`: one app.
pub(crate) async fn get_app(
    State(app): State<AppState>,
    Path(appid): Path<String>,
) -> Result<WxOk<AppView>, HttpError> {
    Ok(WxOk(app_view(app.accounts.app(appid).await?)))
}

/// `POST /admin/v1/users`: a virtual WeChat user.
pub(crate) async fn create_user(
    State(app): State<AppState>,
    WxJson(request): WxJson<CreateUserRequest>,
) -> Result<WxOk<CreateUserResponse>, HttpError> {
    let new_user = NewUser {
        nickname: request.nickname,
        profile: request.profile.map(profile_map).unwrap_or_default(),
        client: request.client.map(|client| (client.os, client.version)),
        base_library: request.base_library,
    };
    let user = app.accounts.create_user(new_user).await?;
    Ok(WxOk(CreateUserResponse {
        user_id: user.user_id,
    }))
}

/// The answer of `GET /admin/v1/users`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct UserList {
    users: Vec<UserView>,
}

/// `GET /admin/v1/users`: every user with their openids.
pub(crate) async fn list_users(State(app): State<AppState>) -> Result<WxOk<UserList>, HttpError> {
    let mut users = Vec::new();
    for user in app.accounts.users().await? {
        users.push(user_view(app.accounts.user(user.user_id).await?));
    }
    Ok(WxOk(UserList { users }))
}

/// `GET /admin/v1/users/{user_id}`: a user with their openid in every app.
pub(crate) async fn get_user(
    State(app): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<WxOk<UserView>, HttpError> {
    Ok(WxOk(user_view(app.accounts.user(user_id).await?)))
}

/// `GET /sim/v1/users/{user_id}`: what a Mini Program page may know of its user: the
/// client and base library versions (the `wx` shim's version gates). No openids or profile.
pub(crate) async fn sim_user(
    State(app): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<WxOk<SimUserView>, HttpError> {
    let user = app.accounts.user(user_id).await?.user;
    Ok(WxOk(SimUserView {
        user_id: user.user_id,
        client: ClientInfo {
            os: user.client_os,
            version: user.client_version,
        },
        base_library: user.base_library,
    }))
}

/// `GET /admin/v1/clock`: the platform's now.
pub(crate) async fn get_clock(State(app): State<AppState>) -> WxOk<ClockView> {
    WxOk(ClockView {
        now: app.clock.now(),
        offset: app.clock.offset(),
    })
}

/// `POST /admin/v1/clock/advance`: moves the platform's clock forward.
pub(crate) async fn advance_clock(
    State(app): State<AppState>,
    WxJson(request): WxJson<ClockAdvanceRequest>,
) -> Result<WxOk<ClockView>, HttpError> {
    app.clock.advance(&*app.store, request.seconds).await?;
    // Work that falls due with the new time happens now, so a caller sees its effect at once.
    app.cards.settle_due_reviews().await?;
    app.codes.settle_gift_timeouts().await?;
    Ok(WxOk(ClockView {
        now: app.clock.now(),
        offset: app.clock.offset(),
    }))
}

fn app_view(app: App) -> AppView {
    AppView {
        user_name: app.user_name(),
        appid: app.appid,
        secret: app.secret,
        original_id: app.original_id,
        kind: match app.kind {
            AppKind::ServiceAccount => WireAppKind::ServiceAccount,
            AppKind::MiniProgram => WireAppKind::MiniProgram,
        },
        name: app.name,
        open_platform_id: app.open_platform_id,
        created_at: app.created_at,
    }
}

fn user_view(details: UserDetails) -> UserView {
    let UserDetails {
        user,
        openids,
        unionids,
    } = details;
    UserView {
        user_id: user.user_id,
        nickname: user.nickname,
        profile: Profile {
            mobile: user.profile.get("mobile").cloned(),
            sex: user.profile.get("sex").cloned(),
            name: user.profile.get("name").cloned(),
            birthday: user.profile.get("birthday").cloned(),
            idcard: user.profile.get("idcard").cloned(),
            email: user.profile.get("email").cloned(),
            location: user.profile.get("location").cloned(),
            education_background: user.profile.get("education_background").cloned(),
            industry: user.profile.get("industry").cloned(),
            income: user.profile.get("income").cloned(),
            habit: user.profile.get("habit").cloned(),
        },
        client: ClientInfo {
            os: user.client_os,
            version: user.client_version,
        },
        base_library: user.base_library,
        openids: openids.into_iter().collect(),
        unionids: unionids.into_iter().collect(),
        created_at: user.created_at,
    }
}

fn profile_map(profile: Profile) -> BTreeMap<String, String> {
    let Profile {
        mobile,
        sex,
        name,
        birthday,
        idcard,
        email,
        location,
        education_background,
        industry,
        income,
        habit,
    } = profile;
    [
        ("mobile", mobile),
        ("sex", sex),
        ("name", name),
        ("birthday", birthday),
        ("idcard", idcard),
        ("email", email),
        ("location", location),
        ("education_background", education_background),
        ("industry", industry),
        ("income", income),
        ("habit", habit),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value)))
    .collect()
}

/// `POST /admin/v1/cards/{card_id}/review`: approve or reject a card waiting for review.
pub(crate) async fn review_card(
    State(app): State<AppState>,
    Path(card_id): Path<String>,
    WxJson(request): WxJson<ReviewRequest>,
) -> Result<WxOk<ReviewResponse>, HttpError> {
    let card = app
        .cards
        .review(&card_id, request.approve, request.reason)
        .await?;
    Ok(WxOk(ReviewResponse {
        card_id: card.card_id,
        status: card.status.as_str().to_owned(),
        refuse_reason: card.refuse_reason,
    }))
}

/// The query of `GET /admin/v1/events`; every parameter is optional.
#[derive(Debug, schemars::JsonSchema)]
pub(crate) struct EventQuery {
    /// Only this app's events.
    appid: Option<String>,
    /// Only events in this delivery state: `pending`, `delivered` or `dead`.
    status: Option<String>,
    /// Only this event type (`user_get_card`, …).
    event: Option<String>,
    /// At most this many, 1 to 1000; 100 when absent.
    limit: Option<String>,
}

impl EventQuery {
    fn parse(query: &QueryParams) -> Self {
        let text = |name: &str| query.get(name).map(str::to_owned);
        Self {
            appid: text("appid"),
            status: text("status"),
            event: text("event"),
            limit: text("limit"),
        }
    }
}

/// `GET /admin/v1/events?appid=&status=&event=&limit=`: the outbox, newest first.
pub(crate) async fn list_events(
    State(app): State<AppState>,
    query: QueryParams,
) -> Result<WxOk<EventList>, HttpError> {
    let query = EventQuery::parse(&query);
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=1000).contains(limit))
            .ok_or_else(|| DomainError::Invalid {
                field: "limit",
                reason: format!("must be a number from 1 to 1000, got {text:?}"),
            })?,
    };
    let filter = EventFilter {
        appid: query.appid,
        status: query.status,
        event: query.event,
        limit,
    };
    let events = app.events.list(filter).await?;
    Ok(WxOk(EventList {
        events: events
            .into_iter()
            .map(|event| EventView {
                id: event.id,
                appid: event.appid,
                event: event.event,
                status: event.status,
                attempts: event.attempts,
                created_at: event.created_at,
                payload: event.payload,
            })
            .collect(),
    }))
}

/// `PUT /admin/v1/apps/{appid}/push`: sets where a Service Account's events go, after the
/// URL answers WeChat's handshake (a signed GET that must echo `echostr`).
pub(crate) async fn set_push(
    State(app): State<AppState>,
    Path(appid): Path<String>,
    WxJson(request): WxJson<SetPushRequest>,
) -> Result<Response, HttpError> {
    let mode_owned = request.mode.clone();
    let mode = mode_owned.as_str();
    if !["plain", "compatible", "safe"].contains(&mode) {
        return Err(DomainError::Invalid {
            field: "mode",
            reason: format!("must be \"plain\", \"compatible\" or \"safe\", got {mode:?}"),
        }
        .into());
    }
    if !(request.url.starts_with("http://") || request.url.starts_with("https://")) {
        return Err(DomainError::Invalid {
            field: "url",
            reason: "must be an http:// or https:// URL".into(),
        }
        .into());
    }
    if request.token.is_empty()
        || request.token.len() > 32
        || !request
            .token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric())
    {
        return Err(DomainError::Invalid {
            field: "token",
            reason: "must be 1 to 32 letters or digits, as WeChat's console requires".into(),
        }
        .into());
    }
    let target = app.accounts.app(appid.clone()).await?;
    if mode != "plain" {
        let key = request.encoding_aes_key.as_deref().unwrap_or_default();
        if let Err(error) = wxcard_wire::crypto::MsgCrypt::new(&request.token, key, &target.appid) {
            return Err(DomainError::Invalid {
                field: "encoding_aes_key",
                reason: format!("{mode} mode needs a 43-character EncodingAESKey: {error}"),
            }
            .into());
        }
    }
    if let Err(detail) = handshake(&app, &request.url, &request.token).await {
        let body = serde_json::json!({
            "errcode": wxcard_wire::ErrCode::INVALID_URL.0,
            "errmsg": wxcard_wire::WxError::with_hint(wxcard_wire::ErrCode::INVALID_URL, &detail).errmsg,
            "ok": false,
            "detail": detail,
        });
        return Ok(json_response(StatusCode::BAD_REQUEST, &body));
    }
    let push = PushConfig {
        url: request.url.clone(),
        token: request.token,
        encoding_aes_key: request.encoding_aes_key,
        mode: request.mode,
    };
    app.accounts.set_push(appid, push).await?;
    Ok(WxOk(PushSet {
        ok: true,
        detail: format!(
            "{} answered the handshake; events now go there in {mode} mode",
            request.url
        ),
    })
    .into_response())
}

/// WeChat's URL check: GET with signature, timestamp, nonce and echostr; the answer must be
/// the echostr and nothing else (events.md §1; the echostr is plain in every mode, crypto.md A.2).
async fn handshake(app: &AppState, url: &str, token: &str) -> Result<(), String> {
    let timestamp = app.clock.now().to_string();
    let nonce = crate::events::random_digits(10);
    let echostr = crate::events::random_digits(19);
    let signature = wxcard_wire::sign::server_signature(token, &timestamp, &nonce);
    let answer = app
        .push_http
        .get(url)
        .query(&[
            ("signature", signature.as_str()),
            ("timestamp", timestamp.as_str()),
            ("nonce", nonce.as_str()),
            ("echostr", echostr.as_str()),
        ])
        .send()
        .await
        .map_err(|error| {
            if error.is_timeout() {
                format!("{url} did not answer the handshake in time")
            } else {
                format!("{url} could not be reached: {}", error.without_url())
            }
        })?;
    let status = answer.status();
    let body = answer.text().await.map_err(|error| {
        format!(
            "the handshake answer could not be read: {}",
            error.without_url()
        )
    })?;
    if !status.is_success() {
        return Err(format!(
            "{url} answered the handshake with HTTP {status}; it must answer 200 with the echostr"
        ));
    }
    if body != echostr {
        let shown: String = body.chars().take(80).collect();
        return Err(format!("{url} answered {shown:?} instead of the echostr {echostr:?}; check that its Token is the one sent here and that it echoes echostr as the whole body"));
    }
    Ok(())
}

/// An event id from the path.
fn event_id(text: &str) -> Result<i64, DomainError> {
    text.parse::<i64>().map_err(|_| DomainError::Invalid {
        field: "id",
        reason: format!("{text:?} is not an event id"),
    })
}

/// `GET /admin/v1/events/{id}`: one event with every delivery attempt.
pub(crate) async fn get_event(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<WxOk<EventDetail>, HttpError> {
    let id = event_id(&id)?;
    let (event, attempts) = app.events.event(id).await?;
    // The XML this event is pushed as (before any safe-mode encryption).
    let xml = match (
        crate::domain::events::decode(&event),
        app.accounts.app(event.appid.clone()).await,
    ) {
        (Some(domain_event), Ok(account)) => Some(crate::events::render(
            &crate::domain::model::DueEvent {
                event: event.clone(),
                app: account,
                push: None,
            },
            &domain_event,
        )),
        _ => None,
    };
    let deliveries = attempts
        .into_iter()
        .map(|attempt| DeliveryView {
            attempt: attempt.attempt,
            at: attempt.at,
            url: attempt.url,
            http_status: attempt.http_status,
            answer: attempt.answer,
            error: attempt.error,
            duration_ms: attempt.duration_ms,
        })
        .collect();
    Ok(WxOk(EventDetail {
        id: event.id,
        appid: event.appid,
        event: event.event,
        status: event.status,
        attempts: event.attempts,
        created_at: event.created_at,
        next_attempt_at: event.next_attempt_at,
        payload: event.payload,
        deliveries,
        xml,
    }))
}

/// `GET /admin/v1/requests`: the last WeChat API calls this server answered (method, path,
/// status, errcode, duration; never the query string), newest first.
pub(crate) async fn recent_requests(State(app): State<AppState>) -> WxOk<RequestList> {
    WxOk(RequestList {
        requests: app.recent.newest(100),
    })
}

/// `POST /admin/v1/events/{id}/redeliver`: back in the queue, with fresh attempts.
pub(crate) async fn redeliver_event(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<WxOk<Redelivered>, HttpError> {
    let id = event_id(&id)?;
    app.events.redeliver(id, app.clock.now()).await?;
    app.deliverer.notify();
    Ok(WxOk(Redelivered {
        id,
        status: "pending".into(),
    }))
}
