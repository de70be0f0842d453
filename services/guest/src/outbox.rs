//! The outbox: work for Temporal written in the same transaction as the
//! domain row, and relayed to Temporal by the worker. Components never call
//! Temporal themselves.

use crate::db::{Db, DbError, text};

/// Records "start workflow `workflow_type` with id `workflow_id`"; the relay
/// treats an already-started workflow as success, so this is safe to repeat.
pub async fn start_workflow(
    db: &Db,
    workflow_type: &str,
    workflow_id: &str,
    payload: &serde_json::Value,
    now: &str,
) -> Result<(), DbError> {
    db.exec(
        "writing the outbox",
        "INSERT INTO outbox (kind, workflow_type, workflow_id, payload, idempotency_key, created_at)
         VALUES ('start', ?, ?, ?, ?, ?)",
        [
            text(workflow_type),
            text(workflow_id),
            text(payload.to_string()),
            text(format!("start:{workflow_id}")),
            text(now),
        ],
    )
    .await
}
