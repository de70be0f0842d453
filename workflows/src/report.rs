//! 检举控告 — the life of a report: triage by 信访室, acceptance or not,
//! transfer or sending up, the real-name notices, the clue it becomes and the
//! reporter's rating or objection.

use jiandu_domain::clue::Role;
use jiandu_domain::deadline::{
    ACCEPTANCE_NOTICE, FEEDBACK, RESULT_NOTICE, SEND_UP, TRANSFER, TRIAGE,
};
use jiandu_domain::flow::{EventKind, REPORT_WORKFLOW, ReportStarted};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};

use crate::activities::{ClueFromReport, Projections};
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

/// The triage outcomes (检控 Art. 13–15).
const TRIAGE_OUTCOMES: &[&str] = &["accept", "not_accept", "transfer", "send_up", "duplicate"];

#[workflow_methods]
impl ReportWorkflow {
    /// Runs the report from receipt to the reporter's feedback.
    #[run(name = "ReportWorkflow")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ReportStarted,
    ) -> WorkflowResult<String> {
        let report = Subject {
            kind: "report",
            id: input.report_id.clone(),
        };
        let mut acceptance_notified = false;
        let mut round = 0u32;
        loop {
            round += 1;
            let triage = agenda::step(
                ctx,
                &report,
                Step::new("triage", TRIAGE, Role::Petitions, TRIAGE_OUTCOMES)
                    .counted_from(&input.received_at),
            )
            .await?;
            match triage.outcome.as_str() {
                "not_accept" => {
                    // 检控 Art. 13: out of scope, with the reason; the answer is the notice.
                    agenda::project(ctx, &report, "not_accepted", "not_accepted", triage.note)
                        .await?;
                    return Ok("not_accepted".into());
                }
                "duplicate" => {
                    // 检控 Art. 14, 26: registered, linked, no new notices.
                    let note = triage.detail.map(|of| format!("duplicate of {of}"));
                    agenda::project(ctx, &report, "duplicate", "duplicate", note).await?;
                    return Ok("duplicate".into());
                }
                "transfer" => {
                    agenda::step(
                        ctx,
                        &report,
                        Step::new("transfer", TRANSFER, Role::Petitions, &["transferred"]),
                    )
                    .await?;
                    let note = triage.detail.map(|to| format!("transferred to {to}"));
                    agenda::project(ctx, &report, "transferred", "transferred", note).await?;
                    return Ok("transferred".into());
                }
                "send_up" => {
                    agenda::step(
                        ctx,
                        &report,
                        Step::new("send_up", SEND_UP, Role::Petitions, &["sent_up"]),
                    )
                    .await?;
                    if triage.detail.as_deref() == Some("own_head") {
                        // 检控 Art. 15: about this commission's head — no local copy.
                        ctx.execute_activity(
                            Projections::erase_report,
                            input.report_id.clone(),
                            agenda::options(),
                        )
                        .await?;
                    }
                    agenda::project(ctx, &report, "sent_up", "sent_up", None).await?;
                    return Ok("sent_up".into());
                }
                _ => {}
            }
            agenda::project(ctx, &report, "accepted", "accepted", None).await?;
            if input.real_name && !acceptance_notified {
                // 检控 Art. 26: counted from receipt, and never repeated.
                agenda::step(
                    ctx,
                    &report,
                    Step::new(
                        "acceptance_notice",
                        ACCEPTANCE_NOTICE,
                        Role::Petitions,
                        &["notified"],
                    )
                    .counted_from(&input.received_at),
                )
                .await?;
                acceptance_notified = true;
            }
            let clue_id = format!("{}-C{round}", input.report_id);
            ctx.execute_activity(
                Projections::open_clue,
                ClueFromReport {
                    report_id: input.report_id.clone(),
                    clue_id: clue_id.clone(),
                },
                agenda::options(),
            )
            .await?;
            // One or more clues: 案件监督管理室 may register more from this
            // report; the matter concludes once every one of them has closed.
            let mut open_clues = vec![clue_id];
            let mut results = Vec::new();
            while !open_clues.is_empty() {
                let event = agenda::next_event(ctx, None, |e| match &e.kind {
                    EventKind::ClueClosed { clue_id, .. } => open_clues.contains(clue_id),
                    EventKind::ClueOpened { .. } => true,
                    _ => false,
                })
                .await?
                .expect("waiting without a limit ends only with an event");
                match event.kind {
                    EventKind::ClueOpened { clue_id } => open_clues.push(clue_id),
                    EventKind::ClueClosed { clue_id, result } => {
                        open_clues.retain(|c| *c != clue_id);
                        results.push(result);
                    }
                    _ => unreachable!("only clue events were wanted"),
                }
            }
            let result = results.join("; ");
            agenda::project(ctx, &report, "concluded", "concluded", Some(result)).await?;
            if input.real_name {
                // 检控 Art. 27: the result within 15 working days of closing.
                agenda::step(
                    ctx,
                    &report,
                    Step::new(
                        "result_notice",
                        RESULT_NOTICE,
                        Role::Petitions,
                        &["notified"],
                    ),
                )
                .await?;
            }
            let window = agenda::deadline_in(ctx, FEEDBACK).await?;
            let feedback = agenda::next_event(ctx, Some(window), |e| {
                matches!(e.kind, EventKind::Feedback { .. })
            })
            .await?;
            match feedback.map(|e| e.kind) {
                Some(EventKind::Feedback {
                    objection: Some(objection),
                    new_evidence: true,
                    ..
                }) => {
                    // An objection with new evidence reopens the matter.
                    agenda::project(ctx, &report, "reopened", "objection", Some(objection)).await?;
                    continue;
                }
                Some(EventKind::Feedback {
                    rating, objection, ..
                }) => {
                    let note = match (rating, objection) {
                        (_, Some(o)) => format!("objection recorded: {o}"),
                        (Some(r), None) => format!("rated {r}/5"),
                        (None, None) => "feedback without a rating".to_owned(),
                    };
                    agenda::project(ctx, &report, "closed", "feedback", Some(note)).await?;
                }
                _ => agenda::project(ctx, &report, "closed", "closed", None).await?,
            }
            return Ok("closed".into());
        }
    }

    /// Takes an event; repeats are dropped by key.
    #[signal(name = "event")]
    pub fn event(
        &mut self,
        _ctx: &mut SyncWorkflowContext<Self>,
        event: jiandu_domain::flow::FlowEvent,
    ) {
        self.agenda.deliver(event);
    }
}
