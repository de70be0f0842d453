//! The end-to-end harness: starts the real `jiandu` host on port 0 with its
//! own database in a temporary directory, and talks HTTP to it.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jiandu_domain::org::{OrgKind, OrgTree, Role};
use jiandu_guest::auth::mint::Signer;
use jiandu_guest::auth::{DEFAULT_AUDIENCE, DEFAULT_MAX_LIFETIME_SECS, Issuer, Jwks, TrustList};
use jiandu_guest::seal::{
    PrivateKeyEntry, PrivateKeyList, PublicKeyEntry, PublicKeyList, key_pair,
};

pub mod browser;
pub mod postgres;
pub mod system;
pub mod temporal;

/// Whether this run keeps the hosts' data on PostgreSQL
/// (`JIANDU_TEST_DATABASE=postgres`, as `cargo xtask test`'s second pass
/// sets it) rather than SQLite; each host then gets a database of its own.
pub fn on_postgres() -> bool {
    std::env::var("JIANDU_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Where a host keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the host's own directory.
    Sqlite,
    /// A PostgreSQL database of the host's own on the machine's server.
    Postgres,
}

impl Database {
    /// The one this run uses: see [`on_postgres`].
    pub fn of_run() -> Self {
        if on_postgres() {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// A test receipt key (32 bytes, base64): follow-up secrets are derived under it.
pub const RECEIPT_KEY: &str = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMDEyMzQ=";

/// The test commission (枣庄市纪委监委).
pub const ORG: &str = "370400";
/// The next-higher commission (山东省纪委监委).
pub const HIGHER_ORG: &str = "370000";
/// 国家监委.
pub const NATIONAL_ORG: &str = "100000";

/// The demo org tree the product ships and the tests run on.
pub fn tree() -> &'static OrgTree {
    static TREE: OnceLock<OrgTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let text =
            std::fs::read_to_string(repo().join("orgs/zaozhuang.json")).expect("the demo tree");
        OrgTree::parse(&text).expect("the demo tree is valid")
    })
}

/// The test issuer of commission `org` (a fixed key per commission).
pub fn issuer(org: &str) -> Signer {
    let seed = jiandu_guest::seal::sha256(format!("jiandu-test-issuer:{org}").as_bytes());
    Signer::from_seed(&format!("test:{org}"), seed)
}

/// The trust list the test hosts run with: each commission's test issuer for its subtree.
pub fn trust_list() -> String {
    let issuers = tree()
        .iter()
        .filter(|o| o.kind == OrgKind::Commission)
        .map(|o| Issuer {
            iss: issuer(&o.id).iss().to_owned(),
            orgs: vec![o.id.clone()],
            jwks: Jwks {
                keys: vec![issuer(&o.id).jwk()],
            },
        })
        .collect();
    let list = TrustList {
        audience: DEFAULT_AUDIENCE.to_owned(),
        max_lifetime_secs: DEFAULT_MAX_LIFETIME_SECS,
        issuers,
    };
    serde_json::to_string(&list).expect("a trust list serializes")
}

/// Commission `org`'s test sealing key pair (a fixed seed per commission).
pub fn sealing_key(org: &str) -> (PrivateKeyEntry, PublicKeyEntry) {
    key_pair(
        org,
        &jiandu_guest::seal::sha256(format!("jiandu-test-sealing:{org}").as_bytes()),
    )
}

/// The commissions of the demo tree.
fn commissions() -> impl Iterator<Item = &'static str> {
    tree()
        .iter()
        .filter(|o| o.kind == OrgKind::Commission)
        .map(|o| o.id.as_str())
}

/// The `sealing_keys` variable of the test hosts: every commission's public key.
pub fn sealing_keys() -> String {
    let keys = commissions().map(|o| sealing_key(o).1).collect();
    serde_json::to_string(&PublicKeyList { keys }).expect("serializes")
}

/// A `reader_keys` value holding the private keys of `orgs` only.
pub fn reader_keys_of<'a>(orgs: impl IntoIterator<Item = &'a str>) -> String {
    let keys = orgs.into_iter().map(|o| sealing_key(o).0).collect();
    serde_json::to_string(&PrivateKeyList { keys }).expect("serializes")
}

/// The `reader_keys` variable of the test hosts: every commission's private key.
pub fn reader_keys() -> String {
    reader_keys_of(commissions())
}

/// The test key that signs audit checkpoints (32 bytes, base64).
pub const AUDIT_KEY: &str = "YXVkaXQta2V5LWF1ZGl0LWtleS1hdWRpdC1rZXktMDE=";

