//! 管理 — what a commission's administrators watch.
//!
//! - `GET /api/v1/admin/audit` — the audit log of the caller's commission
//!   and every org below it, newest first, filtered by `actor`, `object`,
//!   `action`, `since`, `until`; paged with `before` (a `seq`) and `limit`.
//!   Reading it is itself an audited action.
//! - `GET /api/v1/admin/outbox` — undelivered work for Temporal about the
//!   matters of the caller's subtree: counts (pending, dead, waiting behind
//!   a dead row) and every dead-lettered row with why it was refused.
//! - `POST /api/v1/admin/outbox/{id}/requeue` — puts a dead row back in
//!   line once its cause is fixed (audited).
//! - `GET /api/v1/admin/overdue` — every open step past its due time in the
//!   caller's subtree, most late first, filtered and paged (`overdue.rs`).
//! - `GET /api/v1/admin/stats?from&to[&org]` — the period's figures for the
//!   caller's subtree or a part of it (`stats.rs`).
//! - `POST /api/v1/admin/exports`, `GET /api/v1/admin/exports/{id}[/file]`
//!   — 台账: the problems, clues or rectifications of the caller's subtree
//!   as CSV or XLSX, written by the worker and served a chunk at a time
//!   (`exports.rs`).

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::{OrgKind, Role};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::json;
use spin_sdk::http::{BoxBody, Method, Request, Response, StatusCode, box_body};
use spin_sdk::http_service;

mod exports;
mod overdue;
mod stats;
mod store;

/// Who administers: a commission's head and its office.
const ADMINISTRATORS: &[Role] = &[Role::Head, Role::Office];

#[http_service]
async fn handle(req: Request) -> Response<BoxBody> {
    let path = req.uri().path().trim_end_matches('/');
    let file = path
        .strip_prefix("/api/v1/admin/exports/")
        .and_then(|rest| rest.strip_suffix("/file"))
        .map(str::to_owned);
    match file {
        Some(id) => download(req, &id)
            .await
            .unwrap_or_else(|e| e.into_reply().map(box_body)),
        None => route(req)
            .await
            .unwrap_or_else(ApiError::into_reply)
            .map(box_body),
    }
}

/// `GET /api/v1/admin/exports/{id}/file`: a streamed file (`exports.rs`).
async fn download(req: Request, id: &str) -> Result<Response<BoxBody>, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::method_not_allowed("GET"));
    }
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    exports::file(caller, db, id).await
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').skip(3).collect();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let query = req.uri().query().unwrap_or_default().to_owned();
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["admin", "audit"]) => audit_log(&caller, &db, &query).await,
        (Method::GET, ["admin", "outbox"]) => outbox(&caller, &db).await,
        (Method::GET, ["admin", "overdue"]) => overdue::list(&caller, &db, &query).await,
        (Method::GET, ["admin", "stats"]) => stats::show(&caller, &db, &query).await,
        (Method::GET, ["admin", "exports", id]) => exports::show(&caller, &db, id).await,
        (Method::POST, ["admin", "exports"]) => {
            let db = &db;
            idempotency::staff_post(req, db, caller, &path, async |c, input| {
                exports::request(input, c, db).await
            })
            .await
        }
        (Method::POST, ["admin", "outbox", id, "requeue"]) => {
            let key = idempotency::key_of(&req)?;
            let scope = format!("{} POST {path}", caller.claims.sub);
            idempotency::staff_write(&db, caller, key, b"", scope, async |c| {
                requeue(&c, &db, id).await
            })
            .await
        }
        (_, ["admin", "audit" | "outbox" | "overdue" | "stats"] | ["admin", "exports", _]) => {
            Err(ApiError::method_not_allowed("GET"))
        }
        (_, ["admin", "exports"]) => Err(ApiError::method_not_allowed("POST")),
        (_, ["admin", "outbox", _, "requeue"]) => Err(ApiError::method_not_allowed("POST")),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            "no such resource; see /api/v1/openapi.json",
        )),
    }
}

