//! The workflows end to end: the real host, the real worker and a real
//! Temporal dev server per test. Deadlines run on a time scale
//! (`JIANDU_TIME_SCALE`, one working day in milliseconds), never a fake clock.

use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::temporal::Worker;
use jiandu_tests::{
    HIGHER_ORG, NATIONAL_ORG, ORG, assert_conforms, bearer, issuer, now, on_postgres, person,
    texts, token_for,
};
use serde_json::{Value, json};

#[test]
fn each_disposal_path_runs_to_its_end() {
    // Slow enough that nothing here falls due: no step may escalate.
    let s = System::start("20s");
    let closed = s.register_clue();
    let held = s.register_clue();
    let inquiry = s.register_clue();
    let case = s.register_clue();

    // A disposal needs a collective decision that settled that very mode.
    s.complete(Role::CaseManagement, ORG, &closed, "assignment", "proposed");
    s.complete(Role::Head, ORG, &closed, "assignment_approval", "approve");
    s.task(Role::Supervision, ORG, &closed, "disposal");
    let other = s.decide(&closed, "disposal", "hold");
    let wrong = s.dispose(&closed, "close", &other);
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    let decision = s.decide(&closed, "disposal", "close");
    let reply = s.dispose(&closed, "close", &decision);
    assert_eq!(reply.status, 202, "{}", reply.text);

    s.assign_and_dispose(&held, "hold");

    s.assign_and_dispose(&inquiry, "talk_inquiry");
    // Without the person's org, the talk is the commission's own.
    s.complete(Role::Supervision, ORG, &inquiry, "inquiry_reply", "replied");
    s.complete(Role::Supervision, ORG, &inquiry, "inquiry_report", "close");
    // 规则 Art. 30: closing after an inquiry needs the head's approval.
    let closing = s.task(Role::Head, ORG, &inquiry, "inquiry_closing");
    assert_eq!(closing["article"], "规则 Art. 30");
    s.complete(Role::Head, ORG, &inquiry, "inquiry_closing", "approve");

    s.file_case(&case);
    s.complete(
        Role::Investigation,
        ORG,
        &case,
        "investigation",
        "to_review",
    );
    // 审理 concludes on a collective decision (规则 Art. 53); without one it is refused.
    let review = s.task(Role::Review, ORG, &case, "case_review");
    let bare = s.post(
        Role::Review,
        ORG,
        &format!("/api/v1/tasks/{}/complete", review["id"].as_str().unwrap()),
        json!({ "outcome": "concluded" }),
    );
    assert_eq!(bare.status, 422, "{}", bare.text);
    s.complete_decided(Role::Review, &case, "case_review", "review", "concluded");

    for (clue, state) in [
        (&closed, "closed"),
        (&held, "held"),
        (&inquiry, "closed"),
        (&case, "closed"),
    ] {
        let c = s.wait_clue(clue, state);
        for task in c["tasks"].as_array().unwrap() {
            assert_eq!(task["status"], "done", "{task:#}");
            assert_eq!(task["escalation_level"], 0, "on time: {task:#}");
            assert!(!task["article"].as_str().unwrap().is_empty(), "{task:#}");
        }
    }
    // A second disposal on a closed clue is a conflict naming the state.
    let again = s.dispose(&closed, "close", &decision);
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains("closed"), "{}", again.text);
}

#[test]
fn an_unanswered_inquiry_is_reminded_supervised_elevated_and_shown_as_overdue() {
    // One working day = 150 ms: the 15-working-day reply is due in 2.25 s.
    let s = System::start("150ms");
    let clue = s.register_clue();
    s.assign_and_dispose(&clue, "talk_inquiry");
    let task = s.task(Role::Supervision, ORG, &clue, "inquiry_reply");
    assert_eq!(task["article"], "规则 Art. 29");
    let id = task["id"].as_str().unwrap().to_owned();
    let climbed = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE id = '{id}' AND escalation_level = 2"
        )) == 1
    });
    assert!(climbed, "never elevated; worker log:\n{}", s.worker.logs());
    assert_eq!(
        s.task_events(&id),
        ["opened", "reminder", "overdue", "elevated"],
        "the ladder is climbed in order"
    );
    let overdue = s.task(Role::Supervision, ORG, &clue, "inquiry_reply");
    assert_eq!(overdue["status"], "overdue");
    let auth = bearer(Role::Supervision, ORG);
    let detail = s.host.get(
        &format!("/api/v1/tasks/{id}"),
        &[("authorization", auth.as_str())],
    );
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_conforms("task.json", &detail.json());
    assert_eq!(
        texts(&detail.json()["events"], "kind"),
        ["opened", "reminder", "overdue", "elevated"]
    );
    let other = bearer(Role::Petitions, ORG);
    let hidden = s.host.get(
        &format!("/api/v1/tasks/{id}"),
        &[("authorization", other.as_str())],
    );
    assert_eq!(hidden.status, 404, "{}", hidden.text);
    assert_eq!(overdue["reminders_sent"], 1);
    // The city commission's own late step: pressed by the province, elevated to 国家监委.
    assert_eq!(overdue["supervised_by"], HIGHER_ORG);
    assert_eq!(overdue["elevated_to"], NATIONAL_ORG);
    // The administrators' overdue view: the city's and the province's heads
    // see it, with its rung and links; filters and paging narrow it.
    let rows = s.overdue(Role::Head, ORG, "");
    let row = rows
        .iter()
        .find(|r| r["task_id"] == id.as_str())
        .expect("the late step is in the city's overdue view");
    assert_eq!(row["escalation_level"], 2);
    assert_eq!(row["article"], "规则 Art. 29");
    assert_eq!(row["links"]["task"], format!("/api/v1/tasks/{id}"));
    assert_eq!(row["links"]["subject"], format!("/api/v1/clues/{clue}"));
    // Late by well under a day: one working day here is 150 ms.
    assert_eq!(row["days_late"], 0);
    assert!(row["late_seconds"].as_i64().unwrap() < 86_400);
    let ids = |query: &str, org: &str| -> Vec<String> {
        texts(&Value::Array(s.overdue(Role::Head, org, query)), "task_id")
    };
    assert!(
        ids("", HIGHER_ORG).contains(&id),
        "the province watches the city"
    );
    assert!(ids("rung=elevated&kind=clue", ORG).contains(&id));
    assert!(!ids("rung=overdue", ORG).contains(&id));
    assert!(!ids("kind=report", ORG).contains(&id));
    assert!(!ids("department=petitions", ORG).contains(&id));
    assert!(
        !ids("min_days_late=1", ORG).contains(&id),
        "late by seconds"
    );
    assert!(ids(&format!("org={ORG}"), HIGHER_ORG).contains(&id));
    let first = s.overdue_page(Role::Head, ORG, "limit=1");
    assert_eq!(first["rows"].as_array().unwrap().len(), 1);
    let next = first["next"]
        .as_str()
        .expect("a full page has a next")
        .to_owned();
    let rest = s.overdue_page(
        Role::Head,
        ORG,
        &format!(
            "limit=500&after={}",
            next.replace('+', "%2B").replace('|', "%7C")
        ),
    );
    let mut paged = texts(&first["rows"], "task_id");
    paged.extend(texts(&rest["rows"], "task_id"));
    assert_eq!(
        paged,
        ids("limit=500", ORG),
        "pages cover the view once, in order"
    );
    assert_eq!(
        s.get(
            Role::Head,
            ORG,
            &format!("/api/v1/admin/overdue?org={HIGHER_ORG}")
        )
        .status,
        403,
        "the province is not in the city's subtree"
    );
    // Late is still answered: the workflow goes on.
    s.complete(Role::Supervision, ORG, &clue, "inquiry_reply", "replied");
    s.complete(Role::Supervision, ORG, &clue, "inquiry_report", "close");
    s.complete(Role::Head, ORG, &clue, "inquiry_closing", "approve");
    s.wait_clue(&clue, "closed");
    s.record("clue-inquiry-escalated", &clue);
}

