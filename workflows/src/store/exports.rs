//! Ledger exports (台账): the export's own row, the ledger's rows read as
//! one stream, and the finished file stored in chunks.

use futures::stream::BoxStream;
use jiandu_domain::ledger::{ExportState, LedgerKind};
use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use super::{Pool, Row, placeholders};

/// The head of a ledger's query, ending in `IN (` for its orgs, and the
/// id column it pages by; its columns are named as [`LedgerKind::columns`]
/// reads them.
fn ledger_select(kind: LedgerKind) -> (&'static str, &'static str) {
    match kind {
        LedgerKind::Problems => (
            "SELECT p.id, p.source, p.org, p.target, p.responsible_org, p.category, p.description,
                    p.state, p.recorded_at, c.id AS clue_id
             FROM problems p LEFT JOIN clues c ON c.problem_id = p.id
             WHERE p.responsible_org IN (",
            "p.id",
        ),
        LedgerKind::Clues => (
            "SELECT id, source, org, subject_org, summary, state, disposal, registered_at, problem_id
             FROM clues WHERE org IN (",
            "id",
        ),
        LedgerKind::Rectifications => (
            "SELECT p.id, p.responsible_org, p.supervisor, p.elevated, p.state, p.handed_at,
                    (SELECT COUNT(*) FROM problem_events e
                      WHERE e.problem_id = p.id AND e.event = 'returned') AS returned,
                    (SELECT COUNT(*) FROM problem_events e
                      WHERE e.problem_id = p.id AND e.event = 'recheck_failed') AS reopened
             FROM problems p
             WHERE p.handed_at IS NOT NULL AND p.responsible_org IN (",
            "p.id",
        ),
    }
}

/// How many rows a ledger of `orgs` holds.
fn ledger_count(kind: LedgerKind) -> &'static str {
    match kind {
        LedgerKind::Problems => "SELECT COUNT(*) AS n FROM problems WHERE responsible_org IN (",
        LedgerKind::Clues => "SELECT COUNT(*) AS n FROM clues WHERE org IN (",
        LedgerKind::Rectifications => {
            "SELECT COUNT(*) AS n FROM problems WHERE handed_at IS NOT NULL AND responsible_org IN ("
        }
    }
}

/// `query` with `orgs` bound, in order, to its placeholders.
fn bind_orgs<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    orgs: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for org in orgs {
        query = query.bind(org.as_str());
    }
    query
}

/// `head` (ending in `IN (`) with `orgs` as its list, closed by `tail`.
fn with_orgs(head: &str, orgs: &[String], tail: &str) -> String {
    format!("{head}{}{tail}", placeholders(1, orgs.len()))
}

/// An export's order as the API recorded it, all text.
pub struct OrderRow {
    /// The ledger's name.
    pub ledger: String,
    /// The file format's name.
    pub format: String,
    /// The orgs it covers, a JSON list.
    pub orgs: String,
    /// The export's state.
    pub state: String,
}

/// An export's order, if there is such an export.
pub async fn order(pool: &Pool, export_id: &str) -> sqlx::Result<Option<OrderRow>> {
    let row = sqlx::query("SELECT ledger, format, orgs, state FROM ledger_exports WHERE id = $1")
        .bind(export_id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(OrderRow {
            ledger: row.try_get("ledger")?,
            format: row.try_get("format")?,
            orgs: row.try_get("orgs")?,
            state: row.try_get("state")?,
        })
    })
    .transpose()
}

/// What a finished export wrote: rows and bytes.
pub async fn written(pool: &Pool, export_id: &str) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query("SELECT rows_written, bytes FROM ledger_exports WHERE id = $1")
        .bind(export_id)
        .fetch_one(pool)
        .await?;
    Ok((
        row.try_get("rows_written")?,
        row.try_get::<Option<i64>, _>("bytes")?.unwrap_or(0),
    ))
}

/// Marks the export running with its row count, and returns the count.
pub async fn start(
    pool: &Pool,
    export_id: &str,
    kind: LedgerKind,
    orgs: &[String],
) -> sqlx::Result<i64> {
    let count = with_orgs(ledger_count(kind), orgs, ")");
    let total: i64 = bind_orgs(sqlx::query(AssertSqlSafe(count)), orgs)
        .fetch_one(pool)
        .await?
        .try_get("n")?;
    sqlx::query(
        "UPDATE ledger_exports SET state = $1, rows_total = $2, rows_written = 0 WHERE id = $3",
    )
    .bind(ExportState::Running.as_str())
    .bind(total)
    .bind(export_id)
    .execute(pool)
    .await?;
    Ok(total)
}

/// The ledger's rows for `orgs`, in id order, as one stream.
pub fn ledger_rows<'a>(
    pool: &'a Pool,
    kind: LedgerKind,
    orgs: &'a [String],
) -> BoxStream<'a, sqlx::Result<Row>> {
    let (head, id) = ledger_select(kind);
    let select = with_orgs(head, orgs, &format!(") ORDER BY {id}"));
    bind_orgs(sqlx::query(AssertSqlSafe(select)), orgs).fetch(pool)
}

/// Records how many rows are written so far.
pub async fn progress(pool: &Pool, export_id: &str, rows: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE ledger_exports SET rows_written = $1 WHERE id = $2")
        .bind(rows)
        .bind(export_id)
        .execute(pool)
        .await
        .map(drop)
}

/// Forgets the chunks of an earlier attempt.
pub async fn clear_chunks(conn: &mut AnyConnection, export_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM ledger_export_chunks WHERE export_id = $1")
        .bind(export_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Stores chunk `seq` of the file.
pub async fn insert_chunk(
    conn: &mut AnyConnection,
    export_id: &str,
    seq: i64,
    data: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO ledger_export_chunks (export_id, seq, data) VALUES ($1, $2, $3)")
        .bind(export_id)
        .bind(seq)
        .bind(data)
        .execute(conn)
        .await
        .map(drop)
}

/// Marks the export done at `at`, with what it wrote.
pub async fn finish(
    conn: &mut AnyConnection,
    export_id: &str,
    rows: i64,
    bytes: i64,
    at: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ledger_exports SET state = $1, rows_written = $2, bytes = $3, finished_at = $4, error = NULL
         WHERE id = $5",
    )
    .bind(ExportState::Done.as_str())
    .bind(rows)
    .bind(bytes)
    .bind(at)
    .bind(export_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Marks an export that is not done failed at `at`, with why.
pub async fn fail(pool: &Pool, export_id: &str, error: &str, at: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ledger_exports SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state <> $5",
    )
    .bind(ExportState::Failed.as_str())
    .bind(error)
    .bind(at)
    .bind(export_id)
    .bind(ExportState::Done.as_str())
    .execute(pool)
    .await
    .map(drop)
}
