//! The screening half of `cargo xtask bench` (大数据比对): a roster and a
//! register of `--lines N` lines each (default 1,000,000; 100 people on
//! both) imported through the API in chunks of 10,000 lines, then the seed's
//! vehicle rule run over them by the worker. Each is measured against the
//! same work done natively in the same run on a database of the same kind:
//!
//! - import: lines per second through `PUT …/chunks/{seq}` (the component
//!   parses the CSV, validates each line, hashes and masks its ID number,
//!   seals the chunk's names and writes the rows) against a native program
//!   doing the same per chunk with sqlx;
//! - screening: the time from `POST /api/v1/screening/runs` until the run is
//!   done (the workflow's batches, the hits and their workflows' starts)
//!   against the same join as one native SQL query.

use std::time::{Duration, Instant};

use jiandu_domain::screening::{Line, example_rules, masked};
use jiandu_guest::seal::{ReceiptKey, SealingKeys};
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Database, Host, bearer, sealing_keys};
use serde_json::json;
use sqlx::{Connection as _, SqliteConnection};

/// The commission that screens, and the townships that own the lines.
const COUNTY: &str = "370402";
const TOWNSHIPS: [&str; 2] = ["370402001", "370402101"];
/// Lines per chunk (a chunk of these is about 600 KB, under the 1 MiB body limit).
const CHUNK: usize = 10_000;
/// People on both lists: the hits the rule must find.
const PLANTED: usize = 100;
const HEADER: &str = "id_number,name,birth_date,org,date,amount,detail";
/// The rows' columns, as the component writes them.
const INSERT: &str = "INSERT INTO screening_rows (import_id, commission, list, line, chunk_seq,
    name_index, id_hash, id_masked, person_hash, org, on_date, amount, detail) VALUES ";

/// Person `n`'s ID number: unique for n below 14,600,000, check character valid.
fn id_number(n: usize) -> String {
    let born = time::Date::from_calendar_date(1940, time::Month::January, 1).unwrap()
        + time::Duration::days((n / 1000 % 14_600) as i64);
    jiandu_tests::resident_id(&format!(
        "370402{:04}{:02}{:02}{:03}",
        born.year(),
        u8::from(born.month()),
        born.day(),
        n % 1000
    ))
}

/// The roster's person `i` and the register's (the first `PLANTED` of the
/// register are roster people, spread through it).
fn roster_person(i: usize) -> usize {
    i
}
fn register_person(i: usize, lines: usize) -> usize {
    let every = lines / PLANTED;
    if i.is_multiple_of(every) && i / every < PLANTED {
        i
    } else {
        lines + i
    }
}

/// Chunk `c` of a list: its CSV text (header first).
fn chunk_text(lines: usize, c: usize, roster: bool) -> String {
    let mut text = String::with_capacity(CHUNK * 64);
    text.push_str(HEADER);
    text.push('\n');
    for i in c * CHUNK..((c + 1) * CHUNK).min(lines) {
        let n = if roster {
            roster_person(i)
        } else {
            register_person(i, lines)
        };
        let org = TOWNSHIPS[n % 2];
        text.push_str(&format!(
            "{},居民{n},,{org},2026-10-15,600,{}\n",
            id_number(n),
            if roster { "" } else { "鲁D00000" }
        ));
    }
    text
}

/// What a timed import did.
struct Imported {
    lines: usize,
    took: Duration,
}

/// Imports `lines` lines of `list` through the API.
fn import_api(host: &Host, auth: &str, list: &str, lines: usize, roster: bool) -> Imported {
    let opened = host.post_json(
        "/api/v1/screening/imports",
        &json!({
            "list": list, "name": list, "source": "bench", "period": "2026-10", "org": COUNTY,
            "digest": hex::encode(jiandu_guest::seal::sha256(format!("{list}{lines}").as_bytes())),
            "expected_lines": lines,
        }),
        &[("authorization", auth)],
    );
    assert_eq!(opened.status, 201, "{}", opened.text);
    let id = opened.json()["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    for c in 0..lines.div_ceil(CHUNK) {
        let body = chunk_text(lines, c, roster);
        let sent = host.send(
            "PUT",
            &format!(
                "/api/v1/screening/imports/{id}/chunks/{}?first_line={}",
                c + 1,
                2 + c * CHUNK
            ),
            &[("authorization", auth), ("content-type", "text/csv")],
            Some(body.as_bytes()),
        );
        assert_eq!(sent.status, 200, "chunk {c}: {}", sent.text);
    }
    Imported {
        lines,
        took: started.elapsed(),
    }
}

