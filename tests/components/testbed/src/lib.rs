//! Misbehaves on request, so tests can check the host survives it:
//! `/ok` answers at once (also the benchmark's trivial component), `/trap`
//! traps, `/loop` never returns, `/hog` allocates without limit, `/outbound?url=`
//! calls another host, `/variable?name=` reads a variable, `/echo` returns the body size,
//! `/uri` returns the URI the host gave it and its `spin-full-url`, and `/sql` runs the
//! SQL in its body on the `default` database (200 `ok`, or 400 with the error).

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{EmptyBody, Request, Response, StatusCode};
use spin_sdk::http_service;

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
        "/sql" => match req.into_body().bytes().await {
            Ok(sql) => run_sql(&String::from_utf8_lossy(&sql)).await,
            Err(e) => (StatusCode::BAD_REQUEST, format!("{e:?}")),
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
