//! `simulator`: the WeChat client side (a virtual user inside a Mini Program). Like `http`, it
//! is an edge: it may use `wxcard_wire` (signatures) and calls the same domain services.

pub(crate) mod card_ext;