#[test]
fn detention_starts_only_with_higher_approval_and_extends_by_article_48() {
    let s = System::start("100ms");
    let clue = s.register_clue();
    s.file_case(&clue);

    let no_decision = s.request_detention(&clue, "D-none");
    assert_eq!(no_decision.status, 422, "{}", no_decision.text);
    // A decision not to detain cannot back a request to detain: it binds.
    let against = s.decide(&clue, "detention", "not_detain");
    let refused = s.request_detention(&clue, &against);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("not_detain"), "{}", refused.text);
    let decision = s.decide(&clue, "detention", "detain");
    let requested = s.request_detention(&clue, &decision);
    assert_eq!(requested.status, 202, "{}", requested.text);
    assert_eq!(requested.json()["approver"], HIGHER_ORG);

    // Only the head of the next-higher commission may approve; meanwhile it
    // never starts, however late the approval runs.
    let approval = s.task(Role::Head, HIGHER_ORG, &clue, "detention_approval");
    assert_eq!(approval["article"], "监察法 Art. 47");
    let approval_id = approval["id"].as_str().unwrap();
    let approve = format!("/api/v1/tasks/{approval_id}/approve");
    // The city's own head cannot see the province's task, let alone approve it.
    let own_head = s.post(Role::Head, ORG, &approve, json!({}));
    assert_eq!(own_head.status, 404, "{}", own_head.text);
    // Nor can the city's issuer mint the province's approval.
    let forged = issuer(ORG).token(
        &person(Role::Head, HIGHER_ORG),
        HIGHER_ORG,
        &[Role::Head],
        now(),
        3600,
    );
    let forged = s.post_as(&format!("Bearer {forged}"), &approve, json!({}));
    assert_eq!(forged.status, 401, "{}", forged.text);
    assert!(forged.text.contains("may not speak for"), "{}", forged.text);
    let waited = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE id = '{approval_id}' AND escalation_level = 2"
        )) == 1
    });
    assert!(waited, "{}", s.worker.logs());
    // The province's late step is pressed by 国家监委, and there is no level above that.
    let pressed = s.get(
        Role::Head,
        HIGHER_ORG,
        &format!("/api/v1/tasks/{approval_id}"),
    );
    assert_eq!(
        pressed.json()["supervised_by"],
        NATIONAL_ORG,
        "{}",
        pressed.text
    );
    let kinds = texts(&pressed.json()["events"], "detail");
    assert!(
        kinds.iter().any(|d| d.contains("the ladder stops here")),
        "{kinds:?}"
    );
    assert_eq!(s.clue(&clue)["detention"]["state"], "pending_approval");
    s.complete(
        Role::Head,
        HIGHER_ORG,
        &clue,
        "detention_approval",
        "approve",
    );
    // The term counts from the announcement, not the approval (Art. 48).
    s.task(Role::Investigation, ORG, &clue, "detention_announcement");
    assert_eq!(s.clue(&clue)["detention"]["state"], "approved");
    assert_eq!(
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE subject_id = '{clue}' AND step = 'detention_limit'"
        )),
        0,
        "no detention clock before it is announced"
    );
    s.complete(
        Role::Investigation,
        ORG,
        &clue,
        "detention_announcement",
        "announced",
    );
    let limit = s.task(Role::Investigation, ORG, &clue, "detention_limit");
    assert_eq!(limit["article"], "监察法 Art. 48");
    let detention = s.clue(&clue)["detention"].clone();
    assert_eq!(
        detention["term_ends_on"], limit["due_date"],
        "{detention:#}"
    );

    // The 24-hour notice (1 working day here) is missed: it escalates.
    let notice = s.task(Role::Investigation, ORG, &clue, "detention_notice");
    let notice_id = notice["id"].as_str().unwrap().to_owned();
    let escalated = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE id = '{notice_id}' AND escalation_level = 2"
        )) == 1
    });
    assert!(escalated, "{}", s.worker.logs());
    assert_eq!(notice["article"], "监察法 Art. 50");

    // First extension: the head of the next-higher commission approves, citing Art. 48.
    let ext = |months: u32| {
        s.post(
            Role::Investigation,
            ORG,
            &format!("/api/v1/clues/{clue}/detention/extensions"),
            json!({ "months": months, "reason": "涉案资金流向尚未查清" }),
        )
    };
    let first = ext(3);
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(first.json()["approver"], "higher_commission");
    let extension = s.task(Role::Head, HIGHER_ORG, &clue, "extension_approval");
    assert_eq!(extension["article"], "监察法 Art. 48");
    s.complete(
        Role::Head,
        HIGHER_ORG,
        &clue,
        "extension_approval",
        "approve",
    );
    let extended = s
        .host
        .wait_for(PATIENCE, || s.clue(&clue)["detention"]["extensions"] == 1);
    assert!(extended, "{}", s.worker.logs());
    // The extended term counts on from the end of the first.
    let limit = s.task(Role::Investigation, ORG, &clue, "detention_limit");
    assert_eq!(
        s.clue(&clue)["detention"]["term_ends_on"],
        limit["due_date"]
    );
    assert!(limit["due_date"].as_str() > detention["term_ends_on"].as_str());

    // A second one needs 国家监委: the province cannot see it, and 3 months is too long.
    assert_eq!(ext(3).status, 400);
    let second = ext(2);
    assert_eq!(second.status, 202, "{}", second.text);
    assert_eq!(second.json()["approver"], "national_commission");
    let task = s.task(Role::Head, NATIONAL_ORG, &clue, "extension_approval");
    let by_province = s.post(
        Role::Head,
        HIGHER_ORG,
        &format!("/api/v1/tasks/{}/approve", task["id"].as_str().unwrap()),
        json!({}),
    );
    assert_eq!(by_province.status, 404, "{}", by_province.text);
    s.complete(
        Role::Head,
        NATIONAL_ORG,
        &clue,
        "extension_approval",
        "approve",
    );
    let extended = s
        .host
        .wait_for(PATIENCE, || s.clue(&clue)["detention"]["extensions"] == 2);
    assert!(extended, "{}", s.worker.logs());
    let third = ext(1);
    assert_eq!(third.status, 409, "{}", third.text);
    assert!(third.text.contains("Art. 48"), "{}", third.text);

    // A change request is answered within 3 days (Art. 50), never by the one who asked.
    let asker = token_for(&person(Role::Head, ORG), ORG, &[Role::Head]);
    let change = s.post_as(
        &format!("Bearer {asker}"),
        &format!("/api/v1/clues/{clue}/detention/change-requests"),
        json!({ "reason": "家属申请变更为责令候查" }),
    );
    assert_eq!(change.status, 202, "{}", change.text);
    let answer = s.task(Role::Head, ORG, &clue, "change_request");
    assert_eq!(answer["article"], "监察法 Art. 50");
    let own_answer = s.post_as(
        &format!("Bearer {asker}"),
        &format!("/api/v1/tasks/{}/complete", answer["id"].as_str().unwrap()),
        json!({ "outcome": "refused" }),
    );
    assert_eq!(own_answer.status, 403, "{}", own_answer.text);

    // Release ends every timer.
    let released = s.post(
        Role::Investigation,
        ORG,
        &format!("/api/v1/clues/{clue}/detention/release"),
        json!({ "reason": "审查调查结束" }),
    );
    assert_eq!(released.status, 202, "{}", released.text);
    let ended = s.host.wait_for(PATIENCE, || {
        s.clue(&clue)["detention"]["state"] == "released"
    });
    assert!(ended, "{}", s.worker.logs());
    assert_eq!(
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE workflow_id = '{clue}-detention'
             AND status IN ('open', 'overdue')"
        )),
        0,
        "release leaves no detention task open"
    );
    s.record(
        "detention-extended-released",
        &jiandu_domain::flow::detention_workflow_id(&clue),
    );
    s.record("clue-filed-case", &clue);
}

