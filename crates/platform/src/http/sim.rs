//! Handlers of the client simulator (DESIGN §5): one virtual user inside one Mini Program.
//! Each answers with the callback object the Mini Program would get, plus `diagnosis` on failure.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wxcard_wire::admin::{SimLoginRequest, SimLoginResponse};

use crate::http::error::{Failure, HttpError};
use crate::http::extract::WxJson;
use crate::http::respond::{json_response, WxOk};
use crate::http::AppState;

/// Why a simulated JSAPI call failed, in plain words.
#[derive(Debug, Serialize)]
struct Diagnosis {
    summary: String,
}

#[derive(Debug, Serialize)]
struct JsapiFailure {
    #[serde(rename = "errMsg")]
    err_msg: String,
    errcode: i32,
    errmsg: String,
    diagnosis: Diagnosis,
}

/// `POST /sim/v1/login`: `wx.login` → a code for `/sns/jscode2session`.
pub(crate) async fn login(
    State(app): State<AppState>,
    WxJson(request): WxJson<SimLoginRequest>,
) -> Response {
    match app.auth.login(request.user_id, request.appid).await {
        Ok(code) => WxOk(SimLoginResponse {
            err_msg: "login:ok".into(),
            code: code.code,
        })
        .into_response(),
        Err(error) => jsapi_failure("login", HttpError::from(error)),
    }
}

/// The `fail` callback object, answered with HTTP 200 like every JSAPI result.
fn jsapi_failure(api: &str, error: HttpError) -> Response {
    let body = error.body();
    let summary = error.to_string();
    let failure = JsapiFailure {
        err_msg: format!("{api}:fail {summary}"),
        errcode: body.errcode.0,
        errmsg: body.errmsg,
        diagnosis: Diagnosis { summary },
    };
    let mut response = json_response(StatusCode::OK, &failure);
    // The request log still sees why it failed; the status stays 200 (JSAPI results are not HTTP errors).
    response.extensions_mut().insert(Failure {
        error: Arc::new(error),
        keep_status: true,
    });
    response
}
