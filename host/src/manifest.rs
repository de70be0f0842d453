//! The Spin application manifest (`spin.toml`, `spin_manifest_version = 2`).
//!
//! Only what this host implements is accepted; any other field is an error that
//! names the field, so a manifest that runs here runs unchanged on real Spin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest's path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML did not match the manifest format.
    #[error("invalid manifest {path}: {message}")]
    Parse {
        /// The manifest's path.
        path: PathBuf,
        /// The parser's message, which names the field.
        message: String,
    },
    /// The manifest parsed but says something inconsistent.
    #[error("invalid manifest: {0}")]
    Invalid(String),
}

/// A parsed, validated `spin.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be 2.
    pub spin_manifest_version: u32,
    /// `[application]`.
    pub application: Application,
    /// `[variables]`: application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.http]]` and friends.
    #[serde(default)]
    pub trigger: Triggers,
    /// `[component.<id>]`.
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The application's name.
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
    /// Its authors.
    #[serde(default)]
    pub authors: Vec<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// An application variable in `[variables]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// The value used when no provider sets one.
    #[serde(default)]
    pub default: Option<String>,
    /// Startup fails when no value is provided.
    #[serde(default)]
    pub required: bool,
    /// The value is never logged.
    #[serde(default)]
    pub secret: bool,
}

/// `[trigger]`: only HTTP triggers are supported.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// `[[trigger.http]]`.
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// An optional id.
    #[serde(default)]
    pub id: Option<String>,
    /// The route, e.g. `/api/v1/reports/...`.
    pub route: String,
    /// The id of the component that handles it.
    pub component: String,
}

/// `[component.<id>]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Path of the `.wasm` file, relative to the manifest.
    pub source: PathBuf,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Component variables: templates over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables visible to the component.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// SQLite database labels the component may open.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// Hosts the component may call, e.g. `http://127.0.0.1:8080`.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// How `spin build` builds it.
    #[serde(default)]
    pub build: Option<Build>,
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The build command.
    pub command: String,
    /// Working directory, relative to the manifest.
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Files whose change triggers a rebuild.
    #[serde(default)]
    pub watch: Vec<String>,
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn from_file(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ManifestError::Parse { message, .. } => ManifestError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: PathBuf::new(),
            message: format!(
                "{} (this host supports the Spin manifest v2 fields listed in ARCHITECTURE.md; check the spelling)",
                e.message()
            ),
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |m: String| Err(ManifestError::Invalid(m));
        if self.spin_manifest_version != 2 {
            return invalid(format!(
                "spin_manifest_version is {}, but only 2 is supported; set `spin_manifest_version = 2`",
                self.spin_manifest_version
            ));
        }
        for name in self.variables.keys() {
            check_variable_name(name)?;
        }
        for (id, var) in &self.variables {
            if var.required && var.default.is_some() {
                return invalid(format!(
                    "variable `{id}` is both `required` and has a `default`; keep one of them"
                ));
            }
        }
        for trigger in &self.trigger.http {
            if !self.component.contains_key(&trigger.component) {
                return invalid(format!(
                    "trigger route `{}` names component `{}`, which is not defined; add `[component.{}]` or fix the name",
                    trigger.route, trigger.component, trigger.component
                ));
            }
            crate::routes::Route::parse(&trigger.route).map_err(ManifestError::Invalid)?;
        }
        for (id, component) in &self.component {
            for (name, template) in &component.variables {
                check_variable_name(name)?;
                for reference in template_references(template).map_err(ManifestError::Invalid)? {
                    if !self.variables.contains_key(reference) {
                        return invalid(format!(
                            "component `{id}` variable `{name}` refers to `{{{{ {reference} }}}}`, which is not in [variables]; declare it there"
                        ));
                    }
                }
            }
            for label in &component.sqlite_databases {
                check_label(label)
                    .map_err(|e| ManifestError::Invalid(format!("component `{id}`: {e}")))?;
            }
            for host in &component.allowed_outbound_hosts {
                crate::outbound::AllowedHost::parse(host)
                    .map_err(|e| ManifestError::Invalid(format!("component `{id}`: {e}")))?;
            }
        }
        Ok(())
    }
}

/// Variable names are lower-case letters, digits and underscores, starting with a letter (as in Spin).
fn check_variable_name(name: &str) -> Result<(), ManifestError> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ManifestError::Invalid(format!(
            "variable name `{name}` is invalid: use lower-case letters, digits and `_`, starting with a letter"
        )))
    }
}

/// A database label becomes a file name (`data/<label>.db` by default), so
/// it is a plain name: letters, digits, `_` and `-`, starting with a letter.
fn check_label(label: &str) -> Result<(), String> {
    let ok = label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.len() <= 64
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "sqlite database label `{label}` is invalid: use letters, digits, `_` and `-`, starting with a letter"
        ))
    }
}

/// The application variables a template such as `"{{ db_key }}-x"` refers to.
pub(crate) fn template_references(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("template `{template}` has `{{{{` without a closing `}}}}`"))?;
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(names)
}
