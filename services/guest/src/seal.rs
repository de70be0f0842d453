//! Protecting reporters (检控 Art. 47).
//!
//! - Sealing: what only a commission may read (an identity, an Art. 15
//!   report's content) is encrypted to that commission's **public** key with
//!   HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//!   ChaCha20-Poly1305). The component that stores it holds public keys only
//!   ([`SealingKeys`]); the private keys ([`ReaderKeys`]) are given to the one
//!   component that serves audited views.
//! - Follow-up secrets: derived from the report id under [`ReceiptKey`], so a
//!   retried submission can show the same secret while only its hash is stored.
//! - Hashes, constant-time comparison and random receipt codes.

use std::convert::Infallible;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable as _, Kem as _, OpModeR, OpModeS, Serializable as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type Kem = X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// Version byte in front of every sealed value: 2 = HPKE to a key id.
const SEALED_V2: u8 = 2;
/// Bytes of a key id inside a sealed value.
const KID_LEN: usize = 8;
/// Bytes of an encapsulated X25519 key.
const ENC_LEN: usize = 32;
/// HPKE `info`: binds every sealed value to this application and format.
const INFO: &[u8] = b"jiandu sealed v2";

/// What part of a report a sealed value holds; a value is bound to its
/// part and its report, so it cannot be moved to another row or column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPart {
    /// The reporter's name, phone and ID number.
    Identity,
    /// An Art. 15 report's subject, content and attachments.
    Content,
}

impl ReportPart {
    /// The HPKE associated data for this part of report `report_id`.
    pub fn context(self, report_id: &str) -> Vec<u8> {
        let part = match self {
            Self::Identity => "identity",
            Self::Content => "content",
        };
        format!("{part}:{report_id}").into_bytes()
    }
}

/// A commission's current public sealing key, as the `sealing_keys` variable lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyEntry {
    /// The commission that can read what is sealed to this key.
    pub org: String,
    /// The key id: the first 8 bytes of SHA-256 of the public key, hex.
    pub kid: String,
    /// The X25519 public key, base64.
    pub x25519: String,
}

/// The `sealing_keys` variable: public keys only, newest last for each org.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyList {
    /// Every listed key; the last one of an org is the one sealed to.
    pub keys: Vec<PublicKeyEntry>,
}

/// A commission's private key, as the `reader_keys` variable lists it.
#[derive(Clone, Serialize, Deserialize)]
pub struct PrivateKeyEntry {
    /// The commission whose key this is.
    pub org: String,
    /// The key id (see [`PublicKeyEntry::kid`]).
    pub kid: String,
    /// The X25519 private key, base64.
    pub private: String,
}

impl std::fmt::Debug for PrivateKeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKeyEntry({}, {}, ..)", self.org, self.kid)
    }
}

/// The `reader_keys` variable: every key a reader may open with, old ones included.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PrivateKeyList {
    /// Every key, in the order they were created.
    pub keys: Vec<PrivateKeyEntry>,
}

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// No key is listed for the org.
    #[error("no sealing key is listed for commission {0}: run `jiandu keys rotate --org {0}`")]
    NoKey(String),
    /// A key in the list is malformed.
    #[error("key {kid} of org {org} is not a valid X25519 key in base64")]
    BadKey {
        /// The org.
        org: String,
        /// The key id.
        kid: String,
    },
    /// The variable is not the expected JSON.
    #[error("the key list is not valid JSON: {0}")]
    BadList(String),
}

/// The public keys an intake component seals to.
#[derive(Debug, Clone)]
pub struct SealingKeys {
    current: std::collections::BTreeMap<String, (KeyId, <Kem as hpke::Kem>::PublicKey)>,
}

/// A key id: 8 bytes.
type KeyId = [u8; KID_LEN];

fn kid_of(public: &[u8]) -> KeyId {
    let digest = sha256(public);
    let mut kid = [0u8; KID_LEN];
    kid.copy_from_slice(&digest[..KID_LEN]);
    kid
}

