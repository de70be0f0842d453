//! Schema migrations for the database the components share — SQLite
//! (`migrations/sqlite`) or PostgreSQL (`migrations/postgres`), both
//! embedded at build time and chosen by the database URL — and loading the
//! org tree. The org tree's SQL is written once, with `$N` placeholders,
//! which both databases take.

use std::path::Path;

use anyhow::{Context as _, bail};
use jiandu_domain::org::OrgTree;
use sha2::Digest as _;
use sqlx::AnyPool;
use sqlx::Row as _;

/// Applies every pending migration to the database at `url`: a
/// `sqlite://` file (created if needed) or a `postgres://` database.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    if let Some(path) = sqlite_path(url) {
        let pool = crate::sqlite::pool(Path::new(path)).await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        pool.close().await;
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        pool.close().await;
    } else {
        bail!("{url} is neither a sqlite:// nor a postgres:// URL");
    }
    Ok(())
}

/// The file a `sqlite:` URL names.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    Some(rest.strip_prefix("//").unwrap_or(rest))
}

/// A pool on the database at `url`, whichever it is.
async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    AnyPool::connect(url)
        .await
        .with_context(|| format!("opening {url}"))
}

/// What loading the org tree did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeLoad {
    /// The file holds the tree already loaded.
    Unchanged {
        /// Its version.
        version: i64,
    },
    /// The tree was loaded as this version.
    Loaded {
        /// The new version.
        version: i64,
        /// How many orgs it has.
        orgs: usize,
    },
}

/// Reads, validates (schema, then the tree's own rules) and stores the org
/// tree in `file`. Readers pick up a changed tree by its version.
pub async fn org_tree(url: &str, file: &Path) -> anyhow::Result<TreeLoad> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the org tree {}", file.display()))?;
    let tree =
        validate(&text).with_context(|| format!("{} is not a valid org tree", file.display()))?;
    let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let pool = connect(url).await?;
    let result = store(
        &pool,
        &text,
        &sha256,
        &file.display().to_string(),
        tree.iter().count(),
    )
    .await;
    pool.close().await;
    result
}

/// The tree in `text`, or every problem with it (JSON pointer and message).
pub fn validate(text: &str) -> anyhow::Result<OrgTree> {
    static SCHEMA: std::sync::OnceLock<jiandu_guest::schema::Schema> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        jiandu_guest::schema::Schema::compile(include_str!("../../schemas/org-tree.json"))
    });
    let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let problems = match schema.check(&value) {
        Ok(()) => match OrgTree::parse(text) {
            Ok(tree) => return Ok(tree),
            Err(problems) => problems,
        },
        Err(problems) => problems,
    };
    let listed: Vec<String> = problems
        .iter()
        .map(|p| format!("  {}: {}", p.pointer, p.message))
        .collect();
    bail!("{} problem(s):\n{}", problems.len(), listed.join("\n"))
}

async fn store(
    pool: &AnyPool,
    text: &str,
    sha256: &str,
    source: &str,
    orgs: usize,
) -> anyhow::Result<TreeLoad> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query("SELECT version, sha256 FROM org_tree WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await?;
    let version = match current {
        Some(row) if row.get::<String, _>("sha256") == sha256 => {
            return Ok(TreeLoad::Unchanged {
                version: row.get("version"),
            });
        }
        Some(row) => row.get::<i64, _>("version") + 1,
        None => 1,
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("UTC formats");
    sqlx::query(
        "INSERT INTO org_tree (id, version, sha256, tree, source, loaded_at) VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256,
             tree = excluded.tree, source = excluded.source, loaded_at = excluded.loaded_at",
    )
    .bind(version)
    .bind(sha256)
    .bind(text)
    .bind(source)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(TreeLoad::Loaded { version, orgs })
}

/// The org tree stored in the database at `url`.
pub async fn stored_tree(url: &str) -> anyhow::Result<OrgTree> {
    let pool = connect(url).await?;
    let row = sqlx::query("SELECT tree FROM org_tree WHERE id = 1")
        .fetch_optional(&pool)
        .await?;
    pool.close().await;
    let Some(row) = row else {
        bail!("no org tree is loaded: run `jiandu migrate --orgs FILE` first");
    };
    OrgTree::parse(row.get("tree"))
        .map_err(|e| anyhow::anyhow!("the stored org tree is invalid: {e:?}"))
}
