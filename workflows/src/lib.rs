//! Jiandu's durable workflows on Temporal — the only crate that knows Temporal.
//!
//! [`run`] is the worker behind the `jiandu-worker` binary: it polls one task queue for
//! every workflow of [`register_workflows!`] — reports, clues, detentions,
//! rectifications, campaigns, ledger exports, screening runs and suspicious
//! records — and their activities ([`Projections`](activities::Projections),
//! [`Exports`](export::Exports), [`ScreeningActivities`](screening::ScreeningActivities)),
//! and runs the [outbox relay](relay) beside them:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = jiandu_workflows::config::WorkerConfig::from_env()?;
//! let (_stop, stopped) = tokio::sync::watch::channel(false);
//! jiandu_workflows::run(config, stopped).await?;
//! # Ok(()) }
//! ```
//!
//! Workflow code is deterministic: it reads time from the workflow context,
//! does no I/O and leaves everything that touches the world to activities.

/// Registers every workflow on `$options` (a worker's or a replayer's
/// options): adding a workflow means adding it to this one list.
macro_rules! register_workflows {
    ($options:expr) => {
        $options
            .register_workflow::<$crate::report::ReportWorkflow>()
            .and_then(|o| o.register_workflow::<$crate::clue::ClueWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::detention::DetentionWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::rectification::RectificationWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::campaign::CampaignWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::export::ExportWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::screening::ScreeningWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::screening::SuspicionWorkflow>())
            .and_then(|o| o.register_workflow::<$crate::sanzi::RiskWarningWorkflow>())
    };
}

pub mod activities;
pub mod agenda;
pub mod campaign;
pub mod checkpoint;
pub mod clue;
mod complaint;
pub mod config;
pub mod detention;
pub mod export;
pub mod history;
pub mod rectification;
pub mod relay;
pub mod report;
pub mod sanzi;
pub mod screening;
pub mod store;
pub mod verify;

use std::str::FromStr as _;
use std::time::Duration;

use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tokio::sync::watch;

use crate::activities::Projections;
use crate::config::WorkerConfig;
use crate::export::Exports;
use crate::screening::ScreeningActivities;

/// Why the worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The database could not be opened.
    #[error("opening the database {url}: {source}")]
    Database {
        /// Its URL.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The database is not migrated.
    #[error("the database {url} has no `tasks` table: run `jiandu migrate` first")]
    NotMigrated {
        /// Its URL.
        url: String,
    },
    /// `TEMPORAL_ADDRESS` is not usable.
    #[error("TEMPORAL_ADDRESS={0} is not a host:port or URL")]
    Address(String),
    /// The Temporal SDK refused to start.
    #[error("starting the Temporal worker: {0}")]
    Sdk(String),
    /// The audit checkpoint key cannot be read.
    #[error("the audit checkpoint key {path}: {problem}")]
    AuditKey {
        /// Its file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// Reads the Ed25519 key that signs audit checkpoints (32 bytes, base64,
/// in a file), creating it — readable by the owner alone from the start —
/// on first use.
pub fn signing_key(path: &std::path::Path) -> Result<ed25519_dalek::SigningKey, WorkerError> {
    use base64::Engine as _;
    use std::io::Write as _;
    let problem = |problem: String| WorkerError::AuditKey {
        path: path.to_owned(),
        problem,
    };
    if !path.exists() {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| problem(format!("no randomness: {e}")))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| problem(e.to_string()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(path)
            .and_then(|mut file| {
                file.write_all(
                    base64::engine::general_purpose::STANDARD
                        .encode(key.to_bytes())
                        .as_bytes(),
                )
            })
            .map_err(|e| problem(e.to_string()))?;
        tracing::info!(key = %path.display(), "created the audit checkpoint key (0600)");
        return Ok(key);
    }
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| problem("not 32 bytes of base64".into()))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// Runs the worker and the relay until `stop` turns true.
pub async fn run(config: WorkerConfig, stop: watch::Receiver<bool>) -> Result<(), WorkerError> {
    let pool = store::connect(&config.database_url)
        .await
        .map_err(|source| WorkerError::Database {
            url: config.database_url.clone(),
            source,
        })?;
    let migrated = store::is_migrated(&pool, &config.database_url)
        .await
        .map_err(|source| WorkerError::Database {
            url: config.database_url.clone(),
            source,
        })?;
    if !migrated {
        return Err(WorkerError::NotMigrated {
            url: config.database_url.clone(),
        });
    }
    // Checkpoints need only the database: they go on while Temporal is away.
    let settings = checkpoint::CheckpointSettings {
        key: signing_key(&config.audit_key)?,
        every: config.audit_checkpoint_every,
    };
    tokio::spawn(checkpoint::run(pool.clone(), settings, stop.clone()));
    let url = if config.temporal_address.contains("://") {
        config.temporal_address.clone()
    } else {
        format!("http://{}", config.temporal_address)
    };
    let url =
        Url::from_str(&url).map_err(|_| WorkerError::Address(config.temporal_address.clone()))?;
    let Some(client) = connect(&url, &config.namespace, stop.clone()).await else {
        return Ok(());
    };
    tracing::info!(
        temporal = %url,
        namespace = %config.namespace,
        task_queue = %config.task_queue,
        database = %config.database_url,
        pace = ?config.pace,
        "worker connected"
    );
    let relay = tokio::spawn(relay::run(
        pool.clone(),
        client.clone(),
        relay::RelaySettings {
            backend: store::Backend::of(&config.database_url).unwrap_or(store::Backend::Sqlite),
            task_queue: config.task_queue.clone(),
            batch: config.relay_batch,
            poll: config.relay_poll,
        },
        stop.clone(),
    ));
    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|e| WorkerError::Sdk(e.to_string()))?;
    let options = register_workflows!(
        WorkerOptions::new(&config.task_queue)
            .max_cached_workflows(config.workflow_cache)
            .sticky_queue_schedule_to_start_timeout(config.sticky_timeout)
    )
    .map_err(|e| WorkerError::Sdk(e.to_string()))?
    .register_activities(Projections::new(pool.clone(), config.clone()))
    .register_activities(Exports::new(pool.clone(), config.export_dir.clone()))
    .register_activities(ScreeningActivities::new(pool, config.screening_batch))
    .build();
    let mut worker =
        Worker::new(&runtime, client, options).map_err(|e| WorkerError::Sdk(e.to_string()))?;
    let shutdown = worker.shutdown_handle();
    let mut stopping = stop.clone();
    tokio::spawn(async move {
        while !*stopping.borrow() {
            if stopping.changed().await.is_err() {
                break;
            }
        }
        tracing::info!("worker shutting down");
        shutdown();
    });
    let result = worker.run().await;
    let _ = relay.await;
    result.map_err(|e| WorkerError::Sdk(e.to_string()))
}

/// Connects to Temporal, retrying with backoff until it answers or `stop`.
async fn connect(url: &Url, namespace: &str, mut stop: watch::Receiver<bool>) -> Option<Client> {
    let mut backoff = Duration::from_millis(250);
    loop {
        let attempt = async {
            let connection = Connection::connect(ConnectionOptions::new(url.clone()).build())
                .await
                .map_err(|e| e.to_string())?;
            Client::new(connection, ClientOptions::new(namespace).build())
                .map_err(|e| e.to_string())
        };
        match attempt.await {
            Ok(client) => return Some(client),
            Err(e) => {
                tracing::warn!(temporal = %url, error = %e, retry_in_ms = backoff.as_millis() as u64, "Temporal is not reachable yet");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return None;
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
