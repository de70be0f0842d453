//! Visit counts that cost no database write per visit: an instance counts
//! the visits it serves and writes them in one transaction once it holds
//! `visit_batch` of them (default 200) or the oldest is
//! [`FLUSH_AFTER_SECS`] old, on the next visit. A host that reuses an
//! instance for many requests (ours) writes rarely under load; an instance
//! retired with visits unwritten loses at most a batch, which a visit count
//! can afford (it is a figure, never an acknowledged write). On a runtime
//! that makes an instance per request (Spin, SpinKube) set `visit_batch` to
//! 1, which writes every visit; 0 counts nothing (a read-only mirror).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use jiandu_guest::clock;
use jiandu_guest::db::Db;
use jiandu_guest::variables;

use crate::store;

/// How long a held visit may wait for the next one to write it.
const FLUSH_AFTER_SECS: i64 = 2;

/// Visits an instance holds before it writes them (`visit_batch`); 0 counts none.
async fn batch() -> i64 {
    static BATCH: OnceLock<i64> = OnceLock::new();
    variables::cached(&BATCH, "visit_batch", |t| {
        t.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("`{t}` is not a whole number of visits"))
    })
    .await
    .copied()
    .unwrap_or_else(|e| {
        eprintln!("visit_batch: {}; writing every visit", e.message());
        1
    })
}

#[derive(Default)]
struct Held {
    per_item: HashMap<String, i64>,
    total: i64,
    since: Option<i64>,
}

thread_local! {
    static HELD: RefCell<Held> = RefCell::new(Held::default());
}

/// Counts a visit to `item`, writing what is held when it is due; answers
/// the visits to `item` this instance had not written before this call,
/// this one included, which a reader adds to the stored figure it read first.
pub(crate) async fn count(db: &Db, item: &str) -> i64 {
    let flush_at = batch().await;
    if flush_at == 0 {
        return 0;
    }
    let now = clock::now().unix_timestamp();
    let (mine, due) = HELD.with_borrow_mut(|h| {
        let mine = h.per_item.entry(item.to_owned()).or_default();
        *mine += 1;
        let mine = *mine;
        h.total += 1;
        let since = *h.since.get_or_insert(now);
        let due = (h.total >= flush_at || now - since >= FLUSH_AFTER_SECS)
            .then(|| std::mem::take(h).per_item.into_iter().collect::<Vec<_>>());
        (mine, due)
    });
    if let Some(held) = due
        && let Err(e) = store::add_visits(db, &held).await
    {
        // Kept for a later visit to write: a database away for a moment
        // delays the figure, never drops it.
        eprintln!("visit counts not written yet: {e}");
        HELD.with_borrow_mut(|h| {
            for (id, n) in held {
                *h.per_item.entry(id).or_default() += n;
                h.total += n;
            }
            h.since.get_or_insert(now);
        });
    }
    mine
}
