//! Who is calling: staff bearer tokens are JWTs (RFC 7519) signed with
//! Ed25519 (`alg: EdDSA`), verified against a **trust list** — each issuer,
//! its public keys (a JWKS) and the subtrees of the org tree it may speak
//! for. A city's issuer cannot mint a province's approval, and a component
//! holds no private key: only public keys reach it, through the secret-free
//! variable `trust_list`.
//!
//! ```json
//! {"audience": "jiandu", "max_lifetime_secs": 43200,
//!  "issuers": [{"iss": "https://idp.370400.example", "orgs": ["370400"],
//!               "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "…"}]}}]}
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use jiandu_domain::org::{OrgTree, Role};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, StatusCode};

use crate::api::{self, ApiError};

/// The audience staff tokens must name unless the trust list says otherwise.
pub const DEFAULT_AUDIENCE: &str = "jiandu";

/// The longest lifetime (`exp - iat`) a token may have unless the trust list says otherwise: 12 hours.
pub const DEFAULT_MAX_LIFETIME_SECS: i64 = 12 * 3600;

/// How far a token's `iat` may lie in the future, for clocks that drift.
const CLOCK_SKEW_SECS: i64 = 60;

/// What a verified token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer.
    pub iss: String,
    /// Who it is: a person's id.
    pub sub: String,
    /// Whom the token is for.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The token's id.
    pub jti: String,
    /// The org the bearer acts for.
    pub org: String,
    /// The positions the bearer holds in that org.
    pub roles: Vec<Role>,
}

impl Claims {
    /// Whether the bearer holds `role`.
    pub fn holds(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the bearer holds any of `roles`.
    pub fn holds_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.holds(*r))
    }
}

/// One public key of an issuer (RFC 8037: an `OKP` key on `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; `OKP`.
    pub kty: String,
    /// Curve; `Ed25519`.
    pub crv: String,
    /// Key id, named by the token's header.
    pub kid: String,
    /// The public key, base64url.
    pub x: String,
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// An issuer the trust list accepts, and what it may speak for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Its `iss`.
    pub iss: String,
    /// The roots of the subtrees whose orgs its tokens may name.
    pub orgs: Vec<String>,
    /// Its public keys.
    pub jwks: Jwks,
}

/// Which issuers may speak for which orgs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// The `aud` every token must carry.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// The longest `exp - iat` accepted.
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime_secs: i64,
    /// The issuers.
    pub issuers: Vec<Issuer>,
}

fn default_audience() -> String {
    DEFAULT_AUDIENCE.to_owned()
}

fn default_max_lifetime() -> i64 {
    DEFAULT_MAX_LIFETIME_SECS
}

