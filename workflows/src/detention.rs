//! 留置 — detention under 监察法 Art. 47–50: the next-higher commission's
//! approval before it starts, the 3-month limit and its extensions, the
//! 24-hour notice (and its approved exception), change requests, release.

use std::collections::BTreeMap;

use jiandu_domain::detention::{Approver, next_extension, term_end};
use jiandu_domain::flow::{DETENTION_WORKFLOW, DetentionRequested, EventKind, FlowEvent};
use jiandu_domain::org::Role;
use jiandu_domain::step::{DetentionState, Outcome, StepName, SubjectKind};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};
use time::Date;

use crate::activities::{Assignee, DetentionTerm, Projections};
use crate::agenda::{self, Agenda, Flow, Step, Subject};

/// The detention workflow; its id is `detention_workflow_id(clue)`.
#[workflow]
#[derive(Default)]
pub struct DetentionWorkflow {
    agenda: Agenda,
}

impl Flow for DetentionWorkflow {
    const TYPE: &'static str = DETENTION_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

/// What an open step of a running detention is for.
enum Open {
    /// The time limit; done when the person is released.
    Limit,
    /// The 24-hour notice to work unit and family.
    Notice,
    /// Approval of not notifying, because notice would obstruct the case.
    NoticeException,
    /// The notice owed once the exception lapses.
    NoticeAfterException,
    /// An extension awaiting approval.
    Extension { months: u32 },
    /// A change request awaiting its answer.
    Change,
}

/// The term so far: announced when, extended by how many months each time.
struct Term {
    announced_at: String,
    announced_on: Date,
    extensions: Vec<u32>,
    pending_extension: bool,
}

impl Term {
    /// The term's last day (监察法 Art. 48), each extension counted on from
    /// the end of the term it extends.
    fn ends_on(&self) -> Date {
        term_end(self.announced_on, &self.extensions)
    }
}

/// The detention and the commission that asked for it.
struct Detention {
    subject: Subject,
    org: String,
}

impl Detention {
    /// `name` for `role` of the requesting commission.
    fn step(&self, name: StepName, role: Role) -> Step {
        Step::new(name, Assignee::Org(self.org.clone()), role)
    }

