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
                        // A file, whichever of its parts (`file.json#/$defs/x`) is meant.
                        out.insert(r.split('#').next().unwrap_or(r).to_owned());
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
    // Served by its URL, the document's file references are relative to
    // it (`schemas/clue.json`), so a tool loading it that way resolves them.
    let served = host.get("/api/v1/openapi.json", &[]);
    assert_eq!(served.status, 200, "{}", served.text);
    let mut rebased = BTreeSet::new();
    file_refs(&served.json(), &mut rebased);
    let mut expected = BTreeSet::new();
    file_refs(&openapi(), &mut expected);
    let expected: BTreeSet<String> = expected.iter().map(|r| format!("schemas/{r}")).collect();
    assert_eq!(rebased, expected);
    assert_eq!(
        served.text.replace("\"schemas/", "\""),
        std::fs::read_to_string(repo().join("schemas/openapi.json")).unwrap(),
        "the served document is the file, references rebased"
    );
    let file = host.get("/api/v1/schemas/openapi.json", &[]);
    assert_eq!(file.json(), openapi());
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

#[test]
fn the_report_schema_states_the_phone_and_id_rules_the_server_enforces() {
    use jiandu_domain::report::{IdNumber, Phone};
    let schema = jiandu_guest::schema::Schema::compile(
        &std::fs::read_to_string(repo().join("schemas/report.json")).unwrap(),
    );
    let report = |phone: &str, id: &str| {
        serde_json::json!({
            "category": "integrity", "division_code": "370402",
            "subject": { "name": "张某" }, "content": "村集体资金被挪用于个人消费。",
            "reporter": { "name": "李四", "phone": phone, "id_number": id },
        })
    };
    let id = "11010519491231002X";
    for phone in [
        "13812345678",
        "138-1234-5678",
        " 138 1234 5678 ",
        "0632-1234567",
        "010 12345678",
        "12812345678",
        "1381234567",
        "23812345678",
        "063212345",
        "0632123456789",
        "-",
        "1 3 8",
    ] {
        assert_eq!(
            schema.check(&report(phone, id)).is_ok(),
            Phone::parse(phone).is_ok(),
            "schema and server disagree on phone {phone:?}"
        );
    }
    // The shape is stated; the check character is not (JSON Schema cannot), and says so.
    for id in [
        id,
        " 11010519491231002x ",
        "1101051949123100",
        "11010519491231002Y",
    ] {
        let shape_ok = schema.check(&report("13812345678", id)).is_ok();
        assert!(
            shape_ok || IdNumber::parse(id).is_err(),
            "the server takes {id:?} that the schema refuses"
        );
    }
}

#[test]
fn the_audit_log_filter_names_every_audited_action() {
    use jiandu_domain::audit::AuditAction;
    let doc = openapi();
    let parameters = doc["paths"]["/api/v1/admin/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let action = parameters.iter().find(|p| p["name"] == "action").unwrap();
    let documented: Vec<&str> = action["schema"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let actions: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(documented, actions);
}

#[test]
fn the_decision_schema_states_which_outcome_each_matter_takes() {
    use jiandu_domain::clue::Matter;
    let schema = jiandu_guest::schema::Schema::compile(
        &std::fs::read_to_string(repo().join("schemas/decision.json")).unwrap(),
    );
    let all_outcomes: BTreeSet<&str> = Matter::ALL
        .iter()
        .flat_map(|m| m.outcomes().iter().copied())
        .collect();
    for matter in Matter::ALL {
        for outcome in &all_outcomes {
            let body = serde_json::json!({
                "matter": matter.as_str(), "outcome": outcome,
                "attendees": ["a", "b", "c"],
            });
            assert_eq!(
                schema.check(&body).is_ok(),
                matter.outcomes().contains(outcome),
                "schema and server disagree on {matter:?} deciding {outcome}"
            );
        }
    }
}
