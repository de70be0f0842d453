//! 整改 — a problem's rectification and its 回头看: the owner rectifies and
//! reports what it did within its deadline (巡视工作条例, 2 months by
//! default), asking for more time at most once per deadline; the
//! supervising org checks the report (pass, or return with reasons, which
//! restarts the owner's step); a passed problem is re-checked months later
//! (回头看, no article sets the interval), and a failed re-check reopens it.

use jiandu_domain::deadline::RECHECK_INTERVAL;
use jiandu_domain::flow::{EventKind, FlowEvent, RECTIFICATION_WORKFLOW, RectificationStarted};
use jiandu_domain::org::Role;
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use jiandu_domain::supervision::ProblemState;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::Assignee;
use crate::agenda::{self, Agenda, Done, Flow, Step, Subject};

/// The rectification workflow; its id is the problem id.
#[workflow]
#[derive(Default)]
pub struct RectificationWorkflow {
    agenda: Agenda,
}

impl Flow for RectificationWorkflow {
    const TYPE: &'static str = RECTIFICATION_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

/// Months to the 回头看 when the handover sets none (the policy's span).
const DEFAULT_RECHECK_MONTHS: u32 = 6;

/// The problem, its owner and its supervising org.
struct Problem {
    subject: Subject,
    input: RectificationStarted,
}

impl Problem {
    /// The owner's rectification step, its deadline counted from `from` over `months`.
    fn owner_step(&self, from: &str, months: u32) -> Step {
        Step::new(
            StepName::RectificationReport,
            Assignee::Org(self.input.owner.clone()),
            Role::Staff,
        )
        .counted_from(from)
        .months(months)
        .basis(self.input.basis.as_deref())
    }

    /// `name` for `role` of the supervising org.
    fn supervisor_step(&self, name: StepName, role: Role) -> Step {
        Step::new(name, Assignee::Org(self.input.supervisor.clone()), role)
            .basis(self.input.basis.as_deref())
    }

