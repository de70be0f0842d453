//! The board in a real headless Chromium on a phone's viewport, against the
//! real host, Temporal dev server and worker: a department completes its
//! step from its inbox; the city's head watches another department's step
//! turn overdue under the time scale, filters for it, opens its timeline,
//! reads the figures and exports a ledger. And `/dev/sign-in`, which exists
//! only when `jiandu up --dev-sign-in` asks for it.

use std::process::Command;

use jiandu_domain::org::Role;
use jiandu_tests::browser::{Browser, PHONE};
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::{Host, jiandu_bin, repo, token};
use serde_json::json;

const CITY: &str = "370400";
/// 民政局 does its self-inspection from the board; 人社局 lets it run late.
const PROMPT: &str = "370400-mzj";
const LATE: &str = "370400-rsj";

#[test]
fn a_department_completes_its_step_and_the_head_watches_another_turn_overdue() {
    // A working day of 10 s: the 3-day self-inspection falls due 30 s in.
    let s = System::start("10s");
    let started = s.post(
        Role::Head,
        CITY,
        "/api/v1/campaigns",
        json!({
            "kind": "special_rectification", "topic": "群众身边不正之风专项整治",
            "lead_department": PROMPT, "participants": [PROMPT, LATE],
            "period": { "from": "2026-06-01", "to": "2026-12-31" },
            "checklist": ["低保资金是否按时足额发放"],
            "deadlines": { "self_inspection_days": 3, "joint_check_days": 3, "rectification_days": 5 },
        }),
    );
    assert_eq!(started.status, 201, "{}", started.text);
    let campaign = started.json()["id"].as_str().unwrap().to_owned();

    let browser = Browser::start(PHONE);
    browser.open(&s.host.url("/board/"));
    browser.wait_until(
        "!document.getElementById('signin').hidden",
        "the sign-in form",
    );
    browser.screenshot("board-signin");

    // 民政局's staff completes its self-inspection from its inbox.
    browser.fill("#token", &token(Role::Staff, PROMPT));
    browser.click("#token-signin button[type=submit]");
    browser.wait_until("!document.getElementById('overdue').hidden", "the board");
    browser.click("a[href='#inbox']");
    browser.wait_refreshing(
        "document.querySelector('#inbox-list form.complete')",
        "#inbox-refresh",
        PATIENCE,
        "the self-inspection in the inbox",
    );
    browser.choose("#inbox-list select[name=outcome]", "reported");
    browser.fill(
        "#inbox-list textarea[name=note]",
        "已完成自查：低保资金按月足额发放，未发现问题。",
    );
    browser.click("#inbox-list form.complete button[type=submit]");
    browser.wait_until(
        "!document.querySelector('#inbox-list .notice').hidden",
        "the completion notice",
    );
    assert!(
        browser.text("#inbox-list li.card strong").contains("自查"),
        "{}",
        browser.text("#inbox-list")
    );
    browser.screenshot("board-inbox");
    let subject = format!("{campaign}/{PROMPT}");
    let done = s.host.wait_for(PATIENCE, || {
        !s.tasks(Role::Staff, PROMPT)
            .iter()
            .any(|t| t["subject"]["id"] == subject.as_str() && t["step"] == "self_inspection")
    });
    assert!(done, "the completed step is still open");

    // The city's head signs in and sees the other step, not yet late.
    browser.click("#signout");
    browser.wait_until("!document.getElementById('signin').hidden", "signed out");
    browser.fill("#token", &token(Role::Head, CITY));
    browser.click("#token-signin button[type=submit]");
    browser.wait_until(
        "!document.getElementById('overdue').hidden",
        "the head's board",
    );
    let fit = browser.script(
        "return [document.documentElement.scrollWidth <= window.innerWidth,
                 [...document.querySelectorAll('input, select, textarea')]
                   .filter((el) => el.labels.length === 0).map((el) => el.outerHTML)];",
        json!([]),
    );
    assert_eq!(
        fit,
        json!([true, []]),
        "fits the phone, every field labelled"
    );
    let late_subject = format!("{campaign}/{LATE}");
    let card = format!(
        "[...document.querySelectorAll('#subtree-list li.card')].find((c) => c.dataset.subject === '{late_subject}')"
    );
    browser.wait_refreshing(
        &card,
        "#filters button[type=submit]",
        PATIENCE,
        "the late department's step below the city",
    );
    let first_colour = browser.script(&format!("return {card}.dataset.colour;"), json!([]));
    assert!(
        first_colour == json!("on_time") || first_colour == json!("due_soon"),
        "first seen {first_colour}, before its due time"
    );

    // Filtered to the campaign and its kind, it turns overdue.
    browser.fill("#f-campaign", &campaign);
    browser.choose("#f-kind", "campaign_participant");
    browser.wait_refreshing(
        "document.querySelector('#overdue-list li.card')",
        "#filters button[type=submit]",
        PATIENCE,
        "the step in the overdue list",
    );
    let row = browser.script(
        "const c = document.querySelector('#overdue-list li.card');
         return [c.dataset.colour, c.dataset.task, c.innerText];",
        json!([]),
    );
    assert!(
        row[0] == json!("overdue") || row[0] == json!("elevated"),
        "{row}"
    );
    let task = row[1].as_str().unwrap().to_owned();
    assert!(
        row[2].as_str().unwrap().contains("逾期"),
        "the card names its colour in words: {row}"
    );
    assert!(
        s.overdue(Role::Head, CITY, &format!("campaign={campaign}"))
            .iter()
            .any(|r| r["task_id"] == task.as_str() && r["subject"]["id"] == late_subject.as_str()),
        "the board shows what the API says"
    );
    browser.screenshot("board-overdue");

    // Its timeline: assigned, pressed (督办), with the article.
    browser.click("#overdue-list li.card a.timeline-link");
    browser.wait_until(
        "!document.getElementById('task').hidden && document.querySelector('#task-events li[data-event=overdue]')",
        "the timeline",
    );
    let events = browser.script(
        "return [...document.querySelectorAll('#task-events li')].map((li) => li.dataset.event);",
        json!([]),
    );
    let events: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // In the ladder's order; a step shorter than its reminder lead has no 催办.
    let ladder = ["opened", "reminder", "overdue", "elevated"];
    let rungs: Vec<usize> = events
        .iter()
        .map(|e| ladder.iter().position(|l| l == e).unwrap())
        .collect();
    assert!(rungs.is_sorted(), "{events:?}");
    assert_eq!(events.first(), Some(&"opened"), "{events:?}");
    assert!(events.contains(&"overdue"), "{events:?}");
    assert!(
        browser.text("#task-events").contains("督办"),
        "{}",
        browser.text("#task-events")
    );
    assert!(!browser.text("#task-facts").is_empty());
    browser.screenshot("board-timeline");

    // The campaign's progress per participant: one has moved on, the other is late.
    browser.click("#task-campaign");
    browser.wait_until(
        "!document.getElementById('campaign').hidden && document.querySelector('#campaign-participants tr')",
        "the campaign's progress",
    );
    let stages = browser.script(
        "return Object.fromEntries([...document.querySelectorAll('#campaign-participants tr')]
           .map((tr) => [tr.dataset.participant, tr.dataset.stage]));",
        json!([]),
    );
    assert_eq!(stages[LATE], "self_inspection", "{stages}");
    assert_ne!(stages[PROMPT], "self_inspection", "{stages}");
    let late_step = browser.script(
        &format!("return document.querySelector('#campaign-participants tr[data-participant=\"{LATE}\"] .chip').dataset.colour;"),
        json!([]),
    );
    assert!(
        late_step == json!("overdue") || late_step == json!("elevated"),
        "{late_step}"
    );
    browser.screenshot("board-campaign");

    // The figures, as a chart.
    browser.click("a[href='#stats']");
    browser.wait_until(
        "document.querySelector('#chart .bar[data-figure=overdue_now]')",
        "the chart",
    );
    let overdue_now = browser.text("#chart .bar[data-figure=overdue_now] .bar-value");
    assert!(
        overdue_now.parse::<u32>().unwrap() >= 1,
        "overdue now: {overdue_now}"
    );
    browser.screenshot("board-stats");

    // A ledger, written by the worker and downloaded with the token.
    browser.click("a[href='#exports']");
    browser.wait_until(
        "document.querySelector('#export-buttons button')",
        "the ledger buttons",
    );
    browser.click("#export-buttons button[data-ledger=problems][data-format=csv]");
    browser.wait_until(
        "document.querySelector('#export-list a.download')",
        "the finished ledger",
    );
    let link = browser.script(
        "const a = document.querySelector('#export-list a.download');
         return [a.getAttribute('download'), Number(a.dataset.bytes), a.closest('li').dataset.export];",
        json!([]),
    );
    assert_eq!(link[0], json!("problems.csv"));
    // The page holds the whole file: as many bytes as the API says it has.
    let export = link[2].as_str().unwrap();
    let status = s.get(Role::Head, CITY, &format!("/api/v1/admin/exports/{export}"));
    assert_eq!(status.json()["state"], "done", "{}", status.text);
    assert_eq!(link[1], status.json()["bytes"], "{}", status.text);
    let file = s.get(
        Role::Head,
        CITY,
        &format!("/api/v1/admin/exports/{export}/file"),
    );
    assert!(file.text.contains(','), "{}", file.text);
    browser.screenshot("board-exports");
}

