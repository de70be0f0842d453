//! A staff request's caller: the verified token and the org tree it was
//! checked against.

use std::sync::{Arc, OnceLock};

use jiandu_domain::org::{OrgTree, Relation, Role};
use spin_sdk::http::{Request, StatusCode};

use crate::api::ApiError;
use crate::auth::{self, Claims, TrustList};
use crate::db::{Db, Row};
use crate::{clock, orgs};

/// Who is calling, and the tree their org sits in.
pub struct Staff {
    /// The verified claims.
    pub claims: Claims,
    /// The org tree the token was checked against.
    pub tree: Arc<OrgTree>,
    /// The request's id: the host's `x-request-id`, else one made here.
    pub request_id: String,
    /// The write's `Idempotency-Key`, reserved with its audit entry.
    pub idempotency: Option<crate::idempotency::Claim>,
}

impl Staff {
    /// The caller's org id.
    pub fn org(&self) -> &str {
        &self.claims.org
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        auth::require(&self.claims, roles)
    }

    /// The roles the caller holds, as SQL parameters.
    pub fn role_params(&self) -> Vec<crate::db::Value> {
        self.claims
            .roles
            .iter()
            .map(|r| crate::db::text(r.as_str()))
            .collect()
    }

    /// Where `org` stands as seen from the caller's org.
    pub fn relation(&self, org: &str) -> Relation {
        self.tree.relation(self.org(), org)
    }

    /// Whether the caller may see a task (a row with `assignee_org`,
    /// `assignee_role`, `withheld_from`, `supervised_by`, `elevated_to`): its
    /// assignee and the head of its org (unless it is withheld from the head,
    /// 回避), and the supervisory roles of an org above it or of the org
    /// pressing it or elevated to.
    pub fn may_see_task(&self, task: &Row) -> bool {
        let org = task.str("assignee_org");
        let own = self.org() == org;
        let withheld = task
            .text("withheld_from")
            .and_then(Role::parse)
            .is_some_and(|r| own && self.claims.holds(r));
        if withheld {
            return false;
        }
        let assignee =
            own && Role::parse(task.str("assignee_role")).is_some_and(|r| self.claims.holds(r));
        let head = own && self.claims.holds(Role::Head);
        let supervisory = self.claims.roles.iter().any(|r| r.is_supervisory());
        let above = !own && self.watches(org);
        let escalated = supervisory
            && [task.text("supervised_by"), task.text("elevated_to")].contains(&Some(self.org()));
        assignee || head || above || escalated
    }

    /// Whether the caller may watch `org`'s work: its own org, or one below
    /// it for a supervisory role.
    pub fn watches(&self, org: &str) -> bool {
        match self.relation(org) {
            Relation::Own => true,
            Relation::Below => self.claims.roles.iter().any(|r| r.is_supervisory()),
            Relation::Above | Relation::Elsewhere => false,
        }
    }
}

/// The trust list, read once per instance from the variable `trust_list`.
async fn trust_list() -> Result<&'static TrustList, ApiError> {
    static TRUST: OnceLock<TrustList> = OnceLock::new();
    crate::variables::cached(&TRUST, "trust_list", TrustList::from_json).await
}

/// The verified caller of `req`, or 401 saying what is wrong with the token.
pub async fn caller(req: &Request, db: &Db) -> Result<Staff, ApiError> {
    let token = auth::bearer(req)?;
    let trust = trust_list().await?;
    let tree = orgs::tree(db).await?;
    let claims = trust
        .verify(token, clock::now().unix_timestamp(), &tree)
        .map_err(|e| auth::unauthorized(e.to_string()))?;
    let request_id = crate::api::header(req, "x-request-id")
        .filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(
            || hex::encode(crate::seal::random_bytes::<12>()),
            str::to_owned,
        );
    Ok(Staff {
        claims,
        tree,
        request_id,
        idempotency: None,
    })
}

/// 404 for an object of an org the caller may not see.
pub fn hidden(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "", format!("no such {what}"))
}
