//! Number matchers (exact, a range, or "now" in Unix or RFC 868 seconds within a tolerance) and
//! number generators, built on the number values of `spec::data::number` (re-exported here).
//!
//! In: YAML through serde. Out: [`NumberMatch`], [`RawNumberGen`]; evaluation against the
//! values of a case. No I/O: the time a "now" matcher compares with is passed in.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::error::ModelError;
use crate::spec::data::Env;
pub use crate::spec::data::number::{NumExpr, Order, RFC868_OFFSET, RawBinary, Width, number_of};
use crate::spec::duration::Dur;

/// Which clock a "now" matcher reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Epoch {
    /// Seconds since 1970-01-01 UTC.
    Unix,
    /// Seconds since 1900-01-01 UTC, as RFC 868 (the time protocol) counts.
    Rfc868,
}

/// What a received number must be.
#[derive(Debug, Clone)]
pub enum NumberCheck {
    Any,
    Equals(NumExpr),
    Range { min: u64, max: u64 },
    Now { epoch: Epoch, tolerance: Duration },
}

/// A number matcher as written: `{size: 4, order: big, now: rfc868, tolerance: 5s}`.
#[derive(Debug, Clone)]
pub struct NumberMatch {
    pub width: Width,
    pub check: NumberCheck,
}

/// A number matcher for one case: the accepted range, and how to describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRange {
    pub width: Width,
    pub lo: u64,
    pub hi: u64,
    /// e.g. "the time now in RFC 868 seconds (3_9...), within 5s".
    pub what: String,
    /// For "now" matchers: the epoch, so a report can recognise a number counted from the
    /// other one.
    pub epoch: Option<Epoch>,
}

impl NumberMatch {
    /// The accepted range for one case; `now` is the current Unix time in seconds.
    pub fn resolve(&self, env: &Env, now: u64) -> NumberRange {
        let width = self.width;
        let (lo, hi, what, epoch) = match &self.check {
            NumberCheck::Any => (0, width.max(), "any number".to_string(), None),
            NumberCheck::Equals(expr) => {
                let n = expr.eval(env);
                // A negative number is expected in two's complement, as `binary` writes it.
                let bits = if n < 0 {
                    n as u64 & width.max()
                } else {
                    n as u64
                };
                (bits, bits, n.to_string(), None)
            }
            NumberCheck::Range { min, max } => {
                (*min, *max, format!("a number from {min} to {max}"), None)
            }
            NumberCheck::Now { epoch, tolerance } => {
                let t = match epoch {
                    Epoch::Unix => now,
                    Epoch::Rfc868 => now + RFC868_OFFSET,
                };
                let slack = tolerance.as_secs().max(1);
                let name = match epoch {
                    Epoch::Unix => "Unix seconds",
                    Epoch::Rfc868 => "RFC 868 seconds (since 1900)",
                };
                (
                    t.saturating_sub(slack),
                    t.saturating_add(slack),
                    format!("the time now in {name}, {t}, within {slack}s"),
                    Some(*epoch),
                )
            }
        };
        NumberRange {
            width,
            lo,
            hi: hi.min(width.max()),
            what,
            epoch,
        }
    }

    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        if let NumberCheck::Equals(expr) = &self.check {
            expr.vars(out);
        }
    }
}

impl NumberRange {
    pub fn accepts(&self, n: u64) -> bool {
        (self.lo..=self.hi).contains(&n)
    }

    pub fn describe(&self) -> String {
        format!("a {} number: {}", self.width, self.what)
    }

    /// A likely cause when `n` was refused, if there is one.
    pub fn hint(&self, n: u64) -> Option<String> {
        let near = |x: u64| x.abs_diff(self.lo / 2 + self.hi / 2) <= 86_400;
        match self.epoch {
            Some(Epoch::Rfc868) if near(n + RFC868_OFFSET) => Some(
                "it looks like Unix time: RFC 868 counts seconds from 1900, 2208988800 more than from 1970"
                    .into(),
            ),
            Some(Epoch::Unix) if n >= RFC868_OFFSET && near(n - RFC868_OFFSET) => {
                Some("it looks like seconds since 1900 (RFC 868), not since 1970".into())
            }
            _ if self.width.size > 1 && {
                let swapped = Width {
                    little: !self.width.little,
                    ..self.width
                };
                self.accepts(swapped.decode(&self.width.encode(n)))
            } =>
            {
                Some("the bytes are right in the other byte order".into())
            }
            _ => None,
        }
    }
}

