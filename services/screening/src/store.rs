//! The SQL behind screening: imports, their chunks, lines and refusals,
//! rules, runs and hits — every statement this component runs, with typed
//! rows read by column name.

use jiandu_guest::db::{Db, DbError, Row, Value, opt_text, text};

/// An import as stored.
pub(crate) struct Import {
    pub(crate) id: String,
    pub(crate) commission: String,
    pub(crate) org: String,
    pub(crate) list: String,
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) period: String,
    pub(crate) digest: String,
    pub(crate) expected_lines: Option<i64>,
    pub(crate) created_at: String,
}

const IMPORT_COLUMNS: &str = "SELECT id, commission, org, list, name, source, period, digest,
        expected_lines, created_at
     FROM screening_imports";

impl Import {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.str("id").to_owned(),
            commission: r.str("commission").to_owned(),
            org: r.str("org").to_owned(),
            list: r.str("list").to_owned(),
            name: r.str("name").to_owned(),
            source: r.str("source").to_owned(),
            period: r.str("period").to_owned(),
            digest: r.str("digest").to_owned(),
            expected_lines: r.int("expected_lines"),
            created_at: r.str("created_at").to_owned(),
        }
    }
}

/// A new import, opened by `by` at `at`.
pub(crate) struct NewImport<'a> {
    pub(crate) id: &'a str,
    pub(crate) commission: &'a str,
    pub(crate) org: &'a str,
    pub(crate) list: &'a str,
    pub(crate) name: &'a str,
    pub(crate) source: &'a str,
    pub(crate) period: &'a str,
    pub(crate) digest: &'a str,
    pub(crate) expected_lines: Option<u32>,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes an import (inside the caller's transaction); false, writing
/// nothing, if the commission already has an import of the same file.
pub(crate) async fn insert_import(db: &Db, i: &NewImport<'_>) -> Result<bool, DbError> {
    let inserted = db.query(
        "opening an import",
        "INSERT INTO screening_imports (id, commission, org, list, name, source, period, digest,
                                        expected_lines, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (commission, list, digest) DO NOTHING
         RETURNING id",
        [
            text(i.id),
            text(i.commission),
            text(i.org),
            text(i.list),
            text(i.name),
            text(i.source),
            text(i.period),
            text(i.digest),
            i.expected_lines
                .map_or(Value::Null, |n| Value::Integer(n.into())),
            text(i.by),
            text(i.at),
        ],
    )
    .await?;
    Ok(!inserted.is_empty())
}

/// The import `id`.
pub(crate) async fn import(db: &Db, id: &str) -> Result<Option<Import>, DbError> {
    let sql = format!("{IMPORT_COLUMNS} WHERE id = ?");
    let rows = db.query("reading an import", &sql, [text(id)]).await?;
    Ok(rows.first().map(Import::from_row))
}

/// The commission's import of `list` from the file with `digest`, if any.
pub(crate) async fn import_of_file(
    db: &Db,
    commission: &str,
    list: &str,
    digest: &str,
) -> Result<Option<Import>, DbError> {
    let sql = format!("{IMPORT_COLUMNS} WHERE commission = ? AND list = ? AND digest = ?");
    let rows = db
        .query(
            "looking an import up by its file",
            &sql,
            [text(commission), text(list), text(digest)],
        )
        .await?;
    Ok(rows.first().map(Import::from_row))
}

/// How far an import has come: chunks received and lines accepted and refused.
pub(crate) struct Progress {
    pub(crate) chunks: i64,
    pub(crate) accepted: i64,
    pub(crate) refused: i64,
}

/// The import's progress.
pub(crate) async fn progress(db: &Db, import_id: &str) -> Result<Progress, DbError> {
    let rows = db
        .query(
            "reading an import's progress",
            "SELECT COUNT(*) AS chunks, COALESCE(SUM(accepted), 0) AS accepted,
                    COALESCE(SUM(refused), 0) AS refused
             FROM screening_chunks WHERE import_id = ?",
            [text(import_id)],
        )
        .await?;
    let r = rows.first();
    let count = |c: &str| r.and_then(|r| r.int(c)).unwrap_or(0);
    Ok(Progress {
        chunks: count("chunks"),
        accepted: count("accepted"),
        refused: count("refused"),
    })
}

/// A chunk as stored.
pub(crate) struct Chunk {
    pub(crate) first_line: i64,
    pub(crate) last_line: i64,
    pub(crate) digest: String,
    pub(crate) accepted: i64,
    pub(crate) refused: i64,
}

/// Chunk `seq` of an import, if it was received.
pub(crate) async fn chunk(db: &Db, import_id: &str, seq: i64) -> Result<Option<Chunk>, DbError> {
    let rows = db
        .query(
            "reading a chunk",
            "SELECT first_line, last_line, digest, accepted, refused FROM screening_chunks
             WHERE import_id = ? AND seq = ?",
            [text(import_id), Value::Integer(seq)],
        )
        .await?;
    Ok(rows.first().map(|r| Chunk {
        first_line: r.int("first_line").unwrap_or(0),
        last_line: r.int("last_line").unwrap_or(0),
        digest: r.str("digest").to_owned(),
        accepted: r.int("accepted").unwrap_or(0),
        refused: r.int("refused").unwrap_or(0),
    }))
}

/// A chunk to write, with its lines.
pub(crate) struct NewChunk<'a> {
    pub(crate) import: &'a Import,
    pub(crate) seq: i64,
    pub(crate) first_line: i64,
    pub(crate) last_line: i64,
    pub(crate) digest: &'a str,
    pub(crate) names_sealed: Vec<u8>,
    pub(crate) rows: &'a [NewRow],
    pub(crate) refusals: &'a [(i64, String)],
    pub(crate) at: &'a str,
}

