//! 检举控告 — the life of a report: triage by 信访室 of the commission that
//! holds it, acceptance or not, transfer or sending up, the real-name
//! notices, the clue it becomes and the reporter's rating or objection.

use jiandu_domain::deadline::FEEDBACK;
use jiandu_domain::flow::{EventKind, FlowEvent, REPORT_WORKFLOW, ReportStarted};
use jiandu_domain::org::Role;
use jiandu_domain::report::ReportStatus;
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::{Assignee, ClueFromReport, Projections};
use crate::agenda::{self, Agenda, Flow, Step, Subject};

/// The report workflow; its id is the report id.
#[workflow]
#[derive(Default)]
pub struct ReportWorkflow {
    agenda: Agenda,
}

impl Flow for ReportWorkflow {
    const TYPE: &'static str = REPORT_WORKFLOW;
    fn agenda(&self) -> &Agenda {
        &self.agenda
    }
    fn agenda_mut(&mut self) -> &mut Agenda {
        &mut self.agenda
    }
}

/// What a reporter said in the feedback window (评价, 检控 Art. 27).
pub(crate) enum Feedback {
    /// An objection with new evidence: the matter reopens.
    Reopens(String),
    /// A rating or an objection without new evidence, as the timeline says it.
    Given(String),
    /// Nothing within the window.
    None,
}

/// Waits the feedback window ([`FEEDBACK`]) for the reporter's rating or objection.
pub(crate) async fn feedback(ctx: &WorkflowContext<ReportWorkflow>) -> WorkflowResult<Feedback> {
    let window = agenda::deadline_in(ctx, FEEDBACK).await?;
    let said = agenda::next_event(ctx, Some(window), |e| {
        matches!(e.kind, EventKind::Feedback { .. })
    })
    .await?;
    Ok(match said.map(|e| e.kind) {
        Some(EventKind::Feedback {
            objection: Some(objection),
            new_evidence: true,
            ..
        }) => Feedback::Reopens(objection),
        Some(EventKind::Feedback {
            rating, objection, ..
        }) => Feedback::Given(match (rating, objection) {
            (_, Some(o)) => format!("objection recorded: {o}"),
            (Some(r), None) => format!("rated {r}/5"),
            (None, None) => "feedback without a rating".to_owned(),
        }),
        _ => Feedback::None,
    })
}

/// The triage detail that marks a report about this commission's own head.
pub const OWN_HEAD: &str = "own_head";