/// The fields of a number matcher, shared by `expect: {number: ...}` and sequence parts.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNumberMatch {
    /// 1, 2, 4 or 8 bytes.
    pub size: u8,
    /// `big` (network byte order, the default) or `little`.
    pub order: Option<Order>,
    /// Exactly this number (a literal, a generated or captured value, `{length_of: NAME}`).
    pub equals: Option<NumExpr>,
    pub min: Option<u64>,
    pub max: Option<u64>,
    /// The current time, in `unix` or `rfc868` seconds.
    pub now: Option<Epoch>,
    /// How far from now the number may be (with `now`; default 2s).
    pub tolerance: Option<Dur>,
}

impl TryFrom<RawNumberMatch> for NumberMatch {
    type Error = ModelError;
    fn try_from(raw: RawNumberMatch) -> Result<Self, ModelError> {
        let width = Width::new(raw.size, raw.order)?;
        let check = match (raw.equals, raw.min, raw.max, raw.now, raw.tolerance) {
            (None, None, None, None, None) => NumberCheck::Any,
            (Some(expr), None, None, None, None) => NumberCheck::Equals(expr),
            (None, min, max, None, None) if min.is_some() || max.is_some() => {
                let (min, max) = (min.unwrap_or(0), max.unwrap_or(width.max()));
                if min > max {
                    return Err(ModelError::MinAboveMax { min, max });
                }
                if min > width.max() {
                    return Err(ModelError::MinTooBig {
                        min,
                        size: width.size,
                    });
                }
                NumberCheck::Range { min, max }
            }
            (None, None, None, Some(epoch), tolerance) => NumberCheck::Now {
                epoch,
                tolerance: tolerance.map_or(Duration::from_secs(2), Dur::get),
            },
            (None, None, None, None, Some(_)) => return Err(ModelError::ToleranceWithoutNow),
            _ => return Err(ModelError::NumberSeveral),
        };
        Ok(NumberMatch { width, check })
    }
}

/// `number: {size: 4, order: big, min: 0, max: 1000}` in `generate`. Without `size` the
/// number has no binary form: its bytes are its decimal text (`{min: 1, max: 1000}`). A
/// negative bound, or `signed: true`, makes it signed (`{min: -100, max: 100}`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNumberGen {
    /// 1, 2, 4 or 8 bytes when it is sent in binary; leave it out for a number written as
    /// decimal text.
    pub size: Option<u8>,
    pub order: Option<Order>,
    /// Two's complement in binary, a `-` in decimal text. A negative `min` or `max` implies
    /// it; without bounds, `signed: true` gives the whole range of the size (`-128` to `127`
    /// for 1 byte, any 64-bit integer as decimal text).
    pub signed: Option<bool>,
    // Read wider than any number, so that a bound that does not fit is named in a message.
    #[schemars(range(min = i64::MIN, max = u64::MAX))]
    pub min: Option<i128>,
    #[schemars(range(min = i64::MIN, max = u64::MAX))]
    pub max: Option<i128>,
}

impl RawNumberGen {
    /// Whether the generated number is signed: `signed: true`, or a negative bound.
    pub fn is_signed(&self) -> Result<bool, ModelError> {
        let negative = self.min.is_some_and(|n| n < 0) || self.max.is_some_and(|n| n < 0);
        match self.signed {
            Some(false) if negative => Err(ModelError::UnsignedNegative),
            Some(signed) => Ok(signed),
            None => Ok(negative),
        }
    }

