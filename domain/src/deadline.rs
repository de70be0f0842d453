//! 期限 — deadlines, each with the article it comes from.

use time::Date;

use crate::calendar::Calendar;

/// How long a deadline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// 工作日 — working days on the PRC calendar.
    WorkingDays(u32),
    /// Calendar days.
    Days(u32),
    /// Calendar months.
    Months(u32),
    /// Hours.
    Hours(u32),
}

/// A deadline rule: what it is for, how long it runs and its legal source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// A stable key, e.g. `acceptance_notice`.
    pub key: &'static str,
    /// What must happen by the deadline.
    pub duty: &'static str,
    /// How long it runs.
    pub span: Span,
    /// The article it comes from, e.g. `检控 Art. 26`.
    pub article: &'static str,
    /// False when the article sets the step but not its time limit: the span
    /// is then a configurable default, not a statutory limit.
    pub statutory: bool,
}

/// 受理告知 — a real-name reporter is told of acceptance within 15 working days of receipt.
pub const ACCEPTANCE_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "acceptance_notice",
    duty: "tell a real-name reporter whether the report is accepted",
    span: Span::WorkingDays(15),
    article: "检控 Art. 26",
    statutory: true,
};

/// 结果反馈 — a real-name reporter is told the result within 15 working days of closing.
pub const RESULT_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "result_notice",
    duty: "tell a real-name reporter the result",
    span: Span::WorkingDays(15),
    article: "检控 Art. 27",
    statutory: true,
};

/// 移送 — a report belonging to another commission is transferred within 5 working days.
pub const TRANSFER: DeadlinePolicy = DeadlinePolicy {
    key: "transfer",
    duty: "transfer the report to the competent commission",
    span: Span::WorkingDays(5),
    article: "条例 Art. 199",
    statutory: true,
};

/// 处置 — a disposal is proposed, decided collectively and approved within 1 month of receiving a clue.
pub const CLUE_DISPOSAL: DeadlinePolicy = DeadlinePolicy {
    key: "clue_disposal",
    duty: "propose and collectively decide the clue's disposal",
    span: Span::Months(1),
    article: "规则 Art. 21; 检控 Art. 17",
    statutory: true,
};

/// 函询回复 — the reply to an inquiry letter is due within 15 working days.
pub const INQUIRY_REPLY: DeadlinePolicy = DeadlinePolicy {
    key: "inquiry_reply",
    duty: "reply to the inquiry letter",
    span: Span::WorkingDays(15),
    article: "规则 Art. 29",
    statutory: true,
};

/// 审理 — case review within 1 month of acceptance.
pub const CASE_REVIEW: DeadlinePolicy = DeadlinePolicy {
    key: "case_review",
    duty: "review the case",
    span: Span::Months(1),
    article: "规则 Art. 55",
    statutory: true,
};

/// 留置 — detention lasts at most 3 months from its announcement.
pub const DETENTION: DeadlinePolicy = DeadlinePolicy {
    key: "detention",
    duty: "end or extend detention",
    span: Span::Months(3),
    article: "监察法 Art. 48",
    statutory: true,
};

/// 留置通知 — work unit and family are notified within 24 hours.
pub const DETENTION_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "detention_notice",
    duty: "notify the work unit and family of the detention",
    span: Span::Hours(24),
    article: "监察法 Art. 50",
    statutory: true,
};

/// 上报 — a report for a higher level goes up within 5 working days (检控 Art. 15).
pub const SEND_UP: DeadlinePolicy = DeadlinePolicy {
    key: "send_up",
    duty: "send the report up to the competent higher commission",
    span: Span::WorkingDays(5),
    article: "检控 Art. 15; 条例 Art. 199",
    statutory: true,
};

/// 分办 — 信访室 decides whether to accept a report; the decision must be in
/// time for the acceptance notice, so it shares that limit.
pub const TRIAGE: DeadlinePolicy = DeadlinePolicy {
    key: "triage",
    duty: "accept, decline, transfer or send up the report",
    span: Span::WorkingDays(15),
    article: "检控 Art. 13, 26",
    statutory: true,
};

/// 评价 — how long a reporter may rate the answer or object to it.
pub const FEEDBACK: DeadlinePolicy = DeadlinePolicy {
    key: "feedback",
    duty: "rate the answer or object to it",
    span: Span::WorkingDays(15),
    article: "检控 Art. 27",
    statutory: false,
};

/// 函询报告 — after an inquiry the handler reports within 1 month.
pub const INQUIRY_REPORT: DeadlinePolicy = DeadlinePolicy {
    key: "inquiry_report",
    duty: "report on the talk or inquiry",
    span: Span::Months(1),
    article: "规则 Art. 30",
    statutory: true,
};