/// An accepted line, hashed and masked.
pub(crate) struct NewRow {
    pub(crate) line: i64,
    pub(crate) name_index: i64,
    pub(crate) id_hash: Option<String>,
    pub(crate) id_masked: Option<String>,
    pub(crate) person_hash: String,
    pub(crate) org: String,
    pub(crate) on_date: Option<String>,
    pub(crate) amount: Option<f64>,
    pub(crate) detail: Option<String>,
}

/// Lines written per statement (14 values each, far below either database's limit).
const ROWS_PER_INSERT: usize = 200;

/// The chunk of an import whose lines overlap `first_line..=last_line`, if any.
pub(crate) async fn overlapping_chunk(
    db: &Db,
    import_id: &str,
    first_line: i64,
    last_line: i64,
) -> Result<Option<i64>, DbError> {
    let rows = db
        .query(
            "looking for overlapping chunks",
            "SELECT seq FROM screening_chunks
             WHERE import_id = ? AND first_line <= ? AND last_line >= ? LIMIT 1",
            [
                text(import_id),
                Value::Integer(last_line),
                Value::Integer(first_line),
            ],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("seq")))
}

/// Writes a chunk, its lines and its refusals (inside the caller's
/// transaction); false, writing nothing, if the chunk was already there.
pub(crate) async fn insert_chunk(db: &Db, c: &NewChunk<'_>) -> Result<bool, DbError> {
    let inserted = db
        .query(
            "receiving a chunk",
            "INSERT INTO screening_chunks (import_id, seq, first_line, last_line, digest, accepted,
                                           refused, names_sealed, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (import_id, seq) DO NOTHING
             RETURNING seq",
            [
                text(&c.import.id),
                Value::Integer(c.seq),
                Value::Integer(c.first_line),
                Value::Integer(c.last_line),
                text(c.digest),
                Value::Integer(c.rows.len() as i64),
                Value::Integer(c.refusals.len() as i64),
                Value::Blob(c.names_sealed.clone()),
                text(c.at),
            ],
        )
        .await?;
    if inserted.is_empty() {
        return Ok(false);
    }
    for rows in c.rows.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(rows.len() * 14);
        for r in rows {
            params.extend([
                text(&c.import.id),
                text(&c.import.commission),
                text(&c.import.list),
                Value::Integer(r.line),
                Value::Integer(c.seq),
                Value::Integer(r.name_index),
                opt_text(r.id_hash.as_deref()),
                opt_text(r.id_masked.as_deref()),
                text(&r.person_hash),
                text(&r.org),
                opt_text(r.on_date.as_deref()),
                r.amount.map_or(Value::Null, Value::Real),
                opt_text(r.detail.as_deref()),
            ]);
        }
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "INSERT INTO screening_rows (import_id, commission, list, line, chunk_seq, name_index,
                                         id_hash, id_masked, person_hash, org, on_date, amount,
                                         detail)
             VALUES {values}"
        );
        db.exec("writing a chunk's lines", &sql, params).await?;
    }
    for refusals in c.refusals.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(refusals.len() * 3);
        for (line, reason) in refusals {
            params.extend([text(&c.import.id), Value::Integer(*line), text(reason)]);
        }
        let values = vec!["(?, ?, ?)"; refusals.len()].join(", ");
        let sql =
            format!("INSERT INTO screening_refusals (import_id, line, reason) VALUES {values}");
        db.exec("writing a chunk's refused lines", &sql, params)
            .await?;
    }
    Ok(true)
}

/// Refused lines of an import from line `from` on, at most `limit`, in line order.
pub(crate) async fn refusals(
    db: &Db,
    import_id: &str,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    let rows = db
        .query(
            "reading refused lines",
            "SELECT line, reason FROM screening_refusals
             WHERE import_id = ? AND line >= ? AND line <= ?
             ORDER BY line LIMIT ?",
            [
                text(import_id),
                Value::Integer(from),
                Value::Integer(to),
                Value::Integer(limit),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.int("line").unwrap_or(0), r.str("reason").to_owned()))
        .collect())
}

/// A rule as stored: its definition is a domain `Rule` as JSON.
pub(crate) struct StoredRule {
    pub(crate) id: String,
    pub(crate) commission: String,
    pub(crate) definition: String,
    pub(crate) created_at: String,
}

