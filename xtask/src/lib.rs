//! What the project's commands share with the test harness: how the
//! Temporal dev server is started.

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

/// Adds what every dev server runs with, from
/// `deploy/temporal-dev-server.args` (read by `cargo xtask up`, the tests and
/// the benchmark): its arguments, and the variables its `env NAME=VALUE`
/// lines set. `root` is the repository.
pub fn with_dev_server_settings<'c>(
    command: &'c mut Command,
    root: &Path,
) -> anyhow::Result<&'c mut Command> {
    let path = root.join("deploy/temporal-dev-server.args");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    for line in lines {
        match line.strip_prefix("env ") {
            Some(assignment) => {
                let (name, value) = assignment.split_once('=').with_context(|| {
                    format!("{}: `{line}` is not `env NAME=VALUE`", path.display())
                })?;
                command.env(name, value);
            }
            None => {
                command.arg(line);
            }
        }
    }
    Ok(command)
}
