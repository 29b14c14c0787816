//! Numbers as values: fixed-width integers, unsigned or signed (their width, byte order and
//! sign) and number expressions (a literal, a generated or captured value, a length), with how
//! they are read from YAML and evaluated against the values of a case.
//!
//! In: YAML through serde, a case's values. Out: [`Width`], [`NumExpr`], numbers. The number
//! generators and matchers that use them are in `spec::model::number`.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{Data, DataError, Env, Value, VarOrData};

/// Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (Unix's).
pub const RFC868_OFFSET: u64 = 2_208_988_800;

/// How a number is laid out in bytes.
///
/// A number's value is kept as 64 bits. For a signed width they are the number's two's
/// complement (-5 is `0xffff_ffff_ffff_fffb`), so that its binary form of any size is the
/// low bytes, as for an unsigned number, and only the decimal text and the reading of the
/// value differ: see [`Width::int`] and [`Width::bits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Width {
    /// 1, 2, 4 or 8 bytes; 0 for [`Width::DECIMAL`].
    pub size: u8,
    pub little: bool,
    /// Two's complement in binary, a leading `-` in decimal text.
    pub signed: bool,
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
        signed: false,
    };

    pub fn is_decimal(self) -> bool {
        self.size == 0
    }

    pub fn new(size: u8, order: Option<Order>) -> Result<Width, DataError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(DataError::Size { size });
        }
        Ok(Width {
            size,
            little: order.unwrap_or_default() == Order::Little,
            signed: false,
        })
    }

    /// The same layout, signed or not.
    pub fn with_sign(self, signed: bool) -> Width {
        Width { signed, ..self }
    }

    /// The largest unsigned number that fits (for a signed width, the largest bit pattern).
    pub fn max(self) -> u64 {
        if self.size == 8 || self.is_decimal() {
            u64::MAX
        } else {
            (1u64 << (8 * u32::from(self.size))) - 1
        }
    }

    /// The smallest and the largest number that fit: a signed decimal number is any `i64`.
    pub fn range(self) -> (i128, i128) {
        if !self.signed {
            return (0, i128::from(self.max()));
        }
        let bits = if self.is_decimal() {
            64
        } else {
            8 * u32::from(self.size)
        };
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }

    /// The number that the 64 bits of a value stand for.
    pub fn int(self, bits: u64) -> i128 {
        if self.signed {
            i128::from(bits as i64)
        } else {
            i128::from(bits)
        }
    }

    /// The 64 bits that stand for `n`, when `n` fits (see [`Width::range`]).
    pub fn bits(self, n: i128) -> Option<u64> {
        let (lo, hi) = self.range();
        // Truncating to the low 64 bits is the two's complement of a negative `n`.
        (lo..=hi).contains(&n).then_some(n as u64)
    }

    /// Why `n` does not fit, for an error message.
    pub fn misfit(self, n: i128) -> String {
        let (lo, hi) = self.range();
        if self.signed && self.is_decimal() {
            format!("{n} does not fit in a signed 64-bit number ({lo} to {hi})")
        } else if self.signed {
            format!("{n} does not fit in a {self} number ({lo} to {hi})")
        } else if n < 0 {
            format!(
                "{n} is negative, and this number is unsigned (a negative `min` or \
                 `signed: true` makes a signed one)"
            )
        } else if self.is_decimal() {
            format!("{n} does not fit in an unsigned 64-bit number (0 to {hi})")
        } else {
            format!("{n} does not fit in {} byte(s)", self.size)
        }
    }

    /// The bytes of a value: its binary form, or its decimal text.
    pub fn encode(self, n: u64) -> Vec<u8> {
        if self.is_decimal() {
            return self.int(n).to_string().into_bytes();
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

    /// The value in `bytes` (exactly `size` of them).
    pub fn decode(self, bytes: &[u8]) -> u64 {
        if self.is_decimal() {
            return std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| t.parse::<i128>().ok())
                .and_then(|n| self.bits(n))
                .unwrap_or(0);
        }
        let mut n = 0u64;
        let mut push = |b: &u8| n = (n << 8) | u64::from(*b);
        if self.little {
            bytes.iter().rev().for_each(&mut push);
        } else {
            bytes.iter().for_each(&mut push);
        }
        let shift = 64 - 8 * u32::from(self.size);
        if self.signed && shift > 0 {
            // Sign extension: the top bit of the number's own bytes fills the rest.
            n = (((n << shift) as i64) >> shift) as u64;
        }
        n
    }
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.signed { "signed " } else { "" };
        match (self.size, self.little) {
            (0, _) => write!(f, "{sign}decimal text"),
            (1, _) => f.write_str(if self.signed {
                "1-byte signed"
            } else {
                "1-byte"
            }),
            (n, false) => write!(f, "{}-bit {sign}big-endian", 8 * u32::from(n)),
            (n, true) => write!(f, "{}-bit {sign}little-endian", 8 * u32::from(n)),
        }
    }
}

/// A number a spec computes with: a literal, a generated number (or a captured one, whose
/// bytes are read as decimal digits, with a `-` first for a negative one), or the length of
/// some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumExpr {
    Literal(u64),
    Var(String),
    LengthOf(Box<Data>),
}

