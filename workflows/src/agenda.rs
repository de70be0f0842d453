//! The agenda every workflow keeps: the events delivered to it, the human
//! steps it has open and the rungs of their escalation ladders still to come.
//!
//! Workflow code waits through [`next_event`], which fires each rung when
//! its durable timer runs out, so every open step escalates on time however
//! long the workflow waits for something else. Deterministic: time comes
//! from the workflow context, never the clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, UNIX_EPOCH};

use jiandu_domain::deadline::DeadlinePolicy;
use jiandu_domain::escalation::Stage;
use jiandu_domain::flow::{EventKind, FlowEvent};
use jiandu_domain::org::Role;
use jiandu_domain::step::{Limit, Outcome, StepName, SubjectKind};
use temporalio_common::ActivityDefinition;
use temporalio_common::data_converters::TemporalDeserializable;
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowContext, WorkflowResult};

use crate::activities::{
    Assignee, MonthsOf, Projections, Redirect, RungReached, StateChange, TaskClosed, TaskPlan,
    TaskSpec,
};

/// A workflow that keeps an [`Agenda`].
pub trait Flow: 'static {
    /// The workflow type name.
    const TYPE: &'static str;
    /// The agenda.
    fn agenda(&self) -> &Agenda;
    /// The agenda, to change it.
    fn agenda_mut(&mut self) -> &mut Agenda;
}

/// A rung of an open step's ladder still to come.
#[derive(Debug, Clone)]
struct Rung {
    /// Workflow time, in milliseconds since the epoch.
    at: u64,
    task_id: String,
    stage: Stage,
    /// 0 for the step's own ladder; then one more for each new due date set on it.
    round: u32,
}

/// An open step: what it may be answered with, and by whom not.
#[derive(Debug, Clone)]
struct OpenStep {
    outcomes: Vec<Outcome>,
    requested_by: Option<String>,
}

impl OpenStep {
    /// Whether `outcome` by `by` answers the step: an allowed outcome, from
    /// someone other than the one who asked (an independent approval).
    fn answered_by(&self, outcome: Outcome, by: &str) -> bool {
        self.outcomes.contains(&outcome) && self.requested_by.as_deref() != Some(by)
    }
}

/// Events delivered and not yet taken, open steps and their pending rungs.
#[derive(Debug, Default)]
pub struct Agenda {
    seen: BTreeSet<String>,
    inbox: VecDeque<FlowEvent>,
    open: BTreeMap<String, OpenStep>,
    rungs: Vec<Rung>,
    opened: u32,
    /// New due dates set on each step (提级).
    rounds: BTreeMap<String, u32>,
}

impl Agenda {
    /// Takes a delivered event; a repeat of one already seen is dropped.
    pub fn deliver(&mut self, event: FlowEvent) {
        if self.seen.insert(event.key.clone()) {
            self.inbox.push_back(event);
        }
    }

    /// Whether the event is a valid completion of an open step, or another kind.
    fn valid(open: &BTreeMap<String, OpenStep>, event: &FlowEvent) -> bool {
        match &event.kind {
            EventKind::TaskCompleted {
                task_id,
                outcome,
                by,
                ..
            } => open
                .get(task_id)
                .is_some_and(|step| step.answered_by(*outcome, by)),
            EventKind::Elevation { task_id, .. } => open.contains_key(task_id),
            _ => true,
        }
    }

    fn is_elevation(event: &FlowEvent) -> bool {
        matches!(event.kind, EventKind::Elevation { .. })
    }

    /// Whether an elevation decision for an open step waits to be applied.
    fn has_elevation(&self) -> bool {
        self.inbox
            .iter()
            .any(|e| Self::is_elevation(e) && Self::valid(&self.open, e))
    }

    fn has(&self, wanted: &impl Fn(&FlowEvent) -> bool) -> bool {
        self.inbox
            .iter()
            .any(|e| Self::valid(&self.open, e) && wanted(e))
    }

