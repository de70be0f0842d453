//! The `jiandu` command: `jiandu up` mirrors `spin up`; `jiandu migrate`
//! prepares the database; `jiandu worker` runs the Temporal workflows and
//! the outbox relay (from the `jiandu-workflows` crate).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use jiandu_host::app::{App, AppOptions, manifest_dir};
use jiandu_host::limits::Limits;
use jiandu_host::runtime_config::RuntimeConfig;

#[derive(Parser)]
#[command(
    name = "jiandu",
    version,
    about = "Jiandu (监督): runs spin.toml on wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application described by a Spin manifest (like `spin up`).
    Up {
        /// The Spin manifest.
        #[arg(long = "from", short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Address to listen on; port 0 picks a free port (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Runtime configuration: where each SQLite database label lives.
        #[arg(long)]
        runtime_config_file: Option<PathBuf>,
        /// Where compiled components are cached.
        #[arg(long, env = "JIANDU_COMPILE_CACHE")]
        cache_dir: Option<PathBuf>,
    },
    /// Apply database migrations to a SQLite database label.
    Migrate(Database),
    /// Run the workflows, their activities and the outbox relay against
    /// Temporal (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `JIANDU_TASK_QUEUE`)
    /// on a database label's outbox and projections.
    Worker(Database),
}

/// Which SQLite database, as `spin up` would find it.
#[derive(clap::Args)]
struct Database {
    /// The Spin manifest (relative database paths are resolved against it).
    #[arg(long = "from", short = 'f', default_value = "spin.toml")]
    manifest: PathBuf,
    /// Runtime configuration: where each SQLite database label lives.
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// The database label.
    #[arg(long, default_value = "default")]
    label: String,
}

impl Database {
    /// Where the database file lives.
    fn path(&self) -> anyhow::Result<PathBuf> {
        let config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::from_file(path)?,
            None => RuntimeConfig::default(),
        };
        Ok(config.sqlite_path(&self.label, &manifest_dir(&self.manifest)))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JIANDU_LOG")
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Up {
            manifest,
            listen,
            runtime_config_file,
            cache_dir,
        } => {
            let cache_dir =
                cache_dir.unwrap_or_else(|| manifest_dir(&manifest).join("data").join("compiled"));
            let options = AppOptions {
                manifest,
                runtime_config: runtime_config_file,
                cache_dir,
            };
            let limits = Limits::from_env().map_err(anyhow::Error::msg)?;
            let app = Arc::new(App::load(&options, limits).await?);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| {
                    format!("cannot listen on {listen}; is another server using it?")
                })?;
            let addr = listener.local_addr()?;
            println!("jiandu: serving {} on http://{addr}", app.name);
            for line in app.router.describe() {
                println!("  {line}");
            }
            jiandu_host::server::serve(app, listener, shutdown_signal()).await?;
        }
        Command::Migrate(database) => {
            let path = database.path()?;
            let label = &database.label;
            jiandu_host::migrate::sqlite(&path)
                .await
                .with_context(|| format!("migrating {}", path.display()))?;
            println!(
                "jiandu: database `{label}` at {} is up to date",
                path.display()
            );
        }
        Command::Worker(database) => {
            let mut config = jiandu_workflows::config::WorkerConfig::from_env()?;
            if std::env::var_os("JIANDU_DATABASE_URL").is_none() {
                config.database_url = format!("sqlite://{}", database.path()?.display());
            }
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            println!(
                "jiandu: worker on task queue `{}` at {}",
                config.task_queue, config.temporal_address
            );
            jiandu_workflows::run(config, stopped).await?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
