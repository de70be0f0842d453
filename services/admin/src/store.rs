//! The SQL behind the administrators' views — the audit log, the outbox,
//! the overdue steps, the stats and the ledger exports — and the audit
//! log's query parameters.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{
    CLUE_WORKFLOW, DETENTION_WORKFLOW, RECTIFICATION_WORKFLOW, REPORT_WORKFLOW,
    detention_workflow_id,
};
use jiandu_domain::ledger::{ExportState, LedgerFormat, LedgerKind};
use jiandu_domain::step::SubjectKind;
use jiandu_guest::api::ApiError;
use jiandu_guest::db::{Db, DbError, Row, Value, in_list, opt_text, text};
use jiandu_guest::query::{self, bad};
use jiandu_guest::staff::Staff;

/// Entries per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 100;
/// The most entries one page holds.
const MAX_LIMIT: usize = 500;

/// The audit log's filters, from the query string.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    actor: Option<String>,
    object: Option<String>,
    action: Option<AuditAction>,
    since: Option<String>,
    until: Option<String>,
    before: Option<i64>,
    /// Entries per page.
    pub(crate) limit: usize,
}

/// A timestamp filter: RFC 3339, compared as text with the stored UTC times.
fn timestamp(name: &str, value: &str) -> Result<String, ApiError> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| {
            t.to_offset(time::UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .expect("formats")
        })
        .map_err(|_| bad(name, "must be an RFC 3339 time, e.g. 2026-11-27T08:00:00Z"))
}

impl Filter {
    /// Parses `actor`, `object`, `action`, `since`, `until`, `before`, `limit`.
    pub(crate) fn parse(query: &str) -> Result<Self, ApiError> {
        let mut filter = Filter {
            limit: DEFAULT_LIMIT,
            ..Filter::default()
        };
        for (name, value) in query::pairs(query)? {
            let name = name.as_str();
            match name {
                "actor" => filter.actor = Some(value),
                "object" => filter.object = Some(value),
                "action" => {
                    filter.action = Some(AuditAction::parse(&value).ok_or_else(|| {
                        let all: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                        bad(name, format!("must be one of: {}", all.join(", ")))
                    })?)
                }
                "since" => filter.since = Some(timestamp(name, &value)?),
                "until" => filter.until = Some(timestamp(name, &value)?),
                "before" => {
                    filter.before = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|seq| *seq >= 1)
                            .ok_or_else(|| bad(name, "must be an entry's seq"))?,
                    )
                }
                "limit" => filter.limit = query::number(name, &value, 1..=MAX_LIMIT)?,
                _ => return Err(bad(name, "is not a filter of the audit log")),
            }
        }
        Ok(filter)
    }
}

