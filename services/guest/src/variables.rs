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