/// The issuer that speaks for `org`: the nearest commission at or above it.
pub fn issuer_for(org: &str) -> Signer {
    let tree = tree();
    let found = tree
        .get(org)
        .unwrap_or_else(|| panic!("no org {org} in the demo tree"));
    let commission = std::iter::once(found)
        .chain(tree.ancestors(org))
        .find(|o| o.kind == OrgKind::Commission)
        .expect("every org is under a commission");
    issuer(&commission.id)
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The person the demo tree lists in `org` with `role`, else `<org>/<role>`.
pub fn person(role: Role, org: &str) -> String {
    tree()
        .get(org)
        .and_then(|o| o.people.iter().find(|p| p.roles.contains(&role)))
        .map_or_else(|| format!("{org}/{role}"), |p| p.id.clone())
}

/// A token for `sub` holding `roles` in `org`, from the issuer that speaks for it, valid for an hour.
pub fn token_for(sub: &str, org: &str, roles: &[Role]) -> String {
    issuer_for(org).token(sub, org, roles, now(), 3600)
}

/// A token for the person holding `role` in `org`.
pub fn token(role: Role, org: &str) -> String {
    token_for(&person(role, org), org, &[role])
}

/// `Authorization: Bearer` for the person holding `role` in `org`.
pub fn bearer(role: Role, org: &str) -> String {
    format!("Bearer {}", token(role, org))
}

/// The repository root. Read at run time (cargo sets `CARGO_MANIFEST_DIR` for
/// tests and `cargo run`): a target dir shared between checkouts may hold a
/// binary built in another one.
pub fn repo() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("tests/ is in the repo")
        .to_owned()
}

/// The cargo target directory this test binary was built into.
fn target_debug() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/<test> or target/debug/<bin>
    let dir = exe.parent().expect("in a directory");
    if dir.ends_with("deps") {
        dir.parent().expect("target/debug").to_owned()
    } else {
        dir.to_owned()
    }
}

/// The `jiandu` binary (`JIANDU_BIN`, else next to this test binary).
pub fn jiandu_bin() -> PathBuf {
    std::env::var_os("JIANDU_BIN").map_or_else(|| target_debug().join("jiandu"), PathBuf::from)
}

/// A resident ID number of the 17 digits `body` with its ISO 7064 MOD 11-2
/// check character, for lists and reports with valid numbers.
pub fn resident_id(body: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// An XLSX workbook whose first sheet holds `rows` as text cells, the
/// header first: a list or a ledger as an office would send it.
pub fn workbook<R: AsRef<[S]>, S: AsRef<str>>(rows: &[R]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.as_ref().iter().enumerate() {
            sheet
                .write_string(r as u32, c as u16, cell.as_ref())
                .expect("a cell");
        }
    }
    book.save_to_buffer().expect("a workbook")
}

/// The `jiandu-worker` binary: `JIANDU_WORKER_BIN`, or beside `jiandu`.
pub fn worker_bin() -> PathBuf {
    std::env::var_os("JIANDU_WORKER_BIN").map_or_else(
        || jiandu_bin().with_file_name("jiandu-worker"),
        PathBuf::from,
    )
}

/// A built component, e.g. `testbed`.
pub fn component(name: &str) -> PathBuf {
    repo()
        .join("target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"))
}

/// A running host, killed when dropped.
pub struct Host {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its private directory (database, runtime config).
    pub dir: tempfile::TempDir,
    /// The manifest it serves.
    pub manifest: PathBuf,
    /// Its runtime configuration (where the SQLite database lives).
    pub runtime_config: PathBuf,
    /// Its PostgreSQL database, when the suite runs on PostgreSQL (shared
    /// with the hosts started beside it).
    postgres: Option<Arc<postgres::PgDatabase>>,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body as text (empty when it is not UTF-8).
    pub text: String,
    /// The body as received.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// One header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON pointers named in an error body, sorted.
    pub fn error_pointers(&self) -> Vec<String> {
        let mut pointers: Vec<String> = self.json()["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors array: {}", self.text))
            .iter()
            .map(|e| e["pointer"].as_str().expect("pointer").to_owned())
            .collect();
        pointers.sort();
        pointers
    }
}

impl Host {
    /// Starts the host on `manifest` with a fresh database; `env` adds to its environment.
    pub fn start(manifest: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(manifest, env, &[])
    }

    /// As [`Host::start`], with `args` added to `jiandu up`.
    pub fn start_with(manifest: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::start_on(Database::of_run(), manifest, env, args)
    }

