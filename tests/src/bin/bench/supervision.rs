//! The supervision half of `cargo xtask bench`, at the seed's volume: 566
//! villages, 6,708 problems handed to them for rectification (half of the
//! owners' steps overdue), 61 clues transferred from problems and 133
//! villages under 提级监督. The volume is written straight into the host's
//! database (the workflows that would write it are measured elsewhere);
//! then, through the host, the overdue view's first page and a deep page
//! and a full XLSX ledger export (asked for, written by the worker and
//! downloaded; and the download alone), each against the same rows read by
//! a plain SQL query natively in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use jiandu_domain::org::Role;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Host, bearer, repo};
use serde_json::Value;
use sqlx::{Connection as _, SqliteConnection};

const VILLAGES: usize = 566;
/// The seed's problems; `--problems N` asks for more (e.g. 100,000 to see the
/// ledger stream past what would fit in a component's memory).
pub const PROBLEMS: usize = 6_708;
const CLUES: usize = 61;
const ELEVATED: usize = 133;
/// The city commission whose head reads the view and the ledger.
const CITY: &str = "370400";
/// Times each measurement is taken; the median is reported.
const RUNS: usize = 7;

/// The demo tree with `VILLAGES` more villages spread over its townships.
fn seed_tree(dir: &Path) -> (std::path::PathBuf, Vec<(String, String)>) {
    let text = std::fs::read_to_string(repo().join("orgs/zaozhuang.json")).expect("the demo tree");
    let mut tree: Value = serde_json::from_str(&text).expect("JSON");
    let orgs = tree["orgs"].as_array_mut().expect("orgs");
    let townships: Vec<(String, String)> = orgs
        .iter()
        .filter(|o| o["kind"] == "township")
        .map(|o| {
            let id = o["id"].as_str().unwrap().to_owned();
            (id.clone(), o["supervisor"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut villages = Vec::new();
    for i in 0..VILLAGES {
        let (township, county) = &townships[i % townships.len()];
        let id = format!("{township}{:03}", 300 + i / townships.len());
        orgs.push(serde_json::json!({
            "id": id, "name": format!("村{i}"), "kind": "village", "level": "village",
            "division": id, "parent": township, "supervisor": township, "people": [],
        }));
        villages.push((id, county.clone()));
    }
    let file = dir.join("orgs.json");
    std::fs::write(&file, tree.to_string()).expect("write the tree");
    (file, villages)
}

/// Writes the seed's volume with `problems` problems; returns how many
/// owners' steps are overdue.
async fn seed(db: &Path, villages: &[(String, String)], problems: usize) -> usize {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the host's database");
    let mut tx = conn.begin().await.expect("begin");
    let now = time::OffsetDateTime::now_utc();
    let at = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    };
    let mut overdue = 0;
    for i in 0..problems {
        let (village, county) = &villages[i % villages.len()];
        let id = format!("P{i:06}");
        sqlx::query(
            "INSERT INTO problems (id, source, target, org, responsible_org, category, description,
                                   evidence, state, supervisor, recorded_by, recorded_at, handed_at)
             VALUES (?, 'inspection_tour', ?, ?, ?, '三资管理', '集体资产租赁未公开', '[]',
                     'rectifying', ?, 'bench', ?, ?)",
        )
        .bind(&id)
        .bind(village)
        .bind(county)
        .bind(village)
        .bind(county)
        .bind(at(now))
        .bind(at(now))
        .execute(&mut *tx)
        .await
        .expect("a problem");
        let late = i % 2 == 0;
        overdue += usize::from(late);
        let due = if late {
            now - time::Duration::hours(1 + i as i64)
        } else {
            now + time::Duration::days(30)
        };
        sqlx::query(
            "INSERT INTO tasks (id, workflow_type, workflow_id, subject_kind, subject_id, step, duty,
                                policy, article, statutory, assignee_org, assignee_role, outcomes,
                                opened_at, due_date, due_at, status, escalation_level)
             VALUES (?, 'RectificationWorkflow', ?, 'problem', ?, 'rectification_report',
                     'rectify the problem', 'rectification', '巡视工作条例', 1, ?, 'staff',
                     '[\"reported\"]', ?, ?, ?, ?, ?)",
        )
        .bind(format!("{id}.1.rectification_report"))
        .bind(&id)
        .bind(&id)
        .bind(village)
        .bind(at(now - time::Duration::days(60)))
        .bind(due.date().to_string())
        .bind(at(due))
        .bind(if late { "overdue" } else { "open" })
        .bind(if late { 1 } else { 0 })
        .execute(&mut *tx)
        .await
        .expect("a task");
    }
    for (i, (_, county)) in villages.iter().enumerate().take(CLUES) {
        sqlx::query(
            "INSERT INTO clues (id, source, org, summary, state, registered_by, registered_at,
                                updated_at, problem_id)
             VALUES (?, 'inspection_tour', ?, '巡察移交', 'assignment', 'bench', ?, ?, ?)",
        )
        .bind(format!("C{i:06}"))
        .bind(county)
        .bind(at(now))
        .bind(at(now))
        .bind(format!("P{i:06}"))
        .execute(&mut *tx)
        .await
        .expect("a clue");
    }
    for (village, county) in villages.iter().take(ELEVATED) {
        sqlx::query(
            "INSERT INTO elevated_villages (village, county, starts_on, ends_on, reason, listed_by,
                                            listed_at)
             VALUES (?, ?, '2026-01-01', '2027-12-31', '重点村', 'bench', ?)",
        )
        .bind(village)
        .bind(county)
        .bind(at(now))
        .execute(&mut *tx)
        .await
        .expect("a listing");
    }
    tx.commit().await.expect("commit");
    overdue
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median time of `f` over `RUNS` runs.
fn timed(mut f: impl FnMut()) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