fn decode_kid(org: &str, kid: &str) -> Result<KeyId, SealError> {
    hex::decode(kid)
        .ok()
        .and_then(|b| KeyId::try_from(b).ok())
        .ok_or_else(|| SealError::BadKey {
            org: org.to_owned(),
            kid: kid.to_owned(),
        })
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

impl SealingKeys {
    /// Parses the `sealing_keys` variable. A key whose id does not match
    /// its public key is refused: ids are how old keys stay readable.
    pub fn parse(json: &str) -> Result<Self, SealError> {
        let list: PublicKeyList =
            serde_json::from_str(json).map_err(|e| SealError::BadList(e.to_string()))?;
        let mut current = std::collections::BTreeMap::new();
        for entry in list.keys {
            let bad = || SealError::BadKey {
                org: entry.org.clone(),
                kid: entry.kid.clone(),
            };
            let bytes = decode_b64(&entry.x25519).ok_or_else(bad)?;
            let kid = decode_kid(&entry.org, &entry.kid)?;
            if kid != kid_of(&bytes) {
                return Err(bad());
            }
            let public = <Kem as hpke::Kem>::PublicKey::from_bytes(&bytes).map_err(|_| bad())?;
            current.insert(entry.org, (kid, public));
        }
        Ok(Self { current })
    }

    /// Seals `plaintext` to `org`'s current key, bound to `context` (e.g.
    /// `identity:<report id>`) so a sealed value cannot be moved to another
    /// row or field.
    pub fn seal(&self, org: &str, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let (kid, public) = self
            .current
            .get(org)
            .ok_or_else(|| SealError::NoKey(org.to_owned()))?;
        let (enc, ciphertext) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(
            &OpModeS::Base,
            public,
            INFO,
            plaintext,
            context,
            &mut HostRng,
        )
        .expect("sealing to a valid public key cannot fail");
        let enc = enc.to_bytes();
        let mut out = Vec::with_capacity(1 + KID_LEN + enc.len() + ciphertext.len());
        out.push(SEALED_V2);
        out.extend_from_slice(kid);
        out.extend_from_slice(&enc);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }
}

/// A private key and whose it is.
struct ReaderKey {
    org: String,
    private: <Kem as hpke::Kem>::PrivateKey,
}

/// The private keys of the component that serves audited views.
pub struct ReaderKeys {
    by_kid: std::collections::BTreeMap<KeyId, ReaderKey>,
}

impl std::fmt::Debug for ReaderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReaderKeys({} keys, ..)", self.by_kid.len())
    }
}

/// What was opened, and the commission it was sealed to.
#[derive(Debug)]
pub struct Opened {
    /// The org whose key opened it.
    pub org: String,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

impl ReaderKeys {
    /// Parses the `reader_keys` variable; each key id must match its key.
    pub fn parse(json: &str) -> Result<Self, SealError> {
        let list: PrivateKeyList =
            serde_json::from_str(json).map_err(|e| SealError::BadList(e.to_string()))?;
        let mut by_kid = std::collections::BTreeMap::new();
        for entry in list.keys {
            let bad = || SealError::BadKey {
                org: entry.org.clone(),
                kid: entry.kid.clone(),
            };
            let bytes = decode_b64(&entry.private).ok_or_else(bad)?;
            let private = <Kem as hpke::Kem>::PrivateKey::from_bytes(&bytes).map_err(|_| bad())?;
            let public = Kem::sk_to_pk(&private).to_bytes();
            if decode_kid(&entry.org, &entry.kid)? != kid_of(&public) {
                return Err(bad());
            }
            by_kid.insert(
                kid_of(&public),
                ReaderKey {
                    org: entry.org,
                    private,
                },
            );
        }
        Ok(Self { by_kid })
    }

    /// The org a sealed value was sealed to, if one of these keys can say.
    pub fn sealed_to(&self, sealed: &[u8]) -> Option<&str> {
        let kid = sealed.get(1..1 + KID_LEN)?;
        self.by_kid.get(kid).map(|k| k.org.as_str())
    }

    /// Opens what [`SealingKeys::seal`] produced, with the key its id names;
    /// `None` if no such key is held, or it was altered or moved.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Opened> {
        let (&version, rest) = sealed.split_first()?;
        if version != SEALED_V2 || rest.len() < KID_LEN + ENC_LEN {
            return None;
        }
        let (kid, rest) = rest.split_at(KID_LEN);
        let (enc, ciphertext) = rest.split_at(ENC_LEN);
        let key = self.by_kid.get(kid)?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).ok()?;
        let plaintext = hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &key.private,
            &enc,
            INFO,
            ciphertext,
            context,
        )
        .ok()?;
        Some(Opened {
            org: key.org.clone(),
            plaintext,
        })
    }
}

/// A new key pair for `org` from 32 bytes of key material: the private
/// entry (for `reader_keys`) and the public one (for `sealing_keys`).
#[cfg(feature = "mint")]
pub fn key_pair(org: &str, ikm: &[u8; 32]) -> (PrivateKeyEntry, PublicKeyEntry) {
    let (private, public) = Kem::derive_keypair(ikm);
    let public = public.to_bytes();
    let kid = hex::encode(kid_of(&public));
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    (
        PrivateKeyEntry {
            org: org.to_owned(),
            kid: kid.clone(),
            private: b64(&private.to_bytes()),
        },
        PublicKeyEntry {
            org: org.to_owned(),
            kid,
            x25519: b64(&public),
        },
    )
}

/// The host's secure random source, for HPKE's ephemeral keys.
struct HostRng;

impl hpke::rand_core::TryRng for HostRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from_le_bytes(random_bytes()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from_le_bytes(random_bytes()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        getrandom::fill(dst).expect("the host provides secure randomness");
        Ok(())
    }
}

impl hpke::rand_core::TryCryptoRng for HostRng {}

/// The key behind reporters' follow-up secrets and the keyed hashes that
/// screening lists match people by; `Debug` never shows it. It opens
/// nothing: with it one can recompute a report's secret or test a guessed
/// ID number against a list, not read a sealed identity or name.
pub struct ReceiptKey {
    mac: [u8; 32],
}

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptKey(..)")
    }
}

