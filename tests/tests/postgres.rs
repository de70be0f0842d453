//! PostgreSQL behind the same product: `spin:postgres` on the real host (the
//! `testbed` component) and `jiandu migrate` on the PostgreSQL the machine
//! runs, each test on a database of its own.

use std::collections::BTreeSet;
use std::time::Duration;

use jiandu_tests::postgres::{PgDatabase, block_on};
use jiandu_tests::{Database, Host, Reply, runtime, testbed_manifest};

const SERVER: &str = "postgres://127.0.0.1:5432";

fn testbed(allowed: &[&str]) -> (Host, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = testbed_manifest(dir.path(), allowed);
    (Host::start(&manifest, &[]), dir)
}

/// Runs each line of `script` as a statement on one connection.
fn script(host: &Host, address: &str, script: &str) -> Reply {
    plain(host.send(
        "POST",
        "/testbed/pg",
        &[("x-pg-address", address)],
        Some(script.as_bytes()),
    ))
}

/// The reply with the interface's values written without their type names
/// (`Int32(1)` for `DbValue::Int32(1)`).
fn plain(mut reply: Reply) -> Reply {
    for prefix in ["DbDataType::", "DbValue::", "QueryError::", "Error::"] {
        reply.text = reply.text.replace(prefix, "");
    }
    reply
}

#[test]
fn every_supported_type_goes_in_as_a_parameter_and_comes_back() {
    let db = PgDatabase::create();
    let (host, _dir) = testbed(&[SERVER]);
    let reply = plain(host.send(
        "POST",
        "/testbed/pg/types",
        &[("x-pg-address", &db.url())],
        None,
    ));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let json = format!("Jsonb({:?})", "{\"kind\": \"三资\"}".as_bytes().to_vec());
    let expected = format!(
        "([Boolean, Int16, Int32, Int64, Floating32, Floating64, Str, Str, Binary, Date, Time, \
         Datetime, Datetime, Uuid, Jsonb, Decimal, ArrayInt32, ArrayInt64, ArrayStr, ArrayDecimal, \
         Interval, Str], [[Boolean(true), Int16(-12), Int32(70000), Int64(-9000000000), \
         Floating32(1.5), Floating64(-2.25), Str(\"问题线索\"), Str(\"村务\"), Binary([0, 1, 255]), \
         Date((2026, 11, 27)), Time((13, 5, 9, 250000000)), \
         Datetime((2026, 11, 27, 23, 59, 58, 123456000)), \
         Datetime((2026, 12, 27, 23, 59, 59, 0)), \
         Uuid(\"0f8fad5b-d9cb-469f-a165-70867728950e\"), {json}, Decimal(\"-12345.6789\"), \
         ArrayInt32([Some(1), None, Some(3)]), ArrayInt64([Some(-1)]), \
         ArrayStr([Some(\"a\"), None]), ArrayDecimal([Some(\"0.5\")]), \
         Interval(Interval {{ micros: 1500000, days: 2, months: 3 }}), DbNull]])"
    );
    assert_eq!(reply.text, expected);
}

#[test]
fn a_transaction_is_one_connection_and_an_abandoned_one_is_rolled_back() {
    let db = PgDatabase::create();
    let (host, _dir) = testbed(&[SERVER]);
    let url = db.url();
    let reply = script(
        &host,
        &url,
        "CREATE TABLE t (n int)\nBEGIN\nINSERT INTO t VALUES (1)\nROLLBACK\n\
         BEGIN\nINSERT INTO t VALUES (2)\nCOMMIT\nSELECT n FROM t",
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.text.lines().last(),
        Some("ok ([Int32], [[Int32(2)]])"),
        "{}",
        reply.text
    );
    // The component returns with a transaction open: the host rolls it back
    // before the connection serves anyone else.
    let reply = script(&host, &url, "BEGIN\nINSERT INTO t VALUES (3)");
    assert_eq!(reply.text, "ok ([], [])\nok ([], [])\n");
    let idle_in_transaction = "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'";
    let rolled_back = host.wait_for(Duration::from_secs(30), || {
        script(&host, &url, idle_in_transaction).text == "ok ([Int64], [[Int64(0)]])\n"
    });
    assert!(rolled_back, "a transaction stayed open:\n{}", host.logs());
    for _ in 0..3 {
        assert_eq!(
            script(&host, &url, "SELECT count(*) FROM t").text,
            "ok ([Int64], [[Int64(1)]])\n"
        );
    }
}

