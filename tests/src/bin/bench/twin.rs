//! The native twin of `POST /api/v1/reports`: an axum server doing the
//! intake component's work on the same database kind, reaching it as the host
//! does (SQLite through rusqlite on the request's own thread, PostgreSQL
//! through sqlx) — the schema check, the
//! rules, routing by the org tree (its version read per request, as the
//! component does), sealing, the follow-up hash, the anonymous limiter's two
//! counted windows, and one transaction writing the same rows (report, first
//! event, outbox start), serialized where the component's is; ended windows
//! forgotten after it, when a division's window opens, as the component does.
//! Its SQLite file is checkpointed beside the writers, by the host's own
//! checkpoint thread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use bytes::Bytes;
use jiandu_domain::calendar::Calendar;
use jiandu_domain::deadline::ACCEPTANCE_NOTICE;
use jiandu_domain::flow::{OUTBOX_INSERT, REPORT_WORKFLOW, ReportStarted, start_key};
use jiandu_domain::org::OrgTree;
use jiandu_domain::report::{Report, ReportInput};
use jiandu_guest::schema::Schema;
use jiandu_guest::seal::{self, ReceiptKey, SealingKeys};
use jiandu_host::sqlite::checkpointer;
use jiandu_tests::{Database, Host, RECEIPT_KEY, sealing_keys};
use serde_json::json;
use sqlx::Row as _;

/// The anonymous limiter's upsert of both windows, as the component writes it
/// (numbered for both databases).
const COUNT_WINDOWS: &str = "INSERT INTO submission_windows (bucket, window_start, submissions) VALUES ($1, $3, 1), ($2, $3, 1)
     ON CONFLICT (bucket) DO UPDATE SET
       submissions = CASE WHEN $3 - submission_windows.window_start >= $4 THEN 1 ELSE submission_windows.submissions + 1 END,
       window_start = CASE WHEN $3 - submission_windows.window_start >= $4 THEN $3 ELSE submission_windows.window_start END
     RETURNING bucket, window_start, submissions";

/// Forgetting ended windows, as the component does it on each database.
const FORGET_WINDOWS_SQLITE: &str = "DELETE FROM submission_windows WHERE window_start <= $1";
const FORGET_WINDOWS_POSTGRES: &str = "DELETE FROM submission_windows WHERE bucket IN
       (SELECT bucket FROM submission_windows WHERE window_start <= $1 FOR UPDATE SKIP LOCKED)";

const INSERT_REPORT: &str = "INSERT INTO reports (id, receipt_code, followup_hash, real_name, category, division_code, subject,
                      content, attachments, identity_sealed, status, received_at, acceptance_due, due_estimated,
                      org, sealed_to, content_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]', $9, 'received', $10, $11, $12, $13, $13, NULL)";

const INSERT_EVENT: &str =
    "INSERT INTO report_events (report_id, at, event, note) VALUES ($1, $2, 'received', NULL)";

/// The window the bench's limits allow: as the harness sets them, never reached.
const WINDOW_SECS: i64 = 60;

enum Pool {
    Sqlite(SqliteWriter),
    Postgres(sqlx::PgPool),
}

/// SQLite's writers queue on this lock, as they do in the host, rather than
/// in its busy handler; as only one writes at a time, one connection serves
/// them all. `written` tells the checkpoint thread there is work.
struct SqliteWriter {
    conn: tokio::sync::Mutex<rusqlite::Connection>,
    written: Arc<AtomicBool>,
}

struct Twin {
    pool: Pool,
    schema: Schema,
    keys: SealingKeys,
    receipt_key: ReceiptKey,
    tree: OrgTree,
}

/// What one report writes.
struct Rows {
    id: String,
    receipt: String,
    followup_hash: Vec<u8>,
    real_name: bool,
    category: &'static str,
    division: String,
    subject: String,
    content: String,
    sealed: Option<Vec<u8>>,
    at: String,
    due: Option<String>,
    estimated: bool,
    org: String,
    anonymous_buckets: Option<[String; 2]>,
    now: i64,
}

