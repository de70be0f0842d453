//! The task inbox: each human step a workflow waits for, assigned to one
//! org and one position in it, with its due time, its article and how far it
//! has escalated up the org tree.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{ElevationAction, EventKind, FlowEvent};
use jiandu_domain::org::{OrgKind, Role};
use jiandu_domain::step::{Outcome, StepName, TaskStatus};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, Row, text};
use jiandu_guest::query;
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, lateness, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::store::{self, TaskView};
use crate::{accepted, conflict, forbidden, new_id};

/// A task row as the API shows it.
pub(crate) fn task_json(r: &Row) -> serde_json::Value {
    let outcomes: serde_json::Value =
        serde_json::from_str(r.text("outcomes").unwrap_or("[]")).unwrap_or_default();
    json!({
        "id": r.text("id"),
        "workflow": { "type": r.text("workflow_type"), "id": r.text("workflow_id") },
        "subject": { "kind": r.text("subject_kind"), "id": r.text("subject_id") },
        "step": r.text("step"),
        "duty": r.text("duty"),
        "article": r.text("article"),
        "statutory": r.flag("statutory"),
        "assignee": { "org": r.text("assignee_org"), "role": r.text("assignee_role") },
        "outcomes": outcomes,
        "opened_at": r.text("opened_at"),
        "due_date": r.text("due_date"),
        "due_at": r.text("due_at"),
        "due_estimated": r.flag("due_estimated"),
        "status": r.text("status"),
        "reminders_sent": r.int("reminders_sent"),
        "escalation_level": r.int("escalation_level"),
        "colour": lateness::colour(r, clock::now()),
        "supervised_by": r.text("supervised_by"),
        "elevated_to": r.text("elevated_to"),
        "requested_by": r.text("requested_by"),
        "outcome": r.text("outcome"),
        "closed_at": r.text("closed_at"),
        "assignment_basis": r.text("assignment_basis"),
    })
}

/// `GET /api/v1/tasks?view=…`: `inbox` (default) — the open tasks of the
/// caller's org for the roles they hold; `supervised` — tasks pressed by
/// (督办) or elevated to (提级) the caller's org; `subtree` — the open tasks
/// of every org below the caller's. The last two are for supervisory roles,
/// who may list these tasks but not complete them.
pub(crate) async fn list(caller: Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let mut view = "inbox".to_owned();
    for (name, value) in query::pairs(query)? {
        match name.as_str() {
            "view" => view = value,
            _ => return Err(query::bad(&name, "is not a parameter of the task list")),
        }
    }
    let view = view.as_str();
    let selected = match view {
        "inbox" => TaskView::Inbox {
            org: caller.org().to_owned(),
            roles: caller.role_params(),
        },
        "supervised" | "subtree" => {
            let supervisory: Vec<Role> = Role::ALL
                .iter()
                .copied()
                .filter(|r| r.is_supervisory())
                .collect();
            caller.require(&supervisory)?;
            if view == "supervised" {
                TaskView::Supervised {
                    org: caller.org().to_owned(),
                }
            } else {
                TaskView::AssignedTo {
                    orgs: caller
                        .tree
                        .subtree(caller.org())
                        .into_iter()
                        .skip(1)
                        .map(|o| text(&o.id))
                        .collect(),
                }
            }
        }
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "/view",
                format!("`{other}` is not a view; use inbox, supervised or subtree"),
            ));
        }
    };
    let rows = store::open_tasks(db, selected).await?;
    let tasks: Vec<serde_json::Value> = rows
        .iter()
        .filter(|t| caller.may_see_task(t))
        .map(task_json)
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "view": view, "tasks": tasks }),
    ))
}

/// Loads a task the caller may see, or 404.
async fn visible(db: &Db, caller: &Staff, task_id: &str) -> Result<Row, ApiError> {
    let task = store::task(db, task_id).await?;
    task.filter(|t| caller.may_see_task(t))
        .ok_or_else(|| staff::hidden("task"))
}

