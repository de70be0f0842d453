//! A bound on a JSON body's shape, checked on the raw bytes before a
//! `serde_json::Value` is built: a 1 MiB body of tiny values would become
//! tens of MiB of `Value`s and could push an instance — and every request
//! it is serving — over its memory limit. No body of this API comes near
//! these bounds; a 20,000-character report is one value.

/// The most values (scalars, arrays, objects) a body may hold.
pub(crate) const MAX_VALUES: usize = 4096;
/// The deepest a body may nest.
pub(crate) const MAX_DEPTH: usize = 32;

/// Counts values and nesting in one pass, skipping over strings; what is
/// not valid JSON is left for the parser to report.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    let (mut values, mut depth) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    let mut in_scalar = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        let starts_value = match b {
            b'"' => {
                in_string = true;
                true
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("the body nests deeper than {MAX_DEPTH} levels"));
                }
                true
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                false
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => false,
            // Numbers, true, false, null: count each run once.
            _ => !in_scalar,
        };
        in_scalar = !matches!(
            b,
            b'"' | b'[' | b'{' | b']' | b'}' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
        );
        if starts_value {
            values += 1;
            if values > MAX_VALUES {
                return Err(format!("the body holds more than {MAX_VALUES} values"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_bodies_pass_and_floods_do_not() {
        let report = r#"{"category":"integrity","content":"a [string] with {braces}, \"quotes\" and 1,2,3","n":[1,2.5,true,null]}"#;
        assert_eq!(check(report.as_bytes()), Ok(()));
        let long = format!("{{\"content\":\"{}\"}}", "字".repeat(20_000));
        assert_eq!(check(long.as_bytes()), Ok(()));

        let flat = format!("[{}0]", "0,".repeat(MAX_VALUES));
        assert!(check(flat.as_bytes()).unwrap_err().contains("values"));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(check(deep.as_bytes()).unwrap_err().contains("nests"));
        let fits = format!("[{}0]", "0,".repeat(MAX_VALUES - 2));
        assert_eq!(check(fits.as_bytes()), Ok(()));
    }
}