    async fn project(
        &self,
        ctx: &WorkflowContext<DetentionWorkflow>,
        state: DetentionState,
        event: &str,
        note: Option<String>,
    ) -> WorkflowResult<()> {
        agenda::project(ctx, &self.subject, state.as_str(), event, note).await
    }
}

#[workflow_methods]
impl DetentionWorkflow {
    /// Runs the detention from the request to release.
    #[run(name = "DetentionWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: DetentionRequested,
    ) -> WorkflowResult<String> {
        let d = Detention {
            subject: Subject {
                kind: SubjectKind::Detention,
                id: input.clue_id.clone(),
            },
            org: input.org.clone(),
        };
        // 监察法 Art. 47: without the approval of the head of the next-higher
        // commission — never the one who asked — it never starts.
        let approval = agenda::step(
            ctx,
            &d.subject,
            Step::new(
                StepName::DetentionApproval,
                Assignee::HigherCommissionOf(input.org.clone()),
                Role::Head,
            )
            .requested_by(&input.requested_by)
            .counted_from(&input.requested_at),
        )
        .await?;
        if approval.outcome != Outcome::Approve {
            d.project(
                ctx,
                DetentionState::Rejected,
                "rejected_by_higher_commission",
                approval.note,
            )
            .await?;
            return Ok(DetentionState::Rejected.as_str().into());
        }
        d.project(
            ctx,
            DetentionState::Approved,
            "approved",
            Some("approved by the next-higher commission (监察法 Art. 47)".into()),
        )
        .await?;
        // The term counts from the day detention is announced (Art. 48).
        let announced = agenda::step(
            ctx,
            &d.subject,
            d.step(StepName::DetentionAnnouncement, Role::Investigation),
        )
        .await?;
        let announced_on = china_date(&announced.at);
        let mut term = Term {
            announced_at: announced.at.clone(),
            announced_on,
            extensions: Vec::new(),
            pending_extension: false,
        };
        d.project(
            ctx,
            DetentionState::InEffect,
            "announced",
            Some(format!(
                "announced {}; at most 3 months, to {} (监察法 Art. 48)",
                term.announced_on,
                term.ends_on()
            )),
        )
        .await?;
        Self::record_term(ctx, &input.clue_id, &term).await?;
        let mut open = BTreeMap::new();
        let limit = d
            .step(StepName::DetentionLimit, Role::Investigation)
            .counted_from(&term.announced_at);
        Self::track(ctx, &d, &mut open, limit, Open::Limit).await?;
        let notice = d
            .step(StepName::DetentionNotice, Role::Investigation)
            .counted_from(&term.announced_at);
        Self::track(ctx, &d, &mut open, notice, Open::Notice).await?;

        loop {
            let event = agenda::next_event(ctx, None, |_| true)
                .await?
                .expect("waiting without a limit ends only with an event");
            match event.kind {
                EventKind::TaskCompleted { ref task_id, .. } => {
                    let what = open.remove(task_id);
                    let done = agenda::finish(ctx, event).await?;
                    let Some(what) = what else {
                        continue;
                    };
                    match what {
                        Open::Limit => return Self::release(ctx, &d, &mut open, done.note).await,
                        Open::Notice if done.outcome == Outcome::Exception => {
                            // Art. 50: not notifying needs the head's approval.
                            let step = d
                                .step(StepName::NoticeException, Role::Head)
                                .requested_by(&done.by);
                            Self::track(ctx, &d, &mut open, step, Open::NoticeException).await?;
                        }
                        Open::Notice | Open::NoticeAfterException => {
                            d.project(ctx, DetentionState::InEffect, "family_notified", None)
                                .await?;
                        }
                        Open::NoticeException if done.outcome == Outcome::Approve => {
                            d.project(ctx, DetentionState::InEffect, "notice_deferred", done.note)
                                .await?;
                            let step = d.step(StepName::NoticeAfterException, Role::Investigation);
                            Self::track(ctx, &d, &mut open, step, Open::NoticeAfterException)
                                .await?;
                        }
                        Open::NoticeException => {
                            // Refused: the notice is owed now, and already late.
                            let step = d
                                .step(StepName::DetentionNotice, Role::Investigation)
                                .only(&[Outcome::Notified])
                                .counted_from(&term.announced_at);
                            Self::track(ctx, &d, &mut open, step, Open::Notice).await?;
                        }
                        Open::Extension { months } => {
                            term.pending_extension = false;
                            if done.outcome == Outcome::Approve {
                                let old_end = term.ends_on();
                                term.extensions.push(months);
                                let old = open
                                    .iter()
                                    .find(|(_, o)| matches!(o, Open::Limit))
                                    .map(|(id, _)| id.clone());
                                if let Some(old) = old {
                                    open.remove(&old);
                                    agenda::close(ctx, &old, Outcome::Extended, None, &done.by)
                                        .await?;
                                }
                                // Counted on from the end of the term it extends.
                                let limit = d
                                    .step(StepName::DetentionLimit, Role::Investigation)
                                    .counted_from(&format!("{old_end}T00:00:00+08:00"))
                                    .months(months);
                                Self::track(ctx, &d, &mut open, limit, Open::Limit).await?;
                                Self::record_term(ctx, &input.clue_id, &term).await?;
                                let total: u32 = 3 + term.extensions.iter().sum::<u32>();
                                let note = format!(
                                    "extended by {months} months, {total} in all, to {}",
                                    term.ends_on()
                                );
                                d.project(ctx, DetentionState::InEffect, "extended", Some(note))
                                    .await?;
                            } else {
                                d.project(
                                    ctx,
                                    DetentionState::InEffect,
                                    "extension_rejected",
                                    done.note,
                                )
                                .await?;
                            }
                        }
                        Open::Change => {
                            d.project(ctx, DetentionState::InEffect, "change_answered", done.note)
                                .await?;
                        }
                    }
                }
                EventKind::ExtensionRequested { months, reason, by } => {
                    let granted = term.extensions.len() as u32;
                    let why = match next_extension(granted) {
                        Ok(rule) if !term.pending_extension && months <= rule.max_months => {
                            term.pending_extension = true;
                            let approver = match rule.approver {
                                Approver::HigherCommission => {
                                    Assignee::HigherCommissionOf(input.org.clone())
                                }
                                Approver::NationalCommission => Assignee::National,
                            };
                            let step = Step::new(StepName::ExtensionApproval, approver, Role::Head)
                                .requested_by(&by);
                            Self::track(ctx, &d, &mut open, step, Open::Extension { months })
                                .await?;
                            d.project(
                                ctx,
                                DetentionState::InEffect,
                                "extension_requested",
                                Some(reason),
                            )
                            .await?;
                            continue;
                        }
                        Ok(_) if term.pending_extension => {
                            "an extension request is already pending".to_owned()
                        }
                        Ok(rule) => {
                            format!("at most {} months ({})", rule.max_months, rule.article)
                        }
                        Err(why) => why.to_owned(),
                    };
                    d.project(
                        ctx,
                        DetentionState::InEffect,
                        "extension_refused",
                        Some(why),
                    )
                    .await?;
                }
                EventKind::ChangeRequested { reason, by } => {
                    let step = d
                        .step(StepName::ChangeRequest, Role::Head)
                        .requested_by(&by);
                    Self::track(ctx, &d, &mut open, step, Open::Change).await?;
                    d.project(
                        ctx,
                        DetentionState::InEffect,
                        "change_requested",
                        Some(reason),
                    )
                    .await?;
                }
                EventKind::Released { reason, .. } => {
                    return Self::release(ctx, &d, &mut open, Some(reason)).await;
                }
                EventKind::ClueOpened { .. }
                | EventKind::ClueClosed { .. }
                | EventKind::Feedback { .. }
                | EventKind::MoreTimeRequested { .. }
                | EventKind::Elevation { .. } => {}
            }
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}

/// The day in China on which an RFC 3339 time falls.
fn china_date(at: &str) -> Date {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|t| t.to_offset(time::macros::offset!(+8)).date())
        .unwrap_or(Date::MIN)
}

impl DetentionWorkflow {
    /// Opens a step and remembers what it is for.
    async fn track(
        ctx: &WorkflowContext<Self>,
        d: &Detention,
        open: &mut BTreeMap<String, Open>,
        step: Step,
        what: Open,
    ) -> WorkflowResult<()> {
        let opened = agenda::open(ctx, &d.subject, step).await?;
        open.insert(opened.task_id, what);
        Ok(())
    }

    /// Projects the term as it now stands.
    async fn record_term(
        ctx: &WorkflowContext<Self>,
        clue_id: &str,
        term: &Term,
    ) -> WorkflowResult<()> {
        let record = DetentionTerm {
            clue_id: clue_id.to_owned(),
            announced_at: term.announced_at.clone(),
            extensions: term.extensions.len() as u32,
            ends_on: term.ends_on().to_string(),
        };
        agenda::projection(ctx, Projections::record_term, record).await
    }

    /// 解除留置 — release ends every timer.
    async fn release(
        ctx: &WorkflowContext<Self>,
        d: &Detention,
        open: &mut BTreeMap<String, Open>,
        note: Option<String>,
    ) -> WorkflowResult<String> {
        for task_id in std::mem::take(open).into_keys() {
            agenda::close(ctx, &task_id, Outcome::Cancelled, None, "release").await?;
        }
        d.project(ctx, DetentionState::Released, "released", note)
            .await?;
        Ok(DetentionState::Released.as_str().into())
    }
}