impl NumExpr {
    /// The number for one case: any `u64` or `i64`. Captured text that is not a decimal
    /// number counts as 0; the step that captured it is what to fix then.
    pub fn eval(&self, env: &Env) -> i128 {
        match self {
            NumExpr::Literal(n) => i128::from(*n),
            NumExpr::Var(name) => env.get(name).map_or(0, integer_of),
            NumExpr::LengthOf(data) => data.eval(env).len() as i128,
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

/// A value read as a count (a length): a number as itself, bytes as decimal digits; 0 for
/// anything else, a negative number included.
pub fn number_of(value: &Value) -> u64 {
    match value {
        Value::Number { value, width } => u64::try_from(width.int(*value)).unwrap_or(0),
        other => std::str::from_utf8(&other.bytes())
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0),
    }
}

/// A value read as an integer: a number as itself, bytes as decimal text (`-5` too); 0 for
/// anything else.
pub fn integer_of(value: &Value) -> i128 {
    match value {
        Value::Number { value, width } => width.int(*value),
        other => std::str::from_utf8(&other.bytes())
            .ok()
            .and_then(|t| {
                let t = t.trim();
                t.parse::<u64>()
                    .map(i128::from)
                    .or_else(|_| t.parse::<i64>().map(i128::from))
                    .ok()
            })
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

    fn signed(size: u8, order: Order) -> Width {
        Width::new(size, Some(order)).unwrap().with_sign(true)
    }

    #[test]
    fn signed_widths_hold_two_complement_ranges() {
        assert_eq!(signed(1, Order::Big).range(), (-128, 127));
        assert_eq!(signed(2, Order::Big).range(), (-32_768, 32_767));
        assert_eq!(signed(4, Order::Big).range(), (-(1 << 31), (1 << 31) - 1));
        let whole = (i128::from(i64::MIN), i128::from(i64::MAX));
        assert_eq!(signed(8, Order::Big).range(), whole);
        assert_eq!(Width::DECIMAL.with_sign(true).range(), whole);
        assert_eq!(Width::new(1, None).unwrap().range(), (0, 255));
    }

    #[test]
    fn a_negative_number_is_written_in_two_complement_of_its_size_and_read_back() {
        for (size, big, little) in [
            (1, &[0xfb][..], &[0xfb][..]),
            (2, &[0xff, 0xfb], &[0xfb, 0xff]),
            (4, &[0xff, 0xff, 0xff, 0xfb], &[0xfb, 0xff, 0xff, 0xff]),
        ] {
            let (be, le) = (signed(size, Order::Big), signed(size, Order::Little));
            let bits = be.bits(-5).unwrap();
            assert_eq!(be.encode(bits), big, "{be}");
            assert_eq!(le.encode(bits), little, "{le}");
            assert_eq!(be.int(be.decode(big)), -5, "{be}");
            assert_eq!(le.int(le.decode(little)), -5, "{le}");
        }
        let be = signed(8, Order::Big);
        assert_eq!(
            be.encode(be.bits(i128::from(i64::MIN)).unwrap()),
            [0x80, 0, 0, 0, 0, 0, 0, 0]
        );
        // A top bit that is clear stays a positive number.
        assert_eq!(
            signed(2, Order::Big).int(signed(2, Order::Big).decode(&[0x7f, 0xff])),
            32_767
        );
    }

    #[test]
    fn a_signed_decimal_number_is_its_text_with_a_minus_sign() {
        let width = Width::DECIMAL.with_sign(true);
        let bits = width.bits(-407).unwrap();
        assert_eq!(width.encode(bits), b"-407");
        assert_eq!(width.decode(b"-407"), bits);
        assert_eq!(
            width.int(width.bits(i128::from(i64::MIN)).unwrap()),
            i128::from(i64::MIN)
        );
        // The same bits are a large unsigned number: only the width says which.
        assert_eq!(Width::DECIMAL.encode(bits), b"18446744073709551209");
    }

    #[test]
    fn numbers_outside_a_width_are_refused_with_its_range() {
        let byte = signed(1, Order::Big);
        assert_eq!(byte.bits(128), None);
        assert_eq!(byte.bits(-129), None);
        assert_eq!(
            byte.misfit(-129),
            "-129 does not fit in a 1-byte signed number (-128 to 127)"
        );
        assert_eq!(
            signed(2, Order::Little).misfit(40_000),
            "40000 does not fit in a 16-bit signed little-endian number (-32768 to 32767)"
        );
        assert_eq!(
            Width::DECIMAL.with_sign(true).misfit(1 << 63),
            "9223372036854775808 does not fit in a signed 64-bit number \
             (-9223372036854775808 to 9223372036854775807)"
        );
        let unsigned = Width::new(1, None).unwrap();
        assert_eq!(unsigned.bits(-1), None);
        assert!(
            unsigned
                .misfit(-1)
                .starts_with("-1 is negative, and this number is unsigned")
        );
        assert_eq!(unsigned.misfit(300), "300 does not fit in 1 byte(s)");
    }

    #[test]
    fn a_negative_number_reads_as_an_integer_but_as_no_length() {
        let width = signed(2, Order::Big);
        let value = Value::Number {
            value: width.bits(-5).unwrap(),
            width,
        };
        assert_eq!(integer_of(&value), -5);
        assert_eq!(number_of(&value), 0);
        // Captured text: a RESP reply's `-56` is a number, `$-1`'s -1 no length.
        assert_eq!(integer_of(&Value::Bytes(b"-56".to_vec())), -56);
        assert_eq!(number_of(&Value::Bytes(b"-1".to_vec())), 0);
        assert_eq!(
            integer_of(&Value::Bytes(b"18446744073709551615".to_vec())),
            i128::from(u64::MAX)
        );
        assert_eq!(integer_of(&Value::Bytes(b"x1".to_vec())), 0);
    }
}
