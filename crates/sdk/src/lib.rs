//! `wxcard-sdk`: a typed client for the WeChat card API, pointed at WeChat or at a local
//! wxcard, and the merchant server's end of its event pushes.
//!
//! - [`Client`]: one typed method per endpoint (request and response types come from
//!   [`wxcard_wire`], the same types the wxcard server uses), and [`Client::call`] beneath
//!   them for any [`Endpoint`]. The client fetches the access_token and the api_tickets itself,
//!   keeps them in a [`TokenCache`] ([`MemoryCache`] by default, Redis with the `redis`
//!   feature) until five minutes before they expire, lets one caller refresh while the others
//!   wait (single flight), and retries a call once when the platform says the token is invalid
//!   or expired (40001, 42001).
//! - [`CardExt`] signs the `cardExt` a Mini Program passes to `wx.addCard`;
//!   [`ActivateLink`] reads the card-opening component's `extraData` from a geturl link.
//! - [`push::PushReceiver`] checks and decrypts event pushes; [`push::router`] (feature
//!   `axum`) mounts it.
//!
//! It holds no global state and never panics on a bad answer: every failure is an [`Error`].
//!
//! # The claim flow, from the merchant's side
//!
//! ```no_run
//! # async fn example() -> Result<(), wxcard_sdk::Error> {
//! use wxcard_sdk::{CardExt, Client, TicketKind};
//! use wxcard_wire::code::{CodeGetRequest, ConsumeRequest, DecryptRequest};
//!
//! // The Service Account that owns the card; point it at WeChat with WECHAT_BASE_URL.
//! let client = Client::new("http://127.0.0.1:7800", "wx0123456789abcdef", "0123456789abcdef0123456789abcdef");
//!
//! // 1. Sign a cardExt for the Mini Program page (it calls wx.addCard with it).
//! let ticket = client.api_ticket(TicketKind::WxCard).await?;
//! let signed = CardExt::new("pFS7Fjg8kV1IdDz01r4SQwMkuCKc").outer_str("poster01").sign(&ticket);
//! println!("wx.addCard({{cardList: [{{cardId: {:?}, cardExt: {:?}}}]}})", signed.card_id, signed.card_ext);
//!
//! // 2. The page sends back cardList[0].code, which is encrypted: decrypt and record it.
//! let encrypted = "…from wx.addCard's success callback…".to_owned();
//! let code = client.decrypt_code(&DecryptRequest { encrypt_code: encrypted }).await?.code;
//!
//! // 3. At the counter: check the code, then redeem it (once; a second consume is 40099).
//! let view = client.get_code(&CodeGetRequest { code: code.clone(), card_id: None, check_consume: None }).await?;
//! assert!(view.can_consume);
//! client.consume_code(&ConsumeRequest { code, card_id: None, outer_str: None }).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod cache;
mod calls;
#[doc(hidden)]
pub use calls::TYPED_PATHS;
mod card_ext;
mod percent;
pub mod push;
#[cfg(feature = "redis")]
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use wxcard_wire::auth::{TicketRequest, TokenRequest};
use wxcard_wire::{Endpoint, ErrCode, Method};

pub use cache::{CacheError, MemoryCache, TokenCache};
pub use card_ext::{ActivateLink, CardExt, LinkError, SignedCardExt};

/// WeChat's API host, for production use.
pub const WECHAT_BASE_URL: &str = "https://api.weixin.qq.com";

/// Refresh a token or ticket this long before the platform says it expires (at most a fifth
/// of its lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// What went wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The platform answered with a non-zero errcode.
    #[error("errcode {errcode}: {errmsg}")]
    Api {
        /// The code; compare with [`ErrCode`] constants.
        errcode: ErrCode,
        /// The message, with any hint the platform added.
        errmsg: String,
    },
    /// The request did not reach the platform, or its answer did not come back. The error
    /// carries no URL: URLs hold the access_token, or the AppSecret for `/cgi-bin/token`.
    #[error("transport error: {0}")]
    Transport(reqwest::Error),
    /// The answer was not the JSON the endpoint promises.
    #[error("cannot decode the answer of {path}: {message}")]
    Decode {
        /// The endpoint.
        path: &'static str,
        /// What did not fit.
        message: String,
    },
    /// The token cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Error::Transport(error.without_url())
    }
}

