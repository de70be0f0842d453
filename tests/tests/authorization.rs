//! Who may do what: every staff endpoint, called by every demo role acting
//! for the org that holds the object, its parent, a child and a sibling,
//! against the real host and worker. The expected statuses are this file's
//! table; `docs/authorization.md` is that table rendered, and this test
//! keeps it true (`JIANDU_WRITE_DOCS=1` rewrites it after a deliberate change).

use std::fmt::Write as _;
use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Host, bearer, repo};
use serde_json::json;

/// The org that holds the objects: 市中区纪委监委.
const HOLDER: &str = "370402";

/// Where the caller's org stands from the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// The holder itself.
    Own,
    /// The city commission above it.
    Parent,
    /// A township under it.
    Child,
    /// Another county of the same city.
    Sibling,
}

impl Rel {
    const ALL: [Rel; 4] = [Rel::Own, Rel::Parent, Rel::Child, Rel::Sibling];

    fn org(self) -> &'static str {
        match self {
            Rel::Own => HOLDER,
            Rel::Parent => "370400",
            Rel::Child => "370402001",
            Rel::Sibling => "370403",
        }
    }
}

/// 案件监督管理室, 监督检查室 and the head watch the orgs below their own.
fn supervisory(role: Role) -> bool {
    role.is_supervisory()
}

/// The statuses of a call on an object of the holder that only `roles` of
/// the holder may make: allowed gets `ok`; the holder's other roles and the
/// supervisory roles above (who may see it) get 403; everyone else 404.
fn act(role: Role, rel: Rel, roles: &[Role], ok: u16) -> u16 {
    match rel {
        Rel::Own if roles.contains(&role) => ok,
        Rel::Own => 403,
        Rel::Parent if supervisory(role) => 403,
        _ => 404,
    }
}

/// The administrators' views: a commission's head and office get `ok`
/// for their commission's subtree; the township below has no commission's
/// view, and everyone else is refused.
fn administers(role: Role, rel: Rel, ok: u16) -> u16 {
    match rel {
        Rel::Child => 403,
        _ if matches!(role, Role::Head | Role::Office) => ok,
        _ => 403,
    }
}

/// A ledger export the holder's head asked for: the holder's administrators
/// get `ok`; other commissions' administrators do not see it (404); the
/// township below and everyone else are refused.
fn asked(role: Role, rel: Rel, ok: u16) -> u16 {
    match administers(role, rel, ok) {
        403 => 403,
        _ if rel == Rel::Own => ok,
        _ => 404,
    }
}

/// Who runs tours and hands problems over: a commission's head and 监督检查室.
const SUPERVISORS: &[Role] = &[Role::Head, Role::Supervision];

/// Screening (大数据比对) is a commission's own: the head and 监督检查室 of
/// any commission get `ok` for what is not an object of the holder; the
/// other roles, and a township, are refused.
fn screener(role: Role, rel: Rel, ok: u16) -> u16 {
    match rel {
        _ if !SUPERVISORS.contains(&role) => 403,
        Rel::Child => 403,
        _ => ok,
    }
}

/// An object of the holder's screening: its head and 监督检查室 get `ok`;
/// another commission's do not see it (404).
fn screened(role: Role, rel: Rel, ok: u16) -> u16 {
    match screener(role, rel, ok) {
        403 => 403,
        _ if rel == Rel::Own => ok,
        _ => 404,
    }
}

/// Who discloses (监督一点通): any org's staff and head, for their own org.
fn publisher(role: Role, ok: u16) -> u16 {
    if matches!(role, Role::Staff | Role::Head) {
        ok
    } else {
        403
    }
}

/// The holder's disclosed item, public to all: only the holder's staff and
/// head may change it; everyone else is refused (403).
fn disclosed(role: Role, rel: Rel, ok: u16) -> u16 {
    match publisher(role, ok) {
        403 => 403,
        _ if rel == Rel::Own => ok,
        _ => 403,
    }
}

