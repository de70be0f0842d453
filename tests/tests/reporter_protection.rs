//! Reporter protection (检控 Art. 15, 47) and the audit log: what intake
//! holds, who may read a report or an identity, that every read and refusal
//! is recorded, that an Art. 15 report is sealed away from the local
//! commission, and that `jiandu-worker audit verify` catches a tampered log.

use std::process::Command;
use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_guest::seal::ReaderKeys;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{
    AUDIT_KEY, HIGHER_ORG, Host, ORG, bearer, execute, reader_keys_of, repo, sealing_keys,
    worker_bin,
};
use serde_json::{Value, json};

/// 市中区: the reports below are about its division, so its commission holds them.
const DISTRICT: &str = "370402";
const PHONE: &str = "13812345678";
const CONTENT: &str = "纪委书记收受辖区企业财物，数额较大，有转账记录为证。";

fn report(real_name: bool, about_head: bool) -> Value {
    let mut body = json!({
        "category": "integrity",
        "division_code": DISTRICT,
        "subject": { "name": "王某", "position": "区纪委书记" },
        "content": CONTENT,
        "concerns_commission_head": about_head,
    });
    if real_name {
        body["reporter"] = json!({ "name": "李四", "phone": PHONE });
    }
    body
}

fn submit(host: &Host, body: &Value) -> String {
    let reply = host.post_json("/api/v1/reports", body, &[]);
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn audit_of(host: &Host, org: &str, query: &str) -> Vec<Value> {
    let auth = bearer(Role::Head, org);
    let reply = host.get(
        &format!("/api/v1/admin/audit?{query}"),
        &[("authorization", auth.as_str())],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["entries"].as_array().unwrap().clone()
}

fn view_identity(host: &Host, role: Role, org: &str, id: &str) -> jiandu_tests::Reply {
    let auth = bearer(role, org);
    host.post_json(
        &format!("/api/v1/reports/{id}/identity-views"),
        &json!({ "reason": "to send the acceptance notice (检控 Art. 26)" }),
        &[("authorization", auth.as_str())],
    )
}

#[test]
fn intake_holds_public_keys_only() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("spin.toml")).unwrap()).unwrap();
    let components = manifest["component"].as_table().unwrap();
    let intake: Vec<&String> = components["intake"]["variables"]
        .as_table()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        intake,
        [
            "anonymous_limits",
            "database_url",
            "receipt_key",
            "sealing_keys"
        ]
    );
    let holders: Vec<&String> = components
        .iter()
        .filter(|(_, c)| {
            c.get("variables")
                .is_some_and(|v| v.get("reader_keys").is_some())
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        holders,
        ["reports"],
        "only the audited reader holds private keys"
    );
    // What intake is given carries no private key, and nothing can open with it.
    let public = sealing_keys();
    let private: Value = serde_json::from_str(&reader_keys_of([ORG])).unwrap();
    let secret = private["keys"][0]["private"].as_str().unwrap();
    assert!(!public.contains(secret));
    assert!(ReaderKeys::parse(&public).is_err());
}