#[test]
fn errors_carry_postgres_codes_and_addresses_take_both_forms() {
    let db = PgDatabase::create();
    let (host, _dir) = testbed(&[SERVER]);
    let reply = script(
        &host,
        &db.url(),
        "SELEC 1\nCREATE TABLE u (id int PRIMARY KEY)\nINSERT INTO u VALUES (1)\nINSERT INTO u VALUES (1)",
    );
    let lines: Vec<&str> = reply.text.lines().collect();
    assert_eq!(lines.len(), 4, "{}", reply.text);
    assert!(
        lines[0].starts_with("err PgError(QueryFailed(DbError(DbError {")
            && lines[0].contains("code: \"42601\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[3].contains("code: \"23505\"") && lines[3].contains("(\"constraint\", \"u_pkey\")"),
        "{}",
        lines[3]
    );
    let pairs = format!(
        "host=127.0.0.1 port=5432 user=postgres dbname={}",
        db.name()
    );
    assert_eq!(
        script(&host, &pairs, "SELECT count(*) FROM u").text,
        "ok ([Int64], [[Int64(1)]])\n"
    );
}

#[test]
fn postgres_reaches_only_allowed_addresses() {
    let db = PgDatabase::create();
    for allowed in [
        &[][..],
        &["postgres://127.0.0.1:5433"],
        &["https://127.0.0.1:5432"],
    ] {
        let (host, _dir) = testbed(allowed);
        let reply = script(&host, &db.url(), "SELECT 1");
        assert_eq!(reply.status, 502, "{allowed:?}: {}", reply.text);
        assert!(
            reply.text.contains("ConnectionFailed")
                && reply
                    .text
                    .contains("postgres://127.0.0.1:5432 is not allowed"),
            "{allowed:?}: {}",
            reply.text
        );
        let logged = host.wait_for(Duration::from_secs(10), || {
            host.logs().contains("not in allowed_outbound_hosts")
        });
        assert!(logged, "{}", host.logs());
    }
    let (host, _dir) = testbed(&["postgres://127.0.0.1:*"]);
    assert_eq!(
        script(&host, &db.url(), "SELECT 1").text,
        "ok ([Int32], [[Int32(1)]])\n"
    );
}

#[test]
fn an_allowed_address_may_name_an_application_variable() {
    let db = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let manifest = testbed_manifest(dir.path(), &["postgres://{{ database_host }}"]);
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "[variables]\n",
        "[variables]\ndatabase_host = { default = \"unused.invalid:5432\" }\n",
    );
    std::fs::write(&manifest, text).unwrap();

    let host = Host::start(
        &manifest,
        &[("SPIN_VARIABLE_DATABASE_HOST", "127.0.0.1:5432")],
    );
    assert_eq!(
        script(&host, &db.url(), "SELECT 1").text,
        "ok ([Int32], [[Int32(1)]])\n"
    );
    drop(host);

    // The default names no real server, so nothing is reachable.
    let host = Host::start(&manifest, &[]);
    let reply = script(&host, &db.url(), "SELECT 1");
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert!(reply.text.contains("is not allowed"), "{}", reply.text);
}

