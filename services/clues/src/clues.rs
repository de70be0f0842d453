//! The clue registry: register, show, record decisions, choose the disposal,
//! re-check a settled clue (回头看).

use jiandu_domain::audit::AuditAction;
use jiandu_domain::clue::{
    ClueAction, ClueSource, ClueState, CollectiveDecision, Disposal, Matter, RecheckFinding,
};
use jiandu_domain::flow::{CLUE_WORKFLOW, ClueStarted, EventKind, FlowEvent, REPORT_WORKFLOW};
use jiandu_domain::org::{OrgKind, Role};
use jiandu_domain::report::ReportStatus;
use jiandu_domain::step::{Outcome, StepName};
use jiandu_domain::supervision::{elevation_basis, listing_in_force};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::{conflict, store};

/// The commission's roles that may read its clues.
pub(crate) const COMMISSION: &[Role] = &[
    Role::CaseManagement,
    Role::Supervision,
    Role::Investigation,
    Role::Review,
    Role::Office,
    Role::Head,
];

/// Who records a collective decision: the head or the head's office.
const RECORDERS: &[Role] = &[Role::Head, Role::Office];

#[derive(Deserialize)]
struct NewClue {
    source: ClueSource,
    summary: String,
    report_id: Option<String>,
    problem_id: Option<String>,
    subject_org: Option<String>,
}

/// `POST /api/v1/clues`: 案件监督管理室 registers a clue in its own
/// commission from a tour, a big-data hit or supervision, or a further clue
/// from an accepted report of that commission (the first is registered when
/// 信访室 accepts it); that report then waits for this clue too.
pub(crate) async fn register(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::CaseManagement])?;
    let holds_clues = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| matches!(o.kind, OrgKind::Commission | OrgKind::Township));
    if !holds_clues {
        return Err(crate::forbidden(
            "clues are held by a commission or a township's 纪委; register it there",
        ));
    }
    let input: NewClue = jiandu_guest::schema!("clue.json").parse(input)?;
    if let Some(org) = &input.subject_org
        && !caller.tree.is_within(org, caller.org())
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/subject_org",
            format!("`{org}` is not an org under {}", caller.org()),
        ));
    }
    let report_id = match (input.source, input.report_id) {
        (ClueSource::Report, Some(report_id)) => {
            accepted_report(db, &caller, &report_id).await?;
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
    if let Some(problem_id) = &input.problem_id {
        transferable_problem(db, &caller, input.source, problem_id).await?;
    }
    let (holder, basis) = match (input.source, input.subject_org.as_deref()) {
        (ClueSource::Report, _) | (_, None) => (caller.org().to_owned(), None),
        (_, Some(subject_org)) => holding_commission(db, &caller, subject_org).await?,
    };
    let id = crate::new_id("C");
    let at = clock::rfc3339(clock::now());
    let started = ClueStarted {
        clue_id: id.clone(),
        source: input.source,
        report_id: report_id.clone(),
        registered_at: at.clone(),
        org: holder.clone(),
        subject_org: input.subject_org.clone(),
        basis: basis.clone(),
    };
    db.begin().await?;
    let written = async {
        store::insert_clue(
            db,
            &store::NewClue {
                id: &id,
                source: input.source.as_str(),
                report_id: report_id.as_deref(),
                problem_id: input.problem_id.as_deref(),
                org: &holder,
                subject_org: input.subject_org.as_deref(),
                summary: &input.summary,
                state: ClueState::Assignment.as_str(),
                registered_by: &caller.claims.sub,
                at: &at,
            },
        )
        .await?;
        outbox::start_workflow(db, CLUE_WORKFLOW, &id, &started, &at).await?;
        if let Some(report_id) = &report_id {
            let opened = FlowEvent {
                key: format!("{id}:opened"),
                kind: EventKind::ClueOpened {
                    clue_id: id.clone(),
                },
            };
            outbox::signal_workflow(db, REPORT_WORKFLOW, report_id, &opened, &at).await?;
        }
        let object = format!("clue:{id}");
        audit::append(db, &caller, Act::done(AuditAction::ClueRegister, &object)).await?;
        db.commit().await
    }
    .await;
    if let Err(e) = written {
        db.rollback().await;
        if e.is_unique_violation() {
            return Err(conflict(
                "the problem",
                "transferred as a clue already",
                &["read its clue_id"],
            ));
        }
        return Err(e.into());
    }
    Ok(api::json(
        StatusCode::CREATED,
        &json!({
            "id": id,
            "state": ClueState::Assignment.as_str(),
            "registered_at": at,
            "org": holder,
            "assignment_basis": basis,
        }),
    ))
}

/// The commission that holds a clue about a person of `subject_org`
/// registered by `caller`: the caller's own, unless the caller is a
/// township and `subject_org` a village under 提级监督 today — then the
/// county commission that listed it, and why.
async fn holding_commission(
    db: &Db,
    caller: &Staff,
    subject_org: &str,
) -> Result<(String, Option<String>), ApiError> {
    let township = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.kind == OrgKind::Township);
    if !township {
        return Ok((caller.org().to_owned(), None));
    }
    let listing = store::elevated_listing(db, subject_org).await?;
    let today = clock::china_date(clock::now()).to_string();
    let listing = listing
        .as_ref()
        .filter(|l| listing_in_force(l.str("starts_on"), l.str("ends_on"), false, &today));
    Ok(match listing {
        Some(l) => (
            l.str("county").to_owned(),
            Some(elevation_basis(
                subject_org,
                l.str("county"),
                l.str("starts_on"),
                l.str("ends_on"),
                l.int("id").unwrap_or_default(),
            )),
        ),
        None => (caller.org().to_owned(), None),
    })
}

