//! The request log: one line per call on stderr, with the errcode and the reason for failures.
//! Query strings are never logged: they carry access_tokens and secrets.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Level;

use crate::http::error::Failure;

/// Logs each request once, after it was answered.
pub(crate) async fn log_requests(request: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "wxcard::request", Level::INFO) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let micros = started.elapsed().as_micros();
    let status = response.status().as_u16();
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