fn report(real_name: bool) -> Value {
    let mut body = json!({
        "category": "integrity",
        "division_code": "370400",
        "subject": { "name": "张某", "unit": "某镇政府", "position": "副镇长" },
        "content": "2026年村集体资金被挪用于个人消费，涉及金额二十余万元。",
    });
    if real_name {
        body["reporter"] = json!({ "name": "李四", "phone": "13800138000" });
    }
    body
}

#[test]
fn a_real_name_report_is_answered_twice_and_its_clue_decides_the_result() {
    let s = System::start("20s");
    let reply = s.host.post_json("/api/v1/reports", &report(true), &[]);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let receipt = reply.json()["receipt_code"].as_str().unwrap().to_owned();
    let secret = reply.json()["secret"].as_str().unwrap().to_owned();

    let triage = s.task(Role::Petitions, ORG, &id, "triage");
    assert_eq!(triage["article"], "检控 Art. 13, 26");
    s.complete(Role::Petitions, ORG, &id, "triage", "accept");
    // 检控 Art. 26: the acceptance notice is counted from receipt.
    let notice = s.task(Role::Petitions, ORG, &id, "acceptance_notice");
    assert_eq!(notice["due_date"], reply.json()["acceptance_due"]["date"]);
    // The report becomes a clue at once: a pending notice holds nothing up.
    let clue = format!("{id}-C1");
    s.task(Role::CaseManagement, ORG, &clue, "assignment");
    s.complete(Role::Petitions, ORG, &id, "acceptance_notice", "notified");

    // 案件监督管理室 registers a second clue from the report.
    let second = s.post(
        Role::CaseManagement,
        ORG,
        "/api/v1/clues",
        json!({ "source": "report", "report_id": id, "summary": "同一举报中的另一问题" }),
    );
    assert_eq!(second.status, 201, "{}", second.text);
    let second = second.json()["id"].as_str().unwrap().to_owned();
    s.assign_and_dispose(&clue, "close");
    s.wait_clue(&clue, "closed");
    // The report concludes only once every clue has closed: the first
    // clue's closing reaches it, and it goes on waiting.
    let concluded = |note: &str| {
        s.host.count(&format!(
            "SELECT count(*) FROM report_events WHERE report_id = '{id}' AND event = 'concluded'
             AND note = '{note}'"
        )) == 1
    };
    let delivered = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM outbox WHERE idempotency_key = '{clue}:closed'
             AND delivered_at IS NOT NULL"
        )) == 1
    });
    assert!(delivered, "{}", s.worker.logs());
    assert!(
        !s.host
            .wait_for(Duration::from_secs(3), || s.host.count(&format!(
                "SELECT count(*) FROM reports WHERE id = '{id}' AND status = 'concluded'"
            )) == 1),
        "concluded before its second clue ended"
    );
    s.assign_and_dispose(&second, "hold");
    assert!(
        s.host.wait_for(PATIENCE, || concluded("closed; held")),
        "{}",
        s.worker.logs()
    );
    // 检控 Art. 27: the result within 15 working days of closing.
    let result = s.task(Role::Petitions, ORG, &id, "result_notice");
    assert_eq!(result["article"], "检控 Art. 27");
    s.complete(Role::Petitions, ORG, &id, "result_notice", "notified");

    let followed = s.host.get(
        &format!("/api/v1/reports/{receipt}"),
        &[("x-receipt-secret", secret.as_str())],
    );
    assert_eq!(followed.status, 200, "{}", followed.text);
    assert_conforms("report-status.json", &followed.json());
    let events = texts(&followed.json()["timeline"], "event");
    for expected in ["received", "accepted", "concluded"] {
        assert!(events.iter().any(|e| e == expected), "{events:?}");
    }
    // An objection with new evidence reopens the report; the acceptance
    // notice is not owed twice (检控 Art. 26).
    let object = || {
        s.host.post_json(
            &format!("/api/v1/reports/{receipt}/feedback"),
            &json!({ "objection": "还有新的转账记录", "new_evidence": true }),
            &[
                ("x-receipt-secret", secret.as_str()),
                ("idempotency-key", "objection-1"),
            ],
        )
    };
    let objection = object();
    assert_eq!(objection.status, 202, "{}", objection.text);
    assert_conforms("accepted.json", &objection.json());
    // A retry gets the first answer and signals nothing twice.
    let retried = object();
    assert_eq!(retried.status, 202, "{}", retried.text);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(retried.json()["event"], objection.json()["event"]);
    assert_eq!(
        s.host.count(&format!(
            "SELECT count(*) FROM outbox WHERE workflow_id = '{id}' AND idempotency_key LIKE 'feedback:%'"
        )),
        1
    );
    // The new triage counts from the reopening, not from the first receipt.
    let again = s.task(Role::Petitions, ORG, &id, "triage");
    assert!(
        again["due_at"].as_str() > triage["due_at"].as_str(),
        "reopened {} vs first {}",
        again["due_at"],
        triage["due_at"]
    );
    s.complete(Role::Petitions, ORG, &id, "triage", "not_accept");
    let done = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM reports WHERE id = '{id}' AND status = 'not_accepted'"
        )) == 1
    });
    assert!(done, "{}", s.worker.logs());
    assert_eq!(
        s.host.count(&format!(
            "SELECT count(*) FROM tasks WHERE subject_id = '{id}' AND step = 'acceptance_notice'"
        )),
        1
    );
    let late = s.host.post_json(
        &format!("/api/v1/reports/{receipt}/feedback"),
        &json!({ "rating": 5 }),
        &[("x-receipt-secret", secret.as_str())],
    );
    assert_eq!(late.status, 409, "{}", late.text);
    // Nothing about the reporter went into the workflow's history.
    let history = s.temporal.history(&id);
    assert!(!history.contains("13800138000") && !history.contains("李四"));
    s.record("report-two-clues-reopened", &id);
    s.record("clue-from-report-closed", &clue);
}

