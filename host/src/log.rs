//! The host's log writer: events append to a shared buffer that a thread of
//! its own writes to stderr every [`EVERY`], so serving a request costs an
//! append under an uncontended lock instead of a `write(2)` and a wake-up.
//! Nothing is dropped: past [`LIMIT`] bytes the appending thread writes the
//! buffer itself. [`LogGuard`] writes what is left when `main` ends.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the buffer is written.
const EVERY: Duration = Duration::from_millis(20);
/// The most the buffer holds before an appender writes it.
const LIMIT: usize = 4 << 20;

/// A `tracing_subscriber` writer appending to the shared buffer.
#[derive(Clone)]
pub struct LogWriter {
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// Writes what is buffered when dropped; keep it for the life of `main`.
pub struct LogGuard {
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// Starts the writing thread.
pub fn stderr() -> std::io::Result<(LogWriter, LogGuard)> {
    let buffer = Arc::new(Mutex::new(Vec::with_capacity(64 * 1024)));
    let shared = Arc::downgrade(&buffer);
    std::thread::Builder::new()
        .name("jiandu-log".into())
        .spawn(move || {
            while let Some(buffer) = shared.upgrade() {
                drain(&buffer);
                drop(buffer);
                std::thread::sleep(EVERY);
            }
        })?;
    Ok((
        LogWriter {
            buffer: buffer.clone(),
        },
        LogGuard { buffer },
    ))
}

/// Writes out and empties the buffer.
fn drain(buffer: &Mutex<Vec<u8>>) {
    let pending = std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()));
    if !pending.is_empty() {
        let _ = std::io::stderr().lock().write_all(&pending);
    }
}

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            buffer.extend_from_slice(buf);
            buffer.len() >= LIMIT
        };
        if full {
            drain(&self.buffer);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        drain(&self.buffer);
    }
}
