//! `POST /api/v1/reports/{receipt_code}/feedback`: once told the result, the
//! reporter rates the answer or objects to it (检控 Art. 27); an objection
//! with new evidence reopens the report.

use std::sync::OnceLock;

use jiandu_domain::flow::{EventKind, FlowEvent, REPORT_WORKFLOW};
use jiandu_domain::report::ReportStatus;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::schema::Schema;
use jiandu_guest::{clock, outbox, seal};
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
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::compile(include_str!("../../../schemas/feedback.json")))
}

pub(crate) async fn give(req: Request, receipt_code: &str) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let report = open_report(&db, &req, receipt_code).await?;
    let (value, _) = api::read_json(req).await?;
    schema()
        .check(&value)
        .map_err(|errors| ApiError::fields(StatusCode::BAD_REQUEST, errors))?;
    let input: Feedback = serde_json::from_value(value)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "", e.to_string()))?;
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
    let key = seal::base32(&seal::random_bytes::<10>(), 16);
    let event = FlowEvent {
        key: format!("feedback:{key}"),
        kind: EventKind::Feedback {
            rating: input.rating,
            objection: input.objection,
            new_evidence: input.new_evidence,
        },
    };
    let report_id = report.str("id");
    outbox::signal_workflow(
        &db,
        REPORT_WORKFLOW,
        report_id,
        &event,
        &clock::rfc3339(clock::now()),
    )
    .await?;
    Ok(api::json(
        StatusCode::ACCEPTED,
        &json!({ "event": event.key, "status": "accepted" }),
    ))
}
