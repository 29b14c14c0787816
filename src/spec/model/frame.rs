//! `expect: same_as_reference`: a reply judged by what a reference program answered to the
//! same bytes. A byte stream has no message boundaries, so the step says where a reply ends
//! (its [`Frame`]), and which differences between the two replies are allowed.
//!
//! In: YAML through serde. Out: [`SameAs`], its frame and allowances checked and compiled.
//! Reading a frame is `verdict::frame`; comparing two replies is `verdict::same`.

use std::borrow::Cow;
use std::fmt;

use regex::bytes::Regex;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::error::ModelError;
use crate::spec::data::TextOrData;

/// Where one reply ends.
#[derive(Debug, Clone)]
pub enum Frame {
    /// One datagram (UDP, and the only framing there).
    Datagram,
    /// One line, through its LF.
    Line,
    /// One RESP value (Redis): a simple string, error, integer, bulk string or array (nested),
    /// and RESP3's null, boolean, double, big number, verbatim string, map, set and push.
    Resp,
    /// Bytes through this delimiter.
    Until(Vec<u8>),
    /// Exactly this many bytes.
    Length(usize),
    /// The shortest prefix matching this regex (anchored at the start).
    Regex(Regex),
}

impl Frame {
    /// A few words for messages: "one RESP reply".
    pub fn describe(&self) -> String {
        match self {
            Frame::Datagram => "one datagram".into(),
            Frame::Line => "one line".into(),
            Frame::Resp => "one RESP reply".into(),
            Frame::Until(delim) => format!(
                "a reply ending in \"{}\"",
                crate::spec::payload::escape(delim)
            ),
            Frame::Length(n) => format!("a reply of {n} byte(s)"),
            Frame::Regex(r) => format!("a reply matching /{}/", strip_anchors(r.as_str())),
        }
    }
}

/// `same_as_reference`: how the reply is framed and what may differ.
#[derive(Debug, Clone)]
pub struct SameAs {
    /// `None` when the step does not say: a datagram, which only UDP scenarios may leave
    /// unsaid (the loader checks).
    pub frame: Option<Frame>,
    /// A regex searched in both replies: the text of its named groups may differ.
    pub may_differ: Option<Regex>,
    /// Decimal numbers at the same place in both replies may differ by at most this much.
    pub tolerance: Option<f64>,
    /// The reply's lines (or a RESP array's elements) may come in any order.
    pub any_order: bool,
}

impl SameAs {
    /// The framing this step reads with.
    pub fn frame(&self) -> Cow<'_, Frame> {
        match &self.frame {
            Some(frame) => Cow::Borrowed(frame),
            None => Cow::Owned(Frame::Datagram),
        }
    }

    /// The form of a bare `expect: same_as_reference`.
    pub fn bare() -> SameAs {
        SameAs {
            frame: None,
            may_differ: None,
            tolerance: None,
            any_order: false,
        }
    }
}

/// The framings a word names, for messages and the schema.
const FRAME_WORDS: &[&str] = &["datagram", "line", "resp"];

