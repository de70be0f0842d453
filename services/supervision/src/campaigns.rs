//! 专项整治 / 联合督导 — campaigns: a commission leads a topic with a lead
//! department and participants under it; each participant's self-inspection,
//! the commission's on-site check and the participant's rectification report
//! run as tasks of the CampaignWorkflow, and the on-site check records
//! problems with recommendations.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{CAMPAIGN_WORKFLOW, CampaignStarted};
use jiandu_domain::org::OrgKind;
use jiandu_domain::supervision::{CampaignKind, ParticipantState, ProblemSource};
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::{self, Staff};
use jiandu_guest::{clock, lateness, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::problems::{self, holder_acts};
use crate::store::{self, Campaign, FoundBy, NewCampaign, NewProblem};
use crate::tours::{Period, inspected_org};
use crate::{SUPERVISORS, require_commission};

#[derive(Deserialize)]
struct Deadlines {
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    self_inspection_days: u32,
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    joint_check_days: u32,
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    rectification_days: u32,
}

#[derive(Deserialize)]
struct NewCampaignBody {
    kind: CampaignKind,
    topic: String,
    lead_department: String,
    participants: Vec<String>,
    period: Period,
    checklist: Vec<String>,
    deadlines: Deadlines,
}

/// `POST /api/v1/campaigns`: the head or 监督检查室 of a commission starts a
/// campaign of departments and townships under it; its workflow opens every
/// participant's self-inspection at once.
pub(crate) async fn create(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
) -> Result<Reply, ApiError> {
    require_commission(&caller, SUPERVISORS)?;
    let input: NewCampaignBody = jiandu_guest::schema!("campaign.json").parse(input)?;
    input.period.check()?;
    let department = caller
        .tree
        .get(&input.lead_department)
        .is_some_and(|o| o.kind == OrgKind::Department);
    if !department || !caller.tree.is_within(&input.lead_department, caller.org()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/lead_department",
            format!(
                "`{}` is not a department under {}",
                input.lead_department,
                caller.org()
            ),
        ));
    }
    for (i, org) in input.participants.iter().enumerate() {
        inspected_org(&caller, caller.org(), org, &format!("/participants/{i}"))?;
    }
    let id = new_id("K");
    let at = clock::rfc3339(clock::now());
    let d = &input.deadlines;
    let campaign = NewCampaign {
        id: &id,
        org: caller.org(),
        kind: input.kind.as_str(),
        topic: &input.topic,
        lead_department: &input.lead_department,
        starts_on: &input.period.from,
        ends_on: &input.period.to,
        checklist: &input.checklist,
        days: [
            d.self_inspection_days,
            d.joint_check_days,
            d.rectification_days,
        ],
        participants: &input.participants,
        first_state: ParticipantState::SelfInspection.as_str(),
        by: &caller.claims.sub,
        at: &at,
    };
    let started = CampaignStarted {
        campaign_id: id.clone(),
        org: caller.org().to_owned(),
        participants: input.participants.clone(),
        self_inspection_days: d.self_inspection_days,
        joint_check_days: d.joint_check_days,
        rectification_days: d.rectification_days,
    };
    let object = format!("campaign:{id}");
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::CampaignCreate, &object),
        async || {
            store::insert_campaign(db, &campaign).await?;
            outbox::start_workflow(db, CAMPAIGN_WORKFLOW, &id, &started, &at).await
        },
    )
    .await?;
    Ok(api::json(
        StatusCode::CREATED,
        &json!({ "id": id, "org": caller.org(), "created_at": at }),
    ))
}

/// The campaign `id` if the caller watches its commission or takes part, else 404.
async fn visible(db: &Db, caller: &Staff, id: &str) -> Result<Campaign, ApiError> {
    store::campaign(db, id)
        .await?
        .filter(|c| {
            caller.watches(&c.org) || c.participants.iter().any(|(org, _)| org == caller.org())
        })
        .ok_or_else(|| staff::hidden("campaign"))
}

/// `GET /api/v1/campaigns/{id}`: the campaign and each participant's
/// progress — its state, its open step and how late that is — and the
/// problems its on-site checks found.
pub(crate) async fn show(caller: &Staff, db: &Db, id: &str) -> Result<Reply, ApiError> {
    let c = visible(db, caller, id).await?;
    let steps = store::campaign_open_steps(db, id).await?;
    let problems = store::problems_found(db, FoundBy::Campaign(id)).await?;
    let now = clock::now();
    let participants: Vec<_> = c
        .participants
        .iter()
        .map(|(org, state)| {
            let subject = jiandu_domain::supervision::participant_id(id, org);
            let open: Vec<_> = steps
                .iter()
                .filter(|t| t.str("subject_id") == subject)
                .map(|t| {
                    json!({
                        "task_id": t.text("id"),
                        "step": t.text("step"),
                        "assignee_org": t.text("assignee_org"),
                        "due_date": t.text("due_date"),
                        "status": t.text("status"),
                        "escalation_level": t.int("escalation_level"),
                        "colour": lateness::colour(t, now),
                        "link": format!("/api/v1/tasks/{}", t.str("id")),
                    })
                })
                .collect();
            json!({
                "org": org,
                "org_name": caller.tree.get(org).map(|o| o.name.as_str()),
                "state": state,
                "open_steps": open,
                "problems": problems.iter().filter(|p| &p.target == org).count(),
            })
        })
        .collect();
    let problems: Vec<_> = problems
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "participant": p.target,
                "category": p.category,
                "description": p.description,
                "recommendation": p.recommendation,
                "state": p.state,
                "link": format!("/api/v1/problems/{}", p.id),
            })
        })
        .collect();
    let [self_inspection, joint_check, rectification] = c.days;
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "id": c.id,
            "org": c.org,
            "kind": c.kind,
            "topic": c.topic,
            "lead_department": c.lead_department,
            "period": { "from": c.starts_on, "to": c.ends_on },
            "checklist": c.checklist,
            "deadlines": {
                "self_inspection_days": self_inspection,
                "joint_check_days": joint_check,
                "rectification_days": rectification,
            },
            "created_at": c.created_at,
            "participants": participants,
            "problems": problems,
        }),
    ))
}

#[derive(Deserialize)]
struct NewProblemBody {
    participant: String,
    category: String,
    description: String,
    recommendation: Option<String>,
    #[serde(default)]
    evidence: Vec<String>,
}

/// `POST /api/v1/campaigns/{id}/problems`: the lead commission records a
/// problem its on-site check found at a participant, with a recommendation;
/// the participant owns it and it is handed over like any other problem.
pub(crate) async fn record_problem(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    campaign_id: &str,
) -> Result<Reply, ApiError> {
    let campaign = visible(db, &caller, campaign_id).await?;
    holder_acts(&caller, &campaign.org, "records this campaign's problems")?;
    let input: NewProblemBody = jiandu_guest::schema!("campaign-problem.json").parse(input)?;
    if !campaign
        .participants
        .iter()
        .any(|(org, _)| *org == input.participant)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/participant",
            format!(
                "`{}` does not take part in this campaign",
                input.participant
            ),
        ));
    }
    let problem = NewProblem {
        source: ProblemSource::Campaign.as_str(),
        tour_id: None,
        campaign_id: Some(campaign_id),
        source_ref: None,
        target: &input.participant,
        org: &campaign.org,
        responsible_org: &input.participant,
        category: &input.category,
        description: &input.description,
        recommendation: input.recommendation.as_deref(),
        evidence: &input.evidence,
    };
    problems::record(db, &caller, &problem).await
}
