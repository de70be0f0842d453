//! 大数据比对 — big-data screening, for a commission's head and 监督检查室.
//!
//! - `POST /api/v1/screening/imports` — open an import of a roster or a
//!   register (its list, source, period, owner org and the file's SHA-256;
//!   the same file twice is the same import).
//! - `PUT /api/v1/screening/imports/{id}/chunks/{seq}?first_line=N` — one
//!   chunk of the file, CSV or XLSX with its header row; lines are accepted
//!   or refused with the reason, and the same chunk again changes nothing.
//! - `GET /api/v1/screening/imports/{id}` — the import and its progress;
//!   `GET …/refusals` — its refused lines.
//! - `GET|POST /api/v1/screening/rules` — the commission's rules (and the
//!   examples to adopt); adopt a rule.
//! - `POST /api/v1/screening/runs` — run a rule; its ScreeningWorkflow joins
//!   the lists in batches. `GET /api/v1/screening/runs/{id}` — its progress.
//! - `GET /api/v1/screening/hits?run=…&rule=…&state=…` — the suspicious records
//!   (疑点) found, each with its verification task.
//!
//! ID numbers are kept only as a keyed hash and a masked form; names only
//! sealed to the commission. Every write commits with its audit entry, and
//! every read of hits or refused lines is audited.

use jiandu_domain::org::{OrgKind, Role};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::Value;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

mod imports;
mod rules;
mod runs;
mod store;

/// The roles of a commission that screen.
const SCREENERS: &[Role] = &[Role::Head, Role::Supervision];

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
    require_screener(&caller)?;
    let segments: Vec<&str> = path.split('/').skip(4).collect();
    if method == Method::POST
        && let Some(write) = Write::of(&segments)
    {
        let db = &db;
        return idempotency::staff_post(req, db, caller, &path, async |c, input| {
            write.run(c, db, input).await
        })
        .await;
    }
    match (method, segments.as_slice()) {
        (Method::PUT, ["imports", id, "chunks", seq]) => {
            imports::put_chunk(req, &caller, &db, id, seq, &query).await
        }
        (Method::GET, ["imports", id]) => imports::show(&caller, &db, id).await,
        (Method::GET, ["imports", id, "refusals"]) => {
            imports::refusals(&caller, &db, id, &query).await
        }
        (Method::GET, ["rules"]) => rules::list(&caller, &db).await,
        (Method::GET, ["runs", id]) => runs::show(&caller, &db, id).await,
        (Method::GET, ["hits"]) => runs::hits(&caller, &db, &query).await,
        (_, ["imports", _, "chunks", _]) => Err(ApiError::method_not_allowed("PUT")),
        (_, ["imports", _] | ["imports", _, "refusals"] | ["runs", _] | ["hits"]) => {
            Err(ApiError::method_not_allowed("GET"))
        }
        (_, ["rules"]) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, segments) if Write::of(segments).is_some() => Err(ApiError::method_not_allowed("POST")),
        _ => Err(api::no_such_route()),
    }
}

/// The writes with a JSON body (each `POST`, idempotent by `Idempotency-Key`).
enum Write {
    Import,
    Rule,
    Run,
}

impl Write {
    /// The write a path names, if any.
    fn of(segments: &[&str]) -> Option<Self> {
        Some(match *segments {
            ["imports"] => Self::Import,
            ["rules"] => Self::Rule,
            ["runs"] => Self::Run,
            _ => return None,
        })
    }

    async fn run(self, c: Staff, db: &Db, input: Value) -> Result<Reply, ApiError> {
        match self {
            Self::Import => imports::create(input, c, db).await,
            Self::Rule => rules::create(input, c, db).await,
            Self::Run => runs::start(input, c, db).await,
        }
    }
}

/// 403 unless the caller is a commission's head or 监督检查室: screening is
/// the commission's, and everything it holds is its own.
fn require_screener(caller: &Staff) -> Result<(), ApiError> {
    caller.require(SCREENERS)?;
    let commission = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.kind == OrgKind::Commission);
    if commission {
        Ok(())
    } else {
        Err(api::forbidden(
            "only a commission (纪委监委) screens; your org is not one",
        ))
    }
}
