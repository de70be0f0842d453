//! 信访举报 — report intake: the public submits a report (检举控告) and follows it up.
//!
//! - `POST /api/v1/reports` — submit; answers 201 only once the report and its
//!   workflow start are committed together.
//! - `GET /api/v1/reports/{receipt_code}` with `X-Receipt-Secret` — follow up.
//! - `POST /api/v1/reports/{receipt_code}/feedback` with `X-Receipt-Secret` —
//!   rate the answer or object to it; an objection with new evidence reopens it.

use std::sync::OnceLock;

use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::seal::IdentityKey;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

mod feedback;
mod followup;
mod submit;

#[http_service]
async fn handle(req: Request) -> Reply {
    let path = api::path_info(&req);
    let result = match (req.method().clone(), path.trim_end_matches('/')) {
        (Method::POST, "") => submit::submit(req).await,
        (Method::GET, code) if is_single_segment(code) => {
            followup::follow_up(req, &code[1..]).await
        }
        (Method::POST, path)
            if path.ends_with("/feedback") && is_single_segment(&path[..path.len() - 9]) =>
        {
            feedback::give(req, &path[1..path.len() - 9]).await
        }
        (_, "") => Err(method_not_allowed("POST")),
        (_, code) if is_single_segment(code) => Err(method_not_allowed("GET")),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "", "no such resource")),
    };
    result.unwrap_or_else(ApiError::into_reply)
}

fn is_single_segment(path: &str) -> bool {
    path.len() > 1 && path.starts_with('/') && !path[1..].contains('/')
}

fn method_not_allowed(allowed: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "",
        format!("use {allowed} here"),
    )
    .with_header("allow", allowed.to_owned())
}

/// The key that seals reporters' identities, read once per instance from the
/// secret variable `identity_key`.
async fn identity_key() -> Result<&'static IdentityKey, ApiError> {
    static KEY: OnceLock<IdentityKey> = OnceLock::new();
    if let Some(key) = KEY.get() {
        return Ok(key);
    }
    let text = spin_sdk::variables::get("identity_key")
        .await
        .map_err(|e| ApiError::internal(format!("identity_key variable: {e:?}")))?;
    let key = IdentityKey::from_base64(&text).map_err(ApiError::internal)?;
    Ok(KEY.get_or_init(|| key))
}
