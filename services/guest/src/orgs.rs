//! The org tree as the components see it: the row `jiandu migrate` loads,
//! parsed once per instance and read again only when its version changes,
//! so a reloaded tree takes effect without a restart.

use std::sync::{Arc, Mutex};

use jiandu_domain::org::OrgTree;
use spin_sdk::http::StatusCode;

use crate::api::ApiError;
use crate::db::Db;
use crate::store;

/// The tree as loaded, and the version it was loaded at.
static CACHE: Mutex<Option<(i64, Arc<OrgTree>)>> = Mutex::new(None);

/// The current org tree; 503 if none is loaded.
pub async fn tree(db: &Db) -> Result<Arc<OrgTree>, ApiError> {
    let version = store::org_tree_version(db).await?;
    let version = version.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "",
            "no org tree is loaded: run `jiandu migrate --orgs FILE`",
        )
    })?;
    if let Some((cached, tree)) = CACHE.lock().expect("not poisoned").as_ref()
        && *cached == version
    {
        return Ok(tree.clone());
    }
    let row = store::org_tree(db).await?;
    let row = row.ok_or_else(|| ApiError::internal("the org tree vanished while being read"))?;
    let tree = OrgTree::parse(row.str("tree"))
        .map_err(|e| ApiError::internal(format!("the stored org tree is invalid: {e:?}")))?;
    let tree = Arc::new(tree);
    *CACHE.lock().expect("not poisoned") =
        Some((row.int("version").unwrap_or(version), tree.clone()));
    Ok(tree)
}
