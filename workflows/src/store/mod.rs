//! The database the worker projects into and relays from: SQLite (the
//! embedded default) or PostgreSQL, chosen by the URL, through one sqlx
//! `Any` pool. Every statement the worker runs is here, written once with
//! `$N` placeholders, which both drivers take, and rows are read by column
//! name: `outbox` (the relay's), `projections` (the activities'), `exports`
//! (ledger files), `audit` (the chain and its checkpoints) and `screening`
//! (runs' batch joins and confirmed hits).

pub(crate) mod audit;
pub(crate) mod exports;
pub(crate) mod outbox;
pub(crate) mod projections;
pub(crate) mod screening;

use std::time::Duration;

use sqlx::Executor as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

/// The pool every activity and the relay share.
pub type Pool = sqlx::AnyPool;
/// A row of it, read by column name.
pub type Row = sqlx::any::AnyRow;

/// Connections the worker keeps open.
const POOL_SIZE: u32 = 4;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://FILE`.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend of `url`, if it is one the worker speaks.
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// Opens the database at `url` to read and write. On SQLite each
/// connection waits up to 30 s for the write lock and keeps the write-ahead
/// log, as the host's do.
pub async fn connect(url: &str) -> Result<Pool, sqlx::Error> {
    open(url, false).await
}

/// Opens the database at `url` so that nothing can be written through it
/// (SQLite `mode=ro`; PostgreSQL sessions default to read-only
/// transactions).
pub async fn connect_read_only(url: &str) -> Result<Pool, sqlx::Error> {
    open(url, true).await
}

async fn open(url: &str, read_only: bool) -> Result<Pool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url).ok_or_else(|| {
        sqlx::Error::Configuration(format!("{url} is neither sqlite:// nor postgres://").into())
    })?;
    let joiner = if url.contains('?') { '&' } else { '?' };
    let url = match (read_only, backend) {
        (false, _) => url.to_owned(),
        (true, Backend::Sqlite) => format!("{url}{joiner}mode=ro"),
        (true, Backend::Postgres) => {
            format!("{url}{joiner}options=-c%20default_transaction_read_only%3Don")
        }
    };
    let options: AnyConnectOptions = url.parse()?;
    AnyPoolOptions::new()
        .max_connections(POOL_SIZE)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON")
                        .await?;
                    if !read_only {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                    }
                }
                Ok(())
            })
        })
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(options)
        .await
}

/// Begins a transaction that writes. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`, as the components' transactions do): a deferred
/// transaction that reads before it writes cannot wait for the lock when
/// another connection has committed since its read — SQLite answers
/// `SQLITE_BUSY` at once, and the activity would be retried a second later.
pub async fn begin_write(pool: &Pool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    let url = pool.connect_options().database_url.to_string();
    let statement = match Backend::of(&url) {
        Some(Backend::Sqlite) => "BEGIN IMMEDIATE",
        _ => "BEGIN",
    };
    pool.begin_with(statement).await
}

/// Whether `jiandu migrate` has prepared the database (its `tasks` table exists).
pub async fn is_migrated(pool: &Pool, url: &str) -> Result<bool, sqlx::Error> {
    let sql = match Backend::of(url) {
        Some(Backend::Postgres) => {
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'tasks'"
        }
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tasks'",
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(n > 0)
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values; `NULL` (which
/// matches nothing) when there are none.
pub fn placeholders(first: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".to_owned();
    }
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(
            Backend::of("sqlite://data/default.db"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of("postgres://u@h:5432/d"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of("mysql://h/d"), None);
    }

    #[test]
    fn in_lists_number_their_placeholders_and_are_never_empty() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
        assert_eq!(placeholders(1, 0), "NULL");
    }
}
