//! Signed checkpoints of the audit log: every so often the worker checks
//! that the entries written since the last checkpoint follow from it, then
//! signs (Ed25519) the newest entry's seq and hash. Changing or cutting off
//! entries up to a checkpoint is then detectable by `jiandu-worker audit verify`.
//! A chain that does not follow is not signed: the worker logs where it
//! breaks and tries again next time.

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use jiandu_domain::audit::{Entry, GENESIS, Stored, checkpoint_message, follow};
use sqlx::Row as _;

use crate::store::Pool;
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
    let last = sqlx::query("SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await?;
    let from = match last {
        Some(row) => {
            let hash: Vec<u8> = row.try_get("hash")?;
            (
                row.try_get::<i64, _>("seq")?,
                hash.try_into().unwrap_or(GENESIS),
            )
        }
        None => (0, GENESIS),
    };
    let entries = entries_after(pool, from.0).await?;
    if entries.is_empty() {
        return Ok(None);
    }
    let (seq, hash) = follow(from, &entries)?;
    let at = rfc3339(now());
    let signature = key.sign(&checkpoint_message(seq, &hash, &at));
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(seq)
    .bind(hash.as_slice())
    .bind(&at)
    .bind(kid)
    .bind(signature.to_bytes().as_slice())
    .execute(pool)
    .await?;
    Ok(Some(seq))
}

/// The entries after `seq`, in order, with their stored hashes.
pub async fn entries_after(pool: &Pool, seq: i64) -> sqlx::Result<Vec<Stored>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, actor_org, actor_roles, action, object, request_id, outcome, detail, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq",
    )
    .bind(seq)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let prev: Vec<u8> = row.try_get("prev_hash")?;
            let entry = Entry {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                actor_org: row.try_get("actor_org")?,
                actor_roles: row.try_get("actor_roles")?,
                action: row.try_get("action")?,
                object: row.try_get("object")?,
                request_id: row.try_get("request_id")?,
                outcome: row.try_get("outcome")?,
                detail: row.try_get("detail")?,
                // A malformed hash cannot follow anything: the chain check names it.
                prev_hash: prev.try_into().unwrap_or([0xff; 32]),
            };
            Ok(Stored {
                entry,
                hash: row.try_get("hash")?,
            })
        })
        .collect()
}
