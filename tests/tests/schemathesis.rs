//! Schemathesis (PyPI) against the whole running stack: it loads the OpenAPI
//! document from its URL, as a client would, and runs every check it has —
//! schema conformance of each answer, undeclared methods and statuses,
//! schema-valid bodies refused and schema-invalid ones accepted, resources
//! that vanish after being created — with a staff token. Any finding fails.
//!
//! What the run may and may not expect is in `tests/schemathesis.toml`, each
//! exception with its reason.

use std::process::Command;

use jiandu_domain::org::Role;
use jiandu_tests::temporal::{Temporal, Worker};
use jiandu_tests::{Host, person, repo, token_for};

/// 市中区: the district commission whose staff the run acts as.
const DISTRICT: &str = "370402";

/// The `st` CLI: `JIANDU_SCHEMATHESIS_BIN`, else the project's `.venv`
/// (where `cargo xtask test` installs it).
fn schemathesis_bin() -> std::path::PathBuf {
    std::env::var_os("JIANDU_SCHEMATHESIS_BIN")
        .map_or_else(|| repo().join(".venv/bin/st"), Into::into)
}

#[test]
fn schemathesis_finds_nothing_in_the_served_document() {
    let host = Host::start_product();
    let temporal = Temporal::start();
    let _worker = Worker::start(&host, &temporal, &[]);
    let roles = [
        Role::Head,
        Role::Petitions,
        Role::Office,
        Role::CaseManagement,
    ];
    let token = token_for(&person(Role::Head, DISTRICT), DISTRICT, &roles);
    // Schemathesis writes its reports under its working directory.
    let scratch = tempfile::tempdir().unwrap();

    let out = Command::new(schemathesis_bin())
        .arg("--config-file")
        .arg(repo().join("tests/schemathesis.toml"))
        .arg("run")
        .arg(host.url("/api/v1/openapi.json"))
        .args(["--checks", "all"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .current_dir(scratch.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run {} (cargo xtask test installs it): {e}",
                schemathesis_bin().display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr),
    );
    // A run that tested nothing would also exit 0: its summary says
    // "N generated, M passed".
    let passed = stdout
        .lines()
        .find_map(|l| l.split_once(" generated, ")?.1.split_once(" passed"))
        .and_then(|(n, _)| n.trim().parse::<u64>().ok());
    assert!(
        passed.is_some_and(|n| n > 0),
        "nothing was tested:\n{stdout}"
    );
}