/// 巡纪联动: 422 unless `problem_id` is a problem of the caller's commission
/// and the clue comes from an inspection tour.
async fn transferable_problem(
    db: &Db,
    caller: &Staff,
    source: ClueSource,
    problem_id: &str,
) -> Result<(), ApiError> {
    if source != ClueSource::InspectionTour {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problem_id",
            "only a clue from an inspection tour names a problem",
        ));
    }
    let org = store::problem_org(db, problem_id).await?;
    if org.as_deref() != Some(caller.org()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problem_id",
            "no such problem recorded by your commission",
        ));
    }
    Ok(())
}

/// 422 unless the report exists in the caller's commission, 409 unless it
/// is `accepted` (its clues in progress).
async fn accepted_report(db: &Db, caller: &Staff, report_id: &str) -> Result<(), ApiError> {
    let report = store::report(db, report_id).await?;
    let row = report
        .as_ref()
        .filter(|r| r.text("org") == Some(caller.org()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/report_id",
                "no such report in your commission",
            )
        })?;
    match row.str("status") {
        s if s == ReportStatus::Accepted.as_str() => Ok(()),
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
    /// The commission that holds it.
    pub(crate) org: String,
}

/// Loads a clue the caller may see (its own commission's, or one below it
/// for a supervisory role), or 404.
pub(crate) async fn visible(db: &Db, caller: &Staff, id: &str) -> Result<Clue, ApiError> {
    let clue = store::clue(db, id).await?;
    let row = clue
        .as_ref()
        .filter(|r| caller.watches(r.str("org")))
        .ok_or_else(|| staff::hidden("clue"))?;
    Ok(Clue {
        state: ClueState::parse(row.str("state"))
            .ok_or_else(|| ApiError::internal(format!("clue {id} has an unknown state")))?,
        org: row.str("org").to_owned(),
    })
}

/// Loads a clue of the caller's own commission for one of `roles` to act
/// on: 404 if the caller may not see it, 403 if they may see but not act.
pub(crate) async fn own(
    db: &Db,
    caller: &Staff,
    id: &str,
    roles: &[Role],
) -> Result<Clue, ApiError> {
    let clue = visible(db, caller, id).await?;
    if clue.org != caller.org() {
        return Err(crate::forbidden(format!(
            "the clue is held by {}; only its own commission acts on it",
            clue.org
        )));
    }
    caller.require(roles)?;
    Ok(clue)
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
pub(crate) async fn show(caller: Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let clue = visible(db, &caller, id).await?;
    if clue.org == caller.org() {
        caller.require(COMMISSION)?;
    }
    let c = store::clue(db, id)
        .await?
        .ok_or_else(|| staff::hidden("clue"))?;
    let tasks = store::tasks_about(db, id).await?;
    let events = store::clue_events(db, id).await?;
    let detention = store::detention(db, id).await?;
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": c.text("id"),
            "source": c.text("source"),
            "report_id": c.text("report_id"),
            "org": c.text("org"),
            "subject_org": c.text("subject_org"),
            "problem_id": c.text("problem_id"),
            "summary": c.text("summary"),
            "state": c.text("state"),
            "registered_at": c.text("registered_at"),
            "tasks": tasks
                .iter()
                .filter(|t| caller.may_see_task(t))
                .map(crate::tasks::task_json)
                .collect::<Vec<_>>(),
            "events": events.iter().map(|e| json!({
                "at": e.text("at"), "event": e.text("event"), "note": e.text("note"),
            })).collect::<Vec<_>>(),
            "detention": detention.map(|d| json!({
                "state": d.text("state"),
                "extensions": d.int("extensions"),
                "requested_at": d.text("requested_at"),
                "requested_by": d.text("requested_by"),
                "announced_at": d.text("announced_at"),
                "term_ends_on": d.text("term_ends_on"),
            })),
        }),
    ))
}