/// 审批 — the head approves which department handles a clue (规则 Art. 23).
/// The rules require the approval but set no limit; this is the default.
pub const ASSIGNMENT_APPROVAL: DeadlinePolicy = DeadlinePolicy {
    key: "assignment_approval",
    duty: "approve or reject the proposed assignment",
    span: Span::WorkingDays(5),
    article: "规则 Art. 23",
    statutory: false,
};

/// 核查方案审批 — the head approves the verification plan (规则 Art. 35); no statutory limit.
pub const VERIFICATION_PLAN: DeadlinePolicy = DeadlinePolicy {
    key: "verification_plan",
    duty: "approve or reject the verification plan",
    span: Span::WorkingDays(5),
    article: "规则 Art. 35",
    statutory: false,
};

/// 立案审批 — the commission head, then the Party-committee head, approve
/// filing a case (规则 Art. 38); no statutory limit.
pub const FILING_APPROVAL: DeadlinePolicy = DeadlinePolicy {
    key: "filing_approval",
    duty: "approve or reject filing the case",
    span: Span::WorkingDays(5),
    article: "规则 Art. 38",
    statutory: false,
};

/// 不通知审批 — not notifying family and work unit needs approval (监察法 Art. 50); no statutory limit.
pub const NOTICE_EXCEPTION: DeadlinePolicy = DeadlinePolicy {
    key: "notice_exception",
    duty: "approve or reject not notifying, because notice would obstruct the case",
    span: Span::Hours(24),
    article: "监察法 Art. 50",
    statutory: false,
};

/// 初步核实 — a preliminary verification reports to the head; no statutory limit.
pub const VERIFICATION: DeadlinePolicy = DeadlinePolicy {
    key: "verification",
    duty: "verify the clue and report to the head",
    span: Span::Months(2),
    article: "规则 Art. 35",
    statutory: false,
};

/// 留置审批 — the next-higher commission decides on detention; no statutory limit.
pub const DETENTION_APPROVAL: DeadlinePolicy = DeadlinePolicy {
    key: "detention_approval",
    duty: "approve or reject detention as the next-higher commission",
    span: Span::Days(3),
    article: "监察法 Art. 47",
    statutory: false,
};

/// 延长审批 — the next-higher commission (or 国家监委 for the second)
/// decides on an extension (监察法 Art. 48); the article sets no limit.
pub const EXTENSION_APPROVAL: DeadlinePolicy = DeadlinePolicy {
    key: "extension_approval",
    duty: "approve or reject extending detention",
    span: Span::Days(3),
    article: "监察法 Art. 48",
    statutory: false,
};

/// 了结审批 — closing a clue after a talk or inquiry needs the head's
/// approval (规则 Art. 30); the article sets no limit.
pub const INQUIRY_CLOSING: DeadlinePolicy = DeadlinePolicy {
    key: "inquiry_closing",
    duty: "approve or reject closing the clue after the talk or inquiry",
    span: Span::WorkingDays(5),
    article: "规则 Art. 30",
    statutory: false,
};

/// 了结审批 — closing a clue after a preliminary verification needs the
/// head's approval (规则 Art. 35); the article sets no limit.
pub const VERIFICATION_CLOSING: DeadlinePolicy = DeadlinePolicy {
    key: "verification_closing",
    duty: "approve or reject closing the clue after the verification",
    span: Span::WorkingDays(5),
    article: "规则 Art. 35",
    statutory: false,
};

/// 变更申请 — a request to change the measure is answered within 3 days.
pub const CHANGE_REQUEST: DeadlinePolicy = DeadlinePolicy {
    key: "change_request",
    duty: "answer the request to change the detention measure",
    span: Span::Days(3),
    article: "监察法 Art. 50",
    statutory: true,
};

/// 整改 — the owner of a problem reports its rectification within 2 months
/// of the feedback (巡视工作条例; the article's number differs between
/// editions, so the regulation is cited and the span is configurable per
/// problem). Campaign deadlines replace it with their own span.
pub const RECTIFICATION: DeadlinePolicy = DeadlinePolicy {
    key: "rectification",
    duty: "rectify the problem and report what was done, with evidence",
    span: Span::Months(2),
    article: "巡视工作条例 (整改报告 within 2 months of the feedback)",
    statutory: true,
};

/// 验收 — the supervising org checks a rectification report; no article
/// sets a limit: a default.
pub const RECTIFICATION_CHECK: DeadlinePolicy = DeadlinePolicy {
    key: "rectification_check",
    duty: "check the rectification report and its evidence: pass, or return with reasons",
    span: Span::WorkingDays(10),
    article: "no article sets it: a default (整改验收)",
    statutory: false,
};