/// Why a token was refused; every case is a 401 whose message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    Malformed(&'static str),
    /// The header's `alg` is not `EdDSA`.
    Algorithm(String),
    /// No trusted issuer has this `iss`.
    UnknownIssuer(String),
    /// The issuer has no key with this `kid`.
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
    /// `aud` is not this service's.
    Audience(String),
    /// Past `exp`.
    Expired,
    /// `iat` lies in the future.
    IssuedInFuture,
    /// `exp - iat` is longer than allowed.
    TooLong(i64),
    /// The token names an org the tree does not have.
    UnknownOrg(String),
    /// The issuer may not speak for the token's org.
    OrgOutsideIssuer {
        /// The issuer.
        iss: String,
        /// The org the token names.
        org: String,
    },
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed(what) => write!(f, "the token is not a JWT: {what}"),
            TokenError::Algorithm(alg) => write!(
                f,
                "the token is signed with `{alg}`; only EdDSA is accepted"
            ),
            TokenError::UnknownIssuer(iss) => {
                write!(f, "the issuer `{iss}` is not on the trust list")
            }
            TokenError::UnknownKey(kid) => {
                write!(f, "the issuer has no key `{kid}` on the trust list")
            }
            TokenError::BadSignature => f.write_str("the token's signature does not verify"),
            TokenError::Audience(aud) => write!(f, "the token is for `{aud}`, not this service"),
            TokenError::Expired => f.write_str("the token has expired"),
            TokenError::IssuedInFuture => f.write_str("the token's `iat` lies in the future"),
            TokenError::TooLong(max) => write!(f, "the token lives longer than {max} seconds"),
            TokenError::UnknownOrg(org) => write!(
                f,
                "the token names org `{org}`, which the org tree does not have"
            ),
            TokenError::OrgOutsideIssuer { iss, org } => {
                write!(f, "the issuer `{iss}` may not speak for org `{org}`")
            }
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl TrustList {
    /// Reads the trust list from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("trust_list is not a valid trust list: {e}"))
    }

    /// The claims of a token that verifies: signed by a key of its issuer,
    /// for this audience, within its lifetime, naming an org of the tree
    /// inside one of the issuer's subtrees.
    pub fn verify(&self, token: &str, now: i64, tree: &OrgTree) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("expected header.payload.signature"));
        };
        let decode = |part: &str, what: &'static str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| TokenError::Malformed(what))
        };
        let head: Header = serde_json::from_slice(&decode(header, "the header is not base64url")?)
            .map_err(|_| TokenError::Malformed("the header is not JSON"))?;
        if head.alg != "EdDSA" {
            return Err(TokenError::Algorithm(head.alg));
        }
        let claims: Claims =
            serde_json::from_slice(&decode(payload, "the payload is not base64url")?).map_err(
                |_| TokenError::Malformed("the payload lacks a claim or has a wrong one"),
            )?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.iss == claims.iss)
            .ok_or_else(|| TokenError::UnknownIssuer(claims.iss.clone()))?;
        let kid = head.kid.unwrap_or_default();
        let jwk = issuer
            .jwks
            .keys
            .iter()
            .find(|k| k.kid == kid && k.kty == "OKP" && k.crv == "Ed25519")
            .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        let key = URL_SAFE_NO_PAD
            .decode(&jwk.x)
            .ok()
            .and_then(|x| <[u8; 32]>::try_from(x).ok())
            .and_then(|x| VerifyingKey::from_bytes(&x).ok())
            .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        let signature = decode(signature, "the signature is not base64url")?;
        let signature = Signature::from_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        let signed = &token[..header.len() + 1 + payload.len()];
        key.verify_strict(signed.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        if claims.aud != self.audience {
            return Err(TokenError::Audience(claims.aud));
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + CLOCK_SKEW_SECS {
            return Err(TokenError::IssuedInFuture);
        }
        if claims.exp - claims.iat > self.max_lifetime_secs {
            return Err(TokenError::TooLong(self.max_lifetime_secs));
        }
        if tree.get(&claims.org).is_none() {
            return Err(TokenError::UnknownOrg(claims.org));
        }
        if !issuer
            .orgs
            .iter()
            .any(|root| tree.is_within(&claims.org, root))
        {
            return Err(TokenError::OrgOutsideIssuer {
                iss: claims.iss,
                org: claims.org,
            });
        }
        Ok(claims)
    }
}

/// The bearer token of `req`, or 401.
pub fn bearer(req: &Request) -> Result<&str, ApiError> {
    api::header(req, "authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`".to_owned()))
}

/// 401 with a `WWW-Authenticate` challenge.
pub fn unauthorized(message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "", message)
        .with_header("www-authenticate", "Bearer".to_owned())
}

/// 403 unless the caller holds one of `roles`.
pub fn require(caller: &Claims, roles: &[Role]) -> Result<(), ApiError> {
    if caller.holds_any(roles) {
        return Ok(());
    }
    let held: Vec<&str> = caller.roles.iter().map(|r| r.as_str()).collect();
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "",
        format!(
            "your roles ({}) may not do this; it needs one of: {}",
            held.join(", "),
            names.join(", ")
        ),
    ))
}

/// Mints tokens: for `jiandu token`, the demo issuer of `cargo xtask up` and
/// the tests. Never compiled into a component.
#[cfg(feature = "mint")]
pub mod mint {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    /// An issuer's signing key.
    pub struct Signer {
        iss: String,
        kid: String,
        key: SigningKey,
    }

