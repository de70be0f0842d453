//! What the activities write and read: tasks and their events, the states
//! and timelines of reports, clues, detentions, problems and campaign
//! participants, clues registered from reports, and outbox rows. Every
//! write is idempotent by a key, so a retried activity changes nothing twice.

use jiandu_domain::flow::OUTBOX_INSERT;
use jiandu_domain::step::SubjectKind;
use sqlx::AnyConnection;
use sqlx::Row as _;

use super::Pool;

/// The loaded org tree's version, if one is loaded.
pub async fn org_tree_version(pool: &Pool) -> sqlx::Result<Option<i64>> {
    let row = sqlx::query("SELECT version FROM org_tree WHERE id = 1")
        .fetch_optional(pool)
        .await?;
    row.map(|r| r.try_get("version")).transpose()
}

/// The loaded org tree: its version and its JSON.
pub async fn org_tree(pool: &Pool) -> sqlx::Result<(i64, String)> {
    let row = sqlx::query("SELECT version, tree FROM org_tree WHERE id = 1")
        .fetch_one(pool)
        .await?;
    Ok((row.try_get("version")?, row.try_get("tree")?))
}

/// Where a subject's state and timeline live: its table, id column, state
/// column, and the insert of its timeline event (`$1` id, `$2` at, `$3`
/// event, `$4` note, `$5` key).
fn subject_tables(kind: SubjectKind) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        SubjectKind::Report => (
            "reports",
            "id",
            "status",
            "INSERT INTO report_events (report_id, at, event, note, dedup_key) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        ),
        SubjectKind::Clue => (
            "clues",
            "id",
            "state",
            "INSERT INTO clue_events (clue_id, at, event, note, dedup_key) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        ),
        SubjectKind::Detention => (
            "detentions",
            "clue_id",
            "state",
            "INSERT INTO clue_events (clue_id, at, event, note, dedup_key) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        ),
        SubjectKind::Problem => (
            "problems",
            "id",
            "state",
            "INSERT INTO problem_events (problem_id, at, event, note, dedup_key) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        ),
        SubjectKind::CampaignParticipant => (
            "campaign_participants",
            "id",
            "state",
            "INSERT INTO campaign_events (participant_id, at, event, note, dedup_key)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        ),
        SubjectKind::Suspicion => (
            "screening_hits",
            "id",
            "state",
            "INSERT INTO screening_hit_events (hit_id, at, event, note, dedup_key)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        ),
        SubjectKind::RiskWarning => (
            "sanzi_warnings",
            "id",
            "state",
            "INSERT INTO sanzi_warning_events (warning_id, at, event, note, dedup_key)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        ),
    }
}

/// One event on a subject's timeline.
pub struct SubjectEvent<'a> {
    /// What kind of subject.
    pub kind: SubjectKind,
    /// Its id.
    pub id: &'a str,
    /// When, RFC 3339.
    pub at: &'a str,
    /// The event's name.
    pub event: &'a str,
    /// What it says.
    pub note: Option<&'a str>,
    /// The key it is written once by.
    pub key: &'a str,
}

/// Appends a subject's event; false if its key was already there.
pub async fn insert_subject_event(
    conn: &mut AnyConnection,
    e: &SubjectEvent<'_>,
) -> sqlx::Result<bool> {
    let (_, _, _, insert) = subject_tables(e.kind);
    Ok(sqlx::query(insert)
        .bind(e.id)
        .bind(e.at)
        .bind(e.event)
        .bind(e.note)
        .bind(e.key)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Sets a subject's state.
pub async fn set_subject_state(
    conn: &mut AnyConnection,
    kind: SubjectKind,
    id: &str,
    state: &str,
) -> sqlx::Result<()> {
    let (table, id_column, state_column, _) = subject_tables(kind);
    let update = format!("UPDATE {table} SET {state_column} = $1 WHERE {id_column} = $2");
    sqlx::query(sqlx::AssertSqlSafe(update))
        .bind(state)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// A task as it opens; times RFC 3339, flags as they are stored.
pub struct NewTask<'a> {
    pub id: &'a str,
    pub workflow_type: &'a str,
    pub workflow_id: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: &'a str,
    pub step: &'a str,
    pub duty: &'a str,
    pub policy: Option<&'a str>,
    pub article: &'a str,
    pub statutory: bool,
    pub assignee_org: &'a str,
    pub assignee_role: &'a str,
    pub outcomes: String,
    pub opened_at: String,
    pub due_date: Option<String>,
    pub due_at: Option<String>,
    pub due_estimated: bool,
    pub requested_by: Option<&'a str>,
    pub withheld_from: Option<&'a str>,
    pub assignment_basis: Option<&'a str>,
}

/// Opens a task; false if one with its id is already there.
pub async fn insert_task(conn: &mut AnyConnection, t: NewTask<'_>) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO tasks (id, workflow_type, workflow_id, subject_kind, subject_id, step, duty, policy,
                            article, statutory, assignee_org, assignee_role, outcomes, opened_at,
                            due_date, due_at, due_estimated, status, requested_by, withheld_from,
                            assignment_basis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'open', $18, $19, $20)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(t.id)
    .bind(t.workflow_type)
    .bind(t.workflow_id)
    .bind(t.subject_kind)
    .bind(t.subject_id)
    .bind(t.step)
    .bind(t.duty)
    .bind(t.policy)
    .bind(t.article)
    .bind(i64::from(t.statutory))
    .bind(t.assignee_org)
    .bind(t.assignee_role)
    .bind(t.outcomes)
    .bind(t.opened_at)
    .bind(t.due_date)
    .bind(t.due_at)
    .bind(i64::from(t.due_estimated))
    .bind(t.requested_by)
    .bind(t.withheld_from)
    .bind(t.assignment_basis)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// The columns of a task the activities read after opening it.
pub struct TaskAssignment {
    /// When it first opened, RFC 3339.
    pub opened_at: String,
    /// The org it is assigned to.
    pub assignee_org: String,
    /// The position in that org.
    pub assignee_role: String,
    /// The commission it was elevated to (提级), if it was.
    pub elevated_to: Option<String>,
}

/// A task's assignment.
pub async fn task_assignment(pool: &Pool, task_id: &str) -> sqlx::Result<TaskAssignment> {
    let row = sqlx::query(
        "SELECT opened_at, assignee_org, assignee_role, elevated_to FROM tasks WHERE id = $1",
    )
    .bind(task_id)
    .fetch_one(pool)
    .await?;
    Ok(TaskAssignment {
        opened_at: row.try_get("opened_at")?,
        assignee_org: row.try_get("assignee_org")?,
        assignee_role: row.try_get("assignee_role")?,
        elevated_to: row.try_get("elevated_to")?,
    })
}

/// Appends a task event at `at`; false if its key was already there.
pub async fn insert_task_event(
    conn: &mut AnyConnection,
    task_id: &str,
    at: &str,
    kind: &str,
    detail: Option<&str>,
    key: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO task_events (task_id, at, kind, detail, dedup_key) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(task_id)
    .bind(at)
    .bind(kind)
    .bind(detail)
    .bind(key)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Records a ladder rung on an open task: a reminder counted, the
/// escalation level raised to `level`, the org pressing it (督办) or the one
/// it was elevated to (提级); a task past its first rung is overdue.
pub async fn record_rung(
    conn: &mut AnyConnection,
    task_id: &str,
    stage: &str,
    level: u8,
    supervised_by: Option<&str>,
    elevated_to: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tasks SET
            reminders_sent = reminders_sent + CASE WHEN $1 = 'reminder' THEN 1 ELSE 0 END,
            escalation_level = CASE WHEN escalation_level > $2 THEN escalation_level ELSE $2 END,
            supervised_by = coalesce($3, supervised_by),
            elevated_to = coalesce($4, elevated_to),
            status = CASE WHEN status = 'open' AND $2 > 0 THEN 'overdue' ELSE status END
         WHERE id = $5 AND status IN ('open', 'overdue')",
    )
    .bind(stage)
    .bind(i64::from(level))
    .bind(supervised_by)
    .bind(elevated_to)
    .bind(task_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Gives a still-open task a new due date, open again.
pub async fn reschedule_task(
    conn: &mut AnyConnection,
    task_id: &str,
    due_date: &str,
    due_at: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tasks SET due_date = $1, due_at = $2, status = 'open' WHERE id = $3
         AND status IN ('open', 'overdue')",
    )
    .bind(due_date)
    .bind(due_at)
    .bind(task_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Assigns a task to another org and position.
pub async fn reassign_task(
    conn: &mut AnyConnection,
    task_id: &str,
    org: &str,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE tasks SET assignee_org = $1, assignee_role = $2 WHERE id = $3")
        .bind(org)
        .bind(role)
        .bind(task_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Closes a task with its status, outcome and note at `at`.
pub async fn close_task(
    conn: &mut AnyConnection,
    task_id: &str,
    status: &str,
    outcome: &str,
    note: Option<&str>,
    at: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tasks SET status = $1, outcome = $2, note = $3, closed_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(outcome)
    .bind(note)
    .bind(at)
    .bind(task_id)
    .execute(conn)
    .await
    .map(drop)
}

/// A detention's term as announced and extended.
pub struct Term<'a> {
    pub clue_id: &'a str,
    pub announced_at: &'a str,
    pub extensions: u32,
    pub ends_on: &'a str,
    pub at: &'a str,
}

/// Records a detention's term.
pub async fn record_term(pool: &Pool, t: Term<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE detentions SET announced_at = $1, extensions = $2, term_ends_on = $3, updated_at = $4
         WHERE clue_id = $5",
    )
    .bind(t.announced_at)
    .bind(i64::from(t.extensions))
    .bind(t.ends_on)
    .bind(t.at)
    .bind(t.clue_id)
    .execute(pool)
    .await
    .map(drop)
}

/// A clue registered from an accepted report.
pub struct ReportClue<'a> {
    pub id: &'a str,
    pub source: &'a str,
    pub report_id: &'a str,
    pub org: &'a str,
    pub state: &'a str,
    pub at: &'a str,
}

/// Registers a clue from a report; false if it is already there.
pub async fn insert_report_clue(conn: &mut AnyConnection, c: ReportClue<'_>) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO clues (id, source, report_id, org, summary, state, registered_by, registered_at, updated_at)
         VALUES ($1, $2, $3, $4, 'registered from an accepted report', $5, 'ReportWorkflow', $6, $6)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(c.id)
    .bind(c.source)
    .bind(c.report_id)
    .bind(c.org)
    .bind(c.state)
    .bind(c.at)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// 检控 Art. 15: erases a report's content, subject and sealed identity.
pub async fn erase_report(pool: &Pool, report_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE reports SET content = '', subject = '{}', attachments = '[]', identity_sealed = NULL,
                            real_name = 0
         WHERE id = $1",
    )
    .bind(report_id)
    .execute(pool)
    .await
    .map(drop)
}

/// An outbox row as an activity queues it.
pub struct Queued<'a> {
    pub kind: &'a str,
    pub workflow_type: &'a str,
    pub workflow_id: &'a str,
    pub signal: Option<&'a str>,
    pub payload: &'a str,
    pub key: &'a str,
    pub at: &'a str,
}

/// Queues work for the relay, once per idempotency key.
pub async fn queue(conn: &mut AnyConnection, q: Queued<'_>) -> sqlx::Result<()> {
    sqlx::query(OUTBOX_INSERT)
        .bind(q.kind)
        .bind(q.workflow_type)
        .bind(q.workflow_id)
        .bind(q.signal)
        .bind(q.payload)
        .bind(q.key)
        .bind(q.at)
        .execute(conn)
        .await
        .map(drop)
}
