//! Card template endpoints (`spec/cards.md`). Only the ones built so far have types here.

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Method};

/// `GET /card/getcolors`: the colour palette cards may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetColorsRequest {}

impl Endpoint for GetColorsRequest {
    const PATH: &'static str = "/card/getcolors";
    const METHOD: Method = Method::Get;
    type Response = GetColorsResponse;
}

/// The success body of `/card/getcolors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetColorsResponse {
    /// Every colour, by name and hex value.
    pub colors: Vec<Color>,
}

/// One palette entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Color {
    /// `Color010` … `Color102`.
    pub name: String,
    /// `#63b359` and so on.
    pub value: String,
}

/// The palette, by name and hex value (`spec/cards.md`, colour table; wechatpy and WxJava agree).
pub const PALETTE: &[(&str, &str)] = &[
    ("Color010", "#63b359"),
    ("Color020", "#2c9f67"),
    ("Color030", "#509fc9"),
    ("Color040", "#5885cf"),
    ("Color050", "#9062c0"),
    ("Color060", "#d09a45"),
    ("Color070", "#e4b138"),
    ("Color080", "#ee903c"),
    ("Color081", "#f08500"),
    ("Color082", "#a9d92d"),
    ("Color090", "#dd6549"),
    ("Color100", "#cc463d"),
    ("Color101", "#cf3e36"),
    ("Color102", "#5E6671"),
];
