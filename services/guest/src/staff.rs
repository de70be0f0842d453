//! A staff request's caller: the verified token and the org tree it was
//! checked against.

use std::sync::{Arc, OnceLock};

use jiandu_domain::org::{OrgTree, Relation, Role};
use spin_sdk::http::{Request, StatusCode};

use crate::api::ApiError;
use crate::auth::{self, Claims, TrustList};
use crate::db::Db;
use crate::{clock, orgs};

/// Who is calling, and the tree their org sits in.
pub struct Staff {
    /// The verified claims.
    pub claims: Claims,
    /// The org tree the token was checked against.
    pub tree: Arc<OrgTree>,
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

    /// Where `org` stands as seen from the caller's org.
    pub fn relation(&self, org: &str) -> Relation {
        self.tree.relation(self.org(), org)
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
    if let Some(trust) = TRUST.get() {
        return Ok(trust);
    }
    let text = spin_sdk::variables::get("trust_list")
        .await
        .map_err(|e| ApiError::internal(format!("trust_list variable: {e:?}")))?;
    let trust = TrustList::from_json(&text).map_err(ApiError::internal)?;
    Ok(TRUST.get_or_init(|| trust))
}

/// The verified caller of `req`, or 401 saying what is wrong with the token.
pub async fn caller(req: &Request, db: &Db) -> Result<Staff, ApiError> {
    let token = auth::bearer(req)?;
    let trust = trust_list().await?;
    let tree = orgs::tree(db).await?;
    let claims = trust
        .verify(token, clock::now().unix_timestamp(), &tree)
        .map_err(|e| auth::unauthorized(e.to_string()))?;
    Ok(Staff { claims, tree })
}

/// 404 for an object of an org the caller may not see.
pub fn hidden(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "", format!("no such {what}"))
}