/// Entries by actors of `orgs`, newest first.
pub(crate) async fn entries(
    db: &Db,
    filter: &Filter,
    orgs: &[String],
) -> Result<Vec<Row>, DbError> {
    let (marks, mut params) = in_list(orgs.iter().map(text));
    let mut sql = format!(
        "SELECT seq, at, actor, actor_org, actor_roles, action, object, request_id, outcome, detail, hash
         FROM audit_log WHERE actor_org IN ({marks})"
    );
    let mut add = |clause: &str, value: Value| {
        sql.push_str(clause);
        params.push(value);
    };
    if let Some(actor) = &filter.actor {
        add(" AND actor = ?", text(actor));
    }
    if let Some(object) = &filter.object {
        add(" AND object = ?", text(object));
    }
    if let Some(action) = filter.action {
        add(" AND action = ?", text(action.as_str()));
    }
    if let Some(since) = &filter.since {
        add(" AND at >= ?", text(since));
    }
    if let Some(until) = &filter.until {
        add(" AND at < ?", text(until));
    }
    if let Some(before) = filter.before {
        add(" AND seq < ?", Value::Integer(before));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    params.push(Value::Integer(filter.limit as i64));
    db.query("reading the audit log", &sql, params).await
}

/// The org whose matter an outbox row moves: the holder of the report or
/// clue its workflow is about, or the commission that holds the problem.
/// Binds the workflow types and the detention id suffix, in that order.
const ROW_ORG: &str = "CASE o.workflow_type
       WHEN ? THEN (SELECT org FROM reports WHERE id = o.workflow_id)
       WHEN ? THEN (SELECT org FROM clues WHERE id = o.workflow_id)
       WHEN ? THEN (SELECT org FROM clues WHERE id || ? = o.workflow_id)
       WHEN ? THEN (SELECT org FROM problems WHERE id = o.workflow_id)
     END";

fn row_org_params() -> [Value; 5] {
    [
        text(REPORT_WORKFLOW),
        text(CLUE_WORKFLOW),
        text(DETENTION_WORKFLOW),
        text(detention_workflow_id("")),
        text(RECTIFICATION_WORKFLOW),
    ]
}

/// Undelivered outbox rows by org and state: `dead`, `waiting` (behind a
/// dead row of the same workflow) or `pending`.
pub(crate) async fn outbox_counts(db: &Db) -> Result<Vec<Row>, DbError> {
    db.query(
        "counting undelivered outbox rows",
        &format!(
            "SELECT org, state, COUNT(*) AS n FROM (
               SELECT {ROW_ORG} AS org,
                      CASE WHEN o.dead_at IS NOT NULL THEN 'dead'
                           WHEN EXISTS (SELECT 1 FROM outbox d WHERE d.workflow_id = o.workflow_id
                                          AND d.dead_at IS NOT NULL AND d.id < o.id) THEN 'waiting'
                           ELSE 'pending' END AS state
               FROM outbox o WHERE o.delivered_at IS NULL) AS undelivered
             GROUP BY org, state"
        ),
        row_org_params(),
    )
    .await
}

/// The dead-lettered rows, oldest first, with their orgs.
pub(crate) async fn dead_rows(db: &Db) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading dead-lettered outbox rows",
        &format!(
            "SELECT o.id, o.kind, o.workflow_type, o.workflow_id, o.signal_name, o.attempts,
                    o.last_error, o.created_at, o.dead_at, {ROW_ORG} AS org
             FROM outbox o WHERE o.dead_at IS NOT NULL AND o.delivered_at IS NULL ORDER BY o.id"
        ),
        row_org_params(),
    )
    .await
}

