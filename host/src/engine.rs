//! The wasmtime engine: one per process, configured once, with one epoch
//! thread; components compiled once and cached on disk by content hash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::limits::Limits;
use crate::store::StoreState;

/// How often the epoch advances; a request's time limit is checked at this grain.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds the engine: async components, epoch interruption, and the pooling
/// allocator unless `limits.pooling` is off; guest functions named for
/// `perf` when `limits.perf_map` is on.
pub fn engine(limits: &Limits) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model_async(true)
        .concurrency_support(true)
        .epoch_interruption(true);
    if limits.perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if limits.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.max_instances)
            .total_core_instances(limits.max_instances * 8)
            .total_memories(limits.max_instances * 2)
            .total_tables(limits.max_instances * 8)
            .max_memory_size(limits.memory_bytes);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("jiandu-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("starting the epoch thread")?;
    Ok(engine)
}

/// The linker with every interface a component may import: WASI 0.2 and 0.3,
/// `wasi:http`, `spin:sqlite`, `spin:postgres` and `spin:variables`.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    crate::bindings::spin::sqlite::sqlite::add_to_linker::<_, crate::sqlite::SpinSqlite>(
        &mut linker,
        StoreState::sqlite,
    )?;
    crate::bindings::spin::postgres::postgres::add_to_linker::<_, crate::postgres::SpinPostgres>(
        &mut linker,
        StoreState::postgres,
    )?;
    crate::bindings::spin::variables::variables::add_to_linker::<_, crate::variables::Variables>(
        &mut linker,
        StoreState::variables,
    )?;
    Ok(linker)
}

/// Loads a component, compiling it only if this exact file has not been
/// compiled by this engine configuration before.
pub fn load_component(engine: &Engine, wasm: &Path, cache_dir: &Path) -> anyhow::Result<Component> {
    let bytes = std::fs::read(wasm).with_context(|| {
        format!(
            "cannot read component {}; build it first (`cargo xtask build`)",
            wasm.display()
        )
    })?;
    let mut hasher = Sha256::new();
    hasher.update(&bytes);
    let mut engine_hash = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut engine_hash);
    hasher.update(std::hash::Hasher::finish(&engine_hash).to_le_bytes());
    let cached: PathBuf = cache_dir.join(format!("{}.cwasm", hex::encode(hasher.finalize())));
    if cached.exists() {
        // SAFETY: the file was written by `Engine::precompile_component` below,
        // for this engine configuration (its hash is part of the name), in a
        // cache directory only this host writes.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %cached.display(), "ignoring a stale compiled component: {e}")
            }
        }
    }
    let started = std::time::Instant::now();
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling component {}", wasm.display()))?;
    tracing::info!(component = %wasm.display(), ms = started.elapsed().as_millis() as u64, "compiled");
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &compiled).is_ok() {
            let _ = std::fs::rename(&tmp, &cached);
        }
    }
    // SAFETY: `compiled` was produced just now by this engine.
    Ok(unsafe { Component::deserialize(engine, &compiled) }?)
}
