//! `http`: the route table, extractors, handlers and `HttpError`. This is the compatibility
//! surface: one line per endpoint, grouped like the spec, ending in a fallback that answers in
//! WeChat's format. `wxcard routes` prints [`route_table`]; `docs/compat.md` follows it.

mod admin;
mod auth;
mod card;
mod code;
mod component;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod log;
pub(crate) mod member;
mod openapi;
mod pages;
mod png;
pub(crate) mod respond;
pub(crate) mod serve;
mod sim;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, on, MethodFilter, MethodRouter};
use axum::Router;
use wxcard_wire::catalogue::{self, Scope, ALL_ENDPOINTS};
use wxcard_wire::{Endpoint, Method};

use crate::config::Secret;
use crate::domain::accounts::AccountService;
use crate::domain::auth::{constant_time_eq, AuthService};
use crate::domain::cards::CardService;
use crate::domain::clock::Clock;
use crate::domain::codes::CodeService;
use crate::domain::events::EventService;
use crate::domain::members::MemberService;
use crate::http::error::{Failure, HttpError};
use crate::store::Store;

/// What every handler can reach. axum clones it for every request, so it is one `Arc`.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Services>);

impl AppState {
    pub(crate) fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
#[derive(Debug)]
pub(crate) struct Services {
    pub(crate) accounts: AccountService,
    pub(crate) auth: AuthService,
    pub(crate) cards: CardService,
    pub(crate) codes: CodeService,
    pub(crate) members: MemberService,
    pub(crate) deliverer: crate::events::Deliverer,
    pub(crate) push_http: reqwest::Client,
    pub(crate) events: EventService,
    pub(crate) clock: Arc<Clock>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) admin_token: Option<Arc<Secret>>,
    /// The last WeChat API calls, for the simulator page.
    pub(crate) recent: log::RecentRequests,
    /// Open connections and requests in flight, under the configured limits.
    pub(crate) load: Arc<serve::Load>,
}

/// One route: method, path, handler, and what the OpenAPI description says of it. The route
/// tables below are lists of these, so the router and `/openapi.json` come from one place.
pub(crate) struct ApiRoute {
    method: MethodFilter,
    path: &'static str,
    handler: MethodRouter<AppState>,
    doc: openapi::Doc,
}

impl ApiRoute {
    fn new<H, T>(method: MethodFilter, path: &'static str, handler: H, doc: openapi::Doc) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method,
            path,
            handler: on(method, handler),
            doc,
        }
    }

    fn operation(&self) -> openapi::Operation {
        openapi::Operation {
            method: method_name(self.method),
            path: self.path,
            doc: self.doc,
        }
    }
}

fn method_name(method: MethodFilter) -> &'static str {
    if method == MethodFilter::GET {
        "get"
    } else if method == MethodFilter::PUT {
        "put"
    } else {
        "post"
    }
}

/// A built WeChat endpoint: its path, method and types all come from its [`Endpoint`] impl.
fn wechat<E, H, T>(handler: H) -> ApiRoute
where
    E: Endpoint + schemars::JsonSchema,
    E::Response: schemars::JsonSchema,
    H: Handler<T, AppState>,
    T: 'static,
{
    let method = match E::METHOD {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
    };
    let summary = catalogue::find(E::PATH).map_or("", |info| info.summary);
    ApiRoute::new(
        method,
        E::PATH,
        handler,
        openapi::Doc::endpoint::<E>(summary),
    )
}

fn get_route<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    handler: H,
    doc: openapi::Doc,
) -> ApiRoute {
    ApiRoute::new(MethodFilter::GET, path, handler, doc)
}

fn post_route<H: Handler<T, AppState>, T: 'static>(
    path: &'static str,
    handler: H,
    doc: openapi::Doc,
) -> ApiRoute {
    ApiRoute::new(MethodFilter::POST, path, handler, doc)
}

