//! 监督检查 — inspection tours (巡察), the problems they and others find
//! (问题台账), their rectification (整改) and re-check (回头看), and
//! 提级监督 (elevated supervision of listed villages).

use crate::org::{OrgKind, OrgTree};
use crate::wire::wire_enum;

wire_enum! {
    /// Where a problem was found.
    pub enum ProblemSource {
        /// 巡察 — an inspection tour.
        InspectionTour = "inspection_tour",
        /// 专项整治 / 联合督导 — a campaign.
        Campaign = "campaign",
        /// 信访举报 — a report.
        Report = "report",
        /// 问题线索 — a clue.
        Clue = "clue",
        /// 大数据比对 — a confirmed suspicious record.
        BigData = "big_data",
    }
}

wire_enum! {
    /// Where a problem stands, as projected by its RectificationWorkflow.
    pub enum ProblemState {
        /// Recorded; not yet handed over for rectification.
        Recorded = "recorded",
        /// 整改 — its owner's rectification report is awaited.
        Rectifying = "rectifying",
        /// 验收 — the supervising org checks the owner's report.
        Verifying = "verifying",
        /// Rectified; the 回头看 re-check is still to come.
        Rectified = "rectified",
        /// 回头看 — the re-check is open.
        Rechecking = "rechecking",
        /// The re-check held: closed for good.
        Closed = "closed",
    }
}

wire_enum! {
    /// What kind of campaign it is.
    pub enum CampaignKind {
        /// 专项整治 — a special rectification of one topic.
        SpecialRectification = "special_rectification",
        /// 联合督导 — a joint supervision by the commission and departments.
        JointSupervision = "joint_supervision",
    }
}

wire_enum! {
    /// Where a campaign participant stands, as its CampaignWorkflow projects it.
    pub enum ParticipantState {
        /// 自查 — its self-inspection report is awaited.
        SelfInspection = "self_inspection",
        /// 联合检查 — the lead commission's on-site check is awaited.
        JointCheck = "joint_check",
        /// 整改 — its rectification report is awaited.
        Rectification = "rectification",
        /// Every step done.
        Done = "done",
    }
}

/// The subject id of `org`'s part in campaign `campaign`.
pub fn participant_id(campaign: &str, org: &str) -> String {
    format!("{campaign}/{org}")
}

/// The org that supervises an owner's rectification (verifies its report
/// and re-checks it): the owner's supervisor in the tree — for a village its
/// township — or, for a village under 提级监督 (`elevated`), the org one
/// level above that, the county commission. `None` for an org the tree does
/// not know or that nobody supervises.
pub fn rectification_supervisor<'t>(
    tree: &'t OrgTree,
    owner: &str,
    elevated: bool,
) -> Option<&'t crate::org::Org> {
    let supervisor = tree.supervisor(owner)?;
    if elevated && tree.get(owner)?.kind == OrgKind::Village {
        return tree.commission_of(&tree.supervisor(&supervisor.id)?.id);
    }
    Some(supervisor)
}

/// What a task assigned one level up under 提级监督 says: the village, the
/// county that supervises it directly, the listing's period and its id.
pub fn elevation_basis(village: &str, county: &str, from: &str, to: &str, listing: i64) -> String {
    format!(
        "提级监督: {village} is supervised by {county} directly from {from} to {to} (listing {listing})"
    )
}

/// Whether a 提级监督 listing from `from` to `until` (inclusive,
/// YYYY-MM-DD) is in force on `today`, unless it was unlisted.
pub fn listing_in_force(from: &str, until: &str, unlisted: bool, today: &str) -> bool {
    !unlisted && from <= today && today <= until
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> OrgTree {
        OrgTree::parse(include_str!("../../orgs/zaozhuang.json")).expect("the demo tree")
    }

    #[test]
    fn a_listed_village_is_supervised_by_the_county_not_the_township() {
        let tree = tree();
        let village = "370402101201";
        assert_eq!(
            rectification_supervisor(&tree, village, false).map(|o| o.id.as_str()),
            Some("370402101")
        );
        assert_eq!(
            rectification_supervisor(&tree, village, true).map(|o| o.id.as_str()),
            Some("370402")
        );
        // Elevation concerns villages only: a department keeps its supervisor.
        assert_eq!(
            rectification_supervisor(&tree, "370402-mzj", true).map(|o| o.id.as_str()),
            Some("370402")
        );
    }

    #[test]
    fn a_listing_holds_within_its_dates_until_unlisted() {
        assert!(listing_in_force(
            "2026-01-01",
            "2026-12-31",
            false,
            "2026-06-01"
        ));
        assert!(listing_in_force(
            "2026-01-01",
            "2026-12-31",
            false,
            "2026-12-31"
        ));
        assert!(!listing_in_force(
            "2026-01-01",
            "2026-12-31",
            false,
            "2027-01-01"
        ));
        assert!(!listing_in_force(
            "2026-07-01",
            "2026-12-31",
            false,
            "2026-06-30"
        ));
        assert!(!listing_in_force(
            "2026-01-01",
            "2026-12-31",
            true,
            "2026-06-01"
        ));
    }
}
