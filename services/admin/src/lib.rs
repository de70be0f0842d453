//! 管理 — what a commission's administrators watch.
//!
//! - `GET /api/v1/admin/audit` — the audit log of the caller's commission
//!   and every org below it, newest first, filtered by `actor`, `object`,
//!   `action`, `since`, `until`; paged with `before` (a `seq`) and `limit`.
//!   Reading it is itself an audited action.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::{OrgKind, Role};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::staff::{self, Staff};
use serde_json::json;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

mod store;

/// Who may read the audit log: a commission's head and its office.
const AUDIT_READERS: &[Role] = &[Role::Head, Role::Office];

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').skip(3).collect();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let query = req.uri().query().unwrap_or_default().to_owned();
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["admin", "audit"]) => audit_log(&caller, &db, &query).await,
        (_, ["admin", "audit"]) => {
            Err(
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "", "use GET here")
                    .with_header("allow", "GET".to_owned()),
            )
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            "no such resource; see /api/v1/openapi.json",
        )),
    }
}

/// `GET /api/v1/admin/audit`.
async fn audit_log(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let object = format!("audit:{}", caller.org());
    let commission = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.kind == OrgKind::Commission);
    if !commission || !caller.claims.holds_any(AUDIT_READERS) {
        let error = ApiError::new(
            StatusCode::FORBIDDEN,
            "",
            "the audit log is for a commission's head and office",
        );
        return Err(audit::refuse(db, caller, AuditAction::AuditRead, &object, error).await);
    }
    let filter = store::Filter::parse(query)?;
    let orgs: Vec<String> = caller
        .tree
        .subtree(caller.org())
        .into_iter()
        .map(|o| o.id.clone())
        .collect();
    let rows = store::entries(db, &filter, &orgs).await?;
    let entries: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "seq": r.int("seq"),
                "at": r.str("at"),
                "actor": r.str("actor"),
                "actor_org": r.str("actor_org"),
                "actor_roles": r.str("actor_roles").split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "action": r.str("action"),
                "object": r.str("object"),
                "request_id": r.str("request_id"),
                "outcome": r.str("outcome"),
                "detail": r.text("detail"),
                "hash": hex::encode(r.blob("hash").unwrap_or_default()),
            })
        })
        .collect();
    let next_before = (rows.len() == filter.limit)
        .then(|| rows.last().and_then(|r| r.int("seq")))
        .flatten();
    let checkpoint = store::last_checkpoint(db).await?;
    let detail = (!query.is_empty()).then_some(query);
    let act = Act::done(AuditAction::AuditRead, &object).detail(detail);
    audit::record(db, caller, act).await?;
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "entries": entries,
            "next_before": next_before,
            "last_checkpoint": checkpoint,
        }),
    ))
}