    impl std::fmt::Debug for Signer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Signer({}, {})", self.iss, self.kid)
        }
    }

    impl Signer {
        /// The signer of issuer `iss` with the 32-byte secret `seed`; the key
        /// id is derived from the public key.
        pub fn from_seed(iss: &str, seed: [u8; 32]) -> Self {
            let key = SigningKey::from_bytes(&seed);
            let public = key.verifying_key().to_bytes();
            let kid = hex::encode(&crate::seal::sha256(&public)[..8]);
            Self {
                iss: iss.to_owned(),
                kid,
                key,
            }
        }

        /// The issuer.
        pub fn iss(&self) -> &str {
            &self.iss
        }

        /// The public key, for a trust list.
        pub fn jwk(&self) -> Jwk {
            Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                kid: self.kid.clone(),
                x: URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes()),
            }
        }

        /// A token carrying `claims` (whose `iss` should be this signer's).
        pub fn mint(&self, claims: &Claims) -> String {
            let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
            let signed = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"))
            );
            let signature = self.key.sign(signed.as_bytes());
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
        }

        /// A token for `sub` acting for `org` in `roles`, issued at `now`
        /// and valid for `lifetime_secs`.
        pub fn token(
            &self,
            sub: &str,
            org: &str,
            roles: &[Role],
            now: i64,
            lifetime_secs: i64,
        ) -> String {
            let jti: [u8; 12] = crate::seal::random_bytes();
            self.mint(&Claims {
                iss: self.iss.clone(),
                sub: sub.to_owned(),
                aud: DEFAULT_AUDIENCE.to_owned(),
                iat: now,
                exp: now + lifetime_secs,
                jti: hex::encode(jti),
                org: org.to_owned(),
                roles: roles.to_vec(),
            })
        }
    }
}

#[cfg(all(test, feature = "mint"))]
mod tests {
    use super::mint::Signer;
    use super::*;

    const TREE: &str = include_str!("../../../orgs/zaozhuang.json");

    fn trust(signers: &[(&Signer, &str)]) -> TrustList {
        TrustList {
            audience: DEFAULT_AUDIENCE.into(),
            max_lifetime_secs: DEFAULT_MAX_LIFETIME_SECS,
            issuers: signers
                .iter()
                .map(|(s, root)| Issuer {
                    iss: s.iss().into(),
                    orgs: vec![(*root).into()],
                    jwks: Jwks {
                        keys: vec![s.jwk()],
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn a_token_verifies_only_for_its_issuers_subtree() {
        let tree = OrgTree::parse(TREE).unwrap();
        let city = Signer::from_seed("city", [1; 32]);
        let province = Signer::from_seed("province", [2; 32]);
        let trust = trust(&[(&city, "370400"), (&province, "370000")]);
        let now = 1_800_000_000;
        let ok = city.token("370400/head", "370400", &[Role::Head], now, 3600);
        assert_eq!(trust.verify(&ok, now, &tree).unwrap().org, "370400");
        // The city's issuer cannot speak for the province.
        let forged = city.token("370000/head", "370000", &[Role::Head], now, 3600);
        assert!(matches!(
            trust.verify(&forged, now, &tree),
            Err(TokenError::OrgOutsideIssuer { .. })
        ));
        // The province may speak for the city, which is in its subtree.
        let down = province.token("370000/head", "370400", &[Role::Head], now, 3600);
        assert!(trust.verify(&down, now, &tree).is_ok());
        assert_eq!(
            trust.verify(&ok, now + 3600, &tree),
            Err(TokenError::Expired)
        );
        assert_eq!(
            trust.verify(&ok, now - 3600, &tree),
            Err(TokenError::IssuedInFuture)
        );
        let long = city.token("370400/head", "370400", &[Role::Head], now, 13 * 3600);
        assert!(matches!(
            trust.verify(&long, now, &tree),
            Err(TokenError::TooLong(_))
        ));
        let mut other_audience = trust.clone();
        other_audience.audience = "another-service".into();
        assert!(matches!(
            other_audience.verify(&ok, now, &tree),
            Err(TokenError::Audience(_))
        ));
        let unlisted = Signer::from_seed("county", [4; 32]);
        let unlisted = unlisted.token("370402/head", "370402", &[Role::Head], now, 3600);
        assert!(matches!(
            trust.verify(&unlisted, now, &tree),
            Err(TokenError::UnknownIssuer(_))
        ));
        let stranger = Signer::from_seed("city", [3; 32]);
        let unknown = stranger.token("370400/head", "370400", &[Role::Head], now, 3600);
        assert!(matches!(
            trust.verify(&unknown, now, &tree),
            Err(TokenError::UnknownKey(_))
        ));
        let (head, rest) = ok.split_once('.').unwrap();
        let (_, sig) = rest.rsplit_once('.').unwrap();
        let other = forged.split('.').nth(1).unwrap();
        let spliced = format!("{head}.{other}.{sig}");
        assert!(trust.verify(&spliced, now, &tree).is_err());
    }
}