/// The WeChat endpoints that are built. Everything else in the catalogue is answered as not
/// built yet.
fn wechat_routes() -> Vec<ApiRoute> {
    use wxcard_wire::{auth as a, card as c, code as k, member as m};
    vec![
        // Auth (spec/auth.md)
        wechat::<a::TokenRequest, _, _>(auth::token),
        wechat::<a::StableTokenRequest, _, _>(auth::stable_token),
        wechat::<a::TicketRequest, _, _>(auth::get_ticket),
        wechat::<a::JsCode2SessionRequest, _, _>(auth::jscode2session),
        // Card templates (spec/cards.md)
        wechat::<c::GetColorsRequest, _, _>(card::get_colors),
        wechat::<c::CreateCardRequest, _, _>(card::create),
        wechat::<c::GetCardRequest, _, _>(card::get),
        wechat::<c::BatchGetRequest, _, _>(card::batch_get),
        wechat::<c::UpdateCardRequest, _, _>(card::update),
        wechat::<c::DeleteCardRequest, _, _>(card::delete),
        wechat::<c::ModifyStockRequest, _, _>(card::modify_stock),
        wechat::<c::TestWhitelistRequest, _, _>(card::set_test_whitelist),
        wechat::<c::QrCodeCreateRequest, _, _>(card::create_qrcode),
        wechat::<c::LandingPageCreateRequest, _, _>(card::create_landing_page),
        // Codes (spec/codes.md)
        wechat::<k::CodeGetRequest, _, _>(code::get),
        wechat::<k::ConsumeRequest, _, _>(code::consume),
        wechat::<k::DecryptRequest, _, _>(code::decrypt),
        wechat::<k::CodeUpdateRequest, _, _>(code::update),
        wechat::<k::UnavailableRequest, _, _>(code::unavailable),
        wechat::<k::DepositRequest, _, _>(code::deposit),
        wechat::<k::GetDepositCountRequest, _, _>(code::deposit_count),
        wechat::<k::CheckCodeRequest, _, _>(code::check_code),
        wechat::<k::GetCardListRequest, _, _>(code::card_list),
        wechat::<k::MarkRequest, _, _>(code::mark),
        // Member cards (spec/membercard.md)
        wechat::<m::ActivateUserFormRequest, _, _>(member::set_form),
        wechat::<m::GetActivateUrlRequest, _, _>(member::activate_url),
        wechat::<m::ActivateTempInfoRequest, _, _>(member::temp_info),
        wechat::<m::ActivateRequest, _, _>(member::activate),
        wechat::<m::MemberInfoRequest, _, _>(member::user_info),
        wechat::<m::UpdateMemberRequest, _, _>(member::update_user),
        // Per-code tickets and cells (spec/cards.md §12)
        wechat::<k::MovieTicketRequest, _, _>(code::movie_ticket),
        wechat::<k::BoardingPassRequest, _, _>(code::boarding_pass),
        wechat::<k::MeetingTicketRequest, _, _>(code::meeting_ticket),
        wechat::<c::PayCellRequest, _, _>(card::set_pay_cell),
        wechat::<c::SelfConsumeCellRequest, _, _>(card::set_self_consume_cell),
    ]
}

/// The admin API (DESIGN §8).
fn admin_routes() -> Vec<ApiRoute> {
    use openapi::Doc;
    use wxcard_wire::admin as w;
    vec![
        post_route(
            "/admin/v1/open-platforms",
            admin::create_open_platform,
            Doc::post::<w::CreateOpenPlatformRequest, w::CreateOpenPlatformResponse>(
                "Creates an open platform account, which binds apps under one UnionID space.",
            ),
        ),
        post_route(
            "/admin/v1/apps",
            admin::create_app,
            Doc::post::<w::CreateAppRequest, w::AppView>(
                "Creates a Service Account or Mini Program with its AppSecret and keys.",
            ),
        ),
        get_route(
            "/admin/v1/apps",
            admin::list_apps,
            Doc::get::<admin::AppList>("Every app."),
        ),
        get_route(
            "/admin/v1/apps/{appid}",
            admin::get_app,
            Doc::get::<w::AppView>("One app."),
        ),
        ApiRoute::new(
            MethodFilter::PUT,
            "/admin/v1/apps/{appid}/push",
            admin::set_push,
            Doc::post::<w::SetPushRequest, w::PushSet>(
                "Sets where a Service Account's events are pushed, after the URL answers the handshake.",
            ),
        ),
        post_route(
            "/admin/v1/users",
            admin::create_user,
            Doc::post::<w::CreateUserRequest, w::CreateUserResponse>("Creates a virtual WeChat user."),
        ),
        get_route(
            "/admin/v1/users",
            admin::list_users,
            Doc::get::<admin::UserList>("Every user with their openids."),
        ),
        get_route(
            "/admin/v1/users/{user_id}",
            admin::get_user,
            Doc::get::<w::UserView>("One user."),
        ),
        get_route(
            "/admin/v1/clock",
            admin::get_clock,
            Doc::get::<w::ClockView>("The platform clock and its offset."),
        ),
        post_route(
            "/admin/v1/clock/advance",
            admin::advance_clock,
            Doc::post::<w::ClockAdvanceRequest, w::ClockView>(
                "Moves the clock forward, running what falls due.",
            ),
        ),
        post_route(
            "/admin/v1/cards/{card_id}/review",
            admin::review_card,
            Doc::post::<w::ReviewRequest, w::ReviewResponse>("Approves or rejects a card in review."),
        ),
        get_route(
            "/admin/v1/events",
            admin::list_events,
            Doc::get::<w::EventList>("The outbox, newest first.").with_query::<admin::EventQuery>(),
        ),
        get_route(
            "/admin/v1/requests",
            admin::recent_requests,
            Doc::get::<w::RequestList>("The last WeChat API calls answered, newest first."),
        ),
        get_route(
            "/admin/v1/events/{id}",
            admin::get_event,
            Doc::get::<w::EventDetail>("One event with its XML and every delivery attempt."),
        ),
        post_route(
            "/admin/v1/events/{id}/redeliver",
            admin::redeliver_event,
            Doc::get::<w::Redelivered>("Puts an event back in the queue with fresh attempts."),
        ),
    ]
}