fn frame_word(word: &str) -> Result<Frame, ModelError> {
    match word {
        "datagram" => Ok(Frame::Datagram),
        "line" => Ok(Frame::Line),
        "resp" => Ok(Frame::Resp),
        other => Err(ModelError::UnknownFraming {
            word: other.to_string(),
        }),
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFrameMap {
    /// Bytes through this delimiter, e.g. `".\r\n"`.
    until: Option<TextOrData>,
    /// Exactly this many bytes.
    length: Option<usize>,
    /// The shortest prefix matching this regex.
    regex: Option<String>,
}

fn frame_map(raw: RawFrameMap) -> Result<Frame, ModelError> {
    let given = [
        raw.until.is_some(),
        raw.length.is_some(),
        raw.regex.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ModelError::FramingSeveral);
    }
    if let Some(until) = raw.until {
        let delim = until.0.literal().ok_or(ModelError::UntilComputed)?;
        if delim.is_empty() {
            return Err(ModelError::FrameUntilEmpty);
        }
        return Ok(Frame::Until(delim.to_vec()));
    }
    if let Some(length) = raw.length {
        if length == 0 || length > super::common::MAX_DATAGRAM {
            return Err(ModelError::FrameLength {
                max: super::common::MAX_DATAGRAM,
            });
        }
        return Ok(Frame::Length(length));
    }
    let pattern = raw.regex.unwrap_or_default();
    compile(&pattern, "^(?:", ")").map(Frame::Regex)
}

fn compile(pattern: &str, before: &str, after: &str) -> Result<Regex, ModelError> {
    regex::bytes::RegexBuilder::new(&format!("{before}{pattern}{after}"))
        .size_limit(1 << 20)
        .build()
        .map_err(|source| ModelError::Regex {
            pattern: pattern.to_string(),
            source,
        })
}

/// A framing: a word, or a map.
#[derive(Debug)]
pub struct RawFrame(pub Frame);

impl<'de> Deserialize<'de> for RawFrame {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFrame;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "`datagram`, `line`, `resp`, or a map with `until`, `length` or `regex`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFrame, E> {
                frame_word(v).map(RawFrame).map_err(E::custom)
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawFrame, M::Error> {
                let raw = RawFrameMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                frame_map(raw).map(RawFrame).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSameAs {
    #[serde(default)]
    frame: Option<RawFrame>,
    #[serde(default)]
    may_differ: Option<String>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    any_order: bool,
}

fn same_as(raw: RawSameAs) -> Result<SameAs, ModelError> {
    let may_differ = match raw.may_differ {
        None => None,
        Some(pattern) => {
            let regex = compile(&pattern, "", "")?;
            if regex.capture_names().flatten().next().is_none() {
                return Err(ModelError::MayDifferNoGroup { pattern });
            }
            Some(regex)
        }
    };
    if let Some(t) = raw.tolerance
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(ModelError::ToleranceNegative { tolerance: t });
    }
    Ok(SameAs {
        frame: raw.frame.map(|f| f.0),
        may_differ,
        tolerance: raw.tolerance,
        any_order: raw.any_order,
    })
}

impl<'de> Deserialize<'de> for SameAs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SameAs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a framing (`datagram`, `line`, `resp`), or a map with `frame`, \
                     `may_differ`, `tolerance` and `any_order`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SameAs, E> {
                let frame = frame_word(v).map_err(E::custom)?;
                Ok(SameAs {
                    frame: Some(frame),
                    ..SameAs::bare()
                })
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<SameAs, M::Error> {
                let raw = RawSameAs::deserialize(de::value::MapAccessDeserializer::new(map))?;
                same_as(raw).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl JsonSchema for SameAs {
    fn schema_name() -> Cow<'static, str> {
        "SameAsReference".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let word = json_schema!({"type": "string", "enum": FRAME_WORDS});
        let frame_map = generator.subschema_for::<RawFrameMap>();
        let frame = json_schema!({
            "description": "Where a reply ends: a word, or a map with exactly one of `until`, `length`, `regex`.",
            "anyOf": [word.clone(), frame_map],
        });
        json_schema!({
            "description": "The reply must equal the reference program's reply to the same bytes (`--reference`): a framing, or a map with the framing and what may differ.",
            "anyOf": [
                word,
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "frame": frame,
                        "may_differ": {"type": "string", "description": "A regex whose named groups may differ between the two replies."},
                        "tolerance": {"type": "number", "minimum": 0, "description": "Decimal numbers may differ by at most this much."},
                        "any_order": {"type": "boolean", "description": "Lines (or a RESP array's elements) may come in any order."},
                    },
                },
            ],
        })
    }
}

/// A compiled pattern as written: without the anchors conform wraps it in.
fn strip_anchors(pattern: &str) -> &str {
    let inner = pattern.strip_prefix("^(?:").unwrap_or(pattern);
    inner
        .strip_suffix(")$")
        .or_else(|| inner.strip_suffix(')'))
        .unwrap_or(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<SameAs, String> {
        serde_saphyr::from_str::<SameAs>(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn a_word_names_the_framing() {
        assert!(matches!(parse("resp").unwrap().frame, Some(Frame::Resp)));
        assert!(matches!(parse("line").unwrap().frame, Some(Frame::Line)));
        let err = parse("json").unwrap_err();
        assert!(err.contains("unknown framing `json`"), "{err}");
    }

    #[test]
    fn a_map_gives_the_framing_and_the_allowances() {
        let same = parse(
            "{frame: {until: \".\\r\\n\"}, may_differ: 'id=(?P<id>[0-9]+)', tolerance: 2, any_order: true}",
        )
        .unwrap();
        assert!(matches!(&same.frame, Some(Frame::Until(d)) if d == b".\r\n"));
        assert!(same.may_differ.is_some());
        assert_eq!(same.tolerance, Some(2.0));
        assert!(same.any_order);
    }

    #[test]
    fn bad_allowances_are_refused() {
        let err = parse("{frame: line, may_differ: '[0-9]+'}").unwrap_err();
        assert!(err.contains("names no group"), "{err}");
        let err = parse("{frame: line, tolerance: -1}").unwrap_err();
        assert!(err.contains("at least 0"), "{err}");
        let err = parse("{frame: {until: \"\\n\", length: 3}}").unwrap_err();
        assert!(err.contains("exactly one of"), "{err}");
    }
}
