//! Handlers of card templates (spec/cards.md). Only the palette is built so far.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use wxcard_wire::card::{Color, GetColorsResponse, PALETTE};

use crate::domain::auth::Caller;
use crate::http::respond::{bytes_response, with_ok_envelope};

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
