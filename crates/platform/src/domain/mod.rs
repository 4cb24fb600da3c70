//! `domain`: the platform's rules and the transactions that apply them. It speaks neither
//! wire shapes nor SQL: handlers convert wire types into the arguments of these services, and
//! the services talk to storage only through the [`crate::store::Tx`] trait.

pub mod accounts;
pub mod auth;
pub mod card_schema;
pub mod cards;
pub mod clock;
pub mod code_crypto;
pub mod codes;
pub mod error;
pub mod events;
pub mod ids;
pub mod members;
pub mod model;

pub use error::{AuthError, DomainError};
