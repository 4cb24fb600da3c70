//! Handlers of the client simulator (DESIGN §5): one virtual user inside one Mini Program.
//! Each answers with the callback object the Mini Program would get, plus `diagnosis` on failure.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wxcard_wire::admin::{
    AcceptGiftRequest, AddCardItem, AddedCard, CardPackage, CounterRequest, GiftAccepted,
    GiftStarted, JsapiOk, PackagedCardView, PackagedMember, SimAddCardRequest, SimAddCardResponse,
    SimLoginRequest, SimLoginResponse, SimOpenCardRequest,
};

use crate::domain::accounts::UserDetails;
use crate::domain::card_schema::CodeMode;
use crate::domain::codes::{may_distribute, Claim, CounterAction, PackagedCard};
use crate::domain::members::version_below;
use crate::domain::model::{App, AppKind, SignedCardExt};
use crate::domain::DomainError;
use crate::simulator::card_ext::{check_card_ext, CardExtCheck, CardExtFailure, TicketCandidate};

use crate::http::error::{Failure, HttpError};
use crate::http::extract::{parse_json, WxBody, WxJson};
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

/// The base library version that introduced `wx.addCard` and `wx.openCard` (jsapi.md §7).
const CARD_API_MIN_BASE_LIBRARY: [u32; 3] = [1, 1, 0];

/// The answer a page gets when the user's base library predates `wx.<api>` (1.1.0 for the
/// card APIs, jsapi.md §7): the function does not exist.
fn missing_api(api: &str, user: &UserDetails) -> Option<Response> {
    if !version_below(&user.user.base_library, CARD_API_MIN_BASE_LIBRARY) {
        return None;
    }
    let summary = format!(
        "wx.{api} is not a function: the user's base library {} is older than 1.1.0; check wx.canIUse('{api}') and fall back for old clients",
        user.user.base_library
    );
    Some(jsapi_fail(
        api,
        wxcard_wire::ErrCode::API_UNAUTHORIZED,
        &summary,
        &serde_json::json!({ "summary": summary }),
        None,
    ))
}

/// A `fail` callback with a free-form diagnosis.
fn jsapi_fail(
    api: &str,
    errcode: wxcard_wire::ErrCode,
    summary: &str,
    diagnosis: &serde_json::Value,
    card_list: Option<Vec<AddedCard>>,
) -> Response {
    let mut body = serde_json::json!({
        "errMsg": format!("{api}:fail {summary}"),
        "errcode": errcode.0,
        "errmsg": wxcard_wire::WxError::with_hint(errcode, summary).errmsg,
        "diagnosis": diagnosis.clone(),
    });
    if let Some(card_list) = card_list {
        body["cardList"] = serde_json::to_value(card_list).unwrap_or_default();
    }
    json_response(StatusCode::OK, &body)
}

/// Turns a domain failure of a simulated call into its `fail` callback.
pub(crate) fn domain_fail(
    api: &str,
    error: crate::domain::DomainError,
    card_index: Option<usize>,
    card_list: Option<Vec<AddedCard>>,
) -> Response {
    let error = HttpError::from(error);
    let summary = error.to_string();
    let mut diagnosis = serde_json::json!({ "summary": summary });
    if let Some(index) = card_index {
        diagnosis["card_index"] = serde_json::json!(index);
    }
    jsapi_fail(api, error.errcode(), &summary, &diagnosis, card_list)
}

