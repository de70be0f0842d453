//! Engine and request limits. Each has a documented default and an
//! environment variable that overrides it (see the README's configuration table).

use std::time::Duration;

/// Limits applied to every component instance and request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory per instance (`JIANDU_MEMORY_LIMIT_MIB`, default 64).
    pub memory_bytes: usize,
    /// Wall-clock time a request may take (`JIANDU_REQUEST_TIMEOUT_MS`, default 10000).
    pub request_timeout: Duration,
    /// Largest request body (`JIANDU_MAX_BODY_BYTES`, default 1 MiB); larger is 413.
    pub max_body_bytes: usize,
    /// Requests one instance serves before it is replaced (`JIANDU_INSTANCE_REUSE`, default 1000; 1 = fresh per request).
    pub instance_reuse: usize,
    /// Requests one instance serves at once (`JIANDU_INSTANCE_CONCURRENCY`, default 8).
    pub instance_concurrency: usize,
    /// How long an idle instance is kept (`JIANDU_IDLE_INSTANCE_MS`, default 30000).
    pub idle_timeout: Duration,
    /// Use the pooling allocator (`JIANDU_POOLING`, default 1).
    pub pooling: bool,
    /// Instances the pool holds (`JIANDU_MAX_INSTANCES`, default 256).
    pub max_instances: u32,
    /// Name compiled guest functions for `perf` in `/tmp/perf-<pid>.map`
    /// (`JIANDU_PERF_MAP`, default 0).
    pub perf_map: bool,
    /// Open client connections at once (`JIANDU_MAX_CONNECTIONS`, default
    /// 1024); further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (`JIANDU_HEADER_TIMEOUT_MS`,
    /// default 10000); a slower one is disconnected.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body (`JIANDU_BODY_TIMEOUT_MS`,
    /// default 30000); a slower one gets 408.
    pub body_timeout: Duration,
}

impl Limits {
    /// Reads the limits from the environment, falling back to the defaults.
    pub fn from_env() -> Result<Self, String> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(v) => v.parse().map_err(|_| {
                    format!("{name}={v} is not a valid number; unset it to use the default")
                }),
                Err(_) => Ok(default),
            }
        }
        Ok(Self {
            memory_bytes: var("JIANDU_MEMORY_LIMIT_MIB", 64usize)? << 20,
            request_timeout: Duration::from_millis(var("JIANDU_REQUEST_TIMEOUT_MS", 10_000)?),
            max_body_bytes: var("JIANDU_MAX_BODY_BYTES", 1 << 20)?,
            instance_reuse: var("JIANDU_INSTANCE_REUSE", 1000usize)?.max(1),
            instance_concurrency: var("JIANDU_INSTANCE_CONCURRENCY", 8usize)?.max(1),
            idle_timeout: Duration::from_millis(var("JIANDU_IDLE_INSTANCE_MS", 30_000)?),
            pooling: var("JIANDU_POOLING", 1u8)? != 0,
            max_instances: var("JIANDU_MAX_INSTANCES", 256u32)?,
            perf_map: var("JIANDU_PERF_MAP", 0u8)? != 0,
            max_connections: var("JIANDU_MAX_CONNECTIONS", 1024usize)?.max(1),
            header_timeout: Duration::from_millis(var("JIANDU_HEADER_TIMEOUT_MS", 10_000)?),
            body_timeout: Duration::from_millis(var("JIANDU_BODY_TIMEOUT_MS", 30_000)?),
        })
    }
}
