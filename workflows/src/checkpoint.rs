//! Signed checkpoints of the audit log: every so often the worker checks
//! that the entries written since the last checkpoint follow from it, then
//! signs (Ed25519) the newest entry's seq and hash. Changing or cutting off
//! entries up to a checkpoint is then detectable by `jiandu-worker audit verify`.
//! A chain that does not follow is not signed: the worker logs where it
//! breaks and tries again next time.

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use jiandu_domain::audit::{checkpoint_message, follow};

use crate::store::{Pool, audit};
use tokio::sync::watch;

use crate::activities::{now, rfc3339};

/// How checkpoints are made.
pub struct CheckpointSettings {
    /// The signing key.
    pub key: SigningKey,
    /// How often to look for new entries.
    pub every: Duration,
}

/// The key id of a verifying key: hex of the first 8 bytes of its SHA-256.
pub fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(key.as_bytes())[..8])
}

/// Makes a checkpoint whenever the log has grown, until `stop`.
pub async fn run(pool: Pool, settings: CheckpointSettings, mut stop: watch::Receiver<bool>) {
    let kid = key_id(&settings.key.verifying_key());
    tracing::info!(key_id = %kid, every = ?settings.every, "signing audit checkpoints");
    loop {
        match checkpoint(&pool, &settings.key, &kid).await {
            Ok(Some(seq)) => tracing::info!(seq, "audit log checkpoint signed"),
            Ok(None) => {}
            Err(e) => tracing::error!("audit log checkpoint not signed: {e:#}"),
        }
        tokio::select! {
            () = tokio::time::sleep(settings.every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Signs a checkpoint for the newest entry if there are entries after the
/// last checkpoint; the seq signed, or `None` if there was nothing new.
async fn checkpoint(pool: &Pool, key: &SigningKey, kid: &str) -> anyhow::Result<Option<i64>> {
    let from = audit::last_checkpoint(pool).await?;
    let entries = audit::entries_after(pool, from.0).await?;
    if entries.is_empty() {
        return Ok(None);
    }
    let (seq, hash) = follow(from, &entries)?;
    let at = rfc3339(now());
    let signature = key.sign(&checkpoint_message(seq, &hash, &at));
    audit::insert_checkpoint(
        pool,
        &audit::Checkpoint {
            seq,
            hash: hash.to_vec(),
            at,
            key_id: kid.to_owned(),
            signature: signature.to_bytes().to_vec(),
        },
    )
    .await?;
    Ok(Some(seq))
}