    /// As [`Host::start_with`], on `database` whatever this run uses.
    pub fn start_on(
        database: Database,
        manifest: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime_config = dir.path().join("runtime-config.toml");
        std::fs::write(
            &runtime_config,
            "[sqlite_database.default]\ntype = \"spin\"\npath = \"jiandu.db\"\n",
        )
        .expect("runtime config");
        let postgres =
            (database == Database::Postgres).then(|| Arc::new(postgres::PgDatabase::create()));
        let migrate = Command::new(jiandu_bin())
            .args(["migrate", "--from"])
            .arg(manifest)
            .arg("--runtime-config-file")
            .arg(&runtime_config)
            .args(
                postgres
                    .iter()
                    .flat_map(|db| ["--database-url".to_owned(), db.url()]),
            )
            .output()
            .expect("run jiandu migrate");
        assert!(
            migrate.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        Self::serve(manifest, dir, runtime_config, postgres, env, args)
    }

    /// Another host serving the same manifest and database as this one, as
    /// a second machine behind the same load balancer would.
    pub fn start_beside(&self) -> Self {
        self.start_beside_with(&[])
    }

    /// As [`Host::start_beside`], with `env` added (e.g. other variables).
    pub fn start_beside_with(&self, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::serve(
            &self.manifest,
            dir,
            self.runtime_config.clone(),
            self.postgres.clone(),
            env,
            &[],
        )
    }

    /// Runs `jiandu up` on a migrated database.
    fn serve(
        manifest: &Path,
        dir: tempfile::TempDir,
        runtime_config: PathBuf,
        postgres: Option<Arc<postgres::PgDatabase>>,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        let mut database_env = Vec::new();
        if let Some(db) = &postgres {
            database_env.push(("SPIN_VARIABLE_DATABASE_URL", db.url()));
            database_env.push(("SPIN_VARIABLE_DATABASE_HOST", db.host_port()));
        }
        let mut child = Command::new(jiandu_bin())
            .args(["up", "--listen", "127.0.0.1:0", "--from"])
            .arg(manifest)
            .arg("--runtime-config-file")
            .arg(&runtime_config)
            .arg("--cache-dir")
            .arg(target_debug().join("jiandu-compiled"))
            .args(args)
            .env("SPIN_VARIABLE_RECEIPT_KEY", RECEIPT_KEY)
            .env("SPIN_VARIABLE_TRUST_LIST", trust_list())
            .env("SPIN_VARIABLE_SEALING_KEYS", sealing_keys())
            .env("SPIN_VARIABLE_READER_KEYS", reader_keys())
            // Suites send the same anonymous report many times; the limiter's
            // own test sets its limits.
            .env("SPIN_VARIABLE_ANONYMOUS_LIMITS", "1000000,1000000,60")
            .envs(database_env)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start jiandu up");
        let stderr = capture(child.stderr.take().expect("stderr"));
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        // Generous: the first start compiles the components.
        let addr = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!("jiandu did not start; its log:\n{}", stderr.lock().unwrap());
            }
        };
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        Self {
            child,
            addr,
            dir,
            manifest: manifest.to_owned(),
            runtime_config,
            postgres,
            stderr,
            agent,
        }
    }

    /// The product's own `spin.toml`.
    pub fn start_product() -> Self {
        Self::start(&repo().join("spin.toml"), &[])
    }

    /// The product on `database`.
    pub fn start_product_on(database: Database) -> Self {
        Self::start_on(database, &repo().join("spin.toml"), &[], &[])
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything the host wrote to stderr so far. The host writes its log
    /// in batches, so this first asks `/healthz` and waits (up to 10 s) for
    /// that request's access-log line: every line logged before it is then
    /// in. A host that does not answer gives what it wrote.
    pub fn logs(&self) -> String {
        let marker = self
            .agent
            .get(&self.url("/healthz"))
            .call()
            .ok()
            .and_then(|r| {
                r.headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        if let Some(marker) = marker {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !self.stderr.lock().unwrap().contains(&marker)
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a request and reads the whole response.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let result = match body {
            Some(b) => self.agent.run(req.body(b.to_vec()).expect("request")),
            None => self.agent.run(req.body(()).expect("request")),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        // Ledgers run to tens of megabytes; ureq's default cap is 10 MB.
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap_or_default();
        let text = String::from_utf8(bytes.clone()).unwrap_or_default();
        Reply {
            status,
            headers,
            text,
            bytes,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers, None)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, Some(body.to_string().as_bytes()))
    }

    /// Loads the org tree in `file` into the host's database (`jiandu migrate
    /// --orgs`); the host re-reads it on its next request.
    pub fn load_orgs(&self, file: &Path) {
        let migrate = Command::new(jiandu_bin())
            .args(["migrate", "--from"])
            .arg(&self.manifest)
            .arg("--runtime-config-file")
            .arg(&self.runtime_config)
            .args(
                self.postgres
                    .iter()
                    .flat_map(|db| ["--database-url".to_owned(), db.url()]),
            )
            .arg("--orgs")
            .arg(file)
            .output()
            .expect("run jiandu migrate --orgs");
        assert!(
            migrate.status.success(),
            "loading the org tree failed: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
    }

    /// The host's SQLite database file (unused on PostgreSQL), beside its
    /// runtime configuration.
    pub fn db_path(&self) -> PathBuf {
        self.runtime_config
            .parent()
            .expect("the runtime configuration is in a directory")
            .join("jiandu.db")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the host with SIGKILL, as a machine that dies would stop.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Every byte the database holds: on SQLite the files on disk (main
    /// file and write-ahead log); on PostgreSQL every stored value of every
    /// table, byte strings as they are.
    pub fn db_bytes(&self) -> Vec<u8> {
        match &self.postgres {
            Some(db) => db.every_value(),
            None => {
                let mut bytes = std::fs::read(self.db_path()).unwrap_or_default();
                bytes.extend(
                    std::fs::read(self.db_path().with_extension("db-wal")).unwrap_or_default(),
                );
                bytes
            }
        }
    }

    /// The database's URL, for `jiandu` and the worker.
    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some(db) => db.url(),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// Runs a query returning one integer, in the SQL both databases share.
    pub fn count(&self, sql: &str) -> i64 {
        let rows: Vec<i64> = self.column(sql);
        rows.first().copied().expect("a row")
    }

    /// Runs a query returning one text column, in the SQL both databases share.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        self.column(sql)
    }

    /// Runs a query and reads its first column from every row.
    fn column<T>(&self, sql: &str) -> Vec<T>
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + 'static,
    {
        let (url, sql) = (self.database_url(), sql.to_owned());
        runtime().block_on(async move {
            sqlx::any::install_default_drivers();
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("open the test database");
            let rows: Vec<T> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .expect("query");
            pool.close().await;
            rows
        })
    }

    /// A consistent copy of the database at `to` (`VACUUM INTO`), for tests
    /// that play an attacker who has the file.
    pub fn snapshot(&self, to: &Path) {
        execute(
            &self.db_path(),
            &format!(
                "VACUUM INTO '{}'",
                to.display().to_string().replace('\'', "''")
            ),
        );
    }

    /// Polls `check` until it returns true or `within` passes.
    pub fn wait_for(&self, within: Duration, mut check: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if check() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        check()
    }
}

/// Runs SQL statements on a database file, as someone holding the file could.
pub fn execute(db: &Path, sql: &str) {
    let (path, sql) = (db.to_owned(), sql.to_owned());
    runtime().block_on(async move {
        use sqlx::Executor as _;
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .expect("open the database");
        pool.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("statements run");
        pool.close().await;
    });
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- the host's log ---\n{}", self.logs());
        }
    }
}

/// Collects what a child writes to a pipe into a string, as it comes.
pub fn capture(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    let out = sink.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    sink
}

/// The text of `key` in each object of a JSON array, in order.
pub fn texts(array: &serde_json::Value, key: &str) -> Vec<String> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A small runtime for database checks from synchronous tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Writes a manifest serving the testbed component at `/testbed/...` with the
/// given outbound allow-list and a `greeting` variable.
pub fn testbed_manifest(dir: &Path, allowed_outbound_hosts: &[&str]) -> PathBuf {
    let hosts: Vec<String> = allowed_outbound_hosts
        .iter()
        .map(|h| format!("{h:?}"))
        .collect();
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "testbed"
[variables]
greeting = {{ default = "你好" }}
[[trigger.http]]
route = "/testbed/..."
component = "testbed"
[component.testbed]
source = {source:?}
allowed_outbound_hosts = [{hosts}]
sqlite_databases = ["default"]
[component.testbed.variables]
greeting = "{{{{ greeting }}}}"
"#,
        source = component("testbed").display().to_string(),
        hosts = hosts.join(", "),
    );
    let path = dir.join("testbed.toml");
    std::fs::write(&path, manifest).expect("write manifest");
    path
}

/// Asserts that `value` conforms to `schemas/<file>`, as the OpenAPI document promises.
pub fn assert_conforms(file: &str, value: &serde_json::Value) {
    let text = std::fs::read_to_string(repo().join("schemas").join(file)).expect("schema file");
    if let Err(errors) = jiandu_guest::schema::Schema::compile(&text).check(value) {
        panic!("{value} does not conform to {file}: {errors:?}");
    }
}
