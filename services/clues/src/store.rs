//! The SQL this component runs: clues, their decisions, events and
//! detentions, what a clue is registered from (a report, a problem, a
//! village's 提级监督 listing), and the task views.

use jiandu_guest::db::{Db, DbError, Row, Value, in_list, opt_text, text};

/// The columns `tasks::task_json` and `Staff::may_see_task` read, as a SELECT without its WHERE.
const TASK_COLUMNS: &str =
    "SELECT id, workflow_type, workflow_id, subject_kind, subject_id, step, duty,
        article, statutory, assignee_org, assignee_role, outcomes, opened_at, due_date, due_at,
        due_estimated, status, reminders_sent, escalation_level, supervised_by, elevated_to,
        requested_by, withheld_from, outcome, closed_at, assignment_basis
     FROM tasks";

/// Open and overdue, the statuses of work still to do.
const OPEN: &str = "status IN ('open', 'overdue')";

/// The first row, if any.
fn first(rows: Vec<Row>) -> Option<Row> {
    rows.into_iter().next()
}

/// A clue as registered.
pub(crate) struct NewClue<'a> {
    pub(crate) id: &'a str,
    pub(crate) source: &'a str,
    pub(crate) report_id: Option<&'a str>,
    pub(crate) problem_id: Option<&'a str>,
    pub(crate) org: &'a str,
    pub(crate) subject_org: Option<&'a str>,
    pub(crate) summary: &'a str,
    pub(crate) state: &'a str,
    pub(crate) registered_by: &'a str,
    pub(crate) at: &'a str,
}

/// Registers a clue.
pub(crate) async fn insert_clue(db: &Db, clue: &NewClue<'_>) -> Result<(), DbError> {
    db.exec(
        "registering a clue",
        "INSERT INTO clues (id, source, report_id, problem_id, org, subject_org, summary, state,
                            registered_by, registered_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        [
            text(clue.id),
            text(clue.source),
            opt_text(clue.report_id),
            opt_text(clue.problem_id),
            text(clue.org),
            opt_text(clue.subject_org),
            text(clue.summary),
            text(clue.state),
            text(clue.registered_by),
            text(clue.at),
        ],
    )
    .await
}

/// A village's 提级监督 listing still in the list: `id`, `county`, `starts_on`, `ends_on`.
pub(crate) async fn elevated_listing(db: &Db, village: &str) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a village's 提级监督 listing",
            "SELECT id, county, starts_on, ends_on FROM elevated_villages
             WHERE village = ? AND unlisted_at IS NULL",
            [text(village)],
        )
        .await?,
    ))
}

/// The commission that recorded a problem, if there is one.
pub(crate) async fn problem_org(db: &Db, problem_id: &str) -> Result<Option<String>, DbError> {
    let row = first(
        db.query(
            "reading a problem",
            "SELECT org FROM problems WHERE id = ?",
            [text(problem_id)],
        )
        .await?,
    );
    Ok(row.and_then(|r| r.text("org").map(str::to_owned)))
}

/// A report's `status` and `org`.
pub(crate) async fn report(db: &Db, report_id: &str) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a report",
            "SELECT status, org FROM reports WHERE id = ?",
            [text(report_id)],
        )
        .await?,
    ))
}

/// A clue: `id`, `source`, `report_id`, `problem_id`, `org`, `subject_org`,
/// `summary`, `state`, `registered_at`.
pub(crate) async fn clue(db: &Db, id: &str) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a clue",
            "SELECT id, source, report_id, problem_id, org, subject_org, summary, state, registered_at
             FROM clues WHERE id = ?",
            [text(id)],
        )
        .await?,
    ))
}

/// A clue's events, oldest first: `at`, `event`, `note`.
pub(crate) async fn clue_events(db: &Db, id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading events",
        "SELECT at, event, note FROM clue_events WHERE clue_id = ? ORDER BY id",
        [text(id)],
    )
    .await
}

/// Records a 回头看 re-check of a clue.
pub(crate) async fn insert_recheck(
    db: &Db,
    clue_id: &str,
    at: &str,
    note: String,
    dedup_key: String,
) -> Result<(), DbError> {
    db.exec(
        "recording a clue's re-check",
        "INSERT INTO clue_events (clue_id, at, event, note, dedup_key) VALUES (?, ?, 'rechecked', ?, ?)",
        [text(clue_id), text(at), text(note), text(dedup_key)],
    )
    .await
}

/// A collective decision as recorded; lists are JSON.
pub(crate) struct NewDecision<'a> {
    pub(crate) id: &'a str,
    pub(crate) clue_id: &'a str,
    pub(crate) org: &'a str,
    pub(crate) matter: &'a str,
    pub(crate) attendees: String,
    pub(crate) outcome: &'a str,
    pub(crate) dissent: String,
    pub(crate) recorded_by: &'a str,
    pub(crate) at: &'a str,
}

