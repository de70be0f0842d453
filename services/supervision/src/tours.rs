//! 巡察 — inspection tours: a commission's group visits targets under it for
//! a period and records the problems it finds; its feedback to each target
//! lists that target's problems.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::OrgKind;
use jiandu_domain::supervision::ProblemSource;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::{self, Staff};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::problems::{self, holder_acts};
use crate::store::{self, NewProblem, NewTour, Tour};
use crate::{SUPERVISORS, require_commission};

/// The kinds of org a tour inspects and a problem may be owned by.
const INSPECTED: &[OrgKind] = &[OrgKind::Village, OrgKind::Township, OrgKind::Department];

/// A period of days, both included.
#[derive(Deserialize)]
pub(crate) struct Period {
    pub(crate) from: String,
    pub(crate) to: String,
}

impl Period {
    /// 422 unless it ends on or after it starts.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        if self.to < self.from {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "/period/to",
                "the period ends on or after it starts",
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct NewTourBody {
    name: String,
    leader: String,
    members: Vec<String>,
    period: Period,
    targets: Vec<String>,
}

/// 422 at `pointer` unless `org` is a village, township or department under `root`.
pub(crate) fn inspected_org(
    caller: &Staff,
    root: &str,
    org: &str,
    pointer: &str,
) -> Result<(), ApiError> {
    let ok = caller.tree.is_within(org, root)
        && caller
            .tree
            .get(org)
            .is_some_and(|o| INSPECTED.contains(&o.kind));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            pointer,
            format!("`{org}` is not a village, township or department under {root}"),
        ))
    }
}

/// `POST /api/v1/tours`: the head or 监督检查室 of a commission starts a tour
/// of orgs under it.
pub(crate) async fn create(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    require_commission(&caller, SUPERVISORS)?;
    let input: NewTourBody = jiandu_guest::schema!("tour.json").parse(input)?;
    input.period.check()?;
    for (i, target) in input.targets.iter().enumerate() {
        inspected_org(&caller, caller.org(), target, &format!("/targets/{i}"))?;
    }
    let id = new_id("T");
    let at = clock::rfc3339(clock::now());
    let tour = NewTour {
        id: &id,
        org: caller.org(),
        name: &input.name,
        leader: &input.leader,
        members: &input.members,
        starts_on: &input.period.from,
        ends_on: &input.period.to,
        targets: &input.targets,
        by: &caller.claims.sub,
        at: &at,
    };
    let object = format!("tour:{id}");
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::TourCreate, &object),
        async || store::insert_tour(db, &tour).await,
    )
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({ "id": id, "org": caller.org(), "created_at": at }),
    ))
}

/// The tour `id` if the caller may watch its commission, else 404.
async fn visible(db: &Db, caller: &Staff, id: &str) -> Result<Tour, ApiError> {
    store::tour(db, id)
        .await?
        .filter(|t| caller.watches(&t.org))
        .ok_or_else(|| staff::hidden("tour"))
}

/// `GET /api/v1/tours/{id}`: the tour and its feedback, each target's problems.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let tour = visible(db, caller, id).await?;
    let problems = store::problems_found(db, store::FoundBy::Tour(id)).await?;
    let feedback: Vec<_> = tour
        .targets
        .iter()
        .map(|target| {
            let found: Vec<_> = problems
                .iter()
                .filter(|p| &p.target == target)
                .map(|p| {
                    json!({
                        "id": p.id,
                        "category": p.category,
                        "description": p.description,
                        "responsible_org": p.responsible_org,
                        "state": p.state,
                        "clue_id": p.clue_id,
                        "link": format!("/api/v1/problems/{}", p.id),
                    })
                })
                .collect();
            json!({
                "org": target,
                "org_name": caller.tree.get(target).map(|o| o.name.as_str()),
                "problems": found,
            })
        })
        .collect();
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": tour.id,
            "org": tour.org,
            "name": tour.name,
            "leader": tour.leader,
            "members": tour.members,
            "period": { "from": tour.starts_on, "to": tour.ends_on },
            "created_at": tour.created_at,
            "targets": feedback,
        }),
    ))
}

#[derive(Deserialize)]
struct NewProblemBody {
    target: String,
    responsible_org: String,
    category: String,
    description: String,
    #[serde(default)]
    evidence: Vec<String>,
}

/// `POST /api/v1/tours/{id}/problems`: the tour's commission records a
/// problem found at one of its targets, and the org responsible for it.
pub(crate) async fn record_problem(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    tour_id: &str,
) -> Result<Reply, ApiError> {
    let tour = visible(db, &caller, tour_id).await?;
    holder_acts(&caller, &tour.org, "records this tour's problems")?;
    let input: NewProblemBody = jiandu_guest::schema!("tour-problem.json").parse(input)?;
    if !tour.targets.contains(&input.target) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/target",
            format!("`{}` is not a target of this tour", input.target),
        ));
    }
    inspected_org(
        &caller,
        &tour.org,
        &input.responsible_org,
        "/responsible_org",
    )?;
    let problem = NewProblem {
        source: ProblemSource::InspectionTour.as_str(),
        tour_id: Some(tour_id),
        campaign_id: None,
        source_ref: None,
        target: &input.target,
        org: &tour.org,
        responsible_org: &input.responsible_org,
        category: &input.category,
        description: &input.description,
        recommendation: None,
        evidence: &input.evidence,
    };
    problems::record(db, &caller, &problem).await
}
