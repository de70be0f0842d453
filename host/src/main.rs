//! The `jiandu` command: `jiandu up` mirrors `spin up`; `jiandu migrate`
//! prepares the database and loads the org tree; `jiandu trust-list`,
//! `jiandu token` and `jiandu demo-tokens` run the demo issuer; `jiandu keys`
//! keeps the commissions' sealing keys. The workflows run in a binary of
//! their own, `jiandu-worker`, so the host never knows Temporal.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use jiandu_domain::org::{OrgKind, Role};
use jiandu_host::app::{App, AppOptions, manifest_dir};
use jiandu_host::issuers::DemoIssuers;
use jiandu_host::keys::KeyStore;
use jiandu_host::limits::Limits;
use jiandu_host::migrate::TreeLoad;
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
        /// For demonstrations on your own machine only: serve `/dev/sign-in`,
        /// which mints a token for any person of the stored org tree with
        /// the demo issuers' keys in this directory. Anyone who reaches it
        /// can act as anyone.
        #[arg(long, value_name = "ISSUERS_DIR")]
        dev_sign_in: Option<PathBuf>,
    },
    /// Apply database migrations (to a SQLite label, or to `--database-url`,
    /// SQLite or PostgreSQL), and load the org tree (validated; a changed file becomes a new version that
    /// running components pick up).
    Migrate {
        #[command(flatten)]
        database: Database,
        /// The org tree; default `orgs/zaozhuang.json` next to the manifest, if present.
        #[arg(long, env = "JIANDU_ORGS")]
        orgs: Option<PathBuf>,
    },
    /// Print the trust list of the demo issuers (one key per commission of
    /// the loaded org tree, created under `--issuers` on first use), for the
    /// `trust_list` variable.
    TrustList {
        #[command(flatten)]
        database: Database,
        /// Where the demo issuers' keys live.
        #[arg(long, default_value = "data/issuers")]
        issuers: PathBuf,
    },
    /// Mint a staff token from the demo issuer that speaks for `--org`.
    Token {
        #[command(flatten)]
        database: Database,
        /// Where the demo issuers' keys live.
        #[arg(long, default_value = "data/issuers")]
        issuers: PathBuf,
        /// The org the bearer acts for.
        #[arg(long)]
        org: String,
        /// A role held in that org (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Who the bearer is.
        #[arg(long)]
        sub: String,
        /// Hours until it expires (at most 12).
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
    /// Print a token for every person the org tree lists.
    DemoTokens {
        #[command(flatten)]
        database: Database,
        /// Where the demo issuers' keys live.
        #[arg(long, default_value = "data/issuers")]
        issuers: PathBuf,
    },
    /// The commissions' sealing keys (HPKE, X25519) under `--dir`.
    Keys {
        /// Where the keys live.
        #[arg(long, default_value = "data/keys", global = true)]
        dir: PathBuf,
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new key: what is sealed from now on uses it, and what was
    /// sealed before stays readable with the old one.
    Rotate {
        /// The commission (repeat for several).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// Instead of `--org`: every commission of the stored org tree that has no key yet.
        #[arg(long, conflicts_with = "orgs")]
        missing: bool,
        #[command(flatten)]
        database: Database,
    },
    /// Print the `sealing_keys` variable: every commission's public keys.
    Public,
    /// Print the `reader_keys` variable: every private key. Secret: give it
    /// only to the component that serves audited views.
    Private,
}

/// Which database: `--database-url`, or the SQLite file of a label as
/// `spin up` would find it.
#[derive(clap::Args)]
struct Database {
    /// The database's URL (`sqlite://FILE` or `postgres://...`); instead of
    /// the manifest's label.
    #[arg(long, env = "JIANDU_DATABASE_URL")]
    database_url: Option<String>,
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
    /// The database's URL.
    fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => Ok(format!("sqlite://{}", self.path()?.display())),
        }
    }

    /// Where the label's database file lives.
    fn path(&self) -> anyhow::Result<PathBuf> {
        let config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::from_file(path)?,
            None => RuntimeConfig::default(),
        };
        Ok(config.sqlite_path(&self.label, &manifest_dir(&self.manifest)))
    }
}

