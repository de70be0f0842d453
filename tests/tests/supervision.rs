//! Inspection tours, problems, rectification and 回头看, and 提级监督, end to
//! end: the real host, worker and Temporal dev server, deadlines on a time
//! scale.

use jiandu_domain::org::Role;
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::{assert_conforms, bearer};
use serde_json::{Value, json};

/// The county commission that runs the tour (市中区纪委监委).
const COUNTY: &str = "370402";
/// Four villages of two townships; the last is listed under 提级监督.
const VILLAGES: [&str; 4] = [
    "370402001201",
    "370402001202",
    "370402101201",
    "370402101202",
];
/// The listed village, and the township that would otherwise supervise it.
const LISTED: &str = "370402101202";

/// A problem's detail as the county's head reads it.
fn problem(s: &System, id: &str) -> Value {
    let reply = s.get(Role::Head, COUNTY, &format!("/api/v1/problems/{id}"));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_conforms("problem-detail.json", &reply.json());
    reply.json()
}

/// Waits until the problem is in `state` and returns it.
fn wait_problem(s: &System, id: &str, state: &str) -> Value {
    let mut last = Value::Null;
    let ok = s.host.wait_for(PATIENCE, || {
        last = problem(s, id);
        last["state"] == state
    });
    assert!(
        ok,
        "problem {id} never reached `{state}`: {last:#}\nworker log:\n{}",
        s.worker.logs()
    );
    last
}

