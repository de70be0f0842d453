//! How values travel: enums as names (JSON, SQL, task ids) — one macro so
//! every such enum has the same `as_str`, `parse`, `ALL` and serde names —
//! and whole numbers as JSON Schema's `integer` admits them.

/// Declares an enum whose variants each have a wire name.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }

            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $wire => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;

/// A whole number written `2` or `2.0`: JSON Schema's `integer` admits both,
/// so a body its schema accepts is read the same way (`deserialize_with`).
pub fn whole_number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize as _;
    use serde::de::Error as _;
    /// Beyond this an `f64` no longer holds every whole number.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let n = f64::deserialize(d)?;
    if n.fract() != 0.0 || !(0.0..=EXACT).contains(&n) {
        return Err(D::Error::custom("must be a whole number"));
    }
    T::try_from(n as u64).map_err(|_| D::Error::custom("is out of range"))
}

/// [`whole_number`] for an optional field: with `#[serde(default,
/// deserialize_with = "…")]`, absent is `None`.
pub fn some_whole_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    whole_number(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::{some_whole_number, whole_number};

    #[derive(serde::Deserialize)]
    struct Months {
        #[serde(deserialize_with = "whole_number")]
        n: u32,
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        let read = |json: &str| serde_json::from_str::<Months>(json).map(|m| m.n);
        assert_eq!(read(r#"{"n": 2}"#).unwrap(), 2);
        assert_eq!(read(r#"{"n": 2.0}"#).unwrap(), 2);
        assert!(read(r#"{"n": 2.5}"#).is_err());
        assert!(read(r#"{"n": -1}"#).is_err());
        assert!(read(r#"{"n": 5000000000}"#).is_err(), "beyond u32");
    }

    #[derive(serde::Deserialize)]
    struct Maybe {
        #[serde(default, deserialize_with = "some_whole_number")]
        n: Option<u32>,
    }

    #[test]
    fn an_optional_whole_number_may_be_absent() {
        let read = |json: &str| serde_json::from_str::<Maybe>(json).map(|m| m.n);
        assert_eq!(read("{}").unwrap(), None);
        assert_eq!(read(r#"{"n": 6.0}"#).unwrap(), Some(6));
        assert!(read(r#"{"n": 6.5}"#).is_err());
    }
}
