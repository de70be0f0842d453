//! 三资预警 — the warnings the rules raised, for those who check and watch
//! them: the village that owns the entry, its township's 三资 office, and
//! the commission's supervisory roles. Every read is audited.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::{OrgKind, Role};
use jiandu_domain::sanzi::{RULE_BASIS, WarningState};
use jiandu_guest::api::{self, ApiError, Reply, forbidden};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::query;
use jiandu_guest::staff::{self, Staff};
use serde_json::{Value, json};
use spin_sdk::http::StatusCode;

use crate::store::{self, Warning, WarningsOf};

/// The column whose value is the caller's org among the warnings it may
/// read: a commission's supervisory roles read the commission's, a
/// township's 三资 office and head its villages', a village's staff and head
/// its own; else 403.
fn scope(caller: &Staff) -> Result<&'static str, ApiError> {
    let kind = caller.tree.get(caller.org()).map(|o| o.kind);
    let holds = |roles: &[Role]| caller.claims.holds_any(roles);
    match kind {
        Some(OrgKind::Commission)
            if holds(&[Role::Head, Role::Supervision, Role::CaseManagement]) =>
        {
            Ok("commission")
        }
        Some(OrgKind::Township) if holds(&[Role::AssetsOffice, Role::Head]) => Ok("township"),
        Some(OrgKind::Village) if holds(&[Role::Staff, Role::Head]) => Ok("village"),
        _ => Err(forbidden(
            "三资 warnings are read by the village, its township's 三资 office and the commission's supervisory roles",
        )),
    }
}

fn shown(w: &Warning) -> Value {
    json!({
        "id": w.id,
        "village": w.village,
        "township": w.township,
        "commission": w.commission,
        "rule_id": w.rule_id,
        "rule_name": w.rule_name,
        "kind": w.rule_kind,
        "subject": { "kind": w.subject_kind, "id": w.subject_id },
        "finding": w.finding,
        "state": w.state,
        "created_at": w.created_at,
        "task_id": w.task_id,
        "basis": RULE_BASIS,
    })
}

/// `GET /api/v1/sanzi/warnings?village=…&state=…&after=…&limit=…`: newest first.
pub(crate) async fn list(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let column = scope(caller)?;
    let pairs = query::pairs(query)?;
    let (mut village, mut state, mut after) = (None, None, None);
    let mut limit = 50;
    for (name, value) in &pairs {
        match name.as_str() {
            "village" => village = Some(value.as_str()),
            "state" => {
                state = Some(
                    WarningState::parse(value)
                        .ok_or_else(|| {
                            query::bad("state", "is not checking, confirmed or dismissed")
                        })?
                        .as_str(),
                );
            }
            "after" => after = Some(value.as_str()),
            "limit" => limit = query::number("limit", value, 1..=200)?,
            _ => return Err(query::bad(name, "is not a parameter of this list")),
        }
    }
    let of = WarningsOf {
        column,
        value: caller.org(),
        village,
        state,
        after,
        limit,
    };
    let found = store::warnings(db, &of).await?;
    let object = format!("sanzi_warnings:{}", caller.org());
    audit::record(db, caller, Act::done(AuditAction::SanziRead, &object)).await?;
    let next = (found.len() == limit as usize)
        .then(|| found.last().map(|w| w.id.clone()))
        .flatten();
    let listed: Vec<Value> = found.iter().map(shown).collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "warnings": listed, "next": next }),
    ))
}

/// `GET /api/v1/sanzi/warnings/{id}`: one warning and its events.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let column = scope(caller)?;
    let warning = store::warning(db, id)
        .await?
        .filter(|w| {
            caller.org()
                == match column {
                    "commission" => w.commission.as_str(),
                    "township" => w.township.as_str(),
                    _ => w.village.as_str(),
                }
        })
        .ok_or_else(|| staff::hidden("the warning"))?;
    let events: Vec<Value> = store::warning_events(db, id)
        .await?
        .iter()
        .map(|e| json!({ "at": e.str("at"), "event": e.str("event"), "note": e.text("note") }))
        .collect();
    let object = format!("sanzi_warning:{id}");
    audit::record(db, caller, Act::done(AuditAction::SanziRead, &object)).await?;
    let mut body = shown(&warning);
    body["events"] = json!(events);
    Ok(api::json(StatusCode::OK, &body))
}
