//! 监督一点通 end to end: a village publishes, corrects and withdraws items;
//! the public browses the township's villages with no token and sees the
//! correction; a complaint against an item runs its whole loop
//! (受理→分办→办理→审核→答复→评价) with one step late and escalated.

use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::{assert_conforms, texts};
use serde_json::{Value, json};

/// The township whose villages disclose (税郭镇).
const TOWNSHIP: &str = "370402101";
/// The village whose items the test follows, and its neighbour.
const VILLAGE: &str = "370402101201";
const NEIGHBOUR: &str = "370402101202";
/// The commission that reviews complaints in this county.
const COUNTY: &str = "370402";

/// Publishes an item as the village's staff and returns its id.
fn publish(s: &System, village: &str, body: Value) -> String {
    let reply = s.post(Role::Staff, village, "/api/v1/disclosure/items", body);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_conforms("disclosure-item.json", &reply.json());
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// A public read with no token: 200, cacheable, conforming to `schema`.
fn read(s: &System, path: &str, schema: &str) -> Value {
    let reply = s.host.get(path, &[]);
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=30"));
    assert_conforms(schema, &reply.json());
    reply.json()
}

fn item(s: &System, id: &str) -> Value {
    read(
        s,
        &format!("/api/v1/disclosure/items/{id}"),
        "disclosure-item.json",
    )
}

fn listed(s: &System, query: &str) -> Vec<String> {
    let page = read(
        s,
        &format!("/api/v1/disclosure/items?{query}"),
        "disclosure-items.json",
    );
    texts(&page["items"], "id")
}

/// The events of a task as the county's head reads them.
fn task_events(s: &System, task: &str) -> Vec<String> {
    let reply = s.get(Role::Head, COUNTY, &format!("/api/v1/tasks/{task}"));
    assert_eq!(reply.status, 200, "{}", reply.text);
    texts(&reply.json()["events"], "kind")
}

#[test]
fn villages_disclose_the_public_browses_and_a_complaint_runs_its_whole_loop() {
    let s = System::start("1s");

    // Three items of the village, one of its neighbour.
    let finance = publish(
        &s,
        VILLAGE,
        json!({
            "kind": "finance", "period": "2026-Q3", "title": "第三季度村级财务收支公开",
            "body": "收入: 土地租赁费; 支出: 道路维修。",
            "amounts": [{ "label": "收入合计", "yuan": "125000.00" }, { "label": "支出合计", "yuan": "98000.50" }],
            "attachments": [{ "name": "收支明细.pdf", "ref": "https://example.org/q3.pdf" }],
        }),
    );
    let project = publish(
        &s,
        VILLAGE,
        json!({ "kind": "small_project", "period": "2026-07", "title": "村内道路硬化工程", "body": "工程预算与中标单位。" }),
    );
    let meeting = publish(
        &s,
        VILLAGE,
        json!({ "kind": "village", "period": "2026", "title": "村民代表会议决议", "body": "会议决定事项。" }),
    );
    publish(
        &s,
        NEIGHBOUR,
        json!({ "kind": "party", "period": "2026", "title": "党员发展情况", "body": "本年度发展党员情况。" }),
    );

    // Only the village's own staff change its items; bodies are checked.
    let correction = format!("/api/v1/disclosure/items/{finance}/corrections");
    let reply = s.post(
        Role::Staff,
        NEIGHBOUR,
        &correction,
        json!({ "reason": "改正" }),
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    let reply = s.post(
        Role::Petitions,
        COUNTY,
        "/api/v1/disclosure/items",
        json!({}),
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    let reply = s.post(
        Role::Staff,
        VILLAGE,
        "/api/v1/disclosure/items",
        json!({ "kind": "finance", "period": "2026-Q5", "title": "x", "body": "y" }),
    );
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.error_pointers(), ["/period"]);
    let reply = s.post(
        Role::Staff,
        VILLAGE,
        &correction,
        json!({ "title": "无理由" }),
    );
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.error_pointers(), ["/reason"]);

    // A correction is a new revision with its reason; the first stays readable.
    let reply = s.post(
        Role::Staff,
        VILLAGE,
        &correction,
        json!({
            "reason": "支出合计录入有误",
            "amounts": [{ "label": "收入合计", "yuan": "125000.00" }, { "label": "支出合计", "yuan": "89000.50" }],
        }),
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
    let corrected = item(&s, &finance);
    assert_eq!(corrected["revision"], 2);
    assert_eq!(corrected["corrected"], true);
    let revisions = corrected["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["amounts"][1]["yuan"], "98000.50");
    assert_eq!(revisions[0]["reason"], Value::Null);
    assert_eq!(revisions[1]["amounts"][1]["yuan"], "89000.50");
    assert_eq!(revisions[1]["reason"], "支出合计录入有误");
    assert_eq!(revisions[1]["title"], revisions[0]["title"]);

    // A withdrawal keeps the item, says why, and ends its changes.
    let withdrawal = format!("/api/v1/disclosure/items/{meeting}/withdrawal");
    let reply = s.post(
        Role::Staff,
        VILLAGE,
        &withdrawal,
        json!({ "reason": "决议尚未生效" }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let withdrawn = item(&s, &meeting);
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["withdrawn_reason"], "决议尚未生效");
    let again = s.post(
        Role::Staff,
        VILLAGE,
        &withdrawal,
        json!({ "reason": "再次撤回" }),
    );
    assert_eq!(again.status, 409, "{}", again.text);
    let late_fix = s.post(
        Role::Staff,
        VILLAGE,
        &format!("/api/v1/disclosure/items/{meeting}/corrections"),
        json!({ "reason": "更正" }),
    );
    assert_eq!(late_fix.status, 409, "{}", late_fix.text);

    // The public browses down the tree with no token.
    let township = read(
        &s,
        &format!("/api/v1/disclosure/divisions/{TOWNSHIP}"),
        "disclosure-division.json",
    );
    let count = |village: &str| {
        township["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == village)
            .map(|c| c["items"].as_i64().unwrap())
    };
    assert_eq!(count(VILLAGE), Some(2), "published ones only: {township:#}");
    assert_eq!(count(NEIGHBOUR), Some(1));
    let all = listed(&s, &format!("division={VILLAGE}"));
    assert_eq!(all, [meeting.as_str(), project.as_str(), finance.as_str()]);
    assert_eq!(
        listed(&s, &format!("division={VILLAGE}&kind=finance")),
        [finance.as_str()]
    );
    assert_eq!(
        listed(&s, &format!("division={VILLAGE}&period=2026-07")),
        [project.as_str()]
    );
    let search = format!("division={VILLAGE}&q=%E9%81%93%E8%B7%AF"); // 道路
    assert_eq!(listed(&s, &search), [project.as_str()]);
    let page = read(
        &s,
        &format!("/api/v1/disclosure/items?division={VILLAGE}&limit=2"),
        "disclosure-items.json",
    );
    let next = page["next"].as_str().unwrap();
    assert_eq!(
        listed(&s, &format!("division={VILLAGE}&limit=2&after={next}")),
        [finance.as_str()]
    );
    for bad in ["kind=gossip", "period=2026-13", "limit=0", "colour=red", ""] {
        let reply = s.host.get(
            &format!("/api/v1/disclosure/items?division={VILLAGE}&{bad}"),
            &[],
        );
        let expected = if bad.is_empty() { 200 } else { 400 };
        assert_eq!(reply.status, expected, "{bad}: {}", reply.text);
    }
    assert_eq!(s.host.get("/api/v1/disclosure/items", &[]).status, 400);
    assert_eq!(
        s.host.get("/api/v1/disclosure/items/DInone", &[]).status,
        404
    );
    assert_eq!(
        s.host.get("/api/v1/disclosure/divisions/999", &[]).status,
        404
    );

    // Visits are counted, however they are written.
    let before = item(&s, &project)["visits"].as_i64().unwrap();
    for _ in 0..5 {
        item(&s, &project);
    }
    let counted = s.host.wait_for(PATIENCE, || {
        item(&s, &project)["visits"].as_i64().unwrap() >= before + 6
    });
    assert!(counted, "{:#}", item(&s, &project));

    // A complaint is a report against the item; a withdrawn item or another
    // division's code is refused.
    let complaint = |item: &str, division: &str| {
        json!({
            "category": "integrity",
            "division_code": division,
            "subject": { "name": "村会计" },
            "content": "公开的支出合计与实际不符，道路维修费用偏高。",
            "disclosure_item": item,
            "reporter": { "name": "王五", "phone": "13900139000" },
        })
    };
    let refused = s
        .host
        .post_json("/api/v1/reports", &complaint(&meeting, VILLAGE), &[]);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.error_pointers(), ["/disclosure_item"]);
    let refused = s
        .host
        .post_json("/api/v1/reports", &complaint(&finance, NEIGHBOUR), &[]);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.error_pointers(), ["/division_code"]);
    let filed = s
        .host
        .post_json("/api/v1/reports", &complaint(&finance, VILLAGE), &[]);
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert_eq!(
        filed.json().get("acceptance_due"),
        None,
        "no 检控 Art. 26 notice for a complaint"
    );
    let report = filed.json()["id"].as_str().unwrap().to_owned();
    let receipt = filed.json()["receipt_code"].as_str().unwrap().to_owned();
    let secret = filed.json()["secret"].as_str().unwrap().to_owned();
    assert_eq!(item(&s, &finance)["open_complaints"], 1);

    // 受理 and 分办 by the village; the handler must be an org of the county.
    s.complete(
        Role::Staff,
        VILLAGE,
        &report,
        "complaint_acceptance",
        "accept",
    );
    let assignment = s.task(Role::Staff, VILLAGE, &report, "complaint_assignment");
    assert!(
        assignment["article"]
            .as_str()
            .unwrap()
            .starts_with("no article sets it"),
        "{assignment:#}"
    );
    let assign = format!(
        "/api/v1/tasks/{}/complete",
        assignment["id"].as_str().unwrap()
    );
    for wrong in ["370403001", COUNTY] {
        let reply = s.post(
            Role::Staff,
            VILLAGE,
            &assign,
            json!({ "outcome": "assigned", "detail": wrong }),
        );
        assert_eq!(reply.status, 422, "{wrong}: {}", reply.text);
        assert_eq!(reply.error_pointers(), ["/detail"]);
    }
    s.complete_with(
        Role::Staff,
        VILLAGE,
        &report,
        "complaint_assignment",
        "assigned",
        json!({ "detail": TOWNSHIP }),
    );

    // 办理 by the township is late: reminded, pressed and elevated, and on
    // the county's overdue view, before it is done.
    let handling = s.task(Role::Staff, TOWNSHIP, &report, "complaint_handling");
    let handling = handling["id"].as_str().unwrap().to_owned();
    let mut kinds = Vec::new();
    let climbed = s.host.wait_for(Duration::from_secs(120), || {
        kinds = task_events(&s, &handling);
        kinds.iter().any(|k| k == "elevated")
    });
    assert!(climbed, "{kinds:?}\nworker log:\n{}", s.worker.logs());
    let at = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    assert!(
        at("reminder") < at("overdue") && at("overdue") < at("elevated"),
        "{kinds:?}"
    );
    let overdue = s.overdue(Role::Head, COUNTY, "");
    assert!(
        overdue.iter().any(|r| r["task_id"] == *handling),
        "{overdue:#?}"
    );
    s.complete(
        Role::Staff,
        TOWNSHIP,
        &report,
        "complaint_handling",
        "handled",
    );

    // 审核 by the county: returned once with reasons, then passed.
    s.complete_with(
        Role::Supervision,
        COUNTY,
        &report,
        "complaint_review",
        "return",
        json!({ "note": "未核实维修费用明细" }),
    );
    s.complete(
        Role::Staff,
        TOWNSHIP,
        &report,
        "complaint_handling",
        "handled",
    );
    s.complete(
        Role::Supervision,
        COUNTY,
        &report,
        "complaint_review",
        "pass",
    );

    // 答复 by the village; the complainant reads it and rates it.
    s.complete_with(
        Role::Staff,
        VILLAGE,
        &report,
        "complaint_reply",
        "replied",
        json!({ "note": "经核实，支出合计已更正并重新公开。" }),
    );
    let follow = format!("/api/v1/reports/{receipt}");
    let headers = [("x-receipt-secret", secret.as_str())];
    let mut status = Value::Null;
    let concluded = s.host.wait_for(PATIENCE, || {
        status = s.host.get(&follow, &headers).json();
        status["status"] == "concluded"
    });
    assert!(concluded, "{status:#}\n{}", s.worker.logs());
    assert_conforms("report-status.json", &status);
    let events = texts(&status["timeline"], "event");
    for expected in [
        "received", "accepted", "assigned", "handled", "returned", "replied",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected}: {events:?}"
        );
    }
    let rated = s.host.post_json(
        &format!("{follow}/feedback"),
        &json!({ "rating": 5 }),
        &headers,
    );
    assert_eq!(rated.status, 202, "{}", rated.text);
    let closed = s.host.wait_for(PATIENCE, || {
        status = s.host.get(&follow, &headers).json();
        status["status"] == "closed"
    });
    assert!(closed, "{status:#}\n{}", s.worker.logs());
    assert_eq!(item(&s, &finance)["open_complaints"], 0);
}
