//! The component's database, with typed row access and transactions: SQLite
//! through Spin's `spin:sqlite` interface (the default) or PostgreSQL through
//! `spin:postgres`, so the same component runs on real Spin against either.
//!
//! Which one is the component variable `database_url`: `sqlite:<label>`
//! (`sqlite:default` when the variable is absent) or a `postgres://` address,
//! which the component's `allowed_outbound_hosts` must allow. Statements are
//! written once, in the SQL both share, with `?` placeholders (on
//! PostgreSQL they become `$1`, `$2`, …) or `$N` ones, which both take.
//! Values keep SQLite's five kinds (integer, real, text, blob, null), which
//! the PostgreSQL migrations' column types (`BIGINT`, `DOUBLE PRECISION`,
//! `TEXT`, `BYTEA`) match.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

use spin_sdk::pg::{self, DbValue, ParameterValue, PgError, QueryError};
// The generated bindings, not spin-sdk's wrapper, which offers only
// `execute-async`: a transaction's statements use the plain `execute`.
use spin_sdk::sqlite::wit::sqlite;
use spin_sdk::sqlite::{Error as SqliteError, RowResult};

pub use spin_sdk::sqlite::Value;

use crate::api::ApiError;

/// The component variable naming the database.
const DATABASE_URL: &str = "database_url";
/// The database when `database_url` is not set.
const DEFAULT_DATABASE: &str = "sqlite:default";
/// The advisory lock every PostgreSQL write transaction holds, so that
/// writes run one at a time as they do on SQLite (`BEGIN IMMEDIATE`): the
/// components' read-then-write steps rely on it. The number is arbitrary
/// but fixed ("jiandu" in ASCII).
pub const WRITE_LOCK: i64 = 0x6a69_616e_6475;
/// SQLSTATE `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";

/// Where the component's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Database {
    /// A `spin:sqlite` database by its label.
    Sqlite(String),
    /// A PostgreSQL address for `spin:postgres`.
    Postgres(String),
}

impl Database {
    fn parse(url: &str) -> Result<Self, String> {
        if let Some(label) = url.strip_prefix("sqlite:") {
            if label.is_empty() {
                return Err("`sqlite:` needs a database label, e.g. `sqlite:default`".into());
            }
            Ok(Self::Sqlite(label.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err("it is neither `sqlite:<label>` nor a `postgres://` address".into())
        }
    }

    /// The database this instance was configured with, read once.
    async fn configured() -> Result<&'static Self, DbError> {
        static DATABASE: OnceLock<Database> = OnceLock::new();
        if let Some(database) = DATABASE.get() {
            return Ok(database);
        }
        let url = match spin_sdk::variables::get(DATABASE_URL).await {
            Ok(url) => url,
            Err(spin_sdk::variables::Error::Undefined(_)) => DEFAULT_DATABASE.to_owned(),
            Err(e) => return Err(DbError::config(format!("{DATABASE_URL}: {e:?}"))),
        };
        let database =
            Self::parse(&url).map_err(|why| DbError::config(format!("{DATABASE_URL}: {why}")))?;
        Ok(DATABASE.get_or_init(|| database))
    }
}

/// What failed underneath.
#[derive(Debug)]
enum Failure {
    Sqlite(SqliteError),
    Postgres(pg::Error),
    Config(String),
}

impl From<SqliteError> for Failure {
    fn from(e: SqliteError) -> Self {
        Self::Sqlite(e)
    }
}

impl From<pg::Error> for Failure {
    fn from(e: pg::Error) -> Self {
        Self::Postgres(e)
    }
}

/// Wraps either database's error with what was being done.
fn failed<E: Into<Failure>>(context: &'static str) -> impl Fn(E) -> DbError + Copy {
    move |e| DbError {
        context,
        failure: e.into(),
    }
}

/// A database failure.
#[derive(Debug)]
pub struct DbError {
    /// What was being done.
    pub context: &'static str,
    failure: Failure,
}

impl DbError {
    fn config(why: String) -> Self {
        Self {
            context: "choosing the database",
            failure: Failure::Config(why),
        }
    }

