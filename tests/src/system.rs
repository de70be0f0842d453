//! The whole product for one test: the host, a Temporal dev server and a
//! worker, with the helpers the end-to-end suites share.

use std::time::Duration;

use jiandu_domain::org::Role;
use serde_json::{Value, json};

use crate::temporal::{Temporal, Worker};
use crate::{Host, ORG, assert_conforms, bearer};

/// How long a test waits for an expected state: generous, the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The host, a Temporal dev server and a worker, for one test.
pub struct System {
    /// The host, serving the product's spin.toml.
    pub host: Host,
    /// The Temporal dev server.
    pub temporal: Temporal,
    /// The worker.
    pub worker: Worker,
}

impl System {
    /// Everything up, with one working day lasting `working_day`.
    pub fn start(working_day: &str) -> Self {
        let host = Host::start_product();
        let temporal = Temporal::start();
        let worker = Worker::start(&host, &temporal, &[("JIANDU_TIME_SCALE", working_day)]);
        Self {
            host,
            temporal,
            worker,
        }
    }

    /// POSTs `body` to `path` as `role` of `org`.
    pub fn post(&self, role: Role, org: &str, path: &str, body: Value) -> crate::Reply {
        let auth = bearer(role, org);
        self.post_as(&auth, path, body)
    }

    /// POSTs `body` to `path` with the authorization header `auth`.
    pub fn post_as(&self, auth: &str, path: &str, body: Value) -> crate::Reply {
        self.host.post_json(path, &body, &[("authorization", auth)])
    }

    /// GETs `path` as `role` of `org`.
    pub fn get(&self, role: Role, org: &str, path: &str) -> crate::Reply {
        let auth = bearer(role, org);
        self.host.get(path, &[("authorization", auth.as_str())])
    }

    /// The open tasks in the inbox of `role` of `org`.
    pub fn tasks(&self, role: Role, org: &str) -> Vec<Value> {
        self.view(role, org, "inbox")
    }