    fn take(&mut self, wanted: &impl Fn(&FlowEvent) -> bool) -> Option<FlowEvent> {
        // A completion of a step that is not open, with an outcome it does
        // not allow, or by the one who asked for it can never be taken: drop
        // it rather than keep it forever.
        let open = &self.open;
        self.inbox.retain(|e| Self::valid(open, e));
        let index = self
            .inbox
            .iter()
            .position(|e| !Self::is_elevation(e) && wanted(e))?;
        self.inbox.remove(index)
    }

    fn due(&mut self, now: u64) -> Vec<Rung> {
        let (due, later) = self.rungs.drain(..).partition(|r| r.at <= now);
        self.rungs = later;
        due
    }

    fn next_rung(&self) -> Option<u64> {
        self.rungs.iter().map(|r| r.at).min()
    }

    fn forget(&mut self, task_id: &str) {
        self.open.remove(task_id);
        self.rungs.retain(|r| r.task_id != task_id);
    }

    /// Takes the next elevation decision for an open step.
    fn take_elevation(&mut self) -> Option<FlowEvent> {
        let open = &self.open;
        self.inbox
            .retain(|e| !Self::is_elevation(e) || Self::valid(open, e));
        let index = self.inbox.iter().position(Self::is_elevation)?;
        self.inbox.remove(index)
    }

    /// Replaces a step's pending rungs by `rungs` (ms from `now`) of a new round.
    fn reschedule(&mut self, task_id: &str, now: u64, rungs: Vec<(Stage, u64)>) {
        self.rungs.retain(|r| r.task_id != task_id);
        let round = self.rounds.entry(task_id.to_owned()).or_default();
        *round += 1;
        let round = *round;
        self.rungs.extend(rungs.into_iter().map(|(stage, ms)| Rung {
            at: now + ms,
            task_id: task_id.to_owned(),
            stage,
            round,
        }));
    }

    /// Whether any step is open.
    pub fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// The open steps' task ids.
    pub fn open_tasks(&self) -> Vec<String> {
        self.open.keys().cloned().collect()
    }
}

/// What a workflow is about: a report, a clue or a detention.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Its kind.
    pub kind: SubjectKind,
    /// The report or clue id.
    pub id: String,
}

/// A human step to open.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step.
    pub name: StepName,
    /// Its time limit, or the article requiring it without one.
    pub limit: Limit,
    /// A span in months replacing the policy's.
    pub months: Option<u32>,
    /// A span in days replacing the policy's.
    pub days: Option<u32>,
    /// When its deadline starts counting (RFC 3339); default now.
    pub counted_from: Option<String>,
    /// The org that must act.
    pub assignee: Assignee,
    /// The position in that org that must act.
    pub role: Role,
    /// What they may answer; by default the step's outcomes.
    pub outcomes: Vec<Outcome>,
    /// Who asked for it: they may not answer it.
    pub requested_by: Option<String>,
    /// A role of the assignee's org that may not see it (回避).
    pub withheld_from: Option<Role>,
    /// Why it goes to this org rather than the usual one (提级监督).
    pub basis: Option<String>,
}

impl Step {
    /// The step `name`, for `role` of `assignee`, with the limit and outcomes
    /// the domain gives it.
    pub fn new(name: StepName, assignee: Assignee, role: Role) -> Self {
        Self {
            name,
            limit: name.limit(),
            months: None,
            days: None,
            counted_from: None,
            assignee,
            role,
            outcomes: name.outcomes().to_vec(),
            requested_by: None,
            withheld_from: None,
            basis: None,
        }
    }

    /// Counts the deadline from `at` (RFC 3339) instead of the opening.
    pub fn counted_from(mut self, at: &str) -> Self {
        self.counted_from = Some(at.to_owned());
        self
    }

    /// Replaces the policy's span by `months`.
    pub fn months(mut self, months: u32) -> Self {
        self.months = Some(months);
        self
    }

    /// Replaces the policy's span by `days`.
    pub fn days(mut self, days: u32) -> Self {
        self.days = Some(days);
        self
    }