    /// Whether a UNIQUE constraint was violated (e.g. a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        match &self.failure {
            Failure::Sqlite(SqliteError::Io(m)) => m.contains("UNIQUE constraint failed"),
            Failure::Postgres(pg::Error::PgError(PgError::QueryFailed(QueryError::DbError(e)))) => {
                e.code == UNIQUE_VIOLATION
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.failure {
            Failure::Sqlite(e) => write!(f, "{}: {e:?}", self.context),
            Failure::Postgres(e) => write!(f, "{}: {e:?}", self.context),
            Failure::Config(why) => write!(f, "{}: {why}", self.context),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e)
    }
}

/// An open connection to the component's database.
pub struct Db {
    connection: Connection,
    /// Whether this connection began a transaction that is not over yet.
    in_transaction: Cell<bool>,
}

enum Connection {
    Sqlite(sqlite::Connection),
    Postgres(pg::Connection),
}

/// One result row; columns are read by name.
pub struct Row {
    columns: std::rc::Rc<[String]>,
    values: Vec<Value>,
}

impl Row {
    fn value(&self, column: &str) -> Option<&Value> {
        let i = self.columns.iter().position(|c| c == column);
        debug_assert!(i.is_some(), "no column `{column}` in {:?}", self.columns);
        self.values.get(i?)
    }

