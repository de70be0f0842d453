//! 办理环节 — the human steps the workflows open, what each may answer, the
//! deadline or article each comes from, and the collective decision an
//! answer rests on. Components, workflows and projections all use these
//! names; adding a step means adding it here.

use crate::clue::Matter;
use crate::deadline::{self, DeadlinePolicy};
use crate::wire::wire_enum;

wire_enum! {
    /// What a task's subject is.
    pub enum SubjectKind {
        /// 检举控告 — a report.
        Report = "report",
        /// 问题线索 — a clue.
        Clue = "clue",
        /// 留置 — a detention (keyed by its clue).
        Detention = "detention",
        /// 问题 — a problem to rectify.
        Problem = "problem",
        /// A participant of a campaign (keyed `<campaign>/<org>`).
        CampaignParticipant = "campaign_participant",
        /// 疑点 — a suspicious record a screening rule found.
        Suspicion = "suspicion",
        /// 三资预警 — a risk warning on a village's contract or payment.
        RiskWarning = "risk_warning",
    }
}

wire_enum! {
    /// 办理结果 — how a step was answered. `Cancelled` and `Extended` are
    /// set by the workflows, never chosen by a person.
    pub enum Outcome {
        /// 受理.
        Accept = "accept",
        /// 不予受理 (检控 Art. 13).
        NotAccept = "not_accept",
        /// 移送 another commission.
        Transfer = "transfer",
        /// 上报 to a higher level.
        SendUp = "send_up",
        /// 重复举报 (检控 Art. 14).
        Duplicate = "duplicate",
        /// The transfer was made.
        Transferred = "transferred",
        /// The report was sent up.
        SentUp = "sent_up",
        /// The notice was given.
        Notified = "notified",
        /// An assignment was proposed.
        Proposed = "proposed",
        /// Approved.
        Approve = "approve",
        /// Rejected.
        Reject = "reject",
        /// 谈话函询.
        TalkInquiry = "talk_inquiry",
        /// 初步核实.
        PreliminaryVerification = "preliminary_verification",
        /// 暂存待查.
        Hold = "hold",
        /// 予以了结 / close.
        Close = "close",
        /// The inquiry was replied to.
        Replied = "replied",
        /// Verify further.
        Verify = "verify",
        /// 立案 proposed.
        FileCase = "file_case",
        /// Moved to 审理.
        ToReview = "to_review",
        /// 审理 concluded.
        Concluded = "concluded",
        /// 留置 announced.
        Announced = "announced",
        /// 解除留置.
        Released = "released",
        /// Notice withheld because it would obstruct the case (监察法 Art. 50).
        Exception = "exception",
        /// A change request granted.
        Granted = "granted",
        /// A change request refused.
        Refused = "refused",
        /// 整改报告 — the owner reported its rectification.
        Reported = "reported",
        /// 验收通过 — the rectification holds.
        Pass = "pass",
        /// 退回 — not fixed: back to the owner with reasons.
        Return = "return",
        /// 回头看 — the problem stayed fixed.
        Holds = "holds",
        /// 回头看 — the problem came back.
        Fails = "fails",
        /// 联合检查 — the on-site check was done.
        Checked = "checked",
        /// 疑点属实 — the suspicious record holds.
        Confirm = "confirm",
        /// 疑点排除 — the suspicious record does not hold (with the reason).
        Dismiss = "dismiss",
        /// 分办 — handed to the org that handles the matter (named in `detail`).
        Assigned = "assigned",
        /// 办理 — the matter was handled (what was done, in the note).
        Handled = "handled",
        /// Closed by the workflow: no longer needed.
        Cancelled = "cancelled",
        /// Closed by the workflow: replaced by the extended term's limit.
        Extended = "extended",
    }
}

/// Where a step's time limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A deadline policy (statutory or a configurable default).
    Policy(DeadlinePolicy),
    /// The rules require the step but set no time limit; the article that requires it.
    Untimed(&'static str),
}

impl Limit {
    /// The article the step cites.
    pub fn article(self) -> &'static str {
        match self {
            Limit::Policy(p) => p.article,
            Limit::Untimed(a) => a,
        }
    }
}

