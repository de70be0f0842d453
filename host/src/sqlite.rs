//! The `spin:sqlite` host interface, on SQLite's own API (`rusqlite`).
//!
//! Each database label (`default`, ...) is one SQLite file (WAL) with a small
//! pool of connections. A guest `connection` resource holds one of them for
//! its lifetime, and from `BEGIN` to `COMMIT` it holds the writer as well; a
//! transaction left open when the guest drops the connection (or traps) is
//! rolled back before either is used again.
//!
//! Every transaction a guest begins runs on the database's one writer
//! connection ([`Database::writer`]), which guests take in turn: SQLite
//! allows one writer at a time anyway, and in WAL mode a connection throws
//! its whole page cache away whenever another connection has committed
//! since its last transaction, so transactions spread over the pool would
//! each start cold, reading every page they touch again. On the one writer
//! they find the pages the last transaction left. Statements outside a
//! transaction run on the guest's own connection, beside other guests'.
//!
//! A statement runs on the runtime thread that serves its guest, with
//! SQLite's busy handler off: in WAL mode, with writers queued on
//! [`Database::writer`], a statement finds no lock in its way and takes
//! microseconds, so a transaction runs from `BEGIN` to `COMMIT` without
//! handing each statement to another thread and waiting to be woken. Only a
//! statement that does find a lock (another process writing, such as
//! `jiandu-worker`'s projections) is run again on a blocking thread, with the
//! busy timeout on, so that waiting never stalls the runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::ffi;
use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, RowResult, Value};
use crate::sql::{TransactionEffect, stream_rows, transaction_effect};

pub mod checkpointer;

/// How long a statement that finds the database locked waits for it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections one database keeps for guests, in use or idle.
const CONNECTIONS: usize = 8;

/// Prepared statements each guest connection keeps: more than any
/// component's store module holds.
const STATEMENT_CACHE: usize = 128;

/// Why a database could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database's directory could not be created.
    #[error("creating the directory of {path}: {source}")]
    Directory {
        /// The database file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// SQLite could not open or set up the file.
    #[error("opening {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The thread that checkpoints the file could not be started.
    #[error("starting the checkpoint thread of {path}: {source}")]
    Thread {
        /// The database file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Connection pools for every database label, shared by all components.
#[derive(Debug, Default)]
pub struct Databases {
    pools: BTreeMap<String, Arc<Database>>,
}

/// One database: its connections, and the writer connection its
/// transactions queue for.
#[derive(Debug)]
struct Database {
    path: PathBuf,
    /// Idle connections, ready for the next guest.
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    /// One permit per connection a guest may hold.
    permits: Arc<Semaphore>,
    /// The connection every transaction runs on, one at a time. SQLite
    /// allows one writer at a time; left to itself, a second `BEGIN
    /// IMMEDIATE` sleeps in SQLite's busy handler with growing back-off.
    /// Queueing writers on an async lock instead wakes the next one the
    /// moment the previous commits, without blocking the event loop.
    writer: Arc<Mutex<Writer>>,
    /// Set when rows may have been written since the last checkpoint
    /// ([`checkpointer`]).
    written: Arc<AtomicBool>,
}

/// The writer connection; `None` once lost to a statement's thread that
/// panicked, until the next transaction opens it again.
#[derive(Debug)]
struct Writer {
    conn: Option<rusqlite::Connection>,
}

impl Databases {
    /// Opens (creating if needed) every label's file, at the given paths.
    pub async fn open(paths: &BTreeMap<String, PathBuf>) -> Result<Self, OpenError> {
        let mut pools = BTreeMap::new();
        for (label, path) in paths {
            let database = Database {
                path: path.clone(),
                idle: std::sync::Mutex::new(vec![connect(path).await?]),
                permits: Arc::new(Semaphore::new(CONNECTIONS)),
                writer: Arc::new(Mutex::new(Writer {
                    conn: Some(connect(path).await?),
                })),
                written: Arc::new(AtomicBool::new(false)),
            };
            checkpointer::spawn(path, Arc::downgrade(&database.written))?;
            pools.insert(label.clone(), Arc::new(database));
        }
        Ok(Self { pools })
    }
}

impl Database {
    /// A connection for one guest resource: an idle one, or a new one while
    /// fewer than [`CONNECTIONS`] are open.
    async fn acquire(self: &Arc<Self>) -> Result<Held, Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Io("the database is closed".into()))?;
        let idle = self.idle.lock().expect("idle list poisoned").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        Ok(Held {
            conn: Some(conn),
            home: self.clone(),
            transaction: None,
            rowid: 0,
            changes: 0,
            _permit: permit,
        })
    }

    /// The writer connection, once the transactions before are over.
    async fn writer(&self) -> Result<OwnedMutexGuard<Writer>, Error> {
        let mut writer = self.writer.clone().lock_owned().await;
        if writer.conn.is_none() {
            writer.conn = Some(self.connect().await?);
        }
        Ok(writer)
    }

    async fn connect(&self) -> Result<rusqlite::Connection, Error> {
        connect(&self.path)
            .await
            .map_err(|e| Error::Io(e.to_string()))
    }
}

