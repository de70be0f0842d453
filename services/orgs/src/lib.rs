//! 组织 — the org tree as the caller may see it.
//!
//! - `GET /api/v1/orgs` — the caller's org, everything below it, and the
//!   chain of orgs above it (who supervises and leads it).
//! - `GET /api/v1/orgs/{id}` — one of those orgs, its children, the people
//!   the tree lists in it (for the orgs in the caller's subtree) and who
//!   presses (督办) and takes over (提级) its late steps.

use jiandu_domain::org::{Org, Relation};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::staff::{self, Staff};
use serde_json::json;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').skip(3).collect();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["orgs"]) => Ok(list(&caller)),
        (Method::GET, ["orgs", id]) => show(&caller, id),
        (_, ["orgs"] | ["orgs", _]) => Err(ApiError::method_not_allowed("GET")),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            "no such resource or method; see /api/v1/openapi.json",
        )),
    }
}

/// An org as the API shows it, with where it stands from the caller.
fn org_json(org: &Org, relation: Relation) -> serde_json::Value {
    let relation = match relation {
        Relation::Own => "own",
        Relation::Below => "below",
        Relation::Above | Relation::Elsewhere => "above",
    };
    json!({
        "id": org.id,
        "name": org.name,
        "kind": org.kind,
        "level": org.level,
        "division": org.division,
        "parent": org.parent,
        "supervisor": org.supervisor,
        "relation": relation,
    })
}

/// `GET /api/v1/orgs`: the chain above the caller's org, then its subtree.
fn list(caller: &Staff) -> Reply {
    let tree = &caller.tree;
    let mut above: Vec<serde_json::Value> = tree
        .ancestors(caller.org())
        .map(|o| org_json(o, Relation::Above))
        .collect();
    above.reverse();
    let below = tree
        .subtree(caller.org())
        .into_iter()
        .map(|o| org_json(o, caller.relation(&o.id)));
    let orgs: Vec<serde_json::Value> = above.into_iter().chain(below).collect();
    api::json(StatusCode::OK, &json!({ "orgs": orgs }))
}

/// `GET /api/v1/orgs/{id}`: an org the caller may see; others are 404.
fn show(caller: &Staff, id: &str) -> Result<Reply, ApiError> {
    let tree = &caller.tree;
    let relation = caller.relation(id);
    let org = tree
        .get(id)
        .filter(|_| relation != Relation::Elsewhere)
        .ok_or_else(|| staff::hidden("org"))?;
    // People are listed for the caller's own subtree only.
    let people = match relation {
        Relation::Own | Relation::Below => json!(org.people),
        Relation::Above | Relation::Elsewhere => json!([]),
    };
    let children: Vec<serde_json::Value> = tree
        .children(id)
        .filter(|c| caller.relation(&c.id) != Relation::Elsewhere)
        .map(|c| org_json(c, caller.relation(&c.id)))
        .collect();
    let escalation = tree.escalation(id);
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "org": org_json(org, relation),
            "children": children,
            "people": people,
            "escalation": {
                "supervise": escalation.supervise.map(|o| &o.id),
                "elevate": escalation.elevate.map(|o| &o.id),
            },
        }),
    ))
}