/// The simulator API (DESIGN §5, §8).
fn sim_routes() -> Vec<ApiRoute> {
    use openapi::Doc;
    use wxcard_wire::admin as w;
    vec![
        post_route(
            "/sim/v1/login",
            sim::login,
            Doc::post::<w::SimLoginRequest, w::SimLoginResponse>(
                "wx.login: a code that /sns/jscode2session accepts.",
            ),
        ),
        post_route(
            "/sim/v1/addCard",
            sim::add_card,
            Doc::post::<w::SimAddCardRequest, w::SimAddCardResponse>(
                "wx.addCard as a user, with a diagnosis on failure.",
            ),
        ),
        post_route(
            "/sim/v1/openCard",
            sim::open_card,
            Doc::post::<w::SimOpenCardRequest, w::JsapiOk>("wx.openCard as a user."),
        ),
        post_route(
            "/sim/v1/navigateToMiniProgram",
            component::navigate,
            Doc::post::<w::SimNavigateRequest, w::SimNavigateResponse>(
                "Opens the member card-opening component.",
            ),
        ),
        get_route(
            "/sim/v1/component/{session}",
            component::view,
            Doc::get::<w::ComponentView>("What the card-opening component shows."),
        ),
        post_route(
            "/sim/v1/component/{session}/submit",
            component::submit,
            Doc::post::<wxcard_wire::member::UserInfo, w::OnShowOptions>(
                "Submits the card-opening form.",
            ),
        ),
        post_route(
            "/sim/v1/component/{session}/cancel",
            component::cancel,
            Doc::get::<w::OnShowOptions>("Leaves the card-opening component."),
        ),
        post_route(
            "/sim/v1/tap",
            component::tap,
            Doc::post::<w::SimTapRequest, w::SimTapResponse>(
                "Taps a cell or button on a card, following its jump.",
            ),
        ),
        post_route(
            "/sim/v1/gifts/{gift_id}/accept",
            sim::accept_gift,
            Doc::post::<w::AcceptGiftRequest, w::GiftAccepted>("A friend accepts a gifted card."),
        ),
        get_route(
            "/sim/v1/users/{user_id}",
            admin::sim_user,
            Doc::get::<w::SimUserView>("A user as the simulator page shows them."),
        ),
        get_route(
            "/sim/v1/users/{user_id}/cards",
            sim::card_package,
            Doc::get::<w::CardPackage>("A user's card package."),
        ),
        post_route(
            "/sim/v1/users/{user_id}/cards/{card_id}/{code}/{action}",
            sim::card_action,
            Doc::post::<w::CounterRequest, w::GiftStarted>(
                "A card-package action: view, delete, gift (answers the gift_id), self-consume or pay (with the body); the others answer errcode 0 alone.",
            ),
        ),
    ]
}

