//! 检举控告 — a report from the public, validated into types that cannot hold
//! invalid values.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::wire::wire_enum;

/// The kind of misconduct reported: the six disciplines (六大纪律), 职务违法犯罪, or other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 政治纪律
    Political,
    /// 组织纪律
    Organizational,
    /// 廉洁纪律
    Integrity,
    /// 群众纪律
    Mass,
    /// 工作纪律
    Work,
    /// 生活纪律
    Life,
    /// 职务违法犯罪 — duty-related offences (监察法).
    DutyCrime,
    /// 其他
    Other,
}

impl Category {
    /// The code stored and returned by the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::Political => "political",
            Self::Organizational => "organizational",
            Self::Integrity => "integrity",
            Self::Mass => "mass",
            Self::Work => "work",
            Self::Life => "life",
            Self::DutyCrime => "duty_crime",
            Self::Other => "other",
        }
    }
}

/// 行政区划代码 — a 6-digit county-level or 12-digit village-level division code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a division code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = s.bytes().all(|b| b.is_ascii_digit());
        if digits && (s.len() == 6 || s.len() == 12) && !s.starts_with('0') {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be a 6- or 12-digit administrative division code".into())
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: a mainland mobile (11 digits) or a landline with area code.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Phone(..)")
    }
}

impl Phone {
    /// Parses a phone number; spaces and dashes are ignored.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let mobile = digits.len() == 11
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
        if all_digits && (mobile || landline) {
            Ok(Self(digits))
        } else {
            Err(
                "must be a mainland mobile number (11 digits) or a landline with its area code"
                    .into(),
            )
        }
    }

    /// The normalised number (digits only).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 居民身份证号码 — an 18-character resident ID number with a valid check character.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdNumber(..)")
    }
}

impl IdNumber {
    /// Parses an ID number and checks its ISO 7064 MOD 11-2 check character.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_uppercase();
        let bytes = s.as_bytes();
        let shape = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !shape {
            return Err("must be an 18-character resident ID number".into());
        }
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: &[u8; 11] = b"10X98765432";
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] == bytes[17] {
            Ok(Self(s))
        } else {
            Err("is not a valid resident ID number (its check character does not match)".into())
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 实名举报人 — who a real-name reporter is (检控 Art. 24): a name and a working contact.
/// Sensitive: encrypted at rest, never logged (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The reporter's name (or unit).
    pub name: String,
    /// A phone number that reaches them.
    pub phone: Phone,
    /// Their ID number, if given.
    pub id_number: Option<IdNumber>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(..)")
    }
}

/// 被反映人 — the person or unit the report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Name of the person or unit.
    pub name: String,
    /// Their work unit, if a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Their position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// Metadata of an attachment uploaded separately (the file itself is not in the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    #[serde(deserialize_with = "crate::wire::whole_number")]
    pub size_bytes: u64,
    /// Its SHA-256, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A report's body as submitted (shape already checked by `schemas/report.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReportInput {
    /// Category code.
    pub category: Category,
    /// Division code.
    pub division_code: String,
    /// Who it is about.
    pub subject: Subject,
    /// What happened.
    pub content: String,
    /// Attachment metadata.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Present for real-name reports.
    #[serde(default)]
    pub reporter: Option<ReporterInput>,
    /// The reporter says it concerns the head of the commission that would
    /// handle it (检控 Art. 15).
    #[serde(default)]
    pub concerns_commission_head: bool,
    /// The disclosed item (监督一点通) the report complains about, if any.
    #[serde(default)]
    pub disclosure_item: Option<String>,
}

/// A real-name reporter as submitted.
#[derive(Clone, Deserialize)]
pub struct ReporterInput {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Optional ID number.
    #[serde(default)]
    pub id_number: Option<String>,
}

impl std::fmt::Debug for ReporterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterInput(..)")
    }
}

/// A validated report.
#[derive(Debug, Clone)]
pub struct Report {
    /// What kind of misconduct.
    pub category: Category,
    /// Where.
    pub division: DivisionCode,
    /// About whom.
    pub subject: Subject,
    /// What happened.
    pub content: String,
    /// Attachment metadata.
    pub attachments: Vec<Attachment>,
    /// `Some` for a real-name report, `None` for an anonymous one (检控 Art. 29).
    pub identity: Option<Identity>,
    /// About the head of the commission that would handle it: it goes to
    /// the next-higher commission, with no local copy (检控 Art. 15).
    pub concerns_commission_head: bool,
    /// The disclosed item it complains about (投诉): its division handles
    /// it in the complaint loop instead of the commission's triage.
    pub disclosure_item: Option<String>,
}

