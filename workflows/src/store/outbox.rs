//! The outbox as the relay reads and marks it. Rows behind a dead row of
//! their workflow are never pending: they wait until it is requeued.

use super::Pool;

/// One pending outbox row.
#[derive(Debug, sqlx::FromRow)]
pub struct Pending {
    /// Its id, in write order.
    pub id: i64,
    /// `start` or `signal`.
    pub kind: String,
    /// The workflow type, for a start.
    pub workflow_type: Option<String>,
    /// The workflow it is for.
    pub workflow_id: String,
    /// The signal's name, for a signal.
    pub signal_name: Option<String>,
    /// The JSON payload.
    pub payload: String,
    /// The key the workflow drops repeats by.
    pub idempotency_key: String,
}

/// The advisory-lock class of the relay's claims on workflows (PostgreSQL's
/// two-key lock space, apart from the components' one-key write lock).
const RELAY_LOCK_CLASS: i32 = 0x6a64;

/// Up to `limit` pending rows, oldest first.
pub async fn pending(pool: &Pool, limit: u32) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "SELECT id, kind, workflow_type, workflow_id, signal_name, payload, idempotency_key
         FROM outbox o
         WHERE delivered_at IS NULL AND dead_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbox d
                           WHERE d.workflow_id = o.workflow_id AND d.dead_at IS NOT NULL AND d.id < o.id)
         ORDER BY id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
}

/// One workflow's pending rows, oldest first.
pub async fn pending_of(
    conn: &mut sqlx::AnyConnection,
    workflow: &str,
) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as(
        "SELECT id, kind, workflow_type, workflow_id, signal_name, payload, idempotency_key
         FROM outbox o
         WHERE workflow_id = $1 AND delivered_at IS NULL AND dead_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbox d
                           WHERE d.workflow_id = o.workflow_id AND d.dead_at IS NOT NULL AND d.id < o.id)
         ORDER BY id",
    )
    .bind(workflow)
    .fetch_all(conn)
    .await
}

/// PostgreSQL: claims `workflow` for this connection's session unless
/// another holds it; whether it was won.
pub async fn claim(conn: &mut sqlx::AnyConnection, workflow: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
        .bind(RELAY_LOCK_CLASS)
        .bind(workflow)
        .fetch_one(conn)
        .await
}

/// PostgreSQL: releases every claim this connection's session holds.
pub async fn release_claims(conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(conn)
        .await
        .map(drop)
}

/// Marks a row delivered at `at`.
pub async fn mark_delivered(pool: &Pool, id: i64, at: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET delivered_at = $1, last_error = NULL WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// Notes why a row is waiting, without counting an attempt against it.
pub async fn note_waiting(pool: &Pool, id: i64, why: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET last_error = $1 WHERE id = $2")
        .bind(why)
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// Counts a failed attempt; the row is dead at `at` if the failure is
/// `permanent` or this was attempt `max_attempts`. Its `dead_at`, if dead.
pub async fn count_failure(
    pool: &Pool,
    id: i64,
    why: &str,
    permanent: bool,
    max_attempts: i64,
    at: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1,
                dead_at = CASE WHEN $2 OR attempts + 1 >= $3 THEN $4 END
         WHERE id = $5 RETURNING dead_at",
    )
    .bind(why)
    .bind(permanent)
    .bind(max_attempts)
    .bind(at)
    .bind(id)
    .fetch_one(pool)
    .await
}

/// Rows dead-lettered and not requeued.
pub async fn dead_letters(pool: &Pool) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL AND delivered_at IS NULL",
    )
    .fetch_one(pool)
    .await
}
