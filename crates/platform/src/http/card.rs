//! Handlers of card templates (spec/cards.md): create, get, batchget, update, delete,
//! modifystock, testwhitelist, QR codes, landing pages, and the palette.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use wxcard_wire::card::{
    BatchGetRequest, BatchGetResponse, Color, CreateCardRequest, CreateCardResponse,
    DeleteCardRequest, Empty, GetCardRequest, GetColorsResponse, LandingPageCreateRequest,
    LandingPageCreateResponse, ModifyStockRequest, PayCellRequest, QrCodeCreateRequest,
    QrCodeCreateResponse, SelfConsumeCellRequest, StatusList, TestWhitelistRequest,
    UpdateCardRequest, UpdateCardResponse, PALETTE,
};

use crate::domain::auth::Caller;
use crate::domain::cards::Cell;
use crate::domain::model::{Card, CardStatus};
use crate::domain::DomainError;
use crate::http::error::HttpError;
use crate::http::extract::WxJson;
use crate::http::respond::{bytes_response, with_ok_envelope, WxOk};
use crate::http::AppState;

/// `GET /card/getcolors`: the colour palette. The answer never changes, so it is serialized once.
pub(crate) async fn get_colors(_caller: Caller) -> Response {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    let body = BODY.get_or_init(|| {
        let colors = PALETTE
            .iter()
            .map(|(name, value)| Color {
                name: (*name).to_owned(),
                value: (*value).to_owned(),
            })
            .collect();
        let inner =
            serde_json::to_vec(&GetColorsResponse { colors }).unwrap_or_else(|_| b"{}".to_vec());
        Bytes::from(with_ok_envelope(&inner))
    });
    bytes_response(StatusCode::OK, body.clone())
}

/// `POST /card/create`: checks every field of the card and starts its review.
pub(crate) async fn create(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(CreateCardRequest(request)): WxJson<CreateCardRequest>,
) -> Result<WxOk<CreateCardResponse>, HttpError> {
    let created = app.cards.create(&caller.appid, request).await?;
    log_ignored(&created.ignored);
    Ok(WxOk(CreateCardResponse {
        card_id: created.card_id,
    }))
}

