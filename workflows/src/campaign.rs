//! 专项整治 / 联合督导 — a campaign: every participant at once runs its
//! self-inspection (自查), the lead commission's on-site check (联合检查,
//! which records problems and recommendations) and its rectification report
//! (整改), each a task on the campaign's own deadline (no article sets
//! them) and the escalation ladder. Progress is projected per participant.

use std::collections::BTreeMap;

use jiandu_domain::flow::{CAMPAIGN_WORKFLOW, CampaignStarted, EventKind, FlowEvent};
use jiandu_domain::org::Role;
use jiandu_domain::step::{StepName, SubjectKind};
use jiandu_domain::supervision::{ParticipantState, participant_id};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::Assignee;
use crate::agenda::{self, Agenda, Flow, Step, Subject};

/// The campaign workflow; its id is the campaign id.
#[workflow]
#[derive(Default)]
pub struct CampaignWorkflow {
    agenda: Agenda,
}

impl Flow for CampaignWorkflow {
    const TYPE: &'static str = CAMPAIGN_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

/// The step a participant is at, and the one that follows it.
fn next(step: StepName) -> Option<(StepName, ParticipantState)> {
    match step {
        StepName::SelfInspection => Some((StepName::JointCheck, ParticipantState::JointCheck)),
        StepName::JointCheck => Some((
            StepName::CampaignRectification,
            ParticipantState::Rectification,
        )),
        _ => None,
    }
}

#[workflow_methods]
impl CampaignWorkflow {
    /// Runs every participant through its steps; ends when all are done.
    #[run(name = "CampaignWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: CampaignStarted,
    ) -> WorkflowResult<String> {
        // Each open task: the participant it is for and its step.
        let mut open: BTreeMap<String, (String, StepName)> = BTreeMap::new();
        for org in &input.participants {
            let step = Self::step(&input, org, StepName::SelfInspection);
            let task = agenda::open(ctx, &Self::subject(&input, org), step)
                .await?
                .task_id;
            open.insert(task, (org.clone(), StepName::SelfInspection));
        }
        while !open.is_empty() {
            let event = agenda::next_event(ctx, None, |e| match &e.kind {
                EventKind::TaskCompleted { task_id, .. } => open.contains_key(task_id),
                _ => false,
            })
            .await?
            .expect("waiting without a limit ends only with an event");
            let done = agenda::finish(ctx, event).await?;
            let (org, step) = open
                .remove(&done.task_id)
                .expect("only open steps were waited for");
            let subject = Self::subject(&input, &org);
            match next(step) {
                Some((following, state)) => {
                    agenda::project(ctx, &subject, state.as_str(), step.as_str(), done.note)
                        .await?;
                    let task = agenda::open(ctx, &subject, Self::step(&input, &org, following))
                        .await?
                        .task_id;
                    open.insert(task, (org, following));
                }
                None => {
                    agenda::project(
                        ctx,
                        &subject,
                        ParticipantState::Done.as_str(),
                        step.as_str(),
                        done.note,
                    )
                    .await?;
                }
            }
        }
        Ok(format!("{} participants done", input.participants.len()))
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}

impl CampaignWorkflow {
    /// Participant `org`'s part in the campaign.
    fn subject(input: &CampaignStarted, org: &str) -> Subject {
        Subject {
            kind: SubjectKind::CampaignParticipant,
            id: participant_id(&input.campaign_id, org),
        }
    }

    /// `name` for participant `org`: its own staff report, the lead
    /// commission's 监督检查室 checks; each on the campaign's days.
    fn step(input: &CampaignStarted, org: &str, name: StepName) -> Step {
        let (assignee, role, days) = match name {
            StepName::SelfInspection => (org, Role::Staff, input.self_inspection_days),
            StepName::JointCheck => (
                input.org.as_str(),
                Role::Supervision,
                input.joint_check_days,
            ),
            _ => (org, Role::Staff, input.rectification_days),
        };
        Step::new(name, Assignee::Org(assignee.to_owned()), role).days(days)
    }
}
