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
mod pages;
mod png;
pub(crate) mod respond;
mod sim;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put, MethodRouter};
use axum::Router;
use wxcard_wire::catalogue::{self, Scope, ALL_ENDPOINTS};
use wxcard_wire::Method;

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
}

/// The WeChat endpoints that are built: (path, handler). Everything else in the catalogue is
/// answered as not built yet.
fn wechat_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        // Auth (spec/auth.md)
        ("/cgi-bin/token", get(auth::token)),
        ("/cgi-bin/stable_token", post(auth::stable_token)),
        ("/cgi-bin/ticket/getticket", get(auth::get_ticket)),
        ("/sns/jscode2session", get(auth::jscode2session)),
        // Card templates (spec/cards.md)
        ("/card/getcolors", get(card::get_colors)),
        ("/card/create", post(card::create)),
        ("/card/get", post(card::get)),
        ("/card/batchget", post(card::batch_get)),
        ("/card/update", post(card::update)),
        ("/card/delete", post(card::delete)),
        ("/card/modifystock", post(card::modify_stock)),
        ("/card/testwhitelist/set", post(card::set_test_whitelist)),
        ("/card/qrcode/create", post(card::create_qrcode)),
        ("/card/landingpage/create", post(card::create_landing_page)),
        // Codes (spec/codes.md)
        ("/card/code/get", post(code::get)),
        ("/card/code/consume", post(code::consume)),
        ("/card/code/decrypt", post(code::decrypt)),
        ("/card/code/update", post(code::update)),
        ("/card/code/unavailable", post(code::unavailable)),
        ("/card/code/deposit", post(code::deposit)),
        ("/card/code/getdepositcount", post(code::deposit_count)),
        ("/card/code/checkcode", post(code::check_code)),
        ("/card/user/getcardlist", post(code::card_list)),
        ("/card/code/mark", post(code::mark)),
        // Member cards (spec/membercard.md)
        (
            "/card/membercard/activateuserform/set",
            post(member::set_form),
        ),
        (
            "/card/membercard/activate/geturl",
            post(member::activate_url),
        ),
        (
            "/card/membercard/activatetempinfo/get",
            post(member::temp_info),
        ),
        ("/card/membercard/activate", post(member::activate)),
        ("/card/membercard/userinfo/get", post(member::user_info)),
        ("/card/membercard/updateuser", post(member::update_user)),
        ("/card/movieticket/updateuser", post(code::movie_ticket)),
        ("/card/boardingpass/checkin", post(code::boarding_pass)),
        ("/card/meetingticket/updateuser", post(code::meeting_ticket)),
        ("/card/paycell/set", post(card::set_pay_cell)),
        (
            "/card/selfconsumecell/set",
            post(card::set_self_consume_cell),
        ),
    ]
}

/// The admin API (DESIGN §8): (method, path, handler).
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/open-platforms",
            post(admin::create_open_platform),
        )
        .route(
            "/admin/v1/apps",
            post(admin::create_app).get(admin::list_apps),
        )
        .route("/admin/v1/apps/{appid}", get(admin::get_app))
        .route("/admin/v1/apps/{appid}/push", put(admin::set_push))
        .route(
            "/admin/v1/users",
            post(admin::create_user).get(admin::list_users),
        )
        .route("/admin/v1/users/{user_id}", get(admin::get_user))
        .route("/admin/v1/clock", get(admin::get_clock))
        .route("/admin/v1/clock/advance", post(admin::advance_clock))
        .route("/admin/v1/cards/{card_id}/review", post(admin::review_card))
        .route("/admin/v1/events", get(admin::list_events))
        .route("/admin/v1/requests", get(admin::recent_requests))
        .route("/admin/v1/events/{id}", get(admin::get_event))
        .route(
            "/admin/v1/events/{id}/redeliver",
            post(admin::redeliver_event),
        )
}

/// The simulator API (DESIGN §5, §8).
fn sim_routes() -> Router<AppState> {
    Router::new()
        .route("/sim/v1/login", post(sim::login))
        .route("/sim/v1/addCard", post(sim::add_card))
        .route("/sim/v1/openCard", post(sim::open_card))
        .route("/sim/v1/navigateToMiniProgram", post(component::navigate))
        .route("/sim/v1/component/{session}", get(component::view))
        .route(
            "/sim/v1/component/{session}/submit",
            post(component::submit),
        )
        .route(
            "/sim/v1/component/{session}/cancel",
            post(component::cancel),
        )
        .route("/sim/v1/tap", post(component::tap))
        .route("/sim/v1/gifts/{gift_id}/accept", post(sim::accept_gift))
        .route("/sim/v1/users/{user_id}", get(admin::sim_user))
        .route("/sim/v1/users/{user_id}/cards", get(sim::card_package))
        .route(
            "/sim/v1/users/{user_id}/cards/{card_id}/{code}/{action}",
            post(sim::card_action),
        )
}

/// The whole router.
pub(crate) fn router(state: AppState) -> Router {
    let mut wechat = Router::new();
    let built = wechat_routes();
    for (path, handler) in built {
        let expected = catalogue::find(path).map_or(Method::Post, |info| info.method);
        wechat = wechat.route(
            path,
            handler.fallback(move |request: Request| wrong_method(request, expected)),
        );
    }
    for info in ALL_ENDPOINTS.iter().filter(|info| !is_built(info.path)) {
        let error = move || async move {
            match info.scope {
                Scope::Card => HttpError::Unbuilt(info),
                Scope::Outside => HttpError::OutOfScope(info),
            }
        };
        wechat = wechat.route(info.path, any(error));
    }

    let protected = admin_routes()
        .merge(sim_routes())
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
        .route("/healthz", get(healthz))
        .route("/cgi-bin/showqrcode", get(pages::show_qrcode))
        .route("/q/{url_id}", get(pages::qrcode_page))
        .route("/landingpage/{page_id}", get(pages::landing_page))
        .route("/", get(simulator_page))
        .route("/about", get(index))
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

fn is_built(path: &str) -> bool {
    wechat_routes().iter().any(|(built, _)| *built == path)
}

async fn wrong_method(request: Request, expected: Method) -> HttpError {
    HttpError::WrongMethod {
        path: request.uri().path().to_owned(),
        expected,
    }
}

/// `GET /healthz`: 200 once the server answers.
async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, respond::JSON_CONTENT_TYPE)],
        r#"{"status":"ok"}"#,
    )
        .into_response()
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
    ALL_ENDPOINTS
        .iter()
        .map(|info| RouteInfo {
            method: info.method.as_str(),
            path: info.path,
            status: match (is_built(info.path), info.scope) {
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
