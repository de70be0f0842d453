//! Activities: everything the workflows do to the world. They write the
//! projections (tasks, states, events) and the outbox, and compute deadline
//! schedules from the calendar. Each is idempotent, because Temporal runs an
//! activity again whenever it cannot tell whether it finished.

use std::sync::Arc;
use std::time::Duration;

use jiandu_domain::calendar::Calendar;
use jiandu_domain::clue::{ClueSource, ClueState};
use jiandu_domain::deadline::{DeadlinePolicy, Span};
use jiandu_domain::escalation::{Schedule, Stage, until_end_of};
use jiandu_domain::flow::{
    CLUE_WORKFLOW, ClueStarted, EVENT_SIGNAL, ElevationAction, FlowEvent, start_key,
};
use jiandu_domain::org::{OrgTree, Role};
use jiandu_domain::step::{Outcome, StepName, SubjectKind, TaskStatus};
use serde::{Deserialize, Serialize};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;

use crate::config::WorkerConfig;
use crate::store::projections::{self as sql, NewTask, Queued, ReportClue, SubjectEvent, Term};
use crate::store::{self, Pool};

/// Which org must act on a step, as the workflow names it; the activity
/// finds the org in the tree and records it on the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// This org.
    Org(String),
    /// 上一级监委 — the commission that leads this commission (监察法 Art. 47).
    HigherCommissionOf(String),
    /// 同级党委 — the Party committee of this commission's level (规则 Art. 38).
    PartyCommitteeOf(String),
    /// 国家监委 — the commission at the top of the tree.
    National,
}

/// A human step to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Unique and deterministic: `<workflow id>.<n>.<step>`.
    pub task_id: String,
    /// The workflow that waits for it.
    pub workflow_type: String,
    /// Its id.
    pub workflow_id: String,
    /// What the task is about.
    pub subject_kind: SubjectKind,
    /// The report or clue id.
    pub subject_id: String,
    /// The step.
    pub step: StepName,
    /// The deadline policy's key; `None` for steps without a time limit.
    pub policy: Option<String>,
    /// The article the step cites.
    pub article: String,
    /// A span in months replacing the policy's (a detention extension).
    pub months: Option<u32>,
    /// A span in days replacing the policy's (a campaign's own deadline).
    #[serde(default)]
    pub days: Option<u32>,
    /// When the deadline starts counting, RFC 3339; default: when the task opens.
    pub counted_from: Option<String>,
    /// Which org must act.
    pub assignee: Assignee,
    /// The position in that org that must act.
    pub role: Role,
    /// What they may answer.
    pub outcomes: Vec<Outcome>,
    /// Who asked for it; they may not answer it.
    pub requested_by: Option<String>,
    /// A role of the assignee's org that may not see it (回避).
    pub withheld_from: Option<Role>,
    /// Why it goes to this org rather than the usual one (提级监督), shown on the task.
    #[serde(default)]
    pub basis: Option<String>,
}

/// Where an opened task went, when it is due, and when the rungs of its
/// ladder are reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// The org it was assigned to.
    pub org: String,
    /// The last day it is on time (YYYY-MM-DD), for a timed step.
    pub due_date: Option<String>,
    /// Each rung and the milliseconds from `planned_at_ms` until it.
    pub rungs: Vec<(Stage, u64)>,
    /// When the rungs were counted (ms since the epoch). The workflow counts
    /// from this, not from when it hears of the plan, which under load is
    /// later by however long the activity's completion queued. Absent in
    /// histories recorded before it existed: those count from the workflow's time.
    #[serde(default)]
    pub planned_at_ms: Option<u64>,
}

/// A span of a policy in months, set per subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthsOf {
    /// The policy's key.
    pub key: String,
    /// How many months.
    pub months: u32,
}

/// A rung reached by a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RungReached {
    /// The task.
    pub task_id: String,
    /// The rung.
    pub stage: Stage,
    /// 0 for the step's own ladder, then one more per new due date (提级).
    #[serde(default)]
    pub round: u32,
}

/// What the commission a late step was elevated to decided (提级).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// The task.
    pub task_id: String,
    /// A new due date, or taking the step over.
    pub action: ElevationAction,
    /// Why.
    pub reason: String,
    /// Who decided.
    pub by: String,
    /// The decision's event key, so that it is recorded once.
    pub key: String,
}

/// A task that is done or no longer needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskClosed {
    /// The task.
    pub task_id: String,
    /// The outcome.
    pub outcome: Outcome,
    /// The report or reason given.
    pub note: Option<String>,
    /// Who did it.
    pub by: String,
}

