//! 问题线索 — the life of a clue under 规则: assignment and its approval
//! (Art. 23), a collectively decided disposal within a month (Art. 21, 53),
//! then 谈话函询 (Art. 29–30), 初步核实 (Art. 35) with 立案 (Art. 38) and
//! 审理 (Art. 55), 暂存待查 or 予以了结.

use jiandu_domain::clue::{ClueState, Role};
use jiandu_domain::deadline::{
    ASSIGNMENT_APPROVAL, CASE_REVIEW, CLUE_DISPOSAL, FILING_APPROVAL, INQUIRY_REPLY,
    INQUIRY_REPORT, VERIFICATION, VERIFICATION_PLAN,
};
use jiandu_domain::flow::{CLUE_WORKFLOW, ClueStarted, EventKind, FlowEvent, REPORT_WORKFLOW};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::{Notice, Projections};
use crate::agenda::{self, Agenda, Flow, Step, Subject};

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

const APPROVE: &[&str] = &["approve", "reject"];

/// How a clue ended, for its report and the registry.
enum End {
    Held,
    Closed(&'static str),
}

#[workflow_methods]
impl ClueWorkflow {
    /// Runs the clue from registration to its end.
    #[run(name = "ClueWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ClueStarted,
    ) -> WorkflowResult<String> {
        let clue = Subject {
            kind: "clue",
            id: input.clue_id.clone(),
        };
        let end = Self::dispose(ctx, &clue, &input).await?;
        let (state, result) = match end {
            End::Held => (ClueState::Held, "held"),
            End::Closed(how) => (ClueState::Closed, how),
        };
        agenda::project(ctx, &clue, state.as_str(), result, None).await?;
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
            ctx.execute_activity(Projections::notify, notice, agenda::options())
                .await?;
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
        clue: &Subject,
        input: &ClueStarted,
    ) -> WorkflowResult<End> {
        // 规则 Art. 23: case management proposes, the head approves.
        loop {
            agenda::project(
                ctx,
                clue,
                ClueState::Assignment.as_str(),
                "assignment",
                None,
            )
            .await?;
            let proposal = agenda::step(
                ctx,
                clue,
                Step::new(
                    "assignment",
                    CLUE_DISPOSAL,
                    Role::CaseManagement,
                    &["proposed"],
                )
                .counted_from(&input.registered_at),
            )
            .await?;
            agenda::project(
                ctx,
                clue,
                ClueState::AssignmentApproval.as_str(),
                "assignment_proposed",
                proposal.detail,
            )
            .await?;
            let approval = agenda::step(
                ctx,
                clue,
                Step::new(
                    "assignment_approval",
                    ASSIGNMENT_APPROVAL,
                    Role::Head,
                    APPROVE,
                ),
            )
            .await?;
            if approval.outcome == "approve" {
                break;
            }
        }
        // 规则 Art. 21, 53: within a month of receipt, decided collectively.
        agenda::project(
            ctx,
            clue,
            ClueState::AwaitingDisposal.as_str(),
            "assigned",
            None,
        )
        .await?;
        let disposal = agenda::step(
            ctx,
            clue,
            Step::new(
                "disposal",
                CLUE_DISPOSAL,
                Role::Supervision,
                &["talk_inquiry", "preliminary_verification", "hold", "close"],
            )
            .counted_from(&input.registered_at),
        )
        .await?;
        let decided = disposal
            .decision_id
            .map(|d| format!("collective decision {d}"));
        match disposal.outcome.as_str() {
            "hold" => {
                agenda::project(
                    ctx,
                    clue,
                    ClueState::Held.as_str(),
                    "disposed_hold",
                    decided,
                )
                .await?;
                Ok(End::Held)
            }
            "close" => Ok(End::Closed("closed")),
            "talk_inquiry" => {
                agenda::project(
                    ctx,
                    clue,
                    ClueState::Inquiry.as_str(),
                    "disposed_talk_inquiry",
                    decided,
                )
                .await?;
                // 规则 Art. 29: the reply within 15 working days, signed off by the
                // person's Party committee; Art. 30: the handler's report within a month.
                agenda::step(
                    ctx,
                    clue,
                    Step::new(
                        "inquiry_reply",
                        INQUIRY_REPLY,
                        Role::Department,
                        &["replied"],
                    ),
                )
                .await?;
                let report = agenda::step(
                    ctx,
                    clue,
                    Step::new(
                        "inquiry_report",
                        INQUIRY_REPORT,
                        Role::Supervision,
                        &["close", "verify"],
                    ),
                )
                .await?;
                if report.outcome == "verify" {
                    agenda::project(
                        ctx,
                        clue,
                        ClueState::Verification.as_str(),
                        "verification",
                        None,
                    )
                    .await?;
                    Self::verify(ctx, clue).await
                } else {
                    Ok(End::Closed("closed_after_inquiry"))
                }
            }
            _ => {
                agenda::project(
                    ctx,
                    clue,
                    ClueState::Verification.as_str(),
                    "disposed_preliminary_verification",
                    decided,
                )
                .await?;
                Self::verify(ctx, clue).await
            }
        }
    }

    /// 初步核实 (规则 Art. 35), then 立案 (Art. 38) and 审理 (Art. 55) if it holds.
    async fn verify(ctx: &WorkflowContext<Self>, clue: &Subject) -> WorkflowResult<End> {
        let plan = agenda::step(
            ctx,
            clue,
            Step::new("verification_plan", VERIFICATION_PLAN, Role::Head, APPROVE),
        )
        .await?;
        if plan.outcome != "approve" {
            return Ok(End::Closed("verification_not_approved"));
        }
        let found = agenda::step(
            ctx,
            clue,
            Step::new(
                "verification_report",
                VERIFICATION,
                Role::Supervision,
                &["file_case", "close"],
            ),
        )
        .await?;
        if found.outcome != "file_case" {
            return Ok(End::Closed("closed_after_verification"));
        }
        // 规则 Art. 38: the commission head, then the Party-committee head.
        agenda::project(
            ctx,
            clue,
            ClueState::FilingApproval.as_str(),
            "filing_proposed",
            None,
        )
        .await?;
        for (name, role) in [
            ("filing_head", Role::Head),
            ("filing_party", Role::PartyHead),
        ] {
            let approval =
                agenda::step(ctx, clue, Step::new(name, FILING_APPROVAL, role, APPROVE)).await?;
            if approval.outcome != "approve" {
                return Ok(End::Closed("filing_not_approved"));
            }
        }
        agenda::project(ctx, clue, ClueState::Investigation.as_str(), "filed", None).await?;
        // 规则 Art. 40: no general time limit on investigation.
        agenda::step(
            ctx,
            clue,
            Step::untimed(
                "investigation",
                "规则 Art. 40",
                Role::Investigation,
                &["to_review"],
            ),
        )
        .await?;
        agenda::project(ctx, clue, ClueState::Review.as_str(), "to_review", None).await?;
        agenda::step(
            ctx,
            clue,
            Step::new("case_review", CASE_REVIEW, Role::Review, &["concluded"]),
        )
        .await?;
        Ok(End::Closed("concluded"))
    }
}
