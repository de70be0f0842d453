//! 投诉 — a complaint against a disclosed item (监督一点通), run as the
//! report it is: the closed loop 投诉→受理→分办→办理→审核→答复→评价. The item's
//! division accepts it, hands it to the org that handles it and answers the
//! complainant; the commission that holds the report reviews the handling
//! and returns it, with reasons, until it passes; the complainant rates the
//! answer. No article sets the loop's limits, and each step says so
//! (`deadline::COMPLAINT_*`). Every step is on the escalation ladder.

use jiandu_domain::flow::{Complaint, ReportStarted};
use jiandu_domain::org::Role;
use jiandu_domain::report::ReportStatus;
use jiandu_domain::step::{Outcome, StepName, SubjectKind};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

use crate::activities::Assignee;
use crate::agenda::{self, Step, Subject};
use crate::report::{Feedback, ReportWorkflow, feedback};

/// Runs the complaint `complaint` that the report `input` is.
pub(crate) async fn run(
    ctx: &mut WorkflowContext<ReportWorkflow>,
    input: &ReportStarted,
    complaint: &Complaint,
) -> WorkflowResult<String> {
    let report = Subject {
        kind: SubjectKind::Report,
        id: input.report_id.clone(),
    };
    let division = |name| Step::new(name, Assignee::Org(complaint.division.clone()), Role::Staff);
    let accepted = ReportStatus::Accepted.as_str();

    let acceptance = division(StepName::ComplaintAcceptance).counted_from(&input.received_at);
    let acceptance = agenda::step(ctx, &report, acceptance).await?;
    if acceptance.outcome == Outcome::NotAccept {
        let not_accepted = ReportStatus::NotAccepted.as_str();
        agenda::project(ctx, &report, not_accepted, "not_accepted", acceptance.note).await?;
        return Ok(not_accepted.to_owned());
    }
    agenda::project(ctx, &report, accepted, "accepted", acceptance.note).await?;

    let assignment = agenda::step(ctx, &report, division(StepName::ComplaintAssignment)).await?;
    // The API requires the handling org; the division itself if none came.
    let handler = assignment
        .detail
        .unwrap_or_else(|| complaint.division.clone());
    let note = Some(format!("handed to {handler}"));
    agenda::project(ctx, &report, accepted, "assigned", note).await?;

    loop {
        let handling = Step::new(
            StepName::ComplaintHandling,
            Assignee::Org(handler.clone()),
            Role::Staff,
        );
        let handled = agenda::step(ctx, &report, handling).await?;
        agenda::project(ctx, &report, accepted, "handled", handled.note).await?;
        let review = Step::new(
            StepName::ComplaintReview,
            Assignee::Org(input.org.clone()),
            Role::Supervision,
        )
        .requested_by(&handled.by);
        let review = agenda::step(ctx, &report, review).await?;
        if review.outcome == Outcome::Pass {
            break;
        }
        agenda::project(ctx, &report, accepted, "returned", review.note).await?;
    }

    let reply = agenda::step(ctx, &report, division(StepName::ComplaintReply)).await?;
    let concluded = ReportStatus::Concluded.as_str();
    agenda::project(ctx, &report, concluded, "replied", reply.note).await?;

    // An objection, with new evidence or not, is recorded: the loop has
    // run to its review, and the complainant may report anew.
    let (event, note) = match feedback(ctx).await? {
        Feedback::Reopens(objection) => {
            ("feedback", Some(format!("objection recorded: {objection}")))
        }
        Feedback::Given(note) => ("feedback", Some(note)),
        Feedback::None => ("closed", None),
    };
    let closed = ReportStatus::Closed.as_str();
    agenda::project(ctx, &report, closed, event, note).await?;
    Ok(closed.to_owned())
}