/// The same rows read natively: the overdue steps of `orgs` after `after`.
async fn native_overdue(conn: &mut SqliteConnection, orgs: &[String], after: &str) -> usize {
    let marks = vec!["?"; orgs.len()].join(", ");
    let sql = format!(
        "SELECT id, subject_kind, subject_id, step, duty, article, statutory, assignee_org,
                assignee_role, opened_at, due_at, status, reminders_sent, escalation_level,
                supervised_by, elevated_to
         FROM tasks
         WHERE status IN ('open', 'overdue') AND due_at IS NOT NULL AND due_at < ?
           AND assignee_org IN ({marks}) AND (due_at > ? OR (due_at = ? AND id > ?))
         ORDER BY due_at, id LIMIT 50"
    );
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    let (due, id) = after.split_once('|').unwrap_or(("", ""));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for org in orgs {
        q = q.bind(org);
    }
    q.bind(due)
        .bind(due)
        .bind(id)
        .fetch_all(conn)
        .await
        .expect("overdue rows")
        .len()
}

/// The same rows as the problems ledger, read natively.
async fn native_ledger(conn: &mut SqliteConnection, orgs: &[String]) -> usize {
    let marks = vec!["?"; orgs.len()].join(", ");
    let sql = format!(
        "SELECT p.id, p.source, p.org, p.target, p.responsible_org, p.category, p.description,
                p.state, p.recorded_at, c.id AS clue_id
         FROM problems p LEFT JOIN clues c ON c.problem_id = p.id
         WHERE p.responsible_org IN ({marks}) ORDER BY p.id"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for org in orgs {
        q = q.bind(org);
    }
    q.fetch_all(conn).await.expect("ledger rows").len()
}