/// 回头看 — the interval before a rectified problem is re-checked; no
/// article sets it: a default, replaced per problem.
pub const RECHECK_INTERVAL: DeadlinePolicy = DeadlinePolicy {
    key: "recheck_interval",
    duty: "wait before re-checking a rectified problem",
    span: Span::Months(6),
    article: "no article sets it: a default (回头看)",
    statutory: false,
};

/// 回头看 — the re-check itself; no article sets a limit: a default.
pub const RECHECK: DeadlinePolicy = DeadlinePolicy {
    key: "recheck",
    duty: "re-check that the problem stayed fixed",
    span: Span::WorkingDays(15),
    article: "no article sets it: a default (回头看)",
    statutory: false,
};

/// 延期审批 — the supervising org answers an owner's request for more time;
/// no article sets a limit: a default.
pub const DEADLINE_EXTENSION: DeadlinePolicy = DeadlinePolicy {
    key: "deadline_extension",
    duty: "approve or refuse more time for the rectification",
    span: Span::WorkingDays(5),
    article: "no article sets it: a default (整改延期)",
    statutory: false,
};

/// 自查 — a campaign participant's self-inspection; the campaign sets the
/// span (no article sets it), this is its default.
pub const SELF_INSPECTION: DeadlinePolicy = DeadlinePolicy {
    key: "self_inspection",
    duty: "inspect yourself against the campaign's checklist and report",
    span: Span::Days(15),
    article: "no article sets it: the campaign's own deadline (专项整治/联合督导)",
    statutory: false,
};

/// 联合检查 — the lead commission checks a participant on site; the
/// campaign sets the span (no article sets it), this is its default.
pub const JOINT_CHECK: DeadlinePolicy = DeadlinePolicy {
    key: "joint_check",
    duty: "check the participant on site and record problems and recommendations",
    span: Span::Days(15),
    article: "no article sets it: the campaign's own deadline (专项整治/联合督导)",
    statutory: false,
};

/// 整改报告 — a campaign participant reports its rectification; the campaign
/// sets the span (no article sets it), this is its default.
pub const CAMPAIGN_RECTIFICATION: DeadlinePolicy = DeadlinePolicy {
    key: "campaign_rectification",
    duty: "rectify what the check found and report",
    span: Span::Days(30),
    article: "no article sets it: the campaign's own deadline (专项整治/联合督导)",
    statutory: false,
};

/// 疑点核实 — the owner verifies a suspicious record a screening rule
/// found; the rule sets the span (no article sets it), this is its default.
pub const SUSPICION_CHECK: DeadlinePolicy = DeadlinePolicy {
    key: "suspicion_check",
    duty: "verify the suspicious record: confirm it, or dismiss it with the reason",
    span: Span::Days(15),
    article: "no article sets it: the screening rule's own deadline (大数据比对)",
    statutory: false,
};

/// Where the complaint loop's limits come from: no article sets them.
const COMPLAINT_RULE: &str =
    "no article sets it: the disclosure platform's own service standard (监督一点通)";

/// 投诉受理 — the disclosing division decides whether to accept a complaint.
pub const COMPLAINT_ACCEPTANCE: DeadlinePolicy = DeadlinePolicy {
    key: "complaint_acceptance",
    duty: "accept the complaint against the disclosed item, or say why not",
    span: Span::WorkingDays(3),
    article: COMPLAINT_RULE,
    statutory: false,
};

/// 投诉分办 — the division hands an accepted complaint to the org that handles it.
pub const COMPLAINT_ASSIGNMENT: DeadlinePolicy = DeadlinePolicy {
    key: "complaint_assignment",
    duty: "hand the complaint to the org responsible for the matter",
    span: Span::WorkingDays(2),
    article: COMPLAINT_RULE,
    statutory: false,
};

/// 投诉办理 — the responsible org handles the complaint.
pub const COMPLAINT_HANDLING: DeadlinePolicy = DeadlinePolicy {
    key: "complaint_handling",
    duty: "handle the complaint and record what was done",
    span: Span::WorkingDays(15),
    article: COMPLAINT_RULE,
    statutory: false,
};

/// 投诉审核 — the supervising commission reviews the handling.
pub const COMPLAINT_REVIEW: DeadlinePolicy = DeadlinePolicy {
    key: "complaint_review",
    duty: "review the handling: pass it, or return it with the reasons",
    span: Span::WorkingDays(5),
    article: COMPLAINT_RULE,
    statutory: false,
};

