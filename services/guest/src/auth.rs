//! Bearer tokens: who is calling, in which role, for which organisation.
//!
//! A token is `v1.<claims>.<mac>`: base64url claims JSON (`sub`, `role`,
//! `org`, `exp` in Unix seconds) and an HMAC-SHA256 over `v1.<claims>` under
//! the secret variable `token_key`. Full authorization is a later step; this
//! is enough to know the caller's role and organisation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiandu_domain::clue::Role;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use spin_sdk::http::{Request, StatusCode};

use crate::api::{self, ApiError};
use crate::seal;

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Who it is (a staff id).
    pub sub: String,
    /// The role they act in.
    pub role: Role,
    /// The organisation (division code) they act for.
    pub org: String,
    /// When the token expires, in Unix seconds.
    pub exp: i64,
}

/// The key tokens are signed with.
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Reads a base64 key of at least 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("token_key is not base64: {e}"))?;
        if bytes.len() < 32 {
            return Err("token_key must hold at least 32 bytes".into());
        }
        Ok(Self(bytes))
    }

    fn mac(&self, signed: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(signed.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A token carrying `claims`.
    pub fn mint(&self, claims: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signed = format!("v1.{body}");
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&signed));
        format!("{signed}.{mac}")
    }

    /// The claims of a valid, unexpired token.
    pub fn verify(&self, token: &str, now_unix: i64) -> Option<Claims> {
        let (signed, mac) = token.rsplit_once('.')?;
        let body = signed.strip_prefix("v1.")?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !seal::same(&mac, &self.mac(signed)) {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (claims.exp > now_unix).then_some(claims)
    }
}

/// The caller of `req`, or 401.
pub fn caller(req: &Request, key: &TokenKey, now_unix: i64) -> Result<Claims, ApiError> {
    let unauthorized = |message: &str| {
        ApiError::new(StatusCode::UNAUTHORIZED, "", message)
            .with_header("www-authenticate", "Bearer".to_owned())
    };
    let token = api::header(req, "authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?;
    key.verify(token.trim(), now_unix)
        .ok_or_else(|| unauthorized("the token is invalid or expired"))
}

/// 403 unless the caller holds one of `roles`.
pub fn require(caller: &Claims, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.role) {
        return Ok(());
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "",
        format!(
            "role `{}` may not do this; it needs one of: {}",
            caller.role.as_str(),
            names.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_unaltered_and_unexpired() {
        let key = TokenKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        let claims = Claims {
            sub: "u1".into(),
            role: Role::Head,
            org: "370400".into(),
            exp: 2_000,
        };
        let token = key.mint(&claims);
        assert_eq!(key.verify(&token, 1_000), Some(claims.clone()));
        assert_eq!(key.verify(&token, 2_000), None);
        let forged = key.mint(&Claims {
            role: Role::HigherCommission,
            ..claims
        });
        let (body, _) = forged.rsplit_once('.').unwrap();
        let (_, mac) = token.rsplit_once('.').unwrap();
        assert_eq!(key.verify(&format!("{body}.{mac}"), 1_000), None);
    }
}
