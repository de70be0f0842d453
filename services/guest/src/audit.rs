//! Writing the audit log (审计): one entry per staff action or read,
//! chained to the one before by its hash (`jiandu_domain::audit`).
//!
//! A write's entry goes into the write's own transaction ([`append`]); a
//! read or a refusal gets a transaction of its own ([`record`]) that commits
//! before the answer leaves.

use jiandu_domain::audit::{AuditAction, AuditOutcome, Entry, GENESIS};

use crate::api::ApiError;
use crate::clock;
use crate::db::{Db, DbError};
use crate::staff::Staff;
use crate::store;

/// What is being done to what.
pub struct Act<'a> {
    /// The action.
    pub action: AuditAction,
    /// The object, e.g. `report:rpt_…`.
    pub object: &'a str,
    /// Done or refused.
    pub outcome: AuditOutcome,
    /// A stated reason or short detail; never a reporter's identity.
    pub detail: Option<&'a str>,
}

impl<'a> Act<'a> {
    /// An action on `object` that was done.
    pub fn done(action: AuditAction, object: &'a str) -> Self {
        Self {
            action,
            object,
            outcome: AuditOutcome::Done,
            detail: None,
        }
    }

    /// With a stated reason or short detail.
    pub fn detail(self, detail: Option<&'a str>) -> Self {
        Self { detail, ..self }
    }
}

/// Appends an entry inside the caller's open write transaction, and
/// reserves the request's `Idempotency-Key` with it.
pub async fn append(db: &Db, staff: &Staff, act: Act<'_>) -> Result<(), DbError> {
    let last = store::last_audit_entry(db).await?;
    let (seq, prev_hash) = match last {
        Some(row) => (
            row.int("seq").unwrap_or_default(),
            row.blob("hash")
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .unwrap_or(GENESIS),
        ),
        None => (0, GENESIS),
    };
    let roles: Vec<&str> = staff.claims.roles.iter().map(|r| r.as_str()).collect();
    let entry = Entry {
        seq: seq + 1,
        at: clock::rfc3339(clock::now()),
        actor: staff.claims.sub.clone(),
        actor_org: staff.claims.org.clone(),
        actor_roles: roles.join(","),
        action: act.action.as_str().to_owned(),
        object: act.object.to_owned(),
        request_id: staff.request_id.clone(),
        outcome: act.outcome.as_str().to_owned(),
        detail: act.detail.map(str::to_owned),
        prev_hash,
    };
    if let Some(claim) = staff
        .idempotency
        .as_ref()
        .filter(|_| act.outcome == AuditOutcome::Done)
    {
        crate::idempotency::reserve(db, claim, &entry.at).await?;
    }
    let hash = entry.hash();
    store::append_audit_entry(db, entry, hash).await
}

/// Runs `write` and appends its entry in one transaction: both commit or
/// neither does.
pub async fn audited<T>(
    db: &Db,
    staff: &Staff,
    act: Act<'_>,
    write: impl AsyncFnOnce() -> Result<T, DbError>,
) -> Result<T, ApiError> {
    db.begin().await?;
    let result = async {
        let value = write().await?;
        append(db, staff, act).await?;
        db.commit().await?;
        Ok::<_, DbError>(value)
    }
    .await;
    if result.is_err() {
        db.rollback().await;
    }
    result.map_err(ApiError::from)
}

/// Like [`audited`], but a write that finds nothing to do (`None`, e.g. a
/// row already in the state it would set) rolls back and records nothing.
pub async fn audited_if<T>(
    db: &Db,
    staff: &Staff,
    act: Act<'_>,
    write: impl AsyncFnOnce() -> Result<Option<T>, DbError>,
) -> Result<Option<T>, ApiError> {
    db.begin().await?;
    let result = async {
        let Some(value) = write().await? else {
            return Ok(None);
        };
        append(db, staff, act).await?;
        db.commit().await?;
        Ok::<_, DbError>(Some(value))
    }
    .await;
    if !matches!(result, Ok(Some(_))) {
        db.rollback().await;
    }
    result.map_err(ApiError::from)
}

/// Records an entry in a transaction of its own and commits it; an answer
/// that depends on it must not leave before this returns.
pub async fn record(db: &Db, staff: &Staff, act: Act<'_>) -> Result<(), ApiError> {
    audited(db, staff, act, async || Ok(())).await
}

/// Records a refusal, then returns `error` (a 403) for the caller to answer.
pub async fn refuse(
    db: &Db,
    staff: &Staff,
    action: AuditAction,
    object: &str,
    error: ApiError,
) -> ApiError {
    let act = Act {
        outcome: AuditOutcome::Denied,
        ..Act::done(action, object).detail(Some(error.message()))
    };
    match record(db, staff, act).await {
        Ok(()) => error,
        Err(failed) => failed,
    }
}
