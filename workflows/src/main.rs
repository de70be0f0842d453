//! The `jiandu-worker` command: `jiandu-worker run` runs the workflows,
//! their activities, the outbox relay and the audit checkpoints;
//! `jiandu-worker audit verify` checks an audit log offline against the
//! checkpoints' key. It carries no wasmtime host: hosts (`jiandu up`) and
//! workers scale separately.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use jiandu_workflows::config::WorkerConfig;

/// mimalloc rather than glibc's malloc: the SDK allocates on every event it
/// handles, and glibc's allocator took 8% of the worker's time while 6,000
/// deadlines fell due.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jiandu-worker",
    version,
    about = "Jiandu (监督): the workflows on Temporal, the outbox relay and the audit checkpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the workflows, their activities and the outbox relay against
    /// Temporal on a database's outbox and projections. Every setting is an
    /// environment variable (the README's configuration table):
    /// `JIANDU_DATABASE_URL`, `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
    /// `JIANDU_TASK_QUEUE`, `JIANDU_AUDIT_KEY_FILE`, ...
    Run,
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log of a database offline: the hash chain, the
    /// stored hashes and the signed checkpoints. Exits 1 naming the first
    /// bad entry.
    Verify {
        /// The database.
        #[arg(
            long,
            env = "JIANDU_DATABASE_URL",
            default_value = "sqlite://data/default.db"
        )]
        database_url: String,
        /// The checkpoint signing key's file (its public half is used).
        #[arg(long, default_value = "data/audit.key", conflicts_with = "public_key")]
        key: PathBuf,
        /// Or the checkpoint key's public half, base64.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print the public half of the checkpoint signing key, base64.
    PublicKey {
        /// The key's file.
        #[arg(long, default_value = "data/audit.key")]
        key: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JIANDU_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Run => {
            let config = WorkerConfig::from_env()?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            println!(
                "jiandu-worker: task queue `{}` at {}, database {}",
                config.task_queue, config.temporal_address, config.database_url
            );
            jiandu_workflows::run(config, stopped).await?;
        }
        Command::Audit { command } => audit(command).await?,
    }
    Ok(())
}

async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD;
    match command {
        AuditCommand::Verify {
            database_url,
            key,
            public_key,
        } => {
            let key = match public_key {
                Some(text) => {
                    let bytes: [u8; 32] = base64
                        .decode(text.trim())
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .context("--public-key is not 32 bytes of base64")?;
                    ed25519_dalek::VerifyingKey::from_bytes(&bytes)?
                }
                None => existing_key(&key)?.verifying_key(),
            };
            let verified = jiandu_workflows::verify::verify(&database_url, &key)
                .await
                .with_context(|| format!("reading the audit log of {database_url}"))?;
            match verified {
                Ok(v) => println!(
                    "jiandu-worker: audit log of {database_url} holds: {} entries, {} signed checkpoints, entries up to {} vouched for",
                    v.entries, v.checkpoints, v.vouched
                ),
                Err(tampered) => {
                    eprintln!(
                        "jiandu-worker: audit log of {database_url} is not intact: {tampered}"
                    );
                    std::process::exit(1);
                }
            }
        }
        AuditCommand::PublicKey { key } => {
            let public = existing_key(&key)?.verifying_key();
            println!("{}", base64.encode(public.as_bytes()));
        }
    }
    Ok(())
}

/// The checkpoint key, which checking must never create.
fn existing_key(path: &std::path::Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    anyhow::ensure!(path.exists(), "no checkpoint key at {}", path.display());
    Ok(jiandu_workflows::signing_key(path)?)
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
