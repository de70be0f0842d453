//! The `jiandu` command: `jiandu up` mirrors `spin up`; `jiandu migrate`
//! prepares the database.

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
    Migrate {
        /// The Spin manifest (relative database paths are resolved against it).
        #[arg(long = "from", short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Runtime configuration: where each SQLite database label lives.
        #[arg(long)]
        runtime_config_file: Option<PathBuf>,
        /// The database label.
        #[arg(long, default_value = "default")]
        label: String,
    },
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
        Command::Migrate {
            manifest,
            runtime_config_file,
            label,
        } => {
            let config = match &runtime_config_file {
                Some(path) => RuntimeConfig::from_file(path)?,
                None => RuntimeConfig::default(),
            };
            let path = config.sqlite_path(&label, &manifest_dir(&manifest));
            jiandu_host::migrate::sqlite(&path)
                .await
                .with_context(|| format!("migrating {}", path.display()))?;
            println!(
                "jiandu: database `{label}` at {} is up to date",
                path.display()
            );
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
