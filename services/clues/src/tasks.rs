//! The task inbox: each human step a workflow waits for, with its due time,
//! its article and how far it has escalated.

use std::sync::OnceLock;

use jiandu_domain::clue::Role;
use jiandu_domain::flow::{EventKind, FlowEvent};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::auth::Claims;
use jiandu_guest::db::{Db, Row, text};
use jiandu_guest::schema::Schema;
use jiandu_guest::{clock, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::{accepted, body, conflict, new_id, not_found};

/// The columns [`task_json`] reads, as a SELECT without its WHERE.
pub(crate) const TASK_COLUMNS: &str =
    "SELECT id, workflow_type, workflow_id, subject_kind, subject_id, step, duty,
        article, statutory, assignee_org, assignee_role, outcomes, opened_at, due_date, due_at,
        due_estimated, status, reminders_sent, escalation_level, escalated_to, outcome, closed_at
     FROM tasks";

/// A task row as the API shows it.
pub(crate) fn task_json(r: &Row) -> serde_json::Value {
    let outcomes: serde_json::Value =
        serde_json::from_str(r.text(11).unwrap_or("[]")).unwrap_or_default();
    json!({
        "id": r.text(0),
        "workflow": { "type": r.text(1), "id": r.text(2) },
        "subject": { "kind": r.text(3), "id": r.text(4) },
        "step": r.text(5),
        "duty": r.text(6),
        "article": r.text(7),
        "statutory": r.int(8) == Some(1),
        "assignee": { "org": r.text(9), "role": r.text(10) },
        "outcomes": outcomes,
        "opened_at": r.text(12),
        "due_date": r.text(13),
        "due_at": r.text(14),
        "due_estimated": r.int(15) == Some(1),
        "status": r.text(16),
        "reminders_sent": r.int(17),
        "escalation_level": r.int(18),
        "escalated_to": r.text(19),
        "outcome": r.text(20),
        "closed_at": r.text(21),
    })
}

/// `GET /api/v1/tasks`: the open and overdue tasks of the caller's role and organisation.
pub(crate) async fn inbox(caller: Claims) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let rows = db
        .query(
            "reading the inbox",
            &format!(
                "{TASK_COLUMNS} WHERE assignee_org = ? AND assignee_role = ? AND status IN ('open', 'overdue')
                 ORDER BY due_at IS NULL, due_at, opened_at"
            ),
            [text(&caller.org), text(caller.role.as_str())],
        )
        .await?;
    Ok(api::json(
        StatusCode::OK,
        &json!({ "tasks": rows.iter().map(task_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/tasks/{id}`: a task with its events (opened, 催办, 督办,
/// 提级, done), for its assignee and the head of its organisation.
pub(crate) async fn show(caller: Claims, task_id: &str) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let rows = db
        .query(
            "reading a task",
            &format!("{TASK_COLUMNS} WHERE id = ?"),
            [text(task_id)],
        )
        .await?;
    let task = rows.first().ok_or_else(|| not_found("task"))?;
    let (org, role) = (
        task.text(9).unwrap_or_default(),
        task.text(10).unwrap_or_default(),
    );
    let assignee = caller.org == org && caller.role.as_str() == role;
    let head = caller.org == org && caller.role == Role::Head;
    if !(assignee || head) {
        return Err(not_found("task"));
    }
    let events = db
        .query(
            "reading a task's events",
            "SELECT at, kind, detail FROM task_events WHERE task_id = ? ORDER BY id",
            [text(task_id)],
        )
        .await?;
    let mut body = task_json(task);
    body["events"] = json!(
        events
            .iter()
            .map(|e| json!({ "at": e.text(0), "kind": e.text(1), "detail": e.text(2) }))
            .collect::<Vec<_>>()
    );
    Ok(api::json(StatusCode::OK, &body))
}

/// An open task: where to signal its completion.
pub(crate) struct OpenTask {
    pub(crate) id: String,
    pub(crate) workflow_id: String,
}

/// The open task of `step` on `subject_id`, if the workflow has opened it.
pub(crate) async fn open_task_of(
    db: &Db,
    subject_id: &str,
    step: &str,
) -> Result<Option<OpenTask>, ApiError> {
    let rows = db
        .query(
            "reading a task",
            "SELECT id, workflow_id FROM tasks
             WHERE subject_id = ? AND step = ? AND status IN ('open', 'overdue')
             ORDER BY opened_at DESC LIMIT 1",
            [text(subject_id), text(step)],
        )
        .await?;
    Ok(rows.first().map(|r| OpenTask {
        id: r.text(0).unwrap_or_default().to_owned(),
        workflow_id: r.text(1).unwrap_or_default().to_owned(),
    }))
}

#[derive(Deserialize, Default)]
struct Completion {
    outcome: Option<String>,
    note: Option<String>,
    detail: Option<String>,
}

/// Steps that must go through their own endpoint, which checks what they need.
const OWN_ENDPOINT: &[(&str, &str)] = &[("disposal", "POST /api/v1/clues/{id}/disposal")];

/// `POST /api/v1/tasks/{id}/complete|approve|reject`: does a task.
pub(crate) async fn act(
    req: Request,
    caller: Claims,
    task_id: &str,
    action: &str,
) -> Result<Reply, ApiError> {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    let schema = SCHEMA
        .get_or_init(|| Schema::compile(include_str!("../../../schemas/task-completion.json")));
    let input: Completion = body(req, schema).await?;
    let db = Db::open().await?;
    let rows = db
        .query(
            "reading a task",
            "SELECT workflow_type, workflow_id, step, assignee_org, assignee_role, outcomes, status
             FROM tasks WHERE id = ?",
            [text(task_id)],
        )
        .await?;
    let task = rows.first().ok_or_else(|| not_found("task"))?;
    let (workflow_type, workflow_id, step) = (
        task.text(0).unwrap_or_default(),
        task.text(1).unwrap_or_default(),
        task.text(2).unwrap_or_default(),
    );
    let (org, role) = (
        task.text(3).unwrap_or_default(),
        task.text(4).unwrap_or_default(),
    );
    if caller.org != org || caller.role.as_str() != role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "",
            format!("this task is for role `{role}` of {org}; only they may do it"),
        ));
    }
    let outcomes: Vec<String> =
        serde_json::from_str(task.text(5).unwrap_or("[]")).unwrap_or_default();
    let allowed: Vec<&str> = outcomes.iter().map(String::as_str).collect();
    let status = task.text(6).unwrap_or_default();
    if !matches!(status, "open" | "overdue") {
        return Err(conflict("the task", status, &[]));
    }
    if let Some((_, endpoint)) = OWN_ENDPOINT.iter().find(|(s, _)| *s == step) {
        return Err(conflict("the task", status, &[endpoint]));
    }
    let outcome = match action {
        "approve" | "reject" => action.to_owned(),
        _ => input.outcome.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "/outcome",
                format!("say how the task was done: one of {}", allowed.join(", ")),
            )
        })?,
    };
    if !allowed.contains(&outcome.as_str()) {
        return Err(conflict(&format!("the task `{step}`"), status, &allowed));
    }
    let event = FlowEvent {
        key: new_id("E"),
        kind: EventKind::TaskCompleted {
            task_id: task_id.to_owned(),
            outcome: outcome.clone(),
            note: input.note,
            detail: input.detail,
            decision_id: None,
            by: caller.sub.clone(),
        },
    };
    let at = clock::rfc3339(clock::now());
    outbox::signal_workflow(&db, workflow_type, workflow_id, &event, &at).await?;
    Ok(accepted(
        json!({ "task_id": task_id, "event": event.key, "outcome": outcome }),
    ))
}