impl StoredRule {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.str("id").to_owned(),
            commission: r.str("commission").to_owned(),
            definition: r.str("definition").to_owned(),
            created_at: r.str("created_at").to_owned(),
        }
    }
}

/// Writes a rule (inside the caller's transaction).
pub(crate) async fn insert_rule(
    db: &Db,
    id: &str,
    commission: &str,
    name: &str,
    definition: &str,
    by: &str,
    at: &str,
) -> Result<(), DbError> {
    db.exec(
        "adopting a rule",
        "INSERT INTO screening_rules (id, commission, name, definition, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
        [
            text(id),
            text(commission),
            text(name),
            text(definition),
            text(by),
            text(at),
        ],
    )
    .await
}

/// The commission's rules, oldest first.
pub(crate) async fn rules(db: &Db, commission: &str) -> Result<Vec<StoredRule>, DbError> {
    let rows = db
        .query(
            "reading the rules",
            "SELECT id, commission, definition, created_at FROM screening_rules
             WHERE commission = ? ORDER BY created_at, id",
            [text(commission)],
        )
        .await?;
    Ok(rows.iter().map(StoredRule::from_row).collect())
}

/// The rule `id`.
pub(crate) async fn rule(db: &Db, id: &str) -> Result<Option<StoredRule>, DbError> {
    let rows = db
        .query(
            "reading a rule",
            "SELECT id, commission, definition, created_at FROM screening_rules WHERE id = ?",
            [text(id)],
        )
        .await?;
    Ok(rows.first().map(StoredRule::from_row))
}

/// The newest roster line of `list` and how many there are.
pub(crate) async fn roster_extent(
    db: &Db,
    commission: &str,
    list: &str,
) -> Result<(i64, i64), DbError> {
    let rows = db
        .query(
            "measuring a roster",
            "SELECT COALESCE(MAX(id), 0) AS last_row, COUNT(*) AS total FROM screening_rows
             WHERE commission = ? AND list = ?",
            [text(commission), text(list)],
        )
        .await?;
    let r = rows.first();
    let get = |c: &str| r.and_then(|r| r.int(c)).unwrap_or(0);
    Ok((get("last_row"), get("total")))
}

/// A new run, started by `by` at `at`.
pub(crate) struct NewRun<'a> {
    pub(crate) id: &'a str,
    pub(crate) rule_id: &'a str,
    pub(crate) commission: &'a str,
    pub(crate) last_row: i64,
    pub(crate) rows_total: i64,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a run (inside the caller's transaction).
pub(crate) async fn insert_run(db: &Db, r: &NewRun<'_>) -> Result<(), DbError> {
    db.exec(
        "starting a run",
        "INSERT INTO screening_runs (id, rule_id, commission, state, last_row, rows_total,
                                     started_by, started_at)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
        [
            text(r.id),
            text(r.rule_id),
            text(r.commission),
            Value::Integer(r.last_row),
            Value::Integer(r.rows_total),
            text(r.by),
            text(r.at),
        ],
    )
    .await
}

/// The run `id`: `id`, `rule_id`, `commission`, `state`, `rows_total`,
/// `rows_done`, `hits`, `started_at`, `finished_at`.
pub(crate) async fn run(db: &Db, id: &str) -> Result<Option<Row>, DbError> {
    let rows = db
        .query(
            "reading a run",
            "SELECT id, rule_id, commission, state, rows_total, rows_done, hits, started_at,
                    finished_at
             FROM screening_runs WHERE id = ?",
            [text(id)],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// Which hits to list: a run's, a rule's, in a state (each when given).
pub(crate) struct HitsOf<'a> {
    pub(crate) run: Option<&'a str>,
    pub(crate) rule: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
}

/// The commission's hits after id `after`, at most `limit`, in id order:
/// each with its newest verification task.
pub(crate) async fn hits(
    db: &Db,
    commission: &str,
    of: &HitsOf<'_>,
    after: &str,
    limit: i64,
) -> Result<Vec<Row>, DbError> {
    let mut filter = String::new();
    let mut params = vec![text(commission), text(after)];
    for (column, value) in [
        ("run_id", of.run),
        ("rule_id", of.rule),
        ("state", of.state),
    ] {
        if let Some(value) = value {
            filter.push_str(&format!(" AND h.{column} = ?"));
            params.push(text(value));
        }
    }
    params.push(Value::Integer(limit));
    let sql = format!(
        "SELECT h.id, h.rule_id, h.run_id, h.owner_org, h.id_masked, h.state, h.found_at,
                h.problem_id, h.clue_id, r.list, r.on_date, r.amount, r.detail,
                (SELECT t.id FROM tasks t WHERE t.subject_kind = 'suspicion' AND t.subject_id = h.id
                 ORDER BY t.opened_at DESC, t.id DESC LIMIT 1) AS task_id
         FROM screening_hits h JOIN screening_rows r ON r.id = h.roster_row
         WHERE h.commission = ? AND h.id > ?{filter}
         ORDER BY h.id LIMIT ?"
    );
    db.query("reading hits", &sql, params).await
}