/// `POST /sim/v1/addCard`: `wx.addCard` — checks each cardExt as WeChat's client and server
/// would, claims the cards, and answers with encrypted codes, or says exactly what was wrong.
pub(crate) async fn add_card(
    State(app): State<AppState>,
    WxJson(request): WxJson<SimAddCardRequest>,
) -> Response {
    const API: &str = "addCard";
    let user = match app.accounts.user(request.user_id.clone()).await {
        Ok(user) => user,
        Err(error) => return domain_fail(API, error, None, None),
    };
    let mini_program = match app.accounts.app(request.appid.clone()).await {
        Ok(app) if app.kind == AppKind::MiniProgram => app,
        Ok(other) => {
            return domain_fail(
                API,
                DomainError::WrongAppKind {
                    appid: other.appid,
                    needed: AppKind::MiniProgram,
                    actual: other.kind,
                },
                None,
                None,
            )
        }
        Err(error) => return domain_fail(API, error, None, None),
    };
    if let Some(failure) = missing_api(API, &user) {
        return failure;
    }
    if request.card_list.is_empty() {
        let summary = "cardList is empty: pass at least one {cardId, cardExt}";
        return jsapi_fail(
            API,
            wxcard_wire::ErrCode::INVALID_ARGS,
            summary,
            &serde_json::json!({ "summary": summary }),
            None,
        );
    }
    let mut added = Vec::with_capacity(request.card_list.len());
    for (index, item) in request.card_list.into_iter().enumerate() {
        match add_one(&app, &user, &mini_program, &item).await {
            Ok(code) => added.push(AddedCard {
                card_id: item.card_id,
                card_ext: item.card_ext,
                code,
                is_success: true,
            }),
            Err(failure) => {
                let mut diagnosis = failure.diagnosis;
                diagnosis["card_index"] = serde_json::json!(index);
                diagnosis["added_before_the_failure"] = serde_json::json!(added.len());
                return jsapi_fail(
                    API,
                    failure.errcode,
                    &failure.summary,
                    &diagnosis,
                    Some(added),
                );
            }
        }
    }
    WxOk(SimAddCardResponse {
        err_msg: "addCard:ok".into(),
        card_list: added,
    })
    .into_response()
}

/// Why one card of an addCard failed.
struct AddFailure {
    errcode: wxcard_wire::ErrCode,
    summary: String,
    diagnosis: serde_json::Value,
}

impl From<DomainError> for AddFailure {
    fn from(error: DomainError) -> Self {
        let error = HttpError::from(error);
        let summary = error.to_string();
        Self {
            errcode: error.errcode(),
            diagnosis: serde_json::json!({ "summary": summary }),
            summary,
        }
    }
}

async fn add_one(
    app: &AppState,
    user: &UserDetails,
    mini_program: &App,
    item: &AddCardItem,
) -> Result<String, AddFailure> {
    let (card, owner) = app.cards.card_and_owner(&item.card_id).await?;
    if !may_distribute(mini_program, &owner) {
        let summary = format!(
            "the Mini Program {} cannot hand out cards of the Service Account {}: bind both to one open platform account (POST /admin/v1/apps with the same open_platform_id)",
            mini_program.appid, owner.appid
        );
        return Err(AddFailure {
            errcode: wxcard_wire::ErrCode::API_UNAUTHORIZED,
            diagnosis: serde_json::json!({ "summary": summary }),
            summary,
        });
    }
    let user_openid = user
        .openids
        .iter()
        .find_map(|(appid, openid)| (*appid == owner.appid).then(|| openid.clone()))
        .unwrap_or_default();
    let tickets = app.auth.card_tickets(&owner.appid).await?;
    let candidates: Vec<TicketCandidate<'_>> = tickets
        .iter()
        .map(|(ticket, usable, label)| TicketCandidate {
            ticket,
            usable: *usable,
            label,
        })
        .collect();
    let code_mode = match card.code_mode.as_str() {
        "custom" => CodeMode::Custom,
        "deposit" => CodeMode::Deposit,
        _ => CodeMode::System,
    };
    let mut check = CardExtCheck {
        list_card_id: &item.card_id,
        card_ext: &item.card_ext,
        code_mode,
        bind_openid: card.bind_openid,
        user_openid: &user_openid,
        tickets: &candidates,
        app_secret: &owner.secret,
        jsapi_ticket: None,
        other_card_ids: &[],
        now: app.clock.now(),
    };
    // The account's jsapi ticket and other cards only help to name a mistake: load them
    // only when the signature did not verify, and check again with them.
    let verified = match check_card_ext(&check) {
        Ok(verified) => verified,
        Err(failure) if failure.signature.is_none() => return Err(add_failure(&failure)),
        Err(_) => {
            let jsapi_ticket = app.auth.latest_jsapi_ticket(&owner.appid).await?;
            let other_card_ids: Vec<String> = app
                .cards
                .all_card_ids(&owner.appid)
                .await?
                .into_iter()
                .filter(|card_id| *card_id != card.card_id)
                .collect();
            let other_ids: Vec<&str> = other_card_ids.iter().map(String::as_str).collect();
            check.jsapi_ticket = jsapi_ticket.as_deref();
            check.other_card_ids = &other_ids;
            check_card_ext(&check).map_err(|failure| add_failure(&failure))?
        }
    };
    let user_card = app
        .codes
        .claim(Claim {
            user_id: user.user.user_id.clone(),
            card_id: card.card_id.clone(),
            code: verified.code,
            outer_str: verified.outer_str,
            outer_id: verified.outer_id,
            fixed_begintimestamp: verified.fixed_begintimestamp,
            card_ext: Some(SignedCardExt {
                timestamp: verified.timestamp,
                nonce_str: verified.nonce_str,
                signature: verified.signature.to_ascii_lowercase(),
            }),
        })
        .await?;
    Ok(app.codes.encrypt_code(&owner.appid, &user_card.code))
}

