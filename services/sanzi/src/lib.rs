//! 三资 — a village's funds, assets and resources: its leases and its
//! payments and receipts, entered by the village's staff and checked on
//! every write against the county commission's risk rules (data, with
//! thresholds). A rule that fires is a warning: a task for the township's
//! 三资 office, on the escalation ladder, with the commission watching.
//!
//! - `POST /api/v1/sanzi/contracts` — a village's lease, with its warnings.
//! - `POST /api/v1/sanzi/transactions` — a village's payment or receipt, with its warnings.
//! - `POST /api/v1/sanzi/imports/{contracts|transactions}` — a village's
//!   ledger as CSV or XLSX, each line entered as above or refused with why.
//! - `GET|POST /api/v1/sanzi/rules` — the commission's risk rules (and the
//!   examples to adopt); adopt a rule (a commission's head or 监督检查室).
//! - `GET /api/v1/sanzi/warnings?village=…&state=…` — warnings, audited;
//!   `GET /api/v1/sanzi/warnings/{id}` — one, with its events.
//!
//! A person's ID number is kept only as a keyed hash (matched against the
//! screening registers of village cadres and their relatives) and masked.

use jiandu_domain::org::Role;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::Value;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

mod entries;
mod imports;
mod rules;
mod store;
mod warnings;

/// Who enters a village's contracts and money: its staff and its head.
const KEEPERS: &[Role] = &[Role::Staff, Role::Head];

/// Who adopts a commission's risk rules.
const RULE_MAKERS: &[Role] = &[Role::Head, Role::Supervision];

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let method = req.method().clone();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let segments: Vec<&str> = path.split('/').skip(4).collect();
    if let ["imports", ledger] = segments.as_slice()
        && let Some(ledger) = imports::Ledger::of(ledger)
    {
        if method != Method::POST {
            return Err(ApiError::method_not_allowed("POST"));
        }
        entries::require_village(&caller, KEEPERS)?;
        let key = idempotency::key_of(&req)?;
        let content_type = api::header(&req, "content-type").map(str::to_owned);
        let bytes = api::read_body(req).await?;
        let scope = format!("{} POST {path}", caller.claims.sub);
        return idempotency::staff_write(&db, caller, key, &bytes, scope, async |c| {
            imports::import(c, &db, ledger, content_type.as_deref(), &bytes).await
        })
        .await;
    }
    if method == Method::POST
        && let Some(write) = Write::of(&segments)
    {
        write.authorize(&caller)?;
        let db = &db;
        return idempotency::staff_post(req, db, caller, &path, async |c, input| {
            write.run(c, db, input).await
        })
        .await;
    }
    match (method, segments.as_slice()) {
        (Method::GET, ["rules"]) => rules::list(&caller, &db).await,
        (Method::GET, ["warnings"]) => warnings::list(&caller, &db, &query).await,
        (Method::GET, ["warnings", id]) => warnings::show(&caller, &db, id).await,
        (_, ["rules"]) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, ["warnings"] | ["warnings", _]) => Err(ApiError::method_not_allowed("GET")),
        (_, segments) if Write::of(segments).is_some() => Err(ApiError::method_not_allowed("POST")),
        _ => Err(api::no_such_route()),
    }
}

/// The writes with a JSON body (each `POST`, idempotent by `Idempotency-Key`).
enum Write {
    Contract,
    Transaction,
    Rule,
}

impl Write {
    /// The write a path names, if any.
    fn of(segments: &[&str]) -> Option<Self> {
        Some(match *segments {
            ["contracts"] => Self::Contract,
            ["transactions"] => Self::Transaction,
            ["rules"] => Self::Rule,
            _ => return None,
        })
    }

    /// 403 unless the caller may make this write at all.
    fn authorize(&self, caller: &Staff) -> Result<(), ApiError> {
        match self {
            Self::Contract | Self::Transaction => entries::require_village(caller, KEEPERS),
            Self::Rule => rules::require_commission(caller, RULE_MAKERS),
        }
    }

    async fn run(self, c: Staff, db: &Db, input: Value) -> Result<Reply, ApiError> {
        match self {
            Self::Contract => entries::contract(input, c, db).await,
            Self::Transaction => entries::transaction(input, c, db).await,
            Self::Rule => rules::create(input, c, db).await,
        }
    }
}
