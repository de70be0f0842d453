//! Misbehaves on request, so tests can check the host survives it:
//! `/ok` answers at once (also the benchmark's trivial component), `/trap`
//! traps, `/loop` never returns, `/hog` allocates without limit, `/outbound?url=`
//! calls another host, `/variable?name=` reads a variable, `/echo` returns the body size,
//! `/uri` returns the URI the host gave it and its `spin-full-url`, and `/sql` runs the
//! SQL in its body on the `default` database (200 `ok`, or 400 with the error);
//! `/sql/lines` runs each line of its body as a statement on one connection
//! to it and answers a line per statement (`ok`, the rows, the connection's
//! `last_insert_rowid` and `changes` after it; or `err` and the error).
//! `/pg` runs each line of its body as a statement on the PostgreSQL address
//! in the `x-pg-address` header, over one connection, and answers a line per
//! statement (`ok` and the rows, or `err` and the error); `/pg/types` writes a
//! row of every supported type through parameters and reads it back.
//! `/file?path=` reads a file (200 and its text, or 404 and the error) and
//! `/file-write?path=` tries to write one (200, or 403 and the error).

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{EmptyBody, Request, Response, StatusCode};
use spin_sdk::http_service;
use spin_sdk::pg;

#[http_service]
async fn handle(req: Request) -> (StatusCode, String) {
    let path = req
        .headers()
        .get("spin-path-info")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or("")
            .to_owned()
    };
    match path.as_str() {
        "/ok" => (StatusCode::OK, "ok".into()),
        "/say" => {
            println!("testbed says {} on stdout", param("words"));
            eprintln!("testbed says {} on stderr", param("words"));
            (StatusCode::OK, "said".into())
        }
        "/trap" => std::process::abort(),
        "/loop" => {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/hog" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "/outbound" => {
            let outgoing = Request::get(param("url")).body(EmptyBody::new());
            match outgoing {
                Ok(outgoing) => match spin_sdk::http::send(outgoing).await {
                    Ok(resp) => (
                        StatusCode::OK,
                        format!("upstream answered {}", Response::status(&resp)),
                    ),
                    Err(e) => (StatusCode::BAD_GATEWAY, format!("refused: {e:?}")),
                },
                Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        "/variable" => match spin_sdk::variables::get(&param("name")).await {
            Ok(v) => (StatusCode::OK, v),
            Err(e) => (StatusCode::NOT_FOUND, format!("{e:?}")),
        },
        "/uri" => {
            let full = req
                .headers()
                .get("spin-full-url")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            (StatusCode::OK, format!("{} {full}", req.uri()))
        }
        "/sql" | "/sql/lines" => match req.into_body().bytes().await {
            Ok(sql) if path == "/sql" => run_sql(&String::from_utf8_lossy(&sql)).await,
            Ok(script) => sql_lines(&String::from_utf8_lossy(&script)).await,
            Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
        },
        "/pg" | "/pg/types" => {
            let address = req
                .headers()
                .get("x-pg-address")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if path == "/pg/types" {
                return pg_types(&address).await;
            }
            match req.into_body().bytes().await {
                Ok(script) => pg_script(&address, &String::from_utf8_lossy(&script)).await,
                Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
            }
        }
        "/file" => match std::fs::read_to_string(param("path")) {
            Ok(text) => (StatusCode::OK, text),
            Err(e) => (StatusCode::NOT_FOUND, e.to_string()),
        },
        "/file-write" => match std::fs::write(param("path"), "changed") {
            Ok(()) => (StatusCode::OK, "written".into()),
            Err(e) => (StatusCode::FORBIDDEN, e.to_string()),
        },
        "/echo" => match req.into_body().bytes().await {
            Ok(b) => (StatusCode::OK, b.len().to_string()),
            Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
        },
        _ => (StatusCode::NOT_FOUND, "unknown".into()),
    }
}

/// Runs `sql` as the component's own statement.
async fn run_sql(sql: &str) -> (StatusCode, String) {
    let result = async {
        let conn = spin_sdk::sqlite::Connection::open_default().await?;
        conn.execute(sql, []).await?.collect().await
    }
    .await;
    match result {
        Ok(_) => (StatusCode::OK, "ok".into()),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
    }
}

/// Runs each line of `script` on one connection to the `default` database.
async fn sql_lines(script: &str) -> (StatusCode, String) {
    let conn = match spin_sdk::sqlite::Connection::open_default().await {
        Ok(conn) => conn,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("open: {e:?}")),
    };
    let mut out = String::new();
    for statement in script.lines().filter(|l| !l.trim().is_empty()) {
        let rows = async { conn.execute(statement, []).await?.collect().await }.await;
        match rows {
            Ok(rows) => {
                let values = rows.into_iter().map(|r| r.values).collect::<Vec<_>>();
                let (rowid, changes) = (conn.last_insert_rowid().await, conn.changes().await);
                out.push_str(&format!("ok {values:?} rowid={rowid} changes={changes}\n"));
            }
            Err(e) => out.push_str(&format!("err {e:?}\n")),
        }
    }
    (StatusCode::OK, out)
}

