//! Numbers in specs: fixed-width unsigned integers (their width and byte order), number
//! expressions (a literal, a generated or captured value, a length), and number matchers
//! (exact, a range, or "now" in Unix or RFC 868 seconds within a tolerance).
//!
//! In: YAML through serde. Out: [`Width`], [`NumExpr`], [`NumberMatch`]; evaluation against
//! the values of a case. No I/O: the time a "now" matcher compares with is passed in.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::spec::data::{Data, Env, Value, VarOrData};
use crate::spec::duration::Dur;

/// Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (Unix's).
pub const RFC868_OFFSET: u64 = 2_208_988_800;

/// How a number is laid out in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Width {
    /// 1, 2, 4 or 8 bytes; 0 for [`Width::DECIMAL`].
    pub size: u8,
    pub little: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Most significant byte first (network byte order), the default.
    #[default]
    Big,
    Little,
}

impl Width {
    /// A generated number with no binary form (no `size`): its bytes are its decimal text,
    /// and it may be anything up to `u64::MAX`.
    pub const DECIMAL: Width = Width {
        size: 0,
        little: false,
    };

    pub fn is_decimal(self) -> bool {
        self.size == 0
    }

    pub fn new(size: u8, order: Option<Order>) -> Result<Width, String> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(format!("`size: {size}`: a number is 1, 2, 4 or 8 bytes"));
        }
        Ok(Width {
            size,
            little: order.unwrap_or_default() == Order::Little,
        })
    }

    /// The largest number that fits.
    pub fn max(self) -> u64 {
        if self.size == 8 || self.is_decimal() {
            u64::MAX
        } else {
            (1u64 << (8 * u32::from(self.size))) - 1
        }
    }

    pub fn encode(self, n: u64) -> Vec<u8> {
        if self.is_decimal() {
            return n.to_string().into_bytes();
        }
        let all = if self.little {
            n.to_le_bytes()
        } else {
            n.to_be_bytes()
        };
        let size = usize::from(self.size);
        if self.little {
            all[..size].to_vec()
        } else {
            all[8 - size..].to_vec()
        }
    }

    /// The number in `bytes` (exactly `size` of them).
    pub fn decode(self, bytes: &[u8]) -> u64 {
        if self.is_decimal() {
            return std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
        }
        let mut n = 0u64;
        let mut push = |b: &u8| n = (n << 8) | u64::from(*b);
        if self.little {
            bytes.iter().rev().for_each(&mut push);
        } else {
            bytes.iter().for_each(&mut push);
        }
        n
    }
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.size, self.little) {
            (0, _) => f.write_str("decimal text"),
            (1, _) => f.write_str("1-byte"),
            (n, false) => write!(f, "{}-bit big-endian", 8 * u32::from(n)),
            (n, true) => write!(f, "{}-bit little-endian", 8 * u32::from(n)),
        }
    }
}

/// A number a spec computes with: a literal, a generated number (or a captured one, whose
/// bytes are read as decimal digits), or the length of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumExpr {
    Literal(u64),
    Var(String),
    LengthOf(Box<Data>),
}

impl NumExpr {
    /// The number for one case. Captured text that is not decimal digits counts as 0; the
    /// step that captured it is what to fix then.
    pub fn eval(&self, env: &Env) -> u64 {
        match self {
            NumExpr::Literal(n) => *n,
            NumExpr::Var(name) => env.get(name).map_or(0, number_of),
            NumExpr::LengthOf(data) => data.eval(env).len() as u64,
        }
    }

    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            NumExpr::Literal(_) => {}
            NumExpr::Var(name) => out.push(name),
            NumExpr::LengthOf(data) => data.vars(out),
        }
    }
}

/// A value read as a number: a number as itself, bytes as decimal text.
pub fn number_of(value: &Value) -> u64 {
    match value {
        Value::Number { value, .. } => *value,
        other => std::str::from_utf8(&other.bytes())
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0),
    }
}

impl<'de> Deserialize<'de> for NumExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NumExpr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, the name of a value, or `{length_of: NAME}`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumExpr, E> {
                Ok(NumExpr::Literal(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumExpr, E> {
                u64::try_from(v)
                    .map(NumExpr::Literal)
                    .map_err(|_| E::custom("a number here is 0 or more"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NumExpr, E> {
                Ok(NumExpr::Var(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<NumExpr, E> {
                Err(E::custom(crate::spec::data::BOOLEAN_NAME))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<NumExpr, M::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Raw {
                    length_of: VarOrData,
                }
                let raw = Raw::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(NumExpr::LengthOf(Box::new(raw.length_of.0)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl JsonSchema for NumExpr {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NumExpr".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A number: a literal, the name of a generated or captured value, or `{length_of: NAME}`",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string"},
                {"type": "object", "required": ["length_of"], "properties": {"length_of": {}}, "additionalProperties": false}
            ]
        })
    }
}

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
                (n, n, n.to_string(), None)
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
    type Error = String;
    fn try_from(raw: RawNumberMatch) -> Result<Self, String> {
        let width = Width::new(raw.size, raw.order)?;
        let check = match (raw.equals, raw.min, raw.max, raw.now, raw.tolerance) {
            (None, None, None, None, None) => NumberCheck::Any,
            (Some(expr), None, None, None, None) => NumberCheck::Equals(expr),
            (None, min, max, None, None) if min.is_some() || max.is_some() => {
                let (min, max) = (min.unwrap_or(0), max.unwrap_or(width.max()));
                if min > max {
                    return Err(format!("`min` {min} is larger than `max` {max}"));
                }
                if min > width.max() {
                    return Err(format!(
                        "`min` {min} does not fit in {} byte(s)",
                        width.size
                    ));
                }
                NumberCheck::Range { min, max }
            }
            (None, None, None, Some(epoch), tolerance) => NumberCheck::Now {
                epoch,
                tolerance: tolerance.map_or(Duration::from_secs(2), Dur::get),
            },
            (None, None, None, None, Some(_)) => {
                return Err("`tolerance` goes with `now: unix` or `now: rfc868`".into());
            }
            _ => {
                return Err(
                    "a number matcher checks one thing: `equals`, a range (`min`, `max`) or `now`"
                        .into(),
                );
            }
        };
        Ok(NumberMatch { width, check })
    }
}

/// `number: {size: 4, order: big, min: 0, max: 1000}` in `generate`. Without `size` the
/// number has no binary form: its bytes are its decimal text (`{min: 1, max: 1000}`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNumberGen {
    /// 1, 2, 4 or 8 bytes when it is sent in binary; leave it out for a number written as
    /// decimal text.
    pub size: Option<u8>,
    pub order: Option<Order>,
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl RawNumberGen {
    /// How the generated number is laid out: binary of `size` bytes, or decimal text.
    pub fn width(&self) -> Result<Width, String> {
        match (self.size, self.order) {
            (Some(size), order) => Width::new(size, order),
            (None, None) => Ok(Width::DECIMAL),
            (None, Some(_)) => Err(
                "`order` is the byte order of a binary number: give `size` too (or leave both \
                 out for a number written as decimal text)"
                    .into(),
            ),
        }
    }
}

/// `binary: {of: EXPR, size: 2, order: big}` in bytes: a number written in binary.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBinary {
    pub of: NumExpr,
    pub size: u8,
    pub order: Option<Order>,
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
        assert!(ordered.width().unwrap_err().contains("give `size` too"));
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
}
