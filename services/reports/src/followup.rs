//! `GET /api/v1/reports/{receipt_code}`: a reporter follows up a report.
//!
//! The secret (`X-Receipt-Secret`) is the one shown once when the report was
//! submitted, real-name or anonymous; a phone number is no secret. A wrong secret and
//! an unknown receipt get the same 404, and after [`MAX_FAILURES`] failures in
//! [`WINDOW_SECS`] the receipt code is refused (429) until the window ends —
//! per code, not per client address, so a gateway in front cannot turn one
//! guesser into a lock-out for every reporter behind it.

use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::{clock, seal};
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::store;

/// Failed follow-ups a client may make per window.
const MAX_FAILURES: i64 = 5;
/// The throttling window.
const WINDOW_SECS: i64 = 15 * 60;

/// The report a receipt code and its secret open, or the same 404 for an
/// unknown code and a wrong secret; failures count towards throttling.
pub(crate) async fn open_report(
    db: &Db,
    req: &Request,
    receipt_code: &str,
) -> Result<Row, ApiError> {
    let secret = api::header(req, "x-receipt-secret")
        .unwrap_or("")
        .trim()
        .to_owned();
    if secret.is_empty() {
        // The secret is the reporter's credential: without one, 401.
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "",
            "send the secret shown when the report was made as `X-Receipt-Secret`",
        ));
    }
    let code = receipt_code.to_ascii_uppercase();
    let now = clock::now().unix_timestamp();
    throttle(db, &code, now).await?;

    let rows = store::reports_by_receipt(db, &code).await?;
    let presented = seal::sha256(secret.to_ascii_uppercase().as_bytes());
    let found = rows.into_iter().find(|row| {
        let expected = row.blob("followup_hash").unwrap_or_default();
        seal::same(&presented, expected)
    });
    match found {
        Some(row) => Ok(row),
        None => {
            record_failure(db, &code, now).await?;
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "",
                "no report matches this receipt code and secret",
            ))
        }
    }
}

pub(crate) async fn follow_up(req: Request, receipt_code: &str) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let row = open_report(&db, &req, receipt_code).await?;
    let timeline = store::timeline(&db, row.str("id")).await?;
    let mut body = json!({
        "receipt_code": receipt_code.to_ascii_uppercase(),
        "status": row.text("status"),
        "received_at": row.text("received_at"),
        "timeline": timeline,
    });
    if let Some(due) = row.text("acceptance_due") {
        body["acceptance_due"] = json!({
            "date": due,
            "article": jiandu_domain::deadline::ACCEPTANCE_NOTICE.article,
            "estimated": row.flag("due_estimated"),
        });
    }
    Ok(api::json(StatusCode::OK, &body))
}

/// 429 while `code` has had [`MAX_FAILURES`] failures in the current window.
async fn throttle(db: &Db, code: &str, now: i64) -> Result<(), ApiError> {
    if let Some(row) = store::followup_failures(db, code).await? {
        let window_start = row.int("window_start").unwrap_or(0);
        if now - window_start < WINDOW_SECS && row.int("failures").unwrap_or(0) >= MAX_FAILURES {
            let retry_after = WINDOW_SECS - (now - window_start);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "",
                "too many failed follow-ups of this receipt; wait and try again",
            )
            .with_header("retry-after", retry_after.to_string()));
        }
    }
    Ok(())
}

/// Counts a failure against `code` in one statement, and forgets windows
/// that have ended.
async fn record_failure(db: &Db, code: &str, now: i64) -> Result<(), ApiError> {
    store::count_followup_failure(db, code, now, WINDOW_SECS).await?;
    Ok(())
}
