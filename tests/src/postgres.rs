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
