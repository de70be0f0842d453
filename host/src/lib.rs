//! `jiandu` — runs a Spin application manifest (`spin.toml`) on wasmtime.
//!
//! This is the only crate that knows wasmtime. It reads the same manifest real
//! Spin or SpinKube would run, pre-instantiates each component, and serves
//! HTTP: each request is routed by Spin's rules to a component instance
//! (reused for several requests), which runs under a memory limit, a time
//! limit (epoch interruption) and a body limit. Components get `spin:sqlite`
//! and `spin:postgres` (sqlx), `spin:variables`, and outbound `wasi:http` to their allowed hosts.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use jiandu_host::{app::{App, AppOptions}, limits::Limits, server};
//! let options = AppOptions {
//!     manifest: "spin.toml".into(),
//!     runtime_config: None,
//!     cache_dir: "data/compiled".into(),
//!     log: None,
//! };
//! let app = std::sync::Arc::new(App::load(&options, Limits::from_env().map_err(anyhow::Error::msg)?).await?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! server::serve(app, listener, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

pub mod app;
pub mod dev_sign_in;
pub mod dispatch;
pub mod engine;
pub mod files;
pub mod issuers;
pub mod keyfile;
pub mod keys;
pub mod limits;
pub mod log;
pub mod manifest;
pub mod migrate;
pub mod outbound;
pub mod postgres;
pub mod routes;
pub mod runtime_config;
pub mod server;
pub mod spin_headers;
pub mod sql;
pub mod sqlite;
pub mod store;
pub mod variables;
mod whole_body;

/// Host bindings for the Spin interfaces in `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "spin-host",
        imports: { default: async | trappable },
        with: {
            "spin:sqlite/sqlite.connection": crate::sqlite::Connection,
            "spin:postgres/postgres.connection": crate::postgres::Connection,
            "spin:postgres/postgres.connection-builder": crate::postgres::Builder,
        },
    });
}
