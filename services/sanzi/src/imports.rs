//! 三资 imports: a village's ledger of leases or of payments and receipts,
//! exported from its bookkeeping as CSV or XLSX. Each line is the body of
//! one `POST` of its kind, checked the same way and against the same
//! rules; the lines that pass are entered in file order in one transaction
//! with their warnings and one audit entry, and the lines that do not are
//! answered with their line number and reason. An `Idempotency-Key` makes
//! sending the file again safe.

use jiandu_domain::audit::AuditAction;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::Staff;
use jiandu_guest::table::{self, Format, Shape};
use jiandu_guest::{clock, schema::Schema};
use serde_json::{Map, Value, json};
use spin_sdk::http::StatusCode;

use crate::entries::{self, ContractInput, TransactionInput};

/// What an import holds: leases, or payments and receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ledger {
    Contracts,
    Transactions,
}

/// The most lines one file may hold: each may raise workflows.
const MAX_LINES: usize = 2_000;

impl Ledger {
    /// The ledger a path segment names.
    pub(crate) fn of(segment: &str) -> Option<Self> {
        match segment {
            "contracts" => Some(Self::Contracts),
            "transactions" => Some(Self::Transactions),
            _ => None,
        }
    }

    /// The columns of its file: the body's fields, a party's flattened to
    /// `<party>_name` and `<party>_id_number`, approvals as
    /// `kind:YYYY-MM-DD` separated by `;`.
    fn shape(self) -> Shape<'static> {
        match self {
            Self::Contracts => Shape {
                columns: &[
                    "kind",
                    "asset_class",
                    "asset_code",
                    "counterparty_name",
                    "counterparty_id_number",
                    "area",
                    "unit",
                    "annual_rent",
                    "start_date",
                    "end_date",
                    "approvals",
                ],
                required: &["kind", "counterparty_name", "annual_rent"],
                max_lines: MAX_LINES,
            },
            Self::Transactions => Shape {
                columns: &[
                    "kind",
                    "amount",
                    "method",
                    "payee_name",
                    "payee_id_number",
                    "purpose",
                    "on_date",
                    "contract_id",
                    "approvals",
                ],
                required: &["kind", "amount", "payee_name"],
                max_lines: MAX_LINES,
            },
        }
    }

    /// The party a line names.
    fn party(self) -> &'static str {
        match self {
            Self::Contracts => "counterparty",
            Self::Transactions => "payee",
        }
    }

    fn schema(self) -> &'static Schema {
        match self {
            Self::Contracts => jiandu_guest::schema!("sanzi-contract.json"),
            Self::Transactions => jiandu_guest::schema!("sanzi-transaction.json"),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Contracts => "lease",
            Self::Transactions => "transaction",
        }
    }
}

/// A line's cells as the body its `POST` would send; blank cells are left out.
fn body_of(ledger: Ledger, fields: &[(&str, &str)]) -> Result<Value, String> {
    let party = ledger.party();
    let mut body = Map::new();
    let mut who = Map::new();
    for &(column, cell) in fields {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = match column {
            "area" => json!(
                cell.parse::<f64>()
                    .map_err(|_| format!("area `{cell}` is not a number"))?
            ),
            "approvals" => approvals(cell)?,
            _ => json!(cell),
        };
        match column.strip_prefix(party).and_then(|c| c.strip_prefix('_')) {
            Some(field) => who.insert(field.to_owned(), value),
            None => body.insert(column.to_owned(), value),
        };
    }
    body.insert(party.to_owned(), Value::Object(who));
    Ok(Value::Object(body))
}

