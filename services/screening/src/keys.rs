//! The keys this component holds: public sealing keys (names are sealed to
//! the commission) and the key of the hashes that lists match people by.
//! It holds no private key and cannot open a name it stored.

use std::sync::OnceLock;

use jiandu_guest::api::ApiError;
use jiandu_guest::seal::{ReceiptKey, SealingKeys};
use jiandu_guest::variables;

/// The commissions' public sealing keys (`sealing_keys`).
pub(crate) async fn sealing_keys() -> Result<&'static SealingKeys, ApiError> {
    static KEYS: OnceLock<SealingKeys> = OnceLock::new();
    variables::cached(&KEYS, "sealing_keys", |t| {
        SealingKeys::parse(t).map_err(|e| e.to_string())
    })
    .await
}

/// The key match hashes are made under (`receipt_key`).
pub(crate) async fn match_key() -> Result<&'static ReceiptKey, ApiError> {
    static KEY: OnceLock<ReceiptKey> = OnceLock::new();
    variables::cached(&KEY, "receipt_key", ReceiptKey::from_base64).await
}
