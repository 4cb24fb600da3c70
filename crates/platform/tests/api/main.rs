//! The platform's integration tests: each starts the real server on an ephemeral port with its
//! own database and talks to it over HTTP, through the SDK or raw requests.

mod admin;
mod auth;
mod bad_input;
mod card;
mod code;
mod errors;
mod helpers;
mod limits;
mod member;
mod openapi;
mod push;
mod security;