fn add_failure(failure: &CardExtFailure) -> AddFailure {
    AddFailure {
        errcode: failure.errcode,
        diagnosis: card_ext_diagnosis(failure),
        summary: failure.summary.clone(),
    }
}

fn card_ext_diagnosis(failure: &CardExtFailure) -> serde_json::Value {
    let mut diagnosis = serde_json::json!({
        "summary": failure.summary,
        "mistake": format!("{:?}", failure.mistake),
    });
    if let Some(signature) = &failure.signature {
        diagnosis["signature"] = serde_json::json!({
            "sorted_values": signature.sorted_values,
            "joined": signature.joined,
            "expected": signature.expected,
            "given": signature.given,
            "ticket": signature.ticket,
        });
    }
    diagnosis
}

/// `POST /sim/v1/openCard`: `wx.openCard` — needs the real code; an encrypted one is the
/// classic mistake and is named as such.
pub(crate) async fn open_card(
    State(app): State<AppState>,
    WxJson(request): WxJson<SimOpenCardRequest>,
) -> Response {
    const API: &str = "openCard";
    let user = match app.accounts.user(request.user_id.clone()).await {
        Ok(user) => user,
        Err(error) => return domain_fail(API, error, None, None),
    };
    if let Some(failure) = missing_api(API, &user) {
        return failure;
    }
    for (index, item) in request.card_list.iter().enumerate() {
        if let Err(error) = app
            .codes
            .view(&request.user_id, &item.card_id, &item.code)
            .await
        {
            // An encrypt_code of the card's account decrypts: say that it must be decrypted first.
            if let Ok((_, owner)) = app.cards.card_and_owner(&item.card_id).await {
                if let Ok(real) = app.codes.decrypt(&owner.appid, &item.code) {
                    let summary = format!(
                        "cardList[{index}].code is the encrypted code from wx.addCard; wx.openCard needs the real code: decrypt it with /card/code/decrypt first (it is {real})"
                    );
                    return jsapi_fail(
                        API,
                        wxcard_wire::ErrCode::INVALID_SERIAL_CODE,
                        &summary,
                        &serde_json::json!({ "summary": summary, "card_index": index, "mistake": "EncryptedCodeGiven" }),
                        None,
                    );
                }
            }
            return domain_fail(API, error, Some(index), None);
        }
    }
    json_response(
        StatusCode::OK,
        &JsapiOk {
            err_msg: "openCard:ok".into(),
        },
    )
}

