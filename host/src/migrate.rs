//! Schema migrations for the SQLite database the components share
//! (`migrations/sqlite`, embedded at build time).

use std::path::Path;

/// Applies every pending migration to the SQLite file at `path`, creating it if needed.
pub async fn sqlite(path: &Path) -> anyhow::Result<()> {
    let pool = crate::sqlite::pool(path).await?;
    sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
    pool.close().await;
    Ok(())
}
