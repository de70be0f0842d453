//! Time as the API shows it (RFC 3339, UTC) and the local date deadlines count from (China Standard Time).

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time, UTC+8, in which working days are counted.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

/// Now, in UTC.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A timestamp as stored and returned: RFC 3339 in UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("timestamps format")
}

/// The day in China on which `t` falls.
pub fn china_date(t: OffsetDateTime) -> Date {
    t.to_offset(CHINA).date()
}
