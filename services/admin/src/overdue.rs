//! `GET /api/v1/admin/overdue` — 逾期 — every open step past its due time in
//! the caller's subtree, most late first: reports, clues and detention steps
//! alike, each with the rung of the escalation ladder it has reached and
//! links to its task (with its timeline of 催办, 督办, 提级) and its subject.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::escalation::Stage;
use jiandu_domain::org::Role;
use jiandu_domain::step::SubjectKind;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::query::{self, bad};
use jiandu_guest::staff::Staff;
use jiandu_guest::{clock, lateness};
use serde_json::json;
use spin_sdk::http::StatusCode;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{administered, store, subtree_of};

/// Rows per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 50;
/// The most rows one page holds.
const MAX_LIMIT: usize = 500;
/// The most days late a filter may ask for (ten years).
const MAX_DAYS_LATE: i64 = 3650;

/// The overdue view's filters, from the query string.
#[derive(Debug)]
pub(crate) struct Filter {
    /// Only this org and the orgs below it.
    pub(crate) org: Option<String>,
    /// Only steps assigned to this position (a commission's 信访室, 案管室, …).
    pub(crate) department: Option<Role>,
    /// Only steps about this kind of matter.
    pub(crate) kind: Option<SubjectKind>,
    /// Only steps of this campaign: its participants' and the rectification
    /// of the problems it found.
    pub(crate) campaign: Option<String>,
    /// Only steps whose ladder has reached exactly this rung.
    pub(crate) rung: Option<Stage>,
    /// Only steps at least this many whole days late.
    pub(crate) min_days_late: i64,
    /// The page after this position: the previous page's `next`.
    pub(crate) after: Option<Position>,
    /// Rows per page.
    pub(crate) limit: usize,
}

/// A place in the view's order (due time, then task id). Any text is a
/// position — `<due_at>|<task id>`, or a due time alone — so a client
/// cannot send a malformed one.
#[derive(Debug, PartialEq)]
pub(crate) struct Position {
    pub(crate) due_at: String,
    pub(crate) id: String,
}

impl Position {
    fn parse(text: &str) -> Self {
        let (due_at, id) = text.split_once('|').unwrap_or((text, ""));
        Self {
            due_at: due_at.to_owned(),
            id: id.to_owned(),
        }
    }

    fn of(row: &Row) -> String {
        format!("{}|{}", row.str("due_at"), row.str("id"))
    }
}

impl Filter {
    /// Parses `org`, `department`, `kind`, `campaign`, `rung`, `min_days_late`, `after`, `limit`.
    pub(crate) fn parse(query: &str) -> Result<Self, ApiError> {
        let mut filter = Filter {
            org: None,
            department: None,
            kind: None,
            campaign: None,
            rung: None,
            min_days_late: 0,
            after: None,
            limit: DEFAULT_LIMIT,
        };
        let one_of =
            |name: &str, all: &[&str]| bad(name, format!("must be one of: {}", all.join(", ")));
        for (name, value) in query::pairs(query)? {
            let name = name.as_str();
            match name {
                "org" => filter.org = Some(value),
                "department" => {
                    filter.department = Some(Role::parse(&value).ok_or_else(|| {
                        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                        one_of(name, &all)
                    })?)
                }
                "kind" => {
                    filter.kind = Some(SubjectKind::parse(&value).ok_or_else(|| {
                        let all: Vec<_> = SubjectKind::ALL.iter().map(|k| k.as_str()).collect();
                        one_of(name, &all)
                    })?)
                }
                "rung" => {
                    filter.rung = Some(match value.as_str() {
                        "overdue" => Stage::Overdue,
                        "elevated" => Stage::Elevated,
                        _ => return Err(one_of(name, &["overdue", "elevated"])),
                    })
                }
                "min_days_late" => {
                    filter.min_days_late = query::number(name, &value, 0..=MAX_DAYS_LATE)?
                }
                "campaign" => filter.campaign = Some(value),
                "after" => filter.after = Some(Position::parse(&value)),
                "limit" => filter.limit = query::number(name, &value, 1..=MAX_LIMIT)?,
                _ => return Err(bad(name, "is not a filter of the overdue view")),
            }
        }
        Ok(filter)
    }
}

/// `GET /api/v1/admin/overdue`.
pub(crate) async fn list(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let object = format!("overdue:{}", caller.org());
    let administered = administered(caller, db, AuditAction::OverdueRead, &object).await?;
    let filter = Filter::parse(query)?;
    let orgs = subtree_of(caller, filter.org.as_deref(), administered)?;
    let now = clock::now();
    let cutoff = clock::rfc3339(now - time::Duration::days(filter.min_days_late));
    let rows = store::overdue(db, caller, &orgs, &filter, &cutoff).await?;
    let next = (rows.len() == filter.limit)
        .then(|| rows.last().map(Position::of))
        .flatten();
    let rows: Vec<_> = rows.iter().map(|r| row_json(caller, r, now)).collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "as_of": clock::rfc3339(now), "rows": rows, "next": next }),
    ))
}

/// One overdue step as the view shows it.
fn row_json(caller: &Staff, r: &Row, now: OffsetDateTime) -> serde_json::Value {
    let late = OffsetDateTime::parse(r.str("due_at"), &Rfc3339)
        .map(|due| (now - due).whole_seconds().max(0))
        .unwrap_or(0);
    let org = r.str("assignee_org");
    let subject = r.str("subject_id");
    let subject_link = match SubjectKind::parse(r.str("subject_kind")) {
        Some(SubjectKind::Report) => format!("/api/v1/reports/{subject}"),
        Some(SubjectKind::Problem) => format!("/api/v1/problems/{subject}"),
        Some(SubjectKind::CampaignParticipant) => {
            let campaign = subject.split_once('/').map_or(subject, |(c, _)| c);
            format!("/api/v1/campaigns/{campaign}")
        }
        Some(SubjectKind::Suspicion) => {
            // A hit's id is `<rule>-<roster line>`: its rule's hits list it.
            let rule = subject.rsplit_once('-').map_or(subject, |(rule, _)| rule);
            format!("/api/v1/screening/hits?rule={rule}")
        }
        Some(SubjectKind::RiskWarning) => format!("/api/v1/sanzi/warnings/{subject}"),
        _ => format!("/api/v1/clues/{subject}"),
    };
    json!({
        "task_id": r.str("id"),
        "subject": { "kind": r.str("subject_kind"), "id": subject },
        "step": r.str("step"),
        "duty": r.str("duty"),
        "article": r.str("article"),
        "statutory": r.flag("statutory"),
        "assignee": {
            "org": org,
            "org_name": caller.tree.get(org).map(|o| o.name.as_str()),
            "role": r.str("assignee_role"),
        },
        "opened_at": r.str("opened_at"),
        "due_at": r.str("due_at"),
        "late_seconds": late,
        "days_late": late / 86_400,
        "status": r.str("status"),
        "reminders_sent": r.int("reminders_sent").unwrap_or(0),
        "escalation_level": r.int("escalation_level").unwrap_or(0),
        "colour": lateness::colour(r, now),
        "supervised_by": r.text("supervised_by"),
        "elevated_to": r.text("elevated_to"),
        "links": {
            "task": format!("/api/v1/tasks/{}", r.str("id")),
            "subject": subject_link,
        },
    })
}