/// Puts a dead row back in line; false if it is not dead (any more).
pub(crate) async fn requeue(db: &Db, id: i64) -> Result<bool, DbError> {
    let rows = db
        .query(
            "requeueing an outbox row",
            "UPDATE outbox SET dead_at = NULL, attempts = 0
             WHERE id = ? AND dead_at IS NOT NULL AND delivered_at IS NULL RETURNING id",
            [Value::Integer(id)],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// The newest signed checkpoint: `{seq, at}`, or null before the first.
pub(crate) async fn last_checkpoint(db: &Db) -> Result<serde_json::Value, DbError> {
    let rows = db
        .query(
            "reading the last audit checkpoint",
            "SELECT seq, at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
            [],
        )
        .await?;
    Ok(rows.first().map_or(
        serde_json::Value::Null,
        |r| serde_json::json!({ "seq": r.int("seq"), "at": r.str("at") }),
    ))
}

/// Open steps of `orgs` due before `cutoff`, in the view's order (due time,
/// then id), after `filter.after`, at most `filter.limit`. Steps withheld
/// from a position the caller holds in their own org (回避) are left out.
pub(crate) async fn overdue(
    db: &Db,
    caller: &Staff,
    orgs: &[String],
    filter: &crate::overdue::Filter,
    cutoff: &str,
) -> Result<Vec<Row>, DbError> {
    let (org_marks, org_params) = in_list(orgs.iter().map(text));
    let (role_marks, role_params) = in_list(caller.role_params());
    let mut sql = format!(
        "SELECT id, subject_kind, subject_id, step, duty, article, statutory, assignee_org,
                assignee_role, opened_at, due_at, status, reminders_sent, escalation_level,
                supervised_by, elevated_to
         FROM tasks
         WHERE status IN ('open', 'overdue') AND due_at IS NOT NULL AND due_at < ?
           AND assignee_org IN ({org_marks})
           AND NOT (assignee_org = ? AND coalesce(withheld_from, '') IN ({role_marks}))"
    );
    let mut params = vec![text(cutoff)];
    params.extend(org_params);
    params.push(text(caller.org()));
    params.extend(role_params);
    let mut add = |clause: &str, values: Vec<Value>| {
        sql.push_str(clause);
        params.extend(values);
    };
    if let Some(role) = filter.department {
        add(" AND assignee_role = ?", vec![text(role.as_str())]);
    }
    if let Some(kind) = filter.kind {
        add(" AND subject_kind = ?", vec![text(kind.as_str())]);
    }
    if let Some(campaign) = &filter.campaign {
        add(
            " AND ((subject_kind = ? AND substr(subject_id, 1, length(?) + 1) = ? || '/')
                   OR (subject_kind = ? AND subject_id IN
                         (SELECT id FROM problems WHERE campaign_id = ?)))",
            vec![
                text(SubjectKind::CampaignParticipant.as_str()),
                text(campaign),
                text(campaign),
                text(SubjectKind::Problem.as_str()),
                text(campaign),
            ],
        );
    }
    if let Some(rung) = filter.rung {
        add(
            " AND escalation_level = ?",
            vec![Value::Integer(i64::from(rung.level()))],
        );
    }
    if let Some(after) = &filter.after {
        add(
            " AND (due_at > ? OR (due_at = ? AND id > ?))",
            vec![text(&after.due_at), text(&after.due_at), text(&after.id)],
        );
    }
    sql.push_str(" ORDER BY due_at, id LIMIT ?");
    params.push(Value::Integer(filter.limit as i64));
    db.query("reading overdue steps", &sql, params).await
}

/// The period and subtree the stats count over: `[from, until)` as stored
/// UTC times, the same as dates, and the orgs.
pub(crate) struct Span<'a> {
    pub(crate) from: &'a str,
    pub(crate) until: &'a str,
    pub(crate) from_date: &'a str,
    pub(crate) to_date: &'a str,
    pub(crate) orgs: &'a [String],
}