#[test]
fn a_report_about_the_commissions_own_head_goes_up_and_leaves_no_local_copy() {
    let s = System::start("20s");
    let reply = s.host.post_json("/api/v1/reports", &report(true), &[]);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let task = s.task(Role::Petitions, ORG, &id, "triage");
    let sent = s.post(
        Role::Petitions,
        ORG,
        &format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap()),
        json!({ "outcome": "send_up", "detail": "own_head" }),
    );
    assert_eq!(sent.status, 202, "{}", sent.text);
    let up = s.task(Role::Petitions, ORG, &id, "send_up");
    assert_eq!(up["article"], "检控 Art. 15; 条例 Art. 199");
    // 回避: the head the report is about can neither list nor open it.
    let head = s.get(
        Role::Head,
        ORG,
        &format!("/api/v1/tasks/{}", up["id"].as_str().unwrap()),
    );
    assert_eq!(head.status, 404, "{}", head.text);
    assert!(s.tasks(Role::Head, ORG).iter().all(|t| t["id"] != up["id"]));
    // A wrong outcome is a conflict naming what the step allows.
    let bad = s.post(
        Role::Petitions,
        ORG,
        &format!("/api/v1/tasks/{}/complete", up["id"].as_str().unwrap()),
        json!({ "outcome": "accept" }),
    );
    assert_eq!(bad.status, 409, "{}", bad.text);
    assert!(bad.text.contains("sent_up"), "{}", bad.text);
    s.complete(Role::Petitions, ORG, &id, "send_up", "sent_up");
    let gone = s.host.wait_for(PATIENCE, || {
        s.host.count(&format!(
            "SELECT count(*) FROM reports WHERE id = '{id}' AND status = 'sent_up'
             AND content = '' AND identity_sealed IS NULL"
        )) == 1
    });
    assert!(gone, "{}", s.worker.logs());
}

