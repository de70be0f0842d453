//! 组织 — organisations, the positions people hold in them, and who
//! supervises whom.
//!
//! The tree is data (`orgs/*.json`, validated against `schemas/org-tree.json`
//! and by [`OrgTree::new`]), loaded by `jiandu migrate`. Two relations run
//! through it:
//!
//! - **parent** — where an org sits; an org's subtree is what its issuer may
//!   speak for and what its supervisory roles may list;
//! - **supervisor** — the commission (or, for a village, the township whose
//!   纪委 watches it) that presses the org's late steps (督办). A commission's
//!   supervisor is the next-higher commission, which also approves its 留置
//!   (监察法 Art. 47) and is where its late steps are elevated (双重领导, 上级为主).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::wire::wire_enum;

/// What kind of organisation an org is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 纪委监委 — a discipline-inspection and supervision commission.
    Commission,
    /// 党委 — a Party committee (its head approves 立案, 规则 Art. 38).
    PartyCommittee,
    /// 人民政府 — a people's government.
    Government,
    /// 职能部门 — a government department.
    Department,
    /// 乡镇/街道 — a township or sub-district, with its 纪委 and 监察办公室.
    Township,
    /// 村/社区 — a village or residents' community.
    Village,
    /// 巡察办 — an inspection-tour office.
    InspectionOffice,
}

/// The administrative level an org belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 国家 — national.
    National,
    /// 省 — province.
    Province,
    /// 设区的市 — city.
    City,
    /// 县/区 — county or district.
    County,
    /// 乡镇/街道 — township.
    Township,
    /// 村/社区 — village.
    Village,
}

wire_enum! {
    /// 岗位 — a position a person holds inside an org. No role names a level:
    /// "the next-higher commission approves" means the [`Role::Head`] of the
    /// org that supervises the requesting commission.
    pub enum Role {
        /// 信访室 — intake and triage.
        Petitions = "petitions",
        /// 案件监督管理室 — clue registry and case management.
        CaseManagement = "case_management",
        /// 监督检查室 — disposal and supervision.
        Supervision = "supervision",
        /// 审查调查室 — investigation.
        Investigation = "investigation",
        /// 审理室 — case review.
        Review = "review",
        /// 办公室 — the head's office, which records collective decisions.
        Office = "office",
        /// 主要负责人 — the org's head.
        Head = "head",
        /// 党委主要负责人 — the head of a Party committee.
        PartyHead = "party_head",
        /// 工作人员 — staff of a department, township or village answering for its people.
        Staff = "staff",
        /// 三资代理服务中心 — a township's office for its villages' collective
        /// funds, assets and resources (农村集体"三资"), which checks their
        /// risk warnings.
        AssetsOffice = "assets_office",
    }
}

impl Role {
    /// The position in a commission that does a step of this role once the
    /// commission takes it over (提级): a department's, township's or Party
    /// committee's step goes to 监督检查室; a commission's keeps its position.
    pub fn in_commission(self) -> Role {
        match self {
            Role::Staff | Role::PartyHead | Role::AssetsOffice => Role::Supervision,
            other => other,
        }
    }

    /// Whether the role watches the orgs its commission supervises: it may
    /// list (not complete) their tasks and sees what is pressed or elevated
    /// to its commission.
    pub fn is_supervisory(self) -> bool {
        matches!(self, Role::Head | Role::Supervision | Role::CaseManagement)
    }
}

/// A person who holds positions in an org (the demo tree lists some; an
/// identity provider may know more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The person's id: the `sub` of their tokens.
    pub id: String,
    /// Their name.
    pub name: String,
    /// The positions they hold.
    pub roles: Vec<Role>,
}

/// One organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// A stable id. A commission's id is its division code.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: OrgKind,
    /// Its level.
    pub level: Level,
    /// Its administrative division code (6 digits to the county, 9 for a
    /// township, 12 for a village).
    pub division: String,
    /// Where it sits in the tree; none only for the root.
    pub parent: Option<String>,
    /// The commission (or a village's township) that supervises it; none only for 国家监委.
    pub supervisor: Option<String>,
    /// People and their positions, as far as the tree lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
}

/// The file the tree is loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeFile {
    /// Every org, in any order.
    pub orgs: Vec<Org>,
}