/// 投诉答复 — the division answers the complainant.
pub const COMPLAINT_REPLY: DeadlinePolicy = DeadlinePolicy {
    key: "complaint_reply",
    duty: "answer the complainant",
    span: Span::WorkingDays(3),
    article: COMPLAINT_RULE,
    statutory: false,
};

/// 预警核查 — the township's 三资 office checks a risk warning.
pub const RISK_CHECK: DeadlinePolicy = DeadlinePolicy {
    key: "risk_check",
    duty: "check the 三资 risk warning: confirm it, or dismiss it with the reason",
    span: Span::WorkingDays(5),
    article: crate::sanzi::RULE_BASIS,
    statutory: false,
};

/// Every policy, for listing and configuration by key.
pub const ALL: &[DeadlinePolicy] = &[
    ACCEPTANCE_NOTICE,
    RESULT_NOTICE,
    TRANSFER,
    SEND_UP,
    TRIAGE,
    FEEDBACK,
    CLUE_DISPOSAL,
    INQUIRY_REPLY,
    INQUIRY_REPORT,
    ASSIGNMENT_APPROVAL,
    VERIFICATION_PLAN,
    FILING_APPROVAL,
    NOTICE_EXCEPTION,
    VERIFICATION,
    CASE_REVIEW,
    DETENTION_APPROVAL,
    EXTENSION_APPROVAL,
    INQUIRY_CLOSING,
    VERIFICATION_CLOSING,
    DETENTION,
    DETENTION_NOTICE,
    CHANGE_REQUEST,
    RECTIFICATION,
    RECTIFICATION_CHECK,
    RECHECK_INTERVAL,
    RECHECK,
    DEADLINE_EXTENSION,
    SELF_INSPECTION,
    JOINT_CHECK,
    CAMPAIGN_RECTIFICATION,
    SUSPICION_CHECK,
    COMPLAINT_ACCEPTANCE,
    COMPLAINT_ASSIGNMENT,
    COMPLAINT_HANDLING,
    COMPLAINT_REVIEW,
    COMPLAINT_REPLY,
    RISK_CHECK,
];

impl DeadlinePolicy {
    /// The policy with this key.
    pub fn by_key(key: &str) -> Option<DeadlinePolicy> {
        ALL.iter().copied().find(|p| p.key == key)
    }
}

/// A computed due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The last day on which the duty is on time.
    pub date: Date,
    /// The rule it comes from.
    pub policy: DeadlinePolicy,
    /// True when the calendar did not know every year counted (weekends only past it).
    pub estimated: bool,
}

impl DeadlinePolicy {
    /// The due date of a duty that starts on `start` (China Standard Time).
    /// Spans in hours are counted by the caller, who knows the time of day.
    pub fn due_from(&self, start: Date, calendar: &Calendar) -> Due {
        let (date, estimated) = match self.span {
            Span::WorkingDays(n) => {
                let w = calendar.add_working_days(start, n);
                (w.date, w.estimated)
            }
            Span::Days(n) => (start + time::Duration::days(n.into()), false),
            Span::Hours(h) => (start + time::Duration::days(h.div_ceil(24).into()), false),
            Span::Months(n) => (add_months(start, n), false),
        };
        Due {
            date,
            policy: *self,
            estimated,
        }
    }
}

/// The same day `n` months later, or the month's last day if it has no such day.
pub fn add_months(start: Date, n: u32) -> Date {
    let months = start.year() * 12 + i32::from(u8::from(start.month())) - 1 + n as i32;
    let (year, month) = (
        months / 12,
        time::Month::try_from((months % 12 + 1) as u8).expect("1..=12"),
    );
    let day = start.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).expect("a valid day")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn each_policy_counts_its_own_way() {
        let cal = Calendar::official();
        let cases = [
            (
                ACCEPTANCE_NOTICE,
                date!(2026 - 11 - 26),
                date!(2026 - 12 - 17),
            ),
            (TRANSFER, date!(2026 - 09 - 30), date!(2026 - 10 - 13)),
            (CLUE_DISPOSAL, date!(2026 - 01 - 31), date!(2026 - 02 - 28)),
            (DETENTION, date!(2026 - 11 - 30), date!(2027 - 02 - 28)),
            (
                DETENTION_NOTICE,
                date!(2026 - 11 - 26),
                date!(2026 - 11 - 27),
            ),
        ];
        for (policy, start, expected) in cases {
            let due = policy.due_from(start, cal);
            assert_eq!(due.date, expected, "{}", policy.key);
            assert!(!due.policy.article.is_empty());
        }
    }
}
