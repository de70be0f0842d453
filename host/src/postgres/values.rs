//! Values between `spin:postgres` and PostgreSQL's binary wire format.
//!
//! Parameters are sent with the type they name (an `int32` is an `int4`,
//! a `datetime` a `timestamp`, a `timestamp` — Unix seconds — a
//! `timestamptz`), so PostgreSQL converts them by its own rules where a
//! column's type differs, as it does for any client; `db-null` is sent
//! untyped, so it fits any column. Result columns are read by their type's
//! OID from the binary format sqlx asks for; a type the interface has no
//! variant for comes back as `unsupported` with its raw bytes.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::{TypeInfo as _, ValueRef as _};
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::bindings::spin::postgres::postgres::{DbDataType, DbValue, Interval, ParameterValue};

/// OIDs of the built-in types this module reads or writes (`pg_type.oid`,
/// fixed for built-in types).
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const INT4_ARRAY: u32 = 1007;
    pub const TEXT_ARRAY: u32 = 1009;
    pub const VARCHAR_ARRAY: u32 = 1015;
    pub const INT8_ARRAY: u32 = 1016;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC_ARRAY: u32 = 1231;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// PostgreSQL's epoch, 2000-01-01, as a Julian day and as Unix seconds.
const EPOCH_JULIAN_DAY: i32 = 2_451_545;
const EPOCH_UNIX_SECONDS: i64 = 946_684_800;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// One parameter, encoded: its type (0 lets PostgreSQL infer it) and bytes
/// (none for NULL).
#[derive(Debug)]
pub struct Param {
    oid: u32,
    bytes: Option<Vec<u8>>,
}

