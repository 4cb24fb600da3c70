//! Handlers of codes (spec/codes.md): get, consume, decrypt, update, unavailable, deposit,
//! getdepositcount, checkcode, and the user's card list.

use axum::extract::State;
use wxcard_wire::card::Empty;
use wxcard_wire::code::{
    BoardingPassRequest, CardListItem, CheckCodeRequest, CheckCodeResponse, CodeCard,
    CodeGetRequest, CodeGetResponse, CodeUpdateRequest, ConsumeRequest, ConsumeResponse,
    DecryptRequest, DecryptResponse, DepositRequest, DepositResponse, GetCardListRequest,
    GetCardListResponse, GetDepositCountRequest, GetDepositCountResponse, MarkRequest,
    MeetingTicketRequest, MovieTicketRequest, UnavailableRequest,
};

use crate::domain::auth::Caller;
use crate::http::error::HttpError;
use crate::http::extract::WxJson;
use crate::http::respond::WxOk;
use crate::http::AppState;

/// An empty `card_id` means none (easywechat sends `""`).
fn card_id(card_id: Option<&String>) -> Option<&str> {
    card_id
        .map(String::as_str)
        .filter(|card_id| !card_id.is_empty())
}

/// `POST /card/code/get`: a code, its window, and whether it can be consumed.
pub(crate) async fn get(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<CodeGetRequest>,
) -> Result<WxOk<CodeGetResponse>, HttpError> {
    // Compat: codes.md §2 — check_consume defaults to true.
    let check_consume = request.check_consume.unwrap_or(true);
    let view = app
        .codes
        .get(
            &caller.appid,
            &request.code,
            card_id(request.card_id.as_ref()),
            check_consume,
        )
        .await?;
    Ok(WxOk(CodeGetResponse {
        card: CodeCard {
            card_id: view.user_card.card_id,
            begin_time: Some(view.user_card.begin_time),
            end_time: Some(view.user_card.end_time),
        },
        openid: view.user_card.openid,
        can_consume: view.can_consume,
        user_card_status: view.status.as_str().to_owned(),
    }))
}

/// `POST /card/code/consume`: redeems a code, once.
pub(crate) async fn consume(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<ConsumeRequest>,
) -> Result<WxOk<ConsumeResponse>, HttpError> {
    let user_card = app
        .codes
        .consume(
            &caller.appid,
            &request.code,
            card_id(request.card_id.as_ref()),
            request.outer_str,
        )
        .await?;
    Ok(WxOk(ConsumeResponse {
        card: CodeCard {
            card_id: user_card.card_id,
            begin_time: None,
            end_time: None,
        },
        openid: user_card.openid,
    }))
}

/// `POST /card/code/decrypt`: the real code behind an encrypt_code.
pub(crate) async fn decrypt(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<DecryptRequest>,
) -> Result<WxOk<DecryptResponse>, HttpError> {
    let code = app.codes.decrypt(&caller.appid, &request.encrypt_code)?;
    Ok(WxOk(DecryptResponse { code }))
}