/// `GET /api/v1/tasks/{id}`: a task with its events (opened, 催办, 督办, 提级, done).
pub(crate) async fn show(caller: Staff, db: &Db, task_id: &str) -> Result<Reply, ApiError> {
    let task = visible(db, &caller, task_id).await?;
    let events = store::task_events(db, task_id).await?;
    let mut body = task_json(&task);
    body["events"] = json!(
        events
            .iter()
            .map(|e| json!({ "at": e.text("at"), "kind": e.text("kind"), "detail": e.text("detail") }))
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
    step: StepName,
) -> Result<Option<OpenTask>, ApiError> {
    let row = store::open_task_of_step(db, subject_id, step.as_str()).await?;
    Ok(row.map(|r| OpenTask {
        id: r.str("id").to_owned(),
        workflow_id: r.str("workflow_id").to_owned(),
    }))
}

/// The event that tells a workflow the caller did a task.
pub(crate) fn completion(
    caller: &Staff,
    task_id: &str,
    outcome: Outcome,
    note: Option<String>,
    detail: Option<String>,
    decision_id: Option<String>,
) -> FlowEvent {
    FlowEvent {
        key: new_id("E"),
        kind: EventKind::TaskCompleted {
            task_id: task_id.to_owned(),
            outcome,
            note,
            detail,
            decision_id,
            by: caller.claims.sub.clone(),
            at: clock::rfc3339(clock::now()),
        },
    }
}

/// Whether a task in `status` still waits for its assignee.
fn pending(status: &str) -> bool {
    TaskStatus::parse(status).is_some_and(TaskStatus::is_pending)
}

/// Tells the workflow that waits on `task` about `event`, through the outbox.
/// Signals the task's workflow, with the caller's audit entry for `action`.
async fn signal(
    db: &Db,
    caller: &Staff,
    action: AuditAction,
    task: &Row,
    event: &FlowEvent,
) -> Result<(), ApiError> {
    let at = clock::rfc3339(clock::now());
    let object = format!("task:{}", task.str("id"));
    audit::audited(db, caller, Act::done(action, &object), async || {
        outbox::signal_workflow(
            db,
            task.str("workflow_type"),
            task.str("workflow_id"),
            event,
            &at,
        )
        .await
    })
    .await
}

#[derive(Deserialize, Default)]
struct Completion {
    outcome: Option<String>,
    note: Option<String>,
    detail: Option<String>,
    decision_id: Option<String>,
}

/// Steps that must go through their own endpoint, which checks what they need.
const OWN_ENDPOINT: &[(StepName, &str)] =
    &[(StepName::Disposal, "POST /api/v1/clues/{id}/disposal")];

/// `POST /api/v1/tasks/{id}/complete|approve|reject`: does a task. Only its
/// assignee may, never the person who asked for it, and an outcome that
/// needs a collective decision names one that reached it.
pub(crate) async fn act(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    task_id: &str,
    action: &str,
) -> Result<Reply, ApiError> {
    let task = visible(db, &caller, task_id).await?;
    let (org, role) = (task.str("assignee_org"), task.str("assignee_role"));
    let holds = Role::parse(role).is_some_and(|r| caller.claims.holds(r));
    if caller.org() != org || !holds {
        return Err(forbidden(format!(
            "this task is for {role} of {org}; only they may do it"
        )));
    }
    if task.text("requested_by") == Some(caller.claims.sub.as_str()) {
        return Err(forbidden(
            "回避: you asked for this; someone else must answer it",
        ));
    }
    let schema = jiandu_guest::schema!("task-completion.json");
    let input: Completion = schema.parse(input)?;
    let step = StepName::parse(task.str("step"))
        .ok_or_else(|| ApiError::internal(format!("task {task_id} has an unknown step")))?;
    let status = task.str("status");
    if !pending(status) {
        return Err(conflict("the task", status, &[]));
    }
    if let Some((_, endpoint)) = OWN_ENDPOINT.iter().find(|(s, _)| *s == step) {
        return Err(conflict("the task", status, &[endpoint]));
    }
    let allowed: Vec<Outcome> = serde_json::from_str(task.str("outcomes")).unwrap_or_default();
    let names: Vec<&str> = allowed.iter().map(|o| o.as_str()).collect();
    let outcome = match action {
        "approve" => Outcome::Approve,
        "reject" => Outcome::Reject,
        _ => {
            let given = input.outcome.as_deref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "/outcome",
                    format!("say how the task was done: one of {}", names.join(", ")),
                )
            })?;
            Outcome::parse(given)
                .ok_or_else(|| conflict(&format!("the task `{step}`"), status, &names))?
        }
    };
    if !allowed.contains(&outcome) {
        return Err(conflict(&format!("the task `{step}`"), status, &names));
    }
    let blank = input.note.as_deref().is_none_or(|n| n.trim().is_empty());
    let unexplained = match outcome {
        Outcome::Return | Outcome::Fails => Some("sends the problem back to its owner"),
        Outcome::Dismiss => Some("clears a suspicious record or a warning"),
        _ => None,
    };
    if let Some(effect) = unexplained.filter(|_| blank) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/note",
            format!("`{outcome}` {effect}: give the reasons"),
        ));
    }
    if let Some(matter) = step.decision_for(outcome) {
        let decision = input.decision_id.as_deref().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/decision_id",
                format!(
                    "`{outcome}` rests on a collective decision on {matter} (规则 Art. 53): name it"
                ),
            )
        })?;
        crate::clues::check_decision(
            db,
            task.str("subject_id"),
            decision,
            matter,
            outcome.as_str(),
        )
        .await?;
    }
    if step == StepName::Assignment
        && let Some(person_org) = &input.detail
        && !caller.tree.is_within(person_org, org)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/detail",
            format!("the person's org `{person_org}` is not under {org}"),
        ));
    }
    if step == StepName::ComplaintAssignment {
        check_handler(&caller, org, input.detail.as_deref())?;
    }
    let event = completion(
        &caller,
        task_id,
        outcome,
        input.note,
        input.detail,
        input.decision_id,
    );
    let action = match action {
        "approve" => AuditAction::TaskApprove,
        "reject" => AuditAction::TaskReject,
        _ => AuditAction::TaskComplete,
    };
    signal(db, &caller, action, &task, &event).await?;
    Ok(accepted(
        json!({ "task_id": task_id, "event": event.key, "outcome": outcome }),
    ))
}

