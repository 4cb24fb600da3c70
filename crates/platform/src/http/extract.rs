//! Extractors: the JSON body as WeChat's clients send it, query parameters, and the caller
//! behind `?access_token=`. Every rejection is an [`HttpError`], so it answers in WeChat's shape.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use wxcard_wire::ErrCode;

use crate::domain::auth::Caller;
use crate::http::error::HttpError;
use crate::http::serve::BodyTimeout;
use crate::http::AppState;

/// A JSON body, read whatever the `Content-Type` says.
///
/// Compat: clients.md §1.4 — wechatpy posts JSON with no `Content-Type` at all.
#[derive(Debug)]
pub(crate) struct WxJson<T>(pub(crate) T);

/// axum's default cap on a body it buffers (`DefaultBodyLimit`), which every handler keeps.
pub(crate) const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WxJson<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let WxBody(bytes) = WxBody::from_request(request, state).await?;
        parse_json(&bytes).map(WxJson)
    }
}

/// The raw body, read within the size limit and the body timeout ([`BodyTimeout`], set per
/// request by the accept loop).
#[derive(Debug)]
pub(crate) struct WxBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for WxBody {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let timeout = request.extensions().get::<BodyTimeout>().copied();
        let read = Bytes::from_request(request, state);
        let read = match timeout {
            Some(BodyTimeout(limit)) => tokio::time::timeout(limit, read).await.map_err(|_| {
                HttpError::BadBody(format!(
                    "the body did not arrive within {} ms (limits.body_timeout_ms); send it whole, with a Content-Length that matches it",
                    limit.as_millis()
                ))
            })?,
            None => read.await,
        };
        let bytes = read.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                return HttpError::BadBody(format!(
                    "the body is larger than {BODY_LIMIT_BYTES} bytes, the most wxcard reads; WeChat's card API bodies are a few kilobytes"
                ));
            }
            HttpError::BadBody(format!("the body could not be read: {rejection}"))
        })?;
        Ok(WxBody(bytes))
    }
}

/// Parses a JSON body into `T`, sorting failures into WeChat's errcodes: nothing (44002), not
/// JSON (47001), a required field missing (41011), a field of the wrong type (47001).
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(HttpError::EmptyBody);
    }
    // JSON is UTF-8 (RFC 8259), and serde_json does not check the strings of fields it skips.
    if let Err(error) = std::str::from_utf8(bytes) {
        return Err(HttpError::BadBody(format!(
            "the body is not UTF-8: the bytes from {} on are not; send JSON encoded as UTF-8",
            error.valid_up_to()
        )));
    }
    if let Some(at) = nested_too_deep(bytes) {
        return Err(HttpError::BadBody(format!(
            "the body nests arrays or objects deeper than {MAX_DEPTH} levels (at byte {at})"
        )));
    }
    // The common case is a good body: parse it plainly, and only on failure parse it again
    // tracking the path, so that the hint can name the field ("card.base_info.title").
    match serde_json::from_slice(bytes) {
        Ok(parsed) => Ok(parsed),
        Err(plain) => Err(explain_json_error::<T>(bytes, &plain)),
    }
}

/// How deep a body may nest, serde_json's own limit; checked over the whole body because
/// serde_json skips the fields a type does not have without counting their depth.
const MAX_DEPTH: usize = 128;

/// The offset where the body goes deeper than [`MAX_DEPTH`], if it does.
fn nested_too_deep(bytes: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0_usize, false, false);
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn explain_json_error<T: DeserializeOwned>(bytes: &[u8], plain: &serde_json::Error) -> HttpError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (message, category) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let message = if path == "." || path.is_empty() {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            };
            (message, inner.classify())
        }
        // The value parsed but trailing characters did not.
        Ok(_) => (plain.to_string(), plain.classify()),
    };
    match category {
        Category::Data if message.contains("missing field") => HttpError::MissingField(message),
        Category::Data => {
            HttpError::BadBody(format!("a field has the wrong type or value: {message}"))
        }
        Category::Syntax | Category::Eof | Category::Io => {
            HttpError::BadBody(format!("the body is not valid JSON: {message}"))
        }
    }
}

/// The query string's parameters, percent-decoded.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string.
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Self(
            query
                .unwrap_or_default()
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (
                        percent_decode(key).into_owned(),
                        percent_decode(value).into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first non-empty value of `name`, or the errcode WeChat gives for its absence.
    pub(crate) fn required(
        &self,
        name: &'static str,
        errcode: ErrCode,
    ) -> Result<String, HttpError> {
        self.get(name)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or(HttpError::MissingParam { name, errcode })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams::parse(parts.uri.query()))
    }
}

/// Finds one query parameter without collecting the rest (the token check's hot path).
pub(crate) fn query_param<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

/// Decodes `%XX` and `+`. Invalid escapes are kept as they are; invalid UTF-8 is replaced.
pub(crate) fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|byte| byte == b'%' || byte == b'+') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'+' {
            out.push(b' ');
            index += 1;
            continue;
        }
        if byte == b'%' {
            let high = bytes.get(index + 1).copied().and_then(hex_value);
            let low = bytes.get(index + 2).copied().and_then(hex_value);
            if let (Some(high), Some(low)) = (high, low) {
                out.push(high << 4 | low);
                index += 3;
                continue;
            }
        }
        out.push(byte);
        index += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .uri
            .query()
            .and_then(|query| query_param(query, "access_token"));
        Ok(state.auth.check_token(token.as_deref()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        // The outer object is the first level, as for serde_json.
        let deep = format!("{{\"x\": {}{}}}", "[".repeat(127), "]".repeat(127));
        let deeper = format!("{{\"x\": {}{}}}", "[".repeat(128), "]".repeat(128));
        let brackets_in_a_string =
            format!("{{\"x\": \"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));

        assert_eq!(nested_too_deep(deep.as_bytes()), None);
        assert_eq!(nested_too_deep(deeper.as_bytes()), Some(133));
        assert_eq!(nested_too_deep(brackets_in_a_string.as_bytes()), None);
    }

    #[test]
    fn percent_decoding_handles_escapes_plus_and_broken_escapes() {
        assert_eq!(percent_decode("a%2Bb+c"), "a+b c");
        assert_eq!(percent_decode("%E5%8D%A1"), "卡");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn query_parameters_are_found_in_any_order() {
        assert_eq!(
            query_param("type=wx_card&access_token=abc", "access_token").as_deref(),
            Some("abc")
        );
        assert_eq!(
            query_param("access_token=abc&type=jsapi", "type").as_deref(),
            Some("jsapi")
        );
        assert_eq!(
            query_param("access_token", "access_token").as_deref(),
            Some("")
        );
        assert_eq!(query_param("x=1", "access_token"), None);
    }

    #[test]
    fn body_failures_get_wechats_errcodes() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[allow(dead_code)] // Only its presence is tested.
            card_id: String,
        }

        assert_eq!(
            parse_json::<Body>(b"").unwrap_err().errcode(),
            ErrCode::EMPTY_POST_DATA
        );
        assert_eq!(
            parse_json::<Body>(b"{").unwrap_err().errcode(),
            ErrCode::DATA_FORMAT_ERROR
        );
        assert_eq!(
            parse_json::<Body>(b"{}").unwrap_err().errcode(),
            ErrCode::MISSING_REQUIRED_FIELDS
        );
        assert_eq!(
            parse_json::<Body>(br#"{"card_id": 5}"#)
                .unwrap_err()
                .errcode(),
            ErrCode::DATA_FORMAT_ERROR
        );
        assert!(parse_json::<Body>(br#"{"card_id": "p1", "extra": null}"#).is_ok());
    }
}
