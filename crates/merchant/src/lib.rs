//! `wxcard-merchant`: a reference merchant server, built only on `wxcard-sdk`, that does what
//! a real merchant's server does around WeChat cards, so that the flows can be watched end to
//! end:
//!
//! - the endpoints a Mini Program page calls: log in (`wx.login` code → Mini Program openid and
//!   unionid), a signed cardExt for `wx.addCard`, record a claim (decrypt each code and keep
//!   Mini Program openid + card_id + code + outer_str), the card-opening component's
//!   `extraData`, activation after a jump-type return, and member details;
//! - the push endpoint: URL handshake, signature check, safe-mode decryption, each event
//!   recorded once even when delivered twice, and the Service Account openid joined to the
//!   Mini Program openid by unionid;
//! - a page listing what it recorded, and the same as JSON.
//!
//! State is one SQLite file. [`Merchant::router`] is an axum `Router`; `wxcard merchant` runs it.

mod page;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use wxcard_sdk::push::{PushQuery, PushReceiver, SUCCESS};
use wxcard_sdk::{ActivateLink, CardExt, Client};
use wxcard_wire::auth::JsCode2SessionRequest;
use wxcard_wire::code::DecryptRequest;
use wxcard_wire::event::{CardEvent, EventMessage};
use wxcard_wire::member::{
    ActivateRequest, ActivateTempInfoRequest, GetActivateUrlRequest, MemberInfoRequest,
};
use wxcard_wire::ErrCode;

pub use store::{MerchantStore, Recorded, StoreError};

/// The card-opening component's appId.
const COMPONENT_APPID: &str = "wxeb490c6f9b154ef9";

/// What the merchant server needs to know.
#[derive(Debug, Clone)]
pub struct MerchantConfig {
    /// The platform: a local wxcard (`http://127.0.0.1:7800`) or WeChat.
    pub platform_url: String,
    /// The Service Account that owns the cards: appid and secret.
    pub service_account: (String, String),
    /// The Mini Program whose pages call this server: appid and secret.
    pub mini_program: (String, String),
    /// The Token the push URL is configured with.
    pub push_token: String,
    /// The EncodingAESKey, for safe and compatible mode.
    pub push_aes_key: Option<String>,
    /// The SQLite file to record into.
    pub db: PathBuf,
}

/// Why the merchant server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The EncodingAESKey is not 43 characters of base64.
    #[error("the EncodingAESKey cannot be used: {0}")]
    Key(String),
}

/// The merchant server.
#[derive(Clone)]
pub struct Merchant {
    inner: Arc<Inner>,
}

struct Inner {
    platform_url: String,
    /// The cards the demo page offers, by role (`coupon`, `jump`, `non_jump`).
    cards: std::sync::RwLock<serde_json::Map<String, Value>>,
    account: Client,
    mini_program: Client,
    mini_program_secret: String,
    receiver: PushReceiver,
    store: MerchantStore,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("service_account", &self.inner.account.appid())
            .finish_non_exhaustive()
    }
}

impl Merchant {
    /// Opens the database and prepares the SDK clients.
    ///
    /// # Errors
    /// A database that cannot be opened, or an unusable EncodingAESKey.
    pub fn build(config: &MerchantConfig) -> Result<Merchant, BuildError> {
        let receiver = match &config.push_aes_key {
            Some(key) => PushReceiver::safe(&config.push_token, key, &config.service_account.0)
                .map_err(|error| BuildError::Key(error.to_string()))?,
            None => PushReceiver::plain(&config.push_token),
        };
        Ok(Merchant {
            inner: Arc::new(Inner {
                platform_url: config.platform_url.trim_end_matches('/').to_owned(),
                cards: std::sync::RwLock::default(),
                account: Client::new(
                    &config.platform_url,
                    &config.service_account.0,
                    &config.service_account.1,
                ),
                mini_program: Client::new(
                    &config.platform_url,
                    &config.mini_program.0,
                    &config.mini_program.1,
                ),
                mini_program_secret: config.mini_program.1.clone(),
                receiver,
                store: MerchantStore::open(&config.db)?,
            }),
        })
    }

