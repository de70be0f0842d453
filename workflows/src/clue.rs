//! 问题线索 — the life of a clue under 规则, in the commission that holds it:
//! assignment and its approval (Art. 23), a collectively decided disposal
//! within a month (Art. 21, 53), then 谈话函询 (Art. 29–30) to the org the
//! person belongs to, 初步核实 (Art. 35) with 立案 (Art. 38) and 审理
//! (Art. 55), 暂存待查 or 予以了结 — closing after an inquiry or a
//! verification only with the head's approval (Art. 30, 35).

use jiandu_domain::clue::ClueState;
use jiandu_domain::flow::{CLUE_WORKFLOW, ClueStarted, EventKind, FlowEvent, REPORT_WORKFLOW};
use jiandu_domain::org::Role;
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::{Assignee, Notice, Projections};
use crate::agenda::{self, Agenda, Done, Flow, Step, Subject};

/// The clue workflow; its id is the clue id.
#[workflow]
#[derive(Default)]
pub struct ClueWorkflow {
    agenda: Agenda,
}

impl Flow for ClueWorkflow {
    const TYPE: &'static str = CLUE_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

/// How a clue ended, for its report and the registry.
enum End {
    Held,
    Closed(&'static str),
}

/// The clue, the commission that holds it, and why it holds it if not the
/// usual one (提级监督).
struct Case {
    clue: Subject,
    org: String,
    basis: Option<String>,
}

impl Case {
    /// `name` for `role` of the holding commission.
    fn step(&self, name: StepName, role: Role) -> Step {
        Step::new(name, Assignee::Org(self.org.clone()), role).basis(self.basis.as_deref())
    }

    /// The head's approval of what `asked` proposed: never by the one who asked.
    fn approval(&self, name: StepName, asked: &Done) -> Step {
        self.step(name, Role::Head).requested_by(&asked.by)
    }

    async fn project(
        &self,
        ctx: &WorkflowContext<ClueWorkflow>,
        state: ClueState,
        event: &str,
        note: Option<String>,
    ) -> WorkflowResult<()> {
        agenda::project(ctx, &self.clue, state.as_str(), event, note).await
    }

    async fn run(&self, ctx: &WorkflowContext<ClueWorkflow>, step: Step) -> WorkflowResult<Done> {
        agenda::step(ctx, &self.clue, step).await
    }
}

#[workflow_methods]
impl ClueWorkflow {
    /// Runs the clue from registration to its end.
    #[run(name = "ClueWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ClueStarted,
    ) -> WorkflowResult<String> {
        let case = Case {
            clue: Subject {
                kind: SubjectKind::Clue,
                id: input.clue_id.clone(),
            },
            org: input.org.clone(),
            basis: input.basis.clone(),
        };
        let end = Self::dispose(ctx, &case, &input).await?;
        let (state, result) = match end {
            End::Held => (ClueState::Held, "held"),
            End::Closed(how) => (ClueState::Closed, how),
        };
        case.project(ctx, state, result, None).await?;
        if let Some(report_id) = &input.report_id {
            let notice = Notice {
                workflow_type: REPORT_WORKFLOW.to_owned(),
                workflow_id: report_id.clone(),
                event: FlowEvent {
                    key: format!("{}:closed", input.clue_id),
                    kind: EventKind::ClueClosed {
                        clue_id: input.clue_id.clone(),
                        result: result.to_owned(),
                    },
                },
            };
            agenda::projection(ctx, Projections::notify, notice).await?;
        }
        Ok(result.to_owned())
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}

impl ClueWorkflow {
    async fn dispose(
        ctx: &WorkflowContext<Self>,
        case: &Case,
        input: &ClueStarted,
    ) -> WorkflowResult<End> {
        // 规则 Art. 23: case management proposes, the head approves; the
        // proposal may name the org the person belongs to.
        let mut subject_org = input.subject_org.clone();
        loop {
            case.project(ctx, ClueState::Assignment, "assignment", None)
                .await?;
            let proposal = case
                .run(
                    ctx,
                    case.step(StepName::Assignment, Role::CaseManagement)
                        .counted_from(&input.registered_at),
                )
                .await?;
            if let Some(org) = &proposal.detail {
                subject_org = Some(org.clone());
            }
            case.project(
                ctx,
                ClueState::AssignmentApproval,
                "assignment_proposed",
                proposal.detail.clone(),
            )
            .await?;
            let approval = case
                .run(ctx, case.approval(StepName::AssignmentApproval, &proposal))
                .await?;
            if approval.outcome == Outcome::Approve {
                break;
            }
        }
        // 规则 Art. 21, 53: within a month of receipt, decided collectively.
        case.project(ctx, ClueState::AwaitingDisposal, "assigned", None)
            .await?;
        let disposal = case
            .run(
                ctx,
                case.step(StepName::Disposal, Role::Supervision)
                    .counted_from(&input.registered_at),
            )
            .await?;
        let decided = disposal
            .decision_id
            .as_ref()
            .map(|d| format!("collective decision {d}"));
        match disposal.outcome {
            Outcome::Hold => {
                case.project(ctx, ClueState::Held, "disposed_hold", decided)
                    .await?;
                Ok(End::Held)
            }
            Outcome::Close => Ok(End::Closed("closed")),
            Outcome::TalkInquiry => {
                case.project(ctx, ClueState::Inquiry, "disposed_talk_inquiry", decided)
                    .await?;
                Self::inquire(ctx, case, subject_org.as_deref(), &disposal).await
            }
            _ => {
                case.project(
                    ctx,
                    ClueState::Verification,
                    "disposed_preliminary_verification",
                    decided,
                )
                .await?;
                Self::verify(ctx, case, &disposal).await
            }
        }
    }