/// mimalloc rather than glibc's malloc: wasmtime allocates on every guest
/// call, and glibc's arenas made the runtime's threads wait on each other.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (log, _flush_on_exit) = jiandu_host::log::stderr().context("starting the log thread")?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JIANDU_LOG")
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn,sqlx=warn".into()),
        )
        .with_writer(log.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Up {
            manifest,
            listen,
            runtime_config_file,
            cache_dir,
            dev_sign_in,
        } => {
            let cache_dir =
                cache_dir.unwrap_or_else(|| manifest_dir(&manifest).join("data").join("compiled"));
            let options = AppOptions {
                manifest,
                runtime_config: runtime_config_file,
                cache_dir,
                log: Some(log.clone()),
            };
            let limits = Limits::from_env().map_err(anyhow::Error::msg)?;
            let mut app = App::load(&options, limits).await?;
            if let Some(issuers) = dev_sign_in {
                let database = Database {
                    database_url: app.postgres_url.clone(),
                    manifest: options.manifest.clone(),
                    runtime_config_file: options.runtime_config.clone(),
                    label: "default".into(),
                };
                tracing::warn!(
                    "dev sign-in is on at {}: anyone who reaches this address can act as any person of the org tree",
                    jiandu_host::dev_sign_in::PATH
                );
                app.dev_sign_in = Some(jiandu_host::dev_sign_in::DevSignIn::new(
                    DemoIssuers::new(issuers),
                    database.url()?,
                ));
            }
            let app = Arc::new(app);
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
        Command::Migrate { database, orgs } => {
            let url = database.url()?;
            jiandu_host::migrate::migrate(&url)
                .await
                .with_context(|| format!("migrating {url}"))?;
            println!("jiandu: database {url} is up to date");
            let default = manifest_dir(&database.manifest).join("orgs/zaozhuang.json");
            match orgs.or_else(|| default.exists().then_some(default)) {
                Some(file) => match jiandu_host::migrate::org_tree(&url, &file).await? {
                    TreeLoad::Unchanged { version } => {
                        println!(
                            "jiandu: org tree {} unchanged (version {version})",
                            file.display()
                        )
                    }
                    TreeLoad::Loaded { version, orgs } => println!(
                        "jiandu: org tree {} loaded as version {version} ({orgs} orgs)",
                        file.display()
                    ),
                },
                None => println!(
                    "jiandu: no org tree given (--orgs FILE); staff APIs answer 503 until one is loaded"
                ),
            }
        }
        Command::TrustList { database, issuers } => {
            let tree = jiandu_host::migrate::stored_tree(&database.url()?).await?;
            let trust = DemoIssuers::new(issuers).trust_list(&tree)?;
            println!("{}", serde_json::to_string(&trust)?);
        }
        Command::Token {
            database,
            issuers,
            org,
            roles,
            sub,
            hours,
        } => {
            let tree = jiandu_host::migrate::stored_tree(&database.url()?).await?;
            let roles = roles
                .iter()
                .map(|r| {
                    Role::parse(r).with_context(|| {
                        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                        format!("no role `{r}`; roles are: {}", all.join(", "))
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            anyhow::ensure!((1..=12).contains(&hours), "--hours is 1 to 12");
            let signer = DemoIssuers::new(issuers).signer_for(&tree, &org)?;
            println!("{}", signer.token(&sub, &org, &roles, now(), hours * 3600));
        }
        Command::DemoTokens { database, issuers } => {
            let tree = jiandu_host::migrate::stored_tree(&database.url()?).await?;
            let issuers = DemoIssuers::new(issuers);
            for org in tree.iter() {
                for person in &org.people {
                    let signer = issuers.signer_for(&tree, &org.id)?;
                    let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
                    println!(
                        "{:<22} {:<28} {} ({})\n  {}",
                        org.id,
                        person.id,
                        person.name,
                        roles.join(", "),
                        signer.token(&person.id, &org.id, &person.roles, now(), 12 * 3600)
                    );
                }
            }
        }
        Command::Keys { dir, command } => keys(KeyStore::new(dir), command).await?,
    }
    Ok(())
}

async fn keys(store: KeyStore, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate {
            orgs,
            missing,
            database,
        } => {
            let orgs = if missing {
                let tree = jiandu_host::migrate::stored_tree(&database.url()?).await?;
                let mut orgs = Vec::new();
                for org in tree.iter().filter(|o| o.kind == OrgKind::Commission) {
                    if !store.has(&org.id)? {
                        orgs.push(org.id.clone());
                    }
                }
                orgs
            } else {
                anyhow::ensure!(
                    !orgs.is_empty(),
                    "name a commission with --org, or use --missing"
                );
                orgs
            };
            for org in orgs {
                let kid = store.rotate(&org, now())?;
                println!("jiandu: new sealing key {kid} for {org}");
            }
        }
        KeysCommand::Public => println!("{}", serde_json::to_string(&store.public()?)?),
        KeysCommand::Private => println!("{}", serde_json::to_string(&store.private()?)?),
    }
    Ok(())
}

/// Now, in Unix seconds.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