    /// Points the platform's push URL for this Service Account at `push_url` (this server's
    /// `/wechat`), through wxcard's admin API at `platform_url`; the platform checks the URL
    /// with WeChat's handshake first, so this server must already be listening.
    ///
    /// # Errors
    /// The platform is unreachable or refuses (a wrong admin token, a failed handshake).
    pub async fn configure_push(
        &self,
        platform_url: &str,
        admin_token: Option<&str>,
        push_url: &str,
        push_token: &str,
        push_aes_key: Option<&str>,
    ) -> Result<(), String> {
        let mut body = json!({"url": push_url, "token": push_token, "mode": "plain"});
        if let Some(key) = push_aes_key {
            body["encoding_aes_key"] = json!(key);
            body["mode"] = json!("safe");
        }
        let mut request = reqwest::Client::new()
            .put(format!(
                "{}/admin/v1/apps/{}/push",
                platform_url.trim_end_matches('/'),
                self.inner.account.appid()
            ))
            .json(&body);
        if let Some(token) = admin_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the platform refused the push URL: {}",
                response.text().await.unwrap_or_default()
            ))
        }
    }

    /// The cards the demo page offers: `coupon`, `jump` (a jump-type member card) and
    /// `non_jump`, by card_id.
    pub fn set_cards(&self, cards: &[(&str, &str)]) {
        let mut held = self
            .inner
            .cards
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (role, card_id) in cards {
            held.insert((*role).to_owned(), Value::String((*card_id).to_owned()));
        }
    }

    /// The SDK client of the Service Account (the demo creates its cards with it).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.inner.account
    }

    /// What was recorded so far.
    ///
    /// # Errors
    /// The database failed.
    pub fn recorded(&self) -> Result<Recorded, StoreError> {
        self.inner.store.recorded()
    }

    /// The routes: `/wechat` (pushes), `/api/…` (the Mini Program page's calls), `/` (what
    /// was recorded, as a page) and `/api/records` (the same as JSON).
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/", get(records_page))
            .route("/mp/", get(mini_program_page))
            .route("/api/config", get(page_config))
            .route("/api/records", get(records_json))
            .route("/api/login", post(login))
            .route("/api/card-ext", post(card_ext))
            .route("/api/claims", post(record_claims))
            .route("/api/activation", post(activation))
            .route("/api/activate", post(activate))
            .route("/api/member", get(member))
            .route("/wechat", get(handshake).post(push))
            .with_state(self.clone())
    }
}