/// `POST /card/get`: the card as created, plus the server's fields in `base_info`.
pub(crate) async fn get(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<GetCardRequest>,
) -> Result<Response, HttpError> {
    let card = app.cards.get(&caller.appid, &request.card_id).await?;
    // The shape is `GetCardResponse`; it is written as text because the stored document is
    // text already, and parsing it only to print it again is most of this call's cost.
    let view = card_view(&card).map_err(|error| {
        DomainError::Store(crate::store::StoreError::Corrupt(error.to_string()))
    })?;
    let mut body = String::with_capacity(view.len() + 40);
    body.push_str(r#"{"errcode":0,"errmsg":"ok","card":"#);
    body.push_str(&view);
    body.push('}');
    Ok(bytes_response(StatusCode::OK, body))
}

/// `POST /card/batchget`: a page of the Service Account's card ids.
pub(crate) async fn batch_get(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<BatchGetRequest>,
) -> Result<WxOk<BatchGetResponse>, HttpError> {
    let names = match request.status_list {
        None => Vec::new(),
        Some(StatusList::One(name)) => vec![name],
        Some(StatusList::Many(names)) => names,
    };
    let mut statuses = Vec::with_capacity(names.len());
    for name in names {
        let status = CardStatus::parse(&name).ok_or_else(|| DomainError::Invalid { field: "status_list", reason: format!("{name:?} is not a card status (CARD_STATUS_NOT_VERIFY, _VERIFY_FAIL, _VERIFY_OK, _DELETE, _DISPATCH)") })?;
        statuses.push(status);
    }
    let (card_id_list, total_num) = app
        .cards
        .batch_get(&caller.appid, request.offset, request.count, statuses)
        .await?;
    Ok(WxOk(BatchGetResponse {
        card_id_list,
        total_num,
    }))
}

/// `POST /card/update`: changes the updatable fields; says whether review starts again.
pub(crate) async fn update(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(UpdateCardRequest(request)): WxJson<UpdateCardRequest>,
) -> Result<WxOk<UpdateCardResponse>, HttpError> {
    let card_id = match request.get("card_id") {
        Some(Value::String(card_id)) if !card_id.is_empty() => card_id.clone(),
        Some(Value::String(_)) | None => {
            return Err(HttpError::MissingField("card_id is missing".into()))
        }
        Some(_) => {
            return Err(HttpError::BadBody(
                "a field has the wrong type or value: card_id must be a string".into(),
            ))
        }
    };
    let (send_check, ignored) = app.cards.update(&caller.appid, &card_id, request).await?;
    log_ignored(&ignored);
    Ok(WxOk(UpdateCardResponse { send_check }))
}

/// `POST /card/delete`: the card stops being handed out.
pub(crate) async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<DeleteCardRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    app.cards.delete(&caller.appid, &request.card_id).await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/modifystock`: adds or removes stock; never below zero.
pub(crate) async fn modify_stock(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<ModifyStockRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    app.cards
        .modify_stock(
            &caller.appid,
            &request.card_id,
            request.increase_stock_value.unwrap_or(0),
            request.reduce_stock_value.unwrap_or(0),
        )
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/testwhitelist/set`: who may claim cards still in review.
pub(crate) async fn set_test_whitelist(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<TestWhitelistRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    app.cards
        .set_whitelist(
            &caller.appid,
            request.openid.unwrap_or_default(),
            request.username.unwrap_or_default(),
        )
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/qrcode/create`: a QR code that claims one card or up to five.
pub(crate) async fn create_qrcode(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    WxJson(request): WxJson<QrCodeCreateRequest>,
) -> Result<WxOk<QrCodeCreateResponse>, HttpError> {
    let qrcode = app
        .cards
        .create_qrcode(
            &caller.appid,
            request.action_name,
            request.expire_seconds,
            request.action_info,
        )
        .await?;
    let base = base_url(&headers);
    Ok(WxOk(QrCodeCreateResponse {
        show_qrcode_url: format!(
            "{base}/cgi-bin/showqrcode?ticket={}",
            percent_encode(&qrcode.ticket)
        ),
        url: format!("{base}/q/{}", qrcode.url_id),
        expire_seconds: qrcode.expires_at - qrcode.created_at,
        ticket: qrcode.ticket,
    }))
}

/// `POST /card/landingpage/create`: a page that lists cards.
pub(crate) async fn create_landing_page(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    WxJson(request): WxJson<LandingPageCreateRequest>,
) -> Result<WxOk<LandingPageCreateResponse>, HttpError> {
    let page = app
        .cards
        .create_landing_page(
            &caller.appid,
            request.banner,
            request.page_title,
            request.can_share,
            request.scene,
            request.card_list,
        )
        .await?;
    Ok(WxOk(LandingPageCreateResponse {
        url: format!("{}/landingpage/{}", base_url(&headers), page.page_id),
        page_id: page.page_id,
    }))
}

/// Fields of `base_info` that the server fills in; stored values of these are not shown.
const SERVER_FIELDS: &[&str] = &["id", "status", "sku", "create_time", "update_time"];

/// The card as `/card/get` shows it (`{"card_type": …, "<type>": {…}}`): the stored type
/// object with the server's fields added to `base_info`, built from the stored JSON text.
pub(crate) fn card_view(card: &Card) -> Result<String, serde_json::Error> {
    let entries: Entries<'_> = serde_json::from_str(&card.document)?;
    let mut out = String::with_capacity(card.document.len() + 256);
    out.push_str(r#"{"card_type":"#);
    push_json(&mut out, &card.card_type)?;
    out.push(',');
    push_json(&mut out, &card.card_type.to_ascii_lowercase())?;
    out.push_str(":{");
    for (index, (key, value)) in entries.0.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        push_json(&mut out, key)?;
        out.push(':');
        if *key != "base_info" {
            out.push_str(value.get());
            continue;
        }
        let base: Entries<'_> = serde_json::from_str(value.get())?;
        out.push('{');
        for (base_key, base_value) in base
            .0
            .iter()
            .filter(|(base_key, _)| !SERVER_FIELDS.contains(base_key))
        {
            push_json(&mut out, base_key)?;
            out.push(':');
            out.push_str(base_value.get());
            out.push(',');
        }
        out.push_str(r#""id":"#);
        push_json(&mut out, &card.card_id)?;
        out.push_str(&format!(
            r#","status":"{}","sku":{{"quantity":{},"total_quantity":{}}},"create_time":{},"update_time":{}}}"#,
            card.status.as_str(),
            card.quantity,
            card.total_quantity,
            card.create_time,
            card.update_time
        ));
    }
    out.push_str("}}");
    Ok(out)
}

/// A JSON object's members in their order, borrowed from the text.
struct Entries<'a>(Vec<(&'a str, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) =
                    map.next_entry::<&'de str, &'de serde_json::value::RawValue>()?
                {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

fn push_json(out: &mut String, text: &str) -> Result<(), serde_json::Error> {
    out.push_str(&serde_json::to_string(text)?);
    Ok(())
}

/// Where this server is, as the client reached it (for the URLs it hands out).
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty() && host.bytes().all(|byte| byte.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Percent-encodes everything but unreserved characters (a ticket has `+`, `/` and `=`).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn log_ignored(ignored: &[String]) {
    if !ignored.is_empty() {
        tracing::warn!("ignored fields that no card has: {}", ignored.join(", "));
    }
}

/// `POST /card/paycell/set`: turns a card's quick-pay cell on or off.
pub(crate) async fn set_pay_cell(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<PayCellRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    let cell = Cell::Pay {
        is_open: request.is_open,
    };
    app.cards
        .set_cell(&caller.appid, &request.card_id, cell)
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/selfconsumecell/set`: turns a card's self-consume cell on or off.
pub(crate) async fn set_self_consume_cell(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<SelfConsumeCellRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    let cell = Cell::SelfConsume {
        is_open: request.is_open,
        need_verify_code: request.need_verify_cod.unwrap_or(false),
        need_remark_amount: request.need_remark_amount.unwrap_or(false),
    };
    app.cards
        .set_cell(&caller.appid, &request.card_id, cell)
        .await?;
    Ok(WxOk(Empty {}))
}
