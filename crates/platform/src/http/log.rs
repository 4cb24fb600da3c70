//! The request log: one line per call on stderr, with the errcode and the reason for failures.
//! Query strings are never logged: they carry access_tokens and secrets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Level;
use wxcard_wire::admin::RequestView;

use crate::http::error::Failure;

/// How many WeChat API calls the simulator page can show.
const RECENT_CAPACITY: usize = 200;

/// The last WeChat API calls (method, path, status, errcode, time; never the query string),
/// newest last, for the simulator page's "API calls received" panel.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentRequests(Arc<Mutex<VecDeque<RequestView>>>);

impl RecentRequests {
    fn push(&self, entry: RequestView) {
        let mut recent = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() == RECENT_CAPACITY {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// Up to `limit` calls, newest first.
    pub(crate) fn newest(&self, limit: usize) -> Vec<RequestView> {
        let recent = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.iter().rev().take(limit).cloned().collect()
    }
}

/// Whether a path is one of WeChat's (not wxcard's own admin, simulator or pages).
fn is_wechat_api(path: &str) -> bool {
    path.starts_with("/card/") || path.starts_with("/cgi-bin/") || path.starts_with("/sns/")
}

/// Logs each request once, after it was answered, and keeps WeChat API calls for the
/// simulator page.
pub(crate) async fn log_requests(
    State(recent): State<RecentRequests>,
    request: Request,
    next: Next,
) -> Response {
    let logging = tracing::enabled!(target: "wxcard::request", Level::INFO);
    let path = request.uri().path().to_owned();
    let keep = is_wechat_api(&path);
    if !logging && !keep {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    let micros = started.elapsed().as_micros();
    let status = response.status().as_u16();
    if keep {
        let errcode = response
            .extensions()
            .get::<Failure>()
            .map_or(0, |failure| failure.error.errcode().0);
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        recent.push(RequestView {
            at_ms: u64::try_from(at).unwrap_or(u64::MAX),
            method: method.as_str().to_owned(),
            path: path.clone(),
            status,
            errcode: errcode.into(),
            micros: u64::try_from(micros).unwrap_or(u64::MAX),
        });
    }
    if !logging {
        return response;
    }
    match response.extensions().get::<Failure>() {
        Some(Failure { error, .. }) => {
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(error.as_ref());
            while let Some(cause) = source {
                reason.push_str(": ");
                reason.push_str(&cause.to_string());
                source = cause.source();
            }
            tracing::info!(target: "wxcard::request", "{method} {path} {status} errcode={} {micros}us {reason}", error.errcode());
        }
        None => {
            tracing::info!(target: "wxcard::request", "{method} {path} {status} errcode=0 {micros}us");
        }
    }
    response
}