    async fn project(
        &self,
        ctx: &WorkflowContext<RectificationWorkflow>,
        state: ProblemState,
        event: &str,
        note: Option<String>,
    ) -> WorkflowResult<()> {
        agenda::project(ctx, &self.subject, state.as_str(), event, note).await
    }
}

/// An owner's request for more time, waiting for the supervisor's answer.
struct Asked {
    task_id: String,
    months: u32,
}

#[workflow_methods]
impl RectificationWorkflow {
    /// Runs the problem from handover to a re-check that holds.
    #[run(name = "RectificationWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: RectificationStarted,
    ) -> WorkflowResult<String> {
        let problem = Problem {
            subject: Subject {
                kind: SubjectKind::Problem,
                id: input.problem_id.clone(),
            },
            input,
        };
        let mut from = problem.input.handed_at.clone();
        let mut reopened = 0u32;
        loop {
            Self::rectify(ctx, &problem, from).await?;
            let months = problem
                .input
                .recheck_after_months
                .unwrap_or(DEFAULT_RECHECK_MONTHS);
            problem
                .project(
                    ctx,
                    ProblemState::Rectified,
                    "passed",
                    Some(format!("回头看 in {months} months")),
                )
                .await?;
            let until = agenda::months_in(ctx, RECHECK_INTERVAL, months).await?;
            agenda::next_event(ctx, Some(until), |_| false).await?;
            problem
                .project(ctx, ProblemState::Rechecking, "recheck_opened", None)
                .await?;
            let recheck = agenda::step(
                ctx,
                &problem.subject,
                problem.supervisor_step(StepName::Recheck, Role::Supervision),
            )
            .await?;
            if recheck.outcome == Outcome::Holds {
                problem
                    .project(ctx, ProblemState::Closed, "recheck_held", recheck.note)
                    .await?;
                return Ok(format!("closed; reopened {reopened} times"));
            }
            reopened += 1;
            problem
                .project(
                    ctx,
                    ProblemState::Rectifying,
                    "recheck_failed",
                    recheck.note,
                )
                .await?;
            from = recheck.at;
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}

impl RectificationWorkflow {
    /// The owner rectifies and the supervisor checks, until a check passes;
    /// a returned report restarts the owner's step from the return.
    async fn rectify(
        ctx: &WorkflowContext<Self>,
        problem: &Problem,
        mut from: String,
    ) -> WorkflowResult<()> {
        loop {
            problem
                .project(ctx, ProblemState::Rectifying, "rectification_opened", None)
                .await?;
            let report = Self::owner_report(ctx, problem, &from).await?;
            problem
                .project(ctx, ProblemState::Verifying, "reported", report.note)
                .await?;
            let check = agenda::step(
                ctx,
                &problem.subject,
                problem.supervisor_step(StepName::RectificationCheck, Role::Supervision),
            )
            .await?;
            if check.outcome == Outcome::Pass {
                return Ok(());
            }
            problem
                .project(ctx, ProblemState::Rectifying, "returned", check.note)
                .await?;
            from = check.at;
        }
    }

    /// Waits for the owner's report; meanwhile the owner may ask once per
    /// deadline for more time, which the supervising org's head grants
    /// (the step reopens with the longer deadline) or refuses.
    async fn owner_report(
        ctx: &WorkflowContext<Self>,
        problem: &Problem,
        from: &str,
    ) -> WorkflowResult<Done> {
        let mut months = problem.input.months;
        let mut step = agenda::open(ctx, &problem.subject, problem.owner_step(from, months))
            .await?
            .task_id;
        let mut asked_on_this_deadline = false;
        let mut pending: Option<Asked> = None;
        loop {
            let event = agenda::next_event(ctx, None, |e| {
                agenda::completes(e, &step)
                    || pending
                        .as_ref()
                        .is_some_and(|a| agenda::completes(e, &a.task_id))
                    || matches!(&e.kind, EventKind::MoreTimeRequested { task_id, .. } if *task_id == step)
            })
            .await?
            .expect("waiting without a limit ends only with an event");
            match event.kind {
                EventKind::MoreTimeRequested {
                    months: more,
                    reason,
                    by,
                    ..
                } => {
                    if asked_on_this_deadline {
                        problem
                            .project(
                                ctx,
                                ProblemState::Rectifying,
                                "more_time_refused",
                                Some("more time is asked at most once per deadline".to_owned()),
                            )
                            .await?;
                        continue;
                    }
                    asked_on_this_deadline = true;
                    let approval = problem
                        .supervisor_step(StepName::DeadlineExtension, Role::Head)
                        .requested_by(&by);
                    let opened = agenda::open(ctx, &problem.subject, approval).await?;
                    pending = Some(Asked {
                        task_id: opened.task_id,
                        months: more,
                    });
                    problem
                        .project(
                            ctx,
                            ProblemState::Rectifying,
                            "more_time_requested",
                            Some(format!("{more} more months: {reason}")),
                        )
                        .await?;
                }
                EventKind::TaskCompleted { ref task_id, .. } if *task_id == step => {
                    let done = agenda::finish(ctx, event).await?;
                    if let Some(asked) = pending.take() {
                        agenda::close(ctx, &asked.task_id, Outcome::Cancelled, None, &done.by)
                            .await?;
                    }
                    return Ok(done);
                }
                EventKind::TaskCompleted { .. } => {
                    let answer = agenda::finish(ctx, event).await?;
                    let Some(asked) = pending.take() else {
                        continue;
                    };
                    if answer.outcome != Outcome::Approve {
                        problem
                            .project(
                                ctx,
                                ProblemState::Rectifying,
                                "more_time_refused",
                                answer.note,
                            )
                            .await?;
                        continue;
                    }
                    // The same step, counted from the same start over the longer span.
                    agenda::close(ctx, &step, Outcome::Extended, None, &answer.by).await?;
                    months += asked.months;
                    step = agenda::open(ctx, &problem.subject, problem.owner_step(from, months))
                        .await?
                        .task_id;
                    asked_on_this_deadline = false;
                    problem
                        .project(
                            ctx,
                            ProblemState::Rectifying,
                            "more_time_granted",
                            Some(format!("{} more months, {months} in all", asked.months)),
                        )
                        .await?;
                }
                _ => unreachable!("only the owner's report and its extension were wanted"),
            }
        }
    }
}