/// The figures of the stats: each its name and the SQL that counts it, with
/// `{orgs}` for the subtree's placeholders; each binds its two period
/// parameters as its [`Bind`] says, then the subtree's orgs.
const STATS: &[(&str, Bind, &str)] = &[
    (
        "tours",
        Bind::DatesThenOrgs,
        "SELECT COUNT(*) AS n FROM tours
         WHERE starts_on <= ? AND ends_on >= ? AND org IN ({orgs})",
    ),
    (
        "targets_covered",
        Bind::DatesThenOrgs,
        "SELECT COUNT(DISTINCT tt.org) AS n FROM tour_targets tt JOIN tours t ON t.id = tt.tour_id
         WHERE t.starts_on <= ? AND t.ends_on >= ? AND t.org IN ({orgs})",
    ),
    (
        "problems_found",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM problems
         WHERE recorded_at >= ? AND recorded_at < ? AND responsible_org IN ({orgs})",
    ),
    (
        "clues_transferred",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM clues c JOIN problems p ON p.id = c.problem_id
         WHERE c.registered_at >= ? AND c.registered_at < ? AND p.responsible_org IN ({orgs})",
    ),
    (
        "clues_disposed",
        Bind::TimesThenOrgs,
        // The disposal step done, whatever it chose: 予以了结 closes the clue
        // without a `disposed_*` event of its own.
        "SELECT COUNT(DISTINCT t.subject_id) AS n FROM tasks t JOIN clues c ON c.id = t.subject_id
         WHERE t.subject_kind = 'clue' AND t.step = 'disposal' AND t.status = 'done'
           AND t.closed_at >= ? AND t.closed_at < ? AND c.org IN ({orgs})",
    ),
    (
        "clues_rechecked",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.clue_id) AS n FROM clue_events e JOIN clues c ON c.id = e.clue_id
         WHERE e.event = 'rechecked' AND e.at >= ? AND e.at < ? AND c.org IN ({orgs})",
    ),
    (
        "problems_rectified",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.problem_id) AS n FROM problem_events e
         JOIN problems p ON p.id = e.problem_id
         WHERE e.event = 'passed' AND e.at >= ? AND e.at < ? AND p.responsible_org IN ({orgs})",
    ),
    (
        "rechecks_done",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM problem_events e JOIN problems p ON p.id = e.problem_id
         WHERE e.event IN ('recheck_held', 'recheck_failed') AND e.at >= ? AND e.at < ?
           AND p.responsible_org IN ({orgs})",
    ),
    (
        "rechecks_failed",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM problem_events e JOIN problems p ON p.id = e.problem_id
         WHERE e.event = 'recheck_failed' AND e.at >= ? AND e.at < ?
           AND p.responsible_org IN ({orgs})",
    ),
    (
        "reports_received",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM reports
         WHERE received_at >= ? AND received_at < ? AND org IN ({orgs})",
    ),
    (
        "reports_accepted",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.report_id) AS n FROM report_events e
         JOIN reports r ON r.id = e.report_id
         WHERE e.event = 'accepted' AND e.at >= ? AND e.at < ? AND r.org IN ({orgs})",
    ),
    (
        "people_handled",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.clue_id) AS n FROM clue_events e JOIN clues c ON c.id = e.clue_id
         WHERE e.event = 'concluded' AND e.at >= ? AND e.at < ? AND c.org IN ({orgs})",
    ),
    (
        "screened",
        Bind::TimesThenOrgs,
        "SELECT COALESCE(SUM(rows_done), 0) AS n FROM screening_runs
         WHERE started_at >= ? AND started_at < ? AND commission IN ({orgs})",
    ),
    (
        "screening_hits",
        Bind::TimesThenOrgs,
        "SELECT COUNT(*) AS n FROM screening_hits
         WHERE found_at >= ? AND found_at < ? AND owner_org IN ({orgs})",
    ),
    (
        "hits_confirmed",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.hit_id) AS n FROM screening_hit_events e
         JOIN screening_hits h ON h.id = e.hit_id
         WHERE e.event = 'confirmed' AND e.at >= ? AND e.at < ? AND h.owner_org IN ({orgs})",
    ),
    (
        "hits_dismissed",
        Bind::TimesThenOrgs,
        "SELECT COUNT(DISTINCT e.hit_id) AS n FROM screening_hit_events e
         JOIN screening_hits h ON h.id = e.hit_id
         WHERE e.event = 'dismissed' AND e.at >= ? AND e.at < ? AND h.owner_org IN ({orgs})",
    ),
    (
        "roster_removed",
        Bind::TimesThenOrgs,
        // A confirmed hit's rectification is its removal from the roster.
        "SELECT COUNT(DISTINCT e.problem_id) AS n FROM problem_events e
         JOIN problems p ON p.id = e.problem_id
         WHERE p.source = 'big_data' AND e.event = 'passed' AND e.at >= ? AND e.at < ?
           AND p.responsible_org IN ({orgs})",
    ),
    (
        "roster_newly_covered",
        Bind::TimesThenOrgs,
        // People on a roster for the first time: on no earlier import of that list.
        "SELECT COUNT(DISTINCT r.person_hash) AS n FROM screening_rows r
         JOIN screening_imports i ON i.id = r.import_id
         WHERE i.created_at >= ? AND i.created_at < ? AND r.org IN ({orgs})
           AND r.list IN ('public_welfare_post', 'minimum_living', 'extreme_hardship')
           AND NOT EXISTS (
               SELECT 1 FROM screening_rows o JOIN screening_imports oi ON oi.id = o.import_id
               WHERE o.commission = r.commission AND o.list = r.list
                 AND o.person_hash = r.person_hash AND oi.created_at < i.created_at)",
    ),
];

