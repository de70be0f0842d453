//! The SQL behind disclosure: items, their revisions, their visits and the
//! complaints filed against them — every statement this component runs,
//! with typed rows read by column name.

use jiandu_domain::report::ReportStatus;
use jiandu_guest::db::{Db, DbError, Row, Value, in_list, opt_text, text};

/// An item as stored: its latest revision's title and period.
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) division: String,
    pub(crate) kind: String,
    pub(crate) period: String,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) revision: i64,
    pub(crate) published_at: String,
    pub(crate) updated_at: String,
    pub(crate) withdrawn_at: Option<String>,
    pub(crate) withdrawn_reason: Option<String>,
    pub(crate) visits: i64,
    pub(crate) open_complaints: i64,
}

/// The statuses of a complaint that is still being handled.
fn open_statuses() -> [&'static str; 3] {
    [
        ReportStatus::Received.as_str(),
        ReportStatus::Accepted.as_str(),
        ReportStatus::Reopened.as_str(),
    ]
}

/// Every item column, and the count of its open complaints.
fn item_columns() -> String {
    let [a, b, c] = open_statuses();
    format!(
        "SELECT i.id, i.division, i.kind, i.period, i.title, i.state, i.revision,
                i.published_at, i.updated_at, i.withdrawn_at, i.withdrawn_reason, i.visits,
                (SELECT count(*) FROM reports r
                 WHERE r.disclosure_item = i.id AND r.status IN ('{a}', '{b}', '{c}'))
                    AS open_complaints
         FROM disclosure_items i"
    )
}

impl Item {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.str("id").to_owned(),
            division: r.str("division").to_owned(),
            kind: r.str("kind").to_owned(),
            period: r.str("period").to_owned(),
            title: r.str("title").to_owned(),
            state: r.str("state").to_owned(),
            revision: r.int("revision").unwrap_or(1),
            published_at: r.str("published_at").to_owned(),
            updated_at: r.str("updated_at").to_owned(),
            withdrawn_at: r.text("withdrawn_at").map(str::to_owned),
            withdrawn_reason: r.text("withdrawn_reason").map(str::to_owned),
            visits: r.int("visits").unwrap_or(0),
            open_complaints: r.int("open_complaints").unwrap_or(0),
        }
    }
}

/// One revision of an item, as published.
pub(crate) struct Revision {
    pub(crate) revision: i64,
    pub(crate) title: String,
    pub(crate) period: String,
    /// JSON: the amounts, each with its label.
    pub(crate) amounts: String,
    pub(crate) body: String,
    /// JSON: the attachments, by reference.
    pub(crate) attachments: String,
    /// Why it corrects the one before; none for the first.
    pub(crate) reason: Option<String>,
    pub(crate) by: String,
    pub(crate) at: String,
}

impl Revision {
    fn from_row(r: &Row) -> Self {
        Self {
            revision: r.int("revision").unwrap_or(1),
            title: r.str("title").to_owned(),
            period: r.str("period").to_owned(),
            amounts: r.str("amounts").to_owned(),
            body: r.str("body").to_owned(),
            attachments: r.str("attachments").to_owned(),
            reason: r.text("reason").map(str::to_owned),
            by: r.str("by_person").to_owned(),
            at: r.str("at").to_owned(),
        }
    }
}

/// The item `id`, if there is one.
pub(crate) async fn item(db: &Db, id: &str) -> Result<Option<Item>, DbError> {
    let sql = format!("{} WHERE i.id = ?", item_columns());
    let rows = db.query("reading an item", &sql, [text(id)]).await?;
    Ok(rows.first().map(Item::from_row))
}

/// The item's revisions, first to latest.
pub(crate) async fn revisions(db: &Db, id: &str) -> Result<Vec<Revision>, DbError> {
    let rows = db
        .query(
            "reading an item's revisions",
            "SELECT revision, title, period, amounts, body, attachments, reason, by_person, at
             FROM disclosure_revisions WHERE item_id = ? ORDER BY revision",
            [text(id)],
        )
        .await?;
    Ok(rows.iter().map(Revision::from_row).collect())
}

/// Writes a new item and its first revision (inside the caller's transaction).
pub(crate) async fn insert_item(
    db: &Db,
    id: &str,
    division: &str,
    kind: &str,
    first: &Revision,
) -> Result<(), DbError> {
    db.exec(
        "writing an item",
        "INSERT INTO disclosure_items
            (id, division, kind, period, title, state, revision, published_at, published_by,
             updated_at)
         VALUES (?, ?, ?, ?, ?, 'published', 1, ?, ?, ?)",
        [
            text(id),
            text(division),
            text(kind),
            text(&first.period),
            text(&first.title),
            text(&first.at),
            text(&first.by),
            text(&first.at),
        ],
    )
    .await?;
    insert_revision(db, id, first).await
}

