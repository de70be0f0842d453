//! Spin variables a component reads once per instance and keeps parsed.

use std::sync::OnceLock;

use crate::api::ApiError;

/// The variable `name`, parsed by `parse` on first use and kept in `cell`;
/// a missing or malformed variable is a 500 whose cause is logged.
pub async fn cached<T>(
    cell: &'static OnceLock<T>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<&'static T, ApiError> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let text = spin_sdk::variables::get(name)
        .await
        .map_err(|e| ApiError::internal(format!("{name} variable: {e:?}")))?;
    let value = parse(&text).map_err(|e| ApiError::internal(format!("{name}: {e}")))?;
    Ok(cell.get_or_init(|| value))
}

/// The commissions' public sealing keys (`sealing_keys`): what a component
/// seals personal data to. Public keys only.
pub async fn sealing_keys() -> Result<&'static crate::seal::SealingKeys, ApiError> {
    static KEYS: OnceLock<crate::seal::SealingKeys> = OnceLock::new();
    cached(&KEYS, "sealing_keys", |t| {
        crate::seal::SealingKeys::parse(t).map_err(|e| e.to_string())
    })
    .await
}

/// The receipt key (`receipt_key`): follow-up secrets and the keyed hashes
/// lists and ledgers match people by are derived under it.
pub async fn receipt_key() -> Result<&'static crate::seal::ReceiptKey, ApiError> {
    static KEY: OnceLock<crate::seal::ReceiptKey> = OnceLock::new();
    cached(&KEY, "receipt_key", crate::seal::ReceiptKey::from_base64).await
}
