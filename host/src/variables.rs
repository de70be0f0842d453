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

/// Resolves every component's variables from the manifest and `env`.
pub fn resolve(
    manifest: &Manifest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, ComponentVariables>, MissingVariable> {
    let mut app = BTreeMap::new();
    for (name, var) in &manifest.variables {
        let upper = name.to_ascii_uppercase();
        match env(&format!("SPIN_VARIABLE_{upper}")).or_else(|| var.default.clone()) {
            Some(value) => {
                app.insert(name.as_str(), value);
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
    let mut out = BTreeMap::new();
    for (id, component) in &manifest.component {
        let mut vars = BTreeMap::new();
        for (name, template) in &component.variables {
            // References were checked when the manifest was validated.
            let mut value = template.clone();
            for reference in template_references(template).unwrap_or_default() {
                let Some(resolved) = app.get(reference) else {
                    // Optional application variable without a value: the
                    // component variable is undefined too.
                    value.clear();
                    break;
                };
                value = replace_reference(&value, reference, resolved);
            }
            if !value.is_empty() || template.is_empty() {
                vars.insert(name.clone(), Value(value));
            }
        }
        out.insert(id.clone(), ComponentVariables(vars));
    }
    Ok(out)
}

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
        let c = &vars["c"];
        assert_eq!(c.get("key").unwrap(), "s3cret");
        assert_eq!(c.get("url").unwrap(), "https://cn.example/s3cret");
        assert!(matches!(c.get("optional"), Err(Error::Undefined(_))));
        assert!(matches!(c.get("nope"), Err(Error::Undefined(_))));
        assert!(matches!(c.get("Bad-Name"), Err(Error::InvalidName(_))));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn missing_required_variable_names_the_env_var() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let err = resolve(&m, |_| None).unwrap_err().to_string();
        assert!(err.contains("SPIN_VARIABLE_KEY"), "{err}");
    }
}