/// `committee:2026-03-01;representatives:2026-03-05` as the body's approvals.
fn approvals(cell: &str) -> Result<Value, String> {
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| match a.split_once([':', '：']) {
            Some((kind, date)) => Ok(json!({ "kind": kind.trim(), "date": date.trim() })),
            None => Err(format!(
                "approval `{a}` is not `kind:YYYY-MM-DD` (kinds: committee, representatives, township)"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::from)
}

/// The reason a body was refused, as one line of text.
fn reason(error: &ApiError) -> String {
    error
        .errors
        .iter()
        .map(|e| match e.pointer.as_str() {
            "" => e.message.clone(),
            pointer => format!("{pointer}: {}", e.message),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A line's body as parsed, before it is checked.
enum Parsed {
    Contract(Box<ContractInput>),
    Transaction(Box<TransactionInput>),
}

/// `POST /api/v1/sanzi/imports/{contracts|transactions}`: the caller's
/// village's ledger, CSV or XLSX, header on line 1.
pub(crate) async fn import(
    caller: Staff,
    db: &Db,
    ledger: Ledger,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Reply, ApiError> {
    let format = Format::of(content_type)?;
    let file = table::read(format, bytes, &ledger.shape())?;
    let mut refused = Vec::new();
    let mut parsed = Vec::new();
    for (line, fields) in file.lines(2) {
        let body = fields.and_then(|f| body_of(ledger, &f));
        let input = body.and_then(|body| {
            let schema = ledger.schema();
            match ledger {
                Ledger::Contracts => schema.parse(body).map(|i| Parsed::Contract(Box::new(i))),
                Ledger::Transactions => {
                    schema.parse(body).map(|i| Parsed::Transaction(Box::new(i)))
                }
            }
            .map_err(|e| reason(&e))
        });
        match input {
            Ok(input) => parsed.push((line, input)),
            Err(why) => refused.push(json!({ "line": line, "reason": why })),
        }
    }
    let mut checked = Vec::new();
    for (line, input) in &parsed {
        let entry = match input {
            Parsed::Contract(c) => entries::check_contract(c).await.map(Checked::Contract),
            Parsed::Transaction(t) => entries::check_transaction(t)
                .await
                .map(Checked::Transaction),
        };
        match entry {
            Ok(entry) => checked.push((*line, entry)),
            Err(e) => refused.push(json!({ "line": line, "reason": reason(&e) })),
        }
    }
    refused.sort_by_key(|r| r["line"].as_i64());
    let ctx = entries::context(&caller, db).await?;
    let id = new_id("SI");
    let at = clock::rfc3339(clock::now());
    let object = format!("sanzi_import:{id}");
    let accepted = checked.len();
    let entered = if checked.is_empty() {
        Vec::new()
    } else {
        audit::audited(
            db,
            &caller,
            Act::done(AuditAction::SanziImport, &object),
            async || {
                let mut entered = Vec::new();
                for (line, entry) in checked {
                    let (entry_id, warnings) = match entry {
                        Checked::Contract(c) => {
                            let id = new_id("SC");
                            let w = entries::enter_contract(db, &ctx, &caller, (&id, c), &at);
                            let w = w.await?;
                            (id, w)
                        }
                        Checked::Transaction(t) => {
                            let id = new_id("ST");
                            let w = entries::enter_transaction(db, &ctx, &caller, (&id, t), &at);
                            let w = w.await?;
                            (id, w)
                        }
                    };
                    entered.push(json!({ "line": line, "id": entry_id, "warnings": warnings }));
                }
                Ok(entered)
            },
        )
        .await?
    };
    let warned: usize = entered
        .iter()
        .map(|e| e["warnings"].as_array().map_or(0, Vec::len))
        .sum();
    eprintln!(
        "{} import {id} of {}: {accepted} {}(s) entered, {} line(s) refused, {warned} warning(s)",
        ledger.noun(),
        caller.org(),
        ledger.noun(),
        refused.len(),
    );
    let status = if accepted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(api::json(
        status,
        &json!({
            "id": id,
            "village": caller.org(),
            "accepted": accepted,
            "entries": entered,
            "refused": refused,
        }),
    ))
}

/// A line's body, checked.
enum Checked<'a> {
    Contract(entries::CheckedContract<'a>),
    Transaction(entries::CheckedTransaction<'a>),
}