#[test]
fn identity_views_are_audited_and_allowed_only_to_the_reading_commission() {
    let host = Host::start_product();
    let id = submit(&host, &report(true, false));

    // 信访室 of the holding commission reads the report and views the identity.
    let petitions = bearer(Role::Petitions, DISTRICT);
    let read = host.get(
        &format!("/api/v1/reports/{id}"),
        &[("authorization", petitions.as_str())],
    );
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["content"], json!(CONTENT));
    assert!(
        !read.text.contains(PHONE),
        "a report read never shows the identity"
    );
    let viewed = view_identity(&host, Role::Petitions, DISTRICT, &id);
    assert_eq!(viewed.status, 200, "{}", viewed.text);
    assert_eq!(viewed.json()["identity"]["phone"], json!(PHONE));
    assert!(!host.logs().contains(PHONE), "the identity is never logged");

    // A role of the holder without a part in it, and another county.
    let refused = view_identity(&host, Role::Investigation, DISTRICT, &id);
    assert_eq!(refused.status, 403, "{}", refused.text);
    let elsewhere = view_identity(&host, Role::Petitions, "370403", &id);
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);
    let reason = host.post_json(
        &format!("/api/v1/reports/{id}/identity-views"),
        &json!({}),
        &[("authorization", petitions.as_str())],
    );
    assert_eq!(reason.status, 400, "a view needs a stated reason");
    assert_eq!(reason.error_pointers(), ["/reason"]);

    // Each is in the audit log, before the answer left.
    let object = format!("object=report:{id}");
    let entries = audit_of(&host, DISTRICT, &object);
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    let person = |role| jiandu_tests::person(role, DISTRICT);
    assert_eq!(
        seen,
        [
            ("report.read", person(Role::Petitions).as_str(), "done"),
            (
                "report.identity_view",
                person(Role::Petitions).as_str(),
                "done"
            ),
            (
                "report.identity_view",
                person(Role::Investigation).as_str(),
                "denied"
            ),
        ]
    );
    assert_eq!(
        entries[1]["detail"],
        json!("to send the acceptance notice (检控 Art. 26)")
    );
    // The other county's refusal is in its own commission's log, not here.
    let theirs = audit_of(&host, "370403", &object);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["outcome"], json!("denied"));
    // Only a commission's head and office read the log; reading it is audited too.
    let staff = bearer(Role::Petitions, DISTRICT);
    let denied = host.get("/api/v1/admin/audit", &[("authorization", staff.as_str())]);
    assert_eq!(denied.status, 403);
    let reads = audit_of(&host, DISTRICT, "action=audit.read");
    assert!(reads.len() >= 2, "{reads:?}");
    let bad = host.get(
        "/api/v1/admin/audit?since=yesterday",
        &[("authorization", bearer(Role::Head, DISTRICT).as_str())],
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_pointers(), ["/since"]);
}

#[test]
fn an_art_15_report_is_sealed_to_the_next_higher_commission() {
    // This host's reader holds the district commission's key only: it can
    // open what is sealed to the district, never what is sealed above it.
    let district_only = reader_keys_of([DISTRICT]);
    let host = Host::start(
        &repo().join("spin.toml"),
        &[("SPIN_VARIABLE_READER_KEYS", district_only.as_str())],
    );
    let about_head = submit(&host, &report(true, true));
    let mut other = report(true, false);
    other["subject"] = json!({ "name": "赵某" });
    other["content"] = json!("区财政局违规发放津贴补贴，涉及多人。");
    let ordinary = submit(&host, &other);

    // The district commission never sees it: not its content, not its identity.
    let district = bearer(Role::Petitions, DISTRICT);
    for path in [
        format!("/api/v1/reports/{about_head}"),
        format!("/api/v1/reports/{about_head}/identity-views"),
    ] {
        let reply = if path.ends_with("views") {
            view_identity(&host, Role::Petitions, DISTRICT, &about_head)
        } else {
            host.get(&path, &[("authorization", district.as_str())])
        };
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
    }
    // Nothing of it is stored in clear.
    let on_disk = host.db_bytes();
    for secret in [CONTENT, PHONE, "王某"] {
        assert!(
            !on_disk
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} is readable in the database"
        );
    }
    // The district's key opens its own reports' identities…
    let own = view_identity(&host, Role::Petitions, DISTRICT, &ordinary);
    assert_eq!(own.status, 200, "{}", own.text);
    // …but not the Art. 15 report, even for the city commission that holds it.
    let city = bearer(Role::Petitions, ORG);
    let unopened = host.get(
        &format!("/api/v1/reports/{about_head}"),
        &[("authorization", city.as_str())],
    );
    assert_eq!(unopened.status, 500, "{}", unopened.text);
    drop(host);

    // With the city's key the city reads it all.
    let host = Host::start_product();
    let about_head = submit(&host, &report(true, true));
    let read = host.get(
        &format!("/api/v1/reports/{about_head}"),
        &[("authorization", city.as_str())],
    );
    assert_eq!(read.status, 200, "{}", read.text);
    let body = read.json();
    assert_eq!(body["org"], json!(ORG));
    assert_eq!(body["sealed_to"], json!(ORG));
    assert_eq!(body["content"], json!(CONTENT));
    assert_eq!(body["subject"]["name"], json!("王某"));
    let viewed = view_identity(&host, Role::Petitions, ORG, &about_head);
    assert_eq!(viewed.json()["identity"]["phone"], json!(PHONE));
    assert_ne!(
        ORG, HIGHER_ORG,
        "the city's own higher commission is the province"
    );
}

