//! `wxcard-platform`: the WeChat card platform as a library.
//!
//! [`App::build`] opens the database and binds the listener, [`App::local_addr`] says where,
//! and [`App::run_until_stopped`] serves until [`AppHandle::shutdown`]. The `wxcard` binary and
//! the integration tests both start the server this way.

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod future;
mod http;
mod simulator;
pub mod store;

pub use app::{App, AppHandle, BuildError};
pub use config::Config;
pub use http::{
    openapi_text as http_openapi_text, route_table, routes_markdown as http_routes_markdown,
    routes_text as http_routes_text, RouteInfo,
};
