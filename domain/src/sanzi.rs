//! 三资 — a village's funds, assets and resources (资金、资产、资源): its
//! leases (合同) and its payments and receipts (收支), checked on every write
//! against risk rules that are data. A rule that fires is a warning (预警)
//! that the township's 三资 office checks on a deadline, with the county's
//! commission watching.
//!
//! No article sets these thresholds: each is the commission's own rule, and
//! every warning says so ([`RULE_BASIS`]).

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::wire::wire_enum;

/// Where every 三资 threshold comes from.
pub const RULE_BASIS: &str = "no article sets it: the commission's own 三资 risk rule";

wire_enum! {
    /// What a contract leases out.
    pub enum ContractKind {
        /// 土地租赁 — collective land.
        LandLease = "land_lease",
        /// 资产租赁 — buildings, equipment and other assets.
        AssetLease = "asset_lease",
    }
}

wire_enum! {
    /// Which way money moves.
    pub enum TransactionKind {
        /// 支出 — the village pays.
        Payment = "payment",
        /// 收入 — the village receives.
        Receipt = "receipt",
    }
}

wire_enum! {
    /// How money moves.
    pub enum Method {
        /// 转账 — through a bank.
        Transfer = "transfer",
        /// 现金 — in cash.
        Cash = "cash",
    }
}

wire_enum! {
    /// Who approved a contract or a payment.
    pub enum ApprovalKind {
        /// 村两委 — the village Party branch and committee.
        Committee = "committee",
        /// 村民代表会议 — the villagers' representatives' meeting.
        Representatives = "representatives",
        /// 乡镇审核 — the township's review.
        Township = "township",
    }
}

wire_enum! {
    /// Where a warning stands.
    pub enum WarningState {
        /// The township's 三资 office is checking it.
        Checking = "checking",
        /// Checked: the risk is real (the note says what follows).
        Confirmed = "confirmed",
        /// Checked: no risk, for the reason given.
        Dismissed = "dismissed",
    }
}

/// An amount in fen (分), read from yuan written with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Yuan(pub i64);

impl Yuan {
    /// `text` (`1234`, `1234.5`, `1234.56`) as an amount, or why not.
    pub fn parse(text: &str) -> Result<Yuan, String> {
        let bad = || format!("`{text}` is not an amount in yuan with at most two decimals");
        let (whole, part) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 13 || !digits(whole) || part.len() > 2 || !digits(part)
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fen: i64 = format!("{part:0<2}").parse().map_err(|_| bad())?;
        Ok(Yuan(whole * 100 + fen))
    }

    /// The amount as yuan with two decimals.
    pub fn text(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl TryFrom<String> for Yuan {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Yuan::parse(&s)
    }
}

impl From<Yuan> for String {
    fn from(y: Yuan) -> String {
        y.text()
    }
}

/// A risk rule's test, with its thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Test {
    /// A lease of `asset_class` below the reference rent per unit and year.
    LeaseBelowReference {
        /// The class of asset the reference price is for (e.g. `farmland`).
        asset_class: String,
        /// The lowest acceptable yearly rent per unit (mu, m², …).
        min_per_unit_year: Yuan,
    },
    /// A lease longer than allowed.
    LeaseTooLong {
        /// The longest term, in years.
        max_years: u32,
    },
    /// A payment above the threshold without the representatives' approval.
    PaymentWithoutApproval {
        /// Payments above this need 村民代表会议.
        threshold: Yuan,
    },
    /// Payments to one payee, each under the threshold, that together pass
    /// it within the window: a large payment split to avoid its approval.
    SplitPayments {
        /// The threshold the parts stay under.
        threshold: Yuan,
        /// The window, in days, ending on the newest payment.
        window_days: u32,
    },
    /// A payee on the village-cadre or cadre-relative registers (大数据比对).
    CadrePayee,
    /// A cash payment or receipt above the limit.
    CashAbove {
        /// The most that may move in cash.
        limit: Yuan,
    },
}

/// A commission's risk rule: its name and its test. (Its JSON Schema,
/// `sanzi-rule.json`, refuses unknown fields: serde cannot beside `flatten`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// What it watches, in words.
    pub name: String,
    /// The test and its thresholds.
    #[serde(flatten)]
    pub test: Test,
}

/// The seed's rules, to adopt as they are or with other thresholds.
pub fn example_rules() -> Vec<Rule> {
    serde_json::from_str(include_str!("../sanzi/example-rules.json"))
        .expect("the example 三资 rules are valid")
}

/// A lease as the rules see it.
#[derive(Debug, Clone)]
pub struct Lease<'a> {
    /// What it leases.
    pub asset_class: &'a str,
    /// How many units (mu, m², …).
    pub area: f64,
    /// The yearly rent.
    pub annual_rent: Yuan,
    /// Its term, in whole years rounded up.
    pub years: u32,
}

/// A payment or receipt as the rules see it.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    /// Which way.
    pub kind: TransactionKind,
    /// How much.
    pub amount: Yuan,
    /// How.
    pub method: Method,
    /// Who approved it.
    pub approvals: &'a [ApprovalKind],
    /// The same payee's earlier payments within the widest split window,
    /// each with its amount and its distance in days from this one.
    pub earlier_to_payee: &'a [(Yuan, u32)],
    /// Whether the payee is on a cadre or cadre-relative register.
    pub payee_is_cadre: bool,
}

/// What a rule found wrong, in words for the township's task.
pub type Finding = String;

