//! Secret key files: 32 random bytes in base64, readable by the owner alone
//! from the moment they exist.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;

/// Reads a key file.
pub fn read(path: &Path) -> anyhow::Result<[u8; 32]> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| format!("{} is not 32 bytes of base64", path.display()))
}

/// Reads a key file, creating it with fresh random bytes if it is missing.
pub fn read_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if path.exists() {
        read(path)
    } else {
        create(path)
    }
}

/// Writes 32 fresh random bytes to a new file (never over an existing one),
/// with mode 0600 from the start.
pub fn create(path: &Path) -> anyhow::Result<[u8; 32]> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .as_bytes(),
    )?;
    tracing::info!(key = %path.display(), "created a key file (0600)");
    Ok(secret)
}