/// `POST /card/code/update`: a custom-code card's code gets a new code string.
pub(crate) async fn update(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<CodeUpdateRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    let card_id = card_id(request.card_id.as_ref()).ok_or_else(|| HttpError::MissingParam {
        name: "card_id",
        errcode: wxcard_wire::ErrCode::MISSING_CARD_ID,
    })?;
    let new_code = request
        .new_code
        .as_ref()
        .or(request.newcode.as_ref())
        .ok_or_else(|| HttpError::MissingField("new_code is missing".into()))?;
    app.codes
        .update_code(&caller.appid, &request.code, card_id, new_code)
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/code/unavailable`: makes a code unusable for good.
pub(crate) async fn unavailable(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<UnavailableRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    app.codes
        .make_unavailable(
            &caller.appid,
            &request.code,
            card_id(request.card_id.as_ref()),
        )
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/code/deposit`: imports up to 100 codes for a deposit-mode card.
pub(crate) async fn deposit(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<DepositRequest>,
) -> Result<WxOk<DepositResponse>, HttpError> {
    let deposited = app
        .codes
        .deposit(&caller.appid, &request.card_id, request.code)
        .await?;
    Ok(WxOk(DepositResponse {
        succ_code: deposited.succ,
        duplicate_code: deposited.duplicate,
        fail_code: Vec::new(),
    }))
}

/// `POST /card/code/getdepositcount`: how many codes were deposited.
pub(crate) async fn deposit_count(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<GetDepositCountRequest>,
) -> Result<WxOk<GetDepositCountResponse>, HttpError> {
    let count = app
        .codes
        .deposit_count(&caller.appid, &request.card_id)
        .await?;
    Ok(WxOk(GetDepositCountResponse { count }))
}

/// `POST /card/code/checkcode`: which codes were deposited.
pub(crate) async fn check_code(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<CheckCodeRequest>,
) -> Result<WxOk<CheckCodeResponse>, HttpError> {
    let (exist_code, not_exist_code) = app
        .codes
        .check_codes(&caller.appid, &request.card_id, request.code)
        .await?;
    Ok(WxOk(CheckCodeResponse {
        exist_code,
        not_exist_code,
    }))
}

/// `POST /card/user/getcardlist`: the codes a user holds of this account's cards.
pub(crate) async fn card_list(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<GetCardListRequest>,
) -> Result<WxOk<GetCardListResponse>, HttpError> {
    let codes = app
        .codes
        .card_list(
            &caller.appid,
            &request.openid,
            card_id(request.card_id.as_ref()),
        )
        .await?;
    Ok(WxOk(GetCardListResponse {
        card_list: codes
            .into_iter()
            .map(|user_card| CardListItem {
                code: user_card.code,
                card_id: user_card.card_id,
            })
            .collect(),
        has_share_card: false,
    }))
}

/// `POST /card/code/mark`: marks (or releases) a friends' coupon code for one user.
pub(crate) async fn mark(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<MarkRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    // codes.md §10: card_id is always required here.
    let card_id = card_id(request.card_id.as_ref()).ok_or_else(|| HttpError::MissingParam {
        name: "card_id",
        errcode: wxcard_wire::ErrCode::MISSING_CARD_ID,
    })?;
    app.codes
        .mark(
            &caller.appid,
            &request.code,
            card_id,
            &request.openid,
            request.is_mark,
        )
        .await?;
    Ok(WxOk(Empty {}))
}

/// A ticket API's body: its code, its optional card_id, the details to store.
struct TicketBody {
    code: String,
    card_id: Option<String>,
    details: serde_json::Value,
}

/// Splits a ticket body and checks that each of `required` is present and not empty;
/// the first one missing is the error.
fn ticket_body(
    mut body: serde_json::Value,
    required: &[&'static str],
) -> Result<TicketBody, HttpError> {
    let Some(object) = body.as_object_mut() else {
        return Err(HttpError::MissingField(
            "the body must be a JSON object".into(),
        ));
    };
    let code = match object.remove("code") {
        Some(serde_json::Value::String(code)) if !code.is_empty() => code,
        _ => return Err(HttpError::MissingField("code is missing".into())),
    };
    let card_id = match object.remove("card_id") {
        Some(serde_json::Value::String(card_id)) if !card_id.is_empty() => Some(card_id),
        _ => None,
    };
    for field in required {
        let present = match object.get(*field) {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(text)) => !text.is_empty(),
            Some(serde_json::Value::Array(items)) => !items.is_empty(),
            Some(_) => true,
        };
        if !present {
            return Err(crate::domain::DomainError::MissingField(field).into());
        }
    }
    Ok(TicketBody {
        code,
        card_id,
        details: body,
    })
}

async fn update_ticket(
    app: &AppState,
    caller: &Caller,
    card_type: &'static str,
    body: TicketBody,
) -> Result<WxOk<Empty>, HttpError> {
    app.codes
        .update_ticket(
            &caller.appid,
            &body.code,
            body.card_id.as_deref(),
            card_type,
            body.details,
        )
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/movieticket/updateuser`: a movie ticket's showing and seats.
pub(crate) async fn movie_ticket(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(MovieTicketRequest(body)): WxJson<MovieTicketRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    // cards.md §12: 41014–41017 name the first missing of these, in this order.
    let body = ticket_body(
        body,
        &["ticket_class", "show_time", "screening_room", "seat_number"],
    )?;
    update_ticket(&app, &caller, "MOVIE_TICKET", body).await
}

/// `POST /card/boardingpass/checkin`: a boarding pass's check-in (or, with
/// `is_cancel:true`, its reset to not checked in).
pub(crate) async fn boarding_pass(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(BoardingPassRequest(body)): WxJson<BoardingPassRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    let cancel = body
        .get("is_cancel")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let required: &[&'static str] = if cancel {
        &[]
    } else {
        // Compat: wechatpy sends seat "" and leaves qrcode_data out by default, so only
        // these three are required.
        &["passenger_name", "class", "etkt_bnr"]
    };
    let body = ticket_body(body, required)?;
    update_ticket(&app, &caller, "BOARDING_PASS", body).await
}

/// `POST /card/meetingticket/updateuser`: a meeting ticket's time, zone, entrance and seat.
pub(crate) async fn meeting_ticket(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(MeetingTicketRequest(body)): WxJson<MeetingTicketRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    // Compat: the spec names no required field; wxcard requires only the code.
    let body = ticket_body(body, &[])?;
    update_ticket(&app, &caller, "MEETING_TICKET", body).await
}
