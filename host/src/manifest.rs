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
    /// The id of the component that handles it. A component written inline
    /// in the trigger (`component = { source = "..." }`) is moved to
    /// `[component.<id>]` when the manifest is read, as Spin does.
    pub component: String,
}

/// `[[trigger.http]]` as written: the component is an id or a table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenHttpTrigger {
    #[serde(default)]
    id: Option<String>,
    route: String,
    component: ComponentSpec,
}

/// A trigger's component: a reference to `[component.<id>]`, or inline.
enum ComponentSpec {
    Reference(String),
    Inline(Box<Component>),
}

impl<'de> Deserialize<'de> for ComponentSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            toml::Value::String(id) => Ok(Self::Reference(id)),
            // Read as a component, so a wrong field is named as in `[component.<id>]`.
            table @ toml::Value::Table(_) => Component::deserialize(table)
                .map(|c| Self::Inline(Box::new(c)))
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "a trigger's `component` is a component id or an inline component table, not a {}",
                other.type_str()
            ))),
        }
    }
}

/// `spin.toml` as written, before inline components get ids.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenManifest {
    spin_manifest_version: u32,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(default)]
    trigger: WrittenTriggers,
    #[serde(default)]
    component: BTreeMap<String, Component>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenTriggers {
    #[serde(default)]
    http: Vec<WrittenHttpTrigger>,
}

impl WrittenManifest {
    /// Moves inline components to the component table under the id Spin
    /// would give them: `<trigger id>-component` (a trigger without an id
    /// counts as `http-trigger<N>`), or `inline-component<N>` when that is
    /// not a valid id or is taken.
    fn normalize(self) -> Manifest {
        let mut components = self.component;
        let mut unnamed = 0;
        let mut counter = 1;
        let http = self
            .trigger
            .http
            .into_iter()
            .map(|t| {
                let component = match t.component {
                    ComponentSpec::Reference(id) => id,
                    ComponentSpec::Inline(component) => {
                        let trigger_id = t.id.clone().unwrap_or_else(|| {
                            unnamed += 1;
                            format!("http-trigger{unnamed}")
                        });
                        let natural = format!("{trigger_id}-component");
                        let id = if check_id(&natural, '-', false).is_ok()
                            && !components.contains_key(&natural)
                        {
                            natural
                        } else {
                            loop {
                                let id = format!("inline-component{counter}");
                                counter += 1;
                                if !components.contains_key(&id) {
                                    break id;
                                }
                            }
                        };
                        components.insert(id.clone(), *component);
                        id
                    }
                };
                HttpTrigger {
                    id: t.id,
                    route: t.route,
                    component,
                }
            })
            .collect();
        Manifest {
            spin_manifest_version: self.spin_manifest_version,
            application: self.application,
            variables: self.variables,
            trigger: Triggers { http },
            component: components,
        }
    }
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
    /// What the component may read, read-only: directories mounted where
    /// they say (`{ source = "pages/dist", destination = "/" }`) and glob
    /// patterns (`"static/**/*"`) seen at their own paths.
    #[serde(default)]
    pub files: Vec<FilesEntry>,
    /// Glob patterns of files left out of `files`.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// How `spin build` builds it.
    #[serde(default)]
    pub build: Option<Build>,
}

/// One entry of a component's `files`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FilesEntry {
    /// Files of the application matching a glob, relative to the manifest
    /// (`"static/**/*"`), each seen at its own path.
    Pattern(String),
    /// A directory of the application mounted at a path.
    Mount(FilesMount),
}

/// A directory of the application, relative to the manifest, seen by the
/// component at `destination`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilesMount {
    /// The directory, relative to the manifest.
    pub source: PathBuf,
    /// Where the component sees it; absolute.
    pub destination: String,
}