/// Runs each line of `script` on one connection to `address`.
async fn pg_script(address: &str, script: &str) -> (StatusCode, String) {
    let conn = match pg::Connection::open(address).await {
        Ok(conn) => conn,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("open: {e:?}")),
    };
    let mut out = String::new();
    for statement in script.lines().filter(|l| !l.trim().is_empty()) {
        match pg_rows(&conn, statement, Vec::new()).await {
            Ok(rows) => out.push_str(&format!("ok {rows:?}\n")),
            Err(e) => out.push_str(&format!("err {e:?}\n")),
        }
    }
    (StatusCode::OK, out)
}

/// A statement's column types and rows.
async fn pg_rows(
    conn: &pg::Connection,
    statement: &str,
    params: Vec<pg::ParameterValue>,
) -> Result<(Vec<pg::DbDataType>, Vec<Vec<pg::DbValue>>), pg::Error> {
    let result = conn.query(statement, params).await?;
    let columns: Vec<pg::DbDataType> = result
        .columns()
        .iter()
        .map(|c| c.data_type.clone())
        .collect();
    let rows = result.collect().await?;
    let values = rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| row[i].clone()).collect())
        .collect();
    Ok((columns, values))
}

/// Writes one value of every supported type as parameters and reads them back.
async fn pg_types(address: &str) -> (StatusCode, String) {
    use pg::ParameterValue as P;
    let result = async {
        let conn = pg::Connection::open(address).await?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS typed (b bool, i2 int2, i4 int4, i8 int8, f4 float4, \
             f8 float8, t text, v varchar(20), bin bytea, d date, tm time, ts timestamp, \
             tz timestamptz, u uuid, j jsonb, n numeric(20, 4), a4 int4[], a8 int8[], \
             at text[], an numeric[], iv interval, nothing text)",
            Vec::new(),
        )
        .await?;
        conn.execute("DELETE FROM typed", Vec::new()).await?;
        let params = vec![
            P::Boolean(true),
            P::Int16(-12),
            P::Int32(70_000),
            P::Int64(-9_000_000_000),
            P::Floating32(1.5),
            P::Floating64(-2.25),
            P::Str("问题线索".into()),
            P::Str("村务".into()),
            P::Binary(vec![0, 1, 255]),
            P::Date((2026, 11, 27)),
            P::Time((13, 5, 9, 250_000_000)),
            P::Datetime((2026, 11, 27, 23, 59, 58, 123_456_000)),
            P::Timestamp(1_798_415_999),
            P::Uuid("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
            P::Jsonb(r#"{"kind":"三资"}"#.as_bytes().to_vec()),
            P::Decimal("-12345.6789".into()),
            P::ArrayInt32(vec![Some(1), None, Some(3)]),
            P::ArrayInt64(vec![Some(-1)]),
            P::ArrayStr(vec![Some("a".into()), None]),
            P::ArrayDecimal(vec![Some("0.5".into())]),
            P::Interval(pg::Interval {
                micros: 1_500_000,
                days: 2,
                months: 3,
            }),
            P::DbNull,
        ];
        conn.execute(
            "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22)",
            params,
        )
        .await?;
        pg_rows(&conn, "SELECT * FROM typed", Vec::new()).await
    }
    .await;
    match result {
        Ok(rows) => (StatusCode::OK, format!("{rows:?}")),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
    }
}