/// Imports the same lines natively: the same parsing, validation, hashes,
/// mask and sealing per chunk, the same rows in one transaction per chunk.
async fn import_native(db: &str, list: &str, lines: usize, roster: bool) -> Imported {
    let mut conn = SqliteConnection::connect(db).await.expect("open");
    let key = ReceiptKey::from_base64(&base64_key()).expect("a key");
    let seal = SealingKeys::parse(&sealing_keys()).expect("sealing keys");
    let import = format!("native-{list}");
    sqlx::query(
        "INSERT INTO screening_imports (id, commission, org, list, name, source, period, digest,
                                        created_by, created_at)
         VALUES (?, ?, ?, ?, ?, 'bench', '2026-10', ?, 'bench', '2026-11-28T00:00:00Z')",
    )
    .bind(&import)
    .bind(COUNTY)
    .bind(COUNTY)
    .bind(list)
    .bind(list)
    .bind(&import)
    .execute(&mut conn)
    .await
    .expect("open the import");
    let started = Instant::now();
    for c in 0..lines.div_ceil(CHUNK) {
        let text = chunk_text(lines, c, roster);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records().map(|r| r.expect("a record"));
        let header: Vec<String> = records
            .next()
            .expect("a header")
            .iter()
            .map(str::to_owned)
            .collect();
        let mut rows = Vec::new();
        let mut names = Vec::new();
        for (n, record) in records.enumerate() {
            let fields = header.iter().map(String::as_str).zip(record.iter());
            let line = Line::parse(fields).expect("a valid line");
            let id = line.id_number.as_ref().expect("an ID number");
            rows.push((
                (2 + c * CHUNK + n) as i64,
                names.len() as i64,
                key.match_hash("id", id.as_str()),
                masked(id),
                key.match_hash("person", &format!("{}\0{}", line.name, line.birth_date)),
                line.org.clone().unwrap_or_default(),
                line.date.clone(),
                line.amount,
                line.detail.clone(),
            ));
            names.push(line.name);
        }
        let names = serde_json::to_vec(&names).expect("names");
        let _sealed = seal
            .seal(COUNTY, &names, format!("screening:{import}:{c}").as_bytes())
            .expect("seal");
        let mut tx = conn.begin().await.expect("begin");
        for part in rows.chunks(200) {
            let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; part.len()].join(", ");
            let sql = format!("{INSERT}{values}");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in part {
                q = q
                    .bind(&import)
                    .bind(COUNTY)
                    .bind(list)
                    .bind(r.0)
                    .bind(c as i64 + 1)
                    .bind(r.1)
                    .bind(&r.2)
                    .bind(&r.3)
                    .bind(&r.4)
                    .bind(&r.5)
                    .bind(&r.6)
                    .bind(r.7)
                    .bind(&r.8);
            }
            q.execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    Imported {
        lines,
        took: started.elapsed(),
    }
}

/// The key the native import hashes under (any key does the same work).
fn base64_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

/// The vehicle rule's join as one native query over the native rows: the
/// roster lines with a register line of the same ID number.
async fn join_native(db: &str) -> (usize, Duration) {
    let mut conn = SqliteConnection::connect(db).await.expect("open");
    let started = Instant::now();
    let hits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (
             SELECT r.id, MIN(g.id) FROM screening_rows r
             JOIN screening_rows g
               ON g.commission = r.commission AND g.list = 'vehicle_owners' AND g.id_hash = r.id_hash
             WHERE r.commission = ? AND r.list = 'minimum_living' AND r.id_hash IS NOT NULL
             GROUP BY r.id)",
    )
    .bind(COUNTY)
    .fetch_one(&mut conn)
    .await
    .expect("the join");
    (hits as usize, started.elapsed())
}

