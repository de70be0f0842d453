//! The pages people use, served by the `pages` component from spin.toml's
//! `files` mount, and driven in a real headless Chromium on a phone's
//! viewport: a reporter submits a report, keeps the receipt and follows it
//! up. Screenshots of each page go to `target/screenshots/`.

use jiandu_tests::browser::{Browser, PHONE};
use jiandu_tests::{Host, repo};
use serde_json::json;

/// WebDriver's Tab and Enter keys.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// A valid resident ID number (its check character is `X`) and the same with a wrong one.
const ID_NUMBER: &str = "11010519491231002X";
const WRONG_ID_NUMBER: &str = "110105194912310021";
const PHONE_NUMBER: &str = "13812345678";

/// Access-log lines of `POST /api/v1/reports` with `status`.
fn submissions(host: &Host, status: u16) -> usize {
    host.logs()
        .lines()
        .filter(|l| {
            l.contains("method=POST")
                && l.contains("path=/api/v1/reports ")
                && l.contains(&format!("status={status}"))
        })
        .count()
}

#[test]
fn pages_are_served_from_the_files_mount_and_load_nothing_from_elsewhere() {
    let host = Host::start_product();
    let index = host.get("/", &[]);
    assert_eq!(index.status, 200, "{}", index.text);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        index.text,
        std::fs::read_to_string(repo().join("clients/web/index.html")).unwrap()
    );
    let policy = index.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("default-src 'self'"), "{policy}");

    let script = host.get("/js/report.js", &[]);
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    // Revalidated by its ETag rather than cached blindly.
    assert_eq!(script.header("cache-control"), Some("no-cache"));
    let etag = script.header("etag").expect("an etag").to_owned();
    let again = host.get("/js/report.js", &[("if-none-match", etag.as_str())]);
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());

    // The API keeps its routes; nothing outside the mount or hidden is served.
    assert_eq!(host.get("/api/v1/openapi.json", &[]).status, 200);
    for path in ["/.hidden", "/js/%2e%2e/index.html", "/nothing.html", "/js"] {
        let refused = host.get(path, &[]);
        assert_eq!(refused.status, 404, "{path}: {}", refused.text);
        assert!(refused.json()["errors"].is_array(), "{path}");
    }
    assert_eq!(host.send("POST", "/", &[], Some(b"x")).status, 405);

    // Nothing the pages contain names another origin: no CDN, no web font.
    let files = walk(&repo().join("clients/web"));
    assert!(files.len() >= 5, "{files:?}");
    for entry in files {
        let text = std::fs::read_to_string(&entry).unwrap();
        for scheme in ["http://", "https://", "//cdn", "@import url("] {
            assert!(
                !text.contains(scheme),
                "{} names another origin ({scheme})",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_reporter_on_a_phone_submits_a_real_name_report_and_follows_it_up() {
    let host = Host::start_product();
    let browser = Browser::start(PHONE);
    browser.open(&host.url("/"));
    browser.screenshot("report-form");

    // Checked in the page, from schemas/report.json, before anything is sent.
    browser.click("#submit");
    browser.wait_until(
        "!document.getElementById('content-error').hidden",
        "the errors of an empty form",
    );
    for field in ["category", "division_code", "subject_name", "content"] {
        let error = browser.text(&format!("#{field}-error"));
        assert!(!error.is_empty(), "{field} shows no error");
    }
    assert_eq!(browser.text("#content-error"), "至少 10 个字");
    browser.screenshot("report-form-errors");

    browser.click("input[value=real_name]");
    browser.choose("#category", "integrity");
    browser.fill("#division_code", "370402");
    browser.fill("#subject_name", "张某");
    browser.fill("#subject_unit", "某镇政府");
    browser.fill(
        "#content",
        "2025年3月在村集体土地流转中收受承包方现金两万元，村民王某知情。",
    );
    browser.fill("#reporter_name", "李四");
    browser.fill("#reporter_phone", PHONE_NUMBER);
    browser.fill("#reporter_id_number", WRONG_ID_NUMBER);
    browser.click("#submit");
    browser.wait_until(
        "!document.getElementById('reporter_id_number-error').hidden",
        "the check character's error",
    );
    assert_eq!(
        browser.text("#reporter_id_number-error"),
        "身份证号校验位不正确"
    );
    assert_eq!(submissions(&host, 201), 0, "nothing invalid was sent");

    browser.fill("#reporter_id_number", ID_NUMBER);
    browser.click("#submit");
    browser.wait_until("!document.getElementById('receipt').hidden", "the receipt");
    assert_eq!(
        browser.script(
            "return [getComputedStyle(document.getElementById('report')).display, \
             document.activeElement.id];",
            json!([])
        ),
        json!(["none", "receipt-heading"]),
        "the receipt replaces the form, and has the focus"
    );
    let code = browser.text("#receipt-code");
    let secret = browser.text("#receipt-secret");
    assert!(
        code.starts_with("JD") && code.len() == 14,
        "receipt code {code}"
    );
    assert!(secret.len() >= 16, "secret {secret}");
    assert!(
        browser.text("#receipt-due").contains("检控"),
        "a real-name report shows its acceptance deadline and article"
    );
    assert!(browser.text(".warning").contains("只显示这一次"));
    browser.screenshot("report-receipt");
    assert_eq!(submissions(&host, 201), 1);

    // The reporter's credential and identity stay out of the log and the address.
    browser.click("#receipt-done");
    browser.wait_until(
        "location.pathname === '/follow.html' && document.body.dataset.ready === 'true'",
        "the follow-up page",
    );
    let href = browser.script("return location.href;", json!([]));
    assert!(!href.as_str().unwrap().contains(&secret), "{href}");
    assert_eq!(
        browser.script("return document.getElementById('code').value;", json!([])),
        json!(code)
    );

    // A wrong secret is told apart from nothing.
    browser.fill("#secret", "WRONGSECRET");
    browser.click("#lookup button[type=submit]");
    browser.wait_until(
        "!document.querySelector('#lookup .form-error').hidden",
        "the wrong secret's error",
    );
    assert_eq!(
        browser.text("#lookup .form-error"),
        "查询码或查询密码不正确。"
    );

    browser.fill("#secret", &secret);
    browser.click("#lookup button[type=submit]");
    browser.wait_until("!document.getElementById('report').hidden", "the report");
    assert_eq!(browser.text("#report-status"), "已收到");
    assert!(browser.text("#timeline").contains("已收到"));
    assert!(browser.text("#report-due").contains("检控"));
    browser.screenshot("follow-up");

    // Feedback waits for the result; the server's reason is shown.
    browser.choose("#rating", "5");
    browser.click("#feedback button[type=submit]");
    browser.wait_until(
        "!document.querySelector('#feedback .form-error').hidden",
        "the feedback refusal",
    );
    assert!(browser.text("#feedback .form-error").contains("concluded"));

    browser.click("#lang");
    browser.wait_until(
        "document.getElementById('report-status').innerText === 'Received'",
        "the English status",
    );
    browser.screenshot("follow-up-en");

    let stored = browser.script(
        "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie;",
        json!([]),
    );
    assert!(!stored.as_str().unwrap().contains(&secret), "{stored}");
    let logs = host.logs();
    for private in [secret.as_str(), PHONE_NUMBER, ID_NUMBER, "李四"] {
        assert!(!logs.contains(private), "{private} is in the host's log");
    }
}

#[test]
fn the_report_page_fits_a_phone_labels_every_field_and_works_from_the_keyboard() {
    let host = Host::start_product();
    let browser = Browser::start(PHONE);
    browser.open(&host.url("/"));
    browser.click("input[value=real_name]");

    let width = browser.script(
        "return [window.innerWidth, document.documentElement.scrollWidth];",
        json!([]),
    );
    assert_eq!(width, json!([PHONE.0, PHONE.0]), "no sideways scrolling");
    let unlabelled = browser.script(
        "return [...document.querySelectorAll('input, select, textarea')]
           .filter((el) => el.labels.length === 0)
           .map((el) => el.outerHTML);",
        json!([]),
    );
    assert_eq!(unlabelled, json!([]), "every field has a label");

    // Tab walks the fields in reading order.
    browser.script("document.getElementById('category').focus();", json!([]));
    let mut order = Vec::new();
    for _ in 0..4 {
        browser.press(TAB);
        order.push(browser.script("return document.activeElement.id;", json!([])));
    }
    assert_eq!(
        order,
        [
            json!("division_code"),
            json!("subject_name"),
            json!("subject_unit"),
            json!("subject_position")
        ]
    );
    // Enter in a field submits the form, which checks it and focuses the first field in error.
    browser.script(
        "document.getElementById('division_code').focus();",
        json!([]),
    );
    browser.press(&format!("12{ENTER}"));
    browser.wait_until(
        "!document.getElementById('division_code-error').hidden",
        "the errors after Enter",
    );
    assert_eq!(
        browser.text("#division_code-error"),
        "请输入6位或12位行政区划代码"
    );
    assert_eq!(
        browser.script("return document.activeElement.id;", json!([])),
        json!("category")
    );
    browser.screenshot("report-form-keyboard");
    assert_eq!(submissions(&host, 201), 0);
}
