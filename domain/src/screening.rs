//! 大数据比对 — big-data screening: rosters (名册) compared with reference
//! registers (登记簿) by rules that are data, not code. A roster line that a
//! rule matches is a suspicious record (疑点) that its owner verifies on a
//! deadline; a confirmed one becomes a problem and, where the rule says so,
//! a clue with source `big_data`.
//!
//! No article sets how screening is done or how long verification takes:
//! each rule carries its own days, and every step built on it says so.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::report::IdNumber;
use crate::wire::wire_enum;

wire_enum! {
    /// Which list an import holds: a roster to screen or a register to screen it against.
    pub enum ListKind {
        /// 公益岗 — public-welfare post holders (roster).
        PublicWelfarePost = "public_welfare_post",
        /// 低保 — minimum-living-allowance recipients (roster).
        MinimumLiving = "minimum_living",
        /// 特困 — extreme-hardship recipients (roster).
        ExtremeHardship = "extreme_hardship",
        /// 死亡登记 — registered deaths (register).
        Deaths = "deaths",
        /// 车辆登记 — vehicle owners (register).
        VehicleOwners = "vehicle_owners",
        /// 工商登记 — business registrations (register).
        BusinessRegistrations = "business_registrations",
        /// 财政供养人员 — people on the public payroll (register).
        PublicPayroll = "public_payroll",
        /// 村干部 — village cadres (register).
        VillageCadres = "village_cadres",
        /// 村干部近亲属 — village cadres' close relatives (register).
        CadreRelatives = "cadre_relatives",
    }
}

impl ListKind {
    /// Whether the list is a roster (screened) rather than a register (screened against).
    pub fn is_roster(self) -> bool {
        matches!(
            self,
            ListKind::PublicWelfarePost | ListKind::MinimumLiving | ListKind::ExtremeHardship
        )
    }
}

wire_enum! {
    /// How a roster line and a register line are taken to be the same person.
    pub enum JoinOn {
        /// The resident ID number (by its keyed hash).
        IdNumber = "id_number",
        /// Name and birth date (by their keyed hash), where a list has no ID numbers.
        NameBirthDate = "name_birth_date",
    }
}

wire_enum! {
    /// What makes a joined pair a hit.
    pub enum Condition {
        /// Being on both lists is the hit (a recipient who owns a vehicle).
        Match = "match",
        /// The roster line's date is after the register line's (paid after death).
        RosterDateAfter = "roster_date_after_register_date",
    }
}

wire_enum! {
    /// Where a suspicious record (疑点) stands.
    pub enum HitState {
        /// Its owner is verifying it.
        Verifying = "verifying",
        /// Verified: it became a problem (and a clue where the rule says so).
        Confirmed = "confirmed",
        /// Verified: not a problem, for the reason given.
        Dismissed = "dismissed",
    }
}

wire_enum! {
    /// Where a screening run stands.
    pub enum RunState {
        /// Its workflow is joining batches.
        Running = "running",
        /// Every roster line was compared.
        Done = "done",
    }
}

/// 比对规则 — a screening rule, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What it finds, e.g. 低保对象名下登记有车辆.
    pub name: String,
    /// The roster it screens.
    pub roster: ListKind,
    /// The register it screens against.
    pub register: ListKind,
    /// How lines are joined.
    pub join: JoinOn,
    /// What makes a joined pair a hit.
    pub condition: Condition,
    /// The problem category a confirmed hit is recorded under.
    pub category: String,
    /// Days the hit's owner (the roster line's org) has to verify it.
    #[serde(deserialize_with = "crate::wire::whole_number")]
    pub verify_days: u32,
    /// Whether a confirmed hit also becomes a clue (source `big_data`).
    pub clue: bool,
}

impl Rule {
    /// The rule's problems beyond its schema: lists of the wrong kind.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !self.roster.is_roster() {
            errors.push(FieldError::new(
                "/roster",
                format!("{} is a register, not a roster", self.roster),
            ));
        }
        if self.register.is_roster() {
            errors.push(FieldError::new(
                "/register",
                format!("{} is a roster, not a register", self.register),
            ));
        }
        errors
    }
}

/// The seed commission's rules, as examples to adopt (`domain/screening/example-rules.json`).
pub fn example_rules() -> Vec<Rule> {
    serde_json::from_str(include_str!("../screening/example-rules.json"))
        .expect("the example rules are valid rules")
}

/// The columns a list's CSV header or first sheet row names; others are refused.
pub const COLUMNS: &[&str] = &[
    "id_number",
    "name",
    "birth_date",
    "org",
    "date",
    "amount",
    "detail",
];