/// wxcard's own JSON paths outside the APIs above.
fn own_routes() -> Vec<ApiRoute> {
    use openapi::Doc;
    use serde_json::Value;
    vec![
        get_route(
            "/healthz",
            healthz,
            Doc::get::<Health>("200 once the server answers, with its load.").public(),
        ),
        get_route(
            "/about",
            index,
            Doc::get::<Value>("What this server is.").public(),
        ),
        get_route(
            "/openapi.json",
            openapi_json,
            Doc::get::<Value>("This description.").public(),
        ),
    ]
}

/// Every operation of the OpenAPI description, in route-table order.
pub(crate) fn operations() -> Vec<openapi::Operation> {
    [wechat_routes(), admin_routes(), sim_routes(), own_routes()]
        .iter()
        .flatten()
        .map(ApiRoute::operation)
        .collect()
}

/// The OpenAPI description (`GET /openapi.json`; `wxcard openapi` prints the same text).
#[must_use]
pub fn openapi_text() -> &'static str {
    openapi::document_text()
}

async fn openapi_json() -> Response {
    respond::bytes_response(StatusCode::OK, openapi::document_text())
}

fn into_router(routes: Vec<ApiRoute>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        router.route(route.path, route.handler)
    })
}

/// The whole router.
pub(crate) fn router(state: AppState) -> Router {
    let mut wechat = Router::new();
    let built = built_paths();
    for route in wechat_routes() {
        let expected = catalogue::find(route.path).map_or(Method::Post, |info| info.method);
        wechat = wechat.route(
            route.path,
            route
                .handler
                .fallback(move |request: Request| wrong_method(request, expected)),
        );
    }
    for info in ALL_ENDPOINTS
        .iter()
        .filter(|info| !built.contains(&info.path))
    {
        let error = move || async move {
            match info.scope {
                Scope::Card => HttpError::Unbuilt(info),
                Scope::Outside => HttpError::OutOfScope(info),
            }
        };
        wechat = wechat.route(info.path, any(error));
    }

    let protected = into_router(admin_routes())
        .merge(into_router(sim_routes()))
        .method_not_allowed_fallback(|request: Request| async move {
            HttpError::MethodNotAllowed {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
            }
        })
        .layer(middleware::map_response(admin_status))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_admin_token,
        ));

    Router::new()
        .merge(wechat)
        .merge(protected)
        .merge(into_router(own_routes()))
        .route("/cgi-bin/showqrcode", get(pages::show_qrcode))
        .route("/q/{url_id}", get(pages::qrcode_page))
        .route("/landingpage/{page_id}", get(pages::landing_page))
        .route("/", get(simulator_page))
        .route("/sim/wx.js", get(wx_js))
        .route("/sim/v1/qr", get(pages::code_qr))
        .fallback(|request: Request| async move {
            HttpError::UnknownPath(request.uri().path().to_owned())
        })
        .layer(middleware::from_fn_with_state(
            state.recent.clone(),
            log::log_requests,
        ))
        .layer(middleware::from_fn(allow_pages_elsewhere))
        .with_state(state)
}

/// The paths of the built WeChat endpoints (building the route list once, not per path).
fn built_paths() -> Vec<&'static str> {
    wechat_routes().iter().map(|route| route.path).collect()
}

async fn wrong_method(request: Request, expected: Method) -> HttpError {
    HttpError::WrongMethod {
        path: request.uri().path().to_owned(),
        expected,
    }
}

/// `GET /healthz`: 200 once the server answers, with its open connections and the requests it
/// is answering (never refused for load, so a load balancer tells busy from dead).
async fn healthz(State(app): State<AppState>) -> Response {
    respond::json_response(
        StatusCode::OK,
        &Health {
            status: "ok",
            connections: app.load.connections(),
            in_flight: app.load.in_flight(),
        },
    )
}

/// The answer of `/healthz`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    /// Open connections, this one included.
    connections: usize,
    /// Requests being answered, not counting health checks.
    in_flight: usize,
}

/// `GET /`: what this server is; the simulator page will live here.
async fn index() -> Response {
    respond::json_response(
        StatusCode::OK,
        &serde_json::json!({
            "name": "wxcard",
            "version": env!("CARGO_PKG_VERSION"),
            "health": "/healthz",
        }),
    )
}

/// The simulator web page (DESIGN.md §5): users, the phone frame, the card package, pushes.
async fn simulator_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../static/simulator.html"),
    )
        .into_response()
}

/// The `wx` shim a Mini Program page includes to run against the simulator.
async fn wx_js() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        include_str!("../../static/wx.js"),
    )
        .into_response()
}

