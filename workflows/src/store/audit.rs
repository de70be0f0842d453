//! The audit log as the worker reads it, and its signed checkpoints.

use jiandu_domain::audit::{Entry, GENESIS, Stored};
use sqlx::Row as _;

use super::Pool;

/// The newest checkpoint's `(seq, hash)`; `(0, GENESIS)` when there is none.
pub async fn last_checkpoint(pool: &Pool) -> sqlx::Result<(i64, [u8; 32])> {
    let last = sqlx::query("SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await?;
    Ok(match last {
        Some(row) => {
            let hash: Vec<u8> = row.try_get("hash")?;
            (row.try_get("seq")?, hash.try_into().unwrap_or(GENESIS))
        }
        None => (0, GENESIS),
    })
}

/// A signed checkpoint: the entry `seq` had hash `hash`, said key `key_id` at `at`.
pub struct Checkpoint {
    /// The entry vouched for.
    pub seq: i64,
    /// Its hash.
    pub hash: Vec<u8>,
    /// When it was signed, RFC 3339.
    pub at: String,
    /// The signing key's id.
    pub key_id: String,
    /// The Ed25519 signature.
    pub signature: Vec<u8>,
}

/// Stores a checkpoint; one for the same entry already there is kept.
pub async fn insert_checkpoint(pool: &Pool, c: &Checkpoint) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(c.seq)
    .bind(c.hash.as_slice())
    .bind(&c.at)
    .bind(&c.key_id)
    .bind(c.signature.as_slice())
    .execute(pool)
    .await?;
    Ok(())
}

/// Every checkpoint, oldest first.
pub async fn checkpoints(pool: &Pool) -> sqlx::Result<Vec<Checkpoint>> {
    sqlx::query("SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Checkpoint {
                seq: row.try_get("seq")?,
                hash: row.try_get("hash")?,
                at: row.try_get("at")?,
                key_id: row.try_get("key_id")?,
                signature: row.try_get("signature")?,
            })
        })
        .collect()
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