impl Error {
    /// The errcode, for API errors.
    #[must_use]
    pub fn errcode(&self) -> Option<ErrCode> {
        match self {
            Error::Api { errcode, .. } => Some(*errcode),
            Error::Transport(_) | Error::Decode { .. } | Error::Cache(_) => None,
        }
    }
}

/// Which api_ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketKind {
    /// `wx_card`: signs cardExt and chooseCard.
    WxCard,
    /// `jsapi`: signs `wx.config`.
    Jsapi,
}

impl TicketKind {
    fn as_str(self) -> &'static str {
        match self {
            TicketKind::WxCard => "wx_card",
            TicketKind::Jsapi => "jsapi",
        }
    }
}

/// A client for one app (appid + secret).
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    appid: String,
    secret: String,
    cache: Arc<dyn TokenCache>,
    token_flight: Mutex<()>,
    card_ticket_flight: Mutex<()>,
    jsapi_ticket_flight: Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the platform at `base_url` (`http://127.0.0.1:7800`, or [`WECHAT_BASE_URL`]).
    #[must_use]
    pub fn new(base_url: &str, appid: &str, secret: &str) -> Self {
        Self::with_http(reqwest::Client::new(), base_url, appid, secret)
    }

    /// Like [`Client::new`], with a `reqwest::Client` of your own (timeouts, proxies).
    #[must_use]
    pub fn with_http(http: reqwest::Client, base_url: &str, appid: &str, secret: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            appid: appid.to_owned(),
            secret: secret.to_owned(),
            cache: Arc::new(MemoryCache::new()),
            token_flight: Mutex::new(()),
            card_ticket_flight: Mutex::new(()),
            jsapi_ticket_flight: Mutex::new(()),
        }
    }

    /// Keeps tokens and tickets in `cache` instead of this client's memory (a
    /// [`redis::RedisCache`](crate::cache) shared by several processes, say).
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<dyn TokenCache>) -> Self {
        self.cache = cache;
        self
    }

    /// The app this client acts for.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }

    fn key(&self, what: &str) -> String {
        format!("{}:{what}", self.appid)
    }

    /// The value under `key`, or a fresh one from `fetch` (value, expires_in seconds) when
    /// there is none: one caller fetches while the others wait for its answer.
    async fn cached<F, Fut>(&self, key: &str, flight: &Mutex<()>, fetch: F) -> Result<String, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(String, i64), Error>>,
    {
        if let Some(value) = self.cache.get(key).await? {
            return Ok(value);
        }
        let _flight = flight.lock().await;
        if let Some(value) = self.cache.get(key).await? {
            return Ok(value);
        }
        let (value, expires_in) = fetch().await?;
        let lifetime = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        // Five minutes ahead, or a fifth of a short lifetime, so a short-lived token is still
        // cached for most of its life.
        let margin = REFRESH_MARGIN.min(lifetime / 5);
        self.cache
            .set(key, &value, lifetime.saturating_sub(margin))
            .await?;
        Ok(value)
    }

    /// The current access_token, fetched when there is none or it is about to expire. When
    /// many tasks ask at once, one fetches and the others wait for its answer.
    ///
    /// # Errors
    /// When the token endpoint refuses (wrong secret, unknown appid) or cannot be reached.
    pub async fn access_token(&self) -> Result<String, Error> {
        self.cached(&self.key("access_token"), &self.token_flight, || async {
            let request = TokenRequest {
                grant_type: "client_credential".into(),
                appid: self.appid.clone(),
                secret: self.secret.clone(),
            };
            let fresh = self.send(&request, None).await?;
            Ok((fresh.access_token, fresh.expires_in))
        })
        .await
    }

    /// An api_ticket (`wx_card` for cardExt signatures, `jsapi` for `wx.config`), cached and
    /// refreshed like the access_token.
    ///
    /// # Errors
    /// When the token or the ticket cannot be fetched.
    pub async fn api_ticket(&self, kind: TicketKind) -> Result<String, Error> {
        let flight = match kind {
            TicketKind::WxCard => &self.card_ticket_flight,
            TicketKind::Jsapi => &self.jsapi_ticket_flight,
        };
        let key = self.key(&format!("ticket:{}", kind.as_str()));
        self.cached(&key, flight, || async {
            let ticket = self
                .call(&TicketRequest {
                    ticket_type: kind.as_str().into(),
                })
                .await?;
            Ok((ticket.ticket, ticket.expires_in))
        })
        .await
    }

    /// Signs `card_ext` with this Service Account's `wx_card` ticket.
    ///
    /// # Errors
    /// When the ticket cannot be fetched.
    pub async fn sign_card_ext(&self, card_ext: CardExt) -> Result<SignedCardExt, Error> {
        Ok(card_ext.sign(&self.api_ticket(TicketKind::WxCard).await?))
    }

    /// Forgets the cached token, so that the next call fetches a new one.
    ///
    /// # Errors
    /// When the cache fails.
    pub async fn invalidate_token(&self) -> Result<(), Error> {
        if let Some(token) = self.cache.get(&self.key("access_token")).await? {
            self.forget_token(&token).await?;
        }
        Ok(())
    }

    /// Sends one request. Endpoints that need a token get one; an answer of 40001 or 42001
    /// drops the cached token and the call is tried once more with a fresh one.
    ///
    /// # Errors
    /// The platform's errcode, or a transport or decode failure.
    pub async fn call<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        if !E::NEEDS_TOKEN {
            return self.send(request, None).await;
        }
        let token = self.access_token().await?;
        match self.send(request, Some(&token)).await {
            Err(Error::Api { errcode, .. })
                if errcode == ErrCode::INVALID_CREDENTIAL
                    || errcode == ErrCode::ACCESS_TOKEN_EXPIRED =>
            {
                self.forget_token(&token).await?;
                let token = self.access_token().await?;
                self.send(request, Some(&token)).await
            }
            other => other,
        }
    }

    /// Drops the cached token if it is still the one that failed (another task may have
    /// refreshed it already).
    async fn forget_token(&self, failed: &str) -> Result<(), Error> {
        self.cache
            .remove_if(&self.key("access_token"), failed)
            .await?;
        Ok(())
    }

    async fn send<E: Endpoint>(
        &self,
        request: &E,
        token: Option<&str>,
    ) -> Result<E::Response, Error> {
        let url = format!("{}{}", self.base_url, E::PATH);
        let mut builder = match E::METHOD {
            Method::Get => self.http.get(&url).query(request),
            Method::Post => self.http.post(&url).json(request),
        };
        if let Some(token) = token {
            builder = builder.query(&[("access_token", token)]);
        }
        let bytes = builder.send().await?.bytes().await?;
        decode::<E::Response>(E::PATH, &bytes)
    }
}