/// Opens a pool on one SQLite file with the settings every part of Jiandu
/// uses: for `jiandu migrate` and the host's own reads, never for guests.
pub async fn pool(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    create_directory(path).map_err(sqlx::Error::Io)?;
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(
            SqliteConnectOptions::from_str("sqlite:")?
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true),
        )
        .await
}

fn create_directory(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    }
}

/// Opens a guest connection on a blocking thread (opening touches the file).
async fn connect(path: &Path) -> Result<rusqlite::Connection, OpenError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || guest_connection(&path))
        .await
        .expect("opening a database does not panic")
}

/// Opens a connection for guests, with the same settings as [`pool`], the
/// busy handler off (see the module's doc), SQLite's automatic checkpoints
/// off (the [`checkpointer`] runs them) and the [`authorize`] guard on.
fn guest_connection(path: &Path) -> Result<rusqlite::Connection, OpenError> {
    create_directory(path).map_err(|source| OpenError::Directory {
        path: path.to_owned(),
        source,
    })?;
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA wal_autocheckpoint = 0;",
    )
    .map_err(sqlite)?;
    conn.busy_timeout(Duration::ZERO).map_err(sqlite)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // SAFETY: the handle is this live connection's, used on this thread; the
    // authorizer is a plain function that uses no user data.
    let rc = unsafe {
        ffi::sqlite3_set_authorizer(conn.handle(), Some(authorize), std::ptr::null_mut())
    };
    if rc != ffi::SQLITE_OK {
        return Err(sqlite(rusqlite::Error::SqliteFailure(
            ffi::Error::new(rc),
            Some("installing the SQL guard failed".into()),
        )));
    }
    Ok(conn)
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
    use ffi::*;
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
        Ok(Connection {
            inner: Arc::new(Mutex::new(database.acquire().await?)),
        })
    }
}

/// The state behind a guest `connection` resource.
pub struct Connection {
    inner: Arc<Mutex<Held>>,
}

/// One guest's connection, out of its database's pool while the guest holds it.
struct Held {
    /// `None` only while a statement runs on a blocking thread, or after one
    /// panicked there (the connection is then gone, and its transaction with it).
    conn: Option<rusqlite::Connection>,
    home: Arc<Database>,
    /// The writer connection, held from `BEGIN` until its transaction is over.
    transaction: Option<OwnedMutexGuard<Writer>>,
    /// `last_insert_rowid()` and `changes()` as this guest's statements left
    /// them, on whichever connection they ran.
    rowid: i64,
    changes: u64,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    /// The connection the next statement runs on: the writer within a
    /// transaction, the guest's own outside one.
    fn slot(&mut self) -> &mut Option<rusqlite::Connection> {
        match &mut self.transaction {
            Some(writer) => &mut writer.conn,
            None => &mut self.conn,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // The writer's lock drops after this, so the next transaction finds
        // the writer rolled back.
        if let Some(writer) = &mut self.transaction {
            writer.conn = writer.conn.take().and_then(without_transaction);
        }
        if let Some(conn) = self.conn.take().and_then(without_transaction) {
            self.home
                .idle
                .lock()
                .expect("idle list poisoned")
                .push(conn);
        }
    }
}

/// A connection with any transaction left open rolled back (`ROLLBACK`
/// waits on no lock), or nothing if that failed: a connection with an open
/// transaction is never used again.
fn without_transaction(conn: rusqlite::Connection) -> Option<rusqlite::Connection> {
    if conn.is_autocommit() {
        return Some(conn);
    }
    match conn.execute_batch("ROLLBACK") {
        Ok(()) => Some(conn),
        Err(e) => {
            tracing::warn!("rolling back an abandoned transaction failed: {e}");
            None
        }
    }
}

impl Connection {
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<QueryResult, Error> {
        let mut held = self.inner.lock().await;
        if held.transaction.is_none() && transaction_effect(sql) == TransactionEffect::Begins {
            held.transaction = Some(held.home.writer().await?);
        }
        let result = Self::run(&mut held, sql, params).await;
        // The transaction is over when SQLite says so: after `COMMIT` or
        // `ROLLBACK`, after a failed `BEGIN`, or after an error that rolled
        // it back; a failed `COMMIT` leaves it open for the guest to end.
        if let Some(writer) = &held.transaction
            && writer
                .conn
                .as_ref()
                .is_none_or(rusqlite::Connection::is_autocommit)
        {
            held.transaction = None;
            held.home.written.store(true, Ordering::Release);
            // The next writer was handed the lock just now, but runs only
            // once its task is polled; yielding lets it run before this
            // guest goes on (answering its request takes a while), so the
            // writer connection does not sit idle in between.
            drop(held);
            tokio::task::yield_now().await;
        }
        result
    }

