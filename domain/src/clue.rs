//! 问题线索 — problem clues: where they come from, how they are disposed of
//! (规则 Art. 21), the collective decisions they need (规则 Art. 53) and the
//! states a clue moves through.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Where a clue comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClueSource {
    /// 信访举报 — a report from the public.
    Report,
    /// 巡察移交 — transferred by an inspection tour.
    InspectionTour,
    /// 大数据比对 — a hit from big-data comparison.
    BigData,
    /// 日常监督 — found in daily supervision.
    Supervision,
}

/// 处置方式 — the four ways to dispose of a clue (规则 Art. 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposal {
    /// 谈话函询 — a talk or an inquiry letter (规则 Art. 29–30).
    TalkInquiry,
    /// 初步核实 — preliminary verification (规则 Art. 35).
    PreliminaryVerification,
    /// 暂存待查 — held for later.
    Hold,
    /// 予以了结 — closed.
    Close,
}

impl Disposal {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposal::TalkInquiry => "talk_inquiry",
            Disposal::PreliminaryVerification => "preliminary_verification",
            Disposal::Hold => "hold",
            Disposal::Close => "close",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Disposal> {
        use Disposal::*;
        by_name(
            &[TalkInquiry, PreliminaryVerification, Hold, Close],
            Disposal::as_str,
            s,
        )
    }
}

/// Where a clue stands, as projected for readers and checked by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClueState {
    /// 拟办 — 案件监督管理室 proposes who handles it (规则 Art. 23).
    Assignment,
    /// 审批 — the head approves the assignment (规则 Art. 23).
    AssignmentApproval,
    /// 处置 — a disposal is to be decided collectively (规则 Art. 21, 53).
    AwaitingDisposal,
    /// 谈话函询 in progress.
    Inquiry,
    /// 初步核实 in progress.
    Verification,
    /// 立案审批 — the commission head, then the Party-committee head (规则 Art. 38).
    FilingApproval,
    /// 审查调查 — a filed case under investigation.
    Investigation,
    /// 审理 — case review (规则 Art. 55).
    Review,
    /// 暂存待查 — held for later.
    Held,
    /// 办结 — closed.
    Closed,
}

/// What a caller may ask of a clue through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClueAction {
    /// Record a collective decision.
    RecordDecision,
    /// Choose the disposal.
    ChooseDisposal,
    /// Request 留置.
    RequestDetention,
}

impl ClueAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClueAction::RecordDecision => "record_decision",
            ClueAction::ChooseDisposal => "choose_disposal",
            ClueAction::RequestDetention => "request_detention",
        }
    }
}

impl ClueState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClueState::Assignment => "assignment",
            ClueState::AssignmentApproval => "assignment_approval",
            ClueState::AwaitingDisposal => "awaiting_disposal",
            ClueState::Inquiry => "inquiry",
            ClueState::Verification => "verification",
            ClueState::FilingApproval => "filing_approval",
            ClueState::Investigation => "investigation",
            ClueState::Review => "review",
            ClueState::Held => "held",
            ClueState::Closed => "closed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<ClueState> {
        use ClueState::*;
        let all = [
            Assignment,
            AssignmentApproval,
            AwaitingDisposal,
            Inquiry,
            Verification,
            FilingApproval,
            Investigation,
            Review,
            Held,
            Closed,
        ];
        by_name(&all, ClueState::as_str, s)
    }

    /// What may be asked of a clue in this state.
    pub fn allowed(self) -> &'static [ClueAction] {
        use ClueAction::*;
        match self {
            ClueState::Closed => &[],
            ClueState::AwaitingDisposal => &[RecordDecision, ChooseDisposal],
            ClueState::Investigation => &[RecordDecision, RequestDetention],
            _ => &[RecordDecision],
        }
    }
}

/// The member of `all` whose wire name is `s`.
fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, s: &str) -> Option<T> {
    all.iter().copied().find(|t| name(*t) == s)
}

/// What a collective decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matter {
    /// The clue's disposal (规则 Art. 21).
    Disposal,
    /// 立案 (规则 Art. 38).
    Filing,
    /// 审理 (规则 Art. 55).
    Review,
    /// 留置 (监察法 Art. 47).
    Detention,
}

/// A dissenting opinion, recorded by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dissent {
    /// Who dissented; must be an attendee.
    pub attendee: String,
    /// What they said.
    pub opinion: String,
}

/// 集体决策 — a decision taken collectively, never by one person's sign-off
/// (规则 Art. 53; 条例 Art. 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectiveDecision {
    /// What was decided on.
    pub matter: Matter,
    /// Who attended.
    pub attendees: Vec<String>,
    /// What was decided.
    pub outcome: String,
    /// Dissenting opinions, if any.
    #[serde(default)]
    pub dissent: Vec<Dissent>,
}

