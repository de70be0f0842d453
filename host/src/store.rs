//! The data in each component instance's `Store`.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::log::LogWriter;
use crate::outbound::OutboundPolicy;
use crate::postgres::{PostgresCtx, PostgresView};
use crate::sqlite::{SqliteCtx, SqliteView};
use crate::variables::ComponentVariables;

/// Per-instance host state.
pub struct StoreState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
    sqlite: SqliteCtx,
    postgres: PostgresCtx,
    variables: Arc<ComponentVariables>,
    /// Memory and instance limits enforced by the store's limiter.
    pub limits: StoreLimits,
}

/// What a component's instances are given; cloned into each new store.
#[derive(Clone)]
pub struct Grants {
    /// Outbound HTTP allow-list.
    pub outbound: OutboundPolicy,
    /// SQLite databases it may open.
    pub sqlite: SqliteCtx,
    /// PostgreSQL addresses it may open, and its pools.
    pub postgres: PostgresCtx,
    /// Its resolved variables.
    pub variables: Arc<ComponentVariables>,
    /// Where its standard output and error go; `None`: the host's stderr.
    pub output: Option<LogWriter>,
    /// Its environment variables.
    pub environment: Vec<(String, String)>,
    /// Directories it reads, mounted read-only: where each is on the host
    /// and where the component sees it.
    pub files: Vec<(std::path::PathBuf, String)>,
}

impl StoreState {
    /// Fresh state for one instance; fails if a mounted directory is gone.
    pub fn new(grants: &Grants, memory_bytes: usize) -> wasmtime::Result<Self> {
        let mut wasi = WasiCtx::builder();
        // Guest output goes to the host's log (stderr), never to its stdout.
        match &grants.output {
            Some(log) => wasi.stdout(log.clone()).stderr(log.clone()),
            None => wasi.stdout(std::io::stderr()).stderr(std::io::stderr()),
        };
        wasi.envs(&grants.environment);
        for (host, guest) in &grants.files {
            wasi.preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadOnly)?;
        }
        let wasi = wasi.build();
        Ok(Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            outbound: grants.outbound.clone(),
            sqlite: grants.sqlite.clone(),
            postgres: grants.postgres.clone(),
            variables: grants.variables.clone(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(false)
                .build(),
        })
    }

    /// The view `spin:sqlite` works on.
    pub fn sqlite(&mut self) -> SqliteView<'_> {
        SqliteView {
            table: &mut self.table,
            ctx: &self.sqlite,
        }
    }

    /// The view `spin:postgres` works on.
    pub fn postgres(&mut self) -> PostgresView<'_> {
        PostgresView {
            table: &mut self.table,
            ctx: &self.postgres,
        }
    }

    /// The view `spin:variables` works on.
    pub fn variables(&mut self) -> &ComponentVariables {
        &self.variables
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