#[workflow_methods]
impl ReportWorkflow {
    /// Runs the report from receipt to the reporter's feedback; a complaint
    /// against a disclosed item runs the complaint loop instead.
    #[run(name = "ReportWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ReportStarted,
    ) -> WorkflowResult<String> {
        if let Some(complaint) = &input.complaint {
            return crate::complaint::run(ctx, &input, complaint).await;
        }
        let report = Subject {
            kind: SubjectKind::Report,
            id: input.report_id.clone(),
        };
        let petitions = |name| Step::new(name, Assignee::Org(input.org.clone()), Role::Petitions);
        let mut acceptance_opened = false;
        // Each round's limits count from its start: receipt, then the reopening.
        let mut round_start = input.received_at.clone();
        let mut round = 0u32;
        loop {
            round += 1;
            let triage = agenda::step(
                ctx,
                &report,
                petitions(StepName::Triage).counted_from(&round_start),
            )
            .await?;
            let (status, event, note) = match triage.outcome {
                Outcome::NotAccept => {
                    // 检控 Art. 13: out of scope, with the reason; the answer is the notice.
                    (ReportStatus::NotAccepted, "not_accepted", triage.note)
                }
                Outcome::Duplicate => {
                    // 检控 Art. 14, 26: registered, linked, no new notices.
                    let note = triage.detail.map(|of| format!("duplicate of {of}"));
                    (ReportStatus::Duplicate, "duplicate", note)
                }
                Outcome::Transfer => {
                    // 条例 Art. 199: within 5 working days of receipt.
                    let step = petitions(StepName::Transfer).counted_from(&round_start);
                    agenda::step(ctx, &report, step).await?;
                    let note = triage.detail.map(|to| format!("transferred to {to}"));
                    (ReportStatus::Transferred, "transferred", note)
                }
                Outcome::SendUp => {
                    let own_head = triage.detail.as_deref() == Some(OWN_HEAD);
                    let mut step = petitions(StepName::SendUp).counted_from(&round_start);
                    if own_head {
                        // 回避: the head does not handle a matter about himself.
                        step = step.withheld_from(Role::Head);
                    }
                    agenda::step(ctx, &report, step).await?;
                    if own_head {
                        // 检控 Art. 15: about this commission's head — no local copy.
                        agenda::projection(ctx, Projections::erase_report, input.report_id.clone())
                            .await?;
                    }
                    (ReportStatus::SentUp, "sent_up", None)
                }
                _ => (ReportStatus::Accepted, "accepted", None),
            };
            agenda::project(ctx, &report, status.as_str(), event, note).await?;
            if status != ReportStatus::Accepted {
                return Ok(status.as_str().into());
            }
            // 检控 Art. 26: counted from receipt, never repeated, and it runs
            // beside the clue: a late notice holds nothing up.
            let mut notice = None;
            if input.real_name && !acceptance_opened {
                let step = petitions(StepName::AcceptanceNotice).counted_from(&input.received_at);
                notice = Some(agenda::open(ctx, &report, step).await?.task_id);
                acceptance_opened = true;
            }
            let clue_id = format!("{}-C{round}", input.report_id);
            agenda::projection(
                ctx,
                Projections::open_clue,
                ClueFromReport {
                    report_id: input.report_id.clone(),
                    clue_id: clue_id.clone(),
                    org: input.org.clone(),
                },
            )
            .await?;
            // One or more clues: 案件监督管理室 may register more from this
            // report; the matter concludes once every one of them has closed.
            let mut open_clues = vec![clue_id];
            let mut results = Vec::new();
            while !open_clues.is_empty() || notice.is_some() {
                let event = agenda::next_event(ctx, None, |e| match &e.kind {
                    EventKind::ClueClosed { clue_id, .. } => open_clues.contains(clue_id),
                    EventKind::ClueOpened { .. } => true,
                    _ => notice.as_deref().is_some_and(|n| agenda::completes(e, n)),
                })
                .await?
                .expect("waiting without a limit ends only with an event");
                match event.kind {
                    EventKind::ClueOpened { clue_id } => open_clues.push(clue_id),
                    EventKind::ClueClosed { clue_id, result } => {
                        open_clues.retain(|c| *c != clue_id);
                        results.push(result);
                    }
                    EventKind::TaskCompleted { .. } => {
                        agenda::finish(ctx, event).await?;
                        notice = None;
                    }
                    _ => unreachable!("only clue events and the notice were wanted"),
                }
            }
            let result = results.join("; ");
            agenda::project(
                ctx,
                &report,
                ReportStatus::Concluded.as_str(),
                "concluded",
                Some(result),
            )
            .await?;
            if input.real_name {
                // 检控 Art. 27: the result within 15 working days of closing.
                agenda::step(ctx, &report, petitions(StepName::ResultNotice)).await?;
            }
            let (event, note) = match feedback(ctx).await? {
                Feedback::Reopens(objection) => {
                    // An objection with new evidence reopens the matter; its
                    // new triage counts from now, not from the first receipt.
                    agenda::project(
                        ctx,
                        &report,
                        ReportStatus::Reopened.as_str(),
                        "objection",
                        Some(objection),
                    )
                    .await?;
                    round_start = agenda::now_rfc3339(ctx);
                    continue;
                }
                Feedback::Given(note) => ("feedback", Some(note)),
                Feedback::None => ("closed", None),
            };
            agenda::project(ctx, &report, ReportStatus::Closed.as_str(), event, note).await?;
            return Ok(ReportStatus::Closed.as_str().into());
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: FlowEvent) {
        self.agenda.deliver(event);
    }
}