/// A new state of a report, clue or detention, with the event that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// What changed (a detention is keyed by its clue id).
    pub subject_kind: SubjectKind,
    /// The id.
    pub subject_id: String,
    /// The new state, or `None` for an event that changes none.
    pub state: Option<String>,
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
    /// The commission that holds the report, and so the clue.
    pub org: String,
}

/// A detention's term as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetentionTerm {
    /// The clue.
    pub clue_id: String,
    /// When it was announced, RFC 3339.
    pub announced_at: String,
    /// Extensions granted.
    pub extensions: u32,
    /// The term's last day, YYYY-MM-DD.
    pub ends_on: String,
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
    pool: Pool,
    config: WorkerConfig,
    /// The org tree as last read, and its version.
    tree: Mutex<Option<(i64, Arc<OrgTree>)>>,
}

/// A failure that retrying cannot mend: the workflow fails with it, and it
/// is on the subject's timeline.
fn bad_input(message: String) -> ActivityError {
    ActivityError::application(ApplicationFailure::non_retryable(anyhow::anyhow!(message)))
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format as RFC 3339")
}

fn parse_time(s: &str) -> Result<OffsetDateTime, ActivityError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| anyhow::anyhow!("`{s}` is not an RFC 3339 time: {e}").into())
}

impl Projections {
    /// Activities over `pool`, configured by `config`.
    pub fn new(pool: Pool, config: WorkerConfig) -> Self {
        Self {
            pool,
            config,
            tree: Mutex::new(None),
        }
    }

    /// The org tree, read again only when `jiandu migrate` loaded a new version.
    async fn tree(&self) -> Result<Arc<OrgTree>, ActivityError> {
        let version = sql::org_tree_version(&self.pool).await?.ok_or_else(|| {
            anyhow::anyhow!("no org tree is loaded: run `jiandu migrate --orgs FILE`")
        })?;
        let mut cache = self.tree.lock().await;
        if let Some((cached, tree)) = cache.as_ref()
            && *cached == version
        {
            return Ok(tree.clone());
        }
        let (version, tree) = sql::org_tree(&self.pool).await?;
        let tree = OrgTree::parse(&tree)
            .map_err(|e| anyhow::anyhow!("the stored org tree is invalid: {e:?}"))?;
        let tree = Arc::new(tree);
        *cache = Some((version, tree.clone()));
        Ok(tree)
    }

    /// The org an assignee names, from the tree.
    fn resolve(tree: &OrgTree, assignee: &Assignee) -> Result<String, String> {
        let org = match assignee {
            Assignee::Org(id) => tree.get(id),
            Assignee::HigherCommissionOf(id) => tree.higher_commission(id),
            Assignee::PartyCommitteeOf(id) => tree.party_committee_of(id),
            Assignee::National => tree.national(),
        };
        org.map(|o| o.id.clone())
            .ok_or_else(|| format!("the org tree has no org for {assignee:?}"))
    }

    /// Records on the subject's timeline why its workflow cannot go on.
    async fn record_failure(&self, spec: &TaskSpec, why: &str) -> Result<(), ActivityError> {
        let change = StateChange {
            subject_kind: spec.subject_kind,
            subject_id: spec.subject_id.clone(),
            state: None,
            event: "failed".to_owned(),
            note: Some(why.to_owned()),
            key: format!("{}:failed", spec.task_id),
        };
        self.write_state(&change).await
    }

    fn policy(spec: &TaskSpec) -> Result<Option<DeadlinePolicy>, ActivityError> {
        let Some(key) = &spec.policy else {
            return Ok(None);
        };
        let mut policy = DeadlinePolicy::by_key(key)
            .ok_or_else(|| bad_input(format!("no deadline policy `{key}`")))?;
        if let Some(months) = spec.months {
            policy.span = Span::Months(months);
        }
        if let Some(days) = spec.days {
            policy.span = Span::Days(days);
        }
        Ok(Some(policy))
    }
}

impl Projections {
    /// How long a span of `policy` that starts now runs, in ms, at the configured pace.
    fn span_of(&self, policy: DeadlinePolicy) -> u64 {
        let start = now();
        let schedule = Schedule::plan(
            &policy,
            self.config.ladder(&policy),
            start,
            Calendar::official(),
            self.config.pace,
        );
        Duration::try_from(schedule.due_at - start)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64
    }

