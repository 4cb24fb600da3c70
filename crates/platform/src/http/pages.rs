//! What wxcard serves to people rather than programs: QR code images, the page a QR code
//! opens, and landing pages. Everything else stays JSON.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use crate::domain::model::Card;
use crate::http::card::base_url;
use crate::http::error::HttpError;
use crate::http::extract::QueryParams;
use crate::http::png::qr_png;
use crate::http::AppState;

/// `GET /cgi-bin/showqrcode?ticket=T`: the QR code's image (WeChat serves it from mp.weixin.qq.com).
pub(crate) async fn show_qrcode(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: QueryParams,
) -> Result<Response, HttpError> {
    let ticket = query.get("ticket").unwrap_or_default().to_owned();
    let qrcode = app.cards.qrcode(&ticket).await?;
    let url = format!("{}/q/{}", base_url(&headers), qrcode.url_id);
    let png = qr_png(url.as_bytes())
        .ok_or_else(|| HttpError::BadBody("the QR payload is too long to draw".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        png,
    )
        .into_response())
}

/// `GET /q/{url_id}`: what scanning a card QR code opens.
pub(crate) async fn qrcode_page(
    State(app): State<AppState>,
    Path(url_id): Path<String>,
) -> Result<Response, HttpError> {
    let qrcode = app.cards.qrcode(&url_id).await?;
    let entries: Vec<&Value> = match qrcode.action_name.as_str() {
        "QR_CARD" => qrcode.action_info.get("card").into_iter().collect(),
        _ => qrcode
            .action_info
            .pointer("/multiple_card/card_list")
            .and_then(Value::as_array)
            .map(|list| list.iter().collect())
            .unwrap_or_default(),
    };
    let mut items = String::new();
    for entry in entries {
        let card_id = entry
            .get("card_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let title = match app.cards.get(&qrcode.appid, card_id).await {
            Ok(card) => card_title(&card),
            Err(_) => "(card no longer available)".to_owned(),
        };
        items.push_str(&format!(
            "<li><b>{}</b> <code>{}</code></li>",
            escape(&title),
            escape(card_id)
        ));
    }
    Ok(page(
        "Card QR code",
        &format!(
            "<p>This QR code ({}) lets a WeChat user claim:</p><ul>{items}</ul><p>Claim it as a virtual user through the simulator API.</p>",
            escape(&qrcode.action_name)
        ),
    ))
}

/// `GET /landingpage/{page_id}`: a landing page (card shelf).
pub(crate) async fn landing_page(
    State(app): State<AppState>,
    Path(page_id): Path<String>,
) -> Result<Response, HttpError> {
    let page_id: i64 = page_id
        .parse()
        .map_err(|_| HttpError::UnknownPath(format!("/landingpage/{page_id}")))?;
    let (landing, cards) = app.cards.landing_page(page_id).await?;
    let mut items = String::new();
    for card in &cards {
        let color = card
            .base_info_text("color")
            .and_then(|name| {
                wxcard_wire::card::PALETTE
                    .iter()
                    .find(|(known, _)| *known == name)
            })
            .map_or("#888", |(_, hex)| hex);
        let brand = card.base_info_text("brand_name").unwrap_or_default();
        items.push_str(&format!(
            "<li style=\"border-left:8px solid {color};padding:8px;margin:8px 0;list-style:none;background:#fafafa\"><b>{}</b><br>{}<br><code>{}</code></li>",
            escape(&card_title(card)),
            escape(&brand),
            escape(&card.card_id)
        ));
    }
    Ok(page(
        &landing.page_title,
        &format!("<img alt=\"banner\" src=\"{}\" style=\"max-width:100%\"><p>Scene: {}</p><ul style=\"padding:0\">{items}</ul>", escape(&landing.banner), escape(&landing.scene)),
    ))
}

fn card_title(card: &Card) -> String {
    card.base_info_text("title")
        .unwrap_or_else(|| "(untitled)".to_owned())
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{0}</title></head>\
         <body style=\"font-family:sans-serif;max-width:480px;margin:auto;padding:16px\"><h1>{0}</h1>{1}<footer><small>served by wxcard</small></footer></body></html>",
        escape(title),
        body
    );
    (StatusCode::OK, Html(html)).into_response()
}

/// Escapes text for HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /sim/v1/qr?text=T`: a QR code of `text` as a PNG, for the card faces of the simulator
/// page (a code shown as `CODE_TYPE_QRCODE`).
pub(crate) async fn code_qr(query: QueryParams) -> Result<Response, HttpError> {
    let text = query.get("text").unwrap_or_default();
    let png = qr_png(text.as_bytes())
        .ok_or_else(|| HttpError::BadBody("the text is too long for a QR code".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        png,
    )
        .into_response())
}
