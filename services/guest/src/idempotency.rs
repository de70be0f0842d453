//! `Idempotency-Key`: a retried request gets the first answer and stores nothing twice.

use spin_sdk::http::StatusCode;

use crate::api::ApiError;
use crate::db::{Db, DbError, Value, text};

/// A stored first answer.
pub struct Stored {
    /// Its status.
    pub status: u16,
    /// Its JSON body.
    pub body: serde_json::Value,
}

/// Looks up a key; a key reused with a different body is a 422.
pub async fn lookup(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<Stored>, ApiError> {
    let rows = db
        .query(
            "reading an idempotency key",
            "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
            [text(scope), text(key)],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    if row.text("request_hash") != Some(request_hash) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            "this Idempotency-Key was already used with a different body; use a new key for a new request",
        ));
    }
    let body =
        serde_json::from_str(row.text("body").unwrap_or("null")).map_err(ApiError::internal)?;
    Ok(Some(Stored {
        status: u16::try_from(row.int("status").unwrap_or(200)).unwrap_or(200),
        body,
    }))
}

/// Records the answer inside the caller's transaction. A concurrent request
/// with the same key makes this fail with a UNIQUE violation.
pub async fn record(
    db: &Db,
    scope: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &serde_json::Value,
    now: &str,
) -> Result<(), DbError> {
    db.exec(
        "recording an idempotency key",
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            text(scope),
            text(key),
            text(request_hash),
            Value::Integer(status.into()),
            text(body.to_string()),
            text(now),
        ],
    )
    .await
}

/// After a failed write: rolls it back and, if a concurrent retry with the
/// same key committed first, its answer; otherwise the failure.
pub async fn after_failed_write(
    db: &Db,
    error: DbError,
    scope: &str,
    key: Option<&str>,
    request_hash: &str,
) -> Result<Stored, ApiError> {
    db.rollback().await;
    if error.is_unique_violation()
        && let Some(key) = key
        && let Some(stored) = lookup(db, scope, key, request_hash).await?
    {
        return Ok(stored);
    }
    Err(error.into())
}

/// Validates the header's value: 1–200 visible ASCII characters.
pub fn parse_key(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_owned()))
        }
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "",
            "the Idempotency-Key header must be 1–200 visible ASCII characters",
        )),
    }
}