wire_enum! {
    /// 环节 — a human step.
    pub enum StepName {
        /// 分办 — 信访室 triages a report.
        Triage = "triage",
        /// 移送 — transfer to the competent commission.
        Transfer = "transfer",
        /// 上报 — send up to the higher level.
        SendUp = "send_up",
        /// 受理告知 — tell a real-name reporter of acceptance.
        AcceptanceNotice = "acceptance_notice",
        /// 结果反馈 — tell a real-name reporter the result.
        ResultNotice = "result_notice",
        /// 拟办 — case management proposes who handles a clue.
        Assignment = "assignment",
        /// 审批 — the head approves the assignment.
        AssignmentApproval = "assignment_approval",
        /// 处置 — the collectively decided disposal.
        Disposal = "disposal",
        /// 函询回复 — the reply to an inquiry letter.
        InquiryReply = "inquiry_reply",
        /// 函询报告 — the handler's report after the inquiry.
        InquiryReport = "inquiry_report",
        /// 了结审批 — the head approves closing after an inquiry.
        InquiryClosing = "inquiry_closing",
        /// 核查方案审批 — the head approves the verification plan.
        VerificationPlan = "verification_plan",
        /// 初核报告 — the verification's report.
        VerificationReport = "verification_report",
        /// 了结审批 — the head approves closing after a verification.
        VerificationClosing = "verification_closing",
        /// 立案审批 — the commission head approves filing.
        FilingHead = "filing_head",
        /// 立案审批 — the same-level Party committee's head approves filing.
        FilingParty = "filing_party",
        /// 审查调查 — the investigation.
        Investigation = "investigation",
        /// 审理 — the case review.
        CaseReview = "case_review",
        /// 留置审批 — the next-higher commission approves detention.
        DetentionApproval = "detention_approval",
        /// 宣布留置 — detention is announced; its term counts from here.
        DetentionAnnouncement = "detention_announcement",
        /// 留置期限 — the term's limit; done on release.
        DetentionLimit = "detention_limit",
        /// 通知 — notify work unit and family within 24 hours.
        DetentionNotice = "detention_notice",
        /// 不通知审批 — approve withholding the notice.
        NoticeException = "notice_exception",
        /// 通知 — the notice owed once the exception lapses.
        NoticeAfterException = "notice_after_exception",
        /// 延长审批 — approve an extension of detention.
        ExtensionApproval = "extension_approval",
        /// 变更申请 — answer a request to change the measure.
        ChangeRequest = "change_request",
        /// 整改 — the owner rectifies a problem and reports what it did.
        RectificationReport = "rectification_report",
        /// 验收 — the supervising org checks the rectification.
        RectificationCheck = "rectification_check",
        /// 回头看 — the supervising org re-checks a rectified problem.
        Recheck = "recheck",
        /// 延期审批 — the supervising org answers an owner's request for more time.
        DeadlineExtension = "deadline_extension",
        /// 自查 — a campaign participant's self-inspection report.
        SelfInspection = "self_inspection",
        /// 联合检查 — the lead commission's on-site check of a participant.
        JointCheck = "joint_check",
        /// 整改报告 — a campaign participant's rectification report.
        CampaignRectification = "campaign_rectification",
        /// 疑点核实 — the owner verifies a suspicious record.
        SuspicionCheck = "suspicion_check",
        /// 投诉受理 — the disclosing division accepts a complaint against its item, or not.
        ComplaintAcceptance = "complaint_acceptance",
        /// 投诉分办 — the division hands the complaint to the org that handles it.
        ComplaintAssignment = "complaint_assignment",
        /// 投诉办理 — that org handles it.
        ComplaintHandling = "complaint_handling",
        /// 投诉审核 — the supervising commission reviews the handling.
        ComplaintReview = "complaint_review",
        /// 投诉答复 — the division answers the complainant.
        ComplaintReply = "complaint_reply",
        /// 预警核查 — the township's 三资 office checks a risk warning.
        RiskCheck = "risk_check",
    }
}