/// One transaction on PostgreSQL; then, if the division's window opened,
/// ended windows forgotten in a transaction of their own.
async fn write_postgres(pool: &sqlx::PgPool, r: &Rows) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT version FROM org_tree WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await?;
    let mut window_opened = false;
    if let Some([content, division]) = &r.anonymous_buckets {
        let counted = sqlx::query(COUNT_WINDOWS)
            .bind(content)
            .bind(division)
            .bind(r.now)
            .bind(WINDOW_SECS)
            .fetch_all(&mut *tx)
            .await?;
        window_opened = counted.iter().any(|row| {
            row.get::<String, _>("bucket") == *division && row.get::<i64, _>("submissions") == 1
        });
    }
    sqlx::query(INSERT_REPORT)
        .bind(&r.id)
        .bind(&r.receipt)
        .bind(&r.followup_hash)
        .bind(i64::from(r.real_name))
        .bind(r.category)
        .bind(&r.division)
        .bind(&r.subject)
        .bind(&r.content)
        .bind(&r.sealed)
        .bind(&r.at)
        .bind(&r.due)
        .bind(i64::from(r.estimated))
        .bind(&r.org)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_EVENT)
        .bind(&r.id)
        .bind(&r.at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(OUTBOX_INSERT)
        .bind("start")
        .bind(REPORT_WORKFLOW)
        .bind(&r.id)
        .bind(None::<String>)
        .bind(started(r))
        .bind(start_key(&r.id))
        .bind(&r.at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if window_opened {
        let mut tx = pool.begin().await?;
        sqlx::query(FORGET_WINDOWS_POSTGRES)
            .bind(r.now - WINDOW_SECS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// One transaction on SQLite, the same statements as on PostgreSQL.
/// Answers whether the division's window opened.
fn write_sqlite(conn: &rusqlite::Connection, r: &Rows) -> rusqlite::Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let written = (|| {
        numbered(conn, "SELECT version FROM org_tree WHERE id = 1", &[])?
            .raw_query()
            .next()?;
        let mut window_opened = false;
        if let Some([content, division]) = &r.anonymous_buckets {
            let mut counted = numbered(
                conn,
                COUNT_WINDOWS,
                &[content, division, &r.now, &WINDOW_SECS],
            )?;
            let mut rows = counted.raw_query();
            while let Some(row) = rows.next()? {
                window_opened |= row.get::<_, String>("bucket")? == *division
                    && row.get::<_, i64>("submissions")? == 1;
            }
        }
        numbered(
            conn,
            INSERT_REPORT,
            &[
                &r.id,
                &r.receipt,
                &r.followup_hash,
                &r.real_name,
                &r.category,
                &r.division,
                &r.subject,
                &r.content,
                &r.sealed,
                &r.at,
                &r.due,
                &r.estimated,
                &r.org,
            ],
        )?
        .raw_execute()?;
        numbered(conn, INSERT_EVENT, &[&r.id, &r.at])?.raw_execute()?;
        numbered(
            conn,
            OUTBOX_INSERT,
            &[
                &"start",
                &REPORT_WORKFLOW,
                &r.id,
                &None::<String>,
                &started(r),
                &start_key(&r.id),
                &r.at,
            ],
        )?
        .raw_execute()?;
        Ok(window_opened)
    })();
    match written {
        Ok(window_opened) => conn.execute_batch("COMMIT").map(|()| window_opened),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A statement with its `$n` parameters bound by number, as sqlx binds them.
fn numbered<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    for (i, param) in params.iter().enumerate() {
        statement.raw_bind_parameter(format!("${}", i + 1).as_str(), param)?;
    }
    Ok(statement)
}

/// The outbox row's payload.
fn started(r: &Rows) -> String {
    let started = ReportStarted {
        report_id: r.id.clone(),
        real_name: r.real_name,
        received_at: r.at.clone(),
        org: r.org.clone(),
        complaint: None,
    };
    serde_json::to_string(&started).expect("json")
}

impl Twin {
    async fn write(&self, rows: &Rows) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(writer) => {
                let window_opened = write_sqlite(&*writer.conn.lock().await, rows)?;
                if window_opened {
                    numbered(
                        &*writer.conn.lock().await,
                        FORGET_WINDOWS_SQLITE,
                        &[&(rows.now - WINDOW_SECS)],
                    )?
                    .raw_execute()?;
                }
                writer.written.store(true, Ordering::Release);
            }
            Pool::Postgres(pool) => write_postgres(pool, rows).await?,
        }
        Ok(())
    }
}

async fn submit(State(twin): State<Arc<Twin>>, body: Bytes) -> (StatusCode, String) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}".into());
    };
    if twin.schema.check(&value).is_err() {
        return (StatusCode::BAD_REQUEST, "{}".into());
    }
    let Ok(report) =
        Report::parse(serde_json::from_value::<ReportInput>(value).expect("schema-checked"))
    else {
        return (StatusCode::BAD_REQUEST, "{}".into());
    };
    let Some(org) = twin
        .tree
        .commission_for_division(report.division.as_str())
        .map(|o| o.id.clone())
    else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "{}".into());
    };
    let now = jiandu_guest::clock::now();
    let at = jiandu_guest::clock::rfc3339(now);
    let id = format!(
        "rpt_{}",
        seal::base32(&seal::random_bytes::<15>(), 24).to_ascii_lowercase()
    );
    let receipt = format!("JD{}", seal::base32(&seal::random_bytes::<8>(), 12));
    let due = report.is_real_name().then(|| {
        ACCEPTANCE_NOTICE.due_from(jiandu_guest::clock::china_date(now), Calendar::official())
    });
    let sealed = report.identity.as_ref().map(|i| {
        let plain = json!({ "name": i.name, "phone": i.phone.as_str(), "id_number": null });
        twin.keys
            .seal(
                &org,
                plain.to_string().as_bytes(),
                &seal::ReportPart::Identity.context(&id),
            )
            .expect("the test commission has a key")
    });
    let anonymous_buckets = (!report.is_real_name()).then(|| {
        let hash = hex::encode(seal::sha256(
            format!("{}\0{}", report.division.as_str(), report.content.trim()).as_bytes(),
        ));
        [
            format!("content:{hash}"),
            format!("division:{}", report.division.as_str()),
        ]
    });
    let rows = Rows {
        followup_hash: seal::sha256(twin.receipt_key.secret_for(&id).as_bytes()).to_vec(),
        receipt,
        real_name: report.is_real_name(),
        category: report.category.code(),
        division: report.division.as_str().to_owned(),
        subject: serde_json::to_string(&report.subject).expect("json"),
        content: report.content.clone(),
        sealed,
        at,
        due: due.map(|d| d.date.to_string()),
        estimated: due.is_some_and(|d| d.estimated),
        org,
        anonymous_buckets,
        now: now.unix_timestamp(),
        id,
    };
    match twin.write(&rows).await {
        Ok(()) => (
            StatusCode::CREATED,
            json!({ "id": rows.id, "receipt_code": rows.receipt }).to_string(),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": e.to_string() }).to_string(),
        ),
    }
}

