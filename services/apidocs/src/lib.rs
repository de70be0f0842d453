//! Serves the API's description: `GET /api/v1/schemas/{file}` returns one of
//! the files in `schemas/` (the OpenAPI document and the JSON Schemas it
//! references); `GET /api/v1/openapi.json` returns the document with its
//! file `$ref`s made relative to `/api/v1/` (`schemas/clue.json`), so a
//! tool that loads it by that URL resolves every reference — a redirect is
//! not enough, as tools resolve against the URL they asked for.

use spin_sdk::http::{Method, Request, Response, StatusCode};
use spin_sdk::http_service;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

#[http_service]
async fn handle(req: Request) -> Response<String> {
    let path = req.uri().path().to_owned();
    if req.method() != Method::GET {
        let mut reply = error(StatusCode::METHOD_NOT_ALLOWED, "use GET here");
        reply
            .headers_mut()
            .insert("allow", "GET".parse().expect("a valid header"));
        return reply;
    }
    let document = SCHEMAS
        .iter()
        .find(|(file, _)| *file == "openapi.json")
        .map(|(_, text)| *text);
    let body = if path == "/api/v1/openapi.json" {
        document.map(rebase)
    } else {
        let name = path.strip_prefix("/api/v1/schemas/").unwrap_or_default();
        SCHEMAS
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, text)| (*text).to_owned())
    };
    match body {
        Some(text) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("cache-control", "public, max-age=300")
            .body(text)
            .expect("valid response"),
        None => error(StatusCode::NOT_FOUND, "no such schema"),
    }
}

/// The document with each file `$ref` (`clue.json`) made relative to
/// `/api/v1/` (`schemas/clue.json`); `#/…` references stay as they are.
fn rebase(document: &str) -> String {
    const REF: &str = "\"$ref\": \"";
    let mut out = String::with_capacity(document.len() + 4096);
    let mut rest = document;
    while let Some(at) = rest.find(REF) {
        let (before, after) = rest.split_at(at + REF.len());
        out.push_str(before);
        if !after.starts_with('#') {
            out.push_str("schemas/");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn error(status: StatusCode, message: &str) -> Response<String> {
    let body = format!(r#"{{"errors":[{{"pointer":"","message":"{message}"}}]}}"#);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body)
        .expect("valid response")
}
