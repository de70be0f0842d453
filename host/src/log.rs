//! The host's log writer: events append to a shared buffer that a thread of
//! its own writes to stderr every [`EVERY`], so serving a request costs an
//! append under an uncontended lock instead of a `write(2)` and a wake-up.
//! Nothing is dropped: past [`LIMIT`] bytes the appending thread writes the
//! buffer itself. [`LogGuard`] writes what is left when `main` ends.
//!
//! Components' standard output and error go to the same buffer (a
//! [`LogWriter`] is a WASI output stream too), so a guest's `eprintln!` costs
//! an append rather than a `write(2)` on the thread serving requests.

use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

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

impl LogWriter {
    /// Appends `bytes`, writing the buffer out first if it is full.
    fn append(&self, bytes: &[u8]) {
        let full = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            buffer.extend_from_slice(bytes);
            buffer.len() >= LIMIT
        };
        if full {
            drain(&self.buffer);
        }
    }
}

/// One access-log line, laid out as `tracing`'s formatter lays out an
/// `INFO` event of the `access` target (text fields quoted as it quotes
/// them, method and path bare), but written by hand: it is written
/// for every request, and the formatter's field visitors and timestamp cost
/// about a microsecond of the few tens a small request takes.
#[derive(Debug)]
pub struct AccessLine<'a> {
    /// The request's `x-request-id`.
    pub request_id: &'a str,
    /// Its method.
    pub method: &'a str,
    /// Its path.
    pub path: &'a str,
    /// The manifest route that matched, or `-`.
    pub route: &'a str,
    /// The component that answered, or `-`.
    pub component: &'a str,
    /// The answer's status.
    pub status: u16,
    /// Microseconds from the request's head to the answer's head.
    pub us: u64,
}

impl AccessLine<'_> {
    /// Writes the line, if the log filter (`JIANDU_LOG`) lets `access` events
    /// through: to the buffer when there is one, else to stderr.
    pub fn write(&self, to: Option<&LogWriter>) {
        if !tracing::enabled!(target: "access", tracing::Level::INFO) {
            return;
        }
        let line = self.format(time::OffsetDateTime::now_utc());
        match to {
            Some(writer) => writer.append(&line),
            None => {
                let _ = std::io::stderr().lock().write_all(&line);
            }
        }
    }

    fn format(&self, at: time::OffsetDateTime) -> Vec<u8> {
        let mut line = Vec::with_capacity(160 + self.path.len());
        let _ = writeln!(
            line,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z  INFO access: request_id={:?} method={} path={} route={:?} component={:?} status={} us={}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.microsecond(),
            self.request_id,
            self.method,
            self.path,
            self.route,
            self.component,
            self.status,
            self.us,
        );
        line
    }
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogWriter")
    }
}

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf);
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

impl wasmtime_wasi::cli::IsTerminal for LogWriter {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for LogWriter {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for LogWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // What a guest may write at once: anything up to what the buffer holds.
        Ok(LIMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogWriter {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        drain(&self.buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_line_reads_like_the_formatters_lines() {
        let line = AccessLine {
            request_id: "jd-1f-2a",
            method: "POST",
            path: "/api/v1/reports",
            route: "/api/v1/reports/...",
            component: "intake",
            status: 201,
            us: 1234,
        }
        .format(time::macros::datetime!(2026-11-29 07:05:09.012345 UTC));
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "2026-11-29T07:05:09.012345Z  INFO access: request_id=\"jd-1f-2a\" method=POST \
             path=/api/v1/reports route=\"/api/v1/reports/...\" component=\"intake\" status=201 us=1234\n"
        );
    }
}