/// Lets a Mini Program page served elsewhere on this machine (the merchant's) use the
/// simulator through the `wx` shim: CORS for `/sim/` only, and only for loopback origins, so a
/// web page from anywhere else cannot drive the simulator. `/admin/` (secrets) never answers
/// other origins.
async fn allow_pages_elsewhere(request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .filter(|origin| is_loopback_origin(origin))
        .map(str::to_owned);
    let Some(origin) = origin.filter(|_| request.uri().path().starts_with("/sim/")) else {
        return next.run(request).await;
    };
    let mut response = if request.method() == axum::http::Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::HeaderValue::from_static("GET, POST, PUT"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::HeaderValue::from_static("content-type, authorization"),
        );
        preflight
    } else {
        next.run(request).await
    };
    if let Ok(origin) = header::HeaderValue::from_str(&origin) {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response
            .headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static("origin"));
    }
    response
}

/// `http://127.0.0.1:PORT`, `http://localhost:PORT` or `http://[::1]:PORT`.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = rest
        .strip_prefix("[::1]")
        .map_or_else(|| rest.split(':').next().unwrap_or(""), |_| "[::1]");
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        && rest[host.len()..]
            .strip_prefix(':')
            .map_or(rest.len() == host.len(), |port| {
                !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit())
            })
}

/// Refuses admin and simulator calls without the admin token, when one is configured.
async fn require_admin_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = &state.admin_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if !given.is_some_and(|given| {
            constant_time_eq(given.trim().as_bytes(), expected.expose().as_bytes())
        }) {
            return admin_status(HttpError::AdminAuth.into_response()).await;
        }
    }
    next.run(request).await
}

/// Gives admin and simulator errors their 4xx status (WeChat's own paths always answer 200).
async fn admin_status(mut response: Response) -> Response {
    if let Some(failure) = response
        .extensions()
        .get::<Failure>()
        .filter(|failure| !failure.keep_status)
    {
        *response.status_mut() = failure.error.admin_status();
    }
    response
}

/// One row of `wxcard routes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path.
    pub path: &'static str,
    /// `built`, `not built` or `out of scope`.
    pub status: &'static str,
    /// Where the spec describes it.
    pub spec: &'static str,
}

/// Every WeChat endpoint with its status, in catalogue order.
#[must_use]
pub fn route_table() -> Vec<RouteInfo> {
    let built = built_paths();
    ALL_ENDPOINTS
        .iter()
        .map(|info| RouteInfo {
            method: info.method.as_str(),
            path: info.path,
            status: match (built.contains(&info.path), info.scope) {
                (true, _) => "built",
                (false, Scope::Card) => "not built",
                (false, Scope::Outside) => "out of scope",
            },
            spec: info.spec,
        })
        .collect()
}

/// The route table as aligned text (what `wxcard routes` prints).
#[must_use]
pub fn routes_text() -> String {
    let rows = route_table();
    let width = rows.iter().map(|row| row.path.len()).max().unwrap_or(0);
    rows.iter()
        .map(|row| {
            format!(
                "{:<4} {:<width$}  {:<12}  {}\n",
                row.method, row.path, row.status, row.spec
            )
        })
        .collect()
}

/// The route table as a Markdown table (for docs/compat.md).
#[must_use]
pub fn routes_markdown() -> String {
    let mut out = String::from("| method | path | status | spec |\n|---|---|---|---|\n");
    for row in route_table() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            row.method, row.path, row.status, row.spec
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table_matches_the_committed_snapshot() {
        assert_eq!(
            routes_text(),
            include_str!("../../../../docs/routes.txt"),
            "the route table changed: run `cargo run -- routes > docs/routes.txt` and update docs/compat.md"
        );
    }

    #[test]
    fn the_openapi_description_matches_the_committed_snapshot() {
        assert!(
            openapi_text() == include_str!("../../../../docs/openapi.json"),
            "the OpenAPI description changed: run `cargo run -- openapi > docs/openapi.json`"
        );
    }

    #[test]
    fn docs_compat_lists_every_endpoint_with_its_status() {
        let compat = include_str!("../../../../docs/compat.md");
        for row in route_table() {
            let listed = compat.lines().any(|line| {
                line.contains(&format!("`{}`", row.path))
                    && line.contains(&format!("| {} |", row.status))
            });
            assert!(
                listed,
                "docs/compat.md has no row for {} marked {:?}",
                row.path, row.status
            );
        }
    }
}