/// Three clues from registration to closing, with `stop` and `resume`
/// around the approvals and again around the disposals: whatever was
/// committed while a part was down must be carried out, once.
fn loses_nothing(s: &mut System, stop: fn(&mut System), resume: fn(&mut System)) {
    let clues: Vec<String> = (0..3).map(|_| s.register_clue()).collect();
    for clue in &clues {
        s.complete(Role::CaseManagement, ORG, clue, "assignment", "proposed");
    }
    for clue in &clues {
        s.task(Role::Head, ORG, clue, "assignment_approval");
    }
    stop(s);
    for clue in &clues {
        s.complete(Role::Head, ORG, clue, "assignment_approval", "approve");
    }
    resume(s);
    let decisions: Vec<String> = clues
        .iter()
        .map(|clue| {
            s.wait_clue(clue, "awaiting_disposal");
            s.task(Role::Supervision, ORG, clue, "disposal");
            s.decide(clue, "disposal", "close")
        })
        .collect();
    stop(s);
    for (clue, decision) in clues.iter().zip(&decisions) {
        let reply = s.dispose(clue, "close", decision);
        assert_eq!(reply.status, 202, "{}", reply.text);
    }
    resume(s);
    for clue in &clues {
        s.wait_clue(clue, "closed");
    }
    assert_eq!(
        s.host.count(
            "SELECT count(*) FROM (SELECT 1 FROM tasks GROUP BY subject_id, step HAVING count(*) > 1) AS dup"
        ),
        0,
        "every step projected once"
    );
    assert_eq!(
        s.host
            .count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"),
        0
    );
}

#[test]
fn a_worker_killed_mid_workflow_loses_nothing_and_repeats_nothing() {
    let mut s = System::start("20s");
    loses_nothing(&mut s, |s| s.worker.kill(), |s| s.worker.restart());
}