    /// Column `column` as text.
    pub fn text(&self, column: &str) -> Option<&str> {
        match self.value(column) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// Column `column` as text, or empty when NULL.
    pub fn str(&self, column: &str) -> &str {
        self.text(column).unwrap_or_default()
    }

    /// Column `column` as an integer.
    pub fn int(&self, column: &str) -> Option<i64> {
        match self.value(column) {
            Some(Value::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    /// Column `column` as a real number (an integer is widened).
    pub fn real(&self, column: &str) -> Option<f64> {
        match self.value(column) {
            Some(Value::Real(x)) => Some(*x),
            Some(Value::Integer(n)) => Some(*n as f64),
            _ => None,
        }
    }

    /// Column `column` as a boolean (an integer other than 0).
    pub fn flag(&self, column: &str) -> bool {
        self.int(column).is_some_and(|n| n != 0)
    }

    /// Column `column` as bytes.
    pub fn blob(&self, column: &str) -> Option<&[u8]> {
        match self.value(column) {
            Some(Value::Blob(b)) => Some(b),
            _ => None,
        }
    }
}

/// Text parameter.
pub fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// An SQL `IN (…)` list of `values`: its placeholders and its parameters.
/// An empty list is `(NULL)`, which matches nothing.
pub fn in_list(values: impl IntoIterator<Item = Value>) -> (String, Vec<Value>) {
    let mut params: Vec<Value> = values.into_iter().collect();
    if params.is_empty() {
        params.push(Value::Null);
    }
    (vec!["?"; params.len()].join(", "), params)
}

/// Optional text parameter (NULL when absent).
pub fn opt_text(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.into()))
}

impl Db {
    /// Opens the component's database.
    pub async fn open() -> Result<Self, DbError> {
        let context = "opening the database";
        let connection = match Database::configured().await? {
            Database::Sqlite(label) => sqlite::Connection::open_async(label.clone())
                .await
                .map(Connection::Sqlite)
                .map_err(failed(context))?,
            Database::Postgres(address) => pg::Connection::open(address.as_str())
                .await
                .map(Connection::Postgres)
                .map_err(failed(context))?,
        };
        Ok(Self {
            connection,
            in_transaction: Cell::new(false),
        })
    }

    /// Runs a statement and returns its rows.
    ///
    /// On SQLite, a statement inside a transaction goes through
    /// `spin:sqlite`'s plain `execute`, which answers in the one call: the
    /// transaction holds SQLite's write lock, so its statements never wait,
    /// and every round trip saved is time the next writer does not wait for.
    /// Outside one, a statement may wait (for another process's write), so
    /// it goes through `execute-async`, which lets the instance's other
    /// requests run meanwhile.
    pub async fn query(
        &self,
        context: &'static str,
        sql: &str,
        params: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<Row>, DbError> {
        match &self.connection {
            Connection::Sqlite(conn) => {
                let fail = failed::<SqliteError>(context);
                let params = params.into_iter().collect::<Vec<_>>();
                let (columns, rows) = if self.in_transaction.get() {
                    let result = conn.execute(sql, &params).map_err(fail)?;
                    (result.columns, result.rows)
                } else {
                    let (columns, rows, done) = conn
                        .execute_async(sql.to_owned(), params)
                        .await
                        .map_err(fail)?;
                    let rows: Vec<RowResult> = rows.collect().await;
                    done.await.map_err(fail)?;
                    (columns, rows)
                };
                let columns: std::rc::Rc<[String]> = columns.into();
                Ok(rows
                    .into_iter()
                    .map(|r| Row {
                        columns: columns.clone(),
                        values: r.values,
                    })
                    .collect())
            }
            Connection::Postgres(conn) => {
                let params: Vec<ParameterValue> = params.into_iter().map(to_postgres).collect();
                let mut result =
                    conn.query(numbered(sql), params)
                        .await
                        .map_err(failed::<pg::Error>(context))?;
                let columns: std::rc::Rc<[String]> =
                    result.columns().iter().map(|c| c.name.clone()).collect();
                // The raw rows, so each value is moved into its row, not copied.
                let mut rows = Vec::new();
                while let Some(values) = result.rows().next().await {
                    rows.push(Row {
                        columns: columns.clone(),
                        values: values.into_iter().map(from_postgres).collect(),
                    });
                }
                result
                    .result()
                    .await
                    .map_err(failed::<pg::Error>(context))?;
                Ok(rows)
            }
        }
    }

    /// Runs a statement that returns no rows. On PostgreSQL it goes through
    /// `spin:postgres`'s `execute`, which answers with a count alone, not a
    /// stream of rows and a future for the outcome: one wait on the host
    /// instead of three, for the `BEGIN`, `COMMIT` and inserts of every write.
    pub async fn exec(
        &self,
        context: &'static str,
        sql: &str,
        params: impl IntoIterator<Item = Value>,
    ) -> Result<(), DbError> {
        match &self.connection {
            Connection::Sqlite(_) => self.query(context, sql, params).await.map(drop),
            Connection::Postgres(conn) => {
                let params: Vec<ParameterValue> = params.into_iter().map(to_postgres).collect();
                conn.execute(numbered(sql), params)
                    .await
                    .map(drop)
                    .map_err(failed::<pg::Error>(context))
            }
        }
    }

    /// Whether the database is PostgreSQL: for the few statements whose
    /// PostgreSQL form differs (row locks, which SQLite has no need of).
    pub fn on_postgres(&self) -> bool {
        matches!(self.connection, Connection::Postgres(_))
    }

    /// Starts a write transaction that runs alone, as SQLite's
    /// `BEGIN IMMEDIATE` does (on PostgreSQL: `BEGIN` and a transaction-wide
    /// advisory lock). It is rolled back unless [`Db::commit`] is called: by
    /// [`Db::rollback`], or by the host when the connection is dropped.
    pub async fn begin(&self) -> Result<(), DbError> {
        self.begin_beside_others().await?;
        match &self.connection {
            Connection::Sqlite(_) => Ok(()),
            Connection::Postgres(_) => {
                self.exec(
                    "taking the write lock",
                    "SELECT pg_advisory_xact_lock(?)",
                    [Value::Integer(WRITE_LOCK)],
                )
                .await
            }
        }
    }

    /// Starts a write transaction that may run beside others: for one that
    /// reads nothing it then writes on, only adding rows of a new aggregate
    /// whose keys are unique (a report as it arrives) or counting in
    /// single-statement upserts, which lock only their own rows, always taken
    /// in the same order. On PostgreSQL it takes
    /// no write lock, so such transactions from many hosts commit together;
    /// on SQLite it is `BEGIN IMMEDIATE`, since writes there run one at a
    /// time anyway. Rolled back as [`Db::begin`]'s is.
    pub async fn begin_beside_others(&self) -> Result<(), DbError> {
        let context = "beginning a transaction";
        let sql = match &self.connection {
            Connection::Sqlite(_) => "BEGIN IMMEDIATE",
            Connection::Postgres(_) => "BEGIN",
        };
        self.exec(context, sql, []).await?;
        self.in_transaction.set(true);
        Ok(())
    }

    /// Commits the open transaction; once this returns, the writes are durable.
    pub async fn commit(&self) -> Result<(), DbError> {
        self.exec("committing", "COMMIT", []).await?;
        self.in_transaction.set(false);
        Ok(())
    }

    /// Abandons the open transaction.
    pub async fn rollback(&self) {
        if let Err(e) = self.exec("rolling back", "ROLLBACK", []).await {
            eprintln!("rollback failed: {e}");
        }
        self.in_transaction.set(false);
    }
}

/// `sql` with its placeholders (`?` and `?NNN`) numbered as PostgreSQL
/// takes them (`$1`, `$2`, …); a `?` inside a string literal, a quoted
/// name or a comment stays as it is.
fn numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next: u32 = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '?' => {
                // SQLite's rules: `?NNN` is parameter NNN; a bare `?` is one
                // more than the largest number given so far.
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                let number = digits.parse().unwrap_or(next);
                next = next.max(number + 1);
                out.push('$');
                out.push_str(&number.to_string());
            }
            '\'' | '"' => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    // A doubled quote closes and reopens: both halves copy.
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A parameter as PostgreSQL takes it. PostgreSQL text cannot hold U+0000,
/// so it goes as U+FFFD, the character Unicode keeps for one that cannot be
/// represented: written, it is stored so; in a filter, it matches what was.
fn to_postgres(value: Value) -> ParameterValue {
    match value {
        Value::Integer(n) => ParameterValue::Int64(n),
        Value::Real(x) => ParameterValue::Floating64(x),
        Value::Text(s) if s.contains('\0') => ParameterValue::Str(s.replace('\0', "\u{fffd}")),
        Value::Text(s) => ParameterValue::Str(s),
        Value::Blob(b) => ParameterValue::Binary(b),
        Value::Null => ParameterValue::DbNull,
    }
}

/// A PostgreSQL result as one of SQLite's kinds: booleans and the integer
/// widths are integers, a `numeric` (what `SUM` of integers gives) an
/// integer when it is whole, JSON its text. Types the schema never uses
/// come back as NULL.
fn from_postgres(value: DbValue) -> Value {
    match value {
        DbValue::Boolean(b) => Value::Integer(i64::from(b)),
        DbValue::Int8(n) => Value::Integer(i64::from(n)),
        DbValue::Int16(n) => Value::Integer(i64::from(n)),
        DbValue::Int32(n) => Value::Integer(i64::from(n)),
        DbValue::Int64(n) => Value::Integer(n),
        DbValue::Floating32(x) => Value::Real(f64::from(x)),
        DbValue::Floating64(x) => Value::Real(x),
        DbValue::Str(s) | DbValue::Uuid(s) => Value::Text(s),
        DbValue::Binary(b) => Value::Blob(b),
        DbValue::Jsonb(b) => Value::Text(
            String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()),
        ),
        DbValue::Decimal(d) => d
            .parse::<i64>()
            .map(Value::Integer)
            .or_else(|_| d.parse::<f64>().map(Value::Real))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_list_has_a_placeholder_per_value_and_never_none() {
        let (marks, params) = in_list(["a", "b", "c"].map(text));
        assert_eq!(marks, "?, ?, ?");
        assert_eq!(params.len(), 3);
        let (marks, params) = in_list(std::iter::empty());
        assert_eq!(marks, "?");
        assert!(matches!(params.as_slice(), [Value::Null]));
    }

    #[test]
    fn placeholders_are_numbered_outside_literals_names_and_comments() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(
            numbered("SELECT '?', 'it''s ?', \"odd?\" FROM t -- why?\nWHERE x = ?"),
            "SELECT '?', 'it''s ?', \"odd?\" FROM t -- why?\nWHERE x = $1"
        );
        assert_eq!(
            numbered("UPDATE t SET a = ?2, b = ?3 WHERE k = ?1 AND c = ?"),
            "UPDATE t SET a = $2, b = $3 WHERE k = $1 AND c = $4"
        );
        assert!(matches!(numbered("SELECT 1"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_parameters_reach_postgres_without_nul() {
        assert!(matches!(
            to_postgres(text("a\0b")),
            ParameterValue::Str(s) if s == "a\u{fffd}b"
        ));
    }

    #[test]
    fn database_urls_name_sqlite_labels_or_postgres_addresses() {
        assert_eq!(
            Database::parse("sqlite:default"),
            Ok(Database::Sqlite("default".into()))
        );
        assert_eq!(
            Database::parse("postgres://jiandu@db:5432/jiandu"),
            Ok(Database::Postgres(
                "postgres://jiandu@db:5432/jiandu".into()
            ))
        );
        assert!(Database::parse("sqlite:").is_err());
        assert!(Database::parse("mysql://db/jiandu").is_err());
    }
}
