//! The native twin of `POST /api/v1/reports`: an axum + sqlx server doing the
//! intake component's work on the same database kind — the schema check, the
//! rules, routing by the org tree (its version read per request, as the
//! component does), sealing, the follow-up hash, the anonymous limiter's two
//! counted windows, and one transaction writing the same rows (report, first
//! event, outbox start), serialized where the component's is; ended windows
//! forgotten after it, when a division's window opens, as the component does.

use std::net::SocketAddr;
use std::sync::Arc;
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
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

struct Twin {
    pool: Pool,
    /// SQLite's writers queue here, as they do in the host, rather than in its busy handler.
    writer: tokio::sync::Mutex<()>,
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

/// One transaction on either database; the statements are the same text.
/// Answers whether the division's window opened.
macro_rules! write_rows {
    ($pool:expr, $rows:expr) => {{
        let r = $rows;
        let mut tx = $pool.begin().await?;
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
        let started = ReportStarted {
            report_id: r.id.clone(),
            real_name: r.real_name,
            received_at: r.at.clone(),
            org: r.org.clone(),
            complaint: None,
        };
        sqlx::query(OUTBOX_INSERT)
            .bind("start")
            .bind(REPORT_WORKFLOW)
            .bind(&r.id)
            .bind(None::<String>)
            .bind(serde_json::to_string(&started).expect("json"))
            .bind(start_key(&r.id))
            .bind(&r.at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map(|()| window_opened)
    }};
}

/// Forgets ended windows in a transaction of its own.
macro_rules! forget_windows {
    ($pool:expr, $sql:expr, $opened_by:expr) => {{
        let mut tx = $pool.begin().await?;
        sqlx::query($sql).bind($opened_by).execute(&mut *tx).await?;
        tx.commit().await
    }};
}

impl Twin {
    async fn write(&self, rows: &Rows) -> Result<(), sqlx::Error> {
        let opened_by = rows.now - WINDOW_SECS;
        match &self.pool {
            Pool::Sqlite(pool) => {
                let window_opened = {
                    let _writer = self.writer.lock().await;
                    write_rows!(pool, rows)?
                };
                if window_opened {
                    let _writer = self.writer.lock().await;
                    forget_windows!(pool, FORGET_WINDOWS_SQLITE, opened_by)?;
                }
            }
            Pool::Postgres(pool) => {
                if write_rows!(pool, rows)? {
                    forget_windows!(pool, FORGET_WINDOWS_POSTGRES, opened_by)?;
                }
            }
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

/// Serves the twin on a free port, on the database of `owner` — a stopped
/// host of the same kind that `jiandu migrate` prepared, so the twin's
/// tables are the host's and the two never share rows.
pub async fn start(database: Database, owner: &Host) -> SocketAddr {
    let pool = match database {
        Database::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(owner.db_path())
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            Pool::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .expect("the twin's SQLite pool"),
            )
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
        writer: tokio::sync::Mutex::new(()),
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
