//! The SQL behind 三资: rules, contracts, transactions and warnings — every
//! statement this component runs, with typed rows read by column name.

use jiandu_guest::db::{Db, DbError, Row, Value, opt_text, text};

/// A stored risk rule.
pub(crate) struct StoredRule {
    pub(crate) id: String,
    pub(crate) definition: String,
    pub(crate) created_at: String,
}

/// Adopts a rule (inside the caller's transaction).
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
        "adopting a 三资 rule",
        "INSERT INTO sanzi_rules (id, commission, name, definition, created_by, created_at)
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
            "reading 三资 rules",
            "SELECT id, definition, created_at FROM sanzi_rules
             WHERE commission = ? ORDER BY created_at, id",
            [text(commission)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StoredRule {
            id: r.str("id").to_owned(),
            definition: r.str("definition").to_owned(),
            created_at: r.str("created_at").to_owned(),
        })
        .collect())
}

/// A person's or company's name, and a person's ID number as a keyed hash
/// and masked.
pub(crate) struct Party<'a> {
    pub(crate) name: &'a str,
    pub(crate) id_hash: Option<String>,
    pub(crate) id_masked: Option<String>,
}

/// A lease as entered.
pub(crate) struct NewContract<'a> {
    pub(crate) id: &'a str,
    pub(crate) village: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) asset_class: &'a str,
    pub(crate) asset_code: &'a str,
    pub(crate) counterparty: Party<'a>,
    pub(crate) area: f64,
    pub(crate) unit: &'a str,
    pub(crate) annual_rent_fen: i64,
    pub(crate) start_date: &'a str,
    pub(crate) end_date: &'a str,
    pub(crate) approvals: String,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a lease (inside the caller's transaction).
pub(crate) async fn insert_contract(db: &Db, c: &NewContract<'_>) -> Result<(), DbError> {
    db.exec(
        "writing a lease",
        "INSERT INTO sanzi_contracts
            (id, village, kind, asset_class, asset_code, counterparty, counterparty_id_hash,
             counterparty_id_masked, area, unit, annual_rent_fen, start_date, end_date,
             approvals, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(c.id),
            text(c.village),
            text(c.kind),
            text(c.asset_class),
            text(c.asset_code),
            text(c.counterparty.name),
            opt_text(c.counterparty.id_hash.as_deref()),
            opt_text(c.counterparty.id_masked.as_deref()),
            Value::Real(c.area),
            text(c.unit),
            Value::Integer(c.annual_rent_fen),
            text(c.start_date),
            text(c.end_date),
            text(&c.approvals),
            text(c.by),
            text(c.at),
        ],
    )
    .await
}

/// A payment or receipt as entered.
pub(crate) struct NewTransaction<'a> {
    pub(crate) id: &'a str,
    pub(crate) village: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) amount_fen: i64,
    pub(crate) method: &'a str,
    pub(crate) payee: Party<'a>,
    /// The ID number's hash, else the name: who the payments go to.
    pub(crate) payee_key: &'a str,
    pub(crate) purpose: &'a str,
    pub(crate) on_date: &'a str,
    pub(crate) contract_id: Option<&'a str>,
    pub(crate) approvals: String,
    pub(crate) by: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a payment or receipt (inside the caller's transaction).
pub(crate) async fn insert_transaction(db: &Db, t: &NewTransaction<'_>) -> Result<(), DbError> {
    db.exec(
        "writing a transaction",
        "INSERT INTO sanzi_transactions
            (id, village, kind, amount_fen, method, payee, payee_key, payee_id_masked, purpose,
             on_date, contract_id, approvals, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(t.id),
            text(t.village),
            text(t.kind),
            Value::Integer(t.amount_fen),
            text(t.method),
            text(t.payee.name),
            text(t.payee_key),
            opt_text(t.payee.id_masked.as_deref()),
            text(t.purpose),
            text(t.on_date),
            opt_text(t.contract_id),
            text(&t.approvals),
            text(t.by),
            text(t.at),
        ],
    )
    .await
}

/// The village's payments to `payee_key` dated from `since` to `until`:
/// each amount in fen and its date.
pub(crate) async fn payments_to(
    db: &Db,
    village: &str,
    payee_key: &str,
    since: &str,
    until: &str,
) -> Result<Vec<(i64, String)>, DbError> {
    let rows = db
        .query(
            "reading a payee's payments",
            "SELECT amount_fen, on_date FROM sanzi_transactions
             WHERE village = ? AND payee_key = ? AND kind = 'payment'
               AND on_date >= ? AND on_date <= ?",
            [text(village), text(payee_key), text(since), text(until)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.int("amount_fen").unwrap_or(0),
                r.str("on_date").to_owned(),
            )
        })
        .collect())
}

