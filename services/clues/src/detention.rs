//! 留置 requests, extensions, change requests and release (监察法 Art. 47–50).

use jiandu_domain::audit::AuditAction;
use jiandu_domain::clue::{ClueAction, DETAIN, Matter};
use jiandu_domain::detention::next_extension;
use jiandu_domain::flow::{
    DETENTION_WORKFLOW, DetentionRequested, EventKind, FlowEvent, detention_workflow_id,
};
use jiandu_domain::org::Role;
use jiandu_domain::step::DetentionState;
use jiandu_guest::api::{ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::Db;
use jiandu_guest::staff::Staff;
use jiandu_guest::{clock, outbox};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::StatusCode;

use crate::clues::{allow, check_decision, own};
use crate::{accepted, conflict, new_id, store};

/// Who may ask for, extend or end a detention.
const HANDLERS: &[Role] = &[Role::Investigation, Role::Head];

#[derive(Deserialize)]
struct DetentionRequest {
    decision_id: String,
}

/// `POST /api/v1/clues/{id}/detention`: requests 留置 on a collective
/// decision to detain; it takes effect only once the head of the
/// next-higher commission — someone other than the requester — approves.
pub(crate) async fn request(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let clue = own(db, &caller, id, HANDLERS).await?;
    let schema = jiandu_guest::schema!("detention-request.json");
    let input: DetentionRequest = schema.parse(input)?;
    allow(&clue, ClueAction::RequestDetention)?;
    check_decision(db, id, &input.decision_id, Matter::Detention, DETAIN).await?;
    let existing = store::detention(db, id).await?;
    if let Some(row) = existing {
        return Err(conflict("the detention", row.str("state"), &[]));
    }
    let at = clock::rfc3339(clock::now());
    let workflow_id = detention_workflow_id(id);
    let started = DetentionRequested {
        clue_id: id.to_owned(),
        decision_id: input.decision_id.clone(),
        requested_at: at.clone(),
        org: clue.org.clone(),
        requested_by: caller.claims.sub.clone(),
    };
    let state = DetentionState::PendingApproval.as_str();
    db.begin().await?;
    let written = async {
        store::insert_detention(db, id, &input.decision_id, state, &at, &caller.claims.sub).await?;
        outbox::start_workflow(db, DETENTION_WORKFLOW, &workflow_id, &started, &at).await?;
        let object = format!("clue:{id}");
        audit::append(
            db,
            &caller,
            Act::done(AuditAction::DetentionRequest, &object),
        )
        .await?;
        db.commit().await
    }
    .await;
    if let Err(e) = written {
        db.rollback().await;
        return Err(e.into());
    }
    let higher = caller
        .tree
        .higher_commission(&clue.org)
        .map(|o| o.id.clone());
    Ok(accepted(json!({
        "clue_id": id,
        "state": state,
        "approver": higher,
        "needs": "approval by the head of the next-higher commission (监察法 Art. 47)",
    })))
}

/// The number of extensions granted to the clue's detention, which must be
/// in effect (else 409); the clue must be the caller's commission's.
async fn in_effect(db: &Db, caller: &Staff, id: &str) -> Result<u32, ApiError> {
    own(db, caller, id, HANDLERS).await?;
    let detention = store::detention(db, id).await?;
    let row = detention
        .ok_or_else(|| conflict("the clue", "without a detention", &["request_detention"]))?;
    if row.str("state") != DetentionState::InEffect.as_str() {
        return Err(conflict("the detention", row.str("state"), &[]));
    }
    Ok(row.int("extensions").unwrap_or_default() as u32)
}

#[derive(Deserialize)]
struct Extension {
    /// JSON Schema's `integer` admits `2.0`; so does this.
    #[serde(deserialize_with = "jiandu_domain::wire::whole_number")]
    months: u32,
    reason: String,
}

/// `POST /api/v1/clues/{id}/detention/extensions`: asks for an extension
/// (监察法 Art. 48); the approver depends on how many were granted.
pub(crate) async fn extend(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let granted = in_effect(db, &caller, id).await?;
    let schema = jiandu_guest::schema!("extension.json");
    let input: Extension = schema.parse(input)?;
    let rule = next_extension(granted).map_err(|why| {
        conflict(
            "the detention",
            &format!("in_effect, extended {granted} times"),
            &[why],
        )
    })?;
    if input.months > rule.max_months {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "/months",
            format!("at most {} months ({})", rule.max_months, rule.article),
        ));
    }
    signal(
        db,
        &caller,
        id,
        EventKind::ExtensionRequested {
            months: input.months,
            reason: input.reason,
            by: caller.claims.sub.clone(),
        },
        json!({ "approver": rule.approver.as_str(), "article": rule.article }),
    )
    .await
}

#[derive(Deserialize)]
struct Release {
    reason: String,
}

/// `POST /api/v1/clues/{id}/detention/release`: 解除留置; every timer ends.
pub(crate) async fn release(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    in_effect(db, &caller, id).await?;
    let schema = jiandu_guest::schema!("release.json");
    let input: Release = schema.parse(input)?;
    signal(
        db,
        &caller,
        id,
        EventKind::Released {
            reason: input.reason,
            by: caller.claims.sub.clone(),
        },
        json!({}),
    )
    .await
}

#[derive(Deserialize)]
struct Change {
    reason: String,
}

/// `POST /api/v1/clues/{id}/detention/change-requests`: a request to change
/// the measure, answered within 3 days (监察法 Art. 50) by the head — never
/// by the one who asked.
pub(crate) async fn change(
    input: serde_json::Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    in_effect(db, &caller, id).await?;
    let schema = jiandu_guest::schema!("change-request.json");
    let input: Change = schema.parse(input)?;
    signal(
        db,
        &caller,
        id,
        EventKind::ChangeRequested {
            reason: input.reason,
            by: caller.claims.sub.clone(),
        },
        json!({ "answer_due": "within 3 days (监察法 Art. 50)" }),
    )
    .await
}

/// Signals the detention workflow, with the caller's audit entry.
async fn signal(
    db: &Db,
    caller: &Staff,
    clue_id: &str,
    kind: EventKind,
    mut answer: serde_json::Value,
) -> Result<Reply, ApiError> {
    let action = match &kind {
        EventKind::ExtensionRequested { .. } => AuditAction::DetentionExtend,
        EventKind::ChangeRequested { .. } => AuditAction::DetentionChange,
        _ => AuditAction::DetentionRelease,
    };
    let event = FlowEvent {
        key: new_id("E"),
        kind,
    };
    let at = clock::rfc3339(clock::now());
    let object = format!("clue:{clue_id}");
    audit::audited(db, caller, Act::done(action, &object), async || {
        outbox::signal_workflow(
            db,
            DETENTION_WORKFLOW,
            &detention_workflow_id(clue_id),
            &event,
            &at,
        )
        .await
    })
    .await?;
    answer["event"] = json!(event.key);
    answer["clue_id"] = json!(clue_id);
    if answer.get("status").is_none() {
        answer["status"] = json!("accepted");
    }
    Ok(accepted(answer))
}
