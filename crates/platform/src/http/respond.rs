//! Responders: WeChat's JSON with its content type, with or without the `errcode: 0` envelope.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The content type WeChat answers with; co-wechat-api parses only JSON-typed answers.
pub(crate) const JSON_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("application/json; encoding=utf-8");

/// A success body wrapped in `{"errcode":0,"errmsg":"ok", …}`.
#[derive(Debug)]
pub(crate) struct WxOk<T>(pub(crate) T);

impl<T: Serialize> IntoResponse for WxOk<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(inner) => bytes_response(StatusCode::OK, with_ok_envelope(&inner)),
            Err(error) => serialization_failed(&error),
        }
    }
}

/// A success body with no envelope (`/cgi-bin/token` answers this way).
#[derive(Debug)]
pub(crate) struct Bare<T>(pub(crate) T);

impl<T: Serialize> IntoResponse for Bare<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

/// Serializes `body` as a JSON response.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => bytes_response(status, bytes),
        Err(error) => serialization_failed(&error),
    }
}

/// A response from bytes that are already JSON.
pub(crate) fn bytes_response(status: StatusCode, bytes: impl Into<Body>) -> Response {
    let mut response = (status, bytes.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON_CONTENT_TYPE);
    response
}

/// Puts `"errcode":0,"errmsg":"ok"` at the front of a serialized JSON object.
pub(crate) fn with_ok_envelope(inner: &[u8]) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"errcode":0,"errmsg":"ok""#;
    let mut out = Vec::with_capacity(inner.len() + HEAD.len() + 1);
    out.extend_from_slice(HEAD);
    match inner {
        [b'{', b'}'] => out.push(b'}'),
        [b'{', rest @ ..] => {
            out.push(b',');
            out.extend_from_slice(rest);
        }
        // Only objects are ever wrapped; anything else is a programming error, kept visible.
        _ => {
            out.extend_from_slice(br#","result":"#);
            out.extend_from_slice(inner);
            out.push(b'}');
        }
    }
    out
}

fn serialization_failed(error: &serde_json::Error) -> Response {
    tracing::error!(error = %error, "could not serialize a response");
    bytes_response(
        StatusCode::OK,
        br#"{"errcode":-1,"errmsg":"system error"}"#.to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_goes_in_front_of_the_fields() {
        assert_eq!(
            with_ok_envelope(br#"{"ticket":"t"}"#),
            br#"{"errcode":0,"errmsg":"ok","ticket":"t"}"#
        );
        assert_eq!(with_ok_envelope(b"{}"), br#"{"errcode":0,"errmsg":"ok"}"#);
    }
}
