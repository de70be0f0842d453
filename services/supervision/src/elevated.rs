//! 提级监督 — villages a county commission supervises directly for a
//! period: while a listing is in force, the rectification a township would
//! supervise in the village goes to the county. Listings are never deleted;
//! unlisting records who ended one and why.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::{Level, OrgKind, Role};
use jiandu_domain::supervision::listing_in_force;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::query::{self, bad};
use jiandu_guest::staff::{self, Staff};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::require_commission;
use crate::store::{self, Listing, NewListing};
use crate::tours::Period;

/// Who lists and unlists: a county commission's head.
const LISTERS: &[Role] = &[Role::Head];

fn listing_json(caller: &Staff, l: &Listing, today: &str) -> serde_json::Value {
    json!({
        "id": l.id,
        "village": l.village,
        "village_name": caller.tree.get(&l.village).map(|o| o.name.as_str()),
        "county": l.county,
        "period": { "from": l.starts_on, "to": l.ends_on },
        "reason": l.reason,
        "listed_by": l.listed_by,
        "listed_at": l.listed_at,
        "unlisted_by": l.unlisted_by,
        "unlisted_at": l.unlisted_at,
        "unlist_reason": l.unlist_reason,
        "in_force": listing_in_force(&l.starts_on, &l.ends_on, l.unlisted_at.is_some(), today),
    })
}

/// `GET /api/v1/elevated-villages[?history=true]`: the listings of villages
/// the caller watches — those not yet unlisted, or with `history=true` every
/// listing ever made.
pub(crate) async fn list(caller: &Staff, db: &Db, query: &str) -> Result<Reply, ApiError> {
    let mut history = false;
    for (name, value) in query::pairs(query)? {
        match (name.as_str(), value.as_str()) {
            ("history", "true") => history = true,
            ("history", "false") => history = false,
            ("history", _) => return Err(bad("history", "must be true or false")),
            (other, _) => return Err(bad(other, "unknown parameter; use history")),
        }
    }
    let today = clock::china_date(clock::now()).to_string();
    let rows: Vec<_> = store::listings(db, !history)
        .await?
        .iter()
        .filter(|l| caller.watches(&l.village))
        .map(|l| listing_json(caller, l, &today))
        .collect();
    Ok(api::json(StatusCode::OK, &json!({ "listings": rows })))
}

#[derive(Deserialize)]
struct NewListingBody {
    village: String,
    period: Period,
    reason: String,
}

/// `POST /api/v1/elevated-villages`: a county commission's head lists a
/// village under it for a period.
pub(crate) async fn add(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    require_commission(&caller, LISTERS)?;
    let county = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.level == Level::County);
    if !county {
        return Err(api::forbidden(
            "a county commission lists its villages under 提级监督",
        ));
    }
    let input: NewListingBody = jiandu_guest::schema!("elevated-listing.json").parse(input)?;
    let village = caller
        .tree
        .get(&input.village)
        .filter(|o| o.kind == OrgKind::Village && caller.tree.is_within(&o.id, caller.org()));
    if village.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/village",
            format!(
                "`{}` is not a village under {}",
                input.village,
                caller.org()
            ),
        ));
    }
    input.period.check()?;
    let at = clock::rfc3339(clock::now());
    let listing = NewListing {
        village: &input.village,
        county: caller.org(),
        starts_on: &input.period.from,
        ends_on: &input.period.to,
        reason: &input.reason,
        by: &caller.claims.sub,
        at: &at,
    };
    let object = format!("village:{}", input.village);
    let id = audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::ElevatedList, &object),
        async || store::insert_listing(db, &listing).await,
    )
    .await?;
    let Some(id) = id else {
        return Err(api::conflict(
            "the village",
            "listed already",
            &["unlist it first"],
        ));
    };
    let stored = store::listing(db, id)
        .await?
        .ok_or_else(|| ApiError::internal("a listing just written is missing"))?;
    let today = clock::china_date(clock::now()).to_string();
    Ok(api::json(
        StatusCode::CREATED,
        &listing_json(&caller, &stored, &today),
    ))
}

#[derive(Deserialize)]
struct Unlisting {
    reason: String,
}

/// `POST /api/v1/elevated-villages/{id}/unlist`: the head of the county
/// commission that made a listing ends it, with a reason.
pub(crate) async fn unlist(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let listing = match id.parse::<i64>() {
        Ok(id) => store::listing(db, id).await?,
        Err(_) => None,
    }
    .filter(|l| caller.watches(&l.village))
    .ok_or_else(|| staff::hidden("listing"))?;
    if listing.county != caller.org() {
        return Err(api::forbidden(format!(
            "only {} ends this listing",
            listing.county
        )));
    }
    require_commission(&caller, LISTERS)?;
    let input: Unlisting = jiandu_guest::schema!("unlisting.json").parse(input)?;
    let at = clock::rfc3339(clock::now());
    let object = format!("village:{}", listing.village);
    let ended = audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::ElevatedUnlist, &object),
        async || {
            let ended = store::unlist(db, listing.id, &caller.claims.sub, &input.reason, &at);
            Ok(ended.await?.then_some(()))
        },
    )
    .await?;
    if ended.is_none() {
        return Err(api::conflict("the listing", "unlisted", &[]));
    }
    let stored = store::listing(db, listing.id)
        .await?
        .ok_or_else(|| ApiError::internal("a listing just unlisted is missing"))?;
    let today = clock::china_date(clock::now()).to_string();
    Ok(api::json(
        StatusCode::OK,
        &listing_json(&caller, &stored, &today),
    ))
}
