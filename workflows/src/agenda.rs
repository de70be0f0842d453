//! The agenda every workflow keeps: the events delivered to it, the human
//! steps it has open and the rungs of their escalation ladders still to come.
//!
//! Workflow code waits through [`next_event`], which fires each rung when
//! its durable timer runs out, so every open step escalates on time however
//! long the workflow waits for something else. Deterministic: time comes
//! from the workflow context, never the clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, UNIX_EPOCH};

use jiandu_domain::clue::Role;
use jiandu_domain::deadline::DeadlinePolicy;
use jiandu_domain::escalation::Stage;
use jiandu_domain::flow::{EventKind, FlowEvent};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};

use crate::activities::{Projections, RungReached, StateChange, TaskClosed, TaskSpec};

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
}

/// Events delivered and not yet taken, open steps and their pending rungs.
#[derive(Debug, Default)]
pub struct Agenda {
    seen: BTreeSet<String>,
    inbox: VecDeque<FlowEvent>,
    open: BTreeMap<String, Vec<String>>,
    rungs: Vec<Rung>,
    opened: u32,
}

impl Agenda {
    /// Takes a delivered event; a repeat of one already seen is dropped.
    pub fn deliver(&mut self, event: FlowEvent) {
        if self.seen.insert(event.key.clone()) {
            self.inbox.push_back(event);
        }
    }

    /// Whether the event is a valid completion of an open step, or another kind.
    fn valid(&self, event: &FlowEvent) -> bool {
        match &event.kind {
            EventKind::TaskCompleted {
                task_id, outcome, ..
            } => self
                .open
                .get(task_id)
                .is_some_and(|outcomes| outcomes.contains(outcome)),
            _ => true,
        }
    }

    fn has(&self, wanted: &impl Fn(&FlowEvent) -> bool) -> bool {
        self.inbox.iter().any(|e| self.valid(e) && wanted(e))
    }

    fn take(&mut self, wanted: &impl Fn(&FlowEvent) -> bool) -> Option<FlowEvent> {
        // A completion of a step that is not open, or with an outcome it does
        // not allow, can never be taken: drop it rather than keep it forever.
        let open = &self.open;
        self.inbox.retain(|e| match &e.kind {
            EventKind::TaskCompleted {
                task_id, outcome, ..
            } => open.get(task_id).is_some_and(|o| o.contains(outcome)),
            _ => true,
        });
        let index = self.inbox.iter().position(wanted)?;
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
    /// `report`, `clue` or `detention`.
    pub kind: &'static str,
    /// The report or clue id.
    pub id: String,
}

/// A human step to open.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step's name.
    pub name: &'static str,
    /// Its deadline policy; `None` when the rules set no time limit.
    pub policy: Option<DeadlinePolicy>,
    /// For a step without a time limit, the article that requires it.
    pub article: Option<&'static str>,
    /// A span in months replacing the policy's.
    pub months: Option<u32>,
    /// When its deadline starts counting (RFC 3339); default now.
    pub counted_from: Option<String>,
    /// Who must act.
    pub role: Role,
    /// What they may answer.
    pub outcomes: &'static [&'static str],
}

impl Step {
    /// A step with a deadline counted from its opening.
    pub fn new(
        name: &'static str,
        policy: DeadlinePolicy,
        role: Role,
        outcomes: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            policy: Some(policy),
            article: None,
            months: None,
            counted_from: None,
            role,
            outcomes,
        }
    }

    /// A step the rules require without a time limit.
    pub fn untimed(
        name: &'static str,
        article: &'static str,
        role: Role,
        outcomes: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            policy: None,
            article: Some(article),
            months: None,
            counted_from: None,
            role,
            outcomes,
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
}

/// How a human step was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The task.
    pub task_id: String,
    /// One of the step's outcomes.
    pub outcome: String,
    /// The report or reason given.
    pub note: Option<String>,
    /// A structured detail.
    pub detail: Option<String>,
    /// The collective decision it rests on.
    pub decision_id: Option<String>,
}