    /// The bounds of an unsigned number as `u64`s (its width's range when left out), or why
    /// one does not fit.
    pub fn unsigned_bounds(&self, width: Width) -> Result<(u64, u64), ModelError> {
        let bound = |n: Option<i128>, name: &'static str, default: u64| match n {
            None => Ok(default),
            Some(n) => u64::try_from(n).map_err(|_| ModelError::BoundMisfit {
                name,
                why: width.misfit(n),
            }),
        };
        Ok((
            bound(self.min, "min", 0)?,
            bound(self.max, "max", width.max())?,
        ))
    }

    /// The signed layout and the bounds of a signed number (its width's range when left
    /// out), or why they do not fit.
    pub fn signed_bounds(&self, width: Width) -> Result<(Width, i64, i64), ModelError> {
        let width = width.with_sign(true);
        let (lo, hi) = width.range();
        let bound = |n: Option<i128>, name: &'static str, default: i128| {
            let n = n.unwrap_or(default);
            // Every signed range is inside i64's: a bound that fits is an i64.
            (lo..=hi)
                .contains(&n)
                .then_some(n as i64)
                .ok_or_else(|| ModelError::BoundMisfit {
                    name,
                    why: width.misfit(n),
                })
        };
        let (min, max) = (bound(self.min, "min", lo)?, bound(self.max, "max", hi)?);
        if min > max {
            return Err(ModelError::SignedMinAboveMax { min, max });
        }
        Ok((width, min, max))
    }

    /// How the generated number is laid out: binary of `size` bytes, or decimal text.
    pub fn width(&self) -> Result<Width, ModelError> {
        match (self.size, self.order) {
            (Some(size), order) => Ok(Width::new(size, order)?),
            (None, None) => Ok(Width::DECIMAL),
            (None, Some(_)) => Err(ModelError::OrderWithoutSize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_encode_and_decode_both_orders() {
        let be = Width::new(4, None).unwrap();
        let le = Width::new(4, Some(Order::Little)).unwrap();
        assert_eq!(be.encode(0x0102_0304), vec![1, 2, 3, 4]);
        assert_eq!(le.encode(0x0102_0304), vec![4, 3, 2, 1]);
        assert_eq!(be.decode(&[1, 2, 3, 4]), 0x0102_0304);
        assert_eq!(le.decode(&[4, 3, 2, 1]), 0x0102_0304);
        assert_eq!(Width::new(2, None).unwrap().max(), 65_535);
        assert_eq!(Width::new(8, None).unwrap().max(), u64::MAX);
        assert!(Width::new(3, None).is_err());
    }

    #[test]
    fn a_1970_clock_is_recognised_by_an_rfc868_matcher() {
        let m = NumberMatch {
            width: Width::new(4, None).unwrap(),
            check: NumberCheck::Now {
                epoch: Epoch::Rfc868,
                tolerance: Duration::from_secs(5),
            },
        };
        let now = 1_796_000_000;
        let range = m.resolve(&Env::new(), now);
        assert!(range.accepts(now + RFC868_OFFSET + 3));
        assert!(!range.accepts(now + RFC868_OFFSET + 9));
        assert!(!range.accepts(now));
        assert!(range.hint(now).unwrap().contains("Unix time"));
    }

    #[test]
    fn a_number_without_a_size_is_its_decimal_text() {
        let raw = RawNumberGen {
            max: Some(1000),
            ..RawNumberGen::default()
        };
        let width = raw.width().unwrap();
        assert_eq!(width.encode(407), b"407");
        assert_eq!(width.decode(b"407"), 407);
        assert_eq!(width.max(), u64::MAX);
        assert_eq!(width.to_string(), "decimal text");
        let ordered = RawNumberGen {
            order: Some(Order::Little),
            ..RawNumberGen::default()
        };
        let err = ordered.width().unwrap_err().to_string();
        assert!(err.contains("give `size` too"), "{err}");
    }

    #[test]
    fn swapped_bytes_are_recognised() {
        let m = NumberMatch {
            width: Width::new(2, None).unwrap(),
            check: NumberCheck::Equals(NumExpr::Literal(0x0102)),
        };
        let range = m.resolve(&Env::new(), 0);
        assert!(range.hint(0x0201).unwrap().contains("other byte order"));
    }

    #[test]
    fn a_negative_number_is_expected_in_two_complement() {
        let width = Width::DECIMAL.with_sign(true);
        let env = Env::from([(
            "by".to_string(),
            crate::spec::Value::Number {
                value: width.bits(-5).unwrap(),
                width,
            },
        )]);
        let m = NumberMatch {
            width: Width::new(2, None).unwrap(),
            check: NumberCheck::Equals(NumExpr::Var("by".into())),
        };
        let range = m.resolve(&env, 0);
        assert!(range.accepts(0xfffb));
        assert!(!range.accepts(5));
        assert_eq!(range.describe(), "a 16-bit big-endian number: -5");
    }
}