#[test]
fn two_hosts_and_three_workers_lose_nothing_when_one_of_each_is_killed_mid_load() {
    let mut s = System::start("20s");
    let mut beside = s.host.start_beside();
    let others: Vec<Worker> = (0..2)
        .map(|_| Worker::start(&s.host, &s.temporal, &[("JIANDU_TIME_SCALE", "20s")]))
        .collect();
    const REPORTS: i64 = 1000;
    for i in 0..REPORTS {
        if i == REPORTS / 3 {
            s.worker.kill();
        }
        if i == REPORTS / 2 {
            beside.kill();
        }
        // Both hosts take reports until the second dies; every 201 counts.
        let host = if i % 2 == 1 && i < REPORTS / 2 {
            &beside
        } else {
            &s.host
        };
        let reply = host.post_json("/api/v1/reports", &report(false), &[]);
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let started = s.host.wait_for(Duration::from_secs(600), || {
        s.host
            .count("SELECT count(*) FROM tasks WHERE step = 'triage'")
            == REPORTS
    });
    let logs = || {
        others
            .iter()
            .map(Worker::logs)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(started, "workers' logs:\n{}", logs());
    assert_eq!(
        s.host
            .count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"),
        0,
        "the outbox drains"
    );
    assert_eq!(
        s.host.count(
            "SELECT count(*) FROM (SELECT 1 FROM tasks GROUP BY subject_id, step HAVING count(*) > 1) AS dup"
        ),
        0,
        "every step projected once"
    );
    assert_eq!(
        s.temporal.workflows("ReportWorkflow").len() as i64,
        REPORTS,
        "one workflow per report"
    );
    if on_postgres() {
        // Each workflow is claimed by one worker at a time: the two that
        // lived never both sent one row.
        let relayed = |logs: String| -> std::collections::BTreeSet<String> {
            logs.lines()
                .filter(|l| l.contains("relayed"))
                .filter_map(|l| l.split("outbox=").nth(1))
                .filter_map(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
                .collect()
        };
        let (a, b) = (relayed(others[0].logs()), relayed(others[1].logs()));
        assert!(!a.is_empty() && !b.is_empty(), "both relayed:\n{}", logs());
        let both: Vec<_> = a.intersection(&b).collect();
        assert!(both.is_empty(), "rows relayed by both workers: {both:?}");
    }
}

#[test]
fn a_restarted_temporal_loses_nothing() {
    let mut s = System::start("20s");
    loses_nothing(&mut s, |s| s.temporal.stop(), |s| s.temporal.restart());
}

#[test]
fn reports_taken_while_temporal_is_down_each_start_one_workflow() {
    let mut s = System::start("20s");
    s.temporal.stop();
    let mut ids = Vec::new();
    for _ in 0..200 {
        let reply = s.host.post_json("/api/v1/reports", &report(false), &[]);
        assert_eq!(reply.status, 201, "{}", reply.text);
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        s.host
            .count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"),
        200
    );
    s.temporal.restart();
    let started = s.host.wait_for(Duration::from_secs(600), || {
        s.host
            .count("SELECT count(*) FROM tasks WHERE step = 'triage'")
            == 200
    });
    assert!(started, "worker log:\n{}", s.worker.logs());
    assert_eq!(
        s.host
            .count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"),
        0
    );
    let workflows = s.temporal.workflows("ReportWorkflow");
    assert_eq!(workflows.len(), 200, "one workflow per report, none twice");
}

#[test]
fn declined_transferred_and_duplicate_reports_end_without_notices() {
    let s = System::start("20s");
    let submit = || {
        let reply = s.host.post_json("/api/v1/reports", &report(true), &[]);
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()["id"].as_str().unwrap().to_owned()
    };
    let (declined, transferred, duplicate) = (submit(), submit(), submit());
    let triage = |id: &str, outcome: &str, detail: &str| {
        let task = s.task(Role::Petitions, ORG, id, "triage");
        let reply = s.post(
            Role::Petitions,
            ORG,
            &format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap()),
            json!({ "outcome": outcome, "note": "属于法院受理范围", "detail": detail }),
        );
        assert_eq!(reply.status, 202, "{}", reply.text);
    };
    triage(&declined, "not_accept", "");
    triage(&transferred, "transfer", "370500");
    triage(&duplicate, "duplicate", &declined);
    let transfer = s.task(Role::Petitions, ORG, &transferred, "transfer");
    assert_eq!(transfer["article"], "条例 Art. 199");
    // Both limits count from receipt: 15 and 5 working days of 20 s apart.
    let triage = s
        .host
        .get(
            &format!("/api/v1/tasks/{transferred}.1.triage"),
            &[("authorization", bearer(Role::Petitions, ORG).as_str())],
        )
        .json();
    let at = |t: &Value| {
        time::OffsetDateTime::parse(
            t["due_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!(at(&triage) - at(&transfer), time::Duration::seconds(200));
    s.complete(
        Role::Petitions,
        ORG,
        &transferred,
        "transfer",
        "transferred",
    );
    for (id, status, note) in [
        (&declined, "not_accepted", "属于法院受理范围".to_owned()),
        (
            &transferred,
            "transferred",
            "transferred to 370500".to_owned(),
        ),
        (&duplicate, "duplicate", format!("duplicate of {declined}")),
    ] {
        let ended = s.host.wait_for(PATIENCE, || {
            s.host.count(&format!(
                "SELECT count(*) FROM reports r JOIN report_events e ON e.report_id = r.id
                 WHERE r.id = '{id}' AND r.status = '{status}' AND e.event = '{status}' AND e.note = '{note}'"
            )) == 1
        });
        assert!(ended, "{id} never became {status}; {}", s.worker.logs());
    }
    // None of them was owed an acceptance notice or became a clue.
    assert_eq!(
        s.host
            .count("SELECT count(*) FROM tasks WHERE step = 'acceptance_notice'"),
        0
    );
    assert_eq!(s.host.count("SELECT count(*) FROM clues"), 0);
}

#[test]
fn a_withheld_detention_notice_needs_approval_and_ends_with_a_notice() {
    let s = System::start("20s");
    let clue = s.register_clue();
    s.file_case(&clue);
    let decision = s.decide(&clue, "detention", "detain");
    let requested = s.request_detention(&clue, &decision);
    assert_eq!(requested.status, 202, "{}", requested.text);
    s.complete(
        Role::Head,
        HIGHER_ORG,
        &clue,
        "detention_approval",
        "approve",
    );
    s.complete(
        Role::Investigation,
        ORG,
        &clue,
        "detention_announcement",
        "announced",
    );
    // Notice would obstruct the case: withholding it needs the head's approval.
    s.complete(
        Role::Investigation,
        ORG,
        &clue,
        "detention_notice",
        "exception",
    );
    let exception = s.task(Role::Head, ORG, &clue, "notice_exception");
    assert_eq!(exception["article"], "监察法 Art. 50");
    s.complete(Role::Head, ORG, &clue, "notice_exception", "approve");
    // When the exception lapses, the notice is still owed.
    s.complete(
        Role::Investigation,
        ORG,
        &clue,
        "notice_after_exception",
        "notified",
    );
    let notified = s.host.wait_for(PATIENCE, || {
        let names = texts(&s.clue(&clue)["events"], "event");
        names.iter().any(|n| n == "notice_deferred") && names.iter().any(|n| n == "family_notified")
    });
    assert!(notified, "{}", s.worker.logs());
}

#[test]
fn escalation_walks_the_org_tree_and_each_org_sees_only_its_own_inbox() {
    // One working day = 150 ms: a 15-working-day reply is due in 2.25 s.
    let s = System::start("150ms");
    const COUNTY: &str = "370402";
    const TOWNSHIP: &str = "370402001";
    const OTHER_TOWNSHIP: &str = "370402101";
    // A clue of the county commission about a person of one of its townships.
    let clue = s.register_clue_in(COUNTY, Some(TOWNSHIP));
    s.assign_and_dispose_in(COUNTY, &clue, "talk_inquiry");
    // The 函询 goes to the township the person belongs to.
    let reply = s.task(Role::Staff, TOWNSHIP, &clue, "inquiry_reply");
    let id = reply["id"].as_str().unwrap().to_owned();
    assert_eq!(reply["assignee"]["org"], TOWNSHIP);
    let elevated = s.host.wait_for(PATIENCE, || {
        let task = s
            .get(Role::Staff, TOWNSHIP, &format!("/api/v1/tasks/{id}"))
            .json();
        task["escalation_level"] == 2
    });
    assert!(elevated, "never elevated; worker log:\n{}", s.worker.logs());
    // Pressed by the county commission, then elevated to the city: each
    // sees it in its "supervised" list; the township still has it to do.
    let task = s
        .get(Role::Staff, TOWNSHIP, &format!("/api/v1/tasks/{id}"))
        .json();
    assert_eq!(task["supervised_by"], COUNTY);
    assert_eq!(task["elevated_to"], ORG);
    assert_eq!(
        texts(&task["events"], "kind"),
        ["opened", "reminder", "overdue", "elevated"]
    );
    for org in [COUNTY, ORG] {
        let supervised = s.view(Role::Head, org, "supervised");
        assert!(
            supervised.iter().any(|t| t["id"] == id.as_str()),
            "{org}: {supervised:#?}"
        );
    }
    assert!(
        s.tasks(Role::Staff, TOWNSHIP)
            .iter()
            .any(|t| t["id"] == id.as_str())
    );
    // The county may list the township's tasks, not complete them.
    assert!(
        s.view(Role::Supervision, COUNTY, "subtree")
            .iter()
            .any(|t| t["id"] == id.as_str())
    );
    let by_county = s.post(
        Role::Head,
        COUNTY,
        &format!("/api/v1/tasks/{id}/complete"),
        json!({ "outcome": "replied" }),
    );
    assert_eq!(by_county.status, 403, "{}", by_county.text);
    // A neighbouring township and a sibling county see nothing of it.
    for (role, org) in [(Role::Staff, OTHER_TOWNSHIP), (Role::Head, "370403")] {
        let hidden = s.get(role, org, &format!("/api/v1/tasks/{id}"));
        assert_eq!(hidden.status, 404, "{org}: {}", hidden.text);
        assert!(s.tasks(role, org).iter().all(|t| t["id"] != id.as_str()));
    }
    // The city, to which it was elevated, sets a new due date, then takes it over.
    let elevation = format!("/api/v1/tasks/{id}/elevation");
    let due = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .date()
        .to_string();
    let set_due = json!({ "action": "set_due", "due_date": due, "reason": "限期整改" });
    let by_county = s.post(Role::Head, COUNTY, &elevation, set_due.clone());
    assert_eq!(
        by_county.status, 409,
        "only the commission it was elevated to: {}",
        by_county.text
    );
    let rescheduled = s.post(Role::Head, ORG, &elevation, set_due);
    assert_eq!(rescheduled.status, 202, "{}", rescheduled.text);
    let taken = s.post(
        Role::Head,
        ORG,
        &elevation,
        json!({ "action": "take_over", "reason": "提级办理" }),
    );
    assert_eq!(taken.status, 202, "{}", taken.text);
    let mut task = Value::Null;
    let moved = s.host.wait_for(PATIENCE, || {
        task = s
            .get(Role::Head, ORG, &format!("/api/v1/tasks/{id}"))
            .json();
        task["assignee"]["org"] == ORG
    });
    assert!(moved, "{task:#}\n{}", s.worker.logs());
    assert_eq!(task["assignee"]["role"], "supervision");
    assert_eq!(task["due_date"], due.as_str());
    let kinds = texts(&task["events"], "kind");
    assert!(
        kinds.ends_with(&["rescheduled".to_owned(), "taken_over".to_owned()]),
        "{kinds:?}"
    );
    assert!(
        s.tasks(Role::Staff, TOWNSHIP)
            .iter()
            .all(|t| t["id"] != id.as_str())
    );
    s.complete(Role::Supervision, ORG, &clue, "inquiry_reply", "replied");
    s.task(Role::Supervision, COUNTY, &clue, "inquiry_report");

    // Two city departments never see each other's tasks.
    let farming = s.register_clue_in(ORG, Some("370400-nyncj"));
    let welfare = s.register_clue_in(ORG, Some("370400-mzj"));
    for clue in [&farming, &welfare] {
        s.assign_and_dispose(clue, "talk_inquiry");
    }
    let mine = s.task(Role::Staff, "370400-nyncj", &farming, "inquiry_reply");
    let theirs = s.task(Role::Staff, "370400-mzj", &welfare, "inquiry_reply");
    for (org, other) in [("370400-nyncj", &theirs), ("370400-mzj", &mine)] {
        let inbox = s.tasks(Role::Staff, org);
        assert!(
            inbox.iter().all(|t| t["id"] != other["id"]),
            "{org}: {inbox:#?}"
        );
        let hidden = s.get(
            Role::Staff,
            org,
            &format!("/api/v1/tasks/{}", other["id"].as_str().unwrap()),
        );
        assert_eq!(hidden.status, 404, "{}", hidden.text);
    }
}

#[test]
fn an_approval_is_never_given_by_the_one_who_asked() {
    let s = System::start("20s");
    let clue = s.register_clue();
    // One person holding both positions proposes the assignment...
    let both = token_for("370400/deputy", ORG, &[Role::CaseManagement, Role::Head]);
    let both = format!("Bearer {both}");
    let proposal = s.task(Role::CaseManagement, ORG, &clue, "assignment");
    let proposed = s.post_as(
        &both,
        &format!(
            "/api/v1/tasks/{}/complete",
            proposal["id"].as_str().unwrap()
        ),
        json!({ "outcome": "proposed" }),
    );
    assert_eq!(proposed.status, 202, "{}", proposed.text);
    // ...and may not approve it; the head, another person, may.
    let approval = s.task(Role::Head, ORG, &clue, "assignment_approval");
    assert_eq!(approval["requested_by"], "370400/deputy");
    let own = s.post_as(
        &both,
        &format!("/api/v1/tasks/{}/approve", approval["id"].as_str().unwrap()),
        json!({}),
    );
    assert_eq!(own.status, 403, "{}", own.text);
    assert!(own.text.contains("回避"), "{}", own.text);
    s.complete(Role::Head, ORG, &clue, "assignment_approval", "approve");
    s.wait_clue(&clue, "awaiting_disposal");
    // A collective decision names people of the commission, and its outcome
    // needs a majority.
    let decisions = format!("/api/v1/clues/{clue}/decisions");
    let strangers = s.post(
        Role::Head,
        ORG,
        &decisions,
        json!({ "matter": "disposal", "outcome": "close",
                "attendees": ["370400/head", "370400/deputy", "370000/head"] }),
    );
    assert_eq!(strangers.status, 422, "{}", strangers.text);
    assert_eq!(strangers.error_pointers(), ["/attendees/2"]);
    let split = s.post(
        Role::Head,
        ORG,
        &decisions,
        json!({ "matter": "disposal", "outcome": "close",
                "attendees": ["370400/head", "370400/deputy", "370400/member", "370400/office"],
                "dissent": [{ "attendee": "370400/member", "opinion": "先初核" },
                            { "attendee": "370400/office", "opinion": "先初核" }] }),
    );
    assert_eq!(split.status, 422, "{}", split.text);
    assert_eq!(split.error_pointers(), ["/dissent"]);
    // Recorded by the head or the head's office, not by a handler.
    let by_handler = s.post(
        Role::Supervision,
        ORG,
        &decisions,
        json!({ "matter": "disposal", "outcome": "close",
                "attendees": ["370400/head", "370400/deputy", "370400/member"] }),
    );
    assert_eq!(by_handler.status, 403, "{}", by_handler.text);
}

/// Runs the `temporal` CLI against the test's dev server, as an operator would.
fn temporal_cli(system: &System, args: &[&str]) {
    let out = std::process::Command::new(jiandu_tests::temporal::temporal_bin())
        .args(args)
        .args(["--address", &system.temporal.address()])
        .output()
        .expect("run temporal");
    assert!(
        out.status.success(),
        "temporal {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_refused_signal_is_dead_lettered_shown_requeued_and_delivered() {
    let system = System::start("20s");
    let district = "370402";
    let report = system.host.post_json(
        "/api/v1/reports",
        &json!({
            "category": "integrity", "division_code": district,
            "subject": { "name": "张某" }, "content": "村集体资金被挪用于个人消费。",
        }),
        &[],
    );
    assert_eq!(report.status, 201, "{}", report.text);
    let report = report.json()["id"].as_str().unwrap().to_owned();
    let triage = system.task(Role::Petitions, district, &report, "triage");
    let complete = format!("/api/v1/tasks/{}/complete", triage["id"].as_str().unwrap());

    // The workflow is ended behind the platform's back: the next signal is
    // refused with NotFound, and the one after it must not overtake it.
    temporal_cli(
        &system,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            &report,
            "--reason",
            "test",
        ],
    );
    for note in ["first", "second"] {
        let done = system.post(
            Role::Petitions,
            district,
            &complete,
            json!({ "outcome": "accept", "note": note }),
        );
        assert_eq!(done.status, 202, "{}", done.text);
    }
    let outbox = || {
        let reply = system.get(Role::Head, district, "/api/v1/admin/outbox");
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("outbox.json", &reply.json());
        reply.json()
    };
    let mut seen = Value::Null;
    let shown = system.host.wait_for(PATIENCE, || {
        seen = outbox();
        seen["counts"] == json!({ "pending": 0, "dead": 1, "waiting": 1 })
    });
    assert!(shown, "{seen:#}\n{}", system.worker.logs());
    let dead = &seen["dead"][0];
    assert_eq!(dead["workflow_id"], json!(report));
    assert_eq!(dead["org"], json!(district));
    assert_eq!(dead["attempts"], json!(1), "refused for good: not retried");
    assert!(
        dead["last_error"].as_str().unwrap().contains("NotFound"),
        "{dead}"
    );
    assert!(system.worker.logs().contains("dead-lettered"));
    // Another county does not see it; a role that is not an administrator may not look.
    assert_eq!(
        system
            .get(Role::Head, "370403", "/api/v1/admin/outbox")
            .json()["dead"],
        json!([])
    );
    assert_eq!(
        system
            .get(Role::Petitions, district, "/api/v1/admin/outbox")
            .status,
        403
    );

    // The operator brings the workflow back and requeues the row.
    temporal_cli(
        &system,
        &[
            "workflow",
            "reset",
            "--workflow-id",
            &report,
            "--type",
            "FirstWorkflowTask",
            "--reason",
            "requeue test",
        ],
    );
    let requeue = format!("/api/v1/admin/outbox/{}/requeue", dead["id"]);
    let requeued = system.post(Role::Head, district, &requeue, json!({}));
    assert_eq!(requeued.status, 202, "{}", requeued.text);
    assert_conforms("outbox-requeued.json", &requeued.json());
    let mut status = Value::Null;
    let delivered = system.host.wait_for(PATIENCE, || {
        status = system
            .get(
                Role::Petitions,
                district,
                &format!("/api/v1/reports/{report}"),
            )
            .json()["status"]
            .clone();
        status == "accepted"
    });
    assert!(
        delivered,
        "the report is `{status}`\n{}",
        system.worker.logs()
    );
    let drained = system.host.wait_for(PATIENCE, || {
        outbox()["counts"] == json!({ "pending": 0, "dead": 0, "waiting": 0 })
    });
    assert!(drained, "{:#}", outbox());
    assert_eq!(
        system
            .post(Role::Head, district, &requeue, json!({}))
            .status,
        404,
        "a delivered row is not dead any more"
    );
}