/// `POST /api/v1/clues/{id}/decisions`: the head or the head's office
/// records a collective decision of the commission that holds the clue;
/// its attendees are people of that commission.
pub(crate) async fn decide(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let clue = own(db, &caller, id, RECORDERS).await?;
    let decision: CollectiveDecision = jiandu_guest::schema!("decision.json").parse(input)?;
    let problems = decision.check(|person| caller.tree.person(&clue.org, person).is_some());
    if !problems.is_empty() {
        return Err(ApiError::fields(StatusCode::UNPROCESSABLE_ENTITY, problems));
    }
    allow(&clue, ClueAction::RecordDecision)?;
    let decision_id = crate::new_id("D");
    let at = clock::rfc3339(clock::now());
    let object = format!("clue:{id}");
    let act = Act::done(AuditAction::DecisionRecord, &object);
    audit::audited(db, &caller, act, async || {
        store::insert_decision(
            db,
            store::NewDecision {
                id: &decision_id,
                clue_id: id,
                org: &clue.org,
                matter: decision.matter.as_str(),
                attendees: serde_json::to_string(&decision.attendees).expect("strings serialize"),
                outcome: &decision.outcome,
                dissent: serde_json::to_string(&decision.dissent).expect("dissent serializes"),
                recorded_by: &caller.claims.sub,
                at: &at,
            },
        )
        .await
    })
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({
            "id": decision_id, "clue_id": id, "matter": decision.matter.as_str(),
            "outcome": decision.outcome, "recorded_at": at,
        }),
    ))
}

/// 422 unless `decision_id` is a decision on this clue about `matter` that
/// reached `outcome`: a decision binds, and cannot back what it did not decide.
pub(crate) async fn check_decision(
    db: &Db,
    clue_id: &str,
    decision_id: &str,
    matter: Matter,
    outcome: &str,
) -> Result<(), ApiError> {
    let decision = store::decision(db, decision_id, clue_id).await?;
    let unprocessable =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "/decision_id", message);
    match decision {
        None => Err(unprocessable(
            "no such collective decision on this clue (规则 Art. 53: record it first)".into(),
        )),
        Some(row) if row.str("matter") != matter.as_str() => Err(unprocessable(format!(
            "that decision is about {}, not {matter}",
            row.str("matter")
        ))),
        Some(row) if row.str("outcome") != outcome => Err(unprocessable(format!(
            "the collective decision reached `{}`, not `{outcome}`",
            row.str("outcome")
        ))),
        Some(_) => Ok(()),
    }
}

#[derive(Deserialize)]
struct DisposalChoice {
    mode: Disposal,
    decision_id: String,
    note: Option<String>,
}

/// `POST /api/v1/clues/{id}/disposal`: chooses the disposal the collective
/// decision settled (规则 Art. 21, 53).
pub(crate) async fn dispose(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let clue = own(db, &caller, id, &[Role::Supervision]).await?;
    let choice: DisposalChoice = jiandu_guest::schema!("disposal.json").parse(input)?;
    allow(&clue, ClueAction::ChooseDisposal)?;
    let mode = choice.mode.as_str();
    check_decision(db, id, &choice.decision_id, Matter::Disposal, mode).await?;
    let task = crate::tasks::open_task_of(db, id, StepName::Disposal)
        .await?
        .ok_or_else(|| conflict("the disposal step", "not open yet", &["retry shortly"]))?;
    let outcome = Outcome::parse(mode).expect("every disposal mode is an outcome");
    let event = crate::tasks::completion(
        &caller,
        &task.id,
        outcome,
        choice.note,
        None,
        Some(choice.decision_id),
    );
    let at = clock::rfc3339(clock::now());
    let object = format!("clue:{id}");
    let act = Act::done(AuditAction::DisposalChoose, &object);
    audit::audited(db, &caller, act, async || {
        outbox::signal_workflow(db, CLUE_WORKFLOW, &task.workflow_id, &event, &at).await
    })
    .await?;
    Ok(crate::accepted(
        json!({ "task_id": task.id, "event": event.key, "mode": mode }),
    ))
}

/// Who re-checks a settled clue (回头看): 案件监督管理室 or the head.
const RECHECKERS: &[Role] = &[Role::CaseManagement, Role::Head];

#[derive(Deserialize)]
struct Recheck {
    finding: RecheckFinding,
    note: String,
}

/// `POST /api/v1/clues/{id}/recheck`: 回头看 of a settled clue (held or
/// closed) by its own commission — whether its handling stands, with what
/// was looked at. It is on the clue's events and counted by the stats; a
/// flawed finding says what must be redone, and nothing reopens by itself.
pub(crate) async fn recheck(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let clue = own(db, &caller, id, RECHECKERS).await?;
    let input: Recheck = jiandu_guest::schema!("clue-recheck.json").parse(input)?;
    allow(&clue, ClueAction::Recheck)?;
    let at = clock::rfc3339(clock::now());
    let object = format!("clue:{id}");
    let act = Act::done(AuditAction::ClueRecheck, &object).detail(Some(input.finding.as_str()));
    audit::audited(db, &caller, act, async || {
        store::insert_recheck(
            db,
            id,
            &at,
            format!("{}: {}", input.finding, input.note),
            format!("recheck:{}", crate::new_id("")),
        )
        .await
    })
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({
            "clue_id": id,
            "finding": input.finding,
            "note": input.note,
            "by": caller.claims.sub,
            "at": at,
        }),
    ))
}