impl Report {
    /// Validates a submitted report, collecting every problem with its JSON pointer.
    pub fn parse(input: ReportInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let division = DivisionCode::parse(&input.division_code)
            .map_err(|m| errors.push(FieldError::new("/division_code", m)))
            .ok();
        if input.content.trim().chars().count() < 10 {
            errors.push(FieldError::new(
                "/content",
                "must describe what happened in at least 10 characters",
            ));
        }
        if input.subject.name.trim().is_empty() {
            errors.push(FieldError::new("/subject/name", "must not be blank"));
        }
        let identity = input.reporter.and_then(|r| {
            if r.name.trim().is_empty() {
                errors.push(FieldError::new("/reporter/name", "must not be blank"));
            }
            let phone = Phone::parse(&r.phone)
                .map_err(|m| errors.push(FieldError::new("/reporter/phone", m)))
                .ok();
            let id_number = match r.id_number.as_deref().map(IdNumber::parse) {
                Some(Ok(id)) => Some(id),
                Some(Err(m)) => {
                    errors.push(FieldError::new("/reporter/id_number", m));
                    None
                }
                None => None,
            };
            Some(Identity {
                name: r.name.trim().to_owned(),
                phone: phone?,
                id_number,
            })
        });
        if input.concerns_commission_head && input.disclosure_item.is_some() {
            errors.push(FieldError::new(
                "/disclosure_item",
                "a complaint against a disclosed item goes to the item's division; a report about the commission's head is a report of its own",
            ));
        }
        match (errors.is_empty(), division) {
            (true, Some(division)) => Ok(Self {
                category: input.category,
                division,
                subject: input.subject,
                content: input.content,
                attachments: input.attachments,
                identity,
                concerns_commission_head: input.concerns_commission_head,
                disclosure_item: input.disclosure_item,
            }),
            _ => Err(errors),
        }
    }

    /// Whether the reporter gave their name and contact (检控 Art. 24).
    pub fn is_real_name(&self) -> bool {
        self.identity.is_some()
    }
}

wire_enum! {
    /// 办理状态 — where a report stands, as the reporter sees it.
    pub enum ReportStatus {
        /// 已收到 — received, awaiting triage.
        Received = "received",
        /// 已受理 — accepted; its clues are in progress.
        Accepted = "accepted",
        /// 不予受理 — out of scope (检控 Art. 13).
        NotAccepted = "not_accepted",
        /// 重复举报 — a duplicate (检控 Art. 14).
        Duplicate = "duplicate",
        /// 已移送 — transferred to the competent commission.
        Transferred = "transferred",
        /// 已上报 — sent up to the higher level.
        SentUp = "sent_up",
        /// 已办结 — its clues have ended; the result is given.
        Concluded = "concluded",
        /// 重新办理 — reopened by an objection with new evidence.
        Reopened = "reopened",
        /// 已结束 — rated, or the feedback window passed.
        Closed = "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(reporter: Option<ReporterInput>) -> ReportInput {
        ReportInput {
            category: Category::Integrity,
            division_code: "370402".into(),
            subject: Subject {
                name: "张某".into(),
                unit: Some("某镇政府".into()),
                position: None,
            },
            content: "村集体资金被挪用于个人消费，涉及金额较大。".into(),
            attachments: vec![],
            reporter,
            concerns_commission_head: false,
            disclosure_item: None,
        }
    }

    fn reporter(phone: &str, id: Option<&str>) -> Option<ReporterInput> {
        Some(ReporterInput {
            name: "李四".into(),
            phone: phone.into(),
            id_number: id.map(Into::into),
        })
    }

    #[test]
    fn anonymous_and_real_name_reports_parse() {
        assert!(!Report::parse(input(None)).unwrap().is_real_name());
        let r =
            Report::parse(input(reporter("138 0013 8000", Some("11010519491231002x")))).unwrap();
        let id = r.identity.unwrap();
        assert_eq!(id.phone.as_str(), "13800138000");
        assert_eq!(id.id_number.unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let mut bad = input(reporter("12345", Some("110105194912310021")));
        bad.division_code = "37".into();
        bad.content = "短".into();
        let errors = Report::parse(bad).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/division_code",
                "/content",
                "/reporter/phone",
                "/reporter/id_number"
            ]
        );
    }

    #[test]
    fn sensitive_values_never_print() {
        let r = Report::parse(input(reporter("13800138000", None))).unwrap();
        let printed = format!("{r:?}");
        assert!(
            !printed.contains("13800138000") && !printed.contains("李四"),
            "{printed}"
        );
    }

    #[test]
    fn phone_and_division_rules() {
        assert!(Phone::parse("0632-1234567").is_ok());
        assert!(Phone::parse("12800138000").is_err());
        assert!(DivisionCode::parse("370402001001").is_ok());
        assert!(DivisionCode::parse("037040").is_err());
    }
}
