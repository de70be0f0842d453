//! Report intake end to end: the real host, the real intake component, a
//! fresh SQLite database per test.

use jiandu_domain::calendar::Calendar;
use jiandu_domain::deadline::ACCEPTANCE_NOTICE;
use jiandu_tests::{Host, assert_conforms};
use std::io::{Read, Write};

use serde_json::{Value, json};

const REPORTS: &str = "/api/v1/reports";
const NAME: &str = "王实名";
const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "11010519491231002X";

fn anonymous() -> Value {
    json!({
        "category": "integrity",
        "division_code": "370402",
        "subject": { "name": "张某", "unit": "某镇政府", "position": "副镇长" },
        "content": "2026年村集体资金被挪用于个人消费，涉及金额二十余万元。",
        "attachments": [{ "name": "收据.jpg", "media_type": "image/jpeg", "size_bytes": 20480 }]
    })
}

fn real_name() -> Value {
    let mut body = anonymous();
    body["reporter"] = json!({ "name": NAME, "phone": PHONE, "id_number": ID_NUMBER });
    body
}

#[test]
fn real_name_report_is_committed_with_its_outbox_row_and_sealed_identity() {
    let host = Host::start_product();
    let reply = host.post_json(REPORTS, &real_name(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_conforms("report-created.json", &body);
    let id = body["id"].as_str().unwrap();
    assert!(body["receipt_code"].as_str().unwrap().starts_with("JD"));
    assert_eq!(body["real_name"], json!(true));
    assert_eq!(body["status"], json!("received"));
    assert!(
        body["secret"].as_str().is_some_and(|s| s.len() == 20),
        "real-name reporters get a secret too"
    );
    assert_eq!(
        reply.header("location"),
        Some(format!("{REPORTS}/{}", body["receipt_code"].as_str().unwrap()).as_str())
    );

    // 检控 Art. 26: 15 working days from the day of receipt in China.
    let received = time::OffsetDateTime::parse(
        body["received_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expected = ACCEPTANCE_NOTICE.due_from(
        received.to_offset(time::macros::offset!(+8)).date(),
        Calendar::official(),
    );
    assert_eq!(
        body["acceptance_due"]["date"],
        json!(expected.date.to_string())
    );
    assert_eq!(body["acceptance_due"]["article"], json!("检控 Art. 26"));

    assert_eq!(
        host.count(&format!(
            "SELECT COUNT(*) FROM reports WHERE id = '{id}' AND real_name = 1"
        )),
        1
    );
    assert_eq!(
        host.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'start' AND workflow_type = 'ReportWorkflow' AND workflow_id = '{id}'"
        )),
        1
    );
    let on_disk = host.db_bytes();
    for secret in [NAME, PHONE, ID_NUMBER, "13912345678"] {
        let needle = secret.as_bytes();
        assert!(
            !on_disk.windows(needle.len()).any(|w| w == needle),
            "{secret} is readable in the database"
        );
        assert!(!host.logs().contains(secret), "{secret} appears in the log");
    }
}

#[test]
fn anonymous_report_gets_a_secret_shown_once_and_stored_only_as_a_hash() {
    let host = Host::start_product();
    let reply = host.post_json(REPORTS, &anonymous(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["real_name"], json!(false));
    assert!(body.get("acceptance_due").is_none());
    let secret = body["secret"].as_str().unwrap();
    let receipt = body["receipt_code"].as_str().unwrap();
    assert!(
        !host
            .db_bytes()
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    );
    assert_eq!(
        host.count("SELECT COUNT(*) FROM reports WHERE identity_sealed IS NULL"),
        1
    );

    let followed = host.get(
        &format!("{REPORTS}/{receipt}"),
        &[("x-receipt-secret", secret)],
    );
    assert_eq!(followed.status, 200, "{}", followed.text);
    let status = followed.json();
    assert_conforms("report-status.json", &status);
    assert_eq!(status["status"], json!("received"));
    assert_eq!(status["timeline"][0]["event"], json!("received"));
}

#[test]
fn a_wrong_secret_looks_exactly_like_an_unknown_receipt() {
    let host = Host::start_product();
    let body = host.post_json(REPORTS, &anonymous(), &[]).json();
    let receipt = body["receipt_code"].as_str().unwrap();
    let wrong = host.get(
        &format!("{REPORTS}/{receipt}"),
        &[("x-receipt-secret", "WRONGSECRET")],
    );
    let unknown = host.get(
        &format!("{REPORTS}/JD000000000000"),
        &[("x-receipt-secret", "WRONGSECRET")],
    );
    for reply in [&wrong, &unknown] {
        assert_eq!(reply.status, 404);
        assert_eq!(reply.text, unknown.text);
    }
    // A missing secret is refused alike for known and unknown receipts.
    let missing = host.get(&format!("{REPORTS}/{receipt}"), &[]);
    let missing_unknown = host.get(&format!("{REPORTS}/JD000000000000"), &[]);
    assert_eq!(missing.status, 401, "{}", missing.text);
    assert_eq!(missing.text, missing_unknown.text);
}

#[test]
fn real_name_reporter_follows_up_with_their_secret_not_their_phone() {
    let host = Host::start_product();
    let body = host.post_json(REPORTS, &real_name(), &[]).json();
    let path = format!("{REPORTS}/{}", body["receipt_code"].as_str().unwrap());
    // The phone number is known to too many people to be a secret.
    let phone = host.get(&path, &[("x-receipt-secret", "139-1234-5678")]);
    assert_eq!(phone.status, 404, "{}", phone.text);
    let ok = host.get(
        &path,
        &[("x-receipt-secret", body["secret"].as_str().unwrap())],
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_conforms("report-status.json", &ok.json());
    assert_eq!(ok.json()["acceptance_due"], body["acceptance_due"]);
    assert!(!ok.text.contains(NAME) && !ok.text.contains(PHONE));
    assert_eq!(
        host.get(&path, &[("x-receipt-secret", "13900000000")])
            .status,
        404
    );
}

#[test]
fn repeated_failed_follow_ups_are_throttled() {
    let host = Host::start_product();
    let body = host.post_json(REPORTS, &anonymous(), &[]).json();
    let path = format!("{REPORTS}/{}", body["receipt_code"].as_str().unwrap());
    for _ in 0..5 {
        assert_eq!(
            host.get(&path, &[("x-receipt-secret", "GUESS")]).status,
            404
        );
    }
    let throttled = host.get(
        &path,
        &[("x-receipt-secret", body["secret"].as_str().unwrap())],
    );
    assert_eq!(throttled.status, 429, "{}", throttled.text);
    assert!(throttled.header("retry-after").is_some());
    // Per receipt, not per address: another reporter behind the same
    // address (all tests come from 127.0.0.1) still follows up.
    let other = host.post_json(REPORTS, &anonymous(), &[]).json();
    let other_path = format!("{REPORTS}/{}", other["receipt_code"].as_str().unwrap());
    let fine = host.get(
        &other_path,
        &[("x-receipt-secret", other["secret"].as_str().unwrap())],
    );
    assert_eq!(fine.status, 200, "{}", fine.text);
    // No secret at all is a missing credential, not a failed guess.
    let bare = host.get(&other_path, &[]);
    assert_eq!(bare.status, 401, "{}", bare.text);
}

#[test]
fn bad_input_is_refused_with_every_error_and_nothing_is_stored() {
    let host = Host::start_product();
    let mut bad_schema = real_name();
    bad_schema["category"] = json!("bribery");
    bad_schema["reporter"]["phone"] = json!("call me maybe");
    bad_schema["subject"] = json!({});
    bad_schema["surprise"] = json!(1);
    let mut bad_rules = real_name();
    bad_rules["reporter"]["id_number"] = json!("110105194912310021");
    bad_rules["reporter"]["phone"] = json!("12345678901");
    let mut bad_check_character = real_name();
    bad_check_character["reporter"]["id_number"] = json!("110105194912310021");
    let mut no_content = anonymous();
    no_content.as_object_mut().unwrap().remove("content");

    struct Case {
        name: &'static str,
        content_type: &'static str,
        body: String,
        status: u16,
        pointers: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "schema violations",
            content_type: "application/json",
            body: bad_schema.to_string(),
            status: 400,
            pointers: &["/category", "/reporter/phone", "/subject/name", "/surprise"],
        },
        Case {
            name: "domain rules (ID check character, mobile prefix)",
            content_type: "application/json",
            body: bad_rules.to_string(),
            status: 400,
            pointers: &["/reporter/id_number", "/reporter/phone"],
        },
        Case {
            name: "a rule the schema cannot state (ID check character)",
            content_type: "application/json",
            body: bad_check_character.to_string(),
            status: 422,
            pointers: &["/reporter/id_number"],
        },
        Case {
            name: "missing field",
            content_type: "application/json",
            body: no_content.to_string(),
            status: 400,
            pointers: &["/content"],
        },
        Case {
            name: "not JSON",
            content_type: "application/json",
            body: "{\"category\":".into(),
            status: 415,
            pointers: &[""],
        },
        Case {
            name: "wrong content type",
            content_type: "text/plain",
            body: anonymous().to_string(),
            status: 415,
            pointers: &[""],
        },
        Case {
            name: "JSON but not an object",
            content_type: "application/json",
            body: "[1,2]".into(),
            status: 400,
            pointers: &[""],
        },
    ];
    for case in cases {
        let reply = host.send(
            "POST",
            REPORTS,
            &[("content-type", case.content_type)],
            Some(case.body.as_bytes()),
        );
        assert_eq!(reply.status, case.status, "{}: {}", case.name, reply.text);
        assert_conforms("errors.json", &reply.json());
        assert_eq!(
            reply.error_pointers(),
            case.pointers,
            "{}: {}",
            case.name,
            reply.text
        );
    }
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 0);
    assert_eq!(host.count("SELECT COUNT(*) FROM outbox"), 0);
    assert!(!host.logs().contains("call me maybe"));
}

#[test]
fn a_retry_with_the_same_idempotency_key_gets_the_first_answer() {
    let host = Host::start_product();
    let key = [("idempotency-key", "mini-program-7f3a-0001")];
    let first = host.post_json(REPORTS, &anonymous(), &key);
    let again = host.post_json(REPORTS, &anonymous(), &key);
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(
        first.json(),
        again.json(),
        "the retry shows the same receipt and secret"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 1);
    assert_eq!(host.count("SELECT COUNT(*) FROM outbox"), 1);

    let different = host.post_json(REPORTS, &real_name(), &key);
    assert_eq!(different.status, 422, "{}", different.text);
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 1);
}