    /// Narrows what the step may be answered with.
    pub fn only(mut self, outcomes: &[Outcome]) -> Self {
        self.outcomes = outcomes.to_vec();
        self
    }

    /// Records who asked for it; they may not answer it.
    pub fn requested_by(mut self, sub: &str) -> Self {
        self.requested_by = Some(sub.to_owned());
        self
    }

    /// Says why it goes to its org rather than the usual one (提级监督).
    pub fn basis(mut self, basis: Option<&str>) -> Self {
        self.basis = basis.map(str::to_owned);
        self
    }

    /// Hides it from `role` of the assignee's org (回避).
    pub fn withheld_from(mut self, role: Role) -> Self {
        self.withheld_from = Some(role);
        self
    }
}

/// How a human step was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The task.
    pub task_id: String,
    /// One of the step's outcomes.
    pub outcome: Outcome,
    /// The report or reason given.
    pub note: Option<String>,
    /// A structured detail.
    pub detail: Option<String>,
    /// The collective decision it rests on.
    pub decision_id: Option<String>,
    /// Who did it.
    pub by: String,
    /// When they did it, RFC 3339.
    pub at: String,
}

/// The options an activity runs with on the task queue: the long ones (a
/// screening batch, a ledger file), and projections in histories recorded
/// before [`LOCAL_PROJECTIONS`].
pub fn options() -> ActivityOptions {
    // Retried without limit: a database that is away for a while delays the
    // projection, never loses it.
    ActivityOptions::start_to_close_timeout(Duration::from_secs(60))
}

/// The patch under which projections run as local activities, in the
/// worker that runs the workflow's task: opening a task or recording a rung
/// then costs the server one workflow task, not two and an activity task.
/// Histories from before the patch replay with the activities they recorded.
const LOCAL_PROJECTIONS: &str = "projections-run-locally";

/// The options projections run with as local activities: retried without
/// limit like every activity (the SDK would otherwise give up after 100 s);
/// retries past the SDK's local threshold wait on durable timers.
fn local_options() -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(Duration::from_secs(60))
        .schedule_to_close_timeout(Duration::from_secs(100 * 365 * 24 * 3600))
        .build()
}

/// Runs a projection: a short write (or read) of the platform's rows that a
/// retry repeats harmlessly. It runs as a local activity, or as an activity
/// in histories recorded before [`LOCAL_PROJECTIONS`].
pub async fn projection<W, A>(
    ctx: &WorkflowContext<W>,
    activity: A,
    input: impl Into<A::Input>,
) -> WorkflowResult<A::Output>
where
    A: ActivityDefinition,
    A::Output: TemporalDeserializable,
{
    Ok(if ctx.patched(LOCAL_PROJECTIONS) {
        ctx.execute_local_activity(activity, input, local_options())
            .await?
    } else {
        ctx.execute_activity(activity, input, options()).await?
    })
}

/// The workflow's time in milliseconds since the epoch.
fn now_ms<W>(ctx: &WorkflowContext<W>) -> u64 {
    ctx.workflow_time()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

/// The workflow's time as RFC 3339.
pub fn now_rfc3339<W>(ctx: &WorkflowContext<W>) -> String {
    let t = time::OffsetDateTime::UNIX_EPOCH + Duration::from_millis(now_ms(ctx));
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("UTC times format as RFC 3339")
}

/// An opened step: its task and, for a timed step, its due date.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The task id.
    pub task_id: String,
    /// The org it was assigned to.
    pub org: String,
    /// The last day it is on time (YYYY-MM-DD), for a timed step.
    pub due_date: Option<String>,
}