/// Reads an answer: a non-zero errcode is an [`Error::Api`], anything else must fit `T`.
fn decode<T: DeserializeOwned>(path: &'static str, bytes: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| Error::Decode {
            path,
            message: format!("not JSON ({error})"),
        })?;
    // Compat: errors.md §1 — errcode may come as a number or a numeric string.
    let errcode = match value.get("errcode") {
        Some(serde_json::Value::Number(number)) => number.as_i64(),
        Some(serde_json::Value::String(text)) => text.parse().ok(),
        _ => Some(0),
    };
    match errcode {
        Some(0) => {}
        Some(code) => {
            let errmsg = value
                .get("errmsg")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Err(Error::Api {
                errcode: ErrCode(i32::try_from(code).unwrap_or(i32::MIN)),
                errmsg,
            });
        }
        None => {
            return Err(Error::Decode {
                path,
                message: "errcode is not a number".into(),
            })
        }
    }
    serde_json::from_value(value).map_err(|error| Error::Decode {
        path,
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxcard_wire::auth::TokenResponse;

    #[test]
    fn a_nonzero_errcode_is_an_api_error_with_its_message() {
        let error = decode::<TokenResponse>(
            "/cgi-bin/token",
            br#"{"errcode":"40125","errmsg":"invalid appsecret"}"#,
        )
        .unwrap_err();

        assert_eq!(error.errcode(), Some(ErrCode::INVALID_APPSECRET));
        assert!(error.to_string().contains("invalid appsecret"));
    }

    #[test]
    fn an_answer_that_is_not_json_is_a_decode_error() {
        let error = decode::<TokenResponse>("/cgi-bin/token", b"<html>").unwrap_err();

        assert!(matches!(error, Error::Decode { .. }));
    }

    #[test]
    fn a_success_body_without_errcode_decodes() {
        let token = decode::<TokenResponse>(
            "/cgi-bin/token",
            br#"{"access_token":"t","expires_in":7200}"#,
        )
        .unwrap();

        assert_eq!(token.expires_in, 7200);
    }
}
