//! Sequences: one reply matched part by part (`expect: {seq: [...]}`), each part exact
//! bytes, a field of a given or captured length, text up to a delimiter, a regex or a
//! number, and any of them captured under a name for later steps.
//!
//! In: YAML through serde. Out: [`SeqPart`] as written and, for one case, [`Part`] with its
//! bytes and ranges computed. Matching them against bytes is `verdict::seq`.

use std::fmt;

use regex::bytes::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::common::MAX_DATAGRAM;
use super::error::ModelError;
use super::number::{NumberMatch, NumberRange, RawNumberMatch};
use super::regex::MatchRegex;
use crate::spec::data::{Data, DataFields, Env, TextOrData};

/// A part as written.
#[derive(Debug, Clone)]
pub enum SeqPart {
    /// Exactly these (possibly computed) bytes.
    Bytes(Data),
    /// `length` bytes, whatever they are.
    Length { n: usize, capture: Option<String> },
    /// As many bytes as the number captured as `from` (earlier in this sequence or in an
    /// earlier step) says: a length-delimited field.
    LengthFrom {
        from: String,
        capture: Option<String>,
    },
    /// Bytes up to `delim` (not included in the capture; consumed).
    Until {
        delim: Data,
        capture: Option<String>,
    },
    /// Bytes matching a regex from here: the longest match that lets the rest of the
    /// sequence match; named groups are captured.
    Regex(MatchRegex),
    Number {
        number: NumberMatch,
        capture: Option<String>,
    },
}

/// A part for one case.
#[derive(Debug, Clone)]
pub enum Part {
    Bytes(Vec<u8>),
    Length {
        n: usize,
        capture: Option<String>,
    },
    /// The length comes from a capture earlier in the same sequence.
    LengthFrom {
        from: String,
        capture: Option<String>,
    },
    Until {
        delim: Vec<u8>,
        capture: Option<String>,
    },
    Regex(MatchRegex),
    Number {
        range: NumberRange,
        capture: Option<String>,
    },
}

impl SeqPart {
    pub fn resolve(&self, env: &Env, now: u64) -> Part {
        match self {
            SeqPart::Bytes(data) => Part::Bytes(data.eval(env)),
            SeqPart::Length { n, capture } => Part::Length {
                n: *n,
                capture: capture.clone(),
            },
            SeqPart::LengthFrom { from, capture } => match env.get(from) {
                // Captured by an earlier step: the length is known now.
                Some(value) => Part::Length {
                    n: super::number::number_of(value) as usize,
                    capture: capture.clone(),
                },
                None => Part::LengthFrom {
                    from: from.clone(),
                    capture: capture.clone(),
                },
            },
            SeqPart::Until { delim, capture } => Part::Until {
                delim: delim.eval(env),
                capture: capture.clone(),
            },
            SeqPart::Regex(regex) => Part::Regex(regex.clone()),
            SeqPart::Number { number, capture } => Part::Number {
                range: number.resolve(env, now),
                capture: capture.clone(),
            },
        }
    }

    /// The values this part reads.
    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            SeqPart::Bytes(data) | SeqPart::Until { delim: data, .. } => data.vars(out),
            SeqPart::Number { number, .. } => number.vars(out),
            SeqPart::LengthFrom { from, .. } => out.push(from),
            SeqPart::Length { .. } | SeqPart::Regex(_) => {}
        }
    }

    /// The names this part captures.
    pub fn captures(&self, out: &mut Vec<String>) {
        match self {
            SeqPart::Length { capture, .. }
            | SeqPart::LengthFrom { capture, .. }
            | SeqPart::Until { capture, .. }
            | SeqPart::Number { capture, .. } => out.extend(capture.clone()),
            SeqPart::Regex(regex) => out.extend(group_names(regex.regex())),
            SeqPart::Bytes(_) => {}
        }
    }
}

/// The named groups of a regex: what it captures.
pub fn group_names(regex: &Regex) -> Vec<String> {
    regex
        .capture_names()
        .flatten()
        .map(str::to_string)
        .collect()
}

with_data_fields! {
    /// One part as written in YAML: a plain string (literal text) or a map.
    #[derive(Debug, Default, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RawPart {
        /// A field of this many bytes.
        length: Option<usize>,
        /// A field as long as a number captured before says.
        length_from: Option<String>,
        /// Bytes up to this delimiter, which is consumed but not captured.
        until: Option<TextOrData>,
        /// Bytes matching this regex; named groups `(?P<name>...)` are captured.
        regex: Option<String>,
        /// A binary number (see `expect: {number: ...}`).
        number: Option<RawNumberMatch>,
        /// Keep what this part matched under a name, for later parts and steps.
        capture: Option<String>,
    }
}

impl TryFrom<RawPart> for SeqPart {
    type Error = ModelError;
    fn try_from(raw: RawPart) -> Result<Self, ModelError> {
        let data = crate::data_fields!(raw).into_data()?;
        let capture = raw.capture;
        let mut parts = Vec::new();
        if let Some(data) = data {
            parts.push(SeqPart::Bytes(data));
        }
        if let Some(n) = raw.length {
            if n > MAX_DATAGRAM {
                return Err(ModelError::LengthAboveDatagram {
                    length: n,
                    max: MAX_DATAGRAM,
                });
            }
            parts.push(SeqPart::Length {
                n,
                capture: capture.clone(),
            });
        }
        if let Some(from) = raw.length_from {
            parts.push(SeqPart::LengthFrom {
                from,
                capture: capture.clone(),
            });
        }
        if let Some(delim) = raw.until {
            if delim.0.literal().is_some_and(<[u8]>::is_empty) {
                return Err(ModelError::UntilEmpty);
            }
            parts.push(SeqPart::Until {
                delim: delim.0,
                capture: capture.clone(),
            });
        }
        if let Some(pattern) = raw.regex {
            parts.push(SeqPart::Regex(MatchRegex::start(&pattern)?));
        }
        if let Some(number) = raw.number {
            parts.push(SeqPart::Number {
                number: number.try_into()?,
                capture: capture.clone(),
            });
        }
        let part = match parts.len() {
            1 => parts.remove(0),
            0 => return Err(ModelError::PartNone),
            _ => return Err(ModelError::PartSeveral),
        };
        match (&part, &capture) {
            (SeqPart::Bytes(_), Some(_)) => Err(ModelError::CaptureOfBytes),
            (SeqPart::Regex(_), Some(_)) => Err(ModelError::CaptureOfRegex),
            _ => Ok(part),
        }
    }
}

impl<'de> Deserialize<'de> for SeqPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SeqPart;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("literal text, or a map such as `{length: 2, capture: id}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SeqPart, E> {
                Ok(SeqPart::Bytes(Data::Literal(v.as_bytes().to_vec())))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<SeqPart, M::Error> {
                let raw = RawPart::deserialize(de::value::MapAccessDeserializer::new(map))?;
                raw.try_into().map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl JsonSchema for SeqPart {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SeqPart".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let raw = generator.subschema_for::<RawPart>();
        schemars::json_schema!({
            "description": "One part of a sequence: literal text, or a map",
            "anyOf": [{"type": "string"}, raw]
        })
    }
}
