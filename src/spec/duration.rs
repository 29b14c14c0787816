//! Durations as spec authors write them: `200ms`, `2s`, `1.5s`, `1m`.
//!
//! In: a YAML string. Out: a [`Dur`], always positive and at most one hour, so an absurd
//! deadline is a load error instead of a run that hangs for a day.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The longest wait a spec may ask for.
pub const MAX: Duration = Duration::from_secs(3600);

/// A positive duration of at most [`MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// Why a text is not a [`Dur`]; each variant keeps the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{text}` has no unit: write e.g. `{text}ms` or `{text}s`")]
    NoUnit { text: String },
    #[error("`{text}` is not a duration such as `200ms` or `2s`")]
    NotANumber { text: String },
    #[error("unknown unit `{unit}` in `{text}`: use `ms`, `s` or `m`")]
    UnknownUnit { unit: String, text: String },
    #[error("`{text}` must be a positive duration")]
    NotPositive { text: String },
    #[error("`{text}` is longer than the limit of 1 hour")]
    TooLong { text: String },
}

impl DurationError {
    /// A duration is read from a spec or from the command line: either way it is the
    /// user's text that is wrong.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

impl FromStr for Dur {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, DurationError> {
        let text = text.trim();
        let owned = || text.to_string();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .ok_or_else(|| DurationError::NoUnit { text: owned() })?;
        let (number, unit) = text.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| DurationError::NotANumber { text: owned() })?;
        let scale = match unit.trim() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            other => {
                return Err(DurationError::UnknownUnit {
                    unit: other.to_string(),
                    text: owned(),
                });
            }
        };
        let seconds = value * scale;
        if !seconds.is_finite() || seconds <= 0.0 {
            return Err(DurationError::NotPositive { text: owned() });
        }
        if seconds > MAX.as_secs_f64() {
            return Err(DurationError::TooLong { text: owned() });
        }
        Ok(Dur(Duration::from_secs_f64(seconds)))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurVisitor;
        impl Visitor<'_> for DurVisitor {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `200ms` or `2s`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "`{v}` has no unit: write e.g. `{v}ms` or `{v}s`"
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(format!("`{v}` has no unit: write e.g. `{v}s`")))
            }
        }
        deserializer.deserialize_any(DurVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("200ms", 200)]
    #[case("2s", 2000)]
    #[case("1.5s", 1500)]
    #[case("1m", 60_000)]
    #[case(" 5ms ", 5)]
    fn parses_units(#[case] text: &str, #[case] ms: u128) {
        assert_eq!(text.parse::<Dur>().map(|d| d.0.as_millis()), Ok(ms));
    }

    #[rstest]
    #[case("5", "no unit")]
    #[case("-1s", "positive")]
    #[case("0s", "positive")]
    #[case("2h", "unknown unit")]
    #[case("3601s", "limit of 1 hour")]
    #[case("abc", "not a duration")]
    #[case("1e999s", "unknown unit")]
    fn rejects_absurd_values(#[case] text: &str, #[case] says: &str) {
        let err = text.parse::<Dur>().unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        let err = err.to_string();
        assert!(err.contains(says), "{err}");
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Dur(Duration::from_millis(1500)).to_string(), "1500ms");
        assert_eq!(Dur(Duration::from_secs(2)).to_string(), "2s");
    }
}
