//! Activities: everything the workflows do to the world. They write the
//! projections (tasks, states, events) and the outbox, and compute deadline
//! schedules from the calendar. Each is idempotent, because Temporal runs an
//! activity again whenever it cannot tell whether it finished.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use jiandu_domain::calendar::Calendar;
use jiandu_domain::clue::{ClueSource, ClueState, Role};
use jiandu_domain::deadline::{DeadlinePolicy, Span};
use jiandu_domain::escalation::{Schedule, Stage};
use jiandu_domain::flow::{CLUE_WORKFLOW, ClueStarted, EVENT_SIGNAL, FlowEvent};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::WorkerConfig;

/// A human step to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Unique and deterministic: `<workflow id>.<n>.<step>`.
    pub task_id: String,
    /// The workflow that waits for it.
    pub workflow_type: String,
    /// Its id.
    pub workflow_id: String,
    /// `report`, `clue` or `detention`.
    pub subject_kind: String,
    /// The report or clue id.
    pub subject_id: String,
    /// The step's name, e.g. `triage`.
    pub step: String,
    /// The deadline policy's key; `None` for steps without a time limit.
    pub policy: Option<String>,
    /// The article for a step without a time limit.
    pub article: Option<String>,
    /// A span in months replacing the policy's (a detention extension).
    pub months: Option<u32>,
    /// When the deadline starts counting, RFC 3339; default: when the task opens.
    pub counted_from: Option<String>,
    /// Who must act.
    pub role: Role,
    /// What they may answer.
    pub outcomes: Vec<String>,
}

/// When the rungs of an opened task's ladder are reached, from now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// Each rung and the milliseconds until it.
    pub rungs: Vec<(Stage, u64)>,
}

/// A rung reached by a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RungReached {
    /// The task.
    pub task_id: String,
    /// The rung.
    pub stage: Stage,
}

/// A task that is done or no longer needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskClosed {
    /// The task.
    pub task_id: String,
    /// The outcome, or `cancelled`.
    pub outcome: String,
    /// The report or reason given.
    pub note: Option<String>,
    /// Who did it.
    pub by: String,
}

/// A new state of a report, clue or detention, with the event that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// `report`, `clue` or `detention` (keyed by clue id).
    pub subject_kind: String,
    /// The id.
    pub subject_id: String,
    /// The new state.
    pub state: String,
    /// The event name, e.g. `accepted`.
    pub event: String,
    /// A note. For reports it is shown to the reporter: never put identities here.
    pub note: Option<String>,
    /// Deduplicates the event when the activity runs twice.
    pub key: String,
}

/// A clue registered from an accepted report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClueFromReport {
    /// The report.
    pub report_id: String,
    /// The clue's id.
    pub clue_id: String,
}

/// A message for another workflow, through the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The receiving workflow's type.
    pub workflow_type: String,
    /// Its id.
    pub workflow_id: String,
    /// The message.
    pub event: FlowEvent,
}

/// The activities, with the database and configuration they use.
pub struct Projections {
    pool: SqlitePool,
    config: WorkerConfig,
}

/// Opens the database the projections go to.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    sqlx::pool::PoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format as RFC 3339")
}

fn parse_time(s: &str) -> Result<OffsetDateTime, ActivityError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| anyhow::anyhow!("`{s}` is not an RFC 3339 time: {e}").into())
}

impl Projections {
    /// Activities over `pool`, configured by `config`.
    pub fn new(pool: SqlitePool, config: WorkerConfig) -> Self {
        Self { pool, config }
    }

    fn policy(spec: &TaskSpec) -> Result<Option<DeadlinePolicy>, ActivityError> {
        let Some(key) = &spec.policy else {
            return Ok(None);
        };
        let mut policy = DeadlinePolicy::by_key(key)
            .ok_or_else(|| anyhow::anyhow!("no deadline policy `{key}`"))?;
        if let Some(months) = spec.months {
            policy.span = Span::Months(months);
        }
        Ok(Some(policy))
    }
}

