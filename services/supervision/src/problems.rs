//! 问题台账 — a problem's record, its handover for rectification (整改) to
//! the org responsible, and the owner's request for more time.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{EventKind, FlowEvent, RECTIFICATION_WORKFLOW, RectificationStarted};
use jiandu_domain::org::Role;
use jiandu_domain::supervision::{
    ProblemSource, ProblemState, elevation_basis, listing_in_force, rectification_supervisor,
};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::store::{self, Problem};
use crate::{SUPERVISORS, require_commission};

/// 403 unless the caller acts for `holder` — the commission that holds a
/// tour, campaign or problem — as its head or 监督检查室.
pub(crate) fn holder_acts(caller: &Staff, holder: &str, what: &str) -> Result<(), ApiError> {
    if holder != caller.org() {
        return Err(api::forbidden(format!("only {holder} {what}")));
    }
    require_commission(caller, SUPERVISORS)
}

/// Records a problem under a fresh id, by the caller, now, with its audit
/// entry, and answers 201.
pub(crate) async fn record(
    db: &Db,
    caller: &Staff,
    problem: &store::NewProblem<'_>,
) -> Result<Reply, ApiError> {
    let id = new_id("P");
    let at = clock::rfc3339(clock::now());
    let object = format!("problem:{id}");
    audit::audited(
        db,
        caller,
        Act::done(AuditAction::ProblemRecord, &object),
        async || store::insert_problem(db, &id, problem, &caller.claims.sub, &at).await,
    )
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({ "id": id, "state": ProblemState::Recorded.as_str(), "recorded_at": at }),
    ))
}

/// The problem `id` if the caller may see it — the commission that holds
/// it (and the supervisory roles above), its owner, its supervising org —
/// else 404.
async fn visible(db: &Db, caller: &Staff, id: &str) -> Result<Problem, ApiError> {
    store::problem(db, id)
        .await?
        .filter(|p| {
            caller.watches(&p.org)
                || caller.org() == p.responsible_org
                || p.supervisor.as_deref().is_some_and(|s| caller.watches(s))
        })
        .ok_or_else(|| staff::hidden("problem"))
}

/// `GET /api/v1/problems/{id}`: the problem, the clue it was transferred
/// as, its steps and what happened to it.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let p = visible(db, caller, id).await?;
    let events = store::problem_events(db, id).await?;
    let count = |event: &str| events.iter().filter(|e| e.str("event") == event).count();
    let (returned, reopened) = (count("returned"), count("recheck_failed"));
    let events: Vec<_> = events
        .iter()
        .map(|e| json!({ "at": e.text("at"), "event": e.text("event"), "note": e.text("note") }))
        .collect();
    let tasks: Vec<_> = store::problem_tasks(db, id)
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.text("id"),
                "step": t.text("step"),
                "assignee": { "org": t.text("assignee_org"), "role": t.text("assignee_role") },
                "assignment_basis": t.text("assignment_basis"),
                "status": t.text("status"),
                "outcome": t.text("outcome"),
                "due_date": t.text("due_date"),
                "opened_at": t.text("opened_at"),
                "closed_at": t.text("closed_at"),
                "escalation_level": t.int("escalation_level"),
                "link": format!("/api/v1/tasks/{}", t.str("id")),
            })
        })
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": p.id,
            "source": p.source,
            "tour_id": p.tour_id,
            "campaign_id": p.campaign_id,
            "source_ref": p.source_ref,
            "target": p.target,
            "org": p.org,
            "responsible_org": p.responsible_org,
            "category": p.category,
            "description": p.description,
            "recommendation": p.recommendation,
            "evidence": p.evidence,
            "state": p.state,
            "supervisor": p.supervisor,
            "elevated": p.elevated,
            "recorded_at": p.recorded_at,
            "handed_at": p.handed_at,
            "clue_id": p.clue_id,
            "returned": returned,
            "reopened": reopened,
            "tasks": tasks,
            "events": events,
        }),
    ))
}

#[derive(Deserialize)]
struct FoundInMatter {
    source: ProblemSource,
    source_ref: String,
    responsible_org: String,
    category: String,
    description: String,
    #[serde(default)]
    evidence: Vec<String>,
}

