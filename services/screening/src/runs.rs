//! Screening runs and what they find: a run joins a rule's roster with its
//! register in batches (the worker's ScreeningWorkflow); each new hit is a
//! suspicious record (疑点) with a verification task for its owner.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{SCREENING_WORKFLOW, ScreeningRequested};
use jiandu_domain::screening::{HitState, RunState};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, outbox, query};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::store::{self, HitsOf};

#[derive(Deserialize)]
struct Start {
    rule_id: String,
}

/// `POST /api/v1/screening/runs`: runs a rule over the roster lines
/// imported so far; 202, as the worker does the joining.
pub(crate) async fn start(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    let input: Start = jiandu_guest::schema!("screening-run.json").parse(input)?;
    let stored = store::rule(db, &input.rule_id)
        .await?
        .filter(|r| r.commission == caller.org())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/rule_id",
                "no such rule of your commission",
            )
        })?;
    let (rule, _) = crate::rules::shown(&stored)?;
    let (last_row, rows_total) =
        store::roster_extent(db, caller.org(), rule.roster.as_str()).await?;
    if rows_total == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/rule_id",
            format!("no line of the roster {} is imported yet", rule.roster),
        ));
    }
    let id = new_id("SN");
    let at = clock::rfc3339(clock::now());
    let run = store::NewRun {
        id: &id,
        rule_id: &stored.id,
        commission: caller.org(),
        last_row,
        rows_total,
        by: &caller.claims.sub,
        at: &at,
    };
    let started = ScreeningRequested { run_id: id.clone() };
    let object = format!("screening_run:{id}");
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::ScreeningRun, &object).detail(Some(&stored.id)),
        async || {
            store::insert_run(db, &run).await?;
            outbox::start_workflow(db, SCREENING_WORKFLOW, &id, &started, &at).await
        },
    )
    .await?;
    Ok(api::accepted(&json!({
        "id": id,
        "rule_id": stored.id,
        "state": RunState::Running.as_str(),
        "rows_total": rows_total,
        "link": format!("/api/v1/screening/runs/{id}"),
    })))
}

/// `GET /api/v1/screening/runs/{id}`: the run's progress.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let run = store::run(db, id)
        .await?
        .filter(|r| r.str("commission") == caller.org())
        .ok_or_else(|| staff::hidden("run"))?;
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": run.text("id"),
            "rule_id": run.text("rule_id"),
            "state": run.text("state"),
            "rows_total": run.int("rows_total"),
            "rows_done": run.int("rows_done"),
            "hits": run.int("hits"),
            "started_at": run.text("started_at"),
            "finished_at": run.text("finished_at"),
            "hits_link": format!("/api/v1/screening/hits?run={id}"),
        }),
    ))
}

/// `GET /api/v1/screening/hits?run=…&rule=…&state=…&after=…&limit=…`: the
/// commission's suspicious records in id order, with masked ID numbers;
/// every read is audited.
pub(crate) async fn hits(caller: &Staff, db: &Db, query_string: &str) -> Result<Reply, ApiError> {
    let (mut run, mut rule, mut state) = (None, None, None);
    let (mut after, mut limit) = (String::new(), 100i64);
    // An empty value is a filter not given.
    for (name, value) in query::pairs(query_string)?
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
    {
        match name.as_str() {
            "run" => run = Some(value),
            "rule" => rule = Some(value),
            "state" => {
                let parsed = HitState::parse(&value).ok_or_else(|| {
                    let all: Vec<_> = HitState::ALL.iter().map(|s| s.as_str()).collect();
                    query::bad(&name, format!("must be one of {}", all.join(", ")))
                })?;
                state = Some(parsed);
            }
            "after" => after = value,
            "limit" => limit = query::number(&name, &value, 1..=500)?,
            _ => return Err(query::bad(&name, "is not a filter here")),
        }
    }
    let of = HitsOf {
        run: run.as_deref(),
        rule: rule.as_deref(),
        state: state.map(HitState::as_str),
    };
    let detail = query_string.to_owned();
    audit::record(
        db,
        caller,
        Act::done(AuditAction::ScreeningRead, "screening_hits").detail(Some(&detail)),
    )
    .await?;
    let rows = store::hits(db, caller.org(), &of, &after, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.str("id").to_owned()))
        .flatten();
    let items: Vec<_> = rows.iter().map(hit).collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "hits": items, "next_after": next }),
    ))
}

fn hit(r: &Row) -> serde_json::Value {
    json!({
        "id": r.text("id"),
        "rule_id": r.text("rule_id"),
        "run_id": r.text("run_id"),
        "list": r.text("list"),
        "owner_org": r.text("owner_org"),
        "id_masked": r.text("id_masked"),
        "date": r.text("on_date"),
        "amount": r.real("amount"),
        "detail": r.text("detail"),
        "state": r.text("state"),
        "found_at": r.text("found_at"),
        "problem_id": r.text("problem_id"),
        "clue_id": r.text("clue_id"),
        "task_id": r.text("task_id"),
    })
}