impl<'de> Deserialize<'de> for FilesEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Placement {
            source: PathBuf,
            destination: String,
        }
        match toml::Value::deserialize(d)? {
            toml::Value::String(pattern) => Ok(Self::Pattern(pattern)),
            other => Placement::deserialize(other)
                .map(|p| {
                    Self::Mount(FilesMount {
                        source: p.source,
                        destination: p.destination,
                    })
                })
                .map_err(D::Error::custom),
        }
    }
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
        let written: WrittenManifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: PathBuf::new(),
            message: format!(
                "{} (this host supports the Spin manifest v2 fields listed in ARCHITECTURE.md; check the spelling)",
                e.message()
            ),
        })?;
        let manifest = written.normalize();
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
            check_id(id, '-', false).map_err(|why| {
                ManifestError::Invalid(format!(
                    "component id `{id}` is invalid: {why}; use kebab-case, e.g. `report-intake`"
                ))
            })?;
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
            let patterns = component.files.iter().filter_map(|e| match e {
                FilesEntry::Pattern(p) => Some(p),
                FilesEntry::Mount(_) => None,
            });
            for pattern in patterns.chain(&component.exclude_files) {
                if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
                    return invalid(format!(
                        "component `{id}`: files pattern `{pattern}` must stay inside the application, relative to the manifest"
                    ));
                }
            }
            let mounts = component.files.iter().filter_map(|e| match e {
                FilesEntry::Mount(m) => Some(m),
                FilesEntry::Pattern(_) => None,
            });
            for mount in mounts {
                if !mount.destination.starts_with('/') {
                    return invalid(format!(
                        "component `{id}`: files destination `{}` is not absolute; write it like `/` or `/static`",
                        mount.destination
                    ));
                }
                if mount.source.is_absolute()
                    || mount
                        .source
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return invalid(format!(
                        "component `{id}`: files source `{}` must be a directory inside the application, relative to the manifest",
                        mount.source.display()
                    ));
                }
            }
            for host in &component.allowed_outbound_hosts {
                // As in Spin, an entry may name application variables; one
                // that does is checked once they have values, at load.
                let references = template_references(host).map_err(ManifestError::Invalid)?;
                if let Some(missing) = references
                    .iter()
                    .find(|r| !self.variables.contains_key(**r))
                {
                    return invalid(format!(
                        "component `{id}`: allowed_outbound_hosts entry `{host}` refers to `{{{{ {missing} }}}}`, which is not in [variables]; declare it there"
                    ));
                }
                if references.is_empty() {
                    crate::outbound::AllowedHost::parse(host)
                        .map_err(|e| ManifestError::Invalid(format!("component `{id}`: {e}")))?;
                }
            }
        }
        Ok(())
    }
}

/// Spin's rule for names: words joined by `delim` (`-` for kebab-case,
/// `_` for snake_case), each non-empty, starting with an ASCII letter, of
/// ASCII letters and digits, and all lower-case or all upper-case — or, when
/// `lower`, all lower-case.
fn check_id(id: &str, delim: char, lower: bool) -> Result<(), String> {
    let other = if delim == '-' { '_' } else { '-' };
    if id.is_empty() {
        return Err("it is empty".into());
    }
    if id.contains(other) {
        return Err(format!("words are joined by `{delim}`, not `{other}`"));
    }
    for word in id.split(delim) {
        let Some(first) = word.chars().next() else {
            return Err(format!(
                "it has an empty word (a leading, trailing or doubled `{delim}`)"
            ));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!("the word `{word}` does not start with a letter"));
        }
        if !word.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "the word `{word}` has a character other than a letter or digit"
            ));
        }
        let upper = first.is_ascii_uppercase();
        if word
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c.is_ascii_uppercase() != upper)
        {
            return Err(format!("the word `{word}` mixes upper and lower case"));
        }
        if lower && upper {
            return Err(format!("the word `{word}` is not lower-case"));
        }
    }
    Ok(())
}

/// Variable names are lower snake_case, as in Spin.
fn check_variable_name(name: &str) -> Result<(), ManifestError> {
    check_id(name, '_', true).map_err(|why| {
        ManifestError::Invalid(format!(
            "variable name `{name}` is invalid: {why}; use lower-case letters and digits, words joined by `_`, each starting with a letter"
        ))
    })
}

/// A database label is kebab-case or snake_case, as in Spin, and at most 64
/// characters: it becomes a file name (`data/<label>.db` by default).
fn check_label(label: &str) -> Result<(), String> {
    let spin_ok = check_id(label, '-', false).is_ok() || check_id(label, '_', false).is_ok();
    if spin_ok && label.len() <= 64 {
        Ok(())
    } else {
        Err(format!(
            "sqlite database label `{label}` is invalid: use kebab-case or snake_case (letters and digits, words joined by `-` or `_`, each starting with a letter), at most 64 characters"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_spins_rules() {
        for ok in ["a", "hello-world", "API-v2", "x1y2-z3", "HTTP-trigger1"] {
            assert!(check_id(ok, '-', false).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "1a", "a_b", "aPi", "a.b", "héllo"] {
            assert!(check_id(bad, '-', false).is_err(), "{bad}");
        }
        for ok in ["db_key", "a1", "x_y_z"] {
            assert!(check_id(ok, '_', true).is_ok(), "{ok}");
        }
        for bad in ["DB_KEY", "db-key", "_x", "x__y", "x_1"] {
            assert!(check_id(bad, '_', true).is_err(), "{bad}");
        }
    }
}
