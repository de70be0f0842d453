//! The demo issuer that `cargo xtask up` runs: one Ed25519 key per
//! commission of the org tree, kept in `data/issuers/<org>.key` (0600), each
//! trusted for its commission's subtree. `jiandu trust-list` prints the
//! trust list for the `trust_list` variable; `jiandu token` mints a token.
//! Any OIDC provider can take its place by putting its JWKS on the list.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use jiandu_domain::org::{OrgKind, OrgTree};
use jiandu_guest::auth::mint::Signer;
use jiandu_guest::auth::{DEFAULT_AUDIENCE, DEFAULT_MAX_LIFETIME_SECS, Issuer, Jwks, TrustList};

/// The keys of the demo issuers, one file per commission.
#[derive(Debug, Clone)]
pub struct DemoIssuers {
    dir: PathBuf,
}

impl DemoIssuers {
    /// Issuers whose keys live in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The `iss` of commission `org`'s demo issuer.
    pub fn iss(org: &str) -> String {
        format!("jiandu-demo:{org}")
    }

    /// The signer of commission `org`, creating its key on first use.
    pub fn signer(&self, org: &str) -> anyhow::Result<Signer> {
        let seed = crate::keyfile::read_or_create(&self.dir.join(format!("{org}.key")))?;
        Ok(Signer::from_seed(&Self::iss(org), seed))
    }

    /// The trust list: every commission's issuer, for its subtree.
    pub fn trust_list(&self, tree: &OrgTree) -> anyhow::Result<TrustList> {
        let issuers = tree
            .iter()
            .filter(|o| o.kind == OrgKind::Commission)
            .map(|o| {
                Ok(Issuer {
                    iss: Self::iss(&o.id),
                    orgs: vec![o.id.clone()],
                    jwks: Jwks {
                        keys: vec![self.signer(&o.id)?.jwk()],
                    },
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(TrustList {
            audience: DEFAULT_AUDIENCE.to_owned(),
            max_lifetime_secs: DEFAULT_MAX_LIFETIME_SECS,
            issuers,
        })
    }

    /// The signer that speaks for `org`: the issuer of the nearest commission
    /// at or above it.
    pub fn signer_for(&self, tree: &OrgTree, org: &str) -> anyhow::Result<Signer> {
        let Some(found) = tree.get(org) else {
            bail!("the org tree has no org `{org}`");
        };
        let commission = std::iter::once(found)
            .chain(tree.ancestors(org))
            .find(|o| o.kind == OrgKind::Commission)
            .with_context(|| format!("no commission at or above `{org}` issues its tokens"))?;
        self.signer(&commission.id)
    }
}
