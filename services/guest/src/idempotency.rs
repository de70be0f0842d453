//! `Idempotency-Key`: a retried request gets the first answer and stores nothing twice.
//!
//! Public submissions record their answer in their own transaction
//! ([`record`]). A staff write runs under [`staff_write`]: its key is
//! reserved in the write's transaction (with its audit entry, see
//! [`crate::audit::append`]), and the answer is kept once it is known. A
//! retry finds the answer, or — if the write committed but its answer was
//! never kept — a 409 that says so; never a second write.

use spin_sdk::http::StatusCode;

use spin_sdk::http::FullBody;

use crate::api::{ApiError, Reply};
use crate::db::{Db, DbError};
use crate::staff::Staff;
use crate::store;

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
    let row = store::idempotency_key(db, scope, key).await?;
    let Some(row) = row else {
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
    store::insert_idempotency_key(
        db,
        store::NewKey {
            scope,
            key,
            request_hash,
            status,
            body: body.to_string(),
            at: now,
        },
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

/// A staff write's key: reserved with the write, answered after it.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The caller and the request (`<sub> POST <path>`): one person's key
    /// never answers another's request.
    pub scope: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the body, hex.
    pub request_hash: String,
}

/// The status of a reserved key whose answer is not kept yet.
const RESERVED: u16 = 0;

/// Reserves `claim` inside the write's transaction; a concurrent request
/// with the same key makes the write fail with a UNIQUE violation.
pub async fn reserve(db: &Db, claim: &Claim, now: &str) -> Result<(), DbError> {
    record(
        db,
        &claim.scope,
        &claim.key,
        &claim.request_hash,
        RESERVED,
        &serde_json::Value::Null,
        now,
    )
    .await
}

/// A staff `POST` to `path` with a JSON body: reads its `Idempotency-Key`
/// and body, and runs `write` with the body under [`staff_write`].
pub async fn staff_post(
    req: spin_sdk::http::Request,
    db: &Db,
    caller: Staff,
    path: &str,
    write: impl AsyncFnOnce(Staff, serde_json::Value) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    let key = key_of(&req)?;
    let (input, raw) = crate::api::read_json(req).await?;
    let scope = format!("{} POST {path}", caller.claims.sub);
    staff_write(db, caller, key, &raw, scope, async |c| {
        write(c, input).await
    })
    .await
}

/// Runs a staff write under its `Idempotency-Key` (if `key` is given): a
/// retry gets the first answer; a write that committed without its answer
/// being kept gets 409 rather than running twice.
pub async fn staff_write(
    db: &Db,
    mut caller: Staff,
    key: Option<String>,
    raw_body: &[u8],
    scope: String,
    write: impl AsyncFnOnce(Staff) -> Result<Reply, ApiError>,
) -> Result<Reply, ApiError> {
    let Some(key) = key else {
        return write(caller).await;
    };
    let claim = Claim {
        scope,
        key,
        request_hash: hex::encode(crate::seal::sha256(raw_body)),
    };
    if let Some(stored) = lookup(db, &claim.scope, &claim.key, &claim.request_hash).await? {
        return answer(stored);
    }
    caller.idempotency = Some(claim.clone());
    match write(caller).await {
        Ok(reply) => {
            let (parts, body) = reply.into_parts();
            let bytes = http_body_util::BodyExt::collect(body)
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_else(|never| match never {});
            let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            store::keep_idempotent_answer(
                db,
                &claim.scope,
                &claim.key,
                RESERVED,
                parts.status.as_u16(),
                json.to_string(),
            )
            .await?;
            Ok(Reply::from_parts(parts, FullBody::new(bytes)))
        }
        // A concurrent request with the same key won the race: answer as it did.
        Err(error) => match lookup(db, &claim.scope, &claim.key, &claim.request_hash).await? {
            Some(stored) => answer(stored),
            None => Err(error),
        },
    }
}

/// The first answer again, or 409 while it is not kept.
fn answer(stored: Stored) -> Result<Reply, ApiError> {
    if stored.status == RESERVED {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "",
            "a request with this Idempotency-Key was carried out, but its answer was not kept; look the result up instead of retrying",
        ));
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut reply = crate::api::json(status, &stored.body);
    reply
        .headers_mut()
        .insert("idempotent-replayed", "true".parse().expect("valid header"));
    Ok(reply)
}

/// The request's `Idempotency-Key`, validated: absent is `None`; a value
/// that is not even text (bytes beyond ASCII) is as invalid as any other.
pub fn key_of(req: &spin_sdk::http::Request) -> Result<Option<String>, ApiError> {
    let value = req.headers().get("idempotency-key");
    parse_key(value.map(|v| v.to_str().unwrap_or("")))
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
