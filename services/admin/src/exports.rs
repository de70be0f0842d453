//! 台账导出 — ledger exports. An administrator asks for a ledger (problems,
//! clues or rectifications) of their subtree as CSV or XLSX; the export is
//! recorded with its audit entry and outbox row, the worker's
//! ExportWorkflow writes the file, and the file is served from the
//! database a chunk at a time, so the component never holds more than one
//! chunk of it, however many rows there are.
//!
//! - `POST /api/v1/admin/exports` — ask for one: 202 with its status.
//! - `GET /api/v1/admin/exports/{id}` — its state and progress.
//! - `GET /api/v1/admin/exports/{id}/file` — the finished file.

use bytes::Bytes;
use futures::SinkExt as _;
use futures::StreamExt as _;
use futures::channel::mpsc;
use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{EXPORT_WORKFLOW, ExportRequested};
use jiandu_domain::ledger::{ExportState, LedgerFormat, LedgerKind};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, outbox, seal};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{BoxBody, Response, StatusCode, box_body};

use crate::{administered, store, subtree_of};

#[derive(Deserialize)]
struct ExportBody {
    ledger: LedgerKind,
    format: LedgerFormat,
    org: Option<String>,
}

/// `POST /api/v1/admin/exports`: records the export, its audit entry and
/// the start of its workflow in one transaction.
pub(crate) async fn request(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    let action = AuditAction::LedgerExport;
    let watched = administered(&caller, db, action, &format!("ledgers:{}", caller.org())).await?;
    let input: ExportBody = jiandu_guest::schema!("ledger-export.json").parse(input)?;
    let object = format!("ledger:{}:{}", input.ledger, caller.org());
    let orgs = subtree_of(&caller, input.org.as_deref(), watched)?;
    let id = seal::new_id("X");
    let at = clock::rfc3339(clock::now());
    let export = store::NewExport {
        id: &id,
        ledger: input.ledger,
        format: input.format,
        org: caller.org(),
        scope: input.org.as_deref(),
        orgs: &orgs,
        by: &caller.claims.sub,
        at: &at,
    };
    let started = ExportRequested {
        export_id: id.clone(),
    };
    let act = Act::done(action, &object).detail(input.org.as_deref());
    audit::audited(db, &caller, act, async || {
        store::insert_export(db, &export).await?;
        outbox::start_workflow(db, EXPORT_WORKFLOW, &id, &started, &at).await
    })
    .await?;
    eprintln!(
        "export {id} of the {} ledger as {} asked for by {} (request {})",
        input.ledger, input.format, caller.claims.sub, caller.request_id
    );
    let row = find(&caller, db, &id).await?;
    Ok(api::accepted(&status_json(&row)))
}

/// `GET /api/v1/admin/exports/{id}`.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let object = format!("export:{id}");
    administered(caller, db, AuditAction::LedgerDownload, &object).await?;
    let row = find(caller, db, id).await?;
    Ok(api::json(StatusCode::OK, &status_json(&row)))
}

/// `GET /api/v1/admin/exports/{id}/file`: 409 until it is done; then the
/// download is audited before its first byte leaves, and its chunks follow
/// one at a time.
pub(crate) async fn file(caller: Staff, db: Db, id: &str) -> Result<Response<BoxBody>, ApiError> {
    let object = format!("export:{id}");
    let action = AuditAction::LedgerDownload;
    administered(&caller, &db, action, &object).await?;
    let row = find(&caller, &db, id).await?;
    let state = row.str("state");
    if state != ExportState::Done.as_str() {
        return Err(api::conflict(
            "the export",
            state,
            &["wait until it is done (GET /api/v1/admin/exports/{id})"],
        ));
    }
    let format = LedgerFormat::parse(row.str("format"))
        .ok_or_else(|| ApiError::internal("an export's format is unknown"))?;
    audit::record(&db, &caller, Act::done(action, &object)).await?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, anyhow::Error>>(2);
    spin_sdk::wasip3::spawn(send_chunks(db, id.to_owned(), tx));
    let body = http_body_util::StreamBody::new(rx.map(|r| r.map(http_body::Frame::data)));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", format.content_type())
        .header("content-length", row.int("bytes").unwrap_or(0).to_string())
        .header(
            "content-disposition",
            format!("attachment; filename=\"{}.{format}\"", row.str("ledger")),
        )
        .body(box_body(body))
        .map_err(ApiError::internal)
}

/// The export `id` if the caller's commission asked for it; else 404.
async fn find(caller: &Staff, db: &Db, id: &str) -> Result<Row, ApiError> {
    store::export(db, id)
        .await?
        .filter(|r| r.str("org") == caller.org())
        .ok_or_else(|| staff::hidden("export"))
}

fn status_json(row: &Row) -> serde_json::Value {
    let id = row.str("id");
    json!({
        "id": id,
        "ledger": row.str("ledger"),
        "format": row.str("format"),
        "org": row.str("org"),
        "scope": row.text("scope"),
        "state": row.str("state"),
        "requested_by": row.str("requested_by"),
        "requested_at": row.str("requested_at"),
        "rows_total": row.int("rows_total"),
        "rows_written": row.int("rows_written").unwrap_or(0),
        "bytes": row.int("bytes"),
        "finished_at": row.text("finished_at"),
        "error": row.text("error"),
        "file": format!("/api/v1/admin/exports/{id}/file"),
    })
}

/// Sends the stored chunks in order; a failed read ends the body with an
/// error, so a client never takes a cut-off file for a whole one.
async fn send_chunks(db: Db, id: String, mut tx: mpsc::Sender<Result<Bytes, anyhow::Error>>) {
    for seq in 0.. {
        let chunk = match store::export_chunk(&db, &id, seq).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return,
            Err(e) => {
                eprintln!("export {id} stopped at chunk {seq}: {e}");
                let _ = tx
                    .send(Err(anyhow::anyhow!("the export could not be read")))
                    .await;
                return;
            }
        };
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return;
        }
    }
}