/// Where `object` stands as seen from `caller`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The same org.
    Own,
    /// `object` is inside the caller's subtree.
    Below,
    /// `object` is an ancestor of the caller.
    Above,
    /// Neither.
    Elsewhere,
}

/// The orgs that press and take over a late step (督办, 提级).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation<'t> {
    /// 督办 — the org supervising the assignee's org; none at the top.
    pub supervise: Option<&'t Org>,
    /// 提级 — the next level up from the supervising org; none at the top.
    pub elevate: Option<&'t Org>,
}

/// The validated tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgTree {
    orgs: BTreeMap<String, Org>,
    children: BTreeMap<String, Vec<String>>,
}

impl OrgTree {
    /// Parses and validates a tree file (JSON).
    pub fn parse(json: &str) -> Result<OrgTree, Vec<FieldError>> {
        let file: TreeFile = serde_json::from_str(json)
            .map_err(|e| vec![FieldError::new("", format!("not an org tree: {e}"))])?;
        OrgTree::new(file.orgs)
    }

    /// Validates `orgs` as one tree: unique ids, parents and supervisors that
    /// exist, one root, no cycles, supervisors that are commissions (or a
    /// village's township), people unique within their org.
    pub fn new(orgs: Vec<Org>) -> Result<OrgTree, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut by_id = BTreeMap::new();
        for (i, org) in orgs.into_iter().enumerate() {
            if by_id.contains_key(&org.id) {
                errors.push(FieldError::new(
                    format!("/orgs/{i}/id"),
                    format!("`{}` is used twice", org.id),
                ));
                continue;
            }
            by_id.insert(org.id.clone(), (i, org));
        }
        let mut roots = Vec::new();
        for (i, org) in by_id.values() {
            let at = |field: &str| format!("/orgs/{i}/{field}");
            match &org.parent {
                None => roots.push(org.id.clone()),
                Some(p) if !by_id.contains_key(p) => errors.push(FieldError::new(
                    at("parent"),
                    format!("no org `{p}` in the tree"),
                )),
                Some(_) => {}
            }
            match &org.supervisor {
                None if org.parent.is_some() => errors.push(FieldError::new(
                    at("supervisor"),
                    "only the root goes unsupervised",
                )),
                None => {}
                Some(s) => match by_id.get(s) {
                    None => errors.push(FieldError::new(
                        at("supervisor"),
                        format!("no org `{s}` in the tree"),
                    )),
                    Some((_, sup))
                        if sup.kind != OrgKind::Commission
                            && !(sup.kind == OrgKind::Township && org.kind == OrgKind::Village) =>
                    {
                        errors.push(FieldError::new(
                            at("supervisor"),
                            format!("`{s}` is not a commission (only a village may be supervised by its township)"),
                        ))
                    }
                    Some(_) if s == &org.id => errors.push(FieldError::new(
                        at("supervisor"),
                        "an org cannot supervise itself",
                    )),
                    Some(_) => {}
                },
            }
            let mut people = BTreeSet::new();
            for (j, person) in org.people.iter().enumerate() {
                if !people.insert(person.id.as_str()) {
                    errors.push(FieldError::new(
                        format!("/orgs/{i}/people/{j}/id"),
                        format!("`{}` is listed twice in this org", person.id),
                    ));
                }
            }
        }
        if roots.len() != 1 {
            errors.push(FieldError::new(
                "/orgs",
                format!("a tree has exactly one root; found {}", roots.len()),
            ));
        }
        // Every parent chain must end at the root: a cycle never does.
        for (i, org) in by_id.values() {
            let mut seen = BTreeSet::new();
            let mut at = Some(org.id.as_str());
            while let Some(id) = at {
                if !seen.insert(id) {
                    errors.push(FieldError::new(
                        format!("/orgs/{i}/parent"),
                        "the parents form a cycle",
                    ));
                    break;
                }
                at = by_id.get(id).and_then(|(_, o)| o.parent.as_deref());
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
            return Err(errors);
        }
        let orgs: BTreeMap<String, Org> = by_id.into_iter().map(|(k, (_, o))| (k, o)).collect();
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for org in orgs.values() {
            if let Some(p) = &org.parent {
                children.entry(p.clone()).or_default().push(org.id.clone());
            }
        }
        Ok(OrgTree { orgs, children })
    }

    /// The org with this id.
    pub fn get(&self, id: &str) -> Option<&Org> {
        self.orgs.get(id)
    }

