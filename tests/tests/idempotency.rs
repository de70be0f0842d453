//! Staff writes are idempotent by `Idempotency-Key`, as reports are: a
//! retry gets the first answer and nothing is written twice.

use jiandu_domain::org::Role;
use jiandu_tests::{Host, bearer};
use serde_json::json;

#[test]
fn a_retried_staff_write_gets_the_first_answer_and_writes_once() {
    let host = Host::start_product();
    let auth = bearer(Role::CaseManagement, "370402");
    let clue = json!({ "source": "supervision", "summary": "日常监督发现的问题" });
    let send = |key: &str, body: &serde_json::Value| {
        host.post_json(
            "/api/v1/clues",
            body,
            &[("authorization", auth.as_str()), ("idempotency-key", key)],
        )
    };
    let first = send("retry-1", &clue);
    assert_eq!(first.status, 201, "{}", first.text);
    let again = send("retry-1", &clue);
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(host.count("SELECT COUNT(*) FROM clues"), 1);
    assert_eq!(
        host.count("SELECT COUNT(*) FROM outbox WHERE kind = 'start'"),
        1
    );
    // The same key with another body is a mistake, not a retry.
    let changed = send(
        "retry-1",
        &json!({ "source": "audit", "summary": "另一条线索" }),
    );
    assert_eq!(changed.status, 422, "{}", changed.text);
    // Another person's key is their own.
    let other = host.post_json(
        "/api/v1/clues",
        &clue,
        &[
            ("authorization", bearer(Role::Head, "370402").as_str()),
            ("idempotency-key", "retry-1"),
        ],
    );
    assert_eq!(other.status, 403, "{}", other.text);
    // A refused write keeps no key: once allowed, the same key writes.
    let later = send("retry-2", &json!({ "source": "supervision" }));
    assert_eq!(later.status, 400);
    assert_eq!(send("retry-2", &clue).status, 201);
    assert_eq!(host.count("SELECT COUNT(*) FROM clues"), 2);
    // Without a key, each call is a new write.
    let plain = host.post_json("/api/v1/clues", &clue, &[("authorization", auth.as_str())]);
    assert_eq!(plain.status, 201);
    assert_eq!(host.count("SELECT COUNT(*) FROM clues"), 3);
}