/// Who reads 三资 warnings: a commission's head, 监督检查室 and 案件监督管理室,
/// and a township's (the child's) 三资 office and head; everyone else is refused.
fn sanzi_reader(role: Role, rel: Rel, ok: u16) -> u16 {
    let township = matches!(role, Role::AssetsOffice | Role::Head);
    match rel {
        Rel::Child if township => ok,
        Rel::Child => 403,
        _ if matches!(role, Role::Head | Role::Supervision | Role::CaseManagement) => ok,
        _ => 403,
    }
}

/// The holder's warning, on a village of the child township: the holder's
/// readers and the township get `ok`; other commissions' do not see it.
fn sanzi_warned(role: Role, rel: Rel, ok: u16) -> u16 {
    match sanzi_reader(role, rel, ok) {
        403 => 403,
        _ if matches!(rel, Rel::Own | Rel::Child) => ok,
        _ => 404,
    }
}

/// One endpoint: how it is called and what each caller gets.
struct Endpoint {
    method: &'static str,
    /// The path, with `{clue}` and `{task}` for the fixtures.
    path: &'static str,
    /// What it is, for the document.
    what: &'static str,
    expect: fn(Role, Rel) -> u16,
}

/// Who reads a clue: its commission's case roles; the supervisory roles above.
const COMMISSION: &[Role] = &[
    Role::CaseManagement,
    Role::Supervision,
    Role::Investigation,
    Role::Review,
    Role::Office,
    Role::Head,
];