    /// Writes a subject's event and, with it, its new state.
    async fn write_state(&self, change: &StateChange) -> Result<(), ActivityError> {
        let at = rfc3339(now());
        let mut tx = store::begin_write(&self.pool).await?;
        let event = SubjectEvent {
            kind: change.subject_kind,
            id: &change.subject_id,
            at: &at,
            event: &change.event,
            note: change.note.as_deref(),
            key: &change.key,
        };
        let fresh = sql::insert_subject_event(&mut tx, &event).await?;
        if fresh && let Some(state) = &change.state {
            sql::set_subject_state(&mut tx, change.subject_kind, &change.subject_id, state).await?;
        }
        tx.commit().await?;
        tracing::info!(kind = %change.subject_kind, id = %change.subject_id, state = ?change.state, event = %change.event, "state changed");
        Ok(())
    }
}

#[activities]
impl Projections {
    /// Opens a task (or finds it opened by an earlier attempt), assigns it
    /// to the org the tree gives, and plans its ladder.
    #[activity(name = "open_task")]
    pub async fn open_task(
        self: Arc<Self>,
        _ctx: ActivityContext,
        spec: TaskSpec,
    ) -> Result<TaskPlan, ActivityError> {
        let policy = Self::policy(&spec)?;
        let tree = self.tree().await?;
        let org = match Self::resolve(&tree, &spec.assignee) {
            Ok(org) => org,
            Err(why) => {
                self.record_failure(&spec, &why).await?;
                return Err(bad_input(why));
            }
        };
        let opened_at = now();
        let start = match &spec.counted_from {
            Some(from) => parse_time(from)?,
            None => opened_at,
        };
        let schedule = policy.map(|p| {
            Schedule::plan(
                &p,
                self.config.ladder(&p),
                start,
                Calendar::official(),
                self.config.pace,
            )
        });
        let mut tx = store::begin_write(&self.pool).await?;
        let task = NewTask {
            id: &spec.task_id,
            workflow_type: &spec.workflow_type,
            workflow_id: &spec.workflow_id,
            subject_kind: spec.subject_kind.as_str(),
            subject_id: &spec.subject_id,
            step: spec.step.as_str(),
            duty: policy.map_or("no statutory time limit", |p| p.duty),
            policy: spec.policy.as_deref(),
            article: &spec.article,
            statutory: policy.is_some_and(|p| p.statutory),
            assignee_org: &org,
            assignee_role: spec.role.as_str(),
            outcomes: serde_json::to_string(&spec.outcomes)?,
            opened_at: rfc3339(opened_at),
            due_date: schedule.as_ref().map(|s| s.due_date.to_string()),
            due_at: schedule.as_ref().map(|s| rfc3339(s.due_at)),
            due_estimated: schedule.as_ref().is_some_and(|s| s.estimated),
            requested_by: spec.requested_by.as_deref(),
            withheld_from: spec.withheld_from.map(Role::as_str),
            assignment_basis: spec.basis.as_deref(),
        };
        let inserted = sql::insert_task(&mut tx, task).await?;
        if inserted {
            let mut detail = match &schedule {
                Some(s) if s.estimated => format!(
                    "assigned to {} of {org}; due {}; estimated: the calendar does not know every year counted, so only weekends were skipped",
                    spec.role, s.due_date
                ),
                Some(s) => format!("assigned to {} of {org}; due {}", spec.role, s.due_date),
                None => format!("assigned to {} of {org}; no time limit", spec.role),
            };
            if let Some(basis) = &spec.basis {
                detail = format!("{detail}; {basis}");
            }
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
        let opened = sql::task_assignment(&self.pool, &spec.task_id).await?;
        let first_opened = parse_time(&opened.opened_at)?;
        let org = opened.assignee_org;
        let start = spec
            .counted_from
            .as_deref()
            .map_or(Ok(first_opened), parse_time)?;
        let planned_at = now();
        let elapsed = Duration::try_from(planned_at - start).unwrap_or(Duration::ZERO);
        let due_date = schedule.as_ref().map(|s| s.due_date.to_string());
        let rungs = schedule
            .map(|s| {
                s.rungs
                    .into_iter()
                    .map(|(stage, at)| (stage, at.saturating_sub(elapsed).as_millis() as u64))
                    .collect()
            })
            .unwrap_or_default();
        tracing::info!(task = %spec.task_id, step = %spec.step, role = %spec.role, %org, "task opened");
        Ok(TaskPlan {
            org,
            due_date,
            rungs,
            planned_at_ms: Some((planned_at.unix_timestamp_nanos() / 1_000_000) as u64),
        })
    }

    /// How long a span of the policy `key` that starts now runs, in ms, at the configured pace.
    #[activity(name = "span_ms")]
    pub async fn span_ms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        key: String,
    ) -> Result<u64, ActivityError> {
        let policy = DeadlinePolicy::by_key(&key)
            .ok_or_else(|| bad_input(format!("no deadline policy `{key}`")))?;
        Ok(self.span_of(policy))
    }

