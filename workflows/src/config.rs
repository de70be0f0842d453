//! The worker's configuration: defaults for the embedded setup, each
//! overridden by an environment variable (see the README's configuration table).

use std::collections::HashMap;
use std::time::Duration;

use jiandu_domain::deadline::DeadlinePolicy;
use jiandu_domain::escalation::{Ladder, Pace};

/// A configuration value could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value}: {problem}")]
pub struct ConfigError {
    name: String,
    value: String,
    problem: String,
}

/// Everything the worker needs to know.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Temporal frontend (`TEMPORAL_ADDRESS`, default `127.0.0.1:7233`).
    pub temporal_address: String,
    /// Temporal namespace (`TEMPORAL_NAMESPACE`, default `default`).
    pub namespace: String,
    /// Task queue for workflows and activities (`JIANDU_TASK_QUEUE`, default `jiandu`).
    pub task_queue: String,
    /// The database the projections go to (`JIANDU_DATABASE_URL`, default `sqlite://data/default.db`).
    pub database_url: String,
    /// How fast deadlines run (`JIANDU_TIME_SCALE`: unset or `real`, or the
    /// length of one working day, e.g. `200ms`, `2s`).
    pub pace: Pace,
    /// Escalation ladders that differ from the default, by policy key
    /// (`JIANDU_LADDER_<POLICY>=remind_before,grace`, e.g. `JIANDU_LADDER_INQUIRY_REPLY=5,3`).
    pub ladders: HashMap<&'static str, Ladder>,
    /// Outbox rows the relay reads per pass (`JIANDU_RELAY_BATCH`, default 100).
    pub relay_batch: u32,
    /// How often an idle relay looks for new rows (`JIANDU_RELAY_POLL_MS`, default 200).
    pub relay_poll: Duration,
    /// The Ed25519 key that signs audit checkpoints (`JIANDU_AUDIT_KEY_FILE`,
    /// default `data/audit.key`; created on first use).
    pub audit_key: std::path::PathBuf,
    /// How often the audit log is checked and a checkpoint signed
    /// (`JIANDU_AUDIT_CHECKPOINT_SECS`, default 60).
    pub audit_checkpoint_every: Duration,
    /// Where ledger exports write their work files before storing them
    /// (`JIANDU_EXPORT_DIR`, default the system's temporary directory).
    pub export_dir: std::path::PathBuf,
    /// Roster lines a screening run joins per transaction
    /// (`JIANDU_SCREENING_BATCH`, default 50,000).
    pub screening_batch: i64,
    /// Open workflows the worker keeps in memory between their tasks
    /// (`JIANDU_WORKFLOW_CACHE`, default 2,000; about 110 KB each). One that
    /// is not cached is replayed from its history when its next task comes.
    /// Bigger is not better: the SDK (sdk-core 0.10) walks every cached
    /// workflow on each event it handles, so with 10,000 cached that walk
    /// took 71% of the worker's time while 10,000 deadlines fell due, and
    /// 2,000 recorded their rungs several times sooner.
    pub workflow_cache: usize,
    /// How long a workflow task waits for the worker that has its workflow
    /// cached before the server offers it to any worker
    /// (`JIANDU_STICKY_TIMEOUT_SECS`, default 60; the SDK's is 10). Under a
    /// backlog longer than this, each task that waited so long was sent again
    /// through the shared queue with its whole history, work that deepened
    /// the backlog.
    pub sticky_timeout: Duration,
}

impl WorkerConfig {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        let mut ladders = HashMap::new();
        for policy in jiandu_domain::deadline::ALL {
            let name = format!("JIANDU_LADDER_{}", policy.key.to_ascii_uppercase());
            if let Ok(value) = std::env::var(&name) {
                ladders.insert(policy.key, parse_ladder(&name, &value)?);
            }
        }
        let number = |name: &str, default: u64| -> Result<u64, ConfigError> {
            match std::env::var(name) {
                Ok(v) => v.parse().map_err(|_| ConfigError {
                    name: name.into(),
                    value: v,
                    problem: "not a whole number; unset it to use the default".into(),
                }),
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            temporal_address: var("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            namespace: var("TEMPORAL_NAMESPACE", "default"),
            task_queue: var("JIANDU_TASK_QUEUE", "jiandu"),
            database_url: var("JIANDU_DATABASE_URL", "sqlite://data/default.db"),
            pace: parse_pace(&var("JIANDU_TIME_SCALE", "real"))?,
            ladders,
            relay_batch: number("JIANDU_RELAY_BATCH", 100)? as u32,
            relay_poll: Duration::from_millis(number("JIANDU_RELAY_POLL_MS", 200)?),
            audit_key: var("JIANDU_AUDIT_KEY_FILE", "data/audit.key").into(),
            audit_checkpoint_every: Duration::from_secs(
                number("JIANDU_AUDIT_CHECKPOINT_SECS", 60)?.max(1),
            ),
            screening_batch: number("JIANDU_SCREENING_BATCH", 50_000)?.max(1) as i64,
            workflow_cache: number("JIANDU_WORKFLOW_CACHE", 2_000)? as usize,
            sticky_timeout: Duration::from_secs(number("JIANDU_STICKY_TIMEOUT_SECS", 60)?.max(1)),
            export_dir: std::env::var_os("JIANDU_EXPORT_DIR")
                .map_or_else(std::env::temp_dir, Into::into),
        })
    }

    /// The ladder a policy's steps climb.
    pub fn ladder(&self, policy: &DeadlinePolicy) -> Ladder {
        self.ladders
            .get(policy.key)
            .copied()
            .unwrap_or_else(|| Ladder::default_for(policy))
    }
}

/// `real`, or a duration such as `200ms`, `2s`, `1h`.
fn parse_pace(value: &str) -> Result<Pace, ConfigError> {
    if value == "real" || value.is_empty() {
        return Ok(Pace::RealTime);
    }
    let error = || ConfigError {
        name: "JIANDU_TIME_SCALE".into(),
        value: value.into(),
        problem: "expected `real` or the length of one working day, like `200ms`, `2s` or `1h`"
            .into(),
    };
    let (number, unit) = value.split_at(
        value
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(error)?,
    );
    let n: u64 = number.parse().map_err(|_| error())?;
    let working_day = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(error()),
    };
    if working_day.is_zero() {
        return Err(error());
    }
    Ok(Pace::Scaled { working_day })
}

fn parse_ladder(name: &str, value: &str) -> Result<Ladder, ConfigError> {
    let parsed = value
        .split_once(',')
        .and_then(|(r, g)| Some((r.trim().parse().ok()?, g.trim().parse().ok()?)));
    match parsed {
        Some((remind_before, grace)) => Ok(Ladder {
            remind_before,
            grace,
        }),
        None => Err(ConfigError {
            name: name.into(),
            value: value.into(),
            problem:
                "expected `remind_before,grace` in working days (hours for hour limits), like `3,2`"
                    .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_and_ladders_parse() {
        assert_eq!(parse_pace("real").unwrap(), Pace::RealTime);
        assert_eq!(
            parse_pace("200ms").unwrap(),
            Pace::Scaled {
                working_day: Duration::from_millis(200)
            }
        );
        assert!(parse_pace("fast").is_err());
        assert!(parse_pace("0s").is_err());
        assert_eq!(
            parse_ladder("X", "5, 1").unwrap(),
            Ladder {
                remind_before: 5,
                grace: 1
            }
        );
        assert!(parse_ladder("X", "5").is_err());
    }
}
