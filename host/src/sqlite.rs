//! The `spin:sqlite` host interface, backed by sqlx.
//!
//! Each database label (`default`, ...) is one SQLite file with its own
//! connection pool (WAL, busy timeout). A guest `connection` resource holds one
//! pooled connection for its lifetime, so `BEGIN` ... `COMMIT` issued through
//! it form one transaction; a transaction left open when the guest drops the
//! connection (or traps) is rolled back before the connection returns to the
//! pool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, Column, Executor, Row, SqlSafeStr, Sqlite, SqlitePool, Statement, TypeInfo,
    ValueRef,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, RowResult, Value};
use crate::sql::{TransactionEffect, stream_rows, transaction_effect};

/// Connection pools for every database label, shared by all components.
#[derive(Debug, Default)]
pub struct Databases {
    pools: BTreeMap<String, Database>,
}

/// One database: its pool and the lock its write transactions queue on.
///
/// SQLite allows one writer at a time. Left to itself, a second `BEGIN
/// IMMEDIATE` sleeps in SQLite's busy handler with growing back-off; queueing
/// writers on an async lock instead wakes the next one the moment the previous
/// commits, without blocking the event loop.
#[derive(Debug)]
struct Database {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
}

impl Databases {
    /// Opens (creating if needed) one pool per label, at the given paths.
    pub async fn open(paths: &BTreeMap<String, PathBuf>) -> Result<Self, sqlx::Error> {
        let mut pools = BTreeMap::new();
        for (label, path) in paths {
            let database = Database {
                pool: guest_pool(path).await?,
                writer: Arc::new(Mutex::new(())),
            };
            pools.insert(label.clone(), database);
        }
        Ok(Self { pools })
    }
}

/// Opens a pool on one SQLite file with the settings every part of Jiandu
/// uses: for `jiandu migrate` and the host's own reads, never for guests.
pub async fn pool(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options(path)?)
        .await
}

/// The pool guests' `spin:sqlite` connections come from: every connection
/// carries the [`authorize`] guard before a guest sees it.
async fn guest_pool(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| Box::pin(guard(conn)))
        .connect_with(options(path)?)
        .await
}

fn options(path: &Path) -> Result<SqliteConnectOptions, sqlx::Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    Ok(SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

/// Installs [`authorize`] on a guest connection.
async fn guard(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is a live connection, locked for this call; the
    // authorizer is a plain function that uses no user data.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_set_authorizer(
            handle.as_raw_handle().as_ptr(),
            Some(authorize),
            std::ptr::null_mut(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!(
            "installing the SQL guard failed ({rc})"
        )));
    }
    Ok(())
}

/// The SQL guard on guest connections: a component reads and writes rows of
/// its own database and runs transactions, nothing more. It cannot leave its
/// label (`ATTACH`, `DETACH`), change the schema (create, drop or alter
/// anything — a trigger that keeps a log append-only included), run a
/// `PRAGMA` (`writable_schema` among them) or load an extension; only
/// `jiandu migrate` changes schemas. `VACUUM` has no authorizer code and is
/// refused before it is prepared ([`refused_statement`]).
extern "C" fn authorize(
    _data: *mut std::ffi::c_void,
    action: std::ffi::c_int,
    _arg1: *const std::ffi::c_char,
    arg2: *const std::ffi::c_char,
    _database: *const std::ffi::c_char,
    _trigger: *const std::ffi::c_char,
) -> std::ffi::c_int {
    use libsqlite3_sys::*;
    let allowed = match action {
        SQLITE_READ | SQLITE_SELECT | SQLITE_INSERT | SQLITE_UPDATE | SQLITE_DELETE
        | SQLITE_TRANSACTION | SQLITE_SAVEPOINT | SQLITE_RECURSIVE => true,
        SQLITE_FUNCTION => {
            // SAFETY: for SQLITE_FUNCTION, SQLite passes the function's name
            // as a NUL-terminated string (or null).
            let name =
                (!arg2.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(arg2) }.to_bytes());
            !name.is_some_and(|n| n.eq_ignore_ascii_case(b"load_extension"))
        }
        _ => false,
    };
    if allowed { SQLITE_OK } else { SQLITE_DENY }
}