#[activities]
impl Projections {
    /// Opens a task (or finds it opened by an earlier attempt) and plans its ladder.
    #[activity(name = "open_task")]
    pub async fn open_task(
        self: Arc<Self>,
        _ctx: ActivityContext,
        spec: TaskSpec,
    ) -> Result<TaskPlan, ActivityError> {
        let policy = Self::policy(&spec)?;
        let opened_at = now();
        let start = match &spec.counted_from {
            Some(from) => parse_time(from)?,
            None => opened_at,
        };
        let org = self.config.orgs.of(spec.role).to_owned();
        let schedule = policy.map(|p| {
            Schedule::plan(
                &p,
                self.config.ladder(&p),
                start,
                Calendar::official(),
                self.config.pace,
            )
        });
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO tasks (id, workflow_type, workflow_id, subject_kind, subject_id, step, duty, policy,
                                article, statutory, assignee_org, assignee_role, outcomes, opened_at,
                                due_date, due_at, due_estimated, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&spec.task_id)
        .bind(&spec.workflow_type)
        .bind(&spec.workflow_id)
        .bind(&spec.subject_kind)
        .bind(&spec.subject_id)
        .bind(&spec.step)
        .bind(policy.map_or("no statutory time limit", |p| p.duty))
        .bind(&spec.policy)
        .bind(
            policy
                .map(|p| p.article.to_owned())
                .or_else(|| spec.article.clone())
                .unwrap_or_default(),
        )
        .bind(policy.is_some_and(|p| p.statutory))
        .bind(&org)
        .bind(spec.role.as_str())
        .bind(serde_json::to_string(&spec.outcomes)?)
        .bind(rfc3339(opened_at))
        .bind(schedule.as_ref().map(|s| s.due_date.to_string()))
        .bind(schedule.as_ref().map(|s| rfc3339(s.due_at)))
        .bind(schedule.as_ref().is_some_and(|s| s.estimated))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            let detail = match &schedule {
                Some(s) if s.estimated => format!(
                    "due {}; estimated: the calendar does not know every year counted, so only weekends were skipped",
                    s.due_date
                ),
                Some(s) => format!("due {}", s.due_date),
                None => "no time limit".to_owned(),
            };
            if schedule.as_ref().is_some_and(|s| s.estimated) {
                tracing::warn!(task = %spec.task_id, "deadline past the last known calendar year: weekends only");
            }
            event(
                &mut tx,
                &spec.task_id,
                "opened",
                Some(&detail),
                &format!("{}:opened", spec.task_id),
            )
            .await?;
        }
        tx.commit().await?;
        // A retried attempt finds the task already open; count from its first opening.
        let (opened,): (String,) = sqlx::query_as("SELECT opened_at FROM tasks WHERE id = ?")
            .bind(&spec.task_id)
            .fetch_one(&self.pool)
            .await?;
        let first_opened = parse_time(&opened)?;
        let start = spec
            .counted_from
            .as_deref()
            .map_or(Ok(first_opened), parse_time)?;
        let elapsed = Duration::try_from(now() - start).unwrap_or(Duration::ZERO);
        let rungs = schedule
            .map(|s| {
                s.rungs
                    .into_iter()
                    .map(|(stage, at)| (stage, at.saturating_sub(elapsed).as_millis() as u64))
                    .collect()
            })
            .unwrap_or_default();
        tracing::info!(task = %spec.task_id, step = %spec.step, role = spec.role.as_str(), %org, "task opened");
        Ok(TaskPlan { rungs })
    }

    /// How long a span of the policy `key` that starts now runs, in ms, at the configured pace.
    #[activity(name = "span_ms")]
    pub async fn span_ms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        key: String,
    ) -> Result<u64, ActivityError> {
        let policy = DeadlinePolicy::by_key(&key)
            .ok_or_else(|| anyhow::anyhow!("no deadline policy `{key}`"))?;
        let start = now();
        let schedule = Schedule::plan(
            &policy,
            self.config.ladder(&policy),
            start,
            Calendar::official(),
            self.config.pace,
        );
        Ok(Duration::try_from(schedule.due_at - start)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64)
    }

    /// Records a rung reached: 催办, 逾期督办 or 提级.
    #[activity(name = "record_rung")]
    pub async fn record_rung(
        self: Arc<Self>,
        _ctx: ActivityContext,
        rung: RungReached,
    ) -> Result<(), ActivityError> {
        let (role,): (String,) = sqlx::query_as("SELECT assignee_role FROM tasks WHERE id = ?")
            .bind(&rung.task_id)
            .fetch_one(&self.pool)
            .await?;
        let role: Role = serde_json::from_value(serde_json::Value::String(role))?;
        let orgs = &self.config.orgs;
        let (to, detail) = match rung.stage {
            Stage::Reminder => (None, "催办: the assignee was reminded".to_owned()),
            Stage::Overdue => {
                let (r, o) = orgs.supervisor(role);
                let to = format!("{}@{o}", r.as_str());
                (
                    Some(to.clone()),
                    format!("逾期督办: overdue; {to} presses it"),
                )
            }
            Stage::Elevated => {
                let (r, o) = orgs.level_up(role);
                let to = format!("{}@{o}", r.as_str());
                (Some(to.clone()), format!("提级: elevated to {to}"))
            }
        };
        let mut tx = self.pool.begin().await?;
        let key = format!("{}:{}", rung.task_id, rung.stage.event());
        if event(
            &mut tx,
            &rung.task_id,
            rung.stage.event(),
            Some(&detail),
            &key,
        )
        .await?
        {
            sqlx::query(
                "UPDATE tasks SET
                    reminders_sent = reminders_sent + (? = 'reminder'),
                    escalation_level = max(escalation_level, ?),
                    escalated_to = coalesce(?, escalated_to),
                    status = CASE WHEN status = 'open' AND ? > 0 THEN 'overdue' ELSE status END
                 WHERE id = ? AND status IN ('open', 'overdue')",
            )
            .bind(rung.stage.event())
            .bind(rung.stage.level())
            .bind(&to)
            .bind(rung.stage.level())
            .bind(&rung.task_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::warn!(task = %rung.task_id, stage = rung.stage.event(), "{detail}");
        Ok(())
    }

    /// Closes a task with its outcome.
    #[activity(name = "close_task")]
    pub async fn close_task(
        self: Arc<Self>,
        _ctx: ActivityContext,
        closed: TaskClosed,
    ) -> Result<(), ActivityError> {
        let status = if closed.outcome == "cancelled" {
            "cancelled"
        } else {
            "done"
        };
        let mut tx = self.pool.begin().await?;
        let detail = format!("{} by {}", closed.outcome, closed.by);
        if event(
            &mut tx,
            &closed.task_id,
            status,
            Some(&detail),
            &format!("{}:closed", closed.task_id),
        )
        .await?
        {
            sqlx::query(
                "UPDATE tasks SET status = ?, outcome = ?, note = ?, closed_at = ? WHERE id = ?",
            )
            .bind(status)
            .bind(&closed.outcome)
            .bind(&closed.note)
            .bind(rfc3339(now()))
            .bind(&closed.task_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(task = %closed.task_id, outcome = %closed.outcome, "task closed");
        Ok(())
    }

    /// Projects a new state of a report, clue or detention and records the event.
    #[activity(name = "change_state")]
    pub async fn change_state(
        self: Arc<Self>,
        _ctx: ActivityContext,
        change: StateChange,
    ) -> Result<(), ActivityError> {
        let at = rfc3339(now());
        let mut tx = self.pool.begin().await?;
        let (table, id_column, state_column) = match change.subject_kind.as_str() {
            "report" => ("reports", "id", "status"),
            "clue" => ("clues", "id", "state"),
            "detention" => ("detentions", "clue_id", "state"),
            other => return Err(anyhow::anyhow!("unknown subject kind `{other}`").into()),
        };
        let events = if change.subject_kind == "report" {
            "INSERT INTO report_events (report_id, at, event, note, dedup_key) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING"
        } else {
            "INSERT INTO clue_events (clue_id, at, event, note, dedup_key) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING"
        };
        let fresh = sqlx::query(events)
            .bind(&change.subject_id)
            .bind(&at)
            .bind(&change.event)
            .bind(&change.note)
            .bind(&change.key)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if fresh {
            let update = format!("UPDATE {table} SET {state_column} = ? WHERE {id_column} = ?");
            sqlx::query(sqlx::AssertSqlSafe(update))
                .bind(&change.state)
                .bind(&change.subject_id)
                .execute(&mut *tx)
                .await?;
            if change.subject_kind == "detention"
                && change.state == "in_effect"
                && change.event == "announced"
            {
                sqlx::query("UPDATE detentions SET announced_at = ? WHERE clue_id = ?")
                    .bind(&at)
                    .bind(&change.subject_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if change.subject_kind == "detention" && change.event == "extended" {
                sqlx::query("UPDATE detentions SET extensions = extensions + 1 WHERE clue_id = ?")
                    .bind(&change.subject_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(kind = %change.subject_kind, id = %change.subject_id, state = %change.state, event = %change.event, "state changed");
        Ok(())
    }

    /// Registers the clue an accepted report becomes and queues its workflow's start.
    #[activity(name = "open_clue")]
    pub async fn open_clue(
        self: Arc<Self>,
        _ctx: ActivityContext,
        from: ClueFromReport,
    ) -> Result<(), ActivityError> {
        let at = rfc3339(now());
        let started = ClueStarted {
            clue_id: from.clue_id.clone(),
            source: ClueSource::Report,
            report_id: Some(from.report_id.clone()),
            registered_at: at.clone(),
        };
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO clues (id, source, report_id, org, summary, state, registered_by, registered_at, updated_at)
             VALUES (?, 'report', ?, ?, 'registered from an accepted report', ?, 'ReportWorkflow', ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&from.clue_id)
        .bind(&from.report_id)
        .bind(&self.config.orgs.commission)
        .bind(ClueState::Assignment.as_str())
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            outbox(
                &mut tx,
                "start",
                CLUE_WORKFLOW,
                &from.clue_id,
                None,
                &serde_json::to_string(&started)?,
                &format!("start:{}", from.clue_id),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(report = %from.report_id, clue = %from.clue_id, "clue registered from report");
        Ok(())
    }

    /// Sends another workflow a message through the outbox.
    #[activity(name = "notify")]
    pub async fn notify(
        self: Arc<Self>,
        _ctx: ActivityContext,
        notice: Notice,
    ) -> Result<(), ActivityError> {
        let mut tx = self.pool.begin().await?;
        outbox(
            &mut tx,
            "signal",
            &notice.workflow_type,
            &notice.workflow_id,
            Some(EVENT_SIGNAL),
            &serde_json::to_string(&notice.event)?,
            &notice.event.key,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// 检控 Art. 15: a report about this commission's own head goes up and no
    /// local copy is kept — its content, subject and sealed identity are erased.
    #[activity(name = "erase_report")]
    pub async fn erase_report(
        self: Arc<Self>,
        _ctx: ActivityContext,
        report_id: String,
    ) -> Result<(), ActivityError> {
        sqlx::query(
            "UPDATE reports SET content = '', subject = '{}', attachments = '[]', identity_sealed = NULL,
                                real_name = 0
             WHERE id = ?",
        )
        .bind(&report_id)
        .execute(&self.pool)
        .await?;
        tracing::info!(report = %report_id, "report erased after being sent up (检控 Art. 15)");
        Ok(())
    }
}

/// Appends a task event; false if it was already there.
async fn event(
    tx: &mut sqlx::SqliteConnection,
    task_id: &str,
    kind: &str,
    detail: Option<&str>,
    key: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO task_events (task_id, at, kind, detail, dedup_key) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(task_id)
    .bind(rfc3339(now()))
    .bind(kind)
    .bind(detail)
    .bind(key)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Queues work for the relay, once per idempotency key.
async fn outbox(
    tx: &mut sqlx::SqliteConnection,
    kind: &str,
    workflow_type: &str,
    workflow_id: &str,
    signal: Option<&str>,
    payload: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (kind, workflow_type, workflow_id, signal_name, payload, idempotency_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(kind)
    .bind(workflow_type)
    .bind(workflow_id)
    .bind(signal)
    .bind(payload)
    .bind(key)
    .bind(rfc3339(now()))
    .execute(tx)
    .await?;
    Ok(())
}
