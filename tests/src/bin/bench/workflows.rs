//! The workflow half of `cargo xtask bench`, on the real host, workers and a
//! Temporal dev server (one process, its own SQLite), all on this machine:
//!
//! - how long a report takes from its 201 to a started workflow (the relay)
//!   and to its first task (start plus one activity), p50/p99;
//! - workflows completed per second, against the bare starts per second the
//!   same server and relay managed in the same run;
//! - workflow starts per second from a full outbox on 1, 2 and 4 workers
//!   sharing one PostgreSQL database (on SQLite one worker relays);
//! - with `--open` deadlines (default 10,000) falling due evenly within a
//!   minute, how late the reminder (催办), overdue (督办) and elevation (提级)
//!   events are recorded after their due times: on one worker on SQLite, and
//!   on 1, 2 and 4 workers on PostgreSQL.

use std::time::{Duration, Instant};

use jiandu_domain::deadline::Span;
use jiandu_domain::org::Role;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Database, Host, ORG, bearer};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn report() -> serde_json::Value {
    json!({
        "category": "integrity",
        "division_code": "370400",
        "subject": { "name": "张某", "unit": "某镇政府" },
        "content": "村集体资金被挪用于个人消费，涉及金额二十余万元。",
    })
}

fn submit(host: &Host, n: usize, pace: Duration) -> Vec<String> {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            let reply = host.post_json("/api/v1/reports", &report(), &[]);
            assert_eq!(reply.status, 201, "{}", reply.text);
            if let Some(rest) = pace.checked_sub(started.elapsed()) {
                std::thread::sleep(rest);
            }
            reply.json()["id"].as_str().expect("an id").to_owned()
        })
        .collect()
}

/// Sends `n` reports from four threads at once, spread evenly over `over`
/// (as fast as the host takes them when that is zero).
fn flood(host: &Host, n: usize, over: Duration) {
    const SENDERS: usize = 4;
    std::thread::scope(|scope| {
        for s in 0..SENDERS {
            let share = n / SENDERS + usize::from(s < n % SENDERS);
            let pace = over / share.max(1) as u32;
            scope.spawn(move || submit(host, share, pace));
        }
    });
}

/// How often [`wait`] counts where the time it takes is the measurement.
const OFTEN: Duration = Duration::from_millis(50);
/// How often [`wait`] counts where the figures come from the stored times
/// (lateness, starts): each count opens a connection and scans a growing
/// table on the machine being measured.
const SELDOM: Duration = Duration::from_secs(1);

/// Waits until `sql` counts `expected` rows, counting every `poll`, at most `within`.
fn wait(
    host: &Host,
    what: &str,
    sql: &str,
    expected: i64,
    poll: Duration,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    let mut counted = host.count(sql);
    while counted < expected {
        assert!(
            start.elapsed() < within,
            "{what}: only {counted} of {expected} in {within:?}"
        );
        std::thread::sleep(poll);
        counted = host.count(sql);
    }
    start.elapsed()
}

