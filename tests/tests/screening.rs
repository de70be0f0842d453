//! 大数据比对 end to end: rosters and registers imported in chunks (CSV and
//! XLSX) with refused lines reported, the seed's rules adopted, runs that
//! survive a worker killed mid-run and find exactly the planted hits once,
//! a re-run that finds only what is new, and hits verified by their owners
//! into problems and clues, or dismissed with the reason.

use std::collections::BTreeSet;
use std::time::Duration;

use jiandu_domain::org::Role;
use jiandu_domain::report::IdNumber;
use jiandu_domain::screening::{example_rules, masked};
use jiandu_tests::system::{PATIENCE, System};
use jiandu_tests::temporal::Worker;
use jiandu_tests::{Host, Reply, assert_conforms, bearer, on_postgres, resident_id};
use serde_json::{Value, json};

/// 市中区纪委监委, the commission that screens.
const COUNTY: &str = "370402";
/// Its two townships, which own the roster lines.
const TOWNSHIPS: [&str; 2] = ["370402001", "370402101"];
/// The media type of an XLSX workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The header every list here uses.
const HEADER: &str = "id_number,name,birth_date,org,date,amount,detail";

/// Person `n`'s resident ID number, with a valid check character.
fn id_number(n: u32) -> String {
    resident_id(&format!(
        "370402{:04}{:02}{:02}{:03}",
        1940 + n % 50,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    ))
}

/// Person `n` as a display would show them.
fn shown(n: u32) -> String {
    masked(&IdNumber::parse(&id_number(n)).unwrap())
}

/// Person `n`'s name.
fn name(n: u32) -> String {
    format!("居民{n}")
}

/// The township person `n`'s roster line belongs to.
fn township(n: u32) -> &'static str {
    TOWNSHIPS[(n % 2) as usize]
}

/// A roster line of person `n`, last paid on `paid`.
fn roster_line(n: u32, paid: &str) -> String {
    format!("{},{},,{},{paid},600,", id_number(n), name(n), township(n))
}

/// SHA-256 of a file, hex.
fn digest(bytes: &[u8]) -> String {
    hex::encode(jiandu_guest::seal::sha256(bytes))
}

/// The county's head or 监督检查室, speaking to the screening API.
struct Screener<'a> {
    host: &'a Host,
    auth: String,
}

impl<'a> Screener<'a> {
    fn new(host: &'a Host) -> Self {
        Self {
            host,
            auth: bearer(Role::Supervision, COUNTY),
        }
    }

    fn post(&self, path: &str, body: Value) -> Reply {
        self.host
            .post_json(path, &body, &[("authorization", self.auth.as_str())])
    }

    fn get(&self, path: &str) -> Reply {
        self.host
            .get(path, &[("authorization", self.auth.as_str())])
    }

