//! The SQL this component runs: reports, the tasks about them, their
//! timelines, and the reporter's follow-up (failed attempts counted per
//! receipt code).

use jiandu_guest::db::{Db, DbError, Row, Value, text};

/// One report, every column a staff view needs; `None` if there is none.
pub(crate) async fn report(db: &Db, id: &str) -> Result<Option<Row>, DbError> {
    Ok(db
        .query(
            "reading a report",
            "SELECT id, org, sealed_to, real_name, category, division_code, subject, content,
                    attachments, content_sealed, identity_sealed, status, received_at,
                    acceptance_due, due_estimated
             FROM reports WHERE id = ?",
            [text(id)],
        )
        .await?
        .into_iter()
        .next())
}

/// The tasks about a report, with the columns `Staff::may_see_task` reads.
pub(crate) async fn tasks_about(db: &Db, report_id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a report's tasks",
        "SELECT assignee_org, assignee_role, withheld_from, supervised_by, elevated_to
         FROM tasks WHERE subject_kind = 'report' AND subject_id = ?",
        [text(report_id)],
    )
    .await
}

/// A report's timeline, oldest first: `at`, `event`, `note`.
pub(crate) async fn timeline(db: &Db, report_id: &str) -> Result<Vec<serde_json::Value>, DbError> {
    let events = db
        .query(
            "reading a report's timeline",
            "SELECT at, event, note FROM report_events WHERE report_id = ? ORDER BY id",
            [text(report_id)],
        )
        .await?;
    Ok(events
        .iter()
        .map(|e| {
            let mut item = serde_json::json!({ "at": e.text("at"), "event": e.text("event") });
            if let Some(note) = e.text("note") {
                item["note"] = serde_json::json!(note);
            }
            item
        })
        .collect())
}

/// The reports with this receipt code (the secret tells them apart), with
/// what a follow-up shows.
pub(crate) async fn reports_by_receipt(db: &Db, receipt_code: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a report",
        "SELECT id, real_name, followup_hash, status, received_at, acceptance_due, due_estimated
         FROM reports WHERE receipt_code = ?",
        [text(receipt_code)],
    )
    .await
}

/// A receipt code's failed follow-ups: `window_start`, `failures`.
pub(crate) async fn followup_failures(db: &Db, receipt_code: &str) -> Result<Option<Row>, DbError> {
    Ok(db
        .query(
            "reading follow-up failures",
            "SELECT window_start, failures FROM followup_failures WHERE receipt_code = ?",
            [text(receipt_code)],
        )
        .await?
        .into_iter()
        .next())
}

/// Counts a failure against a receipt code in one statement (a new window
/// once `window_secs` have passed), and forgets windows that have ended.
pub(crate) async fn count_followup_failure(
    db: &Db,
    receipt_code: &str,
    now: i64,
    window_secs: i64,
) -> Result<(), DbError> {
    db.exec(
        "recording a follow-up failure",
        "INSERT INTO followup_failures (receipt_code, window_start, failures) VALUES (?1, ?2, 1)
         ON CONFLICT (receipt_code) DO UPDATE SET
           failures = CASE WHEN ?2 - followup_failures.window_start >= ?3 THEN 1 ELSE followup_failures.failures + 1 END,
           window_start = CASE WHEN ?2 - followup_failures.window_start >= ?3 THEN ?2 ELSE followup_failures.window_start END",
        [text(receipt_code), Value::Integer(now), Value::Integer(window_secs)],
    )
    .await?;
    db.exec(
        "forgetting ended follow-up windows",
        "DELETE FROM followup_failures WHERE window_start <= ?",
        [Value::Integer(now - window_secs)],
    )
    .await
}