fn millis_between(pairs: &[String]) -> Vec<f64> {
    let mut out: Vec<f64> = pairs
        .iter()
        .filter_map(|pair| {
            let (a, b) = pair.split_once('|')?;
            let a = OffsetDateTime::parse(a, &Rfc3339).ok()?;
            let b = OffsetDateTime::parse(b, &Rfc3339).ok()?;
            Some((b - a).as_seconds_f64() * 1e3)
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

/// Prints the head of a table of [`line`]s.
fn header(title: &str) {
    println!(
        "{title:<44} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "min", "p50", "p99", "max", "n"
    );
}

/// Prints one row of milliseconds, sorted: the least (a delay every one of
/// them shares shows there, apart from a backlog's), p50, p99, the most.
fn line(name: &str, ms: &[f64]) {
    println!(
        "{name:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>6}",
        ms.first().copied().unwrap_or(f64::NAN),
        pct(ms, 0.50),
        pct(ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN),
        ms.len()
    );
}

/// Latency from report to workflow, and workflows completed per second.
fn pipeline(reports: usize) {
    let host = Host::start_product();
    let temporal = Temporal::start();
    // Slow time: nothing falls due during this part.
    let _worker = Worker::start(&host, &temporal, &[("JIANDU_TIME_SCALE", "60s")]);
    // Warm up: the first start connects and compiles.
    submit(&host, 5, Duration::ZERO);
    wait(
        &host,
        "warm-up",
        "SELECT count(*) FROM tasks WHERE step = 'triage'",
        5,
        OFTEN,
        Duration::from_secs(120),
    );

    // Paced at 20 reports/s, below saturation: this measures latency.
    let ids = submit(&host, reports, Duration::from_millis(50));
    wait(
        &host,
        "triage tasks",
        "SELECT count(*) FROM tasks WHERE step = 'triage'",
        reports as i64 + 5,
        OFTEN,
        Duration::from_secs(600),
    );
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let started = millis_between(&host.strings(&format!(
        "SELECT created_at || '|' || delivered_at FROM outbox WHERE workflow_id IN ({list})"
    )));
    let first_task = millis_between(&host.strings(&format!(
        "SELECT r.received_at || '|' || t.opened_at FROM reports r JOIN tasks t ON t.subject_id = r.id
         WHERE t.step = 'triage' AND r.id IN ({list})"
    )));

    // A burst of starts: how many workflows the relay and server start per second.
    let burst = Instant::now();
    let burst_ids = submit(&host, reports, Duration::ZERO);
    let burst_total = reports as i64 * 2 + 5;
    wait(
        &host,
        "burst starts",
        "SELECT count(*) FROM tasks WHERE step = 'triage'",
        burst_total,
        OFTEN,
        Duration::from_secs(600),
    );
    let starts_per_s = reports as f64 / burst.elapsed().as_secs_f64();

    // Complete every triage as a duplicate: each workflow then ends.
    let auth = bearer(Role::Petitions, ORG);
    let done = Instant::now();
    for id in ids.iter().chain(&burst_ids) {
        let task = format!("{id}.1.triage");
        let reply = host.post_json(
            &format!("/api/v1/tasks/{task}/complete"),
            &json!({ "outcome": "duplicate" }),
            &[("authorization", auth.as_str())],
        );
        assert_eq!(reply.status, 202, "{}", reply.text);
    }
    wait(
        &host,
        "completed workflows",
        "SELECT count(*) FROM reports WHERE status = 'duplicate'",
        reports as i64 * 2,
        OFTEN,
        Duration::from_secs(600),
    );
    let completed_per_s = (reports * 2) as f64 / done.elapsed().as_secs_f64();

    println!();
    header("report → workflow (ms, 20 reports/s)");
    line("201 → workflow started (relay)", &started);
    line("201 → first task open (start + activity)", &first_task);
    println!("\nworkflow starts per second (burst of {reports}): {starts_per_s:.1}");
    println!(
        "workflows completed per second (task done → end, {}): {completed_per_s:.1}",
        reports * 2
    );
    println!(
        "completed / started per second: {:.2}x",
        completed_per_s / starts_per_s
    );
}

/// Workflow starts per second with `workers` workers relaying a full outbox:
/// the reports are in before any worker runs, so intake is not the limit.
fn starts(database: Database, reports: usize, workers: usize) -> f64 {
    let host = Host::start_product_on(database);
    let temporal = Temporal::start();
    flood(&host, reports, Duration::ZERO);
    let _workers: Vec<Worker> = (0..workers)
        .map(|_| Worker::start(&host, &temporal, &[("JIANDU_TIME_SCALE", "60s")]))
        .collect();
    wait(
        &host,
        "starts",
        "SELECT count(*) FROM tasks WHERE step = 'triage'",
        reports as i64,
        SELDOM,
        Duration::from_secs(900),
    );
    // From the first delivery to the last: worker start-up is not counted.
    let span = millis_between(&host.strings(
        "SELECT min(delivered_at) || '|' || max(delivered_at) FROM outbox WHERE kind = 'start'",
    ));
    reports as f64 / (span.first().copied().unwrap_or(f64::NAN) / 1e3)
}

/// One working day in the lateness run: long enough that every deadline is
/// open before the first reminder, and that the rungs of all deadlines, each
/// spread over [`DUE_WITHIN`], fall due one stage after another, as they do
/// in real time, where they are days apart. Triage has 15 working days and
/// the default ladder (reminder 3 days before, 提级 2 days after): reminders
/// fall due 360–420 s after the first report, 督办 450–510 s, 提级 510–570 s.
const WORKING_DAY: Duration = Duration::from_secs(30);
/// Triage's time limit in working days, from its policy.
fn triage_days() -> f64 {
    match jiandu_domain::deadline::TRIAGE.span {
        Span::WorkingDays(days) => f64::from(days),
        other => panic!("triage is counted in working days, not {other:?}"),
    }
}
/// The default ladder's reminder and grace, in working days.
const REMIND_BEFORE: f64 = 3.0;
const GRACE: f64 = 2.0;
/// How long the deadlines of the lateness run take to fall due.
const DUE_WITHIN: Duration = Duration::from_secs(60);

/// How late each rung of an escalation was recorded (ms after it was due).
struct Lateness {
    reminded: Vec<f64>,
    overdue: Vec<f64>,
    elevated: Vec<f64>,
}

/// How late escalations are recorded with `open` deadlines open at once,
/// received (and so due) evenly within [`DUE_WITHIN`].
fn lateness(database: Database, open: usize, workers: usize) -> Lateness {
    let host = Host::start_product_on(database);
    let temporal = Temporal::start();
    let day = format!("{}s", WORKING_DAY.as_secs());
    let workers_running: Vec<Worker> = (0..workers)
        .map(|_| Worker::start(&host, &temporal, &[("JIANDU_TIME_SCALE", day.as_str())]))
        .collect();
    let submitted = Instant::now();
    flood(&host, open, DUE_WITHIN);
    let sent = submitted.elapsed().as_secs_f64();
    wait(
        &host,
        "open deadlines",
        "SELECT count(*) FROM tasks WHERE step = 'triage'",
        open as i64,
        SELDOM,
        Duration::from_secs(900),
    );
    let opened = submitted.elapsed().as_secs_f64();
    let first_reminder = WORKING_DAY.as_secs_f64() * (triage_days() - REMIND_BEFORE);
    if opened >= first_reminder {
        println!(
            "warning: the last deadline opened {opened:.0} s after the first report, after the first reminder fell due: the lateness below includes starting late"
        );
    }
    wait(
        &host,
        "elevations",
        "SELECT count(*) FROM task_events WHERE kind = 'elevated'",
        open as i64,
        SELDOM,
        Duration::from_secs(900),
    );
    let rung = |kind: &str, offset_days: f64| -> Vec<f64> {
        let offset_ms = offset_days * WORKING_DAY.as_secs_f64() * 1e3;
        millis_between(&host.strings(&format!(
            "SELECT t.due_at || '|' || e.at FROM tasks t JOIN task_events e ON e.task_id = t.id
             WHERE e.kind = '{kind}'"
        )))
        .into_iter()
        .map(|ms| ms - offset_ms)
        .collect()
    };
    let peak_mib: Vec<String> = workers_running
        .iter()
        .map(|w| {
            w.pid()
                .and_then(peak_memory_mib)
                .map_or("?".into(), |m| format!("{m:.0}"))
        })
        .collect();
    let result = Lateness {
        reminded: rung("reminder", -REMIND_BEFORE),
        overdue: rung("overdue", 0.0),
        elevated: rung("elevated", GRACE),
    };
    println!(
        "\n{open} deadlines on {workers} worker(s), {database:?}: sent in {sent:.1} s, all open {opened:.1} s after the first report; peak worker memory {} MiB",
        peak_mib.join(" / ")
    );
    result
}

/// A process's peak resident memory (`VmHWM`) in MiB, from `/proc`.
fn peak_memory_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the workflow throughput benchmarks: latency, completions and starts.
pub fn run(reports: usize, workers: &[usize]) {
    pipeline(reports);

    let mut rates = vec![(
        Database::Sqlite,
        1,
        starts(Database::Sqlite, reports * 5, 1),
    )];
    for &n in workers {
        rates.push((
            Database::Postgres,
            n,
            starts(Database::Postgres, reports * 5, n),
        ));
    }
    println!(
        "\n{:<44} {:>9}",
        "workflow starts per second (full outbox)", "starts/s"
    );
    for (database, n, rate) in &rates {
        println!("{:<44} {rate:>9.1}", format!("{database:?}, {n} worker(s)"));
    }
}

/// Runs the escalation benchmark: how late `open` deadlines' rungs are
/// recorded, each configuration's figures printed as soon as it has run:
/// SQLite with one worker (unless `sqlite_too` is false), then PostgreSQL
/// with each of `workers`.
pub fn escalation(open: usize, workers: &[usize], sqlite_too: bool) {
    let configurations = sqlite_too
        .then_some((Database::Sqlite, 1))
        .into_iter()
        .chain(workers.iter().map(|&n| (Database::Postgres, n)));
    for (database, n) in configurations {
        let late = lateness(database, open, n);
        header("escalation lateness (ms after due)");
        let on = format!("{database:?}, {n} worker(s)");
        line(&format!("催办 recorded, {on}"), &late.reminded);
        line(&format!("督办 recorded, {on}"), &late.overdue);
        line(&format!("提级 recorded, {on}"), &late.elevated);
    }
    println!(
        "(target: p99 < 1,000 ms with 10,000 deadlines due within {} s on one worker)",
        DUE_WITHIN.as_secs()
    );
}
