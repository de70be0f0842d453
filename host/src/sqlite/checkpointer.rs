//! Checkpoints beside the writers, not inside their commits.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint later
//! copies them into the database file and syncs it. Left to SQLite, the
//! commit that takes the log past 1,000 pages runs that checkpoint itself,
//! fsyncs included, while every other writer waits on [`Database::writer`]
//! (measured: 8–11% of commits took 560–770 µs, most of `COMMIT`'s average).
//! Guest connections therefore have SQLite's automatic checkpoint off, and
//! one thread per database runs them instead: passive ones, which wait for
//! nobody, shortly after writes; and, once the log has grown long, one that
//! waits for the writer and keeps new writers out until it has copied the
//! whole log, so that the next write starts the log from its beginning
//! again. Writers that find it running wait for it as they wait for any
//! other process's lock (see the parent module).
//!
//! The bench's native twin of intake checkpoints its file the same way.

use std::path::Path;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{BUSY_TIMEOUT, OpenError};

/// How often the thread looks for new writes.
const INTERVAL: Duration = Duration::from_millis(50);

/// Pages in the log past which the thread runs a restarting checkpoint, so
/// that the log restarts instead of growing without end.
pub const RESTART_FRAMES: i64 = 10_000;

/// What one checkpoint left.
struct Checkpoint {
    /// Another connection was checkpointing, and this one did nothing.
    busy: bool,
    /// Pages in the log.
    frames: i64,
    /// Of those, pages now in the database file.
    copied: i64,
}

impl Checkpoint {
    /// Whether pages are left in the log only (a reader still needed them,
    /// or another checkpoint was running).
    fn behind(&self) -> bool {
        self.busy || self.copied < self.frames
    }
}

/// The checkpoint thread's name (Linux shows its first 15 bytes).
pub const THREAD_NAME: &str = "sqlite-checkpoints";

/// Starts the thread that checkpoints the file at `path`, whose writers have
/// automatic checkpoints off and set `written` after they write; it ends
/// once `written` is dropped.
pub fn spawn(path: &Path, written: Weak<AtomicBool>) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
    let path_name = path.display().to_string();
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || run(&conn, &path_name, &written))
        .map_err(|source| OpenError::Thread {
            path: path.to_owned(),
            source,
        })?;
    Ok(())
}

fn run(conn: &rusqlite::Connection, path: &str, written: &Weak<AtomicBool>) {
    let mut failing = false;
    loop {
        std::thread::sleep(INTERVAL);
        let Some(written) = written.upgrade() else {
            return;
        };
        if !written.swap(false, Ordering::AcqRel) {
            continue;
        }
        let checkpointed = checkpoint(conn, "PASSIVE").and_then(|done| {
            if done.frames < RESTART_FRAMES {
                return Ok(done);
            }
            checkpoint(conn, "RESTART")
        });
        match checkpointed {
            Ok(done) => {
                failing = false;
                if done.behind() {
                    written.store(true, Ordering::Release);
                }
            }
            Err(e) => {
                written.store(true, Ordering::Release);
                if !failing {
                    tracing::warn!(path, "checkpointing failed, retrying: {e}");
                }
                failing = true;
            }
        }
    }
}

/// A checkpoint: `PASSIVE` copies what no reader still needs, waiting for no
/// one; `RESTART` waits (up to the busy timeout) for the writer and the
/// readers, copies everything and leaves the log to start afresh.
fn checkpoint(conn: &rusqlite::Connection, mode: &str) -> rusqlite::Result<Checkpoint> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok(Checkpoint {
            busy: row.get::<_, i64>("busy")? != 0,
            frames: row.get("log")?,
            copied: row.get("checkpointed")?,
        })
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::sqlite::guest_connection;

    /// How long the test waits for the thread to act: generous, since the
    /// thread only wakes every [`INTERVAL`] and the machine may be busy.
    const PATIENCE: Duration = Duration::from_secs(60);

    /// Whether a write could start now, without waiting for any lock.
    fn can_write(conn: &rusqlite::Connection) -> bool {
        match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK") {
            Ok(()) => true,
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => false,
            Err(e) => panic!("starting a write: {e}"),
        }
    }

    /// A passive checkpoint alone never keeps writers out, so while any
    /// reader still reads the log, a writer that comes along appends to it
    /// and the log never starts again. Past [`RESTART_FRAMES`] the thread
    /// must instead hold the writers off until the readers have left the
    /// log, after which the next write starts the log afresh.
    #[test]
    fn a_long_log_holds_writers_off_until_readers_leave_it_then_restarts() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("db.sqlite");
        let writer = guest_connection(&path).expect("the writer's connection");
        rusqlite::Connection::open(&path)
            .and_then(|migrator| migrator.execute_batch("CREATE TABLE pages (page BLOB)"))
            .expect("creating the table");
        writer
            .execute_batch(&format!(
                "INSERT INTO pages
                   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                           WHERE i < {RESTART_FRAMES} + 1000)
                   SELECT randomblob(3000) FROM n;"
            ))
            .expect("writing past the restart mark");
        let reader = guest_connection(&path).expect("the reader's connection");
        reader
            .execute_batch("BEGIN")
            .expect("a reader's transaction");
        let pages: i64 = reader
            .query_row("SELECT count(*) FROM pages", [], |row| row.get(0))
            .expect("a reader reading the log");
        assert!(pages > RESTART_FRAMES, "the reader sees every row");

        let written = Arc::new(AtomicBool::new(true));
        spawn(&path, Arc::downgrade(&written)).expect("the checkpoint thread");
        let started = Instant::now();
        while can_write(&writer) {
            assert!(
                started.elapsed() < PATIENCE,
                "the log passed {RESTART_FRAMES} pages, yet writers were never held off"
            );
            std::thread::sleep(Duration::from_millis(10));
        }

        reader.execute_batch("COMMIT").expect("the reader leaving");
        writer.busy_timeout(PATIENCE).expect("a busy timeout");
        writer
            .execute("INSERT INTO pages VALUES (x'00')", [])
            .expect("a write once the checkpoint is over");
        let probe = rusqlite::Connection::open(&path).expect("a probe connection");
        let log = checkpoint(&probe, "PASSIVE").expect("reading the log's length");
        assert!(
            log.frames < 10,
            "the write after the restart should start the log again, yet it holds {} pages",
            log.frames
        );
        drop(written);
    }
}
