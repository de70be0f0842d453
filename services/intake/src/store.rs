//! The SQL this component runs: a report's first rows and the anonymous
//! limiter's windows.

use jiandu_guest::db::{Db, DbError, Row, Value, text};

/// A report as stored on receipt; sealed parts are already sealed.
pub(crate) struct NewReport<'a> {
    pub(crate) id: &'a str,
    pub(crate) receipt_code: &'a str,
    pub(crate) followup_hash: Vec<u8>,
    pub(crate) real_name: bool,
    pub(crate) category: &'a str,
    pub(crate) division_code: &'a str,
    pub(crate) subject: String,
    pub(crate) content: String,
    pub(crate) attachments: String,
    pub(crate) identity_sealed: Value,
    pub(crate) status: &'a str,
    pub(crate) received_at: &'a str,
    pub(crate) acceptance_due: Value,
    pub(crate) due_estimated: bool,
    /// The commission that holds it and the one it is sealed to (the same).
    pub(crate) org: &'a str,
    pub(crate) content_sealed: Value,
    /// The disclosed item a complaint is against.
    pub(crate) disclosure_item: Value,
}

/// Stores a report and its first event, `received` with `note`.
pub(crate) async fn insert_report(
    db: &Db,
    report: NewReport<'_>,
    note: Value,
) -> Result<(), DbError> {
    db.exec(
        "storing the report",
        "INSERT INTO reports (id, receipt_code, followup_hash, real_name, category, division_code, subject,
                              content, attachments, identity_sealed, status, received_at, acceptance_due, due_estimated,
                              org, sealed_to, content_sealed, disclosure_item)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17)",
        [
            text(report.id),
            text(report.receipt_code),
            Value::Blob(report.followup_hash),
            Value::Integer(report.real_name.into()),
            text(report.category),
            text(report.division_code),
            text(report.subject),
            text(report.content),
            text(report.attachments),
            report.identity_sealed,
            text(report.status),
            text(report.received_at),
            report.acceptance_due,
            Value::Integer(report.due_estimated.into()),
            text(report.org),
            report.content_sealed,
            report.disclosure_item,
        ],
    )
    .await?;
    db.exec(
        "storing the report's first event",
        "INSERT INTO report_events (report_id, at, event, note) VALUES (?, ?, 'received', ?)",
        [text(report.id), text(report.received_at), note],
    )
    .await
}

/// Counts one submission in each of `buckets`' windows (a new window once
/// `window_secs` have passed since it opened), in one statement so that the
/// two rows are always locked in the same order: one row per bucket,
/// `bucket`, `window_start`, `submissions`.
pub(crate) async fn count_submission(
    db: &Db,
    buckets: [&str; 2],
    now: i64,
    window_secs: i64,
) -> Result<Vec<Row>, DbError> {
    let [first, second] = buckets;
    db.query(
        "counting an anonymous submission",
        "INSERT INTO submission_windows (bucket, window_start, submissions) VALUES (?1, ?3, 1), (?2, ?3, 1)
         ON CONFLICT (bucket) DO UPDATE SET
           submissions = CASE WHEN ?3 - submission_windows.window_start >= ?4 THEN 1 ELSE submission_windows.submissions + 1 END,
           window_start = CASE WHEN ?3 - submission_windows.window_start >= ?4 THEN ?3 ELSE submission_windows.window_start END
         RETURNING bucket, window_start, submissions",
        [
            text(first),
            text(second),
            Value::Integer(now),
            Value::Integer(window_secs),
        ],
    )
    .await
}

/// Forgets the windows that opened at or before `opened_by`. On PostgreSQL
/// it passes over any window a report is counting in at the moment (`SKIP
/// LOCKED`), so it never waits on a report's transaction, nor one on it.
pub(crate) async fn forget_windows(db: &Db, opened_by: i64) -> Result<(), DbError> {
    let sql = if db.on_postgres() {
        "DELETE FROM submission_windows WHERE bucket IN
           (SELECT bucket FROM submission_windows WHERE window_start <= ? FOR UPDATE SKIP LOCKED)"
    } else {
        "DELETE FROM submission_windows WHERE window_start <= ?"
    };
    db.exec(
        "forgetting ended submission windows",
        sql,
        [Value::Integer(opened_by)],
    )
    .await
}

/// A disclosed item a complaint names: the org that disclosed it, if it is
/// still published.
pub(crate) async fn published_item_division(db: &Db, id: &str) -> Result<Option<String>, DbError> {
    let rows = db
        .query(
            "reading the item complained about",
            "SELECT division FROM disclosure_items WHERE id = ? AND state = 'published'",
            [text(id)],
        )
        .await?;
    Ok(rows.first().map(|r| r.str("division").to_owned()))
}
