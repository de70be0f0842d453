//! Protecting reporters (检控 Art. 47): identity sealed with ChaCha20-Poly1305
//! under a key from a secret Spin variable, follow-up secrets and keyed
//! hashes, random receipt codes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Version byte in front of every sealed value, so keys can be rotated.
const SEALED_V1: u8 = 1;

/// The key material behind identity sealing; `Debug` never shows it.
pub struct IdentityKey {
    seal: Key,
    mac: [u8; 32],
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityKey(..)")
    }
}

impl IdentityKey {
    /// Parses the `identity_key` variable: 32 bytes, base64.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "identity_key is not base64".to_owned())?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "identity_key must be 32 bytes (44 base64 characters)".to_owned())?;
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(master);
            h.finalize().into()
        };
        Ok(Self {
            seal: derive(b"jiandu identity seal v1").into(),
            mac: derive(b"jiandu keyed hash v1"),
        })
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the report id) so a
    /// sealed value cannot be moved to another row.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; 12] = random_bytes();
        let cipher = ChaCha20Poly1305::new(&self.seal);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("encryption of in-memory data cannot fail");
        let mut out = Vec::with_capacity(1 + 12 + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`IdentityKey::seal`] produced; `None` if it was altered,
    /// moved, or sealed under another key.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = sealed.split_first()?;
        if version != SEALED_V1 || rest.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        ChaCha20Poly1305::new(&self.seal)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
    }

    /// A keyed hash: equal inputs give equal tags, but without the key the
    /// input cannot be guessed from the tag.
    pub fn tag(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Compares two byte strings in time independent of where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Crockford's base32 alphabet: no I, L, O or U, so codes read aloud well.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `len` characters of base32 from `bytes` (5 bits each).
pub fn base32(bytes: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    out
}

/// `N` bytes from the host's secure random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the host provides secure randomness");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn sealed_identity_opens_only_with_its_key_and_context() {
        let key = IdentityKey::from_base64(KEY).unwrap();
        let sealed = key.seal("李四 13800138000".as_bytes(), b"r1");
        assert!(!sealed.windows(11).any(|w| w == b"13800138000"));
        assert_eq!(
            key.open(&sealed, b"r1").unwrap(),
            "李四 13800138000".as_bytes()
        );
        assert!(key.open(&sealed, b"r2").is_none());
        let other =
            IdentityKey::from_base64("AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        assert!(other.open(&sealed, b"r1").is_none());
        assert!(!format!("{key:?}").contains("AAEC"));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(IdentityKey::from_base64("not base64!").is_err());
        assert!(IdentityKey::from_base64("AAEC").is_err());
    }

    #[test]
    fn base32_codes_use_the_unambiguous_alphabet() {
        assert_eq!(base32(&[0xff; 10], 16), "ZZZZZZZZZZZZZZZZ");
        assert_eq!(base32(&[0; 8], 12), "000000000000");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
