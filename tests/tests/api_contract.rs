//! The OpenAPI document is served and stays true to what is deployed.

use std::collections::BTreeSet;

use jiandu_tests::{Host, repo};
use serde_json::Value;

fn openapi() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("schemas/openapi.json")).unwrap())
        .unwrap()
}

fn file_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) if !r.starts_with('#') => {
                        out.insert(r.clone());
                    }
                    _ => file_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| file_refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_api_route_in_spin_toml_is_documented() {
    let manifest = std::fs::read_to_string(repo().join("spin.toml")).unwrap();
    let doc = openapi();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    let routes: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("route = \""))
        .map(|r| r.trim_end_matches('"'))
        .filter(|r| r.starts_with("/api/v1"))
        .collect();
    assert!(!routes.is_empty());
    for route in routes {
        let prefix = route.trim_end_matches("/...");
        assert!(
            paths.iter().any(|p| p.starts_with(prefix)),
            "route {route} has no path in openapi.json"
        );
    }
}

#[test]
fn the_served_document_and_every_schema_it_references_are_the_files_in_schemas() {
    let host = Host::start_product();
    let served = host.get("/api/v1/openapi.json", &[]);
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(served.json(), openapi());
    let mut refs = BTreeSet::new();
    file_refs(&openapi(), &mut refs);
    assert!(
        refs.contains("report.json") && refs.contains("errors.json"),
        "{refs:?}"
    );
    for file in refs {
        let on_disk: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("schemas").join(&file)).unwrap_or_else(|_| {
                panic!("openapi.json references {file}, which is not in schemas/")
            }),
        )
        .unwrap();
        let reply = host.get(&format!("/api/v1/schemas/{file}"), &[]);
        assert_eq!(reply.status, 200, "{file}");
        assert_eq!(reply.json(), on_disk, "{file}");
        jiandu_guest::schema::Schema::compile(&reply.text);
    }
    assert_eq!(host.get("/api/v1/schemas/secrets.json", &[]).status, 404);
}
