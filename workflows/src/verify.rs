//! `jiandu-worker audit verify`: checks a database's audit log offline — every
//! entry follows from the one before, every stored hash is the entry's own,
//! and every checkpoint is signed by the given key and vouches for an entry
//! that is still there, unchanged. It names the first thing that is wrong.

use ed25519_dalek::{Signature, VerifyingKey};
use jiandu_domain::audit::{ChainError, GENESIS, checkpoint_message, follow};

use crate::checkpoint::key_id;
use crate::store::audit;

/// What a verified log holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// Entries in the log.
    pub entries: i64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// The last entry a checkpoint vouches for (0: none yet).
    pub vouched: i64,
}

/// The first problem found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Tampered {
    /// The chain breaks.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A checkpoint's signature does not verify.
    #[error("the checkpoint at entry {0} is not signed by this key (key id {1})")]
    Signature(i64, String),
    /// A checkpoint vouches for an entry that is gone.
    #[error(
        "the checkpoint at entry {seq} vouches for entries the log no longer has: it ends at entry {last}, so entries were cut off"
    )]
    Truncated {
        /// The checkpoint's entry.
        seq: i64,
        /// The log's last entry.
        last: i64,
    },
    /// A checkpoint vouches for a different entry.
    #[error(
        "entry {0} is not the entry its checkpoint vouches for: it or an earlier entry was changed"
    )]
    Checkpoint(i64),
}

/// Verifies the audit log in the database at `url` against `key`, opening
/// it read-only.
pub async fn verify(url: &str, key: &VerifyingKey) -> sqlx::Result<Result<Verified, Tampered>> {
    let pool = crate::store::connect_read_only(url).await?;
    let entries = audit::entries_after(&pool, 0).await?;
    let checkpoints = audit::checkpoints(&pool).await?;
    pool.close().await;

    let last = match follow((0, GENESIS), &entries) {
        Ok((last, _)) => last,
        Err(e) => return Ok(Err(e.into())),
    };
    // The chain holds, so each stored hash is its entry's own.
    let hashes: std::collections::BTreeMap<i64, &[u8]> = entries
        .iter()
        .map(|s| (s.entry.seq, s.hash.as_slice()))
        .collect();
    let kid = key_id(key);
    let mut vouched = 0;
    for checkpoint in &checkpoints {
        let (seq, at, signature) = (checkpoint.seq, &checkpoint.at, &checkpoint.signature);
        let hash: [u8; 32] = checkpoint.hash.as_slice().try_into().unwrap_or([0; 32]);
        let signed = Signature::from_slice(signature).is_ok_and(|s| {
            key.verify_strict(&checkpoint_message(seq, &hash, at), &s)
                .is_ok()
        });
        if !signed {
            return Ok(Err(Tampered::Signature(seq, kid)));
        }
        if seq > last {
            return Ok(Err(Tampered::Truncated { seq, last }));
        }
        if hashes.get(&seq) != Some(&hash.as_slice()) {
            return Ok(Err(Tampered::Checkpoint(seq)));
        }
        vouched = seq;
    }
    Ok(Ok(Verified {
        entries: last,
        checkpoints: checkpoints.len(),
        vouched,
    }))
}