/// Runs `jiandu migrate --database-url URL [--orgs FILE]`; its stdout.
fn migrate(url: &str, orgs: Option<&std::path::Path>) -> String {
    let mut command = std::process::Command::new(jiandu_tests::jiandu_bin());
    command.args(["migrate", "--database-url", url]);
    if let Some(file) = orgs {
        command.arg("--orgs").arg(file);
    }
    let out = command.output().expect("run jiandu migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Rows of one text column.
async fn strings<'c, E: sqlx::Executor<'c>>(e: E, sql: &'static str) -> BTreeSet<String>
where
    String: for<'r> sqlx::Decode<'r, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    usize: sqlx::ColumnIndex<<E::Database as sqlx::Database>::Row>,
{
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(e)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn jiandu_migrate_gives_postgres_the_schema_and_the_rules_sqlite_has() {
    use sqlx::Connection as _;
    let db = PgDatabase::create();
    let orgs = jiandu_tests::repo().join("orgs/zaozhuang.json");
    let first = migrate(&db.url(), Some(&orgs));
    assert!(first.contains("loaded as version 1"), "{first}");
    let again = migrate(&db.url(), Some(&orgs));
    assert!(again.contains("unchanged (version 1)"), "{again}");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("twin.db").display());
    migrate(&sqlite, None);

    block_on(async {
        let mut lite = sqlx::SqliteConnection::connect(&sqlite).await.unwrap();
        let mut pg = sqlx::PgConnection::connect(&db.url()).await.unwrap();
        // Every table and column, and whether it may be NULL (a key may not).
        let lite_columns = strings(
            &mut lite,
            "SELECT m.name || '.' || p.name || CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 \
             THEN ' not null' ELSE '' END \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
        )
        .await;
        let pg_columns = strings(
            &mut pg,
            "SELECT table_name || '.' || column_name || CASE WHEN is_nullable = 'NO' \
             THEN ' not null' ELSE '' END \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
        )
        .await;
        assert!(lite_columns.len() > 150, "{lite_columns:?}");
        assert_eq!(pg_columns, lite_columns);
        // Every index a migration names.
        let lite_indexes = strings(
            &mut lite,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        .await;
        let pg_indexes = strings(
            &mut pg,
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
             AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        )
        .await;
        assert_eq!(pg_indexes, lite_indexes);
        // The rules: history tables refuse UPDATE, DELETE and TRUNCATE.
        let triggers = strings(
            &mut pg,
            "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal",
        )
        .await;
        for table in [
            "audit_log",
            "audit_checkpoints",
            "task_events",
            "problem_events",
            "campaign_events",
        ] {
            for trigger in [
                format!("{table}_append_only"),
                format!("{table}_no_truncate"),
            ] {
                assert!(triggers.contains(&trigger), "{trigger}: {triggers:?}");
            }
        }
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, actor_org, actor_roles, action, object, \
             request_id, outcome, prev_hash, hash) \
             VALUES (1, 't', 'a', 'o', 'r', 'report.read', 'report:x', 'req', 'done', '\\x00', '\\x01')",
        )
        .execute(&mut pg)
        .await
        .unwrap();
        for change in [
            "UPDATE audit_log SET detail = 'edited'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "TRUNCATE task_events",
        ] {
            let refused = sqlx::query(change).execute(&mut pg).await.unwrap_err();
            assert!(
                refused.to_string().contains("append-only"),
                "{change}: {refused}"
            );
        }
        // A 提级监督 listing is only ever unlisted, once.
        sqlx::query(
            "INSERT INTO elevated_villages (village, county, starts_on, ends_on, reason, listed_by, listed_at) \
             VALUES ('v', 'c', '2026-01-01', '2026-12-31', 'r', 'p', 't')",
        )
        .execute(&mut pg)
        .await
        .unwrap();
        for change in [
            "UPDATE elevated_villages SET reason = 'other'",
            "DELETE FROM elevated_villages",
        ] {
            assert!(
                sqlx::query(change).execute(&mut pg).await.is_err(),
                "{change}"
            );
        }
        sqlx::query("UPDATE elevated_villages SET unlisted_at = 't2', unlisted_by = 'p', unlist_reason = 'done'")
            .execute(&mut pg)
            .await
            .unwrap();
        let again = sqlx::query("UPDATE elevated_villages SET unlist_reason = 'again'")
            .execute(&mut pg)
            .await
            .unwrap_err();
        assert!(
            again.to_string().contains("only ever unlisted, once"),
            "{again}"
        );
    });
}

/// An anonymous report to `division` with a text of its own.
fn anonymous_report(division: &str, n: usize) -> serde_json::Value {
    serde_json::json!({
        "category": "integrity",
        "division_code": division,
        "subject": { "name": "张某", "unit": "某镇政府" },
        "content": format!("村集体资金被挪用于个人消费，第{n}位举报人反映。"),
    })
}

/// On PostgreSQL a report only adds rows of its own and counts the
/// anonymous limiter's windows in one upsert, so reports, real-name and
/// anonymous, are stored while another write holds the components' write
/// lock.
#[test]
fn reports_do_not_wait_for_other_writes() {
    let host = Host::start_product_on(Database::Postgres);
    let anonymous = anonymous_report("370402", 0);
    let mut real_name = anonymous.clone();
    real_name["reporter"] = serde_json::json!({ "name": "王实名", "phone": "13912345678" });

    // Another write, e.g. a staff member's, holding the lock.
    let rt = runtime();
    let mut other = rt.block_on(async {
        let mut conn = transaction_beside(&host).await;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(jiandu_guest::db::WRITE_LOCK)
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    });
    for body in [&real_name, &anonymous] {
        let stored = host.post_json("/api/v1/reports", body, &[]);
        assert_eq!(stored.status, 201, "{}", stored.text);
    }
    rt.block_on(sqlx::query("COMMIT").execute(&mut other))
        .unwrap();
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 2);
}

/// A connection of the test's own to `host`'s database, in a transaction.
async fn transaction_beside(host: &Host) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&host.database_url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    conn
}

