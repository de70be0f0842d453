//! 检举控告 after intake: what reporters and staff read and say about a
//! report once it is stored.
//!
//! - `GET /api/v1/reports/{receipt_code}` with `X-Receipt-Secret` — the
//!   reporter follows up (`followup.rs`).
//! - `POST /api/v1/reports/{receipt_code}/feedback` with `X-Receipt-Secret` —
//!   the reporter rates the answer or objects to it (`feedback.rs`).
//! - `GET /api/v1/reports/{id}` (an `rpt_` id, staff token) — content,
//!   category, subject and timeline, for the orgs and roles whose tasks
//!   concern it (`views.rs`).
//! - `POST /api/v1/reports/{id}/identity-views` (staff token, a stated
//!   reason) — the reporter's identity, for the reading commission's 信访室
//!   and head.
//!
//! Every staff read is written to the audit log before the answer leaves,
//! and so is every refusal. This is the one component given the
//! commissions' private keys (`reader_keys`); `POST /api/v1/reports` is the
//! intake component's, which holds public keys only.

use std::sync::OnceLock;

use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::seal::ReaderKeys;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

mod feedback;
mod followup;
mod store;
mod views;

/// The prefix of report ids; receipt codes never start with it.
const REPORT_ID_PREFIX: &str = "rpt_";

#[http_service]
async fn handle(req: Request) -> Reply {
    let path = api::path_info(&req);
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let method = req.method().clone();
    let result = match (
        method,
        segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        (Method::GET, [id]) if id.starts_with(REPORT_ID_PREFIX) => views::show(req, id).await,
        (Method::GET, [code]) if !code.is_empty() => followup::follow_up(req, code).await,
        (Method::POST, [id, "identity-views"]) => views::view_identity(req, id).await,
        (Method::POST, [code, "feedback"]) => feedback::give(req, code).await,
        (_, [one]) if !one.is_empty() => Err(ApiError::method_not_allowed("GET")),
        (_, [_, "identity-views" | "feedback"]) => Err(ApiError::method_not_allowed("POST")),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "", "no such resource")),
    };
    result.unwrap_or_else(ApiError::into_reply)
}

/// The commissions' private keys, read once per instance from the secret
/// variable `reader_keys`.
async fn reader_keys() -> Result<&'static ReaderKeys, ApiError> {
    static KEYS: OnceLock<ReaderKeys> = OnceLock::new();
    jiandu_guest::variables::cached(&KEYS, "reader_keys", |t| {
        ReaderKeys::parse(t).map_err(|e| e.to_string())
    })
    .await
}