/// `GET /sim/v1/users/{user_id}/cards`: the user's card package.
pub(crate) async fn card_package(
    State(app): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<WxOk<CardPackage>, HttpError> {
    let package = app.codes.card_package(&user_id).await?;
    let mut cards = Vec::with_capacity(package.len());
    for PackagedCard {
        user_card,
        status,
        card,
        ticket,
        member,
    } in package
    {
        cards.push(PackagedCardView {
            title: card.base_info_text("title"),
            brand_name: card.base_info_text("brand_name"),
            color: card.base_info_text("color"),
            code_type: card.base_info_text("code_type"),
            logo_url: card.base_info_text("logo_url"),
            card_id: user_card.card_id,
            code: user_card.code,
            card_type: card.card_type,
            status: status.as_str().to_owned(),
            begin_time: user_card.begin_time,
            end_time: user_card.end_time,
            openid: user_card.openid,
            ticket,
            member: member.map(|member| PackagedMember {
                has_active: member.has_active,
                membership_number: member.membership_number,
                bonus: member.bonus,
                balance: member.balance,
            }),
        });
    }
    Ok(WxOk(CardPackage { cards }))
}

/// `POST /sim/v1/users/{user_id}/cards/{card_id}/{code}/view|delete`: the user opens or
/// deletes a card in the card package.
pub(crate) async fn card_action(
    State(app): State<AppState>,
    Path((user_id, card_id, code, action)): Path<(String, String, String, String)>,
    WxBody(body): WxBody,
) -> Result<Response, HttpError> {
    match action.as_str() {
        "view" => {
            app.codes.view(&user_id, &card_id, &code).await?;
        }
        "gift" => {
            let gift_id = app.codes.gift(&user_id, &card_id, &code).await?;
            return Ok(WxOk(GiftStarted { gift_id }).into_response());
        }
        "delete" => {
            app.codes
                .delete_from_package(&user_id, &card_id, &code)
                .await?;
        }
        "self-consume" | "pay" => {
            let body: CounterRequest = if body.iter().all(u8::is_ascii_whitespace) {
                CounterRequest::default()
            } else {
                parse_json(&body)?
            };
            let action = if action == "pay" {
                let fee = body.fee.ok_or_else(|| {
                    HttpError::MissingField("fee (the amount paid, in fen) is missing".into())
                })?;
                let original_fee = body.original_fee.unwrap_or(fee);
                if fee < 0 || original_fee < fee {
                    return Err(HttpError::BadBody(format!(
                        "fee {fee} and original_fee {original_fee} must satisfy 0 <= fee <= original_fee (fen)"
                    )));
                }
                CounterAction::Pay { fee, original_fee }
            } else {
                CounterAction::SelfConsume {
                    verify_code: body.verify_code,
                    remark_amount: body.remark_amount,
                }
            };
            app.codes.at_counter(&user_id, &card_id, &code, action).await?;
        }
        other => {
            return Err(HttpError::UnknownPath(format!(
            "/sim/v1/users/{user_id}/cards/{card_id}/{code}/{other} (actions: view, delete, gift, self-consume, pay)"
        )))
        }
    }
    Ok(WxOk(wxcard_wire::card::Empty {}).into_response())
}

/// `POST /sim/v1/gifts/{gift_id}/accept {user_id}`: a friend accepts a gifted card.
pub(crate) async fn accept_gift(
    State(app): State<AppState>,
    Path(gift_id): Path<String>,
    WxJson(request): WxJson<AcceptGiftRequest>,
) -> Result<WxOk<GiftAccepted>, HttpError> {
    let received = app.codes.accept_gift(&gift_id, &request.user_id).await?;
    Ok(WxOk(GiftAccepted {
        card_id: received.card_id,
        code: received.code,
    }))
}
