//! Ledger exports (台账导出) at their edges: what a bad request gets, and
//! what an administrator sees when the worker cannot write the file. The
//! happy path, with the files read back, is in `supervision.rs`.

use jiandu_domain::org::Role;
use jiandu_tests::system::PATIENCE;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Host, assert_conforms, bearer};
use serde_json::{Value, json};

/// 市中区纪委监委.
const COUNTY: &str = "370402";

#[test]
fn bad_export_requests_name_what_is_wrong() {
    let host = Host::start_product();
    let head = bearer(Role::Head, COUNTY);
    let ask = |body: Value| {
        host.post_json(
            "/api/v1/admin/exports",
            &body,
            &[("authorization", head.as_str())],
        )
    };

    let unknown = ask(json!({ "ledger": "payroll", "format": "csv" }));
    assert_eq!(unknown.status, 400, "{}", unknown.text);
    assert_eq!(unknown.error_pointers(), ["/ledger"]);
    let format = ask(json!({ "ledger": "clues", "format": "pdf" }));
    assert_eq!(format.status, 400, "{}", format.text);
    assert_eq!(format.error_pointers(), ["/format"]);
    // Another county's subtree is not the caller's; an org nobody knows is not there.
    let aside = ask(json!({ "ledger": "clues", "format": "csv", "org": "370403" }));
    assert_eq!(aside.status, 403, "{}", aside.text);
    let nowhere = ask(json!({ "ledger": "clues", "format": "csv", "org": "999999" }));
    assert_eq!(nowhere.status, 404, "{}", nowhere.text);
    // A township has no administrators' view.
    let township = host.post_json(
        "/api/v1/admin/exports",
        &json!({ "ledger": "clues", "format": "csv" }),
        &[("authorization", bearer(Role::Head, "370402001").as_str())],
    );
    assert_eq!(township.status, 403, "{}", township.text);
    let missing = host.get(
        "/api/v1/admin/exports/Xnope",
        &[("authorization", head.as_str())],
    );
    assert_eq!(missing.status, 404, "{}", missing.text);
}

#[test]
fn an_export_the_worker_cannot_write_is_marked_failed_with_why() {
    let host = Host::start_product();
    let temporal = Temporal::start();
    let worker = Worker::start(
        &host,
        &temporal,
        &[("JIANDU_EXPORT_DIR", "/nonexistent/jiandu-exports")],
    );
    let head = bearer(Role::Head, COUNTY);
    let asked = host.post_json(
        "/api/v1/admin/exports",
        &json!({ "ledger": "rectifications", "format": "xlsx" }),
        &[("authorization", head.as_str())],
    );
    assert_eq!(asked.status, 202, "{}", asked.text);
    assert_eq!(asked.json()["state"], "queued");
    let status = format!(
        "/api/v1/admin/exports/{}",
        asked.json()["id"].as_str().unwrap()
    );
    // Five attempts, a second apart and doubling, then the reason is recorded.
    let mut now = Value::Null;
    let failed = host.wait_for(PATIENCE, || {
        now = host
            .get(&status, &[("authorization", head.as_str())])
            .json();
        now["state"] == "failed"
    });
    assert!(failed, "{now}\n{}", worker.logs());
    assert_conforms("ledger-export-status.json", &now);
    let error = now["error"].as_str().unwrap_or_default();
    assert!(error.contains("work file"), "{error}");
    assert!(now["finished_at"].is_string(), "{now}");
    let file = host.get(
        now["file"].as_str().unwrap(),
        &[("authorization", head.as_str())],
    );
    assert_eq!(file.status, 409, "{}", file.text);
}
