//! 三资 end to end: the county adopts the seed's risk rules, a village
//! enters leases and payments, each rule fires on its planted entry and on
//! nothing in a set of clean ones, and a warning is a task for the
//! township's 三资 office that climbs the ladder onto the overdue view.

use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::{assert_conforms, bearer, resident_id, texts};
use serde_json::{Value, json};

/// The county commission whose rules apply (市中区纪委监委).
const COUNTY: &str = "370402";
/// The township whose 三资 office checks, and its village.
const TOWNSHIP: &str = "370402001";
const VILLAGE: &str = "370402001201";

fn digest(bytes: &[u8]) -> String {
    hex::encode(jiandu_guest::seal::sha256(bytes))
}

/// Enters `body` at `path` as the village's staff; answers the rule kinds that fired.
fn enter(s: &System, path: &str, body: Value) -> (Value, Vec<String>) {
    let reply = s.post(Role::Staff, VILLAGE, path, body);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_conforms("sanzi-entry-created.json", &reply.json());
    let kinds = texts(&reply.json()["warnings"], "kind");
    (reply.json(), kinds)
}

fn payment(amount: &str, payee: Value, on: &str) -> Value {
    json!({
        "kind": "payment", "amount": amount, "method": "transfer", "payee": payee,
        "purpose": "村级道路维修", "on_date": on,
    })
}

fn lease(rent: &str, start: &str, end: &str) -> Value {
    json!({
        "kind": "land_lease", "asset_class": "farmland", "asset_code": "TD-001",
        "counterparty": { "name": "某农业合作社" }, "area": 100, "unit": "亩",
        "annual_rent": rent, "start_date": start, "end_date": end,
        "approvals": [{ "kind": "representatives", "date": "2026-03-01" }],
    })
}