/// Imports and screens `lines` × `lines` through the product and natively.
pub fn run(lines: usize) {
    assert!(
        lines >= PLANTED * 10,
        "--lines must be at least {}",
        PLANTED * 10
    );
    let host = Host::start_product_on(Database::Sqlite);
    let temporal = Temporal::start();
    let worker = Worker::start(&host, &temporal, &[]);
    let auth = bearer(jiandu_domain::org::Role::Supervision, COUNTY);
    // The native side writes into its own copy of the schema.
    let mut owner = Host::start_product_on(Database::Sqlite);
    owner.kill();
    let native = owner.database_url();
    let rt = jiandu_tests::runtime();

    println!("\nscreening: {lines} roster lines against {lines} register lines, {PLANTED} on both");
    let api = [
        import_api(&host, &auth, "minimum_living", lines, true),
        import_api(&host, &auth, "vehicle_owners", lines, false),
    ];
    let own = rt.block_on(async {
        [
            import_native(&native, "minimum_living", lines, true).await,
            import_native(&native, "vehicle_owners", lines, false).await,
        ]
    });
    let rate = |i: &[Imported; 2]| {
        i.iter().map(|i| i.lines).sum::<usize>() as f64
            / i.iter().map(|i| i.took.as_secs_f64()).sum::<f64>()
    };
    let (api_rate, native_rate) = (rate(&api), rate(&own));

    let rule = example_rules()
        .into_iter()
        .find(|r| r.name == "低保对象名下登记有车辆")
        .expect("the vehicle rule");
    let adopted = host.post_json(
        "/api/v1/screening/rules",
        &serde_json::to_value(&rule).unwrap(),
        &[("authorization", auth.as_str())],
    );
    assert_eq!(adopted.status, 201, "{}", adopted.text);
    let started = Instant::now();
    let run = host.post_json(
        "/api/v1/screening/runs",
        &json!({ "rule_id": adopted.json()["id"] }),
        &[("authorization", auth.as_str())],
    );
    assert_eq!(run.status, 202, "{}", run.text);
    let status = format!(
        "/api/v1/screening/runs/{}",
        run.json()["id"].as_str().unwrap()
    );
    let mut now = serde_json::Value::Null;
    let done = host.wait_for(Duration::from_secs(3600), || {
        now = host
            .get(&status, &[("authorization", auth.as_str())])
            .json();
        now["state"] == "done"
    });
    let screened = started.elapsed();
    assert!(done, "the run never finished: {now}\n{}", worker.logs());
    assert_eq!(now["hits"], PLANTED, "{now}");
    // The run's own record: from its POST to its last batch's commit.
    let stamp = |key: &str| {
        let text = now[key].as_str().unwrap_or_default();
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("the run's {key} `{text}`: {e}"))
    };
    let recorded = (stamp("finished_at") - stamp("started_at")).as_seconds_f64();
    let (native_hits, joined) = rt.block_on(join_native(&native));
    assert_eq!(native_hits, PLANTED);

    println!("{:<44} {:>12} {:>12}", "", "product", "native");
    println!(
        "{:<44} {:>12.0} {:>12.0}",
        "import, lines/s (2 lists)", api_rate, native_rate
    );
    println!(
        "{:<44} {:>12.2} {:>12.2}",
        "screening, s (run to done / one query)",
        screened.as_secs_f64(),
        joined.as_secs_f64()
    );
    println!(
        "{:<44} {:>12.2}",
        "screening, s (as the run records it)", recorded
    );
    println!(
        "\nimport rate / native: {:.2}x; screening speed / native join: {:.2}x (target ≥ 0.50x)",
        api_rate / native_rate,
        joined.as_secs_f64() / screened.as_secs_f64()
    );
}