/// A failure answered as JSON `{error}` with a status, never a panic.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<wxcard_sdk::Error> for Failure {
    fn from(error: wxcard_sdk::Error) -> Self {
        match error {
            // The platform's own words (errcode and errmsg) help the page; a transport
            // failure's details stay in the server's log.
            wxcard_sdk::Error::Api { .. } => Failure(
                StatusCode::BAD_GATEWAY,
                format!("the platform said: {error}"),
            ),
            other => {
                eprintln!("merchant: the platform could not be reached: {other}");
                Failure(
                    StatusCode::BAD_GATEWAY,
                    "the platform could not be reached".into(),
                )
            }
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

/// The demo Mini Program page; it loads the `wx` shim from the platform.
async fn mini_program_page(State(merchant): State<Merchant>) -> Html<String> {
    Html(include_str!("../static/mp.html").replace("{{PLATFORM}}", &merchant.inner.platform_url))
}

/// What the demo page needs: the cards it offers.
async fn page_config(State(merchant): State<Merchant>) -> Json<Value> {
    let cards = merchant
        .inner
        .cards
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Json(json!({ "cards": cards }))
}

async fn records_json(State(merchant): State<Merchant>) -> Result<Json<Recorded>, Failure> {
    Ok(Json(merchant.inner.store.recorded()?))
}

async fn records_page(State(merchant): State<Merchant>) -> Result<Html<String>, Failure> {
    Ok(Html(page::render(&merchant.inner.store.recorded()?)))
}

#[derive(Deserialize)]
struct LoginRequest {
    js_code: String,
}

/// `wx.login`'s code → the Mini Program openid (and unionid), remembered for the joins.
async fn login(
    State(merchant): State<Merchant>,
    Json(request): Json<LoginRequest>,
) -> Result<Json<Value>, Failure> {
    let inner = &merchant.inner;
    let session = inner
        .mini_program
        .jscode2session(&JsCode2SessionRequest {
            appid: inner.mini_program.appid().to_owned(),
            secret: inner.mini_program_secret.clone(),
            js_code: request.js_code,
            grant_type: "authorization_code".into(),
        })
        .await?;
    inner
        .store
        .remember_user(session.unionid.as_deref(), Some(&session.openid), None)?;
    Ok(Json(
        json!({ "openid": session.openid, "unionid": session.unionid }),
    ))
}

#[derive(Deserialize)]
struct CardExtRequest {
    card_id: String,
    #[serde(default)]
    outer_str: Option<String>,
}

/// A signed cardExt for `wx.addCard`.
async fn card_ext(
    State(merchant): State<Merchant>,
    Json(request): Json<CardExtRequest>,
) -> Result<Json<Value>, Failure> {
    let mut card_ext = CardExt::new(&request.card_id);
    if let Some(outer_str) = &request.outer_str {
        card_ext = card_ext.outer_str(outer_str);
    }
    let signed = merchant.inner.account.sign_card_ext(card_ext).await?;
    Ok(Json(
        json!({ "cardId": signed.card_id, "cardExt": signed.card_ext }),
    ))
}

#[derive(Deserialize)]
struct ClaimedCard {
    #[serde(rename = "cardId")]
    card_id: String,
    /// The encrypted code from `wx.addCard`'s success callback.
    code: String,
}

#[derive(Deserialize)]
struct ClaimsRequest {
    /// The Mini Program openid of the user (from `/api/login`).
    openid: String,
    #[serde(rename = "cardList")]
    card_list: Vec<ClaimedCard>,
    #[serde(default)]
    outer_str: Option<String>,
}

/// Records a `wx.addCard` success: each code decrypted and kept with the Mini Program openid.
async fn record_claims(
    State(merchant): State<Merchant>,
    Json(request): Json<ClaimsRequest>,
) -> Result<Json<Value>, Failure> {
    let inner = &merchant.inner;
    let mut cards = Vec::with_capacity(request.card_list.len());
    for claimed in request.card_list {
        let code = inner
            .account
            .decrypt_code(&DecryptRequest {
                encrypt_code: claimed.code,
            })
            .await?
            .code;
        inner.store.record_claim(
            &request.openid,
            &claimed.card_id,
            &code,
            request.outer_str.as_deref(),
        )?;
        cards.push(json!({ "cardId": claimed.card_id, "code": code }));
    }
    Ok(Json(json!({ "cardList": cards })))
}

#[derive(Deserialize)]
struct ActivationRequest {
    card_id: String,
    #[serde(default)]
    outer_str: Option<String>,
}

/// The `wx.navigateToMiniProgram` arguments that open the card-opening component.
async fn activation(
    State(merchant): State<Merchant>,
    Json(request): Json<ActivationRequest>,
) -> Result<Json<Value>, Failure> {
    let url = merchant
        .inner
        .account
        .get_activate_url(&GetActivateUrlRequest {
            card_id: request.card_id,
            outer_str: request.outer_str,
        })
        .await?
        .url;
    let link = ActivateLink::parse(&url)
        .map_err(|error| Failure(StatusCode::BAD_GATEWAY, error.to_string()))?;
    Ok(Json(
        json!({ "appId": COMPONENT_APPID, "extraData": link.extra_data() }),
    ))
}

#[derive(Deserialize)]
struct ActivateBody {
    activate_ticket: String,
    card_id: String,
    code: String,
}

/// After a jump-type return: read the form with the ticket, then activate the member.
async fn activate(
    State(merchant): State<Merchant>,
    Json(request): Json<ActivateBody>,
) -> Result<Json<Value>, Failure> {
    let inner = &merchant.inner;
    // The code is at most 20 bytes, as membership_number must be.
    let membership_number = request.code.clone();
    // The form is kept before activating: once the card is activated the ticket stops
    // working, and a retry after a failure below must still find the form.
    let form = match inner
        .account
        .get_activate_temp_info(&ActivateTempInfoRequest {
            activate_ticket: request.activate_ticket,
        })
        .await
    {
        Ok(answer) => {
            let form = serde_json::to_value(&answer.info).unwrap_or(Value::Null);
            inner.store.record_member(
                &request.card_id,
                &request.code,
                &membership_number,
                &form.to_string(),
            )?;
            form
        }
        Err(error) => match inner.store.member_form(&request.card_id, &request.code)? {
            Some(form) if error.errcode() == Some(ErrCode::INVALID_ACTIVATE_TICKET) => form,
            _ => return Err(error.into()),
        },
    };
    match inner
        .account
        .activate_member(&ActivateRequest {
            membership_number: membership_number.clone(),
            code: request.code.clone(),
            card_id: Some(request.card_id.clone()),
            ..ActivateRequest::default()
        })
        .await
    {
        // A retry of an activation that went through: the member is there.
        Err(error) if error.errcode() == Some(ErrCode::ALREADY_MEMBER) => {}
        other => {
            other?;
        }
    }
    Ok(Json(
        json!({ "membership_number": membership_number, "form": form }),
    ))
}

#[derive(Deserialize)]
struct MemberQuery {
    card_id: String,
    code: String,
}

/// A member's details (after a non-jump activation, say).
async fn member(
    State(merchant): State<Merchant>,
    Query(query): Query<MemberQuery>,
) -> Result<Json<Value>, Failure> {
    let member = merchant
        .inner
        .account
        .get_member_info(&MemberInfoRequest {
            card_id: query.card_id,
            code: query.code,
        })
        .await?;
    Ok(Json(serde_json::to_value(member).unwrap_or(Value::Null)))
}

async fn handshake(State(merchant): State<Merchant>, RawQuery(query): RawQuery) -> Response {
    let query = PushQuery::parse(query.as_deref().unwrap_or(""));
    match merchant.inner.receiver.handshake(&query) {
        Ok(echostr) => echostr.into_response(),
        Err(error) => (StatusCode::UNAUTHORIZED, error.to_string()).into_response(),
    }
}

/// A push: checked, decrypted, recorded once, answered `success`.
async fn push(
    State(merchant): State<Merchant>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let query = PushQuery::parse(query.as_deref().unwrap_or(""));
    let event = match merchant.inner.receiver.receive(&query, &body) {
        Ok(event) => event,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    match record_event(&merchant.inner.store, &event) {
        Ok(_) => SUCCESS.into_response(),
        // Not `success`: the platform retries, so nothing is lost.
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// Records an event once, by WeChat's de-duplication key (FromUserName + CreateTime) plus
/// the event, card and code, and joins the Service Account openid by unionid.
fn record_event(store: &MerchantStore, event: &EventMessage) -> Result<bool, StoreError> {
    let (card_id, code) = card_and_code(&event.event);
    let xml = event.render();
    // Redeliveries are byte-identical; two events in one second with the same card and code
    // (two updateuser calls, say) differ in their XML.
    let key = format!(
        "{}|{}|{}|{}|{}|{}",
        event.header.from_user_name,
        event.header.create_time,
        event.event_name(),
        card_id,
        code,
        wxcard_wire::sign::sha1_hex(xml.as_bytes())
    );
    let new = store.record_event(
        &key,
        event.event_name(),
        &event.header.from_user_name,
        &card_id,
        &code,
        event.header.create_time,
        &xml,
    )?;
    if let CardEvent::UserGetCard(get) = &event.event {
        if let Some(unionid) = &get.union_id {
            store.remember_user(Some(unionid), None, Some(&event.header.from_user_name))?;
        }
    }
    Ok(new)
}

fn card_and_code(event: &CardEvent) -> (String, String) {
    match event {
        CardEvent::UserGetCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserConsumeCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserDelCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserGiftingCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserViewCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserPayFromPayCell(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UpdateMemberCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::SubmitMembercardUserInfo(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::UserEnterSessionFromCard(e) => (e.card_id.clone(), e.user_card_code.clone()),
        CardEvent::CardPassCheck(e) => (e.card_id.clone(), String::new()),
        CardEvent::CardNotPassCheck(e) => (e.card_id.clone(), String::new()),
        CardEvent::CardSkuRemind(e) => (e.card_id.clone(), String::new()),
        CardEvent::CardPayOrder(_) | CardEvent::Unknown { .. } => (String::new(), String::new()),
    }
}