/// The options every activity runs with.
pub fn options() -> ActivityOptions {
    // Retried without limit: a database that is away for a while delays the
    // projection, never loses it.
    ActivityOptions::start_to_close_timeout(Duration::from_secs(60))
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

/// Opens a human step: projects it as a task and schedules its ladder.
pub async fn open<W: Flow>(
    ctx: &WorkflowContext<W>,
    subject: &Subject,
    step: Step,
) -> WorkflowResult<String> {
    let n = ctx.state_mut(|s| {
        let agenda = s.agenda_mut();
        agenda.opened += 1;
        agenda.opened
    });
    let task_id = format!("{}.{n}.{}", ctx.workflow_id(), step.name);
    let spec = TaskSpec {
        task_id: task_id.clone(),
        workflow_type: W::TYPE.to_owned(),
        workflow_id: ctx.workflow_id().to_owned(),
        subject_kind: subject.kind.to_owned(),
        subject_id: subject.id.clone(),
        step: step.name.to_owned(),
        policy: step.policy.map(|p| p.key.to_owned()),
        article: step.article.map(str::to_owned),
        months: step.months,
        counted_from: step.counted_from,
        role: step.role,
        outcomes: step.outcomes.iter().map(|o| (*o).to_owned()).collect(),
    };
    let plan = ctx
        .execute_activity(Projections::open_task, spec, options())
        .await?;
    let now = now_ms(ctx);
    ctx.state_mut(|s| {
        let agenda = s.agenda_mut();
        agenda.open.insert(
            task_id.clone(),
            step.outcomes.iter().map(|o| (*o).to_owned()).collect(),
        );
        agenda
            .rungs
            .extend(plan.rungs.into_iter().map(|(stage, ms)| Rung {
                at: now + ms,
                task_id: task_id.clone(),
                stage,
            }));
    });
    Ok(task_id)
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
                };
                ctx.execute_activity(Projections::record_rung, reached, options())
                    .await?;
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
        let mut arrived = ctx.wait_condition(|s: &W| s.agenda().has(&wanted));
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

/// Waits until the step `task_id` is done, closes its task and says how it was done.
pub async fn done<W: Flow>(ctx: &WorkflowContext<W>, task_id: &str) -> WorkflowResult<Done> {
    let event = next_event(
        ctx,
        None,
        |e| matches!(&e.kind, EventKind::TaskCompleted { task_id: t, .. } if t == task_id),
    )
    .await?
    .expect("waiting without a limit ends only with an event");
    let EventKind::TaskCompleted {
        task_id,
        outcome,
        note,
        detail,
        decision_id,
        by,
    } = event.kind
    else {
        unreachable!("only completions were wanted")
    };
    close(ctx, &task_id, &outcome, note.clone(), &by).await?;
    Ok(Done {
        task_id,
        outcome,
        note,
        detail,
        decision_id,
    })
}

/// Opens a step and waits until it is done.
pub async fn step<W: Flow>(
    ctx: &WorkflowContext<W>,
    subject: &Subject,
    step: Step,
) -> WorkflowResult<Done> {
    let task_id = open(ctx, subject, step).await?;
    done(ctx, &task_id).await
}

/// Closes a task: done with `outcome`, or `cancelled`.
pub async fn close<W: Flow>(
    ctx: &WorkflowContext<W>,
    task_id: &str,
    outcome: &str,
    note: Option<String>,
    by: &str,
) -> WorkflowResult<()> {
    ctx.state_mut(|s| s.agenda_mut().forget(task_id));
    let closed = TaskClosed {
        task_id: task_id.to_owned(),
        outcome: outcome.to_owned(),
        note,
        by: by.to_owned(),
    };
    ctx.execute_activity(Projections::close_task, closed, options())
        .await?;
    Ok(())
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
        subject_kind: subject.kind.to_owned(),
        subject_id: subject.id.clone(),
        state: state.to_owned(),
        event: event.to_owned(),
        note,
        key: format!("{}.{n}.{event}", ctx.workflow_id()),
    };
    ctx.execute_activity(Projections::change_state, change, options())
        .await?;
    Ok(())
}

/// When a span of `policy` that starts now ends, in workflow time (ms since
/// the epoch), at the configured pace.
pub async fn deadline_in<W: Flow>(
    ctx: &WorkflowContext<W>,
    policy: DeadlinePolicy,
) -> WorkflowResult<u64> {
    let ms = ctx
        .execute_activity(Projections::span_ms, policy.key.to_owned(), options())
        .await?;
    Ok(now_ms(ctx) + ms)
}
