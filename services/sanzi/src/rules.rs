//! 三资风险规则 — a commission's risk rules, as data with thresholds; the
//! seed's rules come as examples to adopt.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::{OrgKind, Role};
use jiandu_domain::sanzi::{Rule, example_rules};
use jiandu_guest::api::{self, ApiError, Reply, forbidden};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::Staff;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::store::{self, StoredRule};

/// 403 unless the caller holds one of `roles` in a commission.
pub(crate) fn require_commission(caller: &Staff, roles: &[Role]) -> Result<(), ApiError> {
    caller.require(roles)?;
    match caller.tree.get(caller.org()) {
        Some(org) if org.kind == OrgKind::Commission => Ok(()),
        _ => Err(forbidden("三资 risk rules are a commission's")),
    }
}

/// A stored rule, as the API shows it and as the checks use it.
pub(crate) fn parsed(stored: &StoredRule) -> Result<Rule, ApiError> {
    serde_json::from_str(&stored.definition)
        .map_err(|e| ApiError::internal(format!("三资 rule {}: {e}", stored.id)))
}

fn shown(stored: &StoredRule) -> Result<serde_json::Value, ApiError> {
    let mut body = json!({ "id": stored.id, "created_at": stored.created_at });
    if let (Some(fields), serde_json::Value::Object(rule)) = (
        body.as_object_mut(),
        serde_json::to_value(parsed(stored)?).expect("a rule serializes"),
    ) {
        fields.extend(rule);
    }
    Ok(body)
}

/// `POST /api/v1/sanzi/rules`: adopts a rule for the caller's commission.
pub(crate) async fn create(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    let rule: Rule = jiandu_guest::schema!("sanzi-rule.json").parse(input)?;
    let problems = rule.check();
    if !problems.is_empty() {
        return Err(ApiError::fields(StatusCode::UNPROCESSABLE_ENTITY, problems));
    }
    let stored = StoredRule {
        id: new_id("ZR"),
        definition: serde_json::to_string(&rule).expect("a rule serializes"),
        created_at: clock::rfc3339(clock::now()),
    };
    let object = format!("sanzi_rule:{}", stored.id);
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::SanziRule, &object),
        async || {
            store::insert_rule(
                db,
                &stored.id,
                caller.org(),
                &rule.name,
                &stored.definition,
                &caller.claims.sub,
                &stored.created_at,
            )
            .await
        },
    )
    .await?;
    Ok(api::json(StatusCode::CREATED, &shown(&stored)?))
}

/// `GET /api/v1/sanzi/rules`: the commission's rules, and the examples.
pub(crate) async fn list(caller: &Staff, db: &Db) -> Result<Reply, ApiError> {
    require_commission(caller, crate::RULE_MAKERS)?;
    let rules = store::rules(db, caller.org())
        .await?
        .iter()
        .map(shown)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(api::json(
        StatusCode::OK,
        &json!({ "rules": rules, "examples": example_rules() }),
    ))
}
