//! The host survives misbehaving components and enforces what the manifest
//! grants: the real host, the `testbed` component.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiandu_tests::{Host, testbed_manifest};

fn testbed(allowed: &[&str]) -> (Host, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = testbed_manifest(dir.path(), allowed);
    let host = Host::start(
        &manifest,
        &[
            ("JIANDU_REQUEST_TIMEOUT_MS", "1500"),
            ("JIANDU_MEMORY_LIMIT_MIB", "32"),
        ],
    );
    (host, dir)
}

#[test]
fn a_trap_a_runaway_loop_and_a_memory_hog_each_get_a_json_500_and_serving_goes_on() {
    let (host, _dir) = testbed(&[]);
    assert_eq!(host.get("/testbed/ok", &[]).text, "ok");
    for path in ["/testbed/trap", "/testbed/loop", "/testbed/hog"] {
        let failed = host.get(path, &[]);
        assert_eq!(failed.status, 500, "{path}: {}", failed.text);
        assert_eq!(
            failed.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(failed.error_pointers(), [""], "{path}");
        let next = host.get("/testbed/ok", &[]);
        assert_eq!(
            (next.status, next.text.as_str()),
            (200, "ok"),
            "after {path}"
        );
    }
}

#[test]
fn outbound_http_reaches_only_allowed_hosts() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = upstream.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    std::thread::spawn(move || {
        for stream in upstream.incoming() {
            let Ok(mut stream) = stream else { break };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    let url = format!("/testbed/outbound?url=http://127.0.0.1:{port}/");

    let (denied, _d1) = testbed(&["http://127.0.0.1:1"]);
    let refused = denied.get(&url, &[]);
    assert_eq!(refused.status, 502, "{}", refused.text);
    assert!(
        refused.text.contains("HttpRequestDenied"),
        "{}",
        refused.text
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a refused request must not connect"
    );

    let allowed_host = format!("http://127.0.0.1:{port}");
    let (allowed, _d2) = testbed(&[&allowed_host]);
    let reached = allowed.get(&url, &[]);
    assert_eq!(reached.status, 200, "{}", reached.text);
    assert!(reached.text.contains("204"), "{}", reached.text);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn variables_come_from_the_manifest_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = testbed_manifest(dir.path(), &[]);
    let default = Host::start(&manifest, &[]);
    assert_eq!(
        default.get("/testbed/variable?name=greeting", &[]).text,
        "你好"
    );
    assert_eq!(
        default.get("/testbed/variable?name=undeclared", &[]).status,
        404
    );
    let overridden = Host::start(&manifest, &[("SPIN_VARIABLE_GREETING", "hello")]);
    assert_eq!(
        overridden.get("/testbed/variable?name=greeting", &[]).text,
        "hello"
    );
}

#[test]
fn spin_headers_from_clients_are_replaced_by_the_hosts() {
    let (host, _dir) = testbed(&[]);
    // A forged path-info would route inside the component; the host's wins.
    let reply = host.get(
        "/testbed/ok",
        &[
            ("spin-path-info", "/trap"),
            ("spin-client-addr", "10.0.0.1:1"),
        ],
    );
    assert_eq!((reply.status, reply.text.as_str()), (200, "ok"));
}

#[test]
fn the_guest_sees_the_request_path_never_the_clients_host_header() {
    let (host, _dir) = testbed(&[]);
    let reply = host.get("/testbed/uri?x=1", &[("host", "attacker.example")]);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let listening = format!("http://{}/testbed/uri?x=1", host.addr);
    assert_eq!(reply.text, format!("{listening} {listening}"));
    // Nothing answered to a reporter or staff member is kept by a cache.
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
}

#[test]
fn guest_sql_cannot_leave_its_database_or_change_its_schema() {
    let (host, _dir) = testbed(&[]);
    let sql = |statement: &str| {
        host.send(
            "POST",
            "/testbed/sql",
            &[("content-type", "text/plain")],
            Some(statement.as_bytes()),
        )
    };
    // Reads and transactions are the component's own (the product suites write through it).
    for allowed in ["SELECT count(*) FROM task_events", "BEGIN IMMEDIATE"] {
        let reply = sql(allowed);
        assert_eq!(reply.status, 200, "{allowed}: {}", reply.text);
    }
    for refused in [
        "ATTACH DATABASE 'elsewhere.db' AS elsewhere",
        "DETACH DATABASE main",
        "VACUUM INTO 'copy.db'",
        "  vacuum",
        "CREATE TABLE loot (x TEXT)",
        "CREATE TEMP TABLE loot (x TEXT)",
        "DROP TRIGGER task_events_no_update",
        "ALTER TABLE tasks ADD COLUMN x TEXT",
        "PRAGMA writable_schema = 1",
        "SELECT load_extension('evil')",
    ] {
        let reply = sql(refused);
        assert_eq!(reply.status, 400, "{refused}: {}", reply.text);
        assert!(
            reply.text.contains("not authorized"),
            "{refused}: {}",
            reply.text
        );
    }
    // The trigger that keeps the task log append-only is still there.
    assert_eq!(
        host.count("SELECT count(*) FROM sqlite_master WHERE name = 'task_events_no_update'"),
        1
    );
}

#[test]
fn a_statement_that_finds_the_database_locked_waits_for_it_and_serving_goes_on() {
    use sqlx::Connection as _;
    let (host, _dir) = testbed(&[]);
    let runtime = jiandu_tests::runtime();
    // Another process writes to the same file, as the worker's projections do.
    let mut other = runtime.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&host.database_url())
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    });
    std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            host.send(
                "POST",
                "/testbed/sql",
                &[("content-type", "text/plain")],
                Some(b"BEGIN IMMEDIATE"),
            )
        });
        // The statement waits for the lock rather than failing at once, and
        // the host goes on serving meanwhile.
        for _ in 0..5 {
            assert_eq!(host.get("/testbed/ok", &[]).text, "ok");
            std::thread::sleep(Duration::from_millis(60));
        }
        assert!(!waiting.is_finished(), "the statement did not wait");
        runtime.block_on(async { sqlx::query("COMMIT").execute(&mut other).await.unwrap() });
        let reply = waiting.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text);
    });
    // The lock it then took was given back with its connection.
    let again = host.send(
        "POST",
        "/testbed/sql",
        &[("content-type", "text/plain")],
        Some(b"BEGIN IMMEDIATE"),
    );
    assert_eq!(again.status, 200, "{}", again.text);
}