/// 422 unless a complaint's 分办 names, in `detail`, the org that handles
/// it: one under the commission responsible for the division `org`, and not
/// a commission (a complaint handled by a commission is a report to it).
fn check_handler(caller: &Staff, org: &str, detail: Option<&str>) -> Result<(), ApiError> {
    let unfit =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "/detail", message);
    let handler = detail.ok_or_else(|| unfit("name the org that handles the complaint".into()))?;
    let commission = caller
        .tree
        .commission_of(org)
        .ok_or_else(|| ApiError::internal(format!("{org} has no commission")))?;
    match caller.tree.get(handler) {
        Some(h)
            if h.kind != OrgKind::Commission && caller.tree.is_within(handler, &commission.id) =>
        {
            Ok(())
        }
        _ => Err(unfit(format!(
            "`{handler}` is not an org under {} that can handle a complaint",
            commission.id
        ))),
    }
}

#[derive(Deserialize)]
struct Elevation {
    #[serde(flatten)]
    action: ElevationAction,
    reason: String,
}

/// `POST /api/v1/tasks/{id}/elevation`: 提级 — the head or 监督检查室 of the
/// commission a late step was elevated to sets it a new due date or takes it
/// over; either is recorded on the task.
pub(crate) async fn elevate(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    task_id: &str,
) -> Result<Reply, ApiError> {
    let task = visible(db, &caller, task_id).await?;
    caller.require(&[Role::Head, Role::Supervision])?;
    let status = task.str("status");
    match task.text("elevated_to") {
        Some(org) if org == caller.org() && pending(status) => {}
        Some(org) if org == caller.org() => return Err(conflict("the task", status, &[])),
        Some(org) => {
            return Err(conflict(
                "the task",
                &format!("elevated to {org}"),
                &["only that commission decides"],
            ));
        }
        None => return Err(conflict("the task", "not elevated", &[])),
    }
    let schema = jiandu_guest::schema!("task-elevation.json");
    let input: Elevation = schema.parse(input)?;
    if let ElevationAction::SetDue { due_date } = &input.action {
        let today = clock::china_date(clock::now()).to_string();
        if due_date.as_str() <= today.as_str() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/due_date",
                format!("a new due date comes after today ({today})"),
            ));
        }
    }
    let event = FlowEvent {
        key: new_id("E"),
        kind: EventKind::Elevation {
            task_id: task_id.to_owned(),
            action: input.action,
            reason: input.reason,
            by: caller.claims.sub.clone(),
        },
    };
    signal(db, &caller, AuditAction::TaskElevate, &task, &event).await?;
    Ok(accepted(json!({ "task_id": task_id, "event": event.key })))
}
