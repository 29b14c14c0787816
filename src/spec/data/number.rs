//! Numbers as values: fixed-width unsigned integers (their width and byte order) and number
//! expressions (a literal, a generated or captured value, a length), with how they are read
//! from YAML and evaluated against the values of a case.
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

    pub fn new(size: u8, order: Option<Order>) -> Result<Width, DataError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(DataError::Size { size });
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

/// `binary: {of: EXPR, size: 2, order: big}` in bytes: a number written in binary.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBinary {
    pub of: NumExpr,
    pub size: u8,
    pub order: Option<Order>,
}
