//! 信访举报 — report intake: the public submits a report (检举控告).
//!
//! `POST /api/v1/reports` answers 201 only once the report and its workflow
//! start are committed together. The reporter's identity — and all of an
//! Art. 15 report's substance — is sealed to the reading commission's
//! public key before it is stored: this component holds public keys only
//! (`sealing_keys`) and cannot open what it stored. Follow-up, feedback and
//! staff reads are the `reports` component's. Anonymous submissions are
//! rate-limited by text and by division (`limits.rs`), never by address.

use std::sync::OnceLock;

use jiandu_guest::api::{self, ApiError, Reply};

use jiandu_guest::variables;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

mod limits;
mod store;
mod submit;

#[http_service]
async fn handle(req: Request) -> Reply {
    let result = match (
        req.method().clone(),
        api::path_info(&req).trim_end_matches('/'),
    ) {
        (Method::POST, "") => submit::submit(req).await,
        (_, "") => Err(ApiError::method_not_allowed("POST")),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "", "no such resource")),
    };
    result.unwrap_or_else(ApiError::into_reply)
}

/// The limits on anonymous submissions (`anonymous_limits`).
async fn anonymous_limits() -> Result<&'static limits::Limits, ApiError> {
    static LIMITS: OnceLock<limits::Limits> = OnceLock::new();
    variables::cached(&LIMITS, "anonymous_limits", limits::Limits::parse).await
}
