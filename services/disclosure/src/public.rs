//! What the public reads without a token: divisions down the org tree, a
//! division's items and an item with every revision. Answers may be cached
//! for [`MAX_AGE`] seconds; an item read counts a visit (`visits`).

use jiandu_domain::disclosure::{ItemKind, Period};
use jiandu_domain::org::OrgKind;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::{orgs, query};
use serde_json::{Value, json};
use spin_sdk::http::StatusCode;

use crate::store::{self, Filter, Item};
use crate::visits;

/// How long a public answer may be reused by a browser or a cache.
const MAX_AGE: u32 = 30;

/// The most items one page lists.
const PAGE: u32 = 100;

/// 404 for an item there is not.
pub(crate) fn no_item(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "", format!("no disclosed item {id}"))
}

/// A public answer: 200 with a `Cache-Control` that lets it be reused.
fn cacheable(body: &Value) -> Reply {
    let mut reply = api::json(StatusCode::OK, body);
    if let Ok(value) = format!("public, max-age={MAX_AGE}").parse() {
        reply.headers_mut().insert("cache-control", value);
    }
    reply
}

/// Whether an org discloses: every org but a commission and its offices.
fn discloses(kind: OrgKind) -> bool {
    !matches!(kind, OrgKind::Commission | OrgKind::InspectionOffice)
}

/// `GET /api/v1/disclosure/divisions/{org}`: a division and the divisions
/// under it, with how many items each has published.
pub(crate) async fn division(db: &Db, id: &str) -> Result<Reply, ApiError> {
    let tree = orgs::tree(db).await?;
    let org = tree
        .get(id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "", format!("no division {id}")))?;
    let children: Vec<_> = tree.children(id).filter(|c| discloses(c.kind)).collect();
    let mut ids: Vec<&str> = children.iter().map(|c| c.id.as_str()).collect();
    ids.push(id);
    let counts = store::published_counts(db, &ids).await?;
    let count = |of: &str| counts.iter().find(|(d, _)| d == of).map_or(0, |(_, n)| *n);
    let shown = |o: &jiandu_domain::org::Org| {
        json!({
            "id": o.id,
            "name": o.name,
            "kind": o.kind,
            "division_code": o.division,
            "items": count(&o.id),
        })
    };
    let mut body = shown(org);
    body["parent"] = json!(org.parent);
    body["children"] = children.iter().map(|c| shown(c)).collect();
    Ok(cacheable(&body))
}

/// `GET /api/v1/disclosure/items?division=…`: a division's items, newest first.
pub(crate) async fn items(db: &Db, query: &str) -> Result<Reply, ApiError> {
    let pairs = query::pairs(query)?;
    let mut division = None;
    let (mut kind, mut period, mut title, mut after) = (None, None, None, None);
    let mut limit = 20;
    for (name, value) in &pairs {
        match name.as_str() {
            "division" => division = Some(value.as_str()),
            "kind" => {
                kind = Some(
                    ItemKind::parse(value)
                        .ok_or_else(|| query::bad("kind", "is not a disclosure kind"))?
                        .as_str(),
                );
            }
            "period" => {
                Period::parse("/period", value).map_err(|e| query::bad("period", e.message))?;
                period = Some(value.as_str());
            }
            "q" => title = Some(value.as_str()).filter(|q| !q.trim().is_empty()),
            "after" => after = Some(value.as_str()),
            "limit" => limit = query::number("limit", value, 1..=PAGE)?,
            _ => return Err(query::bad(name, "is not a parameter of this list")),
        }
    }
    let division = division
        .filter(|d| !d.is_empty())
        .ok_or_else(|| query::bad("division", "name the division"))?;
    let filter = Filter {
        division,
        kind,
        period,
        title,
        after,
        limit,
    };
    let found = store::items(db, &filter).await?;
    let next = (found.len() == limit as usize)
        .then(|| found.last().map(|i| i.id.clone()))
        .flatten();
    let listed: Vec<Value> = found.iter().map(|i| summary(i, 0)).collect();
    Ok(cacheable(&json!({ "items": listed, "next": next })))
}

/// An item's listing line; `held` adds visits not yet written.
fn summary(item: &Item, held: i64) -> Value {
    json!({
        "id": item.id,
        "division": item.division,
        "kind": item.kind,
        "period": item.period,
        "title": item.title,
        "state": item.state,
        "revision": item.revision,
        "corrected": item.revision > 1,
        "published_at": item.published_at,
        "updated_at": item.updated_at,
        "visits": item.visits + held,
        "open_complaints": item.open_complaints,
    })
}

/// `GET /api/v1/disclosure/items/{id}`: the item, with this visit counted.
pub(crate) async fn item(db: &Db, id: &str) -> Result<Reply, ApiError> {
    let mut body = item_body(db, id, 0).await?;
    let held = visits::count(db, id).await;
    body["visits"] = json!(body["visits"].as_i64().unwrap_or(0) + held);
    Ok(cacheable(&body))
}

/// An item with its revisions (latest last) and, if withdrawn, why.
pub(crate) async fn item_body(db: &Db, id: &str, held: i64) -> Result<Value, ApiError> {
    let item = store::item(db, id).await?.ok_or_else(|| no_item(id))?;
    let revisions: Vec<Value> = store::revisions(db, id)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "revision": r.revision,
                "title": r.title,
                "period": r.period,
                "amounts": serde_json::from_str::<Value>(&r.amounts).unwrap_or_default(),
                "body": r.body,
                "attachments": serde_json::from_str::<Value>(&r.attachments).unwrap_or_default(),
                "reason": r.reason,
                "at": r.at,
            })
        })
        .collect();
    let mut body = summary(&item, held);
    body["withdrawn_at"] = json!(item.withdrawn_at);
    body["withdrawn_reason"] = json!(item.withdrawn_reason);
    body["revisions"] = json!(revisions);
    Ok(body)
}
