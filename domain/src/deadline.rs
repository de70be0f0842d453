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
}

/// 受理告知 — a real-name reporter is told of acceptance within 15 working days of receipt.
pub const ACCEPTANCE_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "acceptance_notice",
    duty: "tell a real-name reporter whether the report is accepted",
    span: Span::WorkingDays(15),
    article: "检控 Art. 26",
};

/// 结果反馈 — a real-name reporter is told the result within 15 working days of closing.
pub const RESULT_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "result_notice",
    duty: "tell a real-name reporter the result",
    span: Span::WorkingDays(15),
    article: "检控 Art. 27",
};

/// 移送 — a report belonging to another commission is transferred within 5 working days.
pub const TRANSFER: DeadlinePolicy = DeadlinePolicy {
    key: "transfer",
    duty: "transfer the report to the competent commission",
    span: Span::WorkingDays(5),
    article: "条例 Art. 199",
};

/// 处置 — a disposal is proposed, decided collectively and approved within 1 month of receiving a clue.
pub const CLUE_DISPOSAL: DeadlinePolicy = DeadlinePolicy {
    key: "clue_disposal",
    duty: "propose and collectively decide the clue's disposal",
    span: Span::Months(1),
    article: "规则 Art. 21; 检控 Art. 17",
};

/// 函询回复 — the reply to an inquiry letter is due within 15 working days.
pub const INQUIRY_REPLY: DeadlinePolicy = DeadlinePolicy {
    key: "inquiry_reply",
    duty: "reply to the inquiry letter",
    span: Span::WorkingDays(15),
    article: "规则 Art. 29",
};

/// 审理 — case review within 1 month of acceptance.
pub const CASE_REVIEW: DeadlinePolicy = DeadlinePolicy {
    key: "case_review",
    duty: "review the case",
    span: Span::Months(1),
    article: "规则 Art. 55",
};

/// 留置 — detention lasts at most 3 months from its announcement.
pub const DETENTION: DeadlinePolicy = DeadlinePolicy {
    key: "detention",
    duty: "end or extend detention",
    span: Span::Months(3),
    article: "监察法 Art. 48",
};

/// 留置通知 — work unit and family are notified within 24 hours.
pub const DETENTION_NOTICE: DeadlinePolicy = DeadlinePolicy {
    key: "detention_notice",
    duty: "notify the work unit and family of the detention",
    span: Span::Hours(24),
    article: "监察法 Art. 50",
};

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
fn add_months(start: Date, n: u32) -> Date {
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
