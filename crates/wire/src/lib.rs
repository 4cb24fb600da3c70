//! `wxcard-wire`: the WeChat card API as it appears on the wire.
//!
//! This crate owns every serialized shape that crosses a process boundary: endpoint request
//! and response types (shared by the platform and the SDK, so the two cannot disagree), the
//! errcode table, event XML, signatures and message crypto. It holds no I/O: no tokio, axum
//! or SQL. Validation of values lives in the platform's domain newtypes, not here.

pub mod admin;
pub mod auth;
pub mod card;
pub mod catalogue;
pub mod code;
pub mod crypto;
pub mod endpoint;
pub mod errcode;
pub mod event;
pub mod fuzz;
pub mod member;
#[cfg(test)]
mod robustness;
pub mod sign;

pub use endpoint::{Endpoint, Method};
pub use errcode::{ErrCode, WxError};
