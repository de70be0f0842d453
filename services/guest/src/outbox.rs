//! The outbox: work for Temporal written in the same transaction as the
//! domain row, and relayed to Temporal by the worker. Components never call
//! Temporal themselves.

use jiandu_domain::flow::{EVENT_SIGNAL, FlowEvent, OUTBOX_INSERT, start_key};
use serde::Serialize;

use crate::db::{Db, DbError, Value, text};

/// Records "start workflow `workflow_type` with id `workflow_id`"; the relay
/// treats an already-started workflow as success, so this is safe to repeat.
pub async fn start_workflow(
    db: &Db,
    workflow_type: &str,
    workflow_id: &str,
    payload: &impl Serialize,
    now: &str,
) -> Result<(), DbError> {
    db.exec(
        "writing the outbox",
        OUTBOX_INSERT,
        [
            text("start"),
            text(workflow_type),
            text(workflow_id),
            Value::Null,
            text(to_json(payload)),
            text(start_key(workflow_id)),
            text(now),
        ],
    )
    .await
}

/// Records "signal workflow `workflow_id` with `event`"; the event's key is
/// the row's idempotency key, and the workflow drops repeats by it.
pub async fn signal_workflow(
    db: &Db,
    workflow_type: &str,
    workflow_id: &str,
    event: &FlowEvent,
    now: &str,
) -> Result<(), DbError> {
    db.exec(
        "writing the outbox",
        OUTBOX_INSERT,
        [
            text("signal"),
            text(workflow_type),
            text(workflow_id),
            text(EVENT_SIGNAL),
            text(to_json(event)),
            text(&event.key),
            text(now),
        ],
    )
    .await
}

fn to_json(payload: &impl Serialize) -> String {
    serde_json::to_string(payload).expect("outbox payloads are plain data")
}