#[test]
fn transactions_share_one_writer_yet_each_guest_sees_only_its_own_connection() {
    let (host, _dir) = testbed(&[]);
    let lines = |statements: &[&str]| {
        let reply = host.send(
            "POST",
            "/testbed/sql/lines",
            &[("content-type", "text/plain")],
            Some(statements.join("\n").as_bytes()),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.text.lines().map(str::to_owned).collect::<Vec<_>>()
    };
    let insert = |bucket: &str| {
        format!(
            "INSERT INTO submission_windows (bucket, window_start, submissions) VALUES ('{bucket}', 1, 1)"
        )
    };
    // Outside a transaction the guest's own connection runs the statement,
    // inside one the writer does; `last_insert_rowid` and `changes` follow
    // the guest across both, as on one SQLite connection.
    let [a, b, c] = ["a", "b", "c"].map(insert);
    let first = lines(&[
        &a,
        "BEGIN IMMEDIATE",
        &b,
        "UPDATE submission_windows SET submissions = 5",
        "COMMIT",
        "SELECT bucket FROM submission_windows ORDER BY bucket",
        "BEGIN IMMEDIATE",
        &c,
    ]);
    let after = |line: &str| {
        line.rsplit_once(" rowid=")
            .map(|(_, counts)| counts.to_owned())
    };
    let counts: Vec<_> = first
        .iter()
        .map(|l| after(l).unwrap_or_else(|| panic!("{l}")))
        .collect();
    assert_eq!(
        counts,
        [
            "1 changes=1",
            "1 changes=1",
            "2 changes=1",
            "2 changes=2",
            "2 changes=2",
            "2 changes=2",
            "2 changes=2",
            "3 changes=1"
        ],
        "{first:#?}"
    );
    assert!(
        first[5].contains(r#"[[Value::Text("a")], [Value::Text("b")]]"#),
        "{}",
        first[5]
    );
    // The transaction left open when the guest was done was rolled back,
    // the writer is free again, and the next guest starts from nothing of
    // the last one's.
    let second = lines(&[
        "SELECT count(*) FROM submission_windows",
        "BEGIN IMMEDIATE",
        "DELETE FROM submission_windows WHERE bucket = 'a'",
        "COMMIT",
    ]);
    assert_eq!(
        second,
        [
            "ok [[Value::Integer(2)]] rowid=0 changes=0",
            "ok [] rowid=0 changes=0",
            "ok [] rowid=0 changes=1",
            "ok [] rowid=0 changes=1",
        ]
    );
}

#[test]
fn writes_reach_the_database_file_beside_the_writers() {
    let (host, _dir) = testbed(&[]);
    let file = host.db_path();
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    // A batch writes about 1,000 pages: 250 rows of near a page each, their
    // key's index as much again, and the pages both split. One guest writes
    // them in turn: that a long log restarts is the checkpoint thread's unit
    // test's business, and concurrent writers only made this test slow
    // enough on a busy machine for a request to time out.
    let batch = "INSERT INTO submission_windows (bucket, window_start, submissions)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
         SELECT hex(randomblob(1900)), i, 1 FROM n";
    let batches: u64 = 4;
    let before = size(&file);
    for _ in 0..batches {
        let reply = host.send(
            "POST",
            "/testbed/sql",
            &[("content-type", "text/plain")],
            Some(batch.as_bytes()),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    // Guests' connections never checkpoint, so only the host's thread moves
    // the pages into the file, while the host runs.
    let written = batches * 1000 * 4096;
    let mut waited = Duration::ZERO;
    while size(&file) < before + written / 4 {
        assert!(
            waited < Duration::from_secs(30),
            "the file holds {} bytes of some {written} written",
            size(&file) - before
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
}

#[test]
fn requests_are_logged_with_route_component_status_and_duration() {
    let (host, _dir) = testbed(&[]);
    host.get("/testbed/ok", &[]);
    let logged = host.wait_for(Duration::from_secs(10), || {
        host.logs().lines().any(|l| {
            l.contains("path=/testbed/ok")
                && l.contains("component=\"testbed\"")
                && l.contains("status=200")
                && l.contains("us=")
        })
    });
    assert!(logged, "no access log line in:\n{}", host.logs());
}

#[test]
fn what_a_component_prints_reaches_the_hosts_log() {
    let (host, _dir) = testbed(&[]);
    assert_eq!(host.get("/testbed/say?words=hello", &[]).text, "said");
    for stream in ["stdout", "stderr"] {
        let line = format!("testbed says hello on {stream}");
        let logged = host.wait_for(Duration::from_secs(10), || host.logs().contains(&line));
        assert!(logged, "`{line}` not in:\n{}", host.logs());
    }
}

#[test]
fn a_manifest_error_stops_startup_with_a_message_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[component.a]\nsource = \"a.wasm\"\nsqlite_database = [\"default\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(jiandu_tests::jiandu_bin())
        .args(["up", "--listen", "127.0.0.1:0", "--from"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sqlite_database"), "{err}");
}

#[test]
fn slow_clients_and_json_floods_do_not_stop_a_normal_client() {
    let host = Host::start(
        &jiandu_tests::repo().join("spin.toml"),
        &[
            ("JIANDU_MAX_CONNECTIONS", "8"),
            ("JIANDU_HEADER_TIMEOUT_MS", "1000"),
            ("JIANDU_BODY_TIMEOUT_MS", "1000"),
        ],
    );
    let connect = || {
        let stream = std::net::TcpStream::connect(host.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
    };
    // Slow-loris: more half-sent headers than the host serves connections at once.
    let slow: Vec<_> = (0..12)
        .map(|_| {
            let mut stream = connect();
            stream
                .write_all(b"POST /api/v1/reports HTTP/1.1\r\nhost: x\r\n")
                .unwrap();
            stream
        })
        .collect();
    // A body that never arrives in full.
    let mut stalled = connect();
    write!(
        stalled,
        "POST /api/v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{"
    )
    .unwrap();
    // Just under 1 MiB of tiny values, from four clients at once.
    let flood = format!("[{}0]", "0,".repeat(500_000));
    let floods: Vec<_> = (0..4)
        .map(|_| {
            let (url, flood) = (host.url("/api/v1/reports"), flood.clone());
            std::thread::spawn(move || {
                ureq::post(&url)
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .content_type("application/json")
                    .send(flood)
                    .map(|mut r| {
                        let text = r.body_mut().read_to_string().unwrap_or_default();
                        (r.status().as_u16(), text)
                    })
            })
        })
        .collect();

    let normal = host.post_json(
        "/api/v1/reports",
        &serde_json::json!({
            "category": "integrity", "division_code": "370402",
            "subject": { "name": "张某" }, "content": "村集体资金被挪用于个人消费。",
        }),
        &[],
    );
    assert_eq!(normal.status, 201, "{}", normal.text);
    for flood in floods {
        let (status, text) = flood.join().unwrap().unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains("more than 4096 values"),
            "refused before it is parsed: {text}"
        );
    }
    // The slow clients were cut off, the stalled body timed out.
    for mut stream in slow {
        let mut rest = Vec::new();
        assert!(
            stream.read_to_end(&mut rest).is_ok(),
            "a slow client was never disconnected"
        );
    }
    let mut answer = String::new();
    stalled.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(host.get("/healthz", &[]).status, 200);
}

#[test]
fn files_mounts_are_readable_where_the_manifest_says_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages/css")).unwrap();
    std::fs::write(dir.path().join("pages/index.html"), "<h1>监督</h1>").unwrap();
    std::fs::write(dir.path().join("pages/css/site.css"), "body{}").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "not for components").unwrap();
    let manifest = testbed_manifest(dir.path(), &[]);
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "sqlite_databases = [\"default\"]",
        "sqlite_databases = [\"default\"]\nfiles = [{ source = \"pages\", destination = \"/site\" }]",
    );
    std::fs::write(&manifest, text).unwrap();
    let host = Host::start(&manifest, &[]);

    let page = host.get("/testbed/file?path=/site/index.html", &[]);
    assert_eq!((page.status, page.text.as_str()), (200, "<h1>监督</h1>"));
    let nested = host.get("/testbed/file?path=/site/css/site.css", &[]);
    assert_eq!((nested.status, nested.text.as_str()), (200, "body{}"));
    for outside in ["/site/../secret.txt", "/secret.txt", "/etc/passwd"] {
        let refused = host.get(&format!("/testbed/file?path={outside}"), &[]);
        assert_eq!(refused.status, 404, "{outside}: {}", refused.text);
    }
    let write = host.get("/testbed/file-write?path=/site/index.html", &[]);
    assert_eq!(write.status, 403, "{}", write.text);
    let created = host.get("/testbed/file-write?path=/site/new.txt", &[]);
    assert_eq!(created.status, 403, "{}", created.text);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pages/index.html")).unwrap(),
        "<h1>监督</h1>"
    );
    assert!(!dir.path().join("pages/new.txt").exists());
}

#[test]
fn files_patterns_keep_their_paths_less_what_is_excluded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("static/css")).unwrap();
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("static/index.html"), "<h1>监督</h1>").unwrap();
    std::fs::write(dir.path().join("static/css/site.css"), "body{}").unwrap();
    std::fs::write(dir.path().join("static/notes.md"), "draft").unwrap();
    std::fs::write(dir.path().join("other/secret.txt"), "not matched").unwrap();
    let manifest = testbed_manifest(dir.path(), &[]);
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "sqlite_databases = [\"default\"]",
        "sqlite_databases = [\"default\"]\nfiles = [\"static/**/*\"]\nexclude_files = [\"**/*.md\"]",
    );
    std::fs::write(&manifest, text).unwrap();
    let host = Host::start(&manifest, &[]);

    let page = host.get("/testbed/file?path=/static/index.html", &[]);
    assert_eq!((page.status, page.text.as_str()), (200, "<h1>监督</h1>"));
    let nested = host.get("/testbed/file?path=/static/css/site.css", &[]);
    assert_eq!((nested.status, nested.text.as_str()), (200, "body{}"));
    for left_out in ["/static/notes.md", "/other/secret.txt", "/spin.toml"] {
        let refused = host.get(&format!("/testbed/file?path={left_out}"), &[]);
        assert_eq!(refused.status, 404, "{left_out}: {}", refused.text);
    }
    let write = host.get("/testbed/file-write?path=/static/index.html", &[]);
    assert_eq!(write.status, 403, "{}", write.text);
}
