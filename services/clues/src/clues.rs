//! The clue registry: register, show, record decisions, choose the disposal.

use std::sync::OnceLock;

use jiandu_domain::clue::{
    ClueAction, ClueSource, ClueState, CollectiveDecision, Disposal, Matter, Role,
};
use jiandu_domain::flow::{CLUE_WORKFLOW, ClueStarted, EventKind, FlowEvent, REPORT_WORKFLOW};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::auth::{self, Claims};
use jiandu_guest::db::{Db, Row, opt_text, text};
use jiandu_guest::schema::Schema;
use jiandu_guest::{clock, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::{accepted, body, conflict, new_id, not_found};

/// Roles of the commission that may read and act on clues.
pub(crate) const COMMISSION: &[Role] = &[
    Role::CaseManagement,
    Role::Supervision,
    Role::Investigation,
    Role::Review,
    Role::Head,
];

fn schema(cell: &'static OnceLock<Schema>, text: &'static str) -> &'static Schema {
    cell.get_or_init(|| Schema::compile(text))
}

#[derive(Deserialize)]
struct NewClue {
    source: ClueSource,
    summary: String,
    report_id: Option<String>,
}

/// `POST /api/v1/clues`: 案件监督管理室 registers a clue from a tour, a
/// big-data hit or supervision, or a further clue from an accepted report
/// (the first is registered when 信访室 accepts it); that report then waits
/// for this clue too before it concludes.
pub(crate) async fn register(req: Request, caller: Claims) -> Result<Reply, ApiError> {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    auth::require(&caller, &[Role::CaseManagement])?;
    let input: NewClue = body(
        req,
        schema(&SCHEMA, include_str!("../../../schemas/clue.json")),
    )
    .await?;
    let db = Db::open().await?;
    let report_id = match (input.source, input.report_id) {
        (ClueSource::Report, Some(report_id)) => {
            accepted_report(&db, &report_id).await?;
            Some(report_id)
        }
        (ClueSource::Report, None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "/report_id",
                "a clue from a report names the report",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "/report_id",
                "only clues from a report name one",
            ));
        }
        (_, None) => None,
    };
    let id = new_id("C");
    let at = clock::rfc3339(clock::now());
    let started = ClueStarted {
        clue_id: id.clone(),
        source: input.source,
        report_id: report_id.clone(),
        registered_at: at.clone(),
    };
    let source = serde_json::to_value(input.source).expect("sources serialize");
    db.begin().await?;
    let written = async {
        db.exec(
            "registering a clue",
            "INSERT INTO clues (id, source, report_id, org, summary, state, registered_by, registered_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                text(&id),
                text(source.as_str().unwrap_or_default()),
                opt_text(report_id.as_deref()),
                text(&caller.org),
                text(&input.summary),
                text(ClueState::Assignment.as_str()),
                text(&caller.sub),
                text(&at),
                text(&at),
            ],
        )
        .await?;
        outbox::start_workflow(&db, CLUE_WORKFLOW, &id, &started, &at).await?;
        if let Some(report_id) = &report_id {
            let opened = FlowEvent {
                key: format!("{id}:opened"),
                kind: EventKind::ClueOpened { clue_id: id.clone() },
            };
            outbox::signal_workflow(&db, REPORT_WORKFLOW, report_id, &opened, &at).await?;
        }
        db.commit().await
    }
    .await;
    if let Err(e) = written {
        db.rollback().await;
        return Err(e.into());
    }
    Ok(api::json(
        StatusCode::CREATED,
        &json!({ "id": id, "state": ClueState::Assignment.as_str(), "registered_at": at }),
    ))
}

/// 422 unless the report exists, 409 unless it is `accepted` (its clues in progress).
async fn accepted_report(db: &Db, report_id: &str) -> Result<(), ApiError> {
    let rows = db
        .query(
            "reading a report",
            "SELECT status FROM reports WHERE id = ?",
            [text(report_id)],
        )
        .await?;
    let row = rows.first().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/report_id",
            "no such report",
        )
    })?;
    match row.text(0).unwrap_or_default() {
        "accepted" => Ok(()),
        status => Err(conflict(
            "the report",
            status,
            &["register clues while it is `accepted`"],
        )),
    }
}

/// A clue as stored.
pub(crate) struct Clue {
    pub(crate) state: ClueState,
}

/// Loads a clue the caller's organisation holds, or 404.
pub(crate) async fn load(db: &Db, caller: &Claims, id: &str) -> Result<Clue, ApiError> {
    let rows = db
        .query(
            "reading a clue",
            "SELECT org, state FROM clues WHERE id = ?",
            [text(id)],
        )
        .await?;
    let row = rows
        .first()
        .filter(|r| r.text(0) == Some(caller.org.as_str()))
        .ok_or_else(|| not_found("clue"))?;
    Ok(Clue {
        state: row
            .text(1)
            .and_then(ClueState::parse)
            .ok_or_else(|| ApiError::internal(format!("clue {id} has an unknown state")))?,
    })
}

/// 409 unless `action` is allowed in the clue's state.
pub(crate) fn allow(clue: &Clue, action: ClueAction) -> Result<(), ApiError> {
    if clue.state.allowed().contains(&action) {
        return Ok(());
    }
    let allowed: Vec<&str> = clue.state.allowed().iter().map(|a| a.as_str()).collect();
    Err(conflict("the clue", clue.state.as_str(), &allowed))
}

