//! An application: a manifest turned into a router of ready-to-run components.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use wasmtime_wasi_http::handler::{ProxyHandler, ProxyPre};

use crate::dispatch::ComponentHandler;
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::outbound::OutboundPolicy;
use crate::postgres::PostgresCtx;
use crate::routes::Router;
use crate::runtime_config::RuntimeConfig;
use crate::spin_headers::RouteHeaders;
use crate::sqlite::{Databases, SqliteCtx};
use crate::store::Grants;

/// Where an application comes from.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The `spin.toml`.
    pub manifest: PathBuf,
    /// The optional `--runtime-config-file`.
    pub runtime_config: Option<PathBuf>,
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// Where components' standard output and error and the access log go:
    /// the host's log buffer, or (`None`) straight to the host's stderr.
    pub log: Option<crate::log::LogWriter>,
}

/// A component ready to serve, with its id.
pub struct Served {
    /// Its id in the manifest.
    pub id: Arc<str>,
    /// The dispatcher for its instances.
    pub handler: ProxyHandler<ComponentHandler>,
}

/// Where one route of the manifest leads: its component, and the `spin-*`
/// header values every request it matches carries.
pub struct Routed {
    /// The component that serves the route.
    pub served: Arc<Served>,
    /// The route's own `spin-*` header values, made once.
    pub headers: RouteHeaders,
}

impl std::fmt::Display for Routed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.served.id)
    }
}

/// A loaded application.
pub struct App {
    /// The manifest's application name.
    pub name: String,
    /// Routes to components.
    pub router: Router<Routed>,
    /// The limits requests run under.
    pub limits: Arc<Limits>,
    /// Set once the server stops accepting requests.
    pub shutting_down: Arc<AtomicBool>,
    /// Where the access log goes ([`AppOptions::log`]).
    pub log: Option<crate::log::LogWriter>,
    /// `/dev/sign-in`, when `jiandu up --dev-sign-in` asks for it.
    pub dev_sign_in: Option<crate::dev_sign_in::DevSignIn>,
    /// The application variable `database_url` when it names a PostgreSQL
    /// database: where the product's components keep their data.
    pub postgres_url: Option<String>,
    /// Where files matched by `files` patterns are copied for the
    /// components to read; removed when the app is dropped.
    _staging: tempfile::TempDir,
}

impl App {
    /// Loads the manifest, resolves variables, opens databases and compiles
    /// (or loads from cache) every component.
    pub async fn load(options: &AppOptions, limits: Limits) -> anyhow::Result<Self> {
        let manifest = Manifest::from_file(&options.manifest)?;
        let manifest_dir = manifest_dir(&options.manifest);
        let staging = tempfile::Builder::new()
            .prefix("jiandu-files-")
            .tempdir()
            .context("creating the staging directory for components' files")?;
        let runtime_config = match &options.runtime_config {
            Some(path) => RuntimeConfig::from_file(path)?,
            None => RuntimeConfig::default(),
        };
        let variables = crate::variables::resolve(&manifest, |k| std::env::var(k).ok())?;
        let databases = Arc::new(
            Databases::open(&runtime_config.sqlite_paths(&manifest, &manifest_dir))
                .await
                .context("opening SQLite databases")?,
        );
        let limits = Arc::new(limits);
        let engine = crate::engine::engine(&limits)?;
        let linker = crate::engine::linker(&engine)?;

        let mut compiling = Vec::new();
        for (id, component) in &manifest.component {
            let (engine, source, cache) = (
                engine.clone(),
                manifest_dir.join(&component.source),
                options.cache_dir.clone(),
            );
            let id = id.clone();
            compiling.push(tokio::task::spawn_blocking(move || {
                crate::engine::load_component(&engine, &source, &cache).map(|c| (id, c))
            }));
        }
        let shutting_down = Arc::new(AtomicBool::new(false));
        let mut served = BTreeMap::new();
        for task in compiling {
            let (id, compiled) = task.await??;
            let component = &manifest.component[&id];
            let instance_pre = linker.instantiate_pre(&compiled).map_err(|e| {
                anyhow::anyhow!(
                    "component `{id}` imports something this host does not provide: {e:#}"
                )
            })?;
            let pre = wasmtime_wasi_http::p3::bindings::ServicePre::new(instance_pre).map_err(|e| {
                anyhow::anyhow!("component `{id}` does not export wasi:http/handler@0.3.0 (build it with spin-sdk 7): {e:#}")
            })?;
            let allowed_hosts = component
                .allowed_outbound_hosts
                .iter()
                .map(|entry| {
                    variables.expand(entry).ok_or_else(|| {
                        anyhow::anyhow!("component `{id}`: allowed_outbound_hosts entry `{entry}` refers to a variable with no value; give it one")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let outbound = OutboundPolicy::new(&allowed_hosts)
                .map_err(|e| anyhow::anyhow!("component `{id}`: {e}"))?;
            let grants = Grants {
                postgres: PostgresCtx::new(outbound.clone()),
                outbound,
                sqlite: SqliteCtx::new(
                    databases.clone(),
                    component.sqlite_databases.clone().into(),
                ),
                variables: Arc::new(variables.components.get(&id).cloned().unwrap_or_default()),
                output: options.log.clone(),
                environment: component.environment.clone().into_iter().collect(),
                files: crate::files::preopens(
                    &component.files,
                    &component.exclude_files,
                    &manifest_dir,
                    &staging.path().join(&id),
                )
                .with_context(|| format!("component `{id}`: its files"))?,
            };
            let id: Arc<str> = id.into();
            let handler = ProxyHandler::new(ComponentHandler {
                id: id.clone(),
                engine: engine.clone(),
                pre: ProxyPre::P3(pre),
                grants,
                limits: limits.clone(),
                shutting_down: shutting_down.clone(),
            });
            served.insert(id.to_string(), Arc::new(Served { id, handler }));
        }
        let mut routes = Vec::with_capacity(manifest.trigger.http.len());
        for trigger in &manifest.trigger.http {
            let headers = RouteHeaders::new(&trigger.route).map_err(|_| {
                anyhow::anyhow!("route `{}` is not a valid header value", trigger.route)
            })?;
            let served = served[&trigger.component].clone();
            routes.push((trigger.route.clone(), Routed { served, headers }));
        }
        let router = Router::new(routes).map_err(anyhow::Error::msg)?;
        Ok(Self {
            name: manifest.application.name,
            router,
            limits,
            shutting_down,
            log: options.log.clone(),
            dev_sign_in: None,
            postgres_url: variables
                .value("database_url")
                .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
                .map(str::to_owned),
            _staging: staging,
        })
    }
}

/// The directory relative paths in a manifest are resolved against.
pub fn manifest_dir(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}