impl StepName {
    /// What the step may be answered with.
    pub fn outcomes(self) -> &'static [Outcome] {
        use Outcome::*;
        const APPROVAL: &[Outcome] = &[Approve, Reject];
        match self {
            StepName::Triage => &[Accept, NotAccept, Transfer, SendUp, Duplicate],
            StepName::Transfer => &[Transferred],
            StepName::SendUp => &[SentUp],
            StepName::AcceptanceNotice
            | StepName::ResultNotice
            | StepName::NoticeAfterException => &[Notified],
            StepName::Assignment => &[Proposed],
            StepName::Disposal => &[TalkInquiry, PreliminaryVerification, Hold, Close],
            StepName::InquiryReply => &[Replied],
            StepName::InquiryReport => &[Close, Verify],
            StepName::VerificationReport => &[FileCase, Close],
            StepName::Investigation => &[ToReview],
            StepName::CaseReview => &[Concluded],
            StepName::DetentionAnnouncement => &[Announced],
            StepName::DetentionLimit => &[Released],
            StepName::DetentionNotice => &[Notified, Exception],
            StepName::ChangeRequest => &[Granted, Refused],
            StepName::RectificationReport
            | StepName::SelfInspection
            | StepName::CampaignRectification => &[Reported],
            StepName::JointCheck => &[Checked],
            StepName::SuspicionCheck => &[Confirm, Dismiss],
            StepName::ComplaintAcceptance => &[Accept, NotAccept],
            StepName::ComplaintAssignment => &[Assigned],
            StepName::ComplaintHandling => &[Handled],
            StepName::ComplaintReview => &[Pass, Return],
            StepName::ComplaintReply => &[Replied],
            StepName::RiskCheck => &[Confirm, Dismiss],
            StepName::RectificationCheck => &[Pass, Return],
            StepName::Recheck => &[Holds, Fails],
            StepName::AssignmentApproval
            | StepName::InquiryClosing
            | StepName::VerificationPlan
            | StepName::VerificationClosing
            | StepName::FilingHead
            | StepName::FilingParty
            | StepName::DetentionApproval
            | StepName::NoticeException
            | StepName::ExtensionApproval
            | StepName::DeadlineExtension => APPROVAL,
        }
    }

    /// The step's time limit, or the article that requires it without one.
    pub fn limit(self) -> Limit {
        use deadline::*;
        let policy = match self {
            StepName::Triage => TRIAGE,
            StepName::Transfer => TRANSFER,
            StepName::SendUp => SEND_UP,
            StepName::AcceptanceNotice => ACCEPTANCE_NOTICE,
            StepName::ResultNotice => RESULT_NOTICE,
            StepName::Assignment | StepName::Disposal => CLUE_DISPOSAL,
            StepName::AssignmentApproval => ASSIGNMENT_APPROVAL,
            StepName::InquiryReply => INQUIRY_REPLY,
            StepName::InquiryReport => INQUIRY_REPORT,
            StepName::InquiryClosing => INQUIRY_CLOSING,
            StepName::VerificationPlan => VERIFICATION_PLAN,
            StepName::VerificationReport => VERIFICATION,
            StepName::VerificationClosing => VERIFICATION_CLOSING,
            StepName::FilingHead | StepName::FilingParty => FILING_APPROVAL,
            StepName::CaseReview => CASE_REVIEW,
            StepName::DetentionApproval => DETENTION_APPROVAL,
            StepName::DetentionLimit => DETENTION,
            StepName::DetentionNotice => DETENTION_NOTICE,
            StepName::NoticeException => NOTICE_EXCEPTION,
            StepName::ExtensionApproval => EXTENSION_APPROVAL,
            StepName::ChangeRequest => CHANGE_REQUEST,
            StepName::RectificationReport => RECTIFICATION,
            StepName::RectificationCheck => RECTIFICATION_CHECK,
            StepName::Recheck => RECHECK,
            StepName::DeadlineExtension => DEADLINE_EXTENSION,
            StepName::SelfInspection => SELF_INSPECTION,
            StepName::JointCheck => JOINT_CHECK,
            StepName::CampaignRectification => CAMPAIGN_RECTIFICATION,
            StepName::SuspicionCheck => SUSPICION_CHECK,
            StepName::ComplaintAcceptance => COMPLAINT_ACCEPTANCE,
            StepName::ComplaintAssignment => COMPLAINT_ASSIGNMENT,
            StepName::ComplaintHandling => COMPLAINT_HANDLING,
            StepName::ComplaintReview => COMPLAINT_REVIEW,
            StepName::ComplaintReply => COMPLAINT_REPLY,
            StepName::RiskCheck => RISK_CHECK,
            StepName::Investigation => return Limit::Untimed("规则 Art. 40"),
            StepName::DetentionAnnouncement => {
                return Limit::Untimed("监察法 Art. 48 (the term counts from the announcement)");
            }
            StepName::NoticeAfterException => return Limit::Untimed("监察法 Art. 50"),
        };
        Limit::Policy(policy)
    }

    /// The collective decision (集体研究, 规则 Art. 53) that answering the
    /// step with `outcome` rests on, if it needs one; the decision's outcome
    /// must then be `outcome` itself.
    pub fn decision_for(self, outcome: Outcome) -> Option<Matter> {
        match (self, outcome) {
            (StepName::Disposal, _) => Some(Matter::Disposal),
            (StepName::VerificationReport, Outcome::FileCase) => Some(Matter::Filing),
            (StepName::CaseReview, Outcome::Concluded) => Some(Matter::Review),
            _ => None,
        }
    }
}

