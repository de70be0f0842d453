//! 留置 — the term of a detention and who may extend it (监察法 Art. 47–48).

use time::Date;

use crate::deadline::{DETENTION, add_months};

/// Who must approve an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approver {
    /// 上一级监委 — the head of the commission that supervises the requesting one.
    HigherCommission,
    /// 国家监委 — the head of the commission at the top of the tree.
    NationalCommission,
}

impl Approver {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Approver::HigherCommission => "higher_commission",
            Approver::NationalCommission => "national_commission",
        }
    }
}

/// 延长留置 — the rule for the next extension of a detention (监察法 Art. 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionRule {
    /// The longest extension that may be granted, in months.
    pub max_months: u32,
    /// Who must approve it.
    pub approver: Approver,
    /// The article.
    pub article: &'static str,
}

/// The rule for a detention's next extension after `granted` ones, or the
/// reason no further extension exists.
pub fn next_extension(granted: u32) -> Result<ExtensionRule, &'static str> {
    match granted {
        0 => Ok(ExtensionRule {
            max_months: 3,
            approver: Approver::HigherCommission,
            article: "监察法 Art. 48 (one extension of up to 3 months)",
        }),
        1 => Ok(ExtensionRule {
            max_months: 2,
            approver: Approver::NationalCommission,
            article: "监察法 Art. 48 (a further 2 months, 国家监委 only)",
        }),
        _ => Err("监察法 Art. 48 allows one extension of 3 months and one further of 2 months"),
    }
}

/// 留置期限 — the last day of a detention announced on `announced` and
/// extended by each of `extensions` (in months), in order.
///
/// Each extension counts on from the end of the term it extends, so a term
/// that ends on a short month's last day is not stretched by recounting
/// from the announcement.
pub fn term_end(announced: Date, extensions: &[u32]) -> Date {
    let first = match DETENTION.span {
        crate::deadline::Span::Months(m) => add_months(announced, m),
        _ => unreachable!("the detention term is counted in months"),
    };
    extensions
        .iter()
        .fold(first, |end, months| add_months(end, *months))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_extension_counts_on_from_the_end_of_the_term() {
        // Announced 30 Nov: the term ends 28 Feb; three more months end
        // 28 May, not 30 May (which recounting six months from 30 Nov gives).
        let announced = date!(2026 - 11 - 30);
        assert_eq!(term_end(announced, &[]), date!(2027 - 02 - 28));
        assert_eq!(term_end(announced, &[3]), date!(2027 - 05 - 28));
        assert_eq!(term_end(announced, &[3, 2]), date!(2027 - 07 - 28));
    }

    #[test]
    fn extensions_follow_article_48() {
        assert_eq!(
            next_extension(0).unwrap().approver,
            Approver::HigherCommission
        );
        assert_eq!(next_extension(1).unwrap().max_months, 2);
        assert_eq!(
            next_extension(1).unwrap().approver,
            Approver::NationalCommission
        );
        assert!(next_extension(2).is_err());
    }
}