impl ReceiptKey {
    /// Parses the `receipt_key` variable: 32 bytes, base64.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let master: [u8; 32] = decode_b64(text)
            .ok_or_else(|| "receipt_key is not base64".to_owned())?
            .try_into()
            .map_err(|_| "receipt_key must be 32 bytes (44 base64 characters)".to_owned())?;
        let mut h = Sha256::new();
        h.update(b"jiandu keyed hash v1");
        h.update(master);
        Ok(Self {
            mac: h.finalize().into(),
        })
    }

    /// The follow-up secret of report `report_id`: 20 base32 characters.
    pub fn secret_for(&self, report_id: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        mac.update(b"anonymous-secret");
        mac.update(&[0]);
        mac.update(report_id.as_bytes());
        base32(&mac.finalize().into_bytes(), 20)
    }

    /// The keyed hash a screening list matches people by, 32 hex characters:
    /// `label` says what `value` is (`id` for an ID number, `person` for a
    /// name and birth date), so equal values of different kinds never match.
    pub fn match_hash(&self, label: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        mac.update(b"screening-match");
        mac.update(&[0]);
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The keyed hash a resident ID number is matched by, on every list
    /// and ledger that holds one.
    pub fn id_hash(&self, id_number: &str) -> String {
        self.match_hash("id", id_number)
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

/// A fresh id: `prefix` and 16 base32 characters (80 random bits).
pub fn new_id(prefix: &str) -> String {
    let bytes: [u8; 10] = random_bytes();
    format!("{prefix}{}", base32(&bytes, 16))
}

/// `N` bytes from the host's secure random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the host provides secure randomness");
    buf
}

#[cfg(all(test, feature = "mint"))]
mod tests {
    use super::*;

    fn keys(orgs: &[(&str, u8)]) -> (SealingKeys, ReaderKeys) {
        let (mut private, mut public) = (PrivateKeyList::default(), PublicKeyList::default());
        for &(org, seed) in orgs {
            let (sk, pk) = key_pair(org, &[seed; 32]);
            private.keys.push(sk);
            public.keys.push(pk);
        }
        (
            SealingKeys::parse(&serde_json::to_string(&public).unwrap()).unwrap(),
            ReaderKeys::parse(&serde_json::to_string(&private).unwrap()).unwrap(),
        )
    }

    #[test]
    fn sealed_values_open_only_with_the_readers_key_and_context() {
        let (sealing, readers) = keys(&[("370400", 1), ("370000", 2)]);
        let sealed = sealing
            .seal("370000", "李四 13800138000".as_bytes(), b"identity:r1")
            .unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"13800138000"));
        let opened = readers.open(&sealed, b"identity:r1").unwrap();
        assert_eq!(opened.org, "370000");
        assert_eq!(opened.plaintext, "李四 13800138000".as_bytes());
        assert_eq!(readers.sealed_to(&sealed), Some("370000"));
        assert!(readers.open(&sealed, b"identity:r2").is_none());
        // The city's key cannot open what was sealed to the province.
        let (_, city_only) = keys(&[("370400", 1)]);
        assert!(city_only.open(&sealed, b"identity:r1").is_none());
        assert!(!format!("{readers:?}").contains("private"));
    }

    #[test]
    fn a_rotated_key_seals_new_values_and_old_ones_stay_readable() {
        let (old_sealing, _) = keys(&[("370400", 1)]);
        let old = old_sealing.seal("370400", b"old", b"c").unwrap();
        let (sealing, readers) = keys(&[("370400", 1), ("370400", 3)]);
        let new = sealing.seal("370400", b"new", b"c").unwrap();
        assert_ne!(old[1..9], new[1..9], "a new key id");
        assert_eq!(readers.open(&old, b"c").unwrap().plaintext, b"old");
        assert_eq!(readers.open(&new, b"c").unwrap().plaintext, b"new");
        assert_eq!(
            sealing.seal("370402", b"x", b"c"),
            Err(SealError::NoKey("370402".into()))
        );
    }

    #[test]
    fn a_key_id_that_does_not_match_its_key_is_refused() {
        let (_, mut pk) = key_pair("370400", &[1; 32]);
        pk.kid = "0000000000000000".into();
        let list = PublicKeyList { keys: vec![pk] };
        assert!(SealingKeys::parse(&serde_json::to_string(&list).unwrap()).is_err());
    }

    #[test]
    fn receipt_secrets_are_stable_and_keyed() {
        let key = ReceiptKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        assert_eq!(key.secret_for("r1"), key.secret_for("r1"));
        assert_ne!(key.secret_for("r1"), key.secret_for("r2"));
        assert_eq!(key.secret_for("r1").len(), 20);
        assert!(ReceiptKey::from_base64("AAEC").is_err());
        assert!(!format!("{key:?}").contains("AAEC"));
    }

    #[test]
    fn base32_codes_use_the_unambiguous_alphabet() {
        assert_eq!(base32(&[0xff; 10], 16), "ZZZZZZZZZZZZZZZZ");
        assert_eq!(base32(&[0; 8], 12), "000000000000");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