    /// Runs one statement here, or, if it finds the database locked, again
    /// on a blocking thread that waits for the lock (see the module's doc).
    async fn run(held: &mut Held, sql: &str, params: Vec<Value>) -> Result<QueryResult, Error> {
        if refused_statement(sql) {
            return Err(Error::Io(
                "not authorized: VACUUM is not for components".into(),
            ));
        }
        let rowid = held.rowid;
        let slot = held.slot();
        let conn = slot.as_ref().ok_or(Error::InvalidConnection)?;
        // The writer's last rowid is another guest's until this one inserts.
        set_last_insert_rowid(conn, rowid);
        let ran = match query(conn, sql, &params) {
            Err(Failure::Busy) => {
                let conn = slot.take().ok_or(Error::InvalidConnection)?;
                let sql = sql.to_owned();
                let (conn, ran) = tokio::task::spawn_blocking(move || {
                    let ran = waiting_for_locks(&conn, || query(&conn, &sql, &params));
                    (conn, ran)
                })
                .await
                .map_err(|e| Error::Io(format!("a statement's thread failed: {e}")))?;
                *slot = Some(conn);
                ran.map_err(Failure::into_error)
            }
            ran => ran.map_err(Failure::into_error),
        };
        let (result, changed) = ran?;
        if changed {
            held.home.written.store(true, Ordering::Release);
        }
        if changed
            && let Some((rowid, changes)) = held
                .slot()
                .as_ref()
                .map(|conn| (conn.last_insert_rowid(), conn.changes()))
        {
            (held.rowid, held.changes) = (rowid, changes);
        }
        Ok(result)
    }

    /// `last_insert_rowid()` or `changes()` as this guest left it.
    async fn read<T>(&self, read: impl FnOnce(&Held) -> T) -> T {
        read(&*self.inner.lock().await)
    }

    fn share(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// Sets what `last_insert_rowid()` returns until the next `INSERT`.
fn set_last_insert_rowid(conn: &rusqlite::Connection, rowid: i64) {
    // SAFETY: the handle is this live connection's, used on this thread.
    unsafe { ffi::sqlite3_set_last_insert_rowid(conn.handle(), rowid) }
}

/// Runs `f` with the busy timeout on, turning it off again afterwards.
fn waiting_for_locks<T>(
    conn: &rusqlite::Connection,
    f: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(Failure::from)?;
    let result = f();
    conn.busy_timeout(Duration::ZERO).map_err(Failure::from)?;
    result
}

/// Why a statement did not run.
enum Failure {
    /// It found the database locked, and did nothing.
    Busy,
    /// Anything else, as the guest sees it.
    Other(Error),
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Self::Busy => Error::Io("database is locked".into()),
            Self::Other(e) => e,
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            Some(rusqlite::ErrorCode::DiskFull) => Self::Other(Error::DatabaseFull),
            _ => Self::Other(Error::Io(e.to_string())),
        }
    }
}

/// One statement with its values bound, every row read, and whether it
/// wrote rows (an `INSERT`, `UPDATE` or `DELETE`, which set `changes()`). A
/// statement that finds the database locked fails before it has done
/// anything (SQLite's statements are atomic), so it may be run again.
fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<(QueryResult, bool), Failure> {
    let mut statement = conn.prepare_cached(sql)?;
    // `BEGIN IMMEDIATE` is not read-only to SQLite, since it locks the
    // file, but it changes no rows.
    let writes = !statement.readonly() && transaction_effect(sql) != TransactionEffect::Begins;
    let columns = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter().map(Param)))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map_err(Failure::from).and_then(value))
            .collect::<Result<_, _>>()?;
        read.push(RowResult { values });
    }
    Ok((
        QueryResult {
            columns,
            rows: read,
        },
        writes,
    ))
}

/// A guest's value, bound as SQLite's own type.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Null => ValueRef::Null,
        }))
    }
}

/// A column's value as the guest sees it.
fn value(raw: ValueRef<'_>) -> Result<Value, Failure> {
    Ok(match raw {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Text(t) => {
            Value::Text(String::from_utf8(t.to_vec()).map_err(|e| {
                Failure::Other(Error::Io(format!("a text value is not UTF-8: {e}")))
            })?)
        }
    })
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
        Ok(connection(self.table, &this)?.read(|held| held.rowid).await)
    }

    async fn changes(&mut self, this: Resource<Connection>) -> wasmtime::Result<u64> {
        Ok(connection(self.table, &this)?
            .read(|held| held.changes)
            .await)
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
        Ok(conn.read(|held| held.rowid).await)
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
    ) -> wasmtime::Result<u64> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        Ok(conn.read(|held| held.changes).await)
    }
}