impl sqlx::Type<Postgres> for Param {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for Param {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match &self.bytes {
            Some(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(PgTypeInfo::with_oid(Oid(self.oid)))
    }
}

/// Encodes one parameter; the error names what is wrong with it.
pub fn encode(value: ParameterValue) -> Result<Param, String> {
    let typed = |oid: u32, bytes: Vec<u8>| {
        Ok(Param {
            oid,
            bytes: Some(bytes),
        })
    };
    match value {
        ParameterValue::Boolean(b) => typed(oid::BOOL, vec![u8::from(b)]),
        ParameterValue::Int8(i) => typed(oid::INT2, i16::from(i).to_be_bytes().to_vec()),
        ParameterValue::Int16(i) => typed(oid::INT2, i.to_be_bytes().to_vec()),
        ParameterValue::Int32(i) => typed(oid::INT4, i.to_be_bytes().to_vec()),
        ParameterValue::Int64(i) => typed(oid::INT8, i.to_be_bytes().to_vec()),
        ParameterValue::Floating32(f) => typed(oid::FLOAT4, f.to_be_bytes().to_vec()),
        ParameterValue::Floating64(f) => typed(oid::FLOAT8, f.to_be_bytes().to_vec()),
        ParameterValue::Str(s) => typed(oid::TEXT, s.into_bytes()),
        ParameterValue::Binary(b) => typed(oid::BYTEA, b),
        ParameterValue::Date(d) => typed(oid::DATE, days(d)?.to_be_bytes().to_vec()),
        ParameterValue::Time(t) => typed(oid::TIME, micros_of_day(t)?.to_be_bytes().to_vec()),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            let micros =
                i64::from(days((y, mo, d))?) * MICROS_PER_DAY + micros_of_day((h, mi, s, ns))?;
            typed(oid::TIMESTAMP, micros.to_be_bytes().to_vec())
        }
        ParameterValue::Timestamp(seconds) => {
            let micros = seconds
                .checked_sub(EPOCH_UNIX_SECONDS)
                .and_then(|s| s.checked_mul(1_000_000))
                .ok_or("timestamp out of range")?;
            typed(oid::TIMESTAMPTZ, micros.to_be_bytes().to_vec())
        }
        ParameterValue::Uuid(text) => typed(oid::UUID, uuid_bytes(&text)?),
        ParameterValue::Jsonb(json) => {
            // jsonb's binary format: a version byte, then the text.
            let mut bytes = Vec::with_capacity(json.len() + 1);
            bytes.push(1);
            bytes.extend_from_slice(&json);
            typed(oid::JSONB, bytes)
        }
        ParameterValue::Decimal(text) => typed(oid::NUMERIC, numeric_bytes(&text)?),
        ParameterValue::ArrayInt32(items) => typed(
            oid::INT4_ARRAY,
            array(oid::INT4, items, |i| Ok(i.to_be_bytes().to_vec()))?,
        ),
        ParameterValue::ArrayInt64(items) => typed(
            oid::INT8_ARRAY,
            array(oid::INT8, items, |i| Ok(i.to_be_bytes().to_vec()))?,
        ),
        ParameterValue::ArrayStr(items) => typed(
            oid::TEXT_ARRAY,
            array(oid::TEXT, items, |s| Ok(s.into_bytes()))?,
        ),
        ParameterValue::ArrayDecimal(items) => typed(
            oid::NUMERIC_ARRAY,
            array(oid::NUMERIC, items, |s| numeric_bytes(&s))?,
        ),
        ParameterValue::Interval(Interval {
            micros,
            days,
            months,
        }) => {
            let mut bytes = micros.to_be_bytes().to_vec();
            bytes.extend_from_slice(&days.to_be_bytes());
            bytes.extend_from_slice(&months.to_be_bytes());
            typed(oid::INTERVAL, bytes)
        }
        ParameterValue::RangeInt32(_)
        | ParameterValue::RangeInt64(_)
        | ParameterValue::RangeDecimal(_) => {
            Err("range parameters are not supported by this host".into())
        }
        ParameterValue::DbNull => Ok(Param {
            oid: 0,
            bytes: None,
        }),
    }
}

/// The interface's name for a column's type.
pub fn data_type(info: &PgTypeInfo) -> DbDataType {
    match info.oid().map_or(0, |o| o.0) {
        oid::BOOL => DbDataType::Boolean,
        oid::CHAR => DbDataType::Int8,
        oid::INT2 => DbDataType::Int16,
        oid::INT4 => DbDataType::Int32,
        oid::INT8 => DbDataType::Int64,
        oid::FLOAT4 => DbDataType::Floating32,
        oid::FLOAT8 => DbDataType::Floating64,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME => DbDataType::Str,
        oid::BYTEA => DbDataType::Binary,
        oid::DATE => DbDataType::Date,
        oid::TIME => DbDataType::Time,
        oid::TIMESTAMP | oid::TIMESTAMPTZ => DbDataType::Datetime,
        oid::UUID => DbDataType::Uuid,
        oid::JSON | oid::JSONB => DbDataType::Jsonb,
        oid::NUMERIC => DbDataType::Decimal,
        oid::INT4_ARRAY => DbDataType::ArrayInt32,
        oid::INT8_ARRAY => DbDataType::ArrayInt64,
        oid::TEXT_ARRAY | oid::VARCHAR_ARRAY => DbDataType::ArrayStr,
        oid::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        oid::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(info.name().to_owned()),
    }
}

/// Decodes one result value.
pub fn decode(value: PgValueRef<'_>) -> Result<DbValue, BoxDynError> {
    if value.is_null() {
        return Ok(DbValue::DbNull);
    }
    let oid = value.type_info().oid().map_or(0, |o| o.0);
    if value.format() == PgValueFormat::Text {
        return Ok(DbValue::Str(value.as_str()?.to_owned()));
    }
    let bytes = value.as_bytes()?;
    Ok(match oid {
        oid::BOOL => DbValue::Boolean(bytes.first().is_some_and(|b| *b != 0)),
        oid::CHAR => DbValue::Int8(i8::from_be_bytes(fixed(bytes)?)),
        oid::INT2 => DbValue::Int16(i16::from_be_bytes(fixed(bytes)?)),
        oid::INT4 => DbValue::Int32(i32::from_be_bytes(fixed(bytes)?)),
        oid::INT8 => DbValue::Int64(i64::from_be_bytes(fixed(bytes)?)),
        oid::FLOAT4 => DbValue::Floating32(f32::from_be_bytes(fixed(bytes)?)),
        oid::FLOAT8 => DbValue::Floating64(f64::from_be_bytes(fixed(bytes)?)),
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME => {
            DbValue::Str(std::str::from_utf8(bytes)?.to_owned())
        }
        oid::BYTEA => DbValue::Binary(bytes.to_vec()),
        oid::DATE => {
            let date = date_of(i32::from_be_bytes(fixed(bytes)?))?;
            DbValue::Date((date.year(), date.month() as u8, date.day()))
        }
        oid::TIME => {
            let t = time_of(i64::from_be_bytes(fixed(bytes)?))?;
            DbValue::Time((t.hour(), t.minute(), t.second(), t.nanosecond()))
        }
        oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            let date = date_of(i32::try_from(micros.div_euclid(MICROS_PER_DAY))?)?;
            let t = time_of(micros.rem_euclid(MICROS_PER_DAY))?;
            let at = PrimitiveDateTime::new(date, t);
            DbValue::Datetime((
                at.year(),
                at.month() as u8,
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                at.nanosecond(),
            ))
        }
        oid::UUID => DbValue::Uuid(uuid_text(bytes)?),
        oid::JSONB => DbValue::Jsonb(bytes.get(1..).unwrap_or_default().to_vec()),
        oid::JSON => DbValue::Jsonb(bytes.to_vec()),
        oid::NUMERIC => DbValue::Decimal(numeric_text(bytes)?),
        oid::INT4_ARRAY => {
            DbValue::ArrayInt32(elements(bytes, |b| Ok(i32::from_be_bytes(fixed(b)?)))?)
        }
        oid::INT8_ARRAY => {
            DbValue::ArrayInt64(elements(bytes, |b| Ok(i64::from_be_bytes(fixed(b)?)))?)
        }
        oid::TEXT_ARRAY | oid::VARCHAR_ARRAY => {
            DbValue::ArrayStr(elements(bytes, |b| Ok(std::str::from_utf8(b)?.to_owned()))?)
        }
        oid::NUMERIC_ARRAY => DbValue::ArrayDecimal(elements(bytes, numeric_text)?),
        oid::INTERVAL if bytes.len() == 16 => DbValue::Interval(Interval {
            micros: i64::from_be_bytes(fixed(&bytes[..8])?),
            days: i32::from_be_bytes(fixed(&bytes[8..12])?),
            months: i32::from_be_bytes(fixed(&bytes[12..])?),
        }),
        _ => DbValue::Unsupported(bytes.to_vec()),
    })
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], BoxDynError> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()).into())
}