/// One validated line of a list, with the ID number still in clear: it
/// lives only in memory, until it is hashed and masked.
#[derive(Clone, PartialEq)]
pub struct Line {
    /// The resident ID number, if the list has one for this person.
    pub id_number: Option<IdNumber>,
    /// The person's name.
    pub name: String,
    /// Birth date, YYYY-MM-DD (from the ID number when there is one).
    pub birth_date: String,
    /// The org the line belongs to (a roster's township or village), if given.
    pub org: Option<String>,
    /// The line's date, YYYY-MM-DD (last payment, date of death, ...).
    pub date: Option<String>,
    /// An amount in yuan.
    pub amount: Option<f64>,
    /// Free text (a plate number, a company's name, a kinship).
    pub detail: Option<String>,
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Line(..)")
    }
}

impl Line {
    /// Validates a line given as `(column, value)` pairs; the error says why it is refused.
    pub fn parse<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, String> {
        let mut line = Line {
            id_number: None,
            name: String::new(),
            birth_date: String::new(),
            org: None,
            date: None,
            amount: None,
            detail: None,
        };
        let mut birth = None;
        for (column, value) in fields {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match column {
                "id_number" => {
                    line.id_number =
                        Some(IdNumber::parse(value).map_err(|m| format!("id_number {m}"))?);
                }
                "name" => line.name = normalize_name(value),
                "birth_date" => birth = Some(date(value, "birth_date")?),
                "org" => line.org = Some(value.to_owned()),
                "date" => line.date = Some(date(value, "date")?),
                "amount" => {
                    let amount: f64 = value
                        .parse()
                        .ok()
                        .filter(|a: &f64| a.is_finite() && *a >= 0.0)
                        .ok_or("amount must be a number of yuan, 0 or more")?;
                    line.amount = Some(amount);
                }
                "detail" if value.chars().count() > 200 => {
                    return Err("detail is longer than 200 characters".into());
                }
                "detail" => line.detail = Some(value.to_owned()),
                other => return Err(format!("unknown column {other}")),
            }
        }
        if line.name.is_empty() {
            return Err("name is missing".into());
        }
        if line.name.chars().count() > 50 {
            return Err("name is longer than 50 characters".into());
        }
        line.birth_date = match (&line.id_number, birth) {
            (Some(id), Some(given)) if birth_date_of(id) != given => {
                return Err("birth_date does not match the ID number".into());
            }
            (Some(id), _) => birth_date_of(id),
            (None, Some(given)) => given,
            (None, None) => return Err("neither id_number nor birth_date is given".into()),
        };
        Ok(line)
    }
}

/// A name as it is compared: inner and outer white space removed (names are
/// written with and without a space between characters).
pub fn normalize_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `value` if it is a real date written YYYY-MM-DD.
fn date(value: &str, column: &str) -> Result<String, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, format)
        .map(|_| value.to_owned())
        .map_err(|_| format!("{column} must be a date written YYYY-MM-DD"))
}

/// The birth date an ID number carries (its characters 7–14), YYYY-MM-DD.
pub fn birth_date_of(id: &IdNumber) -> String {
    let s = id.as_str();
    format!("{}-{}-{}", &s[6..10], &s[10..12], &s[12..14])
}

/// An ID number as it may be shown: the region and the last four kept,
/// the birth date hidden (`370402********1234`).
pub fn masked(id: &IdNumber) -> String {
    let s = id.as_str();
    format!("{}********{}", &s[..6], &s[14..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "11010519491231002X";

    #[test]
    fn a_line_takes_its_birth_date_from_the_id_number_and_masks_it() {
        let line = Line::parse([("id_number", ID), ("name", " 张 三 ")]).unwrap();
        assert_eq!(line.birth_date, "1949-12-31");
        assert_eq!(line.name, "张三");
        assert_eq!(
            masked(line.id_number.as_ref().unwrap()),
            "110105********002X"
        );
        assert!(!format!("{line:?}").contains("1101"));
    }

    #[test]
    fn lines_are_refused_with_a_reason() {
        let refused = |fields: &[(&str, &str)]| Line::parse(fields.iter().copied()).unwrap_err();
        assert!(refused(&[("id_number", "110105194912310021"), ("name", "a")]).contains("check"));
        assert!(refused(&[("name", "a")]).contains("birth_date"));
        assert!(refused(&[("id_number", ID)]).contains("name"));
        assert!(refused(&[("name", "a"), ("birth_date", "1990-02-30")]).contains("YYYY-MM-DD"));
        assert!(
            refused(&[
                ("id_number", ID),
                ("name", "a"),
                ("birth_date", "1950-01-01")
            ])
            .contains("does not match")
        );
        assert!(
            refused(&[
                ("name", "a"),
                ("birth_date", "1990-01-01"),
                ("amount", "-1")
            ])
            .contains("amount")
        );
        assert!(refused(&[("name", "a"), ("phone", "1")]).contains("unknown column"));
    }

    #[test]
    fn example_rules_screen_rosters_against_registers() {
        let rules = example_rules();
        assert!(rules.len() >= 4);
        for rule in rules {
            assert!(rule.check().is_empty(), "{}", rule.name);
            assert!(rule.verify_days > 0);
        }
    }
}
