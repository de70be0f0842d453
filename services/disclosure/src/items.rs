//! A division's own items: published, corrected (a new revision with its
//! reason, the earlier ones kept) or withdrawn (with its reason) by the
//! division's staff or head. Every write commits with its audit entry.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::disclosure::{ItemKind, ItemState, Period};
use jiandu_guest::api::{self, ApiError, Reply, conflict, forbidden};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::Staff;
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::StatusCode;

use crate::public;
use crate::store::{self, Item, Revision};

#[derive(Deserialize)]
struct Publication {
    kind: String,
    period: String,
    title: String,
    body: String,
    #[serde(default)]
    amounts: Vec<Value>,
    #[serde(default)]
    attachments: Vec<Value>,
}

#[derive(Deserialize)]
struct Correction {
    reason: String,
    period: Option<String>,
    title: Option<String>,
    body: Option<String>,
    amounts: Option<Vec<Value>>,
    attachments: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct Withdrawal {
    reason: String,
}

/// 422 naming `pointer`.
fn unprocessable(pointer: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, pointer, message)
}

/// The period a body names, or the 422 that says what one looks like.
fn period(text: &str) -> Result<String, ApiError> {
    Period::parse("/period", text)
        .map(|p| p.as_str().to_owned())
        .map_err(|e| unprocessable(&e.pointer, e.message))
}

/// `POST /api/v1/disclosure/items`: publishes an item of the caller's own org.
pub(crate) async fn publish(input: Value, caller: Staff, db: &Db) -> Result<Reply, ApiError> {
    let input: Publication = jiandu_guest::schema!("disclosure-item-new.json").parse(input)?;
    let kind = ItemKind::parse(&input.kind)
        .ok_or_else(|| unprocessable("/kind", "is not a disclosure kind"))?;
    let id = new_id("DI");
    let first = Revision {
        revision: 1,
        title: input.title.trim().to_owned(),
        period: period(&input.period)?,
        amounts: Value::from(input.amounts).to_string(),
        body: input.body,
        attachments: Value::from(input.attachments).to_string(),
        reason: None,
        by: caller.claims.sub.clone(),
        at: clock::rfc3339(clock::now()),
    };
    let object = format!("disclosure_item:{id}");
    let division = caller.org().to_owned();
    audit::audited(
        db,
        &caller,
        Act::done(AuditAction::DisclosurePublish, &object),
        async || store::insert_item(db, &id, &division, kind.as_str(), &first).await,
    )
    .await?;
    eprintln!("item {id} ({kind}) published by {division}");
    shown(db, &id, StatusCode::CREATED).await
}

/// The item `id` for `action` by its division's own staff: 404 if there is
/// none; for anyone else's, 403, recorded in the audit log.
async fn own_item(
    db: &Db,
    caller: &Staff,
    id: &str,
    action: AuditAction,
) -> Result<Item, ApiError> {
    let item = store::item(db, id)
        .await?
        .ok_or_else(|| public::no_item(id))?;
    if item.division != caller.org() {
        let error = forbidden(format!(
            "the item is {}'s; only its own staff may change it",
            item.division
        ));
        let object = format!("disclosure_item:{id}");
        return Err(audit::refuse(db, caller, action, &object, error).await);
    }
    Ok(item)
}

/// 409 unless the item is still published.
fn still_published(item: &Item) -> Result<(), ApiError> {
    if item.state == ItemState::Published.as_str() {
        Ok(())
    } else {
        Err(conflict("the item", &item.state, &[]))
    }
}

/// `POST /api/v1/disclosure/items/{id}/corrections`: a new revision with
/// its reason; what it does not name stays as it was.
pub(crate) async fn correct(
    input: Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let item = own_item(db, &caller, id, AuditAction::DisclosureCorrect).await?;
    let input: Correction = jiandu_guest::schema!("disclosure-correction.json").parse(input)?;
    still_published(&item)?;
    let latest = store::revisions(db, id)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(format!("item {id} has no revision")))?;
    let next = Revision {
        revision: latest.revision + 1,
        title: input.title.map_or(latest.title, |t| t.trim().to_owned()),
        period: match input.period {
            Some(p) => period(&p)?,
            None => latest.period,
        },
        amounts: input
            .amounts
            .map_or(latest.amounts, |a| Value::from(a).to_string()),
        body: input.body.unwrap_or(latest.body),
        attachments: input
            .attachments
            .map_or(latest.attachments, |a| Value::from(a).to_string()),
        reason: Some(input.reason.trim().to_owned()),
        by: caller.claims.sub.clone(),
        at: clock::rfc3339(clock::now()),
    };
    let object = format!("disclosure_item:{id}");
    let detail = format!("revision {}", next.revision);
    let moved = audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::DisclosureCorrect, &object).detail(Some(&detail)),
        async || Ok(store::correct(db, id, &next).await?.then_some(())),
    )
    .await?;
    if moved.is_none() {
        // Withdrawn or corrected by someone else since it was read.
        return Err(conflict("the item", "changed meanwhile", &[]));
    }
    eprintln!("item {id} corrected to revision {}", next.revision);
    shown(db, id, StatusCode::CREATED).await
}

/// `POST /api/v1/disclosure/items/{id}/withdrawal`: takes the item down,
/// with its reason; it stays readable as withdrawn.
pub(crate) async fn withdraw(
    input: Value,
    caller: Staff,
    db: &Db,
    id: &str,
) -> Result<Reply, ApiError> {
    let item = own_item(db, &caller, id, AuditAction::DisclosureWithdraw).await?;
    let input: Withdrawal = jiandu_guest::schema!("disclosure-withdrawal.json").parse(input)?;
    still_published(&item)?;
    let at = clock::rfc3339(clock::now());
    let object = format!("disclosure_item:{id}");
    let reason = input.reason.trim().to_owned();
    let moved = audit::audited_if(
        db,
        &caller,
        Act::done(AuditAction::DisclosureWithdraw, &object),
        async || {
            Ok(store::withdraw(db, id, &reason, &caller.claims.sub, &at)
                .await?
                .then_some(()))
        },
    )
    .await?;
    if moved.is_none() {
        return Err(conflict("the item", ItemState::Withdrawn.as_str(), &[]));
    }
    eprintln!("item {id} withdrawn");
    shown(db, id, StatusCode::OK).await
}

/// The item as the public reads it, answered with `status`.
async fn shown(db: &Db, id: &str, status: StatusCode) -> Result<Reply, ApiError> {
    let body = public::item_body(db, id, 0).await?;
    Ok(api::json(status, &json!(body)))
}
