//! Query-string parameters: decoded pairs, and the 400 that names a bad one.

use spin_sdk::http::StatusCode;

use crate::api::ApiError;

/// 400 naming the query parameter `name` (as the pointer `/name`).
pub fn bad(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, &format!("/{name}"), message)
}

/// A whole number in `range`, else 400 naming the parameter and the range.
pub fn number<T>(name: &str, value: &str, range: std::ops::RangeInclusive<T>) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    value
        .parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            bad(
                name,
                format!("must be {} to {}", range.start(), range.end()),
            )
        })
}

/// The `name=value` pairs of a query string, percent-decoded, in order;
/// 400 naming the first parameter whose value is not valid percent-encoded
/// UTF-8.
pub fn pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name).ok_or_else(|| bad(name, "is not valid percent-encoding"))?;
            let value = decode(raw).ok_or_else(|| bad(&name, "is not valid percent-encoding"))?;
            Ok((name, value))
        })
        .collect()
}

/// Decodes `%XX` and `+`; `None` for malformed input.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_in_order() {
        let got = pairs("org=370402&since=2026-11-27T08%3A00%3A00Z&q=a+b&flag").unwrap();
        let want = [
            ("org", "370402"),
            ("since", "2026-11-27T08:00:00Z"),
            ("q", "a b"),
            ("flag", ""),
        ];
        assert_eq!(
            got,
            want.map(|(n, v)| (n.to_owned(), v.to_owned())).to_vec()
        );
    }

    #[test]
    fn numbers_are_bounded() {
        assert_eq!(number("limit", "50", 1..=500).unwrap(), 50);
        for bad in ["0", "501", "-1", "1.5", "many", ""] {
            let error = number("limit", bad, 1..=500).unwrap_err();
            assert_eq!(error.message(), "must be 1 to 500", "{bad:?}");
        }
    }

    #[test]
    fn malformed_encoding_names_the_parameter() {
        for query in ["limit=%zz", "limit=%4", "limit=%ff"] {
            let error = pairs(query).unwrap_err();
            assert!(error.message().contains("percent-encoding"), "{query}");
        }
    }
}