    /// 谈话函询 (规则 Art. 29–30): the reply within 15 working days from the
    /// org the person belongs to (or the commission itself, for a talk), the
    /// handler's report within a month, and closing only with the head's
    /// approval — refused, the clue goes on to verification.
    async fn inquire(
        ctx: &WorkflowContext<Self>,
        case: &Case,
        subject_org: Option<&str>,
        disposal: &Done,
    ) -> WorkflowResult<End> {
        let reply = match subject_org {
            Some(org) => Step::new(
                StepName::InquiryReply,
                Assignee::Org(org.to_owned()),
                Role::Staff,
            ),
            None => case.step(StepName::InquiryReply, Role::Supervision),
        };
        case.run(ctx, reply).await?;
        let report = case
            .run(ctx, case.step(StepName::InquiryReport, Role::Supervision))
            .await?;
        if report.outcome == Outcome::Close {
            let closing = case
                .run(ctx, case.approval(StepName::InquiryClosing, &report))
                .await?;
            if closing.outcome == Outcome::Approve {
                return Ok(End::Closed("closed_after_inquiry"));
            }
        }
        case.project(ctx, ClueState::Verification, "verification", None)
            .await?;
        Self::verify(ctx, case, disposal).await
    }

    /// 初步核实 (规则 Art. 35), then 立案 (Art. 38) and 审理 (Art. 55) if it holds.
    async fn verify(
        ctx: &WorkflowContext<Self>,
        case: &Case,
        disposal: &Done,
    ) -> WorkflowResult<End> {
        let plan = case
            .run(ctx, case.approval(StepName::VerificationPlan, disposal))
            .await?;
        if plan.outcome != Outcome::Approve {
            return Ok(End::Closed("verification_not_approved"));
        }
        let found = loop {
            let found = case
                .run(
                    ctx,
                    case.step(StepName::VerificationReport, Role::Supervision),
                )
                .await?;
            if found.outcome == Outcome::FileCase {
                break found;
            }
            // Closing after a verification needs the head's approval (Art. 35).
            let closing = case
                .run(ctx, case.approval(StepName::VerificationClosing, &found))
                .await?;
            if closing.outcome == Outcome::Approve {
                return Ok(End::Closed("closed_after_verification"));
            }
        };
        // 规则 Art. 38: the commission head, then the Party-committee head,
        // on the collective decision to file.
        case.project(ctx, ClueState::FilingApproval, "filing_proposed", None)
            .await?;
        let head = case
            .run(ctx, case.approval(StepName::FilingHead, &found))
            .await?;
        if head.outcome != Outcome::Approve {
            return Ok(End::Closed("filing_not_approved"));
        }
        let party = Step::new(
            StepName::FilingParty,
            Assignee::PartyCommitteeOf(case.org.clone()),
            Role::PartyHead,
        )
        .requested_by(&found.by);
        if case.run(ctx, party).await?.outcome != Outcome::Approve {
            return Ok(End::Closed("filing_not_approved"));
        }
        case.project(ctx, ClueState::Investigation, "filed", None)
            .await?;
        // 规则 Art. 40: no general time limit on investigation.
        case.run(ctx, case.step(StepName::Investigation, Role::Investigation))
            .await?;
        case.project(ctx, ClueState::Review, "to_review", None)
            .await?;
        case.run(ctx, case.step(StepName::CaseReview, Role::Review))
            .await?;
        Ok(End::Closed("concluded"))
    }
}