#[test]
fn dev_sign_in_mints_tokens_for_the_demo_people_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = format!("sqlite://{}", dir.path().join("scratch.db").display());
    let issuers = dir.path().join("issuers");
    let manifest = repo().join("spin.toml");
    let jiandu = |args: &[&str]| {
        let out = Command::new(jiandu_bin())
            .args(args)
            .args(["--database-url", &scratch, "--from"])
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    jiandu(&["migrate"]);
    let issuers_arg = issuers.to_str().unwrap();
    let trust_list = jiandu(&["trust-list", "--issuers", issuers_arg]);
    let host = Host::start_with(
        &manifest,
        &[("SPIN_VARIABLE_TRUST_LIST", trust_list.trim())],
        &["--dev-sign-in", issuers_arg],
    );

    let people = host.get("/dev/sign-in", &[]);
    assert_eq!(people.status, 200, "{}", people.text);
    let listed = people.json()["people"].as_array().unwrap().clone();
    assert!(
        listed
            .iter()
            .any(|p| p["id"] == "370400/head" && p["org"] == CITY),
        "{listed:?}"
    );

    let signed = host.post_json("/dev/sign-in", &json!({ "person": "370400/head" }), &[]);
    assert_eq!(signed.status, 200, "{}", signed.text);
    let bearer = format!("Bearer {}", signed.json()["token"].as_str().unwrap());
    let orgs = host.get("/api/v1/orgs", &[("authorization", bearer.as_str())]);
    assert_eq!(
        orgs.status, 200,
        "the minted token is accepted: {}",
        orgs.text
    );

    let nobody = host.post_json("/dev/sign-in", &json!({ "person": "nobody" }), &[]);
    assert_eq!(nobody.status, 400);
    assert_eq!(nobody.error_pointers(), ["/person"]);
    assert!(host.logs().contains("dev sign-in is on"));

    // Without the flag there is no such route: the pages' 404.
    let plain = Host::start_product();
    assert_eq!(plain.get("/dev/sign-in", &[]).status, 404);
    assert_eq!(
        plain
            .post_json("/dev/sign-in", &json!({ "person": "370400/head" }), &[])
            .status,
        405,
        "the pages refuse a POST; nothing mints"
    );
}