/// The orgs an administrator watches — their commission's subtree — or 403
/// (recorded in the audit log as a refused `action` on `object`).
async fn administered(
    caller: &Staff,
    db: &Db,
    action: AuditAction,
    object: &str,
) -> Result<Vec<String>, ApiError> {
    let commission = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.kind == OrgKind::Commission);
    if !commission || !caller.claims.holds_any(ADMINISTRATORS) {
        let error = ApiError::new(
            StatusCode::FORBIDDEN,
            "",
            "this is for a commission's head and office",
        );
        return Err(audit::refuse(db, caller, action, object, error).await);
    }
    Ok(caller
        .tree
        .subtree(caller.org())
        .into_iter()
        .map(|o| o.id.clone())
        .collect())
}

/// The orgs a view covers: the subtree of `root` when one is asked for
/// (404 for an org the tree does not know, 403 outside the caller's
/// `administered` subtree), else the caller's whole subtree.
fn subtree_of(
    caller: &Staff,
    root: Option<&str>,
    administered: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    match root {
        None => Ok(administered),
        Some(root) if caller.tree.get(root).is_none() => Err(staff::hidden("org")),
        Some(root) if !administered.iter().any(|o| o == root) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "/org",
            format!("{root} is not in the subtree of {}", caller.org()),
        )),
        Some(root) => Ok(caller
            .tree
            .subtree(root)
            .into_iter()
            .map(|o| o.id.clone())
            .collect()),
    }
}

/// `GET /api/v1/admin/audit`.
async fn audit_log(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let object = format!("audit:{}", caller.org());
    let orgs = administered(caller, db, AuditAction::AuditRead, &object).await?;
    let filter = store::Filter::parse(query)?;
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

/// Whether an outbox row's matter is in `orgs`; a row whose matter is
/// unknown belongs to no one below the top and is shown at the top only.
fn watched(row_org: Option<&str>, orgs: &[String], caller: &Staff) -> bool {
    match row_org {
        Some(org) => orgs.iter().any(|o| o == org),
        None => caller
            .tree
            .get(caller.org())
            .is_some_and(|o| o.parent.is_none()),
    }
}

/// `GET /api/v1/admin/outbox`.
async fn outbox(caller: &Staff, db: &Db) -> Result<Reply, ApiError> {
    let object = format!("outbox:{}", caller.org());
    let orgs = administered(caller, db, AuditAction::OutboxRead, &object).await?;
    let mut counts = json!({ "pending": 0, "dead": 0, "waiting": 0 });
    for row in store::outbox_counts(db).await? {
        if watched(row.text("org"), &orgs, caller) {
            let n = counts[row.str("state")].as_i64().unwrap_or(0) + row.int("n").unwrap_or(0);
            counts[row.str("state")] = json!(n);
        }
    }
    let dead: Vec<_> = store::dead_rows(db)
        .await?
        .iter()
        .filter(|r| watched(r.text("org"), &orgs, caller))
        .map(|r| {
            json!({
                "id": r.int("id"),
                "kind": r.str("kind"),
                "workflow_type": r.text("workflow_type"),
                "workflow_id": r.str("workflow_id"),
                "signal": r.text("signal_name"),
                "org": r.text("org"),
                "attempts": r.int("attempts"),
                "last_error": r.text("last_error"),
                "created_at": r.str("created_at"),
                "dead_at": r.str("dead_at"),
            })
        })
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({ "counts": counts, "dead": dead }),
    ))
}

/// `POST /api/v1/admin/outbox/{id}/requeue`.
async fn requeue(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let object = format!("outbox:{id}");
    let action = AuditAction::OutboxRequeue;
    let orgs = administered(caller, db, action, &object).await?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "", "no such dead-lettered row");
    let row_id: i64 = id.parse().map_err(|_| not_found())?;
    let dead = store::dead_rows(db).await?;
    let row = dead
        .iter()
        .find(|r| r.int("id") == Some(row_id) && watched(r.text("org"), &orgs, caller))
        .ok_or_else(not_found)?;
    let workflow = row.str("workflow_id").to_owned();
    let requeued = audit::audited(db, caller, Act::done(action, &object), async || {
        store::requeue(db, row_id).await
    })
    .await?;
    if !requeued {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "",
            "the row is no longer dead-lettered",
        ));
    }
    eprintln!(
        "outbox row {row_id} of {workflow} requeued (request {})",
        caller.request_id
    );
    Ok(api::json(
        StatusCode::ACCEPTED,
        &json!({ "id": row_id, "workflow_id": workflow, "requeued": true }),
    ))
}