/// Seeds the volume (`problems` problems) and prints each time against its
/// native query.
pub fn run(problems: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let host = Host::start_product();
    let (tree, villages) = seed_tree(dir.path());
    host.load_orgs(&tree);
    let rt = jiandu_tests::runtime();
    let overdue = rt.block_on(seed(&host.db_path(), &villages, problems));
    let auth = bearer(Role::Head, CITY);
    let get = |path: &str| {
        let reply = host.get(path, &[("authorization", auth.as_str())]);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        reply
    };
    // The cursor of a deep page: the last page's start, walked once.
    let mut after = String::new();
    let mut pages = 0;
    loop {
        let page = get(&format!("/api/v1/admin/overdue?limit=50&after={after}")).json();
        let rows = page["rows"].as_array().map_or(0, Vec::len);
        pages += 1;
        match page["next"].as_str() {
            Some(next) if rows == 50 && pages < overdue / 50 => after = next.to_owned(),
            _ => break,
        }
    }
    let deep = after.clone();
    let first = timed(|| {
        get("/api/v1/admin/overdue?limit=50");
    });
    let deep_time = timed(|| {
        get(&format!("/api/v1/admin/overdue?limit=50&after={deep}"));
    });
    // The export: asked for, written by the worker, then downloaded.
    let temporal = Temporal::start();
    let _worker = Worker::start(&host, &temporal, &[("JIANDU_RELAY_POLL_MS", "10")]);
    let mut download = Vec::new();
    let ledger = timed(|| {
        let asked = host.post_json(
            "/api/v1/admin/exports",
            &serde_json::json!({ "ledger": "problems", "format": "xlsx" }),
            &[("authorization", auth.as_str())],
        );
        assert_eq!(asked.status, 202, "{}", asked.text);
        let status = format!(
            "/api/v1/admin/exports/{}",
            asked.json()["id"].as_str().unwrap()
        );
        let mut file = String::new();
        let done = host.wait_for(Duration::from_secs(600), || {
            let now = get(&status).json();
            assert_ne!(now["state"], "failed", "{now}");
            file = now["file"].as_str().unwrap_or_default().to_owned();
            now["state"] == "done"
        });
        assert!(done, "the export was not written within 10 minutes");
        let t = Instant::now();
        let reply = get(&file);
        download.push(t.elapsed());
        assert!(reply.bytes.len() > 100_000, "{} bytes", reply.bytes.len());
    });
    let download = median(download);
    let orgs: Vec<String> = jiandu_tests::tree()
        .subtree(CITY)
        .into_iter()
        .map(|o| o.id.clone())
        .chain(villages.iter().map(|(v, _)| v.clone()))
        .collect();
    let (native_first, native_deep, native_ledger_time) = rt.block_on(async {
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", host.db_path().display()))
            .await
            .expect("open");
        let mut each = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            assert_eq!(native_overdue(&mut conn, &orgs, "").await, 50);
            each.push(t.elapsed());
        }
        let first = median(each);
        let mut each = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            native_overdue(&mut conn, &orgs, &deep).await;
            each.push(t.elapsed());
        }
        let deep_native = median(each);
        let mut each = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            assert_eq!(native_ledger(&mut conn, &orgs).await, problems);
            each.push(t.elapsed());
        }
        (first, deep_native, median(each))
    });
    println!(
        "\nsupervision at the seed's volume: {VILLAGES} villages, {problems} problems \
         ({overdue} overdue), {CLUES} clues, {ELEVATED} villages under 提级监督; median of {RUNS}"
    );
    println!(
        "{:<40} {:>10} {:>10} {:>8}",
        "", "host ms", "native ms", "ratio"
    );
    for (name, host_time, native) in [
        ("overdue view, first page (50)", first, native_first),
        (
            &*format!("overdue view, page {pages} (50)"),
            deep_time,
            native_deep,
        ),
        (
            "problems ledger XLSX, asked to downloaded",
            ledger,
            native_ledger_time,
        ),
        (
            "problems ledger XLSX, download alone",
            download,
            native_ledger_time,
        ),
    ] {
        println!(
            "{:<40} {:>10.1} {:>10.1} {:>7.1}x",
            name,
            host_time.as_secs_f64() * 1e3,
            native.as_secs_f64() * 1e3,
            host_time.as_secs_f64() / native.as_secs_f64().max(1e-9)
        );
    }
}