/// Runs `jiandu-worker audit verify` on a database file; its exit status and stderr.
fn verify(db: &std::path::Path, dir: &std::path::Path) -> (bool, String) {
    let key = dir.join("verify.key");
    std::fs::write(&key, AUDIT_KEY).unwrap();
    let out = Command::new(worker_bin())
        .args(["audit", "verify", "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn jiandu_audit_verify_catches_edits_deletions_reordering_and_truncation() {
    let host = Host::start_product();
    let temporal = Temporal::start();
    let worker = Worker::start(&host, &temporal, &[("JIANDU_AUDIT_CHECKPOINT_SECS", "1")]);
    let id = submit(&host, &report(true, false));
    for _ in 0..3 {
        assert_eq!(
            view_identity(&host, Role::Petitions, DISTRICT, &id).status,
            200
        );
    }
    assert_eq!(view_identity(&host, Role::Staff, DISTRICT, &id).status, 403);
    // Wait until a checkpoint vouches for all five entries so far.
    let auth = bearer(Role::Head, DISTRICT);
    let vouched = host.wait_for(Duration::from_secs(60), || {
        let reply = host.get(
            "/api/v1/admin/audit?limit=1",
            &[("authorization", auth.as_str())],
        );
        reply.json()["last_checkpoint"]["seq"].as_i64() >= Some(4)
    });
    assert!(vouched, "no checkpoint was signed: {}", worker.logs());

    let dir = tempfile::tempdir().unwrap();
    let intact = dir.path().join("intact.db");
    host.snapshot(&intact);
    let (ok, said) = verify(&intact, dir.path());
    assert!(ok, "{said}");
    assert!(said.contains("signed checkpoints"), "{said}");

    // Each tampering in its own copy; the triggers go first, as an attacker's would.
    let unlock = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
                  DROP TRIGGER audit_checkpoints_no_delete;";
    let cases = [
        (
            "edited",
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2",
            "entry 3 does not follow",
        ),
        (
            "last edited",
            "UPDATE audit_log SET detail = 'no reason' WHERE seq = (SELECT MAX(seq) FROM audit_log)",
            "was changed",
        ),
        (
            "deleted",
            "DELETE FROM audit_log WHERE seq = 2",
            "entry 3 follows entry 1",
        ),
        (
            "reordered",
            "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 2; \
             UPDATE audit_log SET seq = 2 WHERE seq = -3;",
            "does not follow",
        ),
        (
            "truncated",
            "DELETE FROM audit_log WHERE seq >= 3; DELETE FROM audit_checkpoints WHERE seq < 3",
            "cut off",
        ),
    ];
    for (name, sql, expected) in cases {
        let copy = dir.path().join(format!("{name}.db"));
        std::fs::copy(&intact, &copy).unwrap();
        execute(&copy, &format!("{unlock} {sql}"));
        let (ok, said) = verify(&copy, dir.path());
        assert!(!ok, "{name}: verify passed: {said}");
        assert!(said.contains(expected), "{name}: {said}");
    }
    // A guest cannot do the same: the log is append-only through the API.
    assert!(
        host.strings(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'"
        )
        .len()
            == 4
    );
}