/// Statements refused before they are prepared: `VACUUM` (which can write a
/// copy of the database anywhere with `VACUUM INTO`).
fn refused_statement(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("vacuum"))
}

/// What one component instance may reach.
#[derive(Clone)]
pub struct SqliteCtx {
    databases: Arc<Databases>,
    allowed: Arc<[String]>,
}

impl SqliteCtx {
    /// A context that may open the listed labels.
    pub fn new(databases: Arc<Databases>, allowed: Arc<[String]>) -> Self {
        Self { databases, allowed }
    }

    async fn open(&self, label: &str) -> Result<Connection, Error> {
        if !self.allowed.iter().any(|a| a == label) {
            return Err(Error::AccessDenied);
        }
        let database = self
            .databases
            .pools
            .get(label)
            .ok_or(Error::NoSuchDatabase)?;
        let conn = database.pool.acquire().await.map_err(to_error)?;
        Ok(Connection {
            inner: Arc::new(Mutex::new(Held {
                conn: Some(conn),
                writer: database.writer.clone(),
                write_lock: None,
            })),
        })
    }
}

/// The state behind a guest `connection` resource.
pub struct Connection {
    inner: Arc<Mutex<Held>>,
}

struct Held {
    conn: Option<PoolConnection<Sqlite>>,
    writer: Arc<Mutex<()>>,
    /// Held from `BEGIN` to `COMMIT`/`ROLLBACK`: this connection's transaction.
    write_lock: Option<OwnedMutexGuard<()>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let (Some(lock), Some(mut conn)) = (self.write_lock.take(), self.conn.take()) {
            // Never hand a connection with an open transaction back to the
            // pool; the next writer waits until it is rolled back.
            tokio::spawn(async move {
                if let Err(e) = conn.execute("ROLLBACK").await {
                    tracing::warn!("rolling back an abandoned transaction failed: {e}");
                    conn.close_on_drop();
                }
                drop(lock);
            });
        }
    }
}

impl Connection {
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<QueryResult, Error> {
        let mut held = self.inner.lock().await;
        let effect = transaction_effect(sql);
        if effect == TransactionEffect::Begins && held.write_lock.is_none() {
            held.write_lock = Some(held.writer.clone().lock_owned().await);
        }
        let result = Self::run(&mut held, sql, params).await;
        let transaction_over = match effect {
            TransactionEffect::Begins => result.is_err(),
            TransactionEffect::Ends => result.is_ok(),
            TransactionEffect::None => false,
        };
        if transaction_over {
            held.write_lock = None;
        }
        result
    }

    async fn run(held: &mut Held, sql: &str, params: Vec<Value>) -> Result<QueryResult, Error> {
        let conn = held.conn.as_mut().ok_or(Error::InvalidConnection)?;
        if refused_statement(sql) {
            return Err(Error::Io(
                "not authorized: VACUUM is not for components".into(),
            ));
        }
        // The guest's SQL is the component's own code, as in Spin; values are bound, never spliced.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for param in params {
            query = match param {
                Value::Integer(i) => query.bind(i),
                Value::Real(f) => query.bind(f),
                Value::Text(s) => query.bind(s),
                Value::Blob(b) => query.bind(b),
                Value::Null => query.bind(None::<i64>),
            };
        }
        let rows = query.fetch_all(&mut **conn).await.map_err(to_error)?;
        let columns = match rows.first() {
            Some(row) => row.columns().iter().map(|c| c.name().to_owned()).collect(),
            None if !may_return_columns(sql) => Vec::new(),
            None => conn
                .prepare(AssertSqlSafe(sql).into_sql_str())
                .await
                .map(|s| s.columns().iter().map(|c| c.name().to_owned()).collect())
                .unwrap_or_default(),
        };
        let rows = rows.iter().map(row_values).collect::<Result<_, _>>()?;
        Ok(QueryResult { columns, rows })
    }

    async fn scalar(&self, sql: &'static str) -> i64 {
        let mut held = self.inner.lock().await;
        let Some(conn) = held.conn.as_mut() else {
            return 0;
        };
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut **conn)
            .await
            .unwrap_or(0)
    }

    fn share(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// Whether a statement can have result columns: it can unless it is a write
/// or transaction statement without `RETURNING`. Saves asking SQLite for the
/// columns of every statement that returned no rows.
fn may_return_columns(sql: &str) -> bool {
    let verb = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let writes = matches!(
        verb.as_str(),
        "INSERT"
            | "UPDATE"
            | "DELETE"
            | "REPLACE"
            | "BEGIN"
            | "COMMIT"
            | "END"
            | "ROLLBACK"
            | "CREATE"
            | "DROP"
    );
    !writes || sql.to_ascii_uppercase().contains("RETURNING")
}

fn row_values(row: &sqlx::sqlite::SqliteRow) -> Result<RowResult, Error> {
    let mut values = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(to_error)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" => Value::Integer(row.try_get(i).map_err(to_error)?),
                "REAL" => Value::Real(row.try_get(i).map_err(to_error)?),
                "BLOB" => Value::Blob(row.try_get(i).map_err(to_error)?),
                _ => Value::Text(row.try_get(i).map_err(to_error)?),
            }
        };
        values.push(value);
    }
    Ok(RowResult { values })
}

