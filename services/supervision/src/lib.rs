//! 监督检查 — inspection tours (巡察), the problems they find, their
//! rectification (整改, 回头看) and 提级监督.
//!
//! - `POST /api/v1/tours` — start a tour of orgs under the caller's commission.
//! - `GET /api/v1/tours/{id}` — a tour and its feedback: each target's problems.
//! - `POST /api/v1/tours/{id}/problems` — record a problem found at a target.
//! - `POST /api/v1/problems` — record a problem a report or a clue revealed.
//! - `GET /api/v1/problems/{id}` — a problem, its clue, steps and events.
//! - `POST /api/v1/problems/{id}/rectification` — hand it over to its owner;
//!   its RectificationWorkflow starts.
//! - `POST /api/v1/problems/{id}/more-time` — the owner asks for more time.
//! - `POST /api/v1/campaigns` — start a campaign; its CampaignWorkflow opens
//!   every participant's steps.
//! - `GET /api/v1/campaigns/{id}` — a campaign and each participant's progress.
//! - `POST /api/v1/campaigns/{id}/problems` — record what an on-site check found.
//! - `GET|POST /api/v1/elevated-villages` — the 提级监督 list; list a village.
//! - `POST /api/v1/elevated-villages/{id}/unlist` — end a listing.
//!
//! A problem becomes a clue (巡纪联动) through `POST /api/v1/clues` with its
//! `problem_id`. Every write takes an `Idempotency-Key`, commits with its
//! audit entry and, where a workflow acts on it, its outbox row.

use jiandu_domain::org::{OrgKind, Role};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::db::Db;
use jiandu_guest::idempotency;
use jiandu_guest::staff::{self, Staff};
use serde_json::Value;
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;

mod campaigns;
mod elevated;
mod problems;
mod store;
mod tours;

/// The roles of a commission that run tours and hand problems over.
const SUPERVISORS: &[Role] = &[Role::Head, Role::Supervision];

#[http_service]
async fn handle(req: Request) -> Reply {
    route(req).await.unwrap_or_else(ApiError::into_reply)
}

async fn route(req: Request) -> Result<Reply, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let method = req.method().clone();
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let segments: Vec<&str> = path.split('/').skip(3).collect();
    if method == Method::POST
        && let Some(write) = Write::of(&segments)
    {
        let db = &db;
        return idempotency::staff_post(req, db, caller, &path, async |c, input| {
            write.run(c, db, input).await
        })
        .await;
    }
    match (method, segments.as_slice()) {
        (Method::GET, ["tours", id]) => tours::show(&caller, &db, id).await,
        (Method::GET, ["problems", id]) => problems::show(&caller, &db, id).await,
        (Method::GET, ["campaigns", id]) => campaigns::show(&caller, &db, id).await,
        (Method::GET, ["elevated-villages"]) => elevated::list(&caller, &db, &query).await,
        (_, ["tours", _] | ["problems", _] | ["campaigns", _]) => {
            Err(ApiError::method_not_allowed("GET"))
        }
        (_, ["elevated-villages"]) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, segments) if Write::of(segments).is_some() => Err(ApiError::method_not_allowed("POST")),
        _ => Err(api::no_such_route()),
    }
}

/// The writes (each `POST` with a JSON body, idempotent by `Idempotency-Key`).
enum Write<'p> {
    Tour,
    Problem(&'p str),
    MatterProblem,
    Rectify(&'p str),
    MoreTime(&'p str),
    List,
    Unlist(&'p str),
    Campaign,
    CampaignProblem(&'p str),
}

impl<'p> Write<'p> {
    /// The write a path names, if any.
    fn of(segments: &[&'p str]) -> Option<Self> {
        Some(match *segments {
            ["tours"] => Self::Tour,
            ["tours", id, "problems"] => Self::Problem(id),
            ["problems"] => Self::MatterProblem,
            ["problems", id, "rectification"] => Self::Rectify(id),
            ["problems", id, "more-time"] => Self::MoreTime(id),
            ["elevated-villages"] => Self::List,
            ["elevated-villages", id, "unlist"] => Self::Unlist(id),
            ["campaigns"] => Self::Campaign,
            ["campaigns", id, "problems"] => Self::CampaignProblem(id),
            _ => return None,
        })
    }

    async fn run(self, c: Staff, db: &Db, input: Value) -> Result<Reply, ApiError> {
        match self {
            Self::Tour => tours::create(input, c, db).await,
            Self::Problem(id) => tours::record_problem(input, c, db, id).await,
            Self::MatterProblem => problems::record_from_matter(input, c, db).await,
            Self::Rectify(id) => problems::hand_over(input, c, db, id).await,
            Self::MoreTime(id) => problems::more_time(input, c, db, id).await,
            Self::List => elevated::add(input, c, db).await,
            Self::Unlist(id) => elevated::unlist(input, c, db, id).await,
            Self::Campaign => campaigns::create(input, c, db).await,
            Self::CampaignProblem(id) => campaigns::record_problem(input, c, db, id).await,
        }
    }
}

/// 403 unless the caller holds one of `roles` in a commission.
fn require_commission(caller: &Staff, roles: &[Role]) -> Result<(), ApiError> {
    caller.require(roles)?;
    let commission = caller
        .tree
        .get(caller.org())
        .is_some_and(|o| o.kind == OrgKind::Commission);
    if commission {
        Ok(())
    } else {
        Err(api::forbidden(
            "only a commission (纪委监委) does this; your org is not one",
        ))
    }
}
