//! The runtime configuration file (`--runtime-config-file`), as `spin up`
//! reads it: where each SQLite database label lives.
//!
//! ```toml
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/default.db"   # relative to this file
//! ```
//!
//! A label used by a component but not configured lives at
//! `<manifest dir>/data/<label>.db`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::manifest::Manifest;

/// A parsed runtime configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// `[sqlite_database.<label>]`.
    #[serde(default)]
    pub sqlite_database: BTreeMap<String, SqliteDatabase>,
}

/// One `[sqlite_database.<label>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteDatabase {
    /// Only `"spin"` (a local file) is supported.
    #[serde(rename = "type")]
    pub kind: String,
    /// The file, relative to the runtime configuration file.
    pub path: PathBuf,
}

/// Why a runtime configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeConfigError {
    /// The file could not be read.
    #[error("cannot read runtime config {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not valid.
    #[error("invalid runtime config {0}: {1}")]
    Invalid(PathBuf, String),
}

impl RuntimeConfig {
    /// Reads a runtime configuration file; paths in it become absolute.
    pub fn from_file(path: &Path) -> Result<Self, RuntimeConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuntimeConfigError::Read(path.to_owned(), e))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|e| RuntimeConfigError::Invalid(path.to_owned(), e.message().to_owned()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for (label, db) in &mut config.sqlite_database {
            if db.kind != "spin" {
                return Err(RuntimeConfigError::Invalid(
                    path.to_owned(),
                    format!(
                        "sqlite_database.{label} has type `{}`; only `spin` (a local SQLite file) is supported",
                        db.kind
                    ),
                ));
            }
            db.path = base.join(&db.path);
        }
        Ok(config)
    }

    /// The file of every label a component of `manifest` uses.
    pub fn sqlite_paths(
        &self,
        manifest: &Manifest,
        manifest_dir: &Path,
    ) -> BTreeMap<String, PathBuf> {
        manifest
            .component
            .values()
            .flat_map(|c| c.sqlite_databases.iter())
            .map(|label| (label.clone(), self.sqlite_path(label, manifest_dir)))
            .collect()
    }

    /// The file behind one label (for tools such as the migrator).
    pub fn sqlite_path(&self, label: &str, manifest_dir: &Path) -> PathBuf {
        self.sqlite_database
            .get(label)
            .map(|db| db.path.clone())
            .unwrap_or_else(|| manifest_dir.join("data").join(format!("{label}.db")))
    }
}