/// Whether the commission's screening registers of village cadres or their
/// close relatives hold the ID number hashed as `id_hash`.
pub(crate) async fn on_cadre_register(
    db: &Db,
    commission: &str,
    id_hash: &str,
) -> Result<bool, DbError> {
    let rows = db
        .query(
            "matching a payee with the cadre registers",
            "SELECT 1 AS found FROM screening_rows
             WHERE commission = ? AND list IN ('village_cadres', 'cadre_relatives') AND id_hash = ?
             LIMIT 1",
            [text(commission), text(id_hash)],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// A warning a rule raised.
pub(crate) struct NewWarning<'a> {
    pub(crate) id: &'a str,
    pub(crate) commission: &'a str,
    pub(crate) village: &'a str,
    pub(crate) township: &'a str,
    pub(crate) rule_id: &'a str,
    pub(crate) rule_name: &'a str,
    pub(crate) rule_kind: &'a str,
    pub(crate) subject_kind: &'a str,
    pub(crate) subject_id: &'a str,
    pub(crate) finding: &'a str,
    pub(crate) state: &'a str,
    pub(crate) at: &'a str,
}

/// Writes a warning (inside the caller's transaction).
pub(crate) async fn insert_warning(db: &Db, w: &NewWarning<'_>) -> Result<(), DbError> {
    db.exec(
        "writing a warning",
        "INSERT INTO sanzi_warnings
            (id, commission, village, township, rule_id, rule_name, rule_kind, subject_kind,
             subject_id, finding, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            text(w.id),
            text(w.commission),
            text(w.village),
            text(w.township),
            text(w.rule_id),
            text(w.rule_name),
            text(w.rule_kind),
            text(w.subject_kind),
            text(w.subject_id),
            text(w.finding),
            text(w.state),
            text(w.at),
        ],
    )
    .await
}

/// A warning as stored, with its check task.
pub(crate) struct Warning {
    pub(crate) id: String,
    pub(crate) commission: String,
    pub(crate) village: String,
    pub(crate) township: String,
    pub(crate) rule_id: String,
    pub(crate) rule_name: String,
    pub(crate) rule_kind: String,
    pub(crate) subject_kind: String,
    pub(crate) subject_id: String,
    pub(crate) finding: String,
    pub(crate) state: String,
    pub(crate) created_at: String,
    pub(crate) task_id: Option<String>,
}

const WARNING_COLUMNS: &str = "SELECT w.id, w.commission, w.village, w.township, w.rule_id,
        w.rule_name, w.rule_kind, w.subject_kind, w.subject_id, w.finding, w.state, w.created_at,
        (SELECT t.id FROM tasks t WHERE t.subject_kind = 'risk_warning' AND t.subject_id = w.id
         ORDER BY t.opened_at DESC LIMIT 1) AS task_id
     FROM sanzi_warnings w";

impl Warning {
    fn from_row(r: &Row) -> Self {
        Self {
            id: r.str("id").to_owned(),
            commission: r.str("commission").to_owned(),
            village: r.str("village").to_owned(),
            township: r.str("township").to_owned(),
            rule_id: r.str("rule_id").to_owned(),
            rule_name: r.str("rule_name").to_owned(),
            rule_kind: r.str("rule_kind").to_owned(),
            subject_kind: r.str("subject_kind").to_owned(),
            subject_id: r.str("subject_id").to_owned(),
            finding: r.str("finding").to_owned(),
            state: r.str("state").to_owned(),
            created_at: r.str("created_at").to_owned(),
            task_id: r.text("task_id").map(str::to_owned),
        }
    }
}

/// Which warnings a list shows: those of one column's value (`commission`,
/// `township` or `village`), narrowed.
pub(crate) struct WarningsOf<'a> {
    pub(crate) column: &'static str,
    pub(crate) value: &'a str,
    pub(crate) village: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) after: Option<&'a str>,
    pub(crate) limit: u32,
}

/// Warnings, newest first.
pub(crate) async fn warnings(db: &Db, f: &WarningsOf<'_>) -> Result<Vec<Warning>, DbError> {
    let mut sql = format!("{WARNING_COLUMNS} WHERE w.{} = ?", f.column);
    let mut params = vec![text(f.value)];
    if let Some(village) = f.village {
        sql.push_str(" AND w.village = ?");
        params.push(text(village));
    }
    if let Some(state) = f.state {
        sql.push_str(" AND w.state = ?");
        params.push(text(state));
    }
    if let Some(after) = f.after {
        sql.push_str(
            " AND (w.created_at, w.id) <
                 (SELECT a.created_at, a.id FROM sanzi_warnings a WHERE a.id = ?)",
        );
        params.push(text(after));
    }
    sql.push_str(" ORDER BY w.created_at DESC, w.id DESC LIMIT ?");
    params.push(Value::Integer(i64::from(f.limit)));
    let rows = db.query("listing warnings", &sql, params).await?;
    Ok(rows.iter().map(Warning::from_row).collect())
}

/// The warning `id`, if there is one.
pub(crate) async fn warning(db: &Db, id: &str) -> Result<Option<Warning>, DbError> {
    let sql = format!("{WARNING_COLUMNS} WHERE w.id = ?");
    let rows = db.query("reading a warning", &sql, [text(id)]).await?;
    Ok(rows.first().map(Warning::from_row))
}

/// A warning's events, oldest first: `at`, `event`, `note`.
pub(crate) async fn warning_events(db: &Db, id: &str) -> Result<Vec<Row>, DbError> {
    db.query(
        "reading a warning's events",
        "SELECT at, event, note FROM sanzi_warning_events WHERE warning_id = ? ORDER BY id",
        [text(id)],
    )
    .await
}