/// Opens a human step: projects it as a task and schedules its ladder.
pub async fn open<W: Flow>(
    ctx: &WorkflowContext<W>,
    subject: &Subject,
    step: Step,
) -> WorkflowResult<Opened> {
    let n = ctx.state_mut(|s| {
        let agenda = s.agenda_mut();
        agenda.opened += 1;
        agenda.opened
    });
    let task_id = format!("{}.{n}.{}", ctx.workflow_id(), step.name);
    let (policy, article) = match step.limit {
        Limit::Policy(p) => (Some(p.key.to_owned()), p.article),
        Limit::Untimed(article) => (None, article),
    };
    let spec = TaskSpec {
        task_id: task_id.clone(),
        workflow_type: W::TYPE.to_owned(),
        workflow_id: ctx.workflow_id().to_owned(),
        subject_kind: subject.kind,
        subject_id: subject.id.clone(),
        step: step.name,
        policy,
        article: article.to_owned(),
        months: step.months,
        days: step.days,
        counted_from: step.counted_from,
        assignee: step.assignee,
        role: step.role,
        outcomes: step.outcomes.clone(),
        requested_by: step.requested_by.clone(),
        withheld_from: step.withheld_from,
        basis: step.basis,
    };
    let plan: TaskPlan = projection(ctx, Projections::open_task, spec).await?;
    let counted_from = plan.planned_at_ms.unwrap_or_else(|| now_ms(ctx));
    ctx.state_mut(|s| {
        let agenda = s.agenda_mut();
        agenda.open.insert(
            task_id.clone(),
            OpenStep {
                outcomes: step.outcomes,
                requested_by: step.requested_by,
            },
        );
        agenda
            .rungs
            .extend(plan.rungs.into_iter().map(|(stage, ms)| Rung {
                at: counted_from + ms,
                task_id: task_id.clone(),
                stage,
                round: 0,
            }));
    });
    Ok(Opened {
        task_id,
        org: plan.org,
        due_date: plan.due_date,
    })
}

/// Waits for a delivered event that `wanted` accepts, firing the rungs of
/// every open step as they fall due. With `until` (workflow time in ms since
/// the epoch) it gives up then and returns `None`.
pub async fn next_event<W: Flow>(
    ctx: &WorkflowContext<W>,
    until: Option<u64>,
    wanted: impl Fn(&FlowEvent) -> bool,
) -> WorkflowResult<Option<FlowEvent>> {
    loop {
        if let Some(event) = ctx.state_mut(|s| s.agenda_mut().take_elevation()) {
            apply_elevation(ctx, event).await?;
            continue;
        }
        if let Some(event) = ctx.state_mut(|s| s.agenda_mut().take(&wanted)) {
            return Ok(Some(event));
        }
        let now = now_ms(ctx);
        let due = ctx.state_mut(|s| s.agenda_mut().due(now));
        if !due.is_empty() {
            for rung in due {
                let reached = RungReached {
                    task_id: rung.task_id,
                    stage: rung.stage,
                    round: rung.round,
                };
                projection(ctx, Projections::record_rung, reached).await?;
            }
            continue;
        }
        if until.is_some_and(|u| u <= now) {
            return Ok(None);
        }
        let wake = ctx
            .state(|s| s.agenda().next_rung())
            .into_iter()
            .chain(until)
            .min();
        let mut arrived = ctx.wait_condition(|s: &W| {
            let agenda = s.agenda();
            agenda.has(&wanted) || agenda.has_elevation()
        });
        match wake {
            Some(at) => {
                temporalio_sdk::workflows::select! {
                    _ = ctx.timer(Duration::from_millis(at.saturating_sub(now).max(1))) => {}
                    _ = arrived => {}
                }
            }
            None => arrived.await?,
        }
    }
}

/// 提级 — applies what the commission a step was elevated to decided: the
/// task is projected with its new due date or new assignee, and a new due
/// date gets its own 督办 when it is missed again.
async fn apply_elevation<W: Flow>(
    ctx: &WorkflowContext<W>,
    event: FlowEvent,
) -> WorkflowResult<()> {
    let EventKind::Elevation {
        task_id,
        action,
        reason,
        by,
    } = event.kind
    else {
        unreachable!("only elevations are applied")
    };
    let redirect = Redirect {
        task_id: task_id.clone(),
        action,
        reason,
        by,
        key: event.key,
    };
    let rungs = projection(ctx, Projections::redirect_task, redirect).await?;
    if let Some(rungs) = rungs {
        let now = now_ms(ctx);
        ctx.state_mut(|s| s.agenda_mut().reschedule(&task_id, now, rungs));
    }
    Ok(())
}

