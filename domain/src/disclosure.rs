//! 监督一点通 — public disclosure: what each administrative division puts
//! online (党务, 村务, 财务/三资, 民生资金, 小微工程), and the complaints (投诉)
//! the public files against an item.
//!
//! An item is published, corrected or withdrawn by its division's own staff.
//! Nothing published is changed in place: a correction is a new revision with
//! its reason, every revision stays readable, and a withdrawal keeps the item
//! and says why. No article sets how disclosure is kept; the complaint loop's
//! steps and their deadlines (see `deadline::COMPLAINT_*`) say so too.

use crate::FieldError;
use crate::wire::wire_enum;

wire_enum! {
    /// 公开类别 — what kind of matter an item discloses.
    pub enum ItemKind {
        /// 党务公开 — Party affairs.
        Party = "party",
        /// 村务公开 — village affairs.
        Village = "village",
        /// 财务/三资公开 — finances and village funds, assets and resources.
        Finance = "finance",
        /// 民生资金 — livelihood funds paid out.
        LivelihoodFund = "livelihood_fund",
        /// 小微工程 — small public works.
        SmallProject = "small_project",
    }
}

wire_enum! {
    /// Where a disclosed item stands.
    pub enum ItemState {
        /// Online, at its latest revision.
        Published = "published",
        /// Taken down by its division, with the reason; still readable as such.
        Withdrawn = "withdrawn",
    }
}

/// A disclosure period: a year (`2026`), a quarter (`2026-Q3`) or a month
/// (`2026-07`). Periods sort as text within a year: a year, then its
/// months, then its quarters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period(String);

impl Period {
    /// The period `text` names, or what is wrong with it, under `field`.
    pub fn parse(field: &str, text: &str) -> Result<Period, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                "is not a year (2026), quarter (2026-Q3) or month (2026-07)",
            )
        };
        let (year, rest) = match text.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (text, None),
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) {
            return Err(bad());
        }
        match rest {
            None => {}
            Some(q)
                if q.len() == 2
                    && q.starts_with('Q')
                    && matches!(&q[1..], "1" | "2" | "3" | "4") => {}
            Some(m) if digits(m, 2) && (1..=12).contains(&m.parse::<u8>().unwrap_or(0)) => {}
            Some(_) => return Err(bad()),
        }
        Ok(Period(text.to_owned()))
    }

    /// The period as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_years_quarters_or_months() {
        for good in ["2026", "2026-Q1", "2026-Q4", "2026-01", "2026-12"] {
            assert_eq!(Period::parse("/period", good).unwrap().as_str(), good);
        }
        for bad in [
            "26", "2026-Q5", "2026-13", "2026-00", "2026-1", "2026-", "2026-Q", "x026",
        ] {
            let error = Period::parse("/period", bad).unwrap_err();
            assert_eq!(error.pointer, "/period", "{bad}");
        }
    }

    #[test]
    fn kinds_travel_by_their_names() {
        assert_eq!(
            ItemKind::parse("livelihood_fund"),
            Some(ItemKind::LivelihoodFund)
        );
        assert_eq!(ItemKind::Finance.as_str(), "finance");
        assert_eq!(ItemState::parse("withdrawn"), Some(ItemState::Withdrawn));
    }
}