/// `GET /api/v1/clues/{id}`: the clue, its tasks, its events and its detention.
pub(crate) async fn show(caller: Claims, id: &str) -> Result<Reply, ApiError> {
    auth::require(&caller, COMMISSION)?;
    let db = Db::open().await?;
    load(&db, &caller, id).await?;
    let clue = db
        .query(
            "reading a clue",
            "SELECT id, source, report_id, summary, state, registered_at FROM clues WHERE id = ?",
            [text(id)],
        )
        .await?;
    let c = &clue[0];
    let tasks = db
        .query(
            "reading tasks",
            &format!(
                "{} WHERE subject_id = ? ORDER BY opened_at, id",
                crate::tasks::TASK_COLUMNS
            ),
            [text(id)],
        )
        .await?;
    let events = db
        .query(
            "reading events",
            "SELECT at, event, note FROM clue_events WHERE clue_id = ? ORDER BY id",
            [text(id)],
        )
        .await?;
    let detention = db
        .query(
            "reading the detention",
            "SELECT state, extensions, requested_at, announced_at FROM detentions WHERE clue_id = ?",
            [text(id)],
        )
        .await?;
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": c.text(0),
            "source": c.text(1),
            "report_id": c.text(2),
            "summary": c.text(3),
            "state": c.text(4),
            "registered_at": c.text(5),
            "tasks": tasks.iter().map(crate::tasks::task_json).collect::<Vec<_>>(),
            "events": events.iter().map(|e| json!({"at": e.text(0), "event": e.text(1), "note": e.text(2)})).collect::<Vec<_>>(),
            "detention": detention.first().map(|d| json!({
                "state": d.text(0),
                "extensions": d.int(1),
                "requested_at": d.text(2),
                "announced_at": d.text(3),
            })),
        }),
    ))
}

/// `POST /api/v1/clues/{id}/decisions`: records a collective decision.
pub(crate) async fn decide(req: Request, caller: Claims, id: &str) -> Result<Reply, ApiError> {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    auth::require(&caller, COMMISSION)?;
    let decision: CollectiveDecision = body(
        req,
        schema(&SCHEMA, include_str!("../../../schemas/decision.json")),
    )
    .await?;
    let problems = decision.check();
    if !problems.is_empty() {
        return Err(ApiError::fields(StatusCode::BAD_REQUEST, problems));
    }
    let db = Db::open().await?;
    let clue = load(&db, &caller, id).await?;
    allow(&clue, ClueAction::RecordDecision)?;
    let decision_id = new_id("D");
    let at = clock::rfc3339(clock::now());
    db.exec(
        "recording a decision",
        "INSERT INTO decisions (id, clue_id, matter, attendees, outcome, dissent, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(&decision_id),
            text(id),
            text(matter_name(decision.matter)),
            text(serde_json::to_string(&decision.attendees).expect("strings serialize")),
            text(&decision.outcome),
            text(serde_json::to_string(&decision.dissent).expect("dissent serializes")),
            text(&caller.sub),
            text(&at),
        ],
    )
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({ "id": decision_id, "clue_id": id, "matter": matter_name(decision.matter), "recorded_at": at }),
    ))
}

fn matter_name(matter: Matter) -> &'static str {
    match matter {
        Matter::Disposal => "disposal",
        Matter::Filing => "filing",
        Matter::Review => "review",
        Matter::Detention => "detention",
    }
}

/// 422 unless `decision_id` is a decision on this clue about `matter`.
pub(crate) async fn check_decision(
    db: &Db,
    clue_id: &str,
    decision_id: &str,
    matter: Matter,
) -> Result<Row, ApiError> {
    let rows = db
        .query(
            "reading a decision",
            "SELECT matter, outcome FROM decisions WHERE id = ? AND clue_id = ?",
            [text(decision_id), text(clue_id)],
        )
        .await?;
    match rows.into_iter().next() {
        Some(row) if row.text(0) == Some(matter_name(matter)) => Ok(row),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/decision_id",
            format!("that decision is not about {}", matter_name(matter)),
        )),
        None => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/decision_id",
            "no such collective decision on this clue (规则 Art. 53: record it first)",
        )),
    }
}

#[derive(Deserialize)]
struct DisposalChoice {
    mode: String,
    decision_id: String,
    note: Option<String>,
}

/// `POST /api/v1/clues/{id}/disposal`: chooses the disposal the collective
/// decision settled (规则 Art. 21, 53).
pub(crate) async fn dispose(req: Request, caller: Claims, id: &str) -> Result<Reply, ApiError> {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    auth::require(&caller, &[Role::Supervision])?;
    let choice: DisposalChoice = body(
        req,
        schema(&SCHEMA, include_str!("../../../schemas/disposal.json")),
    )
    .await?;
    let mode = Disposal::parse(&choice.mode)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "/mode", "not a disposal mode"))?;
    let db = Db::open().await?;
    let clue = load(&db, &caller, id).await?;
    allow(&clue, ClueAction::ChooseDisposal)?;
    let decision = check_decision(&db, id, &choice.decision_id, Matter::Disposal).await?;
    if decision.text(1) != Some(mode.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/mode",
            format!(
                "the collective decision settled `{}`, not `{}`",
                decision.text(1).unwrap_or_default(),
                mode.as_str()
            ),
        ));
    }
    let task = crate::tasks::open_task_of(&db, id, "disposal")
        .await?
        .ok_or_else(|| conflict("the disposal step", "not open yet", &["retry shortly"]))?;
    let at = clock::rfc3339(clock::now());
    let event = FlowEvent {
        key: new_id("E"),
        kind: EventKind::TaskCompleted {
            task_id: task.id.clone(),
            outcome: mode.as_str().to_owned(),
            note: choice.note,
            detail: None,
            decision_id: Some(choice.decision_id),
            by: caller.sub.clone(),
        },
    };
    outbox::signal_workflow(&db, CLUE_WORKFLOW, &task.workflow_id, &event, &at).await?;
    Ok(accepted(
        json!({ "task_id": task.id, "event": event.key, "mode": mode.as_str() }),
    ))
}