    /// How long `months` of the policy `key` that start now run, in ms, at
    /// the configured pace (a span set per subject, such as a 回头看 interval).
    #[activity(name = "months_ms")]
    pub async fn months_ms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        span: MonthsOf,
    ) -> Result<u64, ActivityError> {
        let mut policy = DeadlinePolicy::by_key(&span.key)
            .ok_or_else(|| bad_input(format!("no deadline policy `{}`", span.key)))?;
        policy.span = Span::Months(span.months);
        Ok(self.span_of(policy))
    }

    /// Records a rung reached: 催办 to the assignee, 逾期督办 by the org
    /// supervising the assignee's, 提级 to the level above that — walking the
    /// org tree, and saying so where it ends.
    #[activity(name = "record_rung")]
    pub async fn record_rung(
        self: Arc<Self>,
        _ctx: ActivityContext,
        rung: RungReached,
    ) -> Result<(), ActivityError> {
        let assignee = sql::task_assignment(&self.pool, &rung.task_id)
            .await?
            .assignee_org;
        let tree = self.tree().await?;
        let escalation = tree.escalation(&assignee);
        let top = |what: &str| {
            format!("{what}: no level above {assignee} in the org tree; the ladder stops here")
        };
        let (supervised_by, elevated_to, detail) = match rung.stage {
            Stage::Reminder => (None, None, "催办: the assignee was reminded".to_owned()),
            Stage::Overdue => match escalation.supervise {
                Some(org) => (
                    Some(org.id.clone()),
                    None,
                    format!("逾期督办: overdue; {} ({}) presses it", org.name, org.id),
                ),
                None => (None, None, top("逾期督办: overdue")),
            },
            Stage::Elevated => match escalation.elevate {
                Some(org) => (
                    None,
                    Some(org.id.clone()),
                    format!("提级: elevated to {} ({})", org.name, org.id),
                ),
                None => (None, None, top("提级")),
            },
        };
        let mut tx = store::begin_write(&self.pool).await?;
        let key = match rung.round {
            0 => format!("{}:{}", rung.task_id, rung.stage.event()),
            n => format!("{}:{}:{n}", rung.task_id, rung.stage.event()),
        };
        if event(
            &mut tx,
            &rung.task_id,
            rung.stage.event(),
            Some(&detail),
            &key,
        )
        .await?
        {
            sql::record_rung(
                &mut tx,
                &rung.task_id,
                rung.stage.event(),
                rung.stage.level(),
                supervised_by.as_deref(),
                elevated_to.as_deref(),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::warn!(task = %rung.task_id, stage = rung.stage.event(), "{detail}");
        Ok(())
    }

    /// 提级 — records what the commission a late step was elevated to
    /// decided: a new due date (the rungs of its new round are returned, ms
    /// from now) or taking the step over (its own position in the commission
    /// now does it).
    #[activity(name = "redirect_task")]
    pub async fn redirect_task(
        self: Arc<Self>,
        _ctx: ActivityContext,
        redirect: Redirect,
    ) -> Result<Option<Vec<(Stage, u64)>>, ActivityError> {
        let task = sql::task_assignment(&self.pool, &redirect.task_id).await?;
        let Some(commission) = task.elevated_to else {
            return Err(bad_input(format!(
                "task {} was not elevated",
                redirect.task_id
            )));
        };
        let role = task.assignee_role;
        let role = Role::parse(&role).ok_or_else(|| bad_input(format!("unknown role `{role}`")))?;
        let key = format!("{}:redirect:{}", redirect.task_id, redirect.key);
        let mut tx = store::begin_write(&self.pool).await?;
        let (rungs, kind, detail) = match &redirect.action {
            ElevationAction::SetDue { due_date } => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                let date = time::Date::parse(due_date, format)
                    .map_err(|_| bad_input(format!("`{due_date}` is not a date")))?;
                let start = now();
                let due_in = until_end_of(date, start, Calendar::official(), self.config.pace);
                let fresh = event(
                    &mut tx,
                    &redirect.task_id,
                    "rescheduled",
                    Some(&format!(
                        "提级: {commission} set a new due date {date} ({}): {}",
                        redirect.by, redirect.reason
                    )),
                    &key,
                )
                .await?;
                if fresh {
                    sql::reschedule_task(
                        &mut tx,
                        &redirect.task_id,
                        &date.to_string(),
                        &rfc3339(start + due_in),
                    )
                    .await?;
                }
                (
                    Some(vec![(Stage::Overdue, due_in.as_millis() as u64)]),
                    "rescheduled",
                    date.to_string(),
                )
            }
            ElevationAction::TakeOver => {
                let to = role.in_commission();
                let fresh = event(
                    &mut tx,
                    &redirect.task_id,
                    "taken_over",
                    Some(&format!(
                        "提级: {commission} takes the step over ({to}; {}): {}",
                        redirect.by, redirect.reason
                    )),
                    &key,
                )
                .await?;
                if fresh {
                    sql::reassign_task(&mut tx, &redirect.task_id, &commission, to.as_str())
                        .await?;
                }
                (None, "taken_over", format!("{to} of {commission}"))
            }
        };
        tx.commit().await?;
        tracing::info!(task = %redirect.task_id, %kind, %detail, "elevated step redirected");
        Ok(rungs)
    }

    /// Closes a task with its outcome.
    #[activity(name = "close_task")]
    pub async fn close_task(
        self: Arc<Self>,
        _ctx: ActivityContext,
        closed: TaskClosed,
    ) -> Result<(), ActivityError> {
        let status = TaskStatus::closed_with(closed.outcome).as_str();
        let mut tx = store::begin_write(&self.pool).await?;
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
            sql::close_task(
                &mut tx,
                &closed.task_id,
                status,
                closed.outcome.as_str(),
                closed.note.as_deref(),
                &rfc3339(now()),
            )
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
        self.write_state(&change).await
    }

    /// Records a detention's term: when it was announced, the extensions
    /// granted and its last day.
    #[activity(name = "record_term")]
    pub async fn record_term(
        self: Arc<Self>,
        _ctx: ActivityContext,
        term: DetentionTerm,
    ) -> Result<(), ActivityError> {
        sql::record_term(
            &self.pool,
            Term {
                clue_id: &term.clue_id,
                announced_at: &term.announced_at,
                extensions: term.extensions,
                ends_on: &term.ends_on,
                at: &rfc3339(now()),
            },
        )
        .await?;
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
            org: from.org.clone(),
            subject_org: None,
            basis: None,
        };
        let mut tx = store::begin_write(&self.pool).await?;
        let clue = ReportClue {
            id: &from.clue_id,
            source: ClueSource::Report.as_str(),
            report_id: &from.report_id,
            org: &from.org,
            state: ClueState::Assignment.as_str(),
            at: &at,
        };
        let inserted = sql::insert_report_clue(&mut tx, clue).await?;
        if inserted {
            outbox(
                &mut tx,
                "start",
                CLUE_WORKFLOW,
                &from.clue_id,
                None,
                &serde_json::to_string(&started)?,
                &start_key(&from.clue_id),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(report = %from.report_id, clue = %from.clue_id, org = %from.org, "clue registered from report");
        Ok(())
    }

    /// Sends another workflow a message through the outbox.
    #[activity(name = "notify")]
    pub async fn notify(
        self: Arc<Self>,
        _ctx: ActivityContext,
        notice: Notice,
    ) -> Result<(), ActivityError> {
        let mut tx = store::begin_write(&self.pool).await?;
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
        sql::erase_report(&self.pool, &report_id).await?;
        tracing::info!(report = %report_id, "report erased after being sent up (检控 Art. 15)");
        Ok(())
    }
}

/// Appends a task event now; false if it was already there.
async fn event(
    tx: &mut sqlx::AnyConnection,
    task_id: &str,
    kind: &str,
    detail: Option<&str>,
    key: &str,
) -> Result<bool, sqlx::Error> {
    sql::insert_task_event(tx, task_id, &rfc3339(now()), kind, detail, key).await
}

/// Queues work for the relay now, once per idempotency key.
async fn outbox(
    tx: &mut sqlx::AnyConnection,
    kind: &str,
    workflow_type: &str,
    workflow_id: &str,
    signal: Option<&str>,
    payload: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    let at = rfc3339(now());
    let queued = Queued {
        kind,
        workflow_type,
        workflow_id,
        signal,
        payload,
        key,
        at: &at,
    };
    sql::queue(tx, queued).await
}