#[test]
fn unknown_routes_methods_and_oversized_bodies_get_json_errors() {
    let host = Host::start_product();
    let unknown = host.get("/api/v1/nothing-here", &[]);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_pointers(), [""]);
    assert_eq!(host.get("/healthz", &[]).status, 200);
    let wrong_method = host.send("DELETE", REPORTS, &[], None);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    // A body declared larger than 1 MiB is refused before it is read.
    let mut stream = std::net::TcpStream::connect(host.addr).unwrap();
    write!(
        stream,
        "POST {REPORTS} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        (1 << 20) + 1
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"pointer\":\"\""), "{answer}");
}

#[test]
fn concurrent_submissions_are_all_committed() {
    let host = Host::start_product();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    let reply = host.post_json(REPORTS, &anonymous(), &[]);
                    assert_eq!(reply.status, 201, "{}", reply.text);
                }
            });
        }
    });
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 40);
    assert_eq!(
        host.count("SELECT COUNT(DISTINCT workflow_id) FROM outbox"),
        40
    );
}

#[test]
fn anonymous_floods_are_limited_by_text_and_division_never_by_address() {
    let host = Host::start(
        &jiandu_tests::repo().join("spin.toml"),
        &[("SPIN_VARIABLE_ANONYMOUS_LIMITS", "2,4,600")],
    );
    let with = |content: &str, division: &str| {
        let mut body = anonymous();
        body["content"] = json!(content);
        body["division_code"] = json!(division);
        host.post_json(REPORTS, &body, &[])
    };
    let flood = "同一内容的举报被反复提交，企图淹没信访渠道。";
    for _ in 0..2 {
        assert_eq!(with(flood, "370402").status, 201);
    }
    let refused = with(flood, "370402");
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(refused.header("retry-after").is_some());
    // Other reporters, all behind the same address, are not locked out…
    for n in 0..2 {
        let other = with(
            &format!("另一位举报人反映的第{n}个问题，内容不同。"),
            "370402",
        );
        assert_eq!(other.status, 201, "{}", other.text);
    }
    // …until the division's own limit; then only that division waits.
    let sixth = with("又一位举报人反映的不同问题，内容也不同。", "370402");
    assert_eq!(sixth.status, 429, "{}", sixth.text);
    assert_eq!(
        with("另一个区的举报人反映的问题，内容不同。", "370403").status,
        201
    );
    // Real-name reporters are not counted here.
    assert_eq!(host.post_json(REPORTS, &real_name(), &[]).status, 201);
    // A refused submission stores nothing.
    assert_eq!(
        host.count("SELECT COUNT(*) FROM reports WHERE division_code = '370402'"),
        4 + 1
    );
}
