//! 比对规则 — a commission's screening rules, as data: which roster against
//! which register, how lines join, what makes a hit, who verifies it and in
//! how many days. The seed commission's rules come as examples to adopt.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::screening::{Rule, example_rules};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::Staff;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::store::{self, StoredRule};

/// A stored rule as the API shows it: its id and when it was adopted, then its definition.
pub(crate) fn shown(stored: &StoredRule) -> Result<(Rule, serde_json::Value), ApiError> {
    let rule: Rule = serde_json::from_str(&stored.definition)
        .map_err(|e| ApiError::internal(format!("rule {}: {e}", stored.id)))?;
    let mut body = json!({ "id": stored.id, "created_at": stored.created_at });
    let definition = serde_json::to_value(&rule).expect("a rule serializes");
    if let (Some(body), serde_json::Value::Object(fields)) = (body.as_object_mut(), definition) {
        body.extend(fields);
    }
    Ok((rule, body))
}

/// `POST /api/v1/screening/rules`: adopts a rule for the caller's commission.
pub(crate) async fn create(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    let rule: Rule = jiandu_guest::schema!("screening-rule.json").parse(input)?;
    let problems = rule.check();
    if !problems.is_empty() {
        return Err(ApiError::fields(StatusCode::UNPROCESSABLE_ENTITY, problems));
    }
    let id = new_id("SR");
    let at = clock::rfc3339(clock::now());
    let definition = serde_json::to_string(&rule).expect("a rule serializes");
    let object = format!("screening_rule:{id}");
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::ScreeningRule, &object),
        async || {
            store::insert_rule(
                db,
                &id,
                caller.org(),
                &rule.name,
                &definition,
                &caller.claims.sub,
                &at,
            )
            .await
        },
    )
    .await?;
    let stored = StoredRule {
        id,
        commission: caller.org().to_owned(),
        definition,
        created_at: at,
    };
    Ok(api::json(StatusCode::CREATED, &shown(&stored)?.1))
}

/// `GET /api/v1/screening/rules`: the commission's rules, and the examples.
pub(crate) async fn list(caller: &Staff, db: &Db) -> Result<Reply, ApiError> {
    let rules = store::rules(db, caller.org())
        .await?
        .iter()
        .map(|r| shown(r).map(|(_, body)| body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(api::json(
        StatusCode::OK,
        &json!({ "rules": rules, "examples": example_rules() }),
    ))
}