/// Every staff endpoint. Writes send `{}`: a caller who passes authorization
/// is then judged on the body (400) or the object's state (409), so nothing
/// changes while the table is walked.
const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "POST",
        path: "/api/v1/clues",
        what: "register a clue in the caller's commission",
        expect: |role, _| {
            if role == Role::CaseManagement {
                400
            } else {
                403
            }
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/clues/{clue}",
        what: "read a clue",
        expect: |role, rel| match rel {
            Rel::Own if COMMISSION.contains(&role) => 200,
            Rel::Own => 403,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/decisions",
        what: "record a collective decision (the head or the office)",
        expect: |role, rel| act(role, rel, &[Role::Head, Role::Office], 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/disposal",
        what: "choose the disposal (监督检查室)",
        expect: |role, rel| act(role, rel, &[Role::Supervision], 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/recheck",
        what: "回头看 of a settled clue (案件监督管理室 or the head)",
        expect: |role, rel| act(role, rel, &[Role::CaseManagement, Role::Head], 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/detention",
        what: "request 留置",
        expect: |role, rel| act(role, rel, &[Role::Investigation, Role::Head], 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/detention/extensions",
        what: "request an extension (the clue has no detention: 409)",
        expect: |role, rel| act(role, rel, &[Role::Investigation, Role::Head], 409),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/detention/change-requests",
        what: "ask to change the measure (no detention: 409)",
        expect: |role, rel| act(role, rel, &[Role::Investigation, Role::Head], 409),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/clues/{clue}/detention/release",
        what: "release (no detention: 409)",
        expect: |role, rel| act(role, rel, &[Role::Investigation, Role::Head], 409),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tasks",
        what: "the caller's inbox",
        expect: |_, _| 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tasks?view=supervised",
        what: "tasks the caller's org presses or took over",
        expect: |role, _| if supervisory(role) { 200 } else { 403 },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tasks?view=subtree",
        what: "the tasks of every org below the caller's",
        expect: |role, _| if supervisory(role) { 200 } else { 403 },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tasks/{task}",
        what: "a task of 案件监督管理室 of the holder, with its events",
        expect: |role, rel| match rel {
            Rel::Own if matches!(role, Role::CaseManagement | Role::Head) => 200,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tasks/{task}/complete",
        what: "do that task (its assignee only; `{}` names no outcome: 400)",
        expect: |role, rel| match rel {
            Rel::Own if role == Role::CaseManagement => 400,
            Rel::Own if role == Role::Head => 403,
            Rel::Parent if supervisory(role) => 403,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tasks/{task}/approve",
        what: "approve that task (not an approval: 409)",
        expect: |role, rel| match rel {
            Rel::Own if role == Role::CaseManagement => 409,
            Rel::Own if role == Role::Head => 403,
            Rel::Parent if supervisory(role) => 403,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tasks/{task}/elevation",
        what: "提级: set a new due date or take over (the task is not elevated: 409)",
        expect: |role, rel| match rel {
            Rel::Own if role == Role::Head => 409,
            Rel::Own if role == Role::CaseManagement => 403,
            Rel::Parent if matches!(role, Role::Head | Role::Supervision) => 409,
            Rel::Parent if supervisory(role) => 403,
            _ => 404,
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/reports/{report}",
        what: "read a report of the holder (its triage task is 信访室's)",
        expect: |role, rel| match rel {
            Rel::Own if matches!(role, Role::Petitions | Role::Head) => 200,
            Rel::Own => 403,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/reports/{report}/identity-views",
        what: "view the reporter's identity (信访室 or the head of the commission it is sealed to)",
        expect: |role, rel| match rel {
            Rel::Own if matches!(role, Role::Petitions | Role::Head) => 400,
            Rel::Own => 403,
            Rel::Parent if supervisory(role) => 403,
            _ => 404,
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/audit",
        what: "the audit log of the caller's commission and the orgs below it",
        expect: |role, rel| administers(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/outbox",
        what: "undelivered work for Temporal about the matters of the caller's subtree",
        expect: |role, rel| administers(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/overdue",
        what: "open steps past their due time in the caller's subtree",
        expect: |role, rel| administers(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/overdue?org=370402",
        what: "the overdue steps of one org's subtree (not the caller's: 403)",
        expect: |role, rel| match rel {
            Rel::Own | Rel::Parent if matches!(role, Role::Head | Role::Office) => 200,
            _ => 403,
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/stats?from=2026-01-01&to=2026-12-31",
        what: "the period's figures for the caller's subtree",
        expect: |role, rel| administers(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/stats?from=2026-01-01&to=2026-12-31&org=370402",
        what: "the figures of one org's subtree (not the caller's: 403)",
        expect: |role, rel| match rel {
            Rel::Own | Rel::Parent if matches!(role, Role::Head | Role::Office) => 200,
            _ => 403,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/admin/exports",
        what: "ask for a ledger export of the caller's subtree (an empty body: 400)",
        expect: |role, rel| administers(role, rel, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/exports/{export}",
        what: "a ledger export's progress, for the commission that asked",
        expect: |role, rel| asked(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/exports/{export}/file",
        what: "a finished ledger export's file, for the commission that asked",
        expect: |role, rel| asked(role, rel, 200),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/admin/outbox/0/requeue",
        what: "requeue a dead-lettered row (there is none: 404)",
        expect: |role, rel| administers(role, rel, 404),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tours",
        what: "start an inspection tour of orgs under the caller's commission",
        expect: |role, rel| {
            if rel != Rel::Child && SUPERVISORS.contains(&role) {
                400
            } else {
                403
            }
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tours/{tour}",
        what: "read a tour of the holder and its feedback",
        expect: |role, rel| match rel {
            Rel::Own => 200,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tours/{tour}/problems",
        what: "record a problem the holder's tour found",
        expect: |role, rel| act(role, rel, SUPERVISORS, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/problems",
        what: "record a problem a report or clue of the caller's commission revealed",
        expect: |role, rel| {
            if rel != Rel::Child && SUPERVISORS.contains(&role) {
                400
            } else {
                403
            }
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/problems/{problem}",
        what: "read a problem of the holder (also its owner and, once handed over, its supervisor)",
        expect: |role, rel| match rel {
            Rel::Own => 200,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/problems/{problem}/rectification",
        what: "hand a problem over for rectification",
        expect: |role, rel| act(role, rel, SUPERVISORS, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/problems/{problem}/more-time",
        what: "ask for more time (only the owner, a village here, may: 403)",
        expect: |role, rel| act(role, rel, &[], 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/campaigns",
        what: "start a campaign of orgs under the caller's commission",
        expect: |role, rel| {
            if rel != Rel::Child && SUPERVISORS.contains(&role) {
                400
            } else {
                403
            }
        },
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/campaigns/{campaign}",
        what: "read a campaign of the holder (also its participants)",
        expect: |role, rel| match rel {
            Rel::Own => 200,
            Rel::Parent if supervisory(role) => 200,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/campaigns/{campaign}/problems",
        what: "record a problem the holder's campaign check found",
        expect: |role, rel| act(role, rel, SUPERVISORS, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/elevated-villages",
        what: "the 提级监督 listings of villages the caller watches",
        expect: |_, _| 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/elevated-villages",
        what: "list a village under 提级监督 (a county commission's head)",
        expect: |role, rel| match rel {
            Rel::Own | Rel::Sibling if role == Role::Head => 400,
            _ => 403,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/elevated-villages/{listing}/unlist",
        what: "end the holder's listing of a village of the child township",
        expect: |role, rel| match rel {
            Rel::Own if role == Role::Head => 400,
            Rel::Own | Rel::Parent | Rel::Child if supervisory(role) => 403,
            _ => 404,
        },
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/screening/imports",
        what: "open an import of a roster or register for the caller's commission",
        expect: |role, rel| screener(role, rel, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/screening/imports/{import}",
        what: "the holder's import and its progress",
        expect: |role, rel| screened(role, rel, 200),
    },
    Endpoint {
        method: "PUT",
        path: "/api/v1/screening/imports/{import}/chunks/9",
        what: "send a chunk of the holder's import",
        expect: |role, rel| screened(role, rel, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/screening/imports/{import}/refusals",
        what: "the refused lines of the holder's import",
        expect: |role, rel| screened(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/screening/rules",
        what: "the caller's commission's screening rules",
        expect: |role, rel| screener(role, rel, 200),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/screening/rules",
        what: "adopt a screening rule for the caller's commission",
        expect: |role, rel| screener(role, rel, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/screening/runs",
        what: "run one of the caller's commission's rules",
        expect: |role, rel| screener(role, rel, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/screening/runs/{run}",
        what: "the holder's screening run and its progress",
        expect: |role, rel| screened(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/screening/hits",
        what: "the suspicious records (疑点) of the caller's commission's screening",
        expect: |role, rel| screener(role, rel, 200),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/disclosure/items",
        what: "publish an item of the caller's own org (监督一点通)",
        expect: |role, _| publisher(role, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/disclosure/items/{item}/corrections",
        what: "correct the holder's disclosed item",
        expect: |role, rel| disclosed(role, rel, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/disclosure/items/{item}/withdrawal",
        what: "withdraw the holder's disclosed item",
        expect: |role, rel| disclosed(role, rel, 400),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/sanzi/contracts",
        what: "a village's lease (三资); only a village's staff and head, and no village is a caller here",
        expect: |_, _| 403,
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/sanzi/transactions",
        what: "a village's payment or receipt (三资); as above",
        expect: |_, _| 403,
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/sanzi/imports/contracts",
        what: "import a village's leases (三资) as CSV or XLSX; as above",
        expect: |_, _| 403,
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/sanzi/imports/transactions",
        what: "import a village's payments and receipts (三资) as CSV or XLSX; as above",
        expect: |_, _| 403,
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/sanzi/rules",
        what: "the caller's commission's 三资 risk rules",
        expect: |role, rel| screener(role, rel, 200),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/sanzi/rules",
        what: "adopt a 三资 risk rule for the caller's commission",
        expect: |role, rel| screener(role, rel, 400),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/sanzi/warnings",
        what: "the 三资 warnings of the caller's commission or township",
        expect: |role, rel| sanzi_reader(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/sanzi/warnings/{warning}",
        what: "the holder's 三资 warning on a village of the child township",
        expect: |role, rel| sanzi_warned(role, rel, 200),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/orgs",
        what: "the caller's part of the org tree",
        expect: |_, _| 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/orgs/370402",
        what: "the holder's org: seen from above, below and itself, not from aside",
        expect: |_, rel| if rel == Rel::Sibling { 404 } else { 200 },
    },
];

/// The table as markdown: a row per endpoint, a column per role, each cell
/// the statuses for own · parent · child · sibling.
fn render() -> String {
    let mut doc = String::from(
        "# Who may do what\n\n\
         Generated from `tests/tests/authorization.rs`, which calls every staff endpoint as every \
         role, acting for the org that holds the object, and checks each status against this \
         table. Do not edit by hand: change the test's table and run it with \
         `JIANDU_WRITE_DOCS=1`.\n\n\
         The objects (a clue and its first task, for 案件监督管理室) are held by 市中区纪委监委 \
         (`370402`). Each cell gives the status for a caller acting for **own** `370402` · \
         **parent** `370400` (the city commission) · **child** `370402001` (a township under it) · \
         **sibling** `370403` (another county). Writes send `{}`: a caller who passes \
         authorization is then refused for the body (400) or the object's state (409), so 400 \
         and 409 mean *allowed*. 403: the caller may see the object but not do this; 404: the \
         caller may not see it at all. Without a token, every endpoint answers 401; a token \
         from an issuer not trusted for the caller's org is refused with 401 too.\n\n\
         The tour (`{tour}`) of the holder inspects one village and has one problem \
         (`{problem}`) not yet handed over; the listing (`{listing}`) is the holder's of a \
         village of the child township; the campaign (`{campaign}`) is the holder's, of one \
         of its departments.\n\n\
         The report (`{report}`, a report id) is an anonymous one of the holder's division. Every \
         call on it, and on the audit log, is itself in the audit log, refusals included.\n\n\
         Public endpoints need no token: `POST /api/v1/reports`, `GET /api/v1/reports/{report}` \
         and `POST /api/v1/reports/{report}/feedback` with a receipt code (and the receipt's \
         secret), the API description under `/api/v1/openapi.json` and `/api/v1/schemas/`, and the public \
         disclosure (`GET /api/v1/disclosure/divisions/{org}`, `GET /api/v1/disclosure/items` and \
         `GET /api/v1/disclosure/items/{id}`). The disclosed item (`{item}`) is the holder's; the 三资 \
         warning (`{warning}`) is the holder's, on a village of the child township.\n\n",
    );
    doc.push_str("| endpoint |");
    for role in Role::ALL {
        let _ = write!(doc, " {role} |");
    }
    doc.push_str("\n|---|");
    for _ in Role::ALL {
        doc.push_str("---|");
    }
    doc.push('\n');
    for e in ENDPOINTS {
        let _ = write!(doc, "| `{} {}` — {} |", e.method, e.path, e.what);
        for role in Role::ALL {
            let cell: Vec<String> = Rel::ALL
                .iter()
                .map(|rel| (e.expect)(*role, *rel).to_string())
                .collect();
            let _ = write!(doc, " {} |", cell.join(" · "));
        }
        doc.push('\n');
    }
    doc
}

#[test]
fn the_authorization_table_holds_and_is_documented() {
    let doc_path = repo().join("docs/authorization.md");
    let rendered = render();
    if std::env::var_os("JIANDU_WRITE_DOCS").is_some() {
        std::fs::create_dir_all(doc_path.parent().unwrap()).unwrap();
        std::fs::write(&doc_path, &rendered).unwrap();
    }
    let documented = std::fs::read_to_string(&doc_path).unwrap_or_default();
    assert!(
        documented == rendered,
        "docs/authorization.md is not this test's table; run with JIANDU_WRITE_DOCS=1 and review the diff"
    );

    let host = Host::start_product();
    let temporal = Temporal::start();
    let worker = Worker::start(&host, &temporal, &[("JIANDU_TIME_SCALE", "20s")]);
    let post =
        |auth: &str, path: &str| host.post_json(path, &json!({}), &[("authorization", auth)]);
    // The fixtures: a clue of the holder and its open assignment task.
    let registrar = bearer(Role::CaseManagement, HOLDER);
    let clue = host.post_json(
        "/api/v1/clues",
        &json!({ "source": "supervision", "summary": "日常监督发现的问题" }),
        &[("authorization", registrar.as_str())],
    );
    assert_eq!(clue.status, 201, "{}", clue.text);
    let clue = clue.json()["id"].as_str().unwrap().to_owned();
    let task = format!("{clue}.2.assignment");
    let opened = host.wait_for(Duration::from_secs(120), || {
        host.get(
            &format!("/api/v1/tasks/{task}"),
            &[("authorization", registrar.as_str())],
        )
        .status
            == 200
    });
    assert!(
        opened,
        "the assignment task never opened: {}",
        worker.logs()
    );

    // A report of the holder's division, and its triage task open.
    let report = host.post_json(
        "/api/v1/reports",
        &json!({
            "category": "integrity", "division_code": HOLDER,
            "subject": { "name": "张某" }, "content": "村集体资金被挪用于个人消费。",
        }),
        &[],
    );
    assert_eq!(report.status, 201, "{}", report.text);
    let report = report.json()["id"].as_str().unwrap().to_owned();
    let petitions = bearer(Role::Petitions, HOLDER);
    let triage = host.wait_for(Duration::from_secs(120), || {
        host.get("/api/v1/tasks", &[("authorization", petitions.as_str())])
            .text
            .contains(&report)
    });
    assert!(triage, "the triage task never opened: {}", worker.logs());

    // A tour of the holder with one problem, and a listing of a village of the child township.
    let head = bearer(Role::Head, HOLDER);
    let created = |path: &str, body: serde_json::Value| {
        let reply = host.post_json(path, &body, &[("authorization", head.as_str())]);
        assert_eq!(reply.status, 201, "{path}: {}", reply.text);
        reply.json()["id"].to_string().trim_matches('"').to_owned()
    };
    let tour = created(
        "/api/v1/tours",
        json!({
            "name": "2026年第一轮巡察", "leader": "王组长", "members": ["李某"],
            "period": { "from": "2026-03-01", "to": "2026-04-30" },
            "targets": ["370402101201"],
        }),
    );
    let problem = created(
        &format!("/api/v1/tours/{tour}/problems"),
        json!({
            "target": "370402101201", "responsible_org": "370402101201",
            "category": "三资管理", "description": "村集体土地发包未经民主程序。",
        }),
    );
    let campaign = created(
        "/api/v1/campaigns",
        json!({
            "kind": "joint_supervision", "topic": "惠民资金联合督导",
            "lead_department": "370402-mzj", "participants": ["370402-mzj"],
            "period": { "from": "2026-06-01", "to": "2026-12-31" }, "checklist": [],
            "deadlines": { "self_inspection_days": 30, "joint_check_days": 30, "rectification_days": 30 },
        }),
    );
    let listing = created(
        "/api/v1/elevated-villages",
        json!({
            "village": "370402001202", "reason": "信访集中",
            "period": { "from": "2026-01-01", "to": "2027-12-31" },
        }),
    );

    // A ledger export of the holder, finished.
    let export = host.post_json(
        "/api/v1/admin/exports",
        &json!({ "ledger": "clues", "format": "csv" }),
        &[("authorization", head.as_str())],
    );
    assert_eq!(export.status, 202, "{}", export.text);
    let export = export.json()["id"].as_str().unwrap().to_owned();
    let written = host.wait_for(Duration::from_secs(120), || {
        host.get(
            &format!("/api/v1/admin/exports/{export}"),
            &[("authorization", head.as_str())],
        )
        .json()["state"]
            == "done"
    });
    assert!(written, "the export was never written: {}", worker.logs());

    // A screening import of the holder with one roster line, a rule and its run.
    let import = created(
        "/api/v1/screening/imports",
        json!({
            "list": "minimum_living", "name": "低保名册", "source": "市中区民政局",
            "period": "2026-10", "org": "370402001", "digest": "0".repeat(64),
        }),
    );
    let chunk = host.send(
        "PUT",
        &format!("/api/v1/screening/imports/{import}/chunks/1?first_line=2"),
        &[
            ("authorization", head.as_str()),
            ("content-type", "text/csv"),
        ],
        Some("name,birth_date\n张三,1960-01-01\n".as_bytes()),
    );
    assert_eq!(chunk.status, 200, "{}", chunk.text);
    let rule = created(
        "/api/v1/screening/rules",
        jiandu_domain::screening::example_rules()
            .first()
            .map(|r| serde_json::to_value(r).unwrap())
            .unwrap(),
    );
    let run = host.post_json(
        "/api/v1/screening/runs",
        &json!({ "rule_id": rule }),
        &[("authorization", head.as_str())],
    );
    assert_eq!(run.status, 202, "{}", run.text);
    let run = run.json()["id"].as_str().unwrap().to_owned();

    // An item the holder disclosed.
    let item = created(
        "/api/v1/disclosure/items",
        json!({ "kind": "party", "period": "2026", "title": "党务公开", "body": "本季度党务工作情况。" }),
    );

    // A 三资 rule of the holder and a warning it raised on a village of the child township.
    created(
        "/api/v1/sanzi/rules",
        json!({ "name": "现金", "kind": "cash_above", "limit": "100.00" }),
    );
    let village = bearer(Role::Staff, "370402001201");
    let entered = host.post_json(
        "/api/v1/sanzi/transactions",
        &json!({
            "kind": "payment", "amount": "500.00", "method": "cash",
            "payee": { "name": "某商店" }, "purpose": "办公用品", "on_date": "2026-11-02",
        }),
        &[("authorization", village.as_str())],
    );
    assert_eq!(entered.status, 201, "{}", entered.text);
    let warning = entered.json()["warnings"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut wrong = Vec::new();
    for e in ENDPOINTS {
        let path = e
            .path
            .replace("{clue}", &clue)
            .replace("{task}", &task)
            .replace("{report}", &report)
            .replace("{tour}", &tour)
            .replace("{problem}", &problem)
            .replace("{listing}", &listing)
            .replace("{campaign}", &campaign)
            .replace("{export}", &export)
            .replace("{import}", &import)
            .replace("{run}", &run)
            .replace("{item}", &item)
            .replace("{warning}", &warning);
        let anonymous = match e.method {
            "GET" => host.get(&path, &[]),
            _ => host.post_json(&path, &json!({}), &[]),
        };
        if anonymous.status != 401 {
            wrong.push(format!(
                "{} {path} without a token: {}",
                e.method, anonymous.status
            ));
        }
        for role in Role::ALL {
            for rel in Rel::ALL {
                let auth = bearer(*role, rel.org());
                let reply = match e.method {
                    "GET" => host.get(&path, &[("authorization", auth.as_str())]),
                    "PUT" => host.send(
                        "PUT",
                        &path,
                        &[
                            ("authorization", auth.as_str()),
                            ("content-type", "text/csv"),
                        ],
                        Some(b""),
                    ),
                    _ => post(&auth, &path),
                };
                let expected = (e.expect)(*role, rel);
                if reply.status != expected {
                    wrong.push(format!(
                        "{} {} as {role} of {} ({rel:?}): {} expected, got {} {}",
                        e.method,
                        e.path,
                        rel.org(),
                        expected,
                        reply.status,
                        reply.text
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of the table do not hold:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
