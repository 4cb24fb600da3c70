//! `wxcard-sdk`: a typed client for the WeChat card API, pointed at WeChat or at a local wxcard.
//!
//! Every endpoint is a request type from [`wxcard_wire`] that knows its path, method and
//! response; [`Client::call`] sends any of them. The client fetches the access_token itself,
//! caches it until shortly before it expires, lets one caller refresh it while the others wait
//! (single flight), and retries a call once when the platform says the token is invalid or
//! expired (40001, 42001). It holds no global state and never panics on a bad answer.
//!
//! ```no_run
//! # async fn example() -> Result<(), wxcard_sdk::Error> {
//! use wxcard_sdk::Client;
//! use wxcard_wire::auth::TicketRequest;
//!
//! let client = Client::new("http://127.0.0.1:7800", "wx0123456789abcdef", "0123456789abcdef0123456789abcdef");
//! let ticket = client.call(&TicketRequest { ticket_type: "wx_card".into() }).await?;
//! println!("api_ticket {} for {} s", ticket.ticket, ticket.expires_in);
//! # Ok(()) }
//! ```

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use wxcard_wire::auth::{TokenRequest, TokenResponse};
use wxcard_wire::{Endpoint, ErrCode, Method};

/// WeChat's API host, for production use.
pub const WECHAT_BASE_URL: &str = "https://api.weixin.qq.com";

/// Refresh the token this long before WeChat says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

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
    /// The request did not reach the platform, or its answer did not come back.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not the JSON the endpoint promises.
    #[error("cannot decode the answer of {path}: {message}")]
    Decode {
        /// The endpoint.
        path: &'static str,
        /// What did not fit.
        message: String,
    },
}

impl Error {
    /// The errcode, for API errors.
    #[must_use]
    pub fn errcode(&self) -> Option<ErrCode> {
        match self {
            Error::Api { errcode, .. } => Some(*errcode),
            Error::Transport(_) | Error::Decode { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// A client for one app (appid + secret).
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    appid: String,
    secret: String,
    token: Mutex<Option<CachedToken>>,
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
            token: Mutex::new(None),
        }
    }

    /// The app this client acts for.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// The current access_token, fetched when there is none or it is about to expire. When
    /// many tasks ask at once, one fetches and the others wait for its answer.
    ///
    /// # Errors
    /// When the token endpoint refuses (wrong secret, unknown appid) or cannot be reached.
    pub async fn access_token(&self) -> Result<String, Error> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|token| Instant::now() < token.refresh_at)
        {
            return Ok(token.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let lifetime = Duration::from_secs(u64::try_from(fresh.expires_in).unwrap_or(0));
        *cached = Some(CachedToken {
            token: fresh.access_token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        });
        Ok(fresh.access_token)
    }

    /// Forgets the cached token, so that the next call fetches a new one.
    pub async fn invalidate_token(&self) {
        *self.token.lock().await = None;
    }

    async fn fetch_token(&self) -> Result<TokenResponse, Error> {
        let request = TokenRequest {
            grant_type: "client_credential".into(),
            appid: self.appid.clone(),
            secret: self.secret.clone(),
        };
        self.send(&request, None).await
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
                self.forget_token(&token).await;
                let token = self.access_token().await?;
                self.send(request, Some(&token)).await
            }
            other => other,
        }
    }

    /// Drops the cached token if it is still the one that failed (another task may have
    /// refreshed it already).
    async fn forget_token(&self, failed: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|token| token.token == failed) {
            *cached = None;
        }
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
