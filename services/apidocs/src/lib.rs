//! Serves the API's description: `GET /api/v1/schemas/{file}` returns one of
//! the files in `schemas/` (the OpenAPI document and the JSON Schemas it
//! references); `GET /api/v1/openapi.json` redirects to the document there,
//! so its relative `$ref`s resolve.

use spin_sdk::http::{Method, Request, Response, StatusCode};
use spin_sdk::http_service;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

#[http_service]
async fn handle(req: Request) -> Response<String> {
    let path = req.uri().path().to_owned();
    if req.method() != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use GET here");
    }
    if path == "/api/v1/openapi.json" {
        return Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header("location", "/api/v1/schemas/openapi.json")
            .body(String::new())
            .expect("valid response");
    }
    let name = path.strip_prefix("/api/v1/schemas/").unwrap_or_default();
    match SCHEMAS.iter().find(|(file, _)| *file == name) {
        Some((_, text)) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("cache-control", "public, max-age=300")
            .body((*text).to_owned())
            .expect("valid response"),
        None => error(StatusCode::NOT_FOUND, "no such schema"),
    }
}

fn error(status: StatusCode, message: &str) -> Response<String> {
    let body = format!(r#"{{"errors":[{{"pointer":"","message":"{message}"}}]}}"#);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body)
        .expect("valid response")
}