    /// Every org, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Org> {
        self.orgs.values()
    }

    /// The org's ancestors, nearest first.
    pub fn ancestors<'t>(&'t self, id: &str) -> impl Iterator<Item = &'t Org> + 't {
        let mut at = self.get(id).and_then(|o| o.parent.clone());
        std::iter::from_fn(move || {
            let org = self.get(at.as_deref()?)?;
            at = org.parent.clone();
            Some(org)
        })
    }

    /// Whether `id` is `root` or inside its subtree.
    pub fn is_within(&self, id: &str, root: &str) -> bool {
        self.get(id).is_some() && (id == root || self.ancestors(id).any(|a| a.id == root))
    }

    /// Where `object` stands as seen from `caller`.
    pub fn relation(&self, caller: &str, object: &str) -> Relation {
        if caller == object {
            Relation::Own
        } else if self.is_within(object, caller) {
            Relation::Below
        } else if self.is_within(caller, object) {
            Relation::Above
        } else {
            Relation::Elsewhere
        }
    }

    /// `root` and everything below it, root first.
    pub fn subtree<'t>(&'t self, root: &str) -> Vec<&'t Org> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(id) = stack.pop() {
            if let Some(org) = self.get(&id) {
                out.push(org);
                if let Some(kids) = self.children.get(&id) {
                    stack.extend(kids.iter().rev().cloned());
                }
            }
        }
        out
    }

    /// The org's direct children.
    pub fn children<'t>(&'t self, id: &str) -> impl Iterator<Item = &'t Org> + 't {
        self.children
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.get(c))
    }

    /// The org that supervises `id`.
    pub fn supervisor(&self, id: &str) -> Option<&Org> {
        self.get(self.get(id)?.supervisor.as_deref()?)
    }

    /// The commission responsible for `id`: itself if it is one, else the
    /// nearest commission up its supervisor chain.
    pub fn commission_of(&self, id: &str) -> Option<&Org> {
        let mut at = self.get(id)?;
        for _ in 0..self.orgs.len() {
            if at.kind == OrgKind::Commission {
                return Some(at);
            }
            at = self.supervisor(&at.id)?;
        }
        None
    }

    /// 上一级监委 — the commission that leads `commission` (监察法 Art. 47):
    /// its supervisor. None for 国家监委.
    pub fn higher_commission(&self, commission: &str) -> Option<&Org> {
        self.commission_of(&self.supervisor(commission)?.id)
    }

    /// 同级党委 — the Party committee of the same level as `commission`
    /// (its head approves 立案 with the commission's, 规则 Art. 38).
    pub fn party_committee_of(&self, commission: &str) -> Option<&Org> {
        self.children(commission)
            .find(|o| o.kind == OrgKind::PartyCommittee)
    }

    /// 国家监委 — the commission at the top of the tree.
    pub fn national(&self) -> Option<&Org> {
        self.orgs
            .values()
            .find(|o| o.parent.is_none() && o.kind == OrgKind::Commission)
    }

    /// Who presses (督办) and who takes over (提级) a late step of `assignee`.
    pub fn escalation(&self, assignee: &str) -> Escalation<'_> {
        let supervise = self.supervisor(assignee);
        let elevate = supervise.and_then(|s| self.supervisor(&s.id));
        Escalation { supervise, elevate }
    }

    /// The commission that receives a report about administrative division
    /// `code`: the commission of the org with that division, or of the
    /// nearest enclosing division the tree knows (12 → 9 → 6 digits, then
    /// county → city → province by the code's zeros).
    pub fn commission_for_division(&self, code: &str) -> Option<&Org> {
        let mut candidates = vec![code.to_owned()];
        if code.len() > 9 {
            candidates.push(code[..9].to_owned());
        }
        if code.len() > 6 {
            candidates.push(code[..6].to_owned());
        }
        let six = candidates.last().cloned().unwrap_or_default();
        if six.len() == 6 {
            candidates.push(format!("{}00", &six[..4]));
            candidates.push(format!("{}0000", &six[..2]));
        }
        candidates.iter().find_map(|c| {
            let mut in_division = self.orgs.values().filter(|o| &o.division == c);
            let first = in_division.clone().next()?;
            in_division
                .find(|o| o.kind == OrgKind::Commission)
                .or_else(|| self.commission_of(&first.id))
        })
    }

    /// A person listed in org `org`.
    pub fn person(&self, org: &str, id: &str) -> Option<&Person> {
        self.get(org)?.people.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../orgs/zaozhuang.json");

    fn demo() -> OrgTree {
        OrgTree::parse(DEMO).expect("the demo tree is valid")
    }

    #[test]
    fn the_demo_tree_has_zaozhuang_under_shandong_under_the_national_commission() {
        let t = demo();
        assert_eq!(t.national().unwrap().id, "100000");
        assert_eq!(t.higher_commission("370400").unwrap().id, "370000");
        assert_eq!(t.higher_commission("370000").unwrap().id, "100000");
        assert!(t.higher_commission("100000").is_none());
        assert_eq!(t.party_committee_of("370400").unwrap().id, "370400-party");
        for county in ["370402", "370403", "370404", "370405", "370406", "370481"] {
            assert_eq!(
                t.higher_commission(county).unwrap().id,
                "370400",
                "{county}"
            );
        }
        assert!(t.is_within("370402001", "370400"));
        assert!(!t.is_within("370400", "370402"));
        assert_eq!(t.relation("370402", "370403"), Relation::Elsewhere);
        assert_eq!(t.relation("370400", "370402"), Relation::Below);
        assert_eq!(t.relation("370402", "370400"), Relation::Above);
    }

    #[test]
    fn escalation_walks_the_supervisors_and_stops_at_the_top() {
        let t = demo();
        // A township's late step: pressed by its county, elevated to the city.
        let e = t.escalation("370402001");
        assert_eq!(e.supervise.unwrap().id, "370402");
        assert_eq!(e.elevate.unwrap().id, "370400");
        // A city department's: pressed by the city, elevated to the province.
        let e = t.escalation("370400-nyncj");
        assert_eq!(e.supervise.unwrap().id, "370400");
        assert_eq!(e.elevate.unwrap().id, "370000");
        // The province's own step: pressed by 国家监委, then nowhere further.
        let e = t.escalation("370000");
        assert_eq!(e.supervise.unwrap().id, "100000");
        assert!(e.elevate.is_none());
        assert!(t.escalation("100000").supervise.is_none());
    }

    #[test]
    fn a_report_goes_to_the_commission_of_its_division() {
        let t = demo();
        assert_eq!(t.commission_for_division("370402").unwrap().id, "370402");
        assert_eq!(t.commission_for_division("370400").unwrap().id, "370400");
        // A village: its township is supervised by the county commission.
        let village = t
            .iter()
            .find(|o| o.kind == OrgKind::Village && o.division.starts_with("370402"))
            .unwrap();
        assert_eq!(
            t.commission_for_division(&village.division).unwrap().id,
            "370402"
        );
        // An unlisted village falls back to the enclosing county.
        assert_eq!(
            t.commission_for_division("370402999999").unwrap().id,
            "370402"
        );
        // An unlisted county of the city falls back to the city.
        assert_eq!(t.commission_for_division("370499").unwrap().id, "370400");
        assert!(t.commission_for_division("110101").is_none());
    }

    fn org(id: &str, parent: Option<&str>, supervisor: Option<&str>, kind: OrgKind) -> Org {
        Org {
            id: id.into(),
            name: id.into(),
            kind,
            level: Level::City,
            division: "370400".into(),
            parent: parent.map(Into::into),
            supervisor: supervisor.map(Into::into),
            people: Vec::new(),
        }
    }

    #[test]
    fn a_broken_tree_names_each_problem() {
        use OrgKind::*;
        let errors = OrgTree::new(vec![
            org("a", None, None, Commission),
            org("b", Some("zz"), Some("a"), Department),
            org("c", Some("a"), Some("d"), Department),
            org("d", Some("a"), Some("a"), Department),
            org("a", Some("a"), Some("a"), Commission),
            org("e", Some("f"), Some("a"), Department),
            org("f", Some("e"), Some("a"), Department),
        ])
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/orgs/1/parent"), "{errors:?}");
        assert!(pointers.contains(&"/orgs/2/supervisor"), "{errors:?}");
        assert!(pointers.contains(&"/orgs/4/id"), "{errors:?}");
        assert!(pointers.contains(&"/orgs/5/parent"), "{errors:?}");
    }
}
