//! `POST /api/v1/reports/{receipt_code}/feedback`: once told the result, the
//! reporter rates the answer or objects to it (检控 Art. 27); an objection
//! with new evidence reopens the report.

use jiandu_domain::flow::{EventKind, FlowEvent, REPORT_WORKFLOW};
use jiandu_domain::report::ReportStatus;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::schema::Schema;
use jiandu_guest::{clock, idempotency, outbox, seal};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::followup::open_report;

#[derive(Deserialize)]
struct Feedback {
    rating: Option<u8>,
    objection: Option<String>,
    #[serde(default)]
    new_evidence: bool,
}

fn schema() -> &'static Schema {
    jiandu_guest::schema!("feedback.json")
}

/// `POST /api/v1/reports/{receipt_code}/feedback`: the reporter rates the
/// answer or objects to it. With an `Idempotency-Key`, a retry gets the first
/// answer and signals nothing twice.
pub(crate) async fn give(req: Request, receipt_code: &str) -> Result<Reply, ApiError> {
    let key = idempotency::key_of(&req)?;
    let db = Db::open().await?;
    let report = open_report(&db, &req, receipt_code).await?;
    let (value, raw) = api::read_json(req).await?;
    let scope = format!(
        "POST /api/v1/reports/{}/feedback",
        receipt_code.to_ascii_uppercase()
    );
    let request_hash = hex::encode(seal::sha256(&raw));
    if let Some(key) = &key
        && let Some(stored) = idempotency::lookup(&db, &scope, key, &request_hash).await?
    {
        return Ok(replay(stored));
    }
    let input: Feedback = schema().parse(value)?;
    let status = report.str("status");
    if status != ReportStatus::Concluded.as_str() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "",
            format!(
                "the report is `{status}`; feedback is taken once its result is given (`concluded`)"
            ),
        ));
    }
    let event = FlowEvent {
        key: format!("feedback:{}", seal::base32(&seal::random_bytes::<10>(), 16)),
        kind: EventKind::Feedback {
            rating: input.rating,
            objection: input.objection,
            new_evidence: input.new_evidence,
        },
    };
    let answer = json!({ "event": event.key, "status": "accepted" });
    let now = clock::rfc3339(clock::now());
    db.begin().await?;
    let written = async {
        outbox::signal_workflow(&db, REPORT_WORKFLOW, report.str("id"), &event, &now).await?;
        if let Some(key) = &key {
            idempotency::record(&db, &scope, key, &request_hash, 202, &answer, &now).await?;
        }
        db.commit().await
    }
    .await;
    if let Err(e) = written {
        // A concurrent retry with the same key may have won the race: answer as it did.
        let stored =
            idempotency::after_failed_write(&db, e, &scope, key.as_deref(), &request_hash).await?;
        return Ok(replay(stored));
    }
    Ok(api::json(StatusCode::ACCEPTED, &answer))
}

/// The first answer to a retried request.
fn replay(stored: idempotency::Stored) -> Reply {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::ACCEPTED);
    let mut reply = api::json(status, &stored.body);
    reply
        .headers_mut()
        .insert("idempotent-replayed", "true".parse().expect("valid header"));
    reply
}