impl Rule {
    /// What the rule finds wrong with a lease, if anything.
    pub fn check_lease(&self, lease: &Lease<'_>) -> Option<Finding> {
        match &self.test {
            Test::LeaseBelowReference {
                asset_class,
                min_per_unit_year,
            } if asset_class == lease.asset_class && lease.area > 0.0 => {
                let per_unit = lease.annual_rent.0 as f64 / lease.area;
                (per_unit < min_per_unit_year.0 as f64).then(|| {
                    format!(
                        "rent {} yuan a year for {} units is {:.2} a unit, below the reference {}",
                        lease.annual_rent.text(),
                        lease.area,
                        per_unit / 100.0,
                        min_per_unit_year.text()
                    )
                })
            }
            Test::LeaseTooLong { max_years } => (lease.years > *max_years).then(|| {
                format!(
                    "a term of {} years, beyond the {max_years} allowed",
                    lease.years
                )
            }),
            _ => None,
        }
    }

    /// What the rule finds wrong with a payment or receipt, if anything.
    pub fn check_movement(&self, m: &Movement<'_>) -> Option<Finding> {
        let payment = m.kind == TransactionKind::Payment;
        match &self.test {
            Test::PaymentWithoutApproval { threshold } => (payment
                && m.amount > *threshold
                && !m.approvals.contains(&ApprovalKind::Representatives))
            .then(|| {
                format!(
                    "a payment of {} yuan, above {}, without the villagers' representatives' approval",
                    m.amount.text(),
                    threshold.text()
                )
            }),
            Test::SplitPayments {
                threshold,
                window_days,
            } if payment && m.amount <= *threshold => {
                let parts: Vec<Yuan> = m
                    .earlier_to_payee
                    .iter()
                    .filter(|(amount, days)| *days <= *window_days && amount <= threshold)
                    .map(|(amount, _)| *amount)
                    .collect();
                let total = Yuan(m.amount.0 + parts.iter().map(|y| y.0).sum::<i64>());
                (!parts.is_empty() && total > *threshold).then(|| {
                    format!(
                        "{} payments to one payee within {window_days} days total {} yuan, above {}, each below it",
                        parts.len() + 1,
                        total.text(),
                        threshold.text()
                    )
                })
            }
            Test::CadrePayee => (payment && m.payee_is_cadre).then(|| {
                "the payee is on the village-cadre or cadre-relative register".to_owned()
            }),
            Test::CashAbove { limit } => (m.method == Method::Cash && m.amount > *limit)
                .then(|| {
                    format!(
                        "{} yuan in cash, above the limit of {}",
                        m.amount.text(),
                        limit.text()
                    )
                }),
            _ => None,
        }
    }

    /// What is wrong with the rule itself, each with its JSON pointer.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(FieldError::new("/name", "must not be blank"));
        }
        match &self.test {
            Test::LeaseTooLong { max_years: 0 } => {
                errors.push(FieldError::new("/max_years", "must be at least 1"));
            }
            Test::SplitPayments { window_days: 0, .. } => {
                errors.push(FieldError::new("/window_days", "must be at least 1"));
            }
            _ => {}
        }
        errors
    }

    /// The widest window any of `rules` looks back over for split payments.
    pub fn split_window<'r>(rules: impl IntoIterator<Item = &'r Rule>) -> u32 {
        rules
            .into_iter()
            .filter_map(|r| match r.test {
                Test::SplitPayments { window_days, .. } => Some(window_days),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(s: &str) -> Yuan {
        Yuan::parse(s).unwrap()
    }

    #[test]
    fn amounts_are_yuan_with_two_decimals() {
        assert_eq!(yuan("1234"), Yuan(123_400));
        assert_eq!(yuan("1234.5"), Yuan(123_450));
        assert_eq!(yuan("0.07").text(), "0.07");
        for bad in ["", "-1", "1.234", "1e3", "1,000", ".5"] {
            assert!(Yuan::parse(bad).is_err(), "{bad}");
        }
    }

    fn movement(amount: &str) -> Movement<'static> {
        Movement {
            kind: TransactionKind::Payment,
            amount: yuan(amount),
            method: Method::Transfer,
            approvals: &[],
            earlier_to_payee: &[],
            payee_is_cadre: false,
        }
    }

    #[test]
    fn each_example_rule_fires_on_its_case_only() {
        let rules = example_rules();
        let fired = |m: &Movement<'_>| {
            rules
                .iter()
                .filter(|r| r.check_movement(m).is_some())
                .map(|r| r.test.clone())
                .collect::<Vec<_>>()
        };
        assert!(fired(&movement("30000")).is_empty());
        assert_eq!(fired(&movement("60000")).len(), 1);
        let approved = Movement {
            approvals: &[ApprovalKind::Representatives],
            ..movement("60000")
        };
        assert!(fired(&approved).is_empty());
        let split = Movement {
            earlier_to_payee: &[(Yuan(4_000_000), 3)],
            ..movement("40000")
        };
        assert!(matches!(fired(&split)[..], [Test::SplitPayments { .. }]));
        let long_ago = Movement {
            earlier_to_payee: &[(Yuan(4_000_000), 90)],
            ..movement("40000")
        };
        assert!(fired(&long_ago).is_empty());
        let cash = Movement {
            method: Method::Cash,
            ..movement("6000")
        };
        assert!(matches!(fired(&cash)[..], [Test::CashAbove { .. }]));
        let cadre = Movement {
            payee_is_cadre: true,
            ..movement("100")
        };
        assert!(matches!(fired(&cadre)[..], [Test::CadrePayee]));

        let lease = |rent: &str, years| Lease {
            asset_class: "farmland",
            area: 100.0,
            annual_rent: yuan(rent),
            years,
        };
        let on_lease = |l: &Lease<'_>| rules.iter().filter(|r| r.check_lease(l).is_some()).count();
        assert_eq!(on_lease(&lease("80000", 10)), 0);
        assert_eq!(on_lease(&lease("30000", 10)), 1);
        assert_eq!(on_lease(&lease("80000", 40)), 1);
    }
}
