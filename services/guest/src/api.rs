//! HTTP helpers: the API's error shape, JSON replies, reading JSON bodies.

use bytes::Bytes;

mod json_shape;
use jiandu_domain::FieldError;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{FullBody, Request, Response, StatusCode};

/// What a handler returns.
pub type Reply = Response<FullBody<Bytes>>;

/// A failed request: a status and every problem found, each with its JSON pointer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status (4xx or 5xx).
    pub status: StatusCode,
    /// The problems.
    pub errors: Vec<FieldError>,
    /// Extra headers, e.g. `Retry-After`.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// One problem at `pointer`.
    pub fn new(status: StatusCode, pointer: &str, message: impl Into<String>) -> Self {
        Self::fields(status, vec![FieldError::new(pointer, message)])
    }

    /// Several problems.
    pub fn fields(status: StatusCode, errors: Vec<FieldError>) -> Self {
        Self {
            status,
            errors,
            headers: Vec::new(),
        }
    }

    /// A server-side failure; `context` is logged, the client sees a generic message.
    pub fn internal(context: impl std::fmt::Display) -> Self {
        eprintln!("internal error: {context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            "the server could not complete the request; nothing was stored, retry later",
        )
    }

    /// 405 with `Allow`: the resource exists, the method does not.
    pub fn method_not_allowed(allowed: &'static str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "",
            format!("use {allowed} here"),
        )
        .with_header("allow", allowed.to_owned())
    }

    /// The first problem's message, for a log or an audit entry.
    pub fn message(&self) -> &str {
        self.errors.first().map_or("", |e| e.message.as_str())
    }

    /// Adds a header to the reply.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The reply the client sees: `{"errors":[{"pointer","message"}]}`.
    pub fn into_reply(self) -> Reply {
        let body = serde_json::json!({ "errors": self.errors });
        let mut reply = json(self.status, &body);
        for (name, value) in self.headers {
            if let Ok(value) = value.parse() {
                reply.headers_mut().insert(name, value);
            }
        }
        reply
    }
}

/// 403 with a reason.
pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "", message)
}

/// 409: the thing is in `state`, where only `allowed` may be done.
pub fn conflict(what: &str, state: &str, allowed: &[&str]) -> ApiError {
    let allowed = if allowed.is_empty() {
        "nothing".to_owned()
    } else {
        allowed.join(", ")
    };
    ApiError::new(
        StatusCode::CONFLICT,
        "",
        format!("{what} is `{state}`; allowed now: {allowed}"),
    )
}

/// 404 for a path no route of the component serves.
pub fn no_such_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "",
        "no such resource or method; see /api/v1/openapi.json",
    )
}

/// 202: a write that a workflow will act on.
pub fn accepted(body: &serde_json::Value) -> Reply {
    json(StatusCode::ACCEPTED, body)
}

/// A JSON reply.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Reply {
    let bytes = serde_json::to_vec(body).expect("API bodies serialize");
    let mut reply = Response::new(FullBody::new(Bytes::from(bytes)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        "content-type",
        "application/json".parse().expect("valid header"),
    );
    reply
}

/// A request header as text.
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The path below the component's route (`spin-path-info`).
pub fn path_info(req: &Request) -> String {
    header(req, "spin-path-info").unwrap_or("").to_owned()
}

/// Reads a body whole (the host has already refused one over its limit, 413).
pub async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    req.into_body().bytes().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "",
            format!("the body could not be read: {e:?}"),
        )
    })
}

/// Reads a JSON body: the wrong content type or text that is not JSON is a
/// 415, so a client learns at once that the body could not be read at all.
pub async fn read_json(req: Request) -> Result<(serde_json::Value, Bytes), ApiError> {
    let is_json = header(&req, "content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "",
            "send the body as JSON with `Content-Type: application/json`",
        ));
    }
    let bytes = read_body(req).await?;
    if let Err(problem) = json_shape::check(&bytes) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "", problem));
    }
    let value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "",
            format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok((value, bytes))
}