/// The product on PostgreSQL with the anonymous `limits`
/// (`per_content,per_division,window_secs`).
fn product_limiting_anonymous_reports_to(limits: &str) -> Host {
    Host::start_on(
        Database::Postgres,
        &jiandu_tests::repo().join("spin.toml"),
        &[("SPIN_VARIABLE_ANONYMOUS_LIMITS", limits)],
        &[],
    )
}

/// Sends anonymous reports from each of eight threads while `more(i)`
/// holds for a thread's `i`th, the `n`th of all to `division(n)`, and
/// answers the statuses.
fn send_side_by_side(
    host: &Host,
    more: impl Fn(usize) -> bool + Sync,
    division: impl Fn(usize) -> &'static str + Sync,
) -> Vec<u16> {
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (more, division) = (&more, &division);
                s.spawn(move || {
                    (0..)
                        .take_while(|i| more(*i))
                        .map(|i| {
                            let n = t * 100_000 + i;
                            let body = anonymous_report(division(n), n);
                            let reply = host.post_json("/api/v1/reports", &body, &[]);
                            assert!(
                                matches!(reply.status, 201 | 429),
                                "{}: {}",
                                reply.status,
                                reply.text
                            );
                            reply.status
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

/// Without the write lock, anonymous reports counted side by side still
/// keep a division's limit exactly: none slips through between a count and
/// its commit.
#[test]
fn a_division_limit_holds_for_anonymous_reports_sent_side_by_side() {
    let host = product_limiting_anonymous_reports_to("1000,20,600");
    let statuses = send_side_by_side(&host, |i| i < 6, |_| "370402");
    let stored = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(stored, 20, "{statuses:?}");
    assert_eq!(host.count("SELECT COUNT(*) FROM reports"), 20);
}

/// Windows of one second open and end while anonymous reports to two
/// divisions are counted side by side; forgetting the ended ones never
/// waits on a report's counters, so no report deadlocks or fails.
#[test]
fn forgetting_ended_windows_never_fails_a_report() {
    let host = product_limiting_anonymous_reports_to("1000000,1000000,1");
    // Long enough for each division's window to open and end three times.
    let until = std::time::Instant::now() + Duration::from_secs(3);
    let statuses = send_side_by_side(
        &host,
        |_| std::time::Instant::now() < until,
        |n| {
            if n.is_multiple_of(2) {
                "370402"
            } else {
                "370403"
            }
        },
    );
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let stored = host.count("SELECT COUNT(*) FROM reports");
    assert_eq!(stored, i64::try_from(statuses.len()).unwrap());
    // Every report had a text of its own: without forgetting, each would
    // have left its window behind.
    let windows = host.count("SELECT COUNT(*) FROM submission_windows");
    assert!(
        windows < stored,
        "{windows} windows kept for {stored} reports"
    );
}

/// Forgetting ended windows passes over one that another transaction holds
/// (a report counting in it), so the report that opens a division's next
/// window is answered at once rather than waiting on that transaction.
#[test]
fn forgetting_passes_over_a_window_another_transaction_holds() {
    let host = product_limiting_anonymous_reports_to("1000000,1000000,1");
    let first = host.post_json("/api/v1/reports", &anonymous_report("370402", 1), &[]);
    assert_eq!(first.status, 201, "{}", first.text);
    // Past the one-second window, the first report's text window has ended.
    std::thread::sleep(Duration::from_millis(2100));
    let rt = runtime();
    let mut other = rt.block_on(async {
        let mut conn = transaction_beside(&host).await;
        let held = sqlx::query(
            "SELECT bucket FROM submission_windows WHERE bucket LIKE 'content:%' FOR UPDATE",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(held.len(), 1);
        conn
    });
    std::thread::scope(|s| {
        // This report opens the division's next window, and so forgets.
        let next =
            s.spawn(|| host.post_json("/api/v1/reports", &anonymous_report("370402", 2), &[]));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !next.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let answered = next.is_finished();
        rt.block_on(sqlx::query("COMMIT").execute(&mut other))
            .unwrap();
        assert!(
            answered,
            "the report waited on a window another transaction held"
        );
        let reply = next.join().unwrap();
        assert_eq!(reply.status, 201, "{}", reply.text);
    });
}