fn to_error(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some("13")
    {
        return Error::DatabaseFull;
    }
    Error::Io(e.to_string())
}

/// [`HasData`] marker for `spin:sqlite`.
pub struct SpinSqlite;

/// The store's view for `spin:sqlite`.
pub struct SqliteView<'a> {
    /// The store's resource table.
    pub table: &'a mut ResourceTable,
    /// What this instance may open.
    pub ctx: &'a SqliteCtx,
}

impl HasData for SpinSqlite {
    type Data<'a> = SqliteView<'a>;
}

impl sqlite::Host for SqliteView<'_> {}

fn connection(table: &ResourceTable, r: &Resource<Connection>) -> wasmtime::Result<Connection> {
    Ok(table.get(r)?.share())
}

impl sqlite::HostConnection for SqliteView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        match self.ctx.clone().open(&database).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn execute(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let conn = connection(self.table, &this)?;
        Ok(conn.execute(&statement, parameters).await)
    }

    async fn last_insert_rowid(&mut self, this: Resource<Connection>) -> wasmtime::Result<i64> {
        Ok(connection(self.table, &this)?
            .scalar("SELECT last_insert_rowid()")
            .await)
    }

    async fn changes(&mut self, this: Resource<Connection>) -> wasmtime::Result<u64> {
        let n = connection(self.table, &this)?
            .scalar("SELECT changes()")
            .await;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn drop(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

type ExecuteResult = (
    Vec<String>,
    StreamReader<RowResult>,
    FutureReader<Result<(), Error>>,
);

impl<T> sqlite::HostConnectionWithStore<T> for SpinSqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let ctx = accessor.with(|mut a| a.get().ctx.clone());
        match ctx.open(&database).await {
            Ok(conn) => accessor.with(|mut a| Ok(Ok(a.get().table.push(conn)?))),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<ExecuteResult, Error>> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        let QueryResult { columns, rows } = match conn.execute(&statement, parameters).await {
            Ok(result) => result,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut a| {
            let (rows, done) = stream_rows(&mut a, rows)?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
    ) -> wasmtime::Result<i64> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        Ok(conn.scalar("SELECT last_insert_rowid()").await)
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
    ) -> wasmtime::Result<u64> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        Ok(u64::try_from(conn.scalar("SELECT changes()").await).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_may_return_columns_are_told_apart() {
        let cases = [
            ("BEGIN IMMEDIATE", false),
            ("COMMIT", false),
            ("INSERT INTO t VALUES (1)", false),
            ("insert into t values (1) returning id", true),
            ("SELECT 1", true),
            ("WITH x AS (SELECT 1) SELECT * FROM x", true),
            ("PRAGMA journal_mode", true),
        ];
        for (sql, columns) in cases {
            assert_eq!(may_return_columns(sql), columns, "{sql}");
        }
    }
}
