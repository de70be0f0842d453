//! The component's database, through Spin's `spin:sqlite` interface (so the
//! same component runs on real Spin), with typed row access and transactions.

use spin_sdk::sqlite::{Connection, Error as SqliteError, RowResult};

pub use spin_sdk::sqlite::Value;

use crate::api::ApiError;

/// A database failure.
#[derive(Debug)]
pub struct DbError {
    /// What was being done.
    pub context: &'static str,
    /// The host's error.
    pub error: SqliteError,
}

impl DbError {
    /// Whether a UNIQUE constraint was violated (e.g. a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(&self.error, SqliteError::Io(m) if m.contains("UNIQUE constraint failed"))
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.context, self.error)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e)
    }
}

/// An open connection to the `default` database.
pub struct Db(Connection);

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
    /// Opens the `default` database.
    pub async fn open() -> Result<Self, DbError> {
        Connection::open_default()
            .await
            .map(Self)
            .map_err(|error| DbError {
                context: "opening the database",
                error,
            })
    }

    /// Runs a statement and returns its rows.
    pub async fn query(
        &self,
        context: &'static str,
        sql: &str,
        params: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<Row>, DbError> {
        let result = self
            .0
            .execute(sql, params)
            .await
            .map_err(|error| DbError { context, error })?;
        let columns: std::rc::Rc<[String]> = result.columns().into();
        let rows: Vec<RowResult> = result
            .collect()
            .await
            .map_err(|error| DbError { context, error })?;
        Ok(rows
            .into_iter()
            .map(|r| Row {
                columns: columns.clone(),
                values: r.values,
            })
            .collect())
    }

    /// Runs a statement that returns no rows.
    pub async fn exec(
        &self,
        context: &'static str,
        sql: &str,
        params: impl IntoIterator<Item = Value>,
    ) -> Result<(), DbError> {
        self.query(context, sql, params).await.map(drop)
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`). It is rolled back
    /// unless [`Db::commit`] is called: by [`Db::rollback`], or by the host
    /// when the connection is dropped.
    pub async fn begin(&self) -> Result<(), DbError> {
        self.exec("beginning a transaction", "BEGIN IMMEDIATE", [])
            .await
    }

    /// Commits the open transaction; once this returns, the writes are durable.
    pub async fn commit(&self) -> Result<(), DbError> {
        self.exec("committing", "COMMIT", []).await
    }

    /// Abandons the open transaction.
    pub async fn rollback(&self) {
        if let Err(e) = self.exec("rolling back", "ROLLBACK", []).await {
            eprintln!("rollback failed: {e}");
        }
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
}
