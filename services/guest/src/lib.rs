//! What every Jiandu Spin component shares.
//!
//! Components are small: they validate a request against its schema, check
//! who may call, and write the domain row plus an outbox row in one
//! transaction. This crate holds the pieces they have in common, so no
//! component copies another.

pub mod api;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod db;
pub mod idempotency;
pub mod lateness;
pub mod orgs;
pub mod outbox;
pub mod query;
pub mod schema;
pub mod seal;
pub mod staff;
mod store;
#[cfg(feature = "tables")]
pub mod table;
pub mod variables;