wire_enum! {
    /// Where a task stands.
    pub enum TaskStatus {
        /// Waiting for its assignee, on time.
        Open = "open",
        /// Waiting for its assignee, past its due time (督办 or 提级 reached).
        Overdue = "overdue",
        /// Done by its assignee.
        Done = "done",
        /// No longer needed (the workflow moved on, or an extension replaced it).
        Cancelled = "cancelled",
    }
}

impl TaskStatus {
    /// Whether the task still waits for its assignee.
    pub fn is_pending(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::Overdue)
    }

    /// The status a task closed with `outcome` ends in.
    pub fn closed_with(outcome: Outcome) -> TaskStatus {
        match outcome {
            Outcome::Cancelled | Outcome::Extended => TaskStatus::Cancelled,
            _ => TaskStatus::Done,
        }
    }
}

wire_enum! {
    /// Where a detention stands.
    pub enum DetentionState {
        /// Requested; the next-higher commission has not approved it.
        PendingApproval = "pending_approval",
        /// Approved, not yet announced: no term runs.
        Approved = "approved",
        /// In effect: the term runs.
        InEffect = "in_effect",
        /// The next-higher commission refused it.
        Rejected = "rejected",
        /// Ended.
        Released = "released",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_outcomes_and_cites_an_article() {
        for step in StepName::ALL {
            assert!(!step.outcomes().is_empty(), "{step}");
            assert!(!step.limit().article().is_empty(), "{step}");
            for outcome in step.outcomes() {
                assert!(
                    !matches!(outcome, Outcome::Cancelled | Outcome::Extended),
                    "{step}: {outcome} is the workflow's, not a person's"
                );
            }
        }
    }

    #[test]
    fn extension_approvals_cite_article_48_not_47() {
        assert!(
            StepName::ExtensionApproval
                .limit()
                .article()
                .contains("Art. 48"),
            "{}",
            StepName::ExtensionApproval.limit().article()
        );
        assert!(
            StepName::DetentionApproval
                .limit()
                .article()
                .contains("Art. 47")
        );
    }

    #[test]
    fn filing_and_review_rest_on_collective_decisions() {
        assert_eq!(
            StepName::VerificationReport.decision_for(Outcome::FileCase),
            Some(Matter::Filing)
        );
        assert_eq!(
            StepName::VerificationReport.decision_for(Outcome::Close),
            None
        );
        assert_eq!(
            StepName::CaseReview.decision_for(Outcome::Concluded),
            Some(Matter::Review)
        );
    }
}
