//! Staff reads of a report: `GET /api/v1/reports/{id}` and
//! `POST /api/v1/reports/{id}/identity-views`. Each read — and each refusal —
//! is in the audit log before the answer leaves.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::org::Role;
use jiandu_guest::api::{self, ApiError, Reply};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, Row};
use jiandu_guest::schema::Schema;
use jiandu_guest::seal::ReportPart;
use jiandu_guest::staff::{self, Staff};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, StatusCode};

use crate::store;

/// Roles of the holding commission that read its reports before any task
/// names them: 信访室 receives every report, the head answers for all.
const HOLDER_READERS: &[Role] = &[Role::Petitions, Role::Head];

/// Roles of the reading commission that may view a reporter's identity.
const IDENTITY_READERS: &[Role] = &[Role::Petitions, Role::Head];

#[derive(Deserialize)]
struct IdentityViewRequest {
    reason: String,
}

fn identity_view_schema() -> &'static Schema {
    jiandu_guest::schema!("identity-view.json")
}

/// Whether a role of the holding org is withheld from this report (回避:
/// a report about that org's head).
fn withheld(caller: &Staff, tasks: &[Row]) -> bool {
    tasks.iter().any(|t| {
        t.str("assignee_org") == caller.org()
            && t.text("withheld_from")
                .and_then(Role::parse)
                .is_some_and(|r| caller.claims.holds(r))
    })
}

/// Why the caller may not read the report, if they may not: 404 for an org
/// with no part in it, 403 for a role of the holder that has none.
fn refusal(caller: &Staff, report: &Row, tasks: &[Row]) -> Option<ApiError> {
    if withheld(caller, tasks) {
        return Some(forbidden(
            "this report concerns a person your role must stand aside from (回避)",
        ));
    }
    let holder = caller.org() == report.str("org");
    if (holder && caller.claims.holds_any(HOLDER_READERS))
        || tasks.iter().any(|t| caller.may_see_task(t))
    {
        return None;
    }
    Some(if holder {
        forbidden("your role has no task about this report")
    } else {
        staff::hidden("report")
    })
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "", message)
}

/// Loads a report for `caller`, recording a refusal in the audit log.
async fn readable(
    db: &Db,
    caller: &Staff,
    id: &str,
    action: AuditAction,
) -> Result<(Row, Vec<Row>), ApiError> {
    let object = format!("report:{id}");
    let Some(report) = store::report(db, id).await? else {
        return Err(staff::hidden("report"));
    };
    let tasks = store::tasks_about(db, id).await?;
    match refusal(caller, &report, &tasks) {
        Some(error) => Err(audit::refuse(db, caller, action, &object, error).await),
        None => Ok((report, tasks)),
    }
}

/// `GET /api/v1/reports/{id}`.
pub(crate) async fn show(req: Request, id: &str) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let (report, _) = readable(&db, &caller, id, AuditAction::ReportRead).await?;
    let (subject, content, attachments) = match report.blob("content_sealed") {
        Some(sealed) => {
            let value = open_json(sealed, ReportPart::Content, id).await?;
            (
                value["subject"].clone(),
                value["content"].clone(),
                value["attachments"].clone(),
            )
        }
        None => (
            parse(report.str("subject")),
            json!(report.str("content")),
            parse(report.str("attachments")),
        ),
    };
    let mut body = json!({
        "id": id,
        "org": report.str("org"),
        "real_name": report.flag("real_name"),
        "category": report.str("category"),
        "division_code": report.str("division_code"),
        "subject": subject,
        "content": content,
        "attachments": attachments,
        "status": report.str("status"),
        "received_at": report.str("received_at"),
        "sealed_to": report.text("sealed_to"),
        "timeline": store::timeline(&db, id).await?,
    });
    if let Some(due) = report.text("acceptance_due") {
        body["acceptance_due"] = json!({
            "date": due,
            "article": jiandu_domain::deadline::ACCEPTANCE_NOTICE.article,
            "estimated": report.flag("due_estimated"),
        });
    }
    let object = format!("report:{id}");
    audit::record(&db, &caller, Act::done(AuditAction::ReportRead, &object)).await?;
    Ok(api::json(StatusCode::OK, &body))
}

/// `POST /api/v1/reports/{id}/identity-views`: the identity, for the
/// reading commission's 信访室 and head, with a stated reason that the audit
/// log keeps. Nothing of the identity is stored for a retry: each call is a
/// new, audited view.
pub(crate) async fn view_identity(req: Request, id: &str) -> Result<Reply, ApiError> {
    let db = Db::open().await?;
    let caller = staff::caller(&req, &db).await?;
    let action = AuditAction::IdentityView;
    let object = format!("report:{id}");
    let (report, tasks) = readable(&db, &caller, id, action).await?;
    let reader = report.text("sealed_to").unwrap_or(report.str("org"));
    let may_view = caller.org() == reader
        && caller.claims.holds_any(IDENTITY_READERS)
        && !withheld(&caller, &tasks);
    if !may_view {
        let error = forbidden(
            "only the 信访室 or the head of the commission the identity is sealed to may view it",
        );
        return Err(audit::refuse(&db, &caller, action, &object, error).await);
    }
    let input: IdentityViewRequest = identity_view_schema().parse(api::read_json(req).await?.0)?;
    let Some(sealed) = report.blob("identity_sealed") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            "this report is anonymous: there is no identity to view",
        ));
    };
    let identity = open_json(sealed, ReportPart::Identity, id).await?;
    let act = Act::done(action, &object).detail(Some(&input.reason));
    audit::record(&db, &caller, act).await?;
    eprintln!(
        "identity of report {id} viewed (request {})",
        caller.request_id
    );
    Ok(api::json(
        StatusCode::OK,
        &json!({
            "report_id": id,
            "identity": identity,
            "viewed_by": caller.claims.sub,
            "reason": input.reason,
        }),
    ))
}

/// Opens a sealed part of report `id` as JSON; a part no reader key opens is
/// a 500 whose cause is logged (never its content).
async fn open_json(
    sealed: &[u8],
    part: ReportPart,
    id: &str,
) -> Result<serde_json::Value, ApiError> {
    let keys = crate::reader_keys().await?;
    let opened = keys
        .open(sealed, &part.context(id))
        .ok_or_else(|| ApiError::internal(format!("no reader key opens report {id}'s {part:?}")))?;
    serde_json::from_slice(&opened.plaintext)
        .map_err(|e| ApiError::internal(format!("report {id}'s sealed {part:?}: {e}")))
}

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}