#[test]
fn each_risk_rule_fires_on_its_planted_entry_only_and_its_warning_climbs_the_ladder() {
    let s = System::start("1s");

    // A village cadre on the county's screening register.
    let cadre = resident_id("37040219700101123");
    let register =
        format!("id_number,name,birth_date,org,date,amount,detail\n{cadre},村干部甲,,,,,\n");
    let head = bearer(Role::Head, COUNTY);
    let auth = [("authorization", head.as_str())];
    let opened = s.host.post_json(
        "/api/v1/screening/imports",
        &json!({
            "list": "village_cadres", "name": "村干部名册", "source": "区委组织部",
            "period": "2026-10", "org": COUNTY, "digest": digest(register.as_bytes()),
        }),
        &auth,
    );
    assert_eq!(opened.status, 201, "{}", opened.text);
    let import = opened.json()["id"].as_str().unwrap().to_owned();
    let sent = s.host.send(
        "PUT",
        &format!("/api/v1/screening/imports/{import}/chunks/1?first_line=2"),
        &[
            ("authorization", head.as_str()),
            ("content-type", "text/csv"),
        ],
        Some(register.as_bytes()),
    );
    assert_eq!(sent.status, 200, "{}", sent.text);

    // The county adopts the seed's rules; a village may not.
    let rules = s.get(Role::Supervision, COUNTY, "/api/v1/sanzi/rules");
    assert_eq!(rules.status, 200, "{}", rules.text);
    assert_conforms("sanzi-rules.json", &rules.json());
    for example in rules.json()["examples"].as_array().unwrap() {
        let adopted = s.post(
            Role::Supervision,
            COUNTY,
            "/api/v1/sanzi/rules",
            example.clone(),
        );
        assert_eq!(adopted.status, 201, "{}", adopted.text);
        assert_conforms("sanzi-rule-detail.json", &adopted.json());
    }
    let refused = s.post(Role::Staff, VILLAGE, "/api/v1/sanzi/rules", json!({}));
    assert_eq!(refused.status, 403, "{}", refused.text);
    let bad = s.post(
        Role::Supervision,
        COUNTY,
        "/api/v1/sanzi/rules",
        json!({ "name": "x", "kind": "cash_above", "limit": "lots" }),
    );
    assert_eq!(bad.status, 400, "{}", bad.text);

    // Clean entries raise nothing.
    let company = json!({ "name": "某建筑公司" });
    let clean = [
        (
            "/api/v1/sanzi/contracts",
            lease("80000.00", "2026-03-01", "2036-02-28"),
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("30000.00", company.clone(), "2026-05-10"),
        ),
        (
            "/api/v1/sanzi/transactions",
            json!({
                "kind": "payment", "amount": "80000.00", "method": "transfer", "payee": company,
                "purpose": "村委会办公楼维修", "on_date": "2026-06-01",
                "approvals": [{ "kind": "representatives", "date": "2026-05-20", "ref": "村民代表会议纪要 2026-3" }],
            }),
        ),
        (
            "/api/v1/sanzi/transactions",
            json!({
                "kind": "receipt", "amount": "3000.00", "method": "cash",
                "payee": { "name": "承租户乙" }, "purpose": "场地租金", "on_date": "2026-06-02",
            }),
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("20000.00", json!({ "name": "某农机站" }), "2026-01-05"),
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("20000.00", json!({ "name": "某农机站" }), "2026-04-05"),
        ),
        (
            "/api/v1/sanzi/transactions",
            payment(
                "800.00",
                json!({ "name": "村民丙", "id_number": resident_id("37040219800202234") }),
                "2026-06-03",
            ),
        ),
    ];
    for (path, body) in clean {
        let (_, fired) = enter(&s, path, body.clone());
        assert!(fired.is_empty(), "{body}: {fired:?}");
    }

    // Each rule fires on its planted entry, and only that rule.
    let planted = [
        (
            "/api/v1/sanzi/contracts",
            lease("30000.00", "2026-03-01", "2036-02-28"),
            "lease_below_reference",
        ),
        (
            "/api/v1/sanzi/contracts",
            lease("80000.00", "2026-03-01", "2066-02-28"),
            "lease_too_long",
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("60000.00", json!({ "name": "某建材公司" }), "2026-07-01"),
            "payment_without_approval",
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("40000.00", json!({ "name": "某绿化公司" }), "2026-07-02"),
            "",
        ),
        (
            "/api/v1/sanzi/transactions",
            payment("40000.00", json!({ "name": "某绿化公司" }), "2026-07-20"),
            "split_payments",
        ),
        (
            "/api/v1/sanzi/transactions",
            payment(
                "900.00",
                json!({ "name": "村干部甲", "id_number": cadre }),
                "2026-07-03",
            ),
            "cadre_payee",
        ),
        (
            "/api/v1/sanzi/transactions",
            json!({
                "kind": "payment", "amount": "6000.00", "method": "cash",
                "payee": { "name": "临时工丁" }, "purpose": "劳务费", "on_date": "2026-07-04",
            }),
            "cash_above",
        ),
    ];
    let mut warnings = Vec::new();
    for (path, body, expected) in planted {
        let (answer, fired) = enter(&s, path, body.clone());
        let expected: Vec<&str> = [expected].into_iter().filter(|e| !e.is_empty()).collect();
        assert_eq!(fired, expected, "{body}");
        for w in answer["warnings"].as_array().unwrap() {
            assert_eq!(w["owner"], TOWNSHIP);
            assert!(
                w["basis"]
                    .as_str()
                    .unwrap()
                    .starts_with("no article sets it")
            );
            warnings.push(w["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(warnings.len(), 6);

    // The ID numbers are never stored in clear.
    let bytes = s.host.db_bytes();
    assert!(
        !bytes.windows(cadre.len()).any(|w| w == cadre.as_bytes()),
        "a clear ID number in the database"
    );

    // Each warning is a risk_check task for the township's 三资 office.
    let first = &warnings[0];
    let task = s.task(Role::AssetsOffice, TOWNSHIP, first, "risk_check");
    assert!(
        task["article"]
            .as_str()
            .unwrap()
            .starts_with("no article sets it")
    );
    let listed = s.get(Role::AssetsOffice, TOWNSHIP, "/api/v1/sanzi/warnings");
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_conforms("sanzi-warnings.json", &listed.json());
    assert_eq!(listed.json()["warnings"].as_array().unwrap().len(), 6);
    let other = s.get(Role::AssetsOffice, "370402101", "/api/v1/sanzi/warnings");
    assert_eq!(
        other.json()["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        other.text
    );
    let bad_query = s.get(
        Role::Supervision,
        COUNTY,
        "/api/v1/sanzi/warnings?state=lost",
    );
    assert_eq!(bad_query.status, 400, "{}", bad_query.text);

    // Confirmed and dismissed; a dismissal needs its reason.
    s.complete(Role::AssetsOffice, TOWNSHIP, first, "risk_check", "confirm");
    let second = &warnings[1];
    let task = s.task(Role::AssetsOffice, TOWNSHIP, second, "risk_check");
    let dismiss = format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap());
    // The township's other staff do not see the 三资 office's task.
    let not_the_office = s.post(
        Role::Staff,
        TOWNSHIP,
        &dismiss,
        json!({ "outcome": "dismiss", "note": "不是三资办" }),
    );
    assert_eq!(not_the_office.status, 404, "{}", not_the_office.text);
    let unexplained = s.post(
        Role::AssetsOffice,
        TOWNSHIP,
        &dismiss,
        json!({ "outcome": "dismiss" }),
    );
    assert_eq!(unexplained.status, 422, "{}", unexplained.text);
    s.complete_with(
        Role::AssetsOffice,
        TOWNSHIP,
        second,
        "risk_check",
        "dismiss",
        json!({ "note": "经核查系租期计算错误，合同实为20年" }),
    );
    for (id, state) in [(first, "confirmed"), (second, "dismissed")] {
        let mut shown = Value::Null;
        let reached = s.host.wait_for(PATIENCE, || {
            let reply = s.get(
                Role::Supervision,
                COUNTY,
                &format!("/api/v1/sanzi/warnings/{id}"),
            );
            shown = reply.json();
            reply.status == 200 && shown["state"] == state
        });
        assert!(reached, "{shown:#}\n{}", s.worker.logs());
        assert_conforms("sanzi-warning.json", &shown);
    }

    // An unchecked warning climbs the ladder and the county sees it overdue.
    let late = &warnings[2];
    let mut rows = Vec::new();
    let shown = s.host.wait_for(Duration::from_secs(120), || {
        rows = s.overdue(Role::Head, COUNTY, "kind=risk_warning");
        rows.iter().any(|r| r["subject"]["id"] == *late)
    });
    assert!(shown, "{rows:#?}\n{}", s.worker.logs());
    let row = rows.iter().find(|r| r["subject"]["id"] == *late).unwrap();
    assert_eq!(
        row["links"]["subject"],
        format!("/api/v1/sanzi/warnings/{late}")
    );
    assert_eq!(row["assignee"]["org"], TOWNSHIP);

    imported_ledgers_are_checked_line_by_line(&s);
}

/// Sends a ledger file to `/api/v1/sanzi/imports/{ledger}` as the village's staff.
fn import(s: &System, ledger: &str, media: &str, file: &[u8], key: &str) -> jiandu_tests::Reply {
    let staff = bearer(Role::Staff, VILLAGE);
    s.host.send(
        "POST",
        &format!("/api/v1/sanzi/imports/{ledger}"),
        &[
            ("authorization", staff.as_str()),
            ("content-type", media),
            ("idempotency-key", key),
        ],
        Some(file),
    )
}

/// The rule kinds each entered line raised, by file line.
fn fired_by_line(reply: &Value) -> Vec<(i64, Vec<String>)> {
    reply["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), texts(&e["warnings"], "kind")))
        .collect()
}

/// A village's ledgers imported as CSV and XLSX: each line is checked like
/// its POST (a payment split across two lines of one file is seen), bad
/// lines are refused with their line and reason, and sending the file again
/// enters nothing twice.
fn imported_ledgers_are_checked_line_by_line(s: &System) {
    let warnings_now = || {
        let listed = s.get(
            Role::AssetsOffice,
            TOWNSHIP,
            "/api/v1/sanzi/warnings?limit=100",
        );
        assert_eq!(listed.status, 200, "{}", listed.text);
        listed.json()["warnings"].as_array().unwrap().len()
    };
    let before = warnings_now();
    let ledger = String::from(
        "kind,amount,method,payee_name,payee_id_number,purpose,on_date,contract_id,approvals\n\
         payment,1000.00,transfer,某五金店,,购买工具,2026-08-01,,\n\
         payment,40000.00,transfer,某保洁公司,,村内保洁,2026-08-02,,\n\
         payment,40000.00,transfer,某保洁公司,,村内保洁,2026-08-10,,\n\
         payment,\"12,000\",transfer,某五金店,,购买工具,2026-08-11,,\n\
         payment,500.00,transfer,村民戊,370402198001010000,误工补贴,2026-08-12,,\n\
         ,,,,,,,,\n\
         payment,60000.00,transfer,某建筑公司,,文化广场,2026-08-20,,committee:2026-08-01;representatives:2026-08-05\n\
         payment,700.00,transfer,村民己,,误工补贴,2026-08-21,,approved\n",
    );
    let sent = import(
        s,
        "transactions",
        "text/csv",
        ledger.as_bytes(),
        "ledger-2026-08",
    );
    assert_eq!(sent.status, 201, "{}", sent.text);
    let answer = sent.json();
    assert_conforms("sanzi-import.json", &answer);
    assert_eq!(answer["accepted"], 4, "{answer:#}");
    assert_eq!(
        fired_by_line(&answer),
        [
            (2, vec![]),
            (3, vec![]),
            (4, vec!["split_payments".to_owned()]),
            (8, vec![]),
        ],
        "{answer:#}"
    );
    let refused: Vec<(i64, String)> = answer["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0].0, 5);
    assert!(refused[0].1.starts_with("/amount"), "{refused:?}");
    assert_eq!(refused[1].0, 6);
    assert!(refused[1].1.starts_with("/payee/id_number"), "{refused:?}");
    assert_eq!(refused[2].0, 9);
    assert!(refused[2].1.contains("kind:YYYY-MM-DD"), "{refused:?}");
    assert_eq!(warnings_now(), before + 1);

    // The same file again answers as the first time and enters nothing.
    let again = import(
        s,
        "transactions",
        "text/csv",
        ledger.as_bytes(),
        "ledger-2026-08",
    );
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), answer);
    assert_eq!(warnings_now(), before + 1);

    // Leases as a workbook: the one below the reference rent is warned.
    let rows = [
        [
            "kind",
            "asset_class",
            "asset_code",
            "counterparty_name",
            "area",
            "unit",
            "annual_rent",
            "start_date",
            "end_date",
        ],
        [
            "land_lease",
            "farmland",
            "TD-101",
            "某农业合作社",
            "100",
            "亩",
            "80000.00",
            "2026-09-01",
            "2036-08-31",
        ],
        [
            "land_lease",
            "farmland",
            "TD-102",
            "某种植大户",
            "100",
            "亩",
            "20000.00",
            "2026-09-01",
            "2036-08-31",
        ],
        [
            "land_lease",
            "farmland",
            "TD-103",
            "某种植大户",
            "many",
            "亩",
            "20000.00",
            "2026-09-01",
            "2036-08-31",
        ],
    ];
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let leases = import(
        s,
        "contracts",
        xlsx,
        &jiandu_tests::workbook(&rows),
        "leases-2026-09",
    );
    assert_eq!(leases.status, 201, "{}", leases.text);
    assert_conforms("sanzi-import.json", &leases.json());
    assert_eq!(
        fired_by_line(&leases.json()),
        [(2, vec![]), (3, vec!["lease_below_reference".to_owned()])],
        "{}",
        leases.text
    );
    assert_eq!(leases.json()["refused"][0]["line"], 4, "{}", leases.text);

    // Files that cannot be read, and callers who may not send them.
    let wrong_header = import(
        s,
        "contracts",
        "text/csv",
        b"kind,rent\nland_lease,1\n",
        "h",
    );
    assert_eq!(wrong_header.status, 422, "{}", wrong_header.text);
    let wrong_type = import(s, "contracts", "application/json", b"{}", "t");
    assert_eq!(wrong_type.status, 415, "{}", wrong_type.text);
    let township = bearer(Role::Staff, TOWNSHIP);
    let not_a_village = s.host.send(
        "POST",
        "/api/v1/sanzi/imports/transactions",
        &[
            ("authorization", township.as_str()),
            ("content-type", "text/csv"),
        ],
        Some(ledger.as_bytes()),
    );
    assert_eq!(not_a_village.status, 403, "{}", not_a_village.text);
    assert_eq!(warnings_now(), before + 2);
}
