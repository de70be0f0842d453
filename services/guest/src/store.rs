//! The SQL the shared pieces run: the audit log's chain, idempotency keys
//! and the stored org tree. (The outbox statement is the domain's
//! `flow::OUTBOX_INSERT`, which the workflows run too.)

use jiandu_domain::audit::Entry;

use crate::db::{Db, DbError, Row, Value, opt_text, text};

/// The first row, if any.
fn first(rows: Vec<Row>) -> Option<Row> {
    rows.into_iter().next()
}

/// The audit log's last entry: `seq`, `hash`.
pub(crate) async fn last_audit_entry(db: &Db) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading the audit log's last entry",
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
        )
        .await?,
    ))
}

/// Appends `entry`, whose hash is `hash`.
pub(crate) async fn append_audit_entry(
    db: &Db,
    entry: Entry,
    hash: [u8; 32],
) -> Result<(), DbError> {
    db.exec(
        "appending to the audit log",
        "INSERT INTO audit_log (seq, at, actor, actor_org, actor_roles, action, object, request_id,
                                outcome, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            Value::Integer(entry.seq),
            text(entry.at),
            text(entry.actor),
            text(entry.actor_org),
            text(entry.actor_roles),
            text(entry.action),
            text(entry.object),
            text(entry.request_id),
            text(entry.outcome),
            opt_text(entry.detail),
            Value::Blob(entry.prev_hash.to_vec()),
            Value::Blob(hash.to_vec()),
        ],
    )
    .await
}

/// An idempotency key's stored answer: `request_hash`, `status`, `body`.
pub(crate) async fn idempotency_key(
    db: &Db,
    scope: &str,
    key: &str,
) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading an idempotency key",
            "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
            [text(scope), text(key)],
        )
        .await?,
    ))
}

/// An idempotency key and its answer, as first recorded.
pub(crate) struct NewKey<'a> {
    pub(crate) scope: &'a str,
    pub(crate) key: &'a str,
    pub(crate) request_hash: &'a str,
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) at: &'a str,
}

/// Records a key; a second with the same scope and key is a UNIQUE violation.
pub(crate) async fn insert_idempotency_key(db: &Db, k: NewKey<'_>) -> Result<(), DbError> {
    db.exec(
        "recording an idempotency key",
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            text(k.scope),
            text(k.key),
            text(k.request_hash),
            Value::Integer(k.status.into()),
            text(k.body),
            text(k.at),
        ],
    )
    .await
}

/// Keeps the answer of a key reserved with status `reserved`.
pub(crate) async fn keep_idempotent_answer(
    db: &Db,
    scope: &str,
    key: &str,
    reserved: u16,
    status: u16,
    body: String,
) -> Result<(), DbError> {
    db.exec(
        "keeping an idempotent answer",
        "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ? AND status = ?",
        [
            Value::Integer(status.into()),
            text(body),
            text(scope),
            text(key),
            Value::Integer(reserved.into()),
        ],
    )
    .await
}

/// The loaded org tree's version.
pub(crate) async fn org_tree_version(db: &Db) -> Result<Option<i64>, DbError> {
    Ok(first(
        db.query(
            "reading the org tree's version",
            "SELECT version FROM org_tree WHERE id = 1",
            [],
        )
        .await?,
    )
    .and_then(|r| r.int("version")))
}

/// The loaded org tree: `version`, `tree`.
pub(crate) async fn org_tree(db: &Db) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading the org tree",
            "SELECT version, tree FROM org_tree WHERE id = 1",
            [],
        )
        .await?,
    ))
}
