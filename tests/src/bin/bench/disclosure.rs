//! The disclosure part of `cargo xtask bench` (监督一点通) at the seed's
//! volume: 2,459 villages (five generated townships of 市中区) and
//! `--items N` items (default 49,000) published through the API. Then, each
//! under the same load, against the trivial component in the same run:
//!
//! - browsing: `GET /api/v1/disclosure/items?division=…`, a village at a time;
//! - item reads: `GET /api/v1/disclosure/items/{id}`, an item at a time, each
//!   a counted visit;
//! - the same item reads on a second host over the same database with visit
//!   counting off (`visit_batch` 0): what counting costs (target ≤ 10%).
//!   Counted and uncounted reads take turns, twice; the ratio is of their
//!   means.

use std::sync::Arc;
use std::time::Instant;

use jiandu_domain::org::Role;
use jiandu_tests::{Database, Host, issuer, repo};
use serde_json::{Value, json};

use crate::{Load, Result, drive, drive_paths, trivial_manifest};

/// The seed's divisions and items.
pub const DIVISIONS: usize = 2_459;
pub const ITEMS: usize = 49_000;
/// The county the generated townships belong to.
const COUNTY: &str = "370402";
const TOWNSHIPS: usize = 5;

/// The demo tree with five more townships of the county and 2,459 villages
/// under them; answers the file and the villages' ids.
fn tree(dir: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    let text = std::fs::read_to_string(repo().join("orgs/zaozhuang.json")).expect("the demo tree");
    let mut tree: Value = serde_json::from_str(&text).expect("the demo tree is JSON");
    let orgs = tree["orgs"].as_array_mut().expect("a list of orgs");
    let mut villages = Vec::new();
    for t in 0..TOWNSHIPS {
        let township = format!("{COUNTY}{:03}", 301 + t);
        orgs.push(json!({
            "id": township, "name": format!("示范镇{}", t + 1), "kind": "township", "level": "township",
            "division": township, "parent": COUNTY, "supervisor": COUNTY,
        }));
        let here = DIVISIONS / TOWNSHIPS + usize::from(t < DIVISIONS % TOWNSHIPS);
        for v in 1..=here {
            let village = format!("{township}{v:03}");
            orgs.push(json!({
                "id": village, "name": format!("示范镇{}第{v}村", t + 1), "kind": "village",
                "level": "village", "division": village, "parent": township, "supervisor": township,
            }));
            villages.push(village);
        }
    }
    let path = dir.join("orgs.json");
    std::fs::write(&path, tree.to_string()).expect("write the tree");
    (path, villages)
}

/// Publishes `items` items over the villages, eight at a time; answers their ids.
fn publish(host: &Host, villages: &[String], items: usize) -> Vec<String> {
    let kinds = [
        "party",
        "village",
        "finance",
        "livelihood_fund",
        "small_project",
    ];
    let ids = std::sync::Mutex::new(Vec::with_capacity(items));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let now = jiandu_tests::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= items {
                        break;
                    }
                    let village = &villages[i % villages.len()];
                    let token = issuer(COUNTY).token(
                        &format!("{village}/staff"),
                        village,
                        &[Role::Staff],
                        now,
                        3600,
                    );
                    let body = json!({
                        "kind": kinds[i % kinds.len()],
                        "period": format!("2026-{:02}", 1 + i % 12),
                        "title": format!("第{}号公开事项：村级资金使用情况", i),
                        "body": "收入、支出及结余情况如下。".repeat(10),
                        "amounts": [{ "label": "支出合计", "yuan": format!("{}.00", 1000 + i) }],
                    });
                    let reply = host.post_json(
                        "/api/v1/disclosure/items",
                        &body,
                        &[("authorization", format!("Bearer {token}").as_str())],
                    );
                    assert_eq!(reply.status, 201, "{}", reply.text);
                    let id = reply.json()["id"].as_str().expect("an id").to_owned();
                    ids.lock().expect("ids").push(id);
                }
            });
        }
    });
    ids.into_inner().expect("ids")
}

/// A fixed shuffle, so every run reads the same items in the same order.
fn shuffled(mut paths: Vec<String>) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..paths.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        paths.swap(i, (state >> 33) as usize % (i + 1));
    }
    paths
}

/// Runs the disclosure bench with `items` items.
pub fn run(items: usize, load: &Load) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (orgs, villages) = tree(dir.path());
    let host = Host::start_product_on(Database::Sqlite);
    host.load_orgs(&orgs);
    let started = Instant::now();
    let ids = publish(&host, &villages, items);
    let seeded = started.elapsed();
    let quiet = host.start_beside_with(&[("SPIN_VARIABLE_VISIT_BATCH", "0")]);
    let trivial = Host::start(&trivial_manifest(dir.path()), &[]);

    let browse: Vec<String> = villages
        .iter()
        .map(|v| format!("/api/v1/disclosure/items?division={v}"))
        .collect();
    let reads: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/disclosure/items/{id}"))
        .collect();
    let (browse, reads) = (Arc::new(shuffled(browse)), Arc::new(shuffled(reads)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let results: Vec<Result> = rt.block_on(async {
        let mut results = vec![
            drive("trivial component", trivial.addr, "GET", "/ok", load).await,
            drive_paths("browse a village", host.addr, "GET", browse, load).await,
        ];
        // Counted and uncounted reads take turns, twice, so that neither
        // has the warmer cache.
        for _ in 0..2 {
            for (name, addr) in [
                ("read an item (counted)", host.addr),
                ("read an item (not counted)", quiet.addr),
            ] {
                results.push(drive_paths(name, addr, "GET", reads.clone(), load).await);
            }
        }
        results
    });
    println!(
        "\n监督一点通: {} villages, {} items published through the API in {:.1} s ({:.0}/s); \
         {} connections, {} s each\n",
        villages.len(),
        ids.len(),
        seeded.as_secs_f64(),
        ids.len() as f64 / seeded.as_secs_f64(),
        load.connections,
        load.seconds
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
    let trivial = results[0].rps;
    let mean = |name: &str| {
        let runs: Vec<f64> = results
            .iter()
            .filter(|r| r.name == name)
            .map(|r| r.rps)
            .collect();
        runs.iter().sum::<f64>() / runs.len() as f64
    };
    let (counted, uncounted) = (
        mean("read an item (counted)"),
        mean("read an item (not counted)"),
    );
    println!(
        "\nbrowse / trivial: {:.2}x; item read / trivial: {:.2}x; \
         item read counted / not counted: {:.2}x (target ≥ 0.90x)",
        results[1].rps / trivial,
        counted / trivial,
        counted / uncounted
    );
}