/// The name of the twin's runtime threads, by which its CPU time is told
/// from the load's, which runs in the same process.
pub const THREAD: &str = "twin";

/// A twin serving on a runtime of its own; dropping it stops it.
pub struct Running {
    /// Where it serves.
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// Serves the twin on a free port, on the database of `owner` — a stopped
/// host of the same kind that `jiandu migrate` prepared, so the twin's
/// tables are the host's and the two never share rows. It runs on two
/// threads named [`THREAD`], as many as the host's runtime has, and its
/// SQLite file is checkpointed by a thread of the host's.
pub fn start(database: Database, owner: &Host) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(THREAD)
        .enable_all()
        .build()
        .expect("the twin's runtime");
    let addr = runtime.block_on(serve(database, owner));
    Running {
        addr,
        _runtime: runtime,
    }
}

async fn serve(database: Database, owner: &Host) -> SocketAddr {
    let pool = match database {
        Database::Sqlite => {
            let conn = rusqlite::Connection::open(owner.db_path()).expect("the twin's SQLite file");
            conn.busy_timeout(Duration::from_secs(10))
                .expect("a busy timeout");
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .expect("the host's settings");
            let writer = SqliteWriter {
                conn: tokio::sync::Mutex::new(conn),
                written: Arc::new(AtomicBool::new(false)),
            };
            checkpointer::spawn(&owner.db_path(), Arc::downgrade(&writer.written))
                .expect("the twin's checkpoint thread");
            Pool::Sqlite(writer)
        }
        Database::Postgres => Pool::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect(&owner.database_url())
                .await
                .expect("the twin's PostgreSQL pool"),
        ),
    };
    let twin = Arc::new(Twin {
        pool,
        schema: Schema::compile(include_str!("../../../../schemas/report.json")),
        keys: SealingKeys::parse(&sealing_keys()).expect("test sealing keys"),
        receipt_key: ReceiptKey::from_base64(RECEIPT_KEY).expect("the test receipt key"),
        tree: jiandu_tests::tree().clone(),
    });
    let app = axum::Router::new()
        .route("/api/v1/reports", axum::routing::post(submit))
        .with_state(twin);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}