/// Waits until the step `task_id` is done, closes its task and says how it was done.
pub async fn done<W: Flow>(ctx: &WorkflowContext<W>, task_id: &str) -> WorkflowResult<Done> {
    let event = next_event(ctx, None, |e| completes(e, task_id))
        .await?
        .expect("waiting without a limit ends only with an event");
    finish(ctx, event).await
}

/// Whether `event` completes the task `task_id`.
pub fn completes(event: &FlowEvent, task_id: &str) -> bool {
    matches!(&event.kind, EventKind::TaskCompleted { task_id: t, .. } if t == task_id)
}

/// Closes the task a completion event is for and says how it was done.
pub async fn finish<W: Flow>(ctx: &WorkflowContext<W>, event: FlowEvent) -> WorkflowResult<Done> {
    let EventKind::TaskCompleted {
        task_id,
        outcome,
        note,
        detail,
        decision_id,
        by,
        at,
    } = event.kind
    else {
        unreachable!("finish takes completions only")
    };
    close(ctx, &task_id, outcome, note.clone(), &by).await?;
    Ok(Done {
        task_id,
        outcome,
        note,
        detail,
        decision_id,
        by,
        at,
    })
}

/// Opens a step and waits until it is done.
pub async fn step<W: Flow>(
    ctx: &WorkflowContext<W>,
    subject: &Subject,
    step: Step,
) -> WorkflowResult<Done> {
    let opened = open(ctx, subject, step).await?;
    done(ctx, &opened.task_id).await
}

/// Closes a task: done with `outcome`, or cancelled or extended by the workflow.
pub async fn close<W: Flow>(
    ctx: &WorkflowContext<W>,
    task_id: &str,
    outcome: Outcome,
    note: Option<String>,
    by: &str,
) -> WorkflowResult<()> {
    ctx.state_mut(|s| s.agenda_mut().forget(task_id));
    let closed = TaskClosed {
        task_id: task_id.to_owned(),
        outcome,
        note,
        by: by.to_owned(),
    };
    projection(ctx, Projections::close_task, closed).await
}

/// Projects a new state of the subject with the event that led to it.
pub async fn project<W: Flow>(
    ctx: &WorkflowContext<W>,
    subject: &Subject,
    state: &str,
    event: &str,
    note: Option<String>,
) -> WorkflowResult<()> {
    let n = ctx.state_mut(|s| {
        let agenda = s.agenda_mut();
        agenda.opened += 1;
        agenda.opened
    });
    let change = StateChange {
        subject_kind: subject.kind,
        subject_id: subject.id.clone(),
        state: Some(state.to_owned()),
        event: event.to_owned(),
        note,
        key: format!("{}.{n}.{event}", ctx.workflow_id()),
    };
    projection(ctx, Projections::change_state, change).await
}

/// When `months` of `policy` that start now end, in workflow time (ms since
/// the epoch), at the configured pace: a span set per subject.
pub async fn months_in<W: Flow>(
    ctx: &WorkflowContext<W>,
    policy: DeadlinePolicy,
    months: u32,
) -> WorkflowResult<u64> {
    let span = MonthsOf {
        key: policy.key.to_owned(),
        months,
    };
    let ms = projection(ctx, Projections::months_ms, span).await?;
    Ok(now_ms(ctx) + ms)
}

/// When a span of `policy` that starts now ends, in workflow time (ms since
/// the epoch), at the configured pace.
pub async fn deadline_in<W: Flow>(
    ctx: &WorkflowContext<W>,
    policy: DeadlinePolicy,
) -> WorkflowResult<u64> {
    let ms = projection(ctx, Projections::span_ms, policy.key.to_owned()).await?;
    Ok(now_ms(ctx) + ms)
}
