//! The SQL this component runs for staff reads: reports, the tasks about
//! them, their timelines.

use jiandu_guest::db::{Db, DbError, Row, text};

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