/// Makes `next` the item's latest revision (inside the caller's
/// transaction); false, writing nothing, unless the item is still published
/// at the revision before it.
pub(crate) async fn correct(db: &Db, id: &str, next: &Revision) -> Result<bool, DbError> {
    let moved = db
        .query(
            "correcting an item",
            "UPDATE disclosure_items SET revision = ?, title = ?, period = ?, updated_at = ?
             WHERE id = ? AND revision = ? AND state = 'published'
             RETURNING id",
            [
                Value::Integer(next.revision),
                text(&next.title),
                text(&next.period),
                text(&next.at),
                text(id),
                Value::Integer(next.revision - 1),
            ],
        )
        .await?;
    if moved.is_empty() {
        return Ok(false);
    }
    insert_revision(db, id, next).await?;
    Ok(true)
}

async fn insert_revision(db: &Db, id: &str, r: &Revision) -> Result<(), DbError> {
    db.exec(
        "writing an item's revision",
        "INSERT INTO disclosure_revisions
            (item_id, revision, title, period, amounts, body, attachments, reason, by_person, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(id),
            Value::Integer(r.revision),
            text(&r.title),
            text(&r.period),
            text(&r.amounts),
            text(&r.body),
            text(&r.attachments),
            opt_text(r.reason.as_deref()),
            text(&r.by),
            text(&r.at),
        ],
    )
    .await
}

/// Withdraws a published item (inside the caller's transaction); false,
/// writing nothing, if it is not published.
pub(crate) async fn withdraw(
    db: &Db,
    id: &str,
    reason: &str,
    by: &str,
    at: &str,
) -> Result<bool, DbError> {
    let moved = db
        .query(
            "withdrawing an item",
            "UPDATE disclosure_items
             SET state = 'withdrawn', withdrawn_at = ?, withdrawn_by = ?, withdrawn_reason = ?,
                 updated_at = ?
             WHERE id = ? AND state = 'published'
             RETURNING id",
            [text(at), text(by), text(reason), text(at), text(id)],
        )
        .await?;
    Ok(!moved.is_empty())
}

/// Which items a public listing asks for.
pub(crate) struct Filter<'a> {
    pub(crate) division: &'a str,
    pub(crate) kind: Option<&'a str>,
    pub(crate) period: Option<&'a str>,
    /// Words the title contains.
    pub(crate) title: Option<&'a str>,
    /// The last item of the page before.
    pub(crate) after: Option<&'a str>,
    pub(crate) limit: u32,
}

/// A division's items, newest first, withdrawn ones included.
pub(crate) async fn items(db: &Db, f: &Filter<'_>) -> Result<Vec<Item>, DbError> {
    let mut sql = format!("{} WHERE i.division = ?", item_columns());
    let mut params = vec![text(f.division)];
    if let Some(kind) = f.kind {
        sql.push_str(" AND i.kind = ?");
        params.push(text(kind));
    }
    if let Some(period) = f.period {
        sql.push_str(" AND i.period = ?");
        params.push(text(period));
    }
    if let Some(words) = f.title {
        sql.push_str(" AND i.title LIKE ? ESCAPE '\\'");
        let escaped = words
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        params.push(text(format!("%{escaped}%")));
    }
    if let Some(after) = f.after {
        sql.push_str(
            " AND (i.published_at, i.id) <
                 (SELECT a.published_at, a.id FROM disclosure_items a WHERE a.id = ?)",
        );
        params.push(text(after));
    }
    sql.push_str(" ORDER BY i.published_at DESC, i.id DESC LIMIT ?");
    params.push(Value::Integer(i64::from(f.limit)));
    let rows = db.query("listing items", &sql, params).await?;
    Ok(rows.iter().map(Item::from_row).collect())
}

/// How many published items each of `divisions` has.
pub(crate) async fn published_counts(
    db: &Db,
    divisions: &[&str],
) -> Result<Vec<(String, i64)>, DbError> {
    if divisions.is_empty() {
        return Ok(Vec::new());
    }
    let (marks, params) = in_list(divisions.iter().map(|d| text(*d)));
    let sql = format!(
        "SELECT division, count(*) AS items FROM disclosure_items
         WHERE state = 'published' AND division IN ({marks}) GROUP BY division"
    );
    let rows = db.query("counting items", &sql, params).await?;
    Ok(rows
        .iter()
        .map(|r| (r.str("division").to_owned(), r.int("items").unwrap_or(0)))
        .collect())
}

/// Adds counted visits to their items, in one transaction.
pub(crate) async fn add_visits(db: &Db, visits: &[(String, i64)]) -> Result<(), DbError> {
    db.begin().await?;
    let written = async {
        for (id, n) in visits {
            db.exec(
                "counting visits",
                "UPDATE disclosure_items SET visits = visits + ? WHERE id = ?",
                [Value::Integer(*n), text(id)],
            )
            .await?;
        }
        db.commit().await
    }
    .await;
    if written.is_err() {
        db.rollback().await;
    }
    written
}