    /// The open tasks `role` of `org` sees in `view` (inbox, supervised, subtree).
    pub fn view(&self, role: Role, org: &str, view: &str) -> Vec<Value> {
        let reply = self.get(role, org, &format!("/api/v1/tasks?view={view}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("task-list.json", &reply.json());
        reply.json()["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `role` of `org` has the open task `step` on `subject`.
    pub fn task(&self, role: Role, org: &str, subject: &str, step: &str) -> Value {
        let mut found = None;
        let ok = self.host.wait_for(PATIENCE, || {
            found = self
                .tasks(role, org)
                .into_iter()
                .find(|t| t["subject"]["id"] == subject && t["step"] == step);
            found.is_some()
        });
        assert!(
            ok,
            "no `{step}` task on {subject} for {role:?}; worker log:\n{}",
            self.worker.logs()
        );
        found.unwrap()
    }

    /// Does the open task `step` on `subject` as `role` of `org`.
    pub fn complete(&self, role: Role, org: &str, subject: &str, step: &str, outcome: &str) {
        self.complete_with(role, org, subject, step, outcome, json!({ "note": "done" }));
    }

    /// Does the open task `step` on `subject` with `body` added to the outcome.
    pub fn complete_with(
        &self,
        role: Role,
        org: &str,
        subject: &str,
        step: &str,
        outcome: &str,
        mut body: Value,
    ) {
        let task = self.task(role, org, subject, step);
        let id = task["id"].as_str().unwrap();
        let reply = match outcome {
            "approve" | "reject" => {
                self.post(role, org, &format!("/api/v1/tasks/{id}/{outcome}"), body)
            }
            _ => {
                body["outcome"] = json!(outcome);
                self.post(role, org, &format!("/api/v1/tasks/{id}/complete"), body)
            }
        };
        assert_eq!(reply.status, 202, "{step} {outcome}: {}", reply.text);
        assert_conforms("accepted.json", &reply.json());
    }

    /// One page of the overdue view of `role` of `org`, with `query`.
    pub fn overdue_page(&self, role: Role, org: &str, query: &str) -> Value {
        let reply = self.get(role, org, &format!("/api/v1/admin/overdue?{query}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("overdue.json", &reply.json());
        reply.json()
    }

    /// The rows of the first page of the overdue view.
    pub fn overdue(&self, role: Role, org: &str, query: &str) -> Vec<Value> {
        self.overdue_page(role, org, query)["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The clue `id` of the test commission, as its head reads it.
    pub fn clue(&self, id: &str) -> Value {
        self.clue_in(ORG, id)
    }

    /// The clue `id` of commission `org`, as its head reads it.
    pub fn clue_in(&self, org: &str, id: &str) -> Value {
        let reply = self.get(Role::Head, org, &format!("/api/v1/clues/{id}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("clue-detail.json", &reply.json());
        reply.json()
    }

    /// Waits until the clue's state is `state`.
    pub fn wait_clue(&self, id: &str, state: &str) -> Value {
        self.wait_clue_in(ORG, id, state)
    }

    /// Waits until the clue of commission `org` is in `state`.
    pub fn wait_clue_in(&self, org: &str, id: &str, state: &str) -> Value {
        let mut last = Value::Null;
        let ok = self.host.wait_for(PATIENCE, || {
            last = self.clue_in(org, id);
            last["state"] == state
        });
        assert!(
            ok,
            "clue {id} never reached `{state}`: {last:#}\nworker log:\n{}",
            self.worker.logs()
        );
        last
    }

    /// Registers a clue in the test commission.
    pub fn register_clue(&self) -> String {
        self.register_clue_in(ORG, None)
    }

    /// Registers a clue in commission `org` about a person of `subject_org`.
    pub fn register_clue_in(&self, org: &str, subject_org: Option<&str>) -> String {
        let mut body =
            json!({ "source": "inspection_tour", "summary": "巡察移交: 村集体资金账目不清" });
        if let Some(subject_org) = subject_org {
            body["subject_org"] = json!(subject_org);
        }
        let reply = self.post(Role::CaseManagement, org, "/api/v1/clues", body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_conforms("clue-created.json", &reply.json());
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// Records a collective decision of the test commission.
    pub fn decide(&self, clue: &str, matter: &str, outcome: &str) -> String {
        self.decide_in(ORG, clue, matter, outcome)
    }

    /// Records a collective decision of commission `org` (its head, deputy
    /// and a member attending; the member dissents).
    pub fn decide_in(&self, org: &str, clue: &str, matter: &str, outcome: &str) -> String {
        let reply = self.post(
            Role::Head,
            org,
            &format!("/api/v1/clues/{clue}/decisions"),
            json!({
                "matter": matter,
                "attendees": [format!("{org}/head"), format!("{org}/deputy"), format!("{org}/member")],
                "outcome": outcome,
                "dissent": [{ "attendee": format!("{org}/member"), "opinion": "先初核" }],
            }),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_conforms("decision-created.json", &reply.json());
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// Chooses `mode` for `clue` on the collective decision `decision`.
    pub fn dispose(&self, clue: &str, mode: &str, decision: &str) -> crate::Reply {
        self.post(
            Role::Supervision,
            ORG,
            &format!("/api/v1/clues/{clue}/disposal"),
            json!({ "mode": mode, "decision_id": decision }),
        )
    }

    /// Requests detention for `clue` on the collective decision `decision`.
    pub fn request_detention(&self, clue: &str, decision: &str) -> crate::Reply {
        self.post(
            Role::Investigation,
            ORG,
            &format!("/api/v1/clues/{clue}/detention"),
            json!({ "decision_id": decision }),
        )
    }

    /// Takes a clue through assignment to the disposal it is decided on.
    pub fn assign_and_dispose(&self, clue: &str, mode: &str) {
        self.assign_and_dispose_in(ORG, clue, mode);
    }

    /// Takes a clue of commission `org` through assignment to the disposal it is decided on.
    pub fn assign_and_dispose_in(&self, org: &str, clue: &str, mode: &str) {
        self.complete(Role::CaseManagement, org, clue, "assignment", "proposed");
        self.complete(Role::Head, org, clue, "assignment_approval", "approve");
        self.wait_clue_in(org, clue, "awaiting_disposal");
        self.task(Role::Supervision, org, clue, "disposal");
        let decision = self.decide_in(org, clue, "disposal", mode);
        let reply = self.post(
            Role::Supervision,
            org,
            &format!("/api/v1/clues/{clue}/disposal"),
            json!({ "mode": mode, "decision_id": decision }),
        );
        assert_eq!(reply.status, 202, "{}", reply.text);
    }

    /// Does a step whose outcome rests on a collective decision (规则 Art. 53).
    pub fn complete_decided(
        &self,
        role: Role,
        clue: &str,
        step: &str,
        matter: &str,
        outcome: &str,
    ) {
        let decision = self.decide(clue, matter, outcome);
        self.complete_with(
            role,
            ORG,
            clue,
            step,
            outcome,
            json!({ "decision_id": decision }),
        );
    }

    /// Takes a clue to a filed case under investigation.
    pub fn file_case(&self, clue: &str) {
        self.assign_and_dispose(clue, "preliminary_verification");
        self.complete(Role::Head, ORG, clue, "verification_plan", "approve");
        self.complete_decided(
            Role::Supervision,
            clue,
            "verification_report",
            "filing",
            "file_case",
        );
        self.complete(Role::Head, ORG, clue, "filing_head", "approve");
        // The head of the same-level Party committee (规则 Art. 38).
        self.complete(
            Role::PartyHead,
            "370400-party",
            clue,
            "filing_party",
            "approve",
        );
        self.wait_clue(clue, "investigation");
    }

    /// With `JIANDU_RECORD_HISTORIES=1`, saves the finished workflow's history
    /// as `tests/histories/<name>.binpb` for the replay test.
    pub fn record(&self, name: &str, workflow_id: &str) {
        if std::env::var_os("JIANDU_RECORD_HISTORIES").is_none() {
            return;
        }
        let bytes = crate::runtime()
            .block_on(jiandu_workflows::history::fetch(
                &self.temporal.address(),
                "default",
                workflow_id,
            ))
            .expect("fetch the history");
        let dir = crate::repo().join("tests/histories");
        std::fs::create_dir_all(&dir).expect("histories dir");
        std::fs::write(dir.join(format!("{name}.binpb")), bytes).expect("write the history");
    }

    /// The kinds of a task's events, oldest first.
    pub fn task_events(&self, task_id: &str) -> Vec<String> {
        self.host.strings(&format!(
            "SELECT kind FROM task_events WHERE task_id = '{task_id}' ORDER BY id"
        ))
    }
}
