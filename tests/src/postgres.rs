//! A PostgreSQL database of a test's own, on the server the machine runs
//! (`JIANDU_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`:
//! trust auth, the database `test` used only to create and drop others),
//! dropped when the test ends.

use sqlx::Connection as _;

/// A database created for one test.
pub struct PgDatabase {
    name: String,
    server: String,
}

/// The server and administrative database tests create theirs through.
fn admin_url() -> String {
    std::env::var("JIANDU_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs `f` to completion on a runtime of its own (tests are synchronous).
pub fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

impl PgDatabase {
    /// Creates an empty database with a fresh name.
    pub fn create() -> Self {
        let admin = admin_url();
        let server = admin
            .rsplit_once('/')
            .map(|(server, _)| server.to_owned())
            .expect("JIANDU_TEST_POSTGRES ends in /database");
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "jiandu_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create the test database");
        });
        Self { name, server }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's `host:port`, as an `allowed_outbound_hosts` entry names it.
    pub fn host_port(&self) -> String {
        let options: sqlx::postgres::PgConnectOptions =
            self.url().parse().expect("a PostgreSQL URL");
        format!("{}:{}", options.get_host(), options.get_port())
    }

    /// Every value stored in every table of the database, concatenated:
    /// text as UTF-8, byte strings as they are, numbers in decimal. What
    /// someone who can read the database would see.
    pub fn every_value(&self) -> Vec<u8> {
        use sqlx::{Column as _, Row as _, ValueRef as _};
        let url = self.url();
        block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT quote_ident(table_name) FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut conn)
            .await
            .expect("list tables");
            let mut out = Vec::new();
            for table in tables {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
                    .fetch_all(&mut conn)
                    .await
                    .expect("read a table");
                for row in rows {
                    for column in row.columns() {
                        let i = column.ordinal();
                        if row.try_get_raw(i).is_ok_and(|v| v.is_null()) {
                            continue;
                        }
                        if let Ok(bytes) = row.try_get::<Vec<u8>, _>(i) {
                            out.extend(bytes);
                        } else if let Ok(text) = row.try_get::<String, _>(i) {
                            out.extend(text.into_bytes());
                        } else if let Ok(n) = row.try_get::<i64, _>(i) {
                            out.extend(n.to_string().into_bytes());
                        }
                        out.push(b'\n');
                    }
                }
            }
            out
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (admin_url(), self.name.clone());
        block_on(async move {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        });
    }
}