/// Days since 2000-01-01.
fn days((year, month, day): (i32, u8, u8)) -> Result<i32, String> {
    let month = Month::try_from(month).map_err(|_| format!("month {month} does not exist"))?;
    let date = Date::from_calendar_date(year, month, day)
        .map_err(|_| format!("{year}-{month}-{day} is not a date"))?;
    Ok(date.to_julian_day() - EPOCH_JULIAN_DAY)
}

fn micros_of_day((hour, minute, second, nanos): (u8, u8, u8, u32)) -> Result<i64, String> {
    let t = Time::from_hms_nano(hour, minute, second, nanos)
        .map_err(|_| format!("{hour}:{minute}:{second}.{nanos:09} is not a time of day"))?;
    let (h, m, s, ns) = t.as_hms_nano();
    Ok(((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * 1_000_000 + i64::from(ns) / 1000)
}

fn date_of(days: i32) -> Result<Date, BoxDynError> {
    Ok(Date::from_julian_day(days + EPOCH_JULIAN_DAY)?)
}

fn time_of(micros: i64) -> Result<Time, BoxDynError> {
    let seconds = micros / 1_000_000;
    Ok(Time::from_hms_micro(
        u8::try_from(seconds / 3600)?,
        u8::try_from(seconds / 60 % 60)?,
        u8::try_from(seconds % 60)?,
        u32::try_from(micros % 1_000_000)?,
    )?)
}

fn uuid_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    match hex::decode(&digits) {
        Ok(bytes) if bytes.len() == 16 => Ok(bytes),
        _ => Err(format!("`{text}` is not a UUID")),
    }
}

fn uuid_text(bytes: &[u8]) -> Result<String, BoxDynError> {
    let hex = hex::encode(<[u8; 16]>::try_from(bytes)?);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// `numeric`'s binary format: the number of base-10000 digits, the weight
/// of the first, the sign, the display scale, then the digits.
const NUMERIC_NEGATIVE: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;

fn numeric_bytes(text: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("`{text}` is not a decimal number");
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("nan") {
        return Ok([0u16, 0, NUMERIC_NAN, 0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect());
    }
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let scale = u16::try_from(fraction.len()).map_err(|_| bad())?;
    // Align both parts on groups of four digits around the point.
    let pad = (4 - whole.len() % 4) % 4;
    let aligned_whole = format!("{}{whole}", "0".repeat(pad));
    let pad = (4 - fraction.len() % 4) % 4;
    let aligned_fraction = format!("{fraction}{}", "0".repeat(pad));
    let group = |s: &str| -> Vec<i16> {
        s.as_bytes()
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |n, d| n * 10 + i16::from(d - b'0')))
            .collect()
    };
    let whole_groups = group(&aligned_whole);
    let mut digits: Vec<i16> = whole_groups.clone();
    digits.extend(group(&aligned_fraction));
    let mut weight = i16::try_from(whole_groups.len()).map_err(|_| bad())? - 1;
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    weight -= i16::try_from(leading).map_err(|_| bad())?;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let sign = if negative && !digits.is_empty() {
        NUMERIC_NEGATIVE
    } else {
        0
    };
    let mut bytes = Vec::with_capacity(8 + digits.len() * 2);
    bytes.extend_from_slice(
        &i16::try_from(digits.len())
            .map_err(|_| bad())?
            .to_be_bytes(),
    );
    bytes.extend_from_slice(&weight.to_be_bytes());
    bytes.extend_from_slice(&sign.to_be_bytes());
    bytes.extend_from_slice(&scale.to_be_bytes());
    for d in digits {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    Ok(bytes)
}

fn numeric_text(bytes: &[u8]) -> Result<String, BoxDynError> {
    let word = |i: usize| -> Result<u16, BoxDynError> {
        Ok(u16::from_be_bytes(fixed(
            bytes.get(i * 2..i * 2 + 2).ok_or("numeric is cut short")?,
        )?))
    };
    let (count, weight, sign, scale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
    if sign == NUMERIC_NAN {
        return Ok("NaN".into());
    }
    let digits = (0..usize::from(count))
        .map(|i| word(4 + i))
        .collect::<Result<Vec<_>, _>>()?;
    // The digit groups from the highest needed to the last before the point.
    let mut whole = String::new();
    for position in 0..=weight.max(0) {
        let group = digits.get(position as usize).copied().unwrap_or(0);
        if whole.is_empty() {
            if weight >= 0 && group != 0 {
                whole = group.to_string();
            }
        } else {
            whole.push_str(&format!("{group:04}"));
        }
    }
    if whole.is_empty() {
        whole.push('0');
    }
    let mut fraction = String::new();
    let first_fraction_group = i32::from(weight) + 1;
    let mut index = first_fraction_group;
    while fraction.len() < usize::from(scale) {
        // Groups before the first stored digit (weight < -1) are zeros.
        let group = usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0);
        fraction.push_str(&format!("{group:04}"));
        index += 1;
    }
    fraction.truncate(usize::from(scale));
    let sign = if sign == NUMERIC_NEGATIVE { "-" } else { "" };
    Ok(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

/// A one-dimensional array's binary format.
fn array<T>(
    element_oid: u32,
    items: Vec<Option<T>>,
    encode: impl Fn(T) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let too_long = || "the array is too long".to_owned();
    let has_null = i32::from(items.iter().any(Option::is_none));
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&1i32.to_be_bytes());
    bytes.extend_from_slice(&has_null.to_be_bytes());
    bytes.extend_from_slice(&element_oid.to_be_bytes());
    bytes.extend_from_slice(
        &i32::try_from(items.len())
            .map_err(|_| too_long())?
            .to_be_bytes(),
    );
    bytes.extend_from_slice(&1i32.to_be_bytes());
    for item in items {
        match item {
            Some(item) => {
                let encoded = encode(item)?;
                let len = i32::try_from(encoded.len()).map_err(|_| too_long())?;
                bytes.extend_from_slice(&len.to_be_bytes());
                bytes.extend_from_slice(&encoded);
            }
            None => bytes.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    Ok(bytes)
}

/// The elements of a one-dimensional (or empty) array.
fn elements<T>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, BoxDynError>,
) -> Result<Vec<Option<T>>, BoxDynError> {
    let int = |at: usize| -> Result<i32, BoxDynError> {
        Ok(i32::from_be_bytes(fixed(
            bytes.get(at..at + 4).ok_or("array is cut short")?,
        )?))
    };
    let dimensions = int(0)?;
    if dimensions == 0 {
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err("only one-dimensional arrays are supported".into());
    }
    let count = usize::try_from(int(12)?)?;
    let mut at = 20;
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            items.push(None);
        } else {
            let end = at + usize::try_from(len)?;
            items.push(Some(decode(
                bytes.get(at..end).ok_or("array is cut short")?,
            )?));
            at = end;
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_survive_the_binary_format() {
        for (text, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("10000", "10000"),
            ("12345.678", "12345.678"),
            ("0.0001", "0.0001"),
            ("0.00001234", "0.00001234"),
            ("-98765432109876.50", "-98765432109876.50"),
            ("1.10", "1.10"),
            ("007.5", "7.5"),
            (".5", "0.5"),
            ("NaN", "NaN"),
        ] {
            let bytes = numeric_bytes(text).unwrap();
            assert_eq!(numeric_text(&bytes).unwrap(), expected, "{text}");
        }
        assert!(numeric_bytes("1e5").is_err());
        assert!(numeric_bytes("").is_err());
        assert!(numeric_bytes("-").is_err());
    }

    #[test]
    fn dates_times_and_uuids_round_trip() {
        assert_eq!(days((2000, 1, 1)).unwrap(), 0);
        assert_eq!(days((1999, 12, 31)).unwrap(), -1);
        let date = date_of(days((2026, 11, 27)).unwrap()).unwrap();
        assert_eq!(
            (date.year(), date.month() as u8, date.day()),
            (2026, 11, 27)
        );
        assert!(days((2026, 2, 30)).is_err());
        let micros = micros_of_day((13, 5, 9, 250_000_000)).unwrap();
        assert_eq!(
            time_of(micros).unwrap(),
            Time::from_hms_milli(13, 5, 9, 250).unwrap()
        );
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(uuid_text(&uuid_bytes(id).unwrap()).unwrap(), id);
        assert!(uuid_bytes("not-a-uuid").is_err());
    }

    #[test]
    fn arrays_round_trip() {
        let bytes = array(oid::INT4, vec![Some(1), None, Some(-3)], |i: i32| {
            Ok(i.to_be_bytes().to_vec())
        })
        .unwrap();
        let back = elements(&bytes, |b| Ok(i32::from_be_bytes(fixed(b)?))).unwrap();
        assert_eq!(back, vec![Some(1), None, Some(-3)]);
    }
}
