//! 问题线索 — problem clues: where they come from, how they are disposed of
//! (规则 Art. 21), the collective decisions they need (规则 Art. 53) and the
//! states a clue moves through.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::wire::wire_enum;

wire_enum! {
    /// Where a clue comes from.
    pub enum ClueSource {
        /// 信访举报 — a report from the public.
        Report = "report",
        /// 巡察移交 — transferred by an inspection tour.
        InspectionTour = "inspection_tour",
        /// 大数据比对 — a hit from big-data comparison.
        BigData = "big_data",
        /// 日常监督 — found in daily supervision.
        Supervision = "supervision",
    }
}

wire_enum! {
    /// 处置方式 — the four ways to dispose of a clue (规则 Art. 21).
    pub enum Disposal {
        /// 谈话函询 — a talk or an inquiry letter (规则 Art. 29–30).
        TalkInquiry = "talk_inquiry",
        /// 初步核实 — preliminary verification (规则 Art. 35).
        PreliminaryVerification = "preliminary_verification",
        /// 暂存待查 — held for later.
        Hold = "hold",
        /// 予以了结 — closed.
        Close = "close",
    }
}

wire_enum! {
    /// Where a clue stands, as projected for readers and checked by the API.
    pub enum ClueState {
        /// 拟办 — 案件监督管理室 proposes who handles it (规则 Art. 23).
        Assignment = "assignment",
        /// 审批 — the head approves the assignment (规则 Art. 23).
        AssignmentApproval = "assignment_approval",
        /// 处置 — a disposal is to be decided collectively (规则 Art. 21, 53).
        AwaitingDisposal = "awaiting_disposal",
        /// 谈话函询 in progress.
        Inquiry = "inquiry",
        /// 初步核实 in progress.
        Verification = "verification",
        /// 立案审批 — the commission head, then the Party-committee head (规则 Art. 38).
        FilingApproval = "filing_approval",
        /// 审查调查 — a filed case under investigation.
        Investigation = "investigation",
        /// 审理 — case review (规则 Art. 55).
        Review = "review",
        /// 暂存待查 — held for later.
        Held = "held",
        /// 办结 — closed.
        Closed = "closed",
    }
}

wire_enum! {
    /// What may be asked of a clue through the API.
    pub enum ClueAction {
        /// Record a collective decision.
        RecordDecision = "record_decision",
        /// Choose the disposal.
        ChooseDisposal = "choose_disposal",
        /// Request 留置.
        RequestDetention = "request_detention",
        /// 回头看 — re-check how a settled clue was handled.
        Recheck = "recheck",
    }
}

wire_enum! {
    /// What a 回头看 re-check of a settled clue found.
    pub enum RecheckFinding {
        /// The handling stands.
        Upheld = "upheld",
        /// The handling fell short; the note says what must be redone.
        Flawed = "flawed",
    }
}

impl ClueState {
    /// What may be asked of a clue in this state.
    pub fn allowed(self) -> &'static [ClueAction] {
        use ClueAction::*;
        match self {
            ClueState::Closed => &[Recheck],
            ClueState::Held => &[RecordDecision, Recheck],
            ClueState::AwaitingDisposal => &[RecordDecision, ChooseDisposal],
            ClueState::Investigation => &[RecordDecision, RequestDetention],
            _ => &[RecordDecision],
        }
    }
}

wire_enum! {
    /// What a collective decision is about.
    pub enum Matter {
        /// The clue's disposal (规则 Art. 21).
        Disposal = "disposal",
        /// 立案 (规则 Art. 38).
        Filing = "filing",
        /// 审理 (规则 Art. 55).
        Review = "review",
        /// 留置 (监察法 Art. 47).
        Detention = "detention",
    }
}

/// 留置 — the outcome of a decision to detain.
pub const DETAIN: &str = "detain";