    /// Opens an import of `file` and answers its id.
    fn open(&self, list: &str, org: &str, file: &[u8], lines: u32) -> String {
        let reply = self.post(
            "/api/v1/screening/imports",
            json!({
                "list": list, "name": format!("{list} 2026-10"), "source": "市中区民政局",
                "period": "2026-10", "org": org, "digest": digest(file), "expected_lines": lines,
            }),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_conforms("screening-import-detail.json", &reply.json());
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// Sends chunk `seq` of an import.
    fn chunk(&self, import: &str, seq: u32, first_line: u32, media: &str, body: &[u8]) -> Reply {
        let reply = self.host.send(
            "PUT",
            &format!("/api/v1/screening/imports/{import}/chunks/{seq}?first_line={first_line}"),
            &[
                ("authorization", self.auth.as_str()),
                ("content-type", media),
            ],
            Some(body),
        );
        if reply.status == 200 {
            assert_conforms("screening-chunk.json", &reply.json());
        }
        reply
    }

    /// Imports a CSV file of `lines` (header added) as one chunk per `per` lines.
    fn import_csv(&self, list: &str, org: &str, lines: &[String], per: usize) -> String {
        let file = format!("{HEADER}\n{}\n", lines.join("\n"));
        let import = self.open(list, org, file.as_bytes(), lines.len() as u32);
        for (i, part) in lines.chunks(per).enumerate() {
            let body = format!("{HEADER}\n{}\n", part.join("\n"));
            let reply = self.chunk(
                &import,
                i as u32 + 1,
                (2 + i * per) as u32,
                "text/csv",
                body.as_bytes(),
            );
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
        import
    }

    /// Starts a run of `rule` and answers its id.
    fn run(&self, rule: &str) -> String {
        let reply = self.post("/api/v1/screening/runs", json!({ "rule_id": rule }));
        assert_eq!(reply.status, 202, "{}", reply.text);
        assert_conforms("screening-run-started.json", &reply.json());
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// The run as it stands.
    fn progress(&self, run: &str) -> Value {
        let reply = self.get(&format!("/api/v1/screening/runs/{run}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("screening-run-detail.json", &reply.json());
        reply.json()
    }

    /// Waits for the run to finish, checking that its progress only grows.
    fn finish(&self, run: &str, worker: &Worker) -> Value {
        let mut seen = Vec::new();
        // A batch cut off by a kill is retried once its minute is up.
        let done = self.host.wait_for(PATIENCE + Duration::from_secs(180), || {
            let now = self.progress(run);
            seen.push((
                now["rows_done"].as_i64().unwrap(),
                now["hits"].as_i64().unwrap(),
            ));
            now["state"] == "done"
        });
        assert!(
            done,
            "run {run} never finished: {seen:?}\n{}",
            worker.logs()
        );
        assert!(
            seen.windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
            "progress went back: {seen:?}"
        );
        self.progress(run)
    }

    /// The hits of `query` (e.g. `run=…`).
    fn hits(&self, query: &str) -> Vec<Value> {
        let reply = self.get(&format!("/api/v1/screening/hits?{query}"));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_conforms("screening-hits.json", &reply.json());
        reply.json()["hits"].as_array().cloned().unwrap_or_default()
    }
}

/// A workbook of `rows` under the header, as an office would send it.
fn workbook(rows: &[[String; 7]]) -> Vec<u8> {
    let header: Vec<String> = HEADER.split(',').map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(rows.iter().map(|r| r.to_vec()))
        .collect();
    jiandu_tests::workbook(&rows)
}

/// A register line for the workbook: person `n` with a date and a detail.
fn register_row(n: u32, date: &str, detail: &str) -> [String; 7] {
    [
        id_number(n),
        name(n),
        String::new(),
        String::new(),
        date.to_owned(),
        String::new(),
        detail.to_owned(),
    ]
}

/// The masked ID numbers of `hits`.
fn people(hits: &[Value]) -> BTreeSet<String> {
    hits.iter()
        .map(|h| h["id_masked"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn screening_finds_each_planted_hit_once_and_owners_verify_them() {
    let mut sys = System::start("60s");
    sys.worker.kill();
    // One roster line a batch, so a run takes hundreds of transactions
    // and a worker can be killed in the middle of one.
    sys.worker = Worker::start(
        &sys.host,
        &sys.temporal,
        &[
            ("JIANDU_TIME_SCALE", "60s"),
            ("JIANDU_SCREENING_BATCH", "1"),
        ],
    );
    let screener = Screener::new(&sys.host);

    // The roster: 300 recipients paid on 2026-10-15. Person 7 owns a
    // vehicle, person 42 two; person 100 died before the payment, person
    // 150 after it. Five more lines are wrong and refused.
    let mut roster: Vec<String> = (1..=300).map(|n| roster_line(n, "2026-10-15")).collect();
    let mut bad_check = id_number(301);
    bad_check.replace_range(17.., if bad_check.ends_with('0') { "1" } else { "0" });
    roster.extend([
        format!("{bad_check},{},,370402001,2026-10-15,600,", name(301)),
        format!("{},,,370402001,2026-10-15,600,", id_number(302)),
        format!(",{},,370402001,2026-10-15,600,", name(303)),
        format!(
            "{},{},,370402001,2026-13-15,600,",
            id_number(304),
            name(304)
        ),
        format!(
            "{},{},,370403001,2026-10-15,600,",
            id_number(305),
            name(305)
        ),
    ]);
    let roster_import = screener.import_csv("minimum_living", COUNTY, &roster, 160);
    let roster_now = screener.get(&format!("/api/v1/screening/imports/{roster_import}"));
    assert_eq!(
        roster_now.json()["lines_accepted"],
        300,
        "{}",
        roster_now.text
    );
    assert_eq!(roster_now.json()["lines_refused"], 5);
    assert_eq!(roster_now.json()["progress"], 1.0);
    let refused = screener.get(&format!(
        "/api/v1/screening/imports/{roster_import}/refusals"
    ));
    assert_conforms("screening-refusals.json", &refused.json());
    let reasons: Vec<(i64, String)> = refused.json()["refusals"]
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
    assert_eq!(
        reasons.iter().map(|r| r.0).collect::<Vec<_>>(),
        [302, 303, 304, 305, 306],
        "{reasons:?}"
    );
    assert!(reasons[0].1.contains("check character"), "{reasons:?}");
    assert!(reasons[1].1.contains("name"), "{reasons:?}");
    assert!(reasons[2].1.contains("birth_date"), "{reasons:?}");
    assert!(reasons[3].1.contains("YYYY-MM-DD"), "{reasons:?}");
    assert!(reasons[4].1.contains("370403001"), "{reasons:?}");

    // The same chunk again changes nothing; other content under its number is refused;
    // the same file again is the same import.
    let first = format!("{HEADER}\n{}\n", roster[..160].join("\n"));
    let again = screener.chunk(&roster_import, 1, 2, "text/csv", first.as_bytes());
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["accepted"], 160);
    let changed = screener.chunk(
        &roster_import,
        1,
        2,
        "text/csv",
        format!("{first}\n").as_bytes(),
    );
    assert_eq!(changed.status, 409, "{}", changed.text);
    let file = format!("{HEADER}\n{}\n", roster.join("\n"));
    let reopened = screener.post(
        "/api/v1/screening/imports",
        json!({
            "list": "minimum_living", "name": "again", "source": "市中区民政局",
            "period": "2026-10", "org": COUNTY, "digest": digest(file.as_bytes()),
        }),
    );
    assert_eq!(reopened.status, 200, "{}", reopened.text);
    assert_eq!(reopened.json()["id"], roster_import.as_str());
    assert_eq!(reopened.json()["lines_accepted"], 300);

    // The vehicle register as a workbook; the death register as CSV.
    let vehicles: Vec<[String; 7]> = [(7, "鲁D12345"), (42, "鲁D22222"), (42, "鲁D33333")]
        .into_iter()
        .chain((500..520).map(|n| (n, "鲁D00000")))
        .map(|(n, plate)| register_row(n, "2024-05-01", plate))
        .collect();
    let book = workbook(&vehicles);
    let vehicle_import = screener.open("vehicle_owners", COUNTY, &book, vehicles.len() as u32);
    let sent = screener.chunk(&vehicle_import, 1, 2, XLSX, &book);
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.json()["accepted"], 23, "{}", sent.text);
    let deaths: Vec<String> = [
        (100, "2026-08-01"),
        (150, "2026-11-01"),
        (600, "2026-01-01"),
    ]
    .into_iter()
    .map(|(n, died)| format!("{},{},,,{died},,", id_number(n), name(n)))
    .collect();
    screener.import_csv("deaths", COUNTY, &deaths, 10);

    // The seed's rules, adopted as they come.
    let examples = screener.get("/api/v1/screening/rules").json()["examples"].clone();
    assert_conforms(
        "screening-rules.json",
        &screener.get("/api/v1/screening/rules").json(),
    );
    let mut rules = Vec::new();
    for example in examples.as_array().unwrap() {
        let adopted = screener.post("/api/v1/screening/rules", example.clone());
        assert_eq!(adopted.status, 201, "{}", adopted.text);
        assert_conforms("screening-rule-detail.json", &adopted.json());
        rules.push(adopted.json()["id"].as_str().unwrap().to_owned());
    }
    let rule_named = |name: &str| {
        let i = example_rules().iter().position(|r| r.name == name).unwrap();
        rules[i].clone()
    };
    let vehicle_rule = rule_named("低保对象名下登记有车辆");
    let death_rule = rule_named("死亡后仍发放低保金");

    // The vehicle rule: the worker is killed mid-run and started again.
    let run = screener.run(&vehicle_rule);
    let midway = sys.host.wait_for(PATIENCE, || {
        let now = screener.progress(&run);
        now["rows_done"].as_i64().unwrap() >= 10
    });
    assert!(midway, "the run never got going: {}", sys.worker.logs());
    sys.worker.kill();
    let stopped = screener.progress(&run);
    assert_eq!(
        stopped["state"], "running",
        "the run ended before the kill: {stopped}"
    );
    sys.worker.restart();
    let finished = screener.finish(&run, &sys.worker);
    assert_eq!(finished["rows_done"], 300, "{finished}");
    assert_eq!(finished["hits"], 2, "{finished}");
    let vehicle_hits = screener.hits(&format!("run={run}"));
    assert_eq!(people(&vehicle_hits), BTreeSet::from([shown(7), shown(42)]));
    for hit in &vehicle_hits {
        let n = if hit["id_masked"] == shown(7) { 7 } else { 42 };
        assert_eq!(hit["owner_org"], township(n), "{hit}");
        assert_eq!(hit["state"], "verifying");
    }

    let death_run = screener.run(&death_rule);
    screener.finish(&death_run, &sys.worker);
    let death_hits = screener.hits(&format!("run={death_run}"));
    assert_eq!(
        people(&death_hits),
        BTreeSet::from([shown(100)]),
        "{death_hits:?}"
    );

    // Next month's roster names person 7 again and a new recipient, 700,
    // who owns a vehicle too: a new run finds only 700.
    let next: Vec<String> = [7, 700, 701]
        .iter()
        .map(|n| roster_line(*n, "2026-11-15"))
        .collect();
    screener.import_csv("minimum_living", COUNTY, &next, 10);
    let book = workbook(&[register_row(700, "2025-01-01", "鲁D70000")]);
    let import = screener.open("vehicle_owners", COUNTY, &book, 1);
    assert_eq!(screener.chunk(&import, 1, 2, XLSX, &book).status, 200);
    let rerun = screener.run(&vehicle_rule);
    let again = screener.finish(&rerun, &sys.worker);
    assert_eq!(again["hits"], 1, "{again}");
    assert_eq!(
        people(&screener.hits(&format!("run={rerun}"))),
        BTreeSet::from([shown(700)])
    );
    assert_eq!(screener.hits(&format!("rule={vehicle_rule}")).len(), 3);

    // The owners verify: 7 is confirmed (a problem, no clue: the rule
    // says none), 100 is confirmed (a problem and a big_data clue), 42 is
    // dismissed, and only with its reason.
    let hit_of = |hits: &[Value], n: u32| {
        hits.iter().find(|h| h["id_masked"] == shown(n)).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (hit7, hit42, hit100) = (
        hit_of(&vehicle_hits, 7),
        hit_of(&vehicle_hits, 42),
        hit_of(&death_hits, 100),
    );
    sys.complete(
        Role::Staff,
        township(7),
        &hit7,
        "suspicion_check",
        "confirm",
    );
    sys.complete(
        Role::Staff,
        township(100),
        &hit100,
        "suspicion_check",
        "confirm",
    );
    let task = sys.task(Role::Staff, township(42), &hit42, "suspicion_check");
    let bare = sys.post(
        Role::Staff,
        township(42),
        &format!("/api/v1/tasks/{}/complete", task["id"].as_str().unwrap()),
        json!({ "outcome": "dismiss" }),
    );
    assert_eq!(bare.status, 422, "{}", bare.text);
    assert_eq!(bare.error_pointers(), ["/note"]);
    sys.complete_with(
        Role::Staff,
        township(42),
        &hit42,
        "suspicion_check",
        "dismiss",
        json!({ "note": "车辆已于2025年过户，系登记未更新" }),
    );

    let settled = |hit: &str, state: &str| {
        let mut found = Value::Null;
        let ok = sys.host.wait_for(PATIENCE, || {
            found = screener
                .hits(&format!("state={state}"))
                .into_iter()
                .find(|h| h["id"] == hit)
                .unwrap_or(Value::Null);
            !found.is_null()
        });
        assert!(ok, "{hit} never became {state}: {}", sys.worker.logs());
        found
    };
    let seven = settled(&hit7, "confirmed");
    let problem = sys.get(
        Role::Head,
        COUNTY,
        &format!("/api/v1/problems/{}", seven["problem_id"].as_str().unwrap()),
    );
    assert_eq!(problem.status, 200, "{}", problem.text);
    assert_eq!(problem.json()["source"], "big_data");
    assert_eq!(problem.json()["responsible_org"], township(7));
    assert_eq!(problem.json()["category"], "违规享受低保");
    assert!(seven["clue_id"].is_null(), "{seven}");
    let hundred = settled(&hit100, "confirmed");
    let clue = sys.clue_in(COUNTY, hundred["clue_id"].as_str().unwrap());
    assert_eq!(clue["source"], "big_data", "{clue}");
    settled(&hit42, "dismissed");
    sys.record("screening-run-worker-killed", &run);
    sys.record("suspicion-confirmed-with-clue", &hit100);
    sys.record("suspicion-dismissed", &hit42);

    // Nothing a list names a person by was stored or logged in clear.
    let logs = format!("{}{}", sys.host.logs(), sys.worker.logs());
    for n in [7, 42, 100, 700] {
        assert!(!logs.contains(&id_number(n)), "an ID number was logged");
        assert!(!logs.contains(&name(n)), "a name was logged");
    }
    if !on_postgres() {
        let stored = sys.host.db_bytes();
        let holds = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
        for n in [7, 42, 100, 700] {
            assert!(!holds(&id_number(n)), "an ID number is stored in clear");
            assert!(!holds(&name(n)), "a name is stored in clear");
        }
    }
}

#[test]
fn bad_screening_requests_name_what_is_wrong() {
    let host = Host::start_product();
    let screener = Screener::new(&host);
    let open = |body: Value| screener.post("/api/v1/screening/imports", body);
    let good = json!({
        "list": "minimum_living", "name": "低保名册", "source": "市中区民政局",
        "period": "2026-10", "org": "370402001", "digest": "a".repeat(64),
    });

    let mut bad = good.clone();
    bad["digest"] = json!("not-a-digest");
    assert_eq!(open(bad).error_pointers(), ["/digest"]);
    let mut bad = good.clone();
    bad["list"] = json!("lottery_winners");
    assert_eq!(open(bad).error_pointers(), ["/list"]);
    let mut aside = good.clone();
    aside["org"] = json!("370403001");
    let aside = open(aside);
    assert_eq!(aside.status, 422, "{}", aside.text);
    assert_eq!(aside.error_pointers(), ["/org"]);
    // A township screens nothing; a commission's petitions office neither.
    for auth in [
        bearer(Role::Head, "370402001"),
        bearer(Role::Petitions, COUNTY),
    ] {
        let refused = host.post_json(
            "/api/v1/screening/imports",
            &good,
            &[("authorization", auth.as_str())],
        );
        assert_eq!(refused.status, 403, "{}", refused.text);
    }

    let opened = open(good.clone());
    assert_eq!(opened.status, 201, "{}", opened.text);
    let import = opened.json()["id"].as_str().unwrap().to_owned();
    let csv = format!("{HEADER}\n{},张三,,,,,\n", id_number(1));
    let no_line = host.send(
        "PUT",
        &format!("/api/v1/screening/imports/{import}/chunks/1"),
        &[
            ("authorization", screener.auth.as_str()),
            ("content-type", "text/csv"),
        ],
        Some(csv.as_bytes()),
    );
    assert_eq!(no_line.status, 400, "{}", no_line.text);
    assert_eq!(no_line.error_pointers(), ["/first_line"]);
    let pdf = screener.chunk(&import, 1, 2, "application/pdf", csv.as_bytes());
    assert_eq!(pdf.status, 415, "{}", pdf.text);
    let phone = screener.chunk(&import, 1, 2, "text/csv", "name,phone\n张三,1\n".as_bytes());
    assert_eq!(phone.status, 422, "{}", phone.text);
    assert!(phone.text.contains("phone"), "{}", phone.text);
    let broken = screener.chunk(&import, 1, 2, XLSX, b"PK not a workbook");
    assert_eq!(broken.status, 422, "{}", broken.text);
    let sent = screener.chunk(&import, 1, 2, "text/csv", csv.as_bytes());
    assert_eq!(sent.status, 200, "{}", sent.text);
    let overlapping = screener.chunk(&import, 2, 2, "text/csv", csv.as_bytes());
    assert_eq!(overlapping.status, 409, "{}", overlapping.text);
    // Another county's commission does not see the import.
    let other = host.get(
        &format!("/api/v1/screening/imports/{import}"),
        &[("authorization", bearer(Role::Head, "370403").as_str())],
    );
    assert_eq!(other.status, 404, "{}", other.text);

    // A rule that screens a register, or against a roster, is refused.
    let mut rule = serde_json::to_value(&example_rules()[0]).unwrap();
    rule["roster"] = json!("deaths");
    rule["register"] = json!("public_welfare_post");
    let refused = screener.post("/api/v1/screening/rules", rule);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.error_pointers(), ["/register", "/roster"]);
    let unknown = screener.post("/api/v1/screening/runs", json!({ "rule_id": "SRnope" }));
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(unknown.error_pointers(), ["/rule_id"]);
    let hits = screener.get("/api/v1/screening/hits?state=maybe");
    assert_eq!(hits.status, 400, "{}", hits.text);
    assert_eq!(hits.error_pointers(), ["/state"]);
}