/// The problem's event names, oldest first.
fn events(p: &Value) -> Vec<&str> {
    p["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

/// Hands a problem over: the owner has a month, the 回头看 comes a month after passing.
fn hand_over(s: &System, id: &str) -> Value {
    let reply = s.post(
        Role::Supervision,
        COUNTY,
        &format!("/api/v1/problems/{id}/rectification"),
        json!({ "months": 1, "recheck_after_months": 1 }),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_conforms("accepted.json", &reply.json());
    reply.json()
}

/// The owner reports, and its supervisor checks the report with `outcome`.
fn report_and_check(s: &System, id: &str, owner: &str, supervisor: &str, outcome: &str) {
    s.complete(Role::Staff, owner, id, "rectification_report", "reported");
    s.complete(
        Role::Supervision,
        supervisor,
        id,
        "rectification_check",
        outcome,
    );
}

#[test]
fn a_tour_finds_problems_that_become_clues_and_rectifications_rechecked_and_reopened() {
    let s = System::start("100ms");

    // 提级监督: the county lists one village; the list keeps its history.
    let listed = s.post(
        Role::Head,
        COUNTY,
        "/api/v1/elevated-villages",
        json!({
            "village": LISTED, "reason": "信访举报集中, 三资问题突出",
            "period": { "from": "2026-01-01", "to": "2099-12-31" },
        }),
    );
    assert_eq!(listed.status, 201, "{}", listed.text);
    assert_conforms(
        "elevated-villages.json",
        &json!({ "listings": [listed.json()] }),
    );
    assert_eq!(listed.json()["in_force"], true);
    let again = s.post(
        Role::Head,
        COUNTY,
        "/api/v1/elevated-villages",
        json!({ "village": LISTED, "reason": "重复", "period": { "from": "2026-01-01", "to": "2026-12-31" } }),
    );
    assert_eq!(again.status, 409, "{}", again.text);

    // A clue about the listed village, registered by its township, is held
    // by the county, and its tasks say why.
    let clue = s.post(
        Role::CaseManagement,
        "370402101",
        "/api/v1/clues",
        json!({ "source": "supervision", "summary": "村干部优亲厚友", "subject_org": LISTED }),
    );
    assert_eq!(clue.status, 201, "{}", clue.text);
    assert_conforms("clue-created.json", &clue.json());
    assert_eq!(clue.json()["org"], COUNTY);
    let elevated_clue = clue.json()["id"].as_str().unwrap().to_owned();
    let assignment = s.task(Role::CaseManagement, COUNTY, &elevated_clue, "assignment");
    let basis = assignment["assignment_basis"].as_str().unwrap_or_default();
    assert!(basis.contains("提级监督"), "{assignment:#}");
    // A problem the clue revealed is recorded by the county and owned by the village.
    let from_clue = s.post(
        Role::Supervision,
        COUNTY,
        "/api/v1/problems",
        json!({
            "source": "clue", "source_ref": elevated_clue, "responsible_org": LISTED,
            "category": "选人用人", "description": "村务监督委员会成员由村干部亲属担任",
        }),
    );
    assert_eq!(from_clue.status, 201, "{}", from_clue.text);
    let from_clue = problem(&s, from_clue.json()["id"].as_str().unwrap());
    assert_eq!(
        (
            from_clue["source"].as_str(),
            from_clue["source_ref"].as_str()
        ),
        (Some("clue"), Some(elevated_clue.as_str()))
    );
    let not_held = s.post(
        Role::Supervision,
        "370403",
        "/api/v1/problems",
        json!({
            "source": "clue", "source_ref": elevated_clue, "responsible_org": "370403001201",
            "category": "x", "description": "y",
        }),
    );
    assert_eq!(not_held.status, 422, "{}", not_held.text);
    let neighbour = s.post(
        Role::CaseManagement,
        "370402101",
        "/api/v1/clues",
        json!({ "source": "supervision", "summary": "未列入的村", "subject_org": "370402101201" }),
    );
    assert_eq!(neighbour.json()["org"], "370402101", "{}", neighbour.text);

    // The tour of four villages.
    let tour = s.post(
        Role::Supervision,
        COUNTY,
        "/api/v1/tours",
        json!({
            "name": "市中区2026年第一轮巡察", "leader": "王组长", "members": ["李组员", "赵组员"],
            "period": { "from": "2026-03-01", "to": "2026-04-30" },
            "targets": VILLAGES,
        }),
    );
    assert_eq!(tour.status, 201, "{}", tour.text);
    assert_conforms("tour-created.json", &tour.json());
    let tour = tour.json()["id"].as_str().unwrap().to_owned();
    let outside = s.post(
        Role::Supervision,
        COUNTY,
        "/api/v1/tours",
        json!({
            "name": "越界", "leader": "王", "members": [],
            "period": { "from": "2026-03-01", "to": "2026-04-30" },
            "targets": ["370403001201"],
        }),
    );
    assert_eq!(outside.status, 422, "{}", outside.text);
    assert_eq!(outside.error_pointers(), ["/targets/0"]);

    // Five problems, one at each village and a second at the third.
    let found = [
        VILLAGES[0],
        VILLAGES[1],
        VILLAGES[2],
        VILLAGES[3],
        VILLAGES[2],
    ];
    let problems: Vec<String> = found
        .iter()
        .enumerate()
        .map(|(i, village)| {
            let reply = s.post(
                Role::Supervision,
                COUNTY,
                &format!("/api/v1/tours/{tour}/problems"),
                json!({
                    "target": village, "responsible_org": village, "category": "三资管理",
                    "description": format!("问题{}: 集体资产租赁未公开", i + 1),
                    "evidence": [format!("巡察底稿-{}", i + 1)],
                }),
            );
            assert_eq!(reply.status, 201, "{}", reply.text);
            assert_conforms("problem-created.json", &reply.json());
            reply.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();

    // 巡纪联动: two problems become clues, linked both ways, once each.
    let mut clues = Vec::new();
    for p in [&problems[0], &problems[4]] {
        let reply = s.post(
            Role::CaseManagement,
            COUNTY,
            "/api/v1/clues",
            json!({ "source": "inspection_tour", "summary": "巡察移交", "problem_id": p }),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        let clue = reply.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(s.clue_in(COUNTY, &clue)["problem_id"], **p);
        assert_eq!(problem(&s, p)["clue_id"], clue);
        clues.push(clue);
    }
    let twice = s.post(
        Role::CaseManagement,
        COUNTY,
        "/api/v1/clues",
        json!({ "source": "inspection_tour", "summary": "再次移交", "problem_id": problems[0] }),
    );
    assert_eq!(twice.status, 409, "{}", twice.text);

    // 回头看 of clues: one is closed and re-checked; the other is still open.
    let recheck = |clue: &str, body: Value| {
        s.post(
            Role::CaseManagement,
            COUNTY,
            &format!("/api/v1/clues/{clue}/recheck"),
            body,
        )
    };
    let upheld = json!({ "finding": "upheld", "note": "了结依据充分，档案齐全" });
    let early = recheck(&clues[0], upheld.clone());
    assert_eq!(early.status, 409, "{}", early.text);
    s.assign_and_dispose_in(COUNTY, &clues[1], "close");
    s.wait_clue_in(COUNTY, &clues[1], "closed");
    let vague = recheck(&clues[1], json!({ "finding": "fine", "note": "" }));
    assert_eq!(vague.status, 400, "{}", vague.text);
    assert_eq!(vague.error_pointers(), ["/finding", "/note"]);
    let rechecked = recheck(&clues[1], upheld);
    assert_eq!(rechecked.status, 201, "{}", rechecked.text);
    assert_conforms("clue-rechecked.json", &rechecked.json());
    let clue_events = s.clue_in(COUNTY, &clues[1])["events"].clone();
    assert!(
        clue_events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "rechecked"
                && e["note"].as_str().unwrap().starts_with("upheld: ")),
        "{clue_events}"
    );

    // Three problems are handed to their villages.
    let returned = &problems[1]; // 370402001202, supervised by its township
    let reopened = &problems[2]; // 370402101201, supervised by its township
    let elevated = &problems[3]; // the listed village: the county supervises
    for p in [returned, reopened] {
        let handed = hand_over(&s, p);
        assert_eq!(handed["elevated"], false);
    }
    let handed = hand_over(&s, elevated);
    assert_eq!(handed["supervisor"], COUNTY);
    assert_eq!(handed["elevated"], true);
    let again = s.post(
        Role::Supervision,
        COUNTY,
        &format!("/api/v1/problems/{elevated}/rectification"),
        json!({ "months": 2 }),
    );
    assert_eq!(again.status, 409, "{}", again.text);

    // The feedback lists each target's problems, with the clues they became.
    let detail = s.get(Role::Head, COUNTY, &format!("/api/v1/tours/{tour}"));
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_conforms("tour-detail.json", &detail.json());
    let targets = detail.json()["targets"].as_array().unwrap().clone();
    let counts: Vec<usize> = targets
        .iter()
        .map(|t| t["problems"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [1, 1, 2, 1]);
    assert_eq!(targets[0]["problems"][0]["clue_id"], clues[0]);

    // Returned once: the township sends the first report back with reasons.
    let township = "370402001";
    s.complete(
        Role::Staff,
        VILLAGES[1],
        returned,
        "rectification_report",
        "reported",
    );
    let check = s.task(Role::Supervision, township, returned, "rectification_check");
    let reasonless = s.post(
        Role::Supervision,
        township,
        &format!("/api/v1/tasks/{}/complete", check["id"].as_str().unwrap()),
        json!({ "outcome": "return" }),
    );
    assert_eq!(reasonless.status, 422, "{}", reasonless.text);
    assert_eq!(reasonless.error_pointers(), ["/note"]);
    s.complete(
        Role::Supervision,
        township,
        returned,
        "rectification_check",
        "return",
    );
    report_and_check(&s, returned, VILLAGES[1], township, "pass");
    s.complete(Role::Supervision, township, returned, "recheck", "holds");
    let done = wait_problem(&s, returned, "closed");
    assert_eq!(done["returned"], 1);
    assert_eq!(done["reopened"], 0);

    // More time, once per deadline; then a 回头看 that fails reopens the problem.
    let township = "370402101";
    let owner = bearer(Role::Staff, VILLAGES[2]);
    s.task(Role::Staff, VILLAGES[2], reopened, "rectification_report");
    let ask = |why: &str| {
        s.post_as(
            &owner,
            &format!("/api/v1/problems/{reopened}/more-time"),
            json!({ "months": 1, "reason": why }),
        )
    };
    let asked = ask("账目需审计");
    assert_eq!(asked.status, 202, "{}", asked.text);
    s.task(Role::Head, township, reopened, "deadline_extension");
    assert_eq!(ask("再延一次").status, 409);
    s.complete(
        Role::Head,
        township,
        reopened,
        "deadline_extension",
        "approve",
    );
    let extended = s.host.wait_for(PATIENCE, || {
        events(&problem(&s, reopened)).contains(&"more_time_granted")
    });
    assert!(extended, "{:#}", problem(&s, reopened));
    report_and_check(&s, reopened, VILLAGES[2], township, "pass");
    s.complete(Role::Supervision, township, reopened, "recheck", "fails");
    wait_problem(&s, reopened, "rectifying");
    report_and_check(&s, reopened, VILLAGES[2], township, "pass");
    s.complete(Role::Supervision, township, reopened, "recheck", "holds");
    let done = wait_problem(&s, reopened, "closed");
    assert_eq!(done["reopened"], 1);
    assert_eq!(done["returned"], 0);
    let steps: Vec<(&str, &str)> = done["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["step"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .collect();
    assert_eq!(steps[0], ("rectification_report", "cancelled"));
    assert_eq!(steps[1], ("deadline_extension", "done"));
    assert_eq!(steps[2], ("rectification_report", "done"));

    // 提级监督: the county, not the township, checks the listed village's
    // rectification, and the task says why.
    s.complete(
        Role::Staff,
        LISTED,
        elevated,
        "rectification_report",
        "reported",
    );
    let check = s.task(Role::Supervision, COUNTY, elevated, "rectification_check");
    let basis = check["assignment_basis"].as_str().unwrap_or_default();
    assert!(basis.contains("提级监督"), "{check:#}");
    assert!(
        s.tasks(Role::Supervision, "370402101")
            .iter()
            .all(|t| t["subject"]["id"] != **elevated),
        "the township must not get the listed village's check"
    );
    let p = problem(&s, elevated);
    assert_eq!(
        (p["supervisor"].as_str(), p["elevated"].as_bool()),
        (Some(COUNTY), Some(true))
    );

    // Unlisting ends the listing and keeps it in the history.
    let id = listed.json()["id"].as_i64().unwrap();
    let unlisted = s.post(
        Role::Head,
        COUNTY,
        &format!("/api/v1/elevated-villages/{id}/unlist"),
        json!({ "reason": "整改到位" }),
    );
    assert_eq!(unlisted.status, 200, "{}", unlisted.text);
    assert_eq!(unlisted.json()["in_force"], false);
    let current = s.get(Role::Head, COUNTY, "/api/v1/elevated-villages");
    assert_conforms("elevated-villages.json", &current.json());
    assert_eq!(current.json()["listings"].as_array().unwrap().len(), 0);
    let history = s.get(Role::Head, COUNTY, "/api/v1/elevated-villages?history=true");
    let history = history.json()["listings"].as_array().unwrap().clone();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["unlist_reason"], "整改到位");

    // The county's figures for the year count exactly what happened.
    let stats = s.get(
        Role::Head,
        COUNTY,
        "/api/v1/admin/stats?from=2026-01-01&to=2026-12-31",
    );
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_conforms("stats.json", &stats.json());
    let mut figures = stats.json()["figures"].clone();
    figures.as_object_mut().unwrap().remove("overdue_now");
    assert_eq!(
        figures,
        json!({
            "tours": 1, "targets_covered": 4, "problems_found": 6, "clues_transferred": 2,
            "clues_disposed": 1, "clues_rechecked": 1, "problems_rectified": 2, "rechecks_done": 3,
            "rechecks_failed": 1, "reports_received": 0, "reports_accepted": 0,
            "people_handled": 0, "screened": 0, "screening_hits": 0, "hits_confirmed": 0,
            "hits_dismissed": 0, "roster_removed": 0, "roster_newly_covered": 0,
        })
    );
    // Both ledgers open and hold those rows.
    let auth = bearer(Role::Head, COUNTY);
    let ledger = |ledger: &str, format: &str| {
        let asked = s.host.post_json(
            "/api/v1/admin/exports",
            &json!({ "ledger": ledger, "format": format }),
            &[("authorization", auth.as_str())],
        );
        assert_eq!(asked.status, 202, "{ledger}.{format}: {}", asked.text);
        assert_conforms("ledger-export-status.json", &asked.json());
        let id = asked.json()["id"].as_str().unwrap().to_owned();
        let mut status = Value::Null;
        let done = s.host.wait_for(PATIENCE, || {
            status = s
                .get(Role::Head, COUNTY, &format!("/api/v1/admin/exports/{id}"))
                .json();
            status["state"] == "done"
        });
        assert!(done, "{ledger}.{format} was never written: {status}");
        assert_conforms("ledger-export-status.json", &status);
        assert_eq!(status["rows_written"], status["rows_total"], "{status}");
        // Another county's administrators do not see it.
        let aside = s.get(Role::Head, "370403", &format!("/api/v1/admin/exports/{id}"));
        assert_eq!(aside.status, 404, "{}", aside.text);
        let reply = s.host.get(
            status["file"].as_str().unwrap(),
            &[("authorization", auth.as_str())],
        );
        assert_eq!(reply.status, 200, "{ledger}.{format}: {}", reply.text);
        assert_eq!(Some(reply.bytes.len() as i64), status["bytes"].as_i64());
        reply
    };
    let csv = ledger("problems", "csv");
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "问题编号,来源,发现单位,发现地点,责任单位,问题类别,问题描述,状态,记录时间,移交线索"
    );
    // The tour's five and the one the clue revealed, under one header.
    assert_eq!(lines.len(), 1 + problems.len() + 1, "{lines:#?}");
    for p in &problems {
        assert!(
            lines.iter().any(|l| l.starts_with(p.as_str())),
            "{p}: {lines:#?}"
        );
    }
    let xlsx = ledger("rectifications", "xlsx");
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes)).expect("an XLSX file");
    let sheet = book.worksheet_range("台账").expect("the ledger's sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "问题编号",
            "责任单位",
            "监督单位",
            "提级监督",
            "状态",
            "移交整改时间",
            "退回次数",
            "回头看未通过次数"
        ]
    );
    let mut handed: Vec<&String> = [returned, reopened, elevated].into_iter().collect();
    handed.sort();
    let ids: Vec<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(ids, handed);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(row(returned)[6], "1");
    assert_eq!(row(reopened)[7], "1");
    assert_eq!(
        (row(elevated)[2].as_str(), row(elevated)[3].as_str()),
        (COUNTY, "是")
    );

    // A sibling county's subtree is not the caller's.
    let aside = s.get(
        Role::Head,
        COUNTY,
        "/api/v1/admin/stats?from=2026-01-01&to=2026-12-31&org=370403",
    );
    assert_eq!(aside.status, 403, "{}", aside.text);
}

/// The city commission that leads the campaign (枣庄市纪委监委).
const CITY: &str = "370400";
/// Four city departments take part; the last misses its self-inspection.
/// In the order the campaign lists them (by org id).
const DEPARTMENTS: [&str; 4] = ["370400-mzj", "370400-rsj", "370400-swj", "370400-zjj"];

/// The kinds of a task's events, oldest first, as the city's head reads them.
fn task_event_kinds(s: &System, task: &str) -> Vec<String> {
    let reply = s.get(Role::Head, CITY, &format!("/api/v1/tasks/{task}"));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_conforms("task.json", &reply.json());
    reply.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_campaign_runs_each_department_and_a_missed_self_inspection_climbs_the_ladder() {
    let s = System::start("100ms");
    let started = s.post(
        Role::Head,
        CITY,
        "/api/v1/campaigns",
        json!({
            "kind": "special_rectification", "topic": "农村供水保障专项整治",
            "lead_department": "370400-swj", "participants": DEPARTMENTS,
            "period": { "from": "2026-06-01", "to": "2026-12-31" },
            "checklist": ["供水工程建设资金是否专款专用", "水费收缴是否公开"],
            "deadlines": { "self_inspection_days": 5, "joint_check_days": 5, "rectification_days": 10 },
        }),
    );
    assert_eq!(started.status, 201, "{}", started.text);
    assert_conforms("campaign-created.json", &started.json());
    let campaign = started.json()["id"].as_str().unwrap().to_owned();
    let part = |org: &str| format!("{campaign}/{org}");

    // Three report their self-inspection; the fourth does not.
    for org in &DEPARTMENTS[..3] {
        s.complete(Role::Staff, org, &part(org), "self_inspection", "reported");
    }
    let late = &DEPARTMENTS[3];
    let task = s.task(Role::Staff, late, &part(late), "self_inspection");
    let task = task["id"].as_str().unwrap().to_owned();
    let mut kinds = Vec::new();
    let climbed = s.host.wait_for(PATIENCE, || {
        kinds = task_event_kinds(&s, &task);
        kinds.iter().any(|k| k == "elevated")
    });
    assert!(climbed, "{kinds:?}\nworker log:\n{}", s.worker.logs());
    let at = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    assert!(at("opened") < at("reminder"), "{kinds:?}");
    assert!(at("reminder") < at("overdue"), "{kinds:?}");
    assert!(at("overdue") < at("elevated"), "{kinds:?}");

    // The overdue view, filtered to the campaign, shows it elevated.
    let rows = s.overdue(Role::Head, CITY, &format!("campaign={campaign}"));
    let row = rows
        .iter()
        .find(|r| r["task_id"] == *task)
        .unwrap_or_else(|| panic!("{task} not in {rows:#?}"));
    assert_eq!(row["escalation_level"], 2);
    assert_eq!(row["colour"], "elevated", "四色: 提级");
    assert_eq!(
        row["links"]["subject"],
        format!("/api/v1/campaigns/{campaign}")
    );
    assert!(
        rows.iter()
            .all(|r| r["subject"]["id"].as_str().unwrap().starts_with(&campaign)),
        "{rows:#?}"
    );
    assert!(s.overdue(Role::Head, CITY, "campaign=K0").is_empty());

    // The on-site check of the first records a problem with a recommendation;
    // it then reports its rectification and is done.
    let first = DEPARTMENTS[0];
    let found = s.post(
        Role::Supervision,
        CITY,
        &format!("/api/v1/campaigns/{campaign}/problems"),
        json!({
            "participant": first, "category": "资金管理",
            "description": "供水补助资金拨付滞后", "recommendation": "建立资金拨付台账, 按月通报",
        }),
    );
    assert_eq!(found.status, 201, "{}", found.text);
    let outsider = s.post(
        Role::Supervision,
        CITY,
        &format!("/api/v1/campaigns/{campaign}/problems"),
        json!({ "participant": "370400-czj", "category": "x", "description": "y" }),
    );
    assert_eq!(outsider.status, 422, "{}", outsider.text);
    s.complete(
        Role::Supervision,
        CITY,
        &part(first),
        "joint_check",
        "checked",
    );
    s.complete(
        Role::Staff,
        first,
        &part(first),
        "campaign_rectification",
        "reported",
    );

    // Progress per participant.
    let mut detail = Value::Null;
    let progressed = s.host.wait_for(PATIENCE, || {
        let reply = s.get(Role::Head, CITY, &format!("/api/v1/campaigns/{campaign}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        detail = reply.json();
        detail["participants"][0]["state"] == "done"
    });
    assert!(progressed, "{detail:#}");
    assert_conforms("campaign-detail.json", &detail);
    let states: Vec<&str> = detail["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["done", "joint_check", "joint_check", "self_inspection"]
    );
    let late_part = &detail["participants"][3];
    assert_eq!(late_part["open_steps"][0]["escalation_level"], 2);
    assert_eq!(detail["participants"][0]["problems"], 1);
    assert_eq!(
        detail["problems"][0]["recommendation"],
        "建立资金拨付台账, 按月通报"
    );
    let problem_id = detail["problems"][0]["id"].as_str().unwrap();
    let reply = s.get(Role::Head, CITY, &format!("/api/v1/problems/{problem_id}"));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_conforms("problem-detail.json", &reply.json());
    assert_eq!(reply.json()["campaign_id"], campaign);
    assert_eq!(reply.json()["source"], "campaign");
    // A participant sees the campaign; a department outside it does not.
    let own = s.get(Role::Staff, first, &format!("/api/v1/campaigns/{campaign}"));
    assert_eq!(own.status, 200, "{}", own.text);
    let other = s.get(
        Role::Staff,
        "370400-czj",
        &format!("/api/v1/campaigns/{campaign}"),
    );
    assert_eq!(other.status, 404, "{}", other.text);
}