/// Records a collective decision.
pub(crate) async fn insert_decision(db: &Db, d: NewDecision<'_>) -> Result<(), DbError> {
    db.exec(
        "recording a decision",
        "INSERT INTO decisions (id, clue_id, org, matter, attendees, outcome, dissent, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(d.id),
            text(d.clue_id),
            text(d.org),
            text(d.matter),
            text(d.attendees),
            text(d.outcome),
            text(d.dissent),
            text(d.recorded_by),
            text(d.at),
        ],
    )
    .await
}

/// A decision on a clue: `matter`, `outcome`.
pub(crate) async fn decision(
    db: &Db,
    decision_id: &str,
    clue_id: &str,
) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a decision",
            "SELECT matter, outcome FROM decisions WHERE id = ? AND clue_id = ?",
            [text(decision_id), text(clue_id)],
        )
        .await?,
    ))
}

/// A clue's detention: `state`, `extensions`, `requested_at`,
/// `requested_by`, `announced_at`, `term_ends_on`.
pub(crate) async fn detention(db: &Db, clue_id: &str) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading the detention",
            "SELECT state, extensions, requested_at, requested_by, announced_at, term_ends_on
             FROM detentions WHERE clue_id = ?",
            [text(clue_id)],
        )
        .await?,
    ))
}

/// Records a detention request in `state`.
pub(crate) async fn insert_detention(
    db: &Db,
    clue_id: &str,
    decision_id: &str,
    state: &str,
    at: &str,
    requested_by: &str,
) -> Result<(), DbError> {
    db.exec(
        "recording the detention request",
        "INSERT INTO detentions (clue_id, decision_id, state, requested_at, requested_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
        [
            text(clue_id),
            text(decision_id),
            text(state),
            text(at),
            text(requested_by),
        ],
    )
    .await
}

/// Which open tasks a view lists.
pub(crate) enum TaskView {
    /// Assigned to this org, to one of these roles.
    Inbox { org: String, roles: Vec<Value> },
    /// Pressed by (督办) or elevated to (提级) this org.
    Supervised { org: String },
    /// Assigned to any of these orgs.
    AssignedTo { orgs: Vec<Value> },
}

/// The open tasks of a view, those due soonest first.
pub(crate) async fn open_tasks(db: &Db, view: TaskView) -> Result<Vec<Row>, DbError> {
    let (filter, params) = match view {
        TaskView::Inbox { org, roles } => {
            let (marks, roles) = in_list(roles);
            let mut params = vec![text(org)];
            params.extend(roles);
            (
                format!("assignee_org = ? AND assignee_role IN ({marks})"),
                params,
            )
        }
        TaskView::Supervised { org } => (
            "(supervised_by = ? OR elevated_to = ?)".to_owned(),
            vec![text(&org), text(org)],
        ),
        TaskView::AssignedTo { orgs } => {
            let (marks, orgs) = in_list(orgs);
            (format!("assignee_org IN ({marks})"), orgs)
        }
    };
    db.query(
        "reading tasks",
        &format!(
            "{TASK_COLUMNS} WHERE {filter} AND {OPEN} ORDER BY due_at IS NULL, due_at, opened_at"
        ),
        params,
    )
    .await
}

/// A task, every column a task view shows.
pub(crate) async fn task(db: &Db, task_id: &str) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a task",
            &format!("{TASK_COLUMNS} WHERE id = ?"),
            [text(task_id)],
        )
        .await?,
    ))
}

/// The tasks about a subject, in the order they opened.
pub(crate) async fn tasks_about(db: &Db, subject_id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading tasks",
        &format!("{TASK_COLUMNS} WHERE subject_id = ? ORDER BY opened_at, id"),
        [text(subject_id)],
    )
    .await
}

/// A task's events, oldest first: `at`, `kind`, `detail`.
pub(crate) async fn task_events(db: &Db, task_id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a task's events",
        "SELECT at, kind, detail FROM task_events WHERE task_id = ? ORDER BY id",
        [text(task_id)],
    )
    .await
}

/// The latest open task of `step` about a subject: `id`, `workflow_id`.
pub(crate) async fn open_task_of_step(
    db: &Db,
    subject_id: &str,
    step: &str,
) -> Result<Option<Row>, DbError> {
    Ok(first(
        db.query(
            "reading a task",
            &format!(
                "SELECT id, workflow_id FROM tasks WHERE subject_id = ? AND step = ? AND {OPEN}
                 ORDER BY opened_at DESC LIMIT 1"
            ),
            [text(subject_id), text(step)],
        )
        .await?,
    ))
}
