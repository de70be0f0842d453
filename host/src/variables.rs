//! Application and component variables, resolved once at startup, and the
//! `spin:variables` host interface that hands them to components.
//!
//! As in Spin, an application variable's value comes from the environment
//! variable `SPIN_VARIABLE_<NAME>` (upper-cased) or else its `default`.

use std::collections::BTreeMap;
use std::fmt;

use wasmtime::component::Accessor;

use crate::bindings::spin::variables::variables::{self, Error};
use crate::manifest::{Manifest, template_references};

/// A variable's value; `Debug` never shows it, since variables hold secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Value(String);

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Value(..)")
    }
}

/// The resolved variables of one component.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables(BTreeMap<String, Value>);

/// A required variable had no value.
#[derive(Debug, thiserror::Error)]
#[error(
    "application variable `{name}` is required but has no value; set the environment variable SPIN_VARIABLE_{upper}"
)]
pub struct MissingVariable {
    name: String,
    upper: String,
}

/// The application's variables, resolved from the environment and the
/// manifest's defaults, and every component's variables over them.
#[derive(Debug, Default)]
pub struct Resolved {
    app: BTreeMap<String, Value>,
    /// Each component's variables, by component id.
    pub components: BTreeMap<String, ComponentVariables>,
}

impl Resolved {
    /// The application variable `name`'s value, if it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.app.get(name).map(|v| v.0.as_str())
    }

    /// `template` with each `{{ name }}` replaced by the application
    /// variable's value; `None` when one it refers to has no value.
    pub fn expand(&self, template: &str) -> Option<String> {
        // References were checked when the manifest was validated.
        let mut value = template.to_owned();
        for reference in template_references(template).unwrap_or_default() {
            value = replace_reference(&value, reference, &self.app.get(reference)?.0);
        }
        Some(value)
    }
}

/// Resolves the application's variables from `env` and the manifest's
/// defaults, and every component's variables from them.
pub fn resolve(
    manifest: &Manifest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Resolved, MissingVariable> {
    let mut resolved = Resolved::default();
    for (name, var) in &manifest.variables {
        let upper = name.to_ascii_uppercase();
        match env(&format!("SPIN_VARIABLE_{upper}")).or_else(|| var.default.clone()) {
            Some(value) => {
                resolved.app.insert(name.clone(), Value(value));
            }
            None if var.required => {
                return Err(MissingVariable {
                    name: name.clone(),
                    upper,
                });
            }
            None => {}
        }
    }
    for (id, component) in &manifest.component {
        // A template over an optional application variable without a value
        // leaves the component variable undefined.
        let vars = component
            .variables
            .iter()
            .filter_map(|(name, template)| Some((name.clone(), Value(resolved.expand(template)?))))
            .collect();
        resolved
            .components
            .insert(id.clone(), ComponentVariables(vars));
    }
    Ok(resolved)
}

/// `template` with `{{ name }}` replaced by `value`.
fn replace_reference(template: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        if after[..end].trim() == name {
            out.push_str(value);
        } else {
            out.push_str(&rest[start..start + 2 + end + 2]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

impl ComponentVariables {
    /// The value of one variable, as `spin:variables/get` reports it.
    pub fn get(&self, name: &str) -> Result<String, Error> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::InvalidName(name.to_owned()));
        }
        self.0.get(name).map(|v| v.0.clone()).ok_or_else(|| {
            Error::Undefined(format!("no variable named `{name}` for this component"))
        })
    }
}

/// [`wasmtime::component::HasData`] marker for `spin:variables`.
pub struct Variables;

impl wasmtime::component::HasData for Variables {
    type Data<'a> = &'a ComponentVariables;
}

impl variables::Host for &ComponentVariables {}

impl<T> variables::HostWithStore<T> for Variables {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, Error>> {
        Ok(accessor.with(|mut access| access.get().get(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
key = { required = true, secret = true }
region = { default = "cn" }
unset = {}
[component.c]
source = "c.wasm"
[component.c.variables]
key = "{{ key }}"
url = "https://{{region}}.example/{{ key }}"
optional = "{{ unset }}"
"#;

    #[test]
    fn templates_resolve_from_env_then_defaults() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let vars = resolve(&m, |n| (n == "SPIN_VARIABLE_KEY").then(|| "s3cret".into())).unwrap();
        let c = &vars.components["c"];
        assert_eq!(c.get("key").unwrap(), "s3cret");
        assert_eq!(c.get("url").unwrap(), "https://cn.example/s3cret");
        assert!(matches!(c.get("optional"), Err(Error::Undefined(_))));
        assert!(matches!(c.get("nope"), Err(Error::Undefined(_))));
        assert!(matches!(c.get("Bad-Name"), Err(Error::InvalidName(_))));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            vars.expand("postgres://{{ region }}:5432").as_deref(),
            Some("postgres://cn:5432")
        );
        assert_eq!(vars.expand("postgres://{{ unset }}"), None);
    }

    #[test]
    fn missing_required_variable_names_the_env_var() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let err = resolve(&m, |_| None).unwrap_err().to_string();
        assert!(err.contains("SPIN_VARIABLE_KEY"), "{err}");
    }
}