/// `POST /api/v1/problems`: the commission that holds a report or a clue
/// records a problem it revealed, owned by an org under it; it is handed
/// over like any other problem.
pub(crate) async fn record_from_matter(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    require_commission(&caller, SUPERVISORS)?;
    let input: FoundInMatter = jiandu_guest::schema!("problem.json").parse(input)?;
    let holder = store::holder_of(db, input.source.as_str(), &input.source_ref).await?;
    if holder.as_deref() != Some(caller.org()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/source_ref",
            format!("no such {} held by your commission", input.source),
        ));
    }
    crate::tours::inspected_org(
        &caller,
        caller.org(),
        &input.responsible_org,
        "/responsible_org",
    )?;
    let problem = store::NewProblem {
        source: input.source.as_str(),
        tour_id: None,
        campaign_id: None,
        source_ref: Some(&input.source_ref),
        target: &input.responsible_org,
        org: caller.org(),
        responsible_org: &input.responsible_org,
        category: &input.category,
        description: &input.description,
        recommendation: None,
        evidence: &input.evidence,
    };
    record(db, &caller, &problem).await
}

#[derive(Deserialize)]
struct Handover {
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    months: u32,
    #[serde(default, deserialize_with = "jiandu_domain::wire::some_whole_number")]
    recheck_after_months: Option<u32>,
}

/// `POST /api/v1/problems/{id}/rectification`: the commission that holds a
/// problem hands it to its owner. Its owner's supervisor verifies and
/// re-checks it — for a village under 提级监督, the county commission
/// instead of the township, and its tasks say so.
pub(crate) async fn hand_over(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let problem = visible(db, &caller, id).await?;
    holder_acts(&caller, &problem.org, "hands this problem over")?;
    let input: Handover = jiandu_guest::schema!("rectification.json").parse(input)?;
    if problem.handed_at.is_some() {
        return Err(api::conflict("the problem", &problem.state, &[]));
    }
    let owner = problem.responsible_org.as_str();
    let today = clock::china_date(clock::now()).to_string();
    let listing = store::open_listing(db, owner)
        .await?
        .filter(|l| listing_in_force(&l.starts_on, &l.ends_on, false, &today));
    let supervisor = rectification_supervisor(&caller.tree, owner, listing.is_some())
        .ok_or_else(|| ApiError::internal(format!("no org supervises {owner} in the tree")))?;
    let basis = listing
        .as_ref()
        .map(|l| elevation_basis(owner, &supervisor.id, &l.starts_on, &l.ends_on, l.id));
    let at = clock::rfc3339(clock::now());
    let started = RectificationStarted {
        problem_id: id.to_owned(),
        owner: owner.to_owned(),
        supervisor: supervisor.id.clone(),
        basis,
        handed_at: at.clone(),
        months: input.months,
        recheck_after_months: input.recheck_after_months,
    };
    let object = format!("problem:{id}");
    let handed = audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::ProblemRectify, &object),
        async || {
            if !store::hand_over(db, id, &supervisor.id, listing.is_some(), &at).await? {
                return Ok(None);
            }
            outbox::start_workflow(db, RECTIFICATION_WORKFLOW, id, &started, &at).await?;
            Ok(Some(()))
        },
    )
    .await?;
    if handed.is_none() {
        return Err(api::conflict("the problem", "handed over", &[]));
    }
    Ok(api::accepted(&json!({
        "problem_id": id,
        "state": ProblemState::Rectifying.as_str(),
        "owner": owner,
        "supervisor": supervisor.id,
        "elevated": listing.is_some(),
    })))
}

#[derive(Deserialize)]
struct MoreTime {
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    months: u32,
    reason: String,
}

/// `POST /api/v1/problems/{id}/more-time`: the owner asks, once per
/// deadline, for more time on its open rectification step; the supervising
/// org's head answers it as a task.
pub(crate) async fn more_time(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let problem = visible(db, &caller, id).await?;
    if problem.responsible_org != caller.org() {
        return Err(api::forbidden(format!(
            "only the owner, {}, asks for more time",
            problem.responsible_org
        )));
    }
    caller.require(&[Role::Staff, Role::Head])?;
    let input: MoreTime = jiandu_guest::schema!("more-time.json").parse(input)?;
    let step = store::owner_step(db, id).await?.ok_or_else(|| {
        api::conflict(
            "the problem",
            &problem.state,
            &["ask while its rectification step is open"],
        )
    })?;
    if step.asked {
        return Err(api::conflict(
            "the rectification step",
            "already given one request for more time",
            &["ask again once the deadline changes"],
        ));
    }
    let event = FlowEvent {
        key: new_id("E"),
        kind: EventKind::MoreTimeRequested {
            task_id: step.task_id.clone(),
            months: input.months,
            reason: input.reason,
            by: caller.claims.sub.clone(),
        },
    };
    let at = clock::rfc3339(clock::now());
    let object = format!("problem:{id}");
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::ProblemExtension, &object),
        async || {
            outbox::signal_workflow(db, RECTIFICATION_WORKFLOW, &step.workflow_id, &event, &at)
                .await
        },
    )
    .await?;
    Ok(api::accepted(
        &json!({ "task_id": step.task_id, "event": event.key }),
    ))
}