/// What a figure's two leading parameters are.
#[derive(Clone, Copy)]
enum Bind {
    /// A period that overlaps `[from_date, to_date]`: `(to_date, from_date)`.
    DatesThenOrgs,
    /// Stored times in `[from, until)`.
    TimesThenOrgs,
}

/// The period's figures for the subtree, each by name, in a fixed order.
pub(crate) async fn stats(db: &Db, span: &Span<'_>) -> Result<Vec<(&'static str, i64)>, DbError> {
    let (marks, orgs) = in_list(span.orgs.iter().map(text));
    let mut figures = Vec::with_capacity(STATS.len());
    for (name, bind, sql) in STATS {
        let mut params = match bind {
            Bind::DatesThenOrgs => vec![text(span.to_date), text(span.from_date)],
            Bind::TimesThenOrgs => vec![text(span.from), text(span.until)],
        };
        params.extend(orgs.iter().cloned());
        let rows = db
            .query("counting a figure", &sql.replace("{orgs}", &marks), params)
            .await?;
        figures.push((*name, rows.first().and_then(|r| r.int("n")).unwrap_or(0)));
    }
    Ok(figures)
}

/// Open steps of `orgs` past due at `now`.
pub(crate) async fn overdue_count(db: &Db, orgs: &[String], now: &str) -> Result<i64, DbError> {
    let (marks, mut params) = in_list(orgs.iter().map(text));
    params.insert(0, text(now));
    let rows = db
        .query(
            "counting overdue steps",
            &format!(
                "SELECT COUNT(*) AS n FROM tasks
                 WHERE status IN ('open', 'overdue') AND due_at IS NOT NULL AND due_at < ?
                   AND assignee_org IN ({marks})"
            ),
            params,
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}

/// A ledger export to record.
pub(crate) struct NewExport<'a> {
    pub(crate) id: &'a str,
    pub(crate) ledger: LedgerKind,
    pub(crate) format: LedgerFormat,
    /// The commission that asks.
    pub(crate) org: &'a str,
    /// The org whose subtree was asked for, if any.
    pub(crate) scope: Option<&'a str>,
    /// The orgs whose rows go in.
    pub(crate) orgs: &'a [String],
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Records a queued export.
pub(crate) async fn insert_export(db: &Db, e: &NewExport<'_>) -> Result<(), DbError> {
    db.exec(
        "recording a ledger export",
        "INSERT INTO ledger_exports (id, ledger, format, org, scope, orgs, requested_by, requested_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(e.id),
            text(e.ledger.as_str()),
            text(e.format.as_str()),
            text(e.org),
            opt_text(e.scope),
            text(serde_json::to_string(e.orgs).expect("org ids serialize")),
            text(e.by),
            text(e.at),
            text(ExportState::Queued.as_str()),
        ],
    )
    .await
}

/// An export's row (all but its orgs).
pub(crate) async fn export(db: &Db, id: &str) -> Result<Option<Row>, DbError> {
    let rows = db
        .query(
            "reading a ledger export",
            "SELECT id, ledger, format, org, scope, state, requested_by, requested_at, rows_total,
                    rows_written, bytes, finished_at, error
             FROM ledger_exports WHERE id = ?",
            [text(id)],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Chunk `seq` of an export's file, or `None` past its end.
pub(crate) async fn export_chunk(db: &Db, id: &str, seq: i64) -> Result<Option<Vec<u8>>, DbError> {
    let rows = db
        .query(
            "reading a ledger export's file",
            "SELECT data FROM ledger_export_chunks WHERE export_id = ? AND seq = ?",
            [text(id), Value::Integer(seq)],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.blob("data"))
        .map(<[u8]>::to_vec))
}
