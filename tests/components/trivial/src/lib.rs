//! Answers every request with `200 ok`. It uses no Spin interface, so the
//! same file runs under `wasmtime serve`: the benchmark compares the host
//! with it on exactly this component.

use spin_sdk::http::StatusCode;
use spin_sdk::http_service;

#[http_service]
async fn handle(_req: spin_sdk::http::Request) -> (StatusCode, String) {
    (StatusCode::OK, "ok".into())
}
