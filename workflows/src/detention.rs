//! 留置 — detention under 监察法 Art. 47–50: the next-higher commission's
//! approval before it starts, the 3-month limit and its extensions, the
//! 24-hour notice (and its approved exception), change requests, release.

use std::collections::BTreeMap;

use jiandu_domain::clue::{Role, next_extension};
use jiandu_domain::deadline::{
    CHANGE_REQUEST, DETENTION, DETENTION_APPROVAL, DETENTION_NOTICE, NOTICE_EXCEPTION,
};
use jiandu_domain::flow::{DETENTION_WORKFLOW, DetentionRequested, EventKind, FlowEvent};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

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

const APPROVE: &[&str] = &["approve", "reject"];

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

/// The months of detention so far: 3, plus each granted extension.
struct Term {
    announced_at: String,
    months: u32,
    extensions: u32,
    pending_extension: bool,
}

#[workflow_methods]
impl DetentionWorkflow {
    /// Runs the detention from the request to release.
    #[run(name = "DetentionWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: DetentionRequested,
    ) -> WorkflowResult<String> {
        let d = Subject {
            kind: "detention",
            id: input.clue_id.clone(),
        };
        // 监察法 Art. 47: without the next-higher commission's approval it never starts.
        let approval = agenda::step(
            ctx,
            &d,
            Step::new(
                "detention_approval",
                DETENTION_APPROVAL,
                Role::HigherCommission,
                APPROVE,
            )
            .counted_from(&input.requested_at),
        )
        .await?;
        if approval.outcome != "approve" {
            agenda::project(
                ctx,
                &d,
                "rejected",
                "rejected_by_higher_commission",
                approval.note,
            )
            .await?;
            return Ok("rejected".into());
        }
        agenda::project(
            ctx,
            &d,
            "in_effect",
            "announced",
            Some("approved by the next-higher commission (监察法 Art. 47); at most 3 months (Art. 48)".into()),
        )
        .await?;
        let mut term = Term {
            announced_at: agenda::now_rfc3339(ctx),
            months: 3,
            extensions: 0,
            pending_extension: false,
        };
        let mut open = BTreeMap::new();
        Self::track(ctx, &d, &mut open, Self::limit(&term), Open::Limit).await?;
        Self::track(
            ctx,
            &d,
            &mut open,
            Self::notice(&["notified", "exception"]),
            Open::Notice,
        )
        .await?;

        loop {
            let event = agenda::next_event(ctx, None, |_| true)
                .await?
                .expect("waiting without a limit ends only with an event");
            match event.kind {
                EventKind::TaskCompleted {
                    task_id,
                    outcome,
                    note,
                    by,
                    ..
                } => {
                    agenda::close(ctx, &task_id, &outcome, note.clone(), &by).await?;
                    let Some(what) = open.remove(&task_id) else {
                        continue;
                    };
                    match what {
                        Open::Limit => return Self::release(ctx, &d, &mut open, note).await,
                        Open::Notice if outcome == "exception" => {
                            // Art. 50: not notifying needs approval.
                            Self::track(
                                ctx,
                                &d,
                                &mut open,
                                Step::new(
                                    "notice_exception",
                                    NOTICE_EXCEPTION,
                                    Role::Head,
                                    APPROVE,
                                ),
                                Open::NoticeException,
                            )
                            .await?;
                        }
                        Open::Notice | Open::NoticeAfterException => {
                            agenda::project(ctx, &d, "in_effect", "family_notified", None).await?;
                        }
                        Open::NoticeException if outcome == "approve" => {
                            agenda::project(ctx, &d, "in_effect", "notice_deferred", note).await?;
                            Self::track(
                                ctx,
                                &d,
                                &mut open,
                                Step::untimed(
                                    "notice_after_exception",
                                    "监察法 Art. 50",
                                    Role::Investigation,
                                    &["notified"],
                                ),
                                Open::NoticeAfterException,
                            )
                            .await?;
                        }
                        Open::NoticeException => {
                            // Refused: the notice is owed now, and already late.
                            Self::track(
                                ctx,
                                &d,
                                &mut open,
                                Self::notice(&["notified"]).counted_from(&term.announced_at),
                                Open::Notice,
                            )
                            .await?;
                        }
                        Open::Extension { months } => {
                            term.pending_extension = false;
                            if outcome == "approve" {
                                term.extensions += 1;
                                term.months += months;
                                let old = open
                                    .iter()
                                    .find(|(_, o)| matches!(o, Open::Limit))
                                    .map(|(id, _)| id.clone());
                                if let Some(old) = old {
                                    open.remove(&old);
                                    agenda::close(ctx, &old, "extended", None, &by).await?;
                                }
                                Self::track(ctx, &d, &mut open, Self::limit(&term), Open::Limit)
                                    .await?;
                                let note =
                                    format!("extended by {months} months, {} in all", term.months);
                                agenda::project(ctx, &d, "in_effect", "extended", Some(note))
                                    .await?;
                            } else {
                                agenda::project(ctx, &d, "in_effect", "extension_rejected", note)
                                    .await?;
                            }
                        }
                        Open::Change => {
                            agenda::project(ctx, &d, "in_effect", "change_answered", note).await?;
                        }
                    }
                }
                EventKind::ExtensionRequested { months, reason, .. } => {
                    let rule = next_extension(term.extensions);
                    match rule {
                        Ok(rule) if !term.pending_extension && months <= rule.max_months => {
                            term.pending_extension = true;
                            Self::track(
                                ctx,
                                &d,
                                &mut open,
                                Step::new(
                                    "extension_approval",
                                    DETENTION_APPROVAL,
                                    rule.approver,
                                    APPROVE,
                                ),
                                Open::Extension { months },
                            )
                            .await?;
                            agenda::project(
                                ctx,
                                &d,
                                "in_effect",
                                "extension_requested",
                                Some(reason),
                            )
                            .await?;
                        }
                        Ok(rule) => {
                            let why = if term.pending_extension {
                                "an extension request is already pending".to_owned()
                            } else {
                                format!("at most {} months ({})", rule.max_months, rule.article)
                            };
                            agenda::project(ctx, &d, "in_effect", "extension_refused", Some(why))
                                .await?;
                        }
                        Err(why) => {
                            agenda::project(
                                ctx,
                                &d,
                                "in_effect",
                                "extension_refused",
                                Some(why.into()),
                            )
                            .await?;
                        }
                    }
                }
                EventKind::ChangeRequested { reason } => {
                    Self::track(
                        ctx,
                        &d,
                        &mut open,
                        Step::new(
                            "change_request",
                            CHANGE_REQUEST,
                            Role::Head,
                            &["granted", "refused"],
                        ),
                        Open::Change,
                    )
                    .await?;
                    agenda::project(ctx, &d, "in_effect", "change_requested", Some(reason)).await?;
                }
                EventKind::Released { reason, .. } => {
                    return Self::release(ctx, &d, &mut open, Some(reason)).await;
                }
                EventKind::ClueOpened { .. }
                | EventKind::ClueClosed { .. }
                | EventKind::Feedback { .. } => {}
            }
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}

impl DetentionWorkflow {
    /// The time limit step for the months granted so far, from the announcement.
    fn limit(term: &Term) -> Step {
        Step::new(
            "detention_limit",
            DETENTION,
            Role::Investigation,
            &["released"],
        )
        .counted_from(&term.announced_at)
        .months(term.months)
    }

    /// 通知 — the 24-hour notice to work unit and family (监察法 Art. 50).
    fn notice(outcomes: &'static [&'static str]) -> Step {
        Step::new(
            "detention_notice",
            DETENTION_NOTICE,
            Role::Investigation,
            outcomes,
        )
    }

    /// Opens a step and remembers what it is for.
    async fn track(
        ctx: &WorkflowContext<Self>,
        d: &Subject,
        open: &mut BTreeMap<String, Open>,
        step: Step,
        what: Open,
    ) -> WorkflowResult<()> {
        let task_id = agenda::open(ctx, d, step).await?;
        open.insert(task_id, what);
        Ok(())
    }

    /// 解除留置 — release ends every timer.
    async fn release(
        ctx: &WorkflowContext<Self>,
        d: &Subject,
        open: &mut BTreeMap<String, Open>,
        note: Option<String>,
    ) -> WorkflowResult<String> {
        for task_id in std::mem::take(open).into_keys() {
            agenda::close(ctx, &task_id, "cancelled", None, "release").await?;
        }
        agenda::project(ctx, d, "released", "released", note).await?;
        Ok("released".into())
    }
}
