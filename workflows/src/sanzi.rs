//! 三资预警 — the check of a risk warning: the township's 三资 office checks
//! what a rule found on a village's contract or payment, on the escalation
//! ladder, with the county's commission watching; confirmed or dismissed
//! with the reason. No article sets its days (`deadline::RISK_CHECK`).

use jiandu_domain::flow::{FlowEvent, RISK_WARNING_WORKFLOW, RiskWarned};
use jiandu_domain::org::Role;
use jiandu_domain::sanzi::WarningState;
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::Assignee;
use crate::agenda::{self, Agenda, Flow, Step, Subject};

/// The risk-warning workflow ([`RISK_WARNING_WORKFLOW`]); its id is the warning id.
#[workflow]
#[derive(Default)]
pub struct RiskWarningWorkflow {
    agenda: Agenda,
}

impl Flow for RiskWarningWorkflow {
    const TYPE: &'static str = RISK_WARNING_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

#[workflow_methods]
impl RiskWarningWorkflow {
    /// Has the township's 三资 office check the warning, then records what it found.
    #[run(name = "RiskWarningWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: RiskWarned) -> WorkflowResult<String> {
        let subject = Subject {
            kind: SubjectKind::RiskWarning,
            id: input.warning_id.clone(),
        };
        let step = Step::new(
            StepName::RiskCheck,
            Assignee::Org(input.owner),
            Role::AssetsOffice,
        );
        let done = agenda::step(ctx, &subject, step).await?;
        let (state, event) = if done.outcome == Outcome::Confirm {
            (WarningState::Confirmed, "confirmed")
        } else {
            (WarningState::Dismissed, "dismissed")
        };
        agenda::project(ctx, &subject, state.as_str(), event, done.note).await?;
        Ok(state.as_str().to_owned())
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}