impl Matter {
    /// The outcomes a decision on this matter may reach. A decision binds:
    /// only a decision with the outcome a step needs can back that step.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            Matter::Disposal => &["talk_inquiry", "preliminary_verification", "hold", "close"],
            Matter::Filing => &["file_case", "close"],
            Matter::Review => &["concluded"],
            Matter::Detention => &[DETAIN, "not_detain"],
        }
    }
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
    /// Who attended: the ids of people of the org that decides.
    pub attendees: Vec<String>,
    /// What was decided: one of the matter's outcomes.
    pub outcome: String,
    /// Dissenting opinions, if any.
    #[serde(default)]
    pub dissent: Vec<Dissent>,
}

/// The fewest attendees that make a decision collective.
pub const MIN_ATTENDEES: usize = 3;

impl CollectiveDecision {
    /// Checks what a schema cannot: an outcome the matter allows, enough
    /// distinct attendees who are people of the deciding org (`member`),
    /// dissenters who attended, and a majority for the outcome.
    pub fn check(&self, member: impl Fn(&str) -> bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !self.matter.outcomes().contains(&self.outcome.as_str()) {
            errors.push(FieldError::new(
                "/outcome",
                format!(
                    "a decision on {} reaches one of: {}",
                    self.matter,
                    self.matter.outcomes().join(", ")
                ),
            ));
        }
        let mut names: Vec<&str> = self.attendees.iter().map(|a| a.trim()).collect();
        for (i, name) in names.iter().enumerate() {
            if !member(name) {
                errors.push(FieldError::new(
                    format!("/attendees/{i}"),
                    "not a person of the org that decides",
                ));
            }
        }
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
        let mut dissenters: Vec<&str> = Vec::new();
        for (i, d) in self.dissent.iter().enumerate() {
            if !names.contains(&d.attendee.trim()) {
                errors.push(FieldError::new(
                    format!("/dissent/{i}/attendee"),
                    "a dissenter must be one of the attendees",
                ));
            } else if !dissenters.contains(&d.attendee.trim()) {
                dissenters.push(d.attendee.trim());
            }
        }
        if (names.len() - dissenters.len()) * 2 <= names.len() {
            errors.push(FieldError::new(
                "/dissent",
                "the outcome needs a majority of the attendees (规则 Art. 53)",
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(outcome: &str, attendees: &[&str], dissent: &[&str]) -> CollectiveDecision {
        CollectiveDecision {
            matter: Matter::Disposal,
            attendees: attendees.iter().map(|s| s.to_string()).collect(),
            outcome: outcome.into(),
            dissent: dissent
                .iter()
                .map(|a| Dissent {
                    attendee: a.to_string(),
                    opinion: "verify first".into(),
                })
                .collect(),
        }
    }

    fn pointers(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.pointer).collect()
    }

    const MEMBERS: &[&str] = &["甲", "乙", "丙", "丁"];

    fn member(id: &str) -> bool {
        MEMBERS.contains(&id)
    }

    #[test]
    fn a_decision_needs_three_members_a_majority_and_dissent_from_among_them() {
        assert!(
            decision("close", &["甲", "乙", "丙"], &["乙"])
                .check(member)
                .is_empty()
        );
        let few = decision("close", &["甲", "甲 ", "乙"], &[]).check(member);
        assert_eq!(pointers(few), ["/attendees"]);
        let outsider = decision("close", &["甲", "乙", "丙"], &["戊"]).check(member);
        assert_eq!(pointers(outsider), ["/dissent/0/attendee"]);
        let stranger = decision("close", &["甲", "乙", "戊"], &[]).check(member);
        assert_eq!(pointers(stranger), ["/attendees/2"]);
        let split = decision("close", &["甲", "乙", "丙", "丁"], &["乙", "丙"]).check(member);
        assert_eq!(pointers(split), ["/dissent"]);
    }

    #[test]
    fn a_decision_reaches_an_outcome_its_matter_allows() {
        let mut d = decision("detain", &["甲", "乙", "丙"], &[]);
        assert_eq!(pointers(d.check(member)), ["/outcome"]);
        d.matter = Matter::Detention;
        assert!(d.check(member).is_empty());
        d.outcome = "not_detain".into();
        assert!(d.check(member).is_empty());
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