/// The fewest attendees that make a decision collective.
pub const MIN_ATTENDEES: usize = 3;

impl CollectiveDecision {
    /// Checks what a schema cannot: enough distinct attendees, dissenters who attended.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut names: Vec<&str> = self.attendees.iter().map(|a| a.trim()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() < MIN_ATTENDEES {
            errors.push(FieldError::new(
                "/attendees",
                format!(
                    "a collective decision needs at least {MIN_ATTENDEES} distinct attendees (规则 Art. 53)"
                ),
            ));
        }
        for (i, d) in self.dissent.iter().enumerate() {
            if !names.contains(&d.attendee.trim()) {
                errors.push(FieldError::new(
                    format!("/dissent/{i}/attendee"),
                    "a dissenter must be one of the attendees",
                ));
            }
        }
        errors
    }
}

/// Who may act on a step; the role in a caller's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 信访室 — intake and triage.
    Petitions,
    /// 案件监督管理室 — clue registry and case management.
    CaseManagement,
    /// 监督检查室 — disposal and supervision.
    Supervision,
    /// 审查调查室 — investigation.
    Investigation,
    /// 审理室 — case review.
    Review,
    /// 主要负责人 — the commission's head.
    Head,
    /// 同级党委主要负责人 — the head of the same-level Party committee.
    PartyHead,
    /// 职能部门 — a department answering for its people.
    Department,
    /// 上一级监委 — the next-higher commission.
    HigherCommission,
    /// 国家监委 — the National Supervisory Commission.
    NationalCommission,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Petitions => "petitions",
            Role::CaseManagement => "case_management",
            Role::Supervision => "supervision",
            Role::Investigation => "investigation",
            Role::Review => "review",
            Role::Head => "head",
            Role::PartyHead => "party_head",
            Role::Department => "department",
            Role::HigherCommission => "higher_commission",
            Role::NationalCommission => "national_commission",
        }
    }
}

/// 延长留置 — the rule for the next extension of a detention (监察法 Art. 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionRule {
    /// The longest extension that may be granted, in months.
    pub max_months: u32,
    /// Who must approve it.
    pub approver: Role,
    /// The article.
    pub article: &'static str,
}

/// The rule for a detention's next extension after `granted` ones, or the
/// reason no further extension exists.
pub fn next_extension(granted: u32) -> Result<ExtensionRule, &'static str> {
    match granted {
        0 => Ok(ExtensionRule {
            max_months: 3,
            approver: Role::HigherCommission,
            article: "监察法 Art. 48 (one extension of up to 3 months)",
        }),
        1 => Ok(ExtensionRule {
            max_months: 2,
            approver: Role::NationalCommission,
            article: "监察法 Art. 48 (a further 2 months, 国家监委 only)",
        }),
        _ => Err("监察法 Art. 48 allows one extension of 3 months and one further of 2 months"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(attendees: &[&str], dissent: &[&str]) -> CollectiveDecision {
        CollectiveDecision {
            matter: Matter::Disposal,
            attendees: attendees.iter().map(|s| s.to_string()).collect(),
            outcome: "talk_inquiry".into(),
            dissent: dissent
                .iter()
                .map(|a| Dissent {
                    attendee: a.to_string(),
                    opinion: "verify first".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_decision_needs_three_distinct_attendees_and_dissent_from_among_them() {
        assert!(decision(&["甲", "乙", "丙"], &["乙"]).check().is_empty());
        let few = decision(&["甲", "甲 ", "乙"], &[]).check();
        assert_eq!(few[0].pointer, "/attendees");
        let outsider = decision(&["甲", "乙", "丙"], &["丁"]).check();
        assert_eq!(outsider[0].pointer, "/dissent/0/attendee");
    }

    #[test]
    fn extensions_follow_article_48() {
        assert_eq!(next_extension(0).unwrap().approver, Role::HigherCommission);
        assert_eq!(next_extension(1).unwrap().max_months, 2);
        assert_eq!(
            next_extension(1).unwrap().approver,
            Role::NationalCommission
        );
        assert!(next_extension(2).is_err());
    }

    #[test]
    fn only_a_disposal_state_takes_a_disposal() {
        for state in ["assignment", "awaiting_disposal", "investigation", "closed"] {
            let s = ClueState::parse(state).unwrap();
            assert_eq!(s.as_str(), state);
            assert_eq!(
                s.allowed().contains(&ClueAction::ChooseDisposal),
                state == "awaiting_disposal"
            );
        }
    }
}
