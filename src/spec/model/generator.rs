//! How generated values are declared: `generate: {NAME: GENERATOR}` and the fixed values of
//! `with:` that replay one case.
//!
//! In: YAML through serde. Out: [`Generator`] (bytes, text from a character class or a
//! regex, numbers, splits) with its bounds checked, and [`Fixed`].

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::common::one_payload;
use super::error::ModelError;
use super::number::{RawNumberGen, Width};
use crate::spec::duration::Dur;

/// The longest generated value: what one expectation may buffer (a TCP echo of a megabyte is
/// a fair test; more would only measure memory).
pub const MAX_GENERATED: usize = 1 << 20;

/// How one value is generated.
#[derive(Debug, Clone)]
pub enum Generator {
    /// Bytes of a length in `min..=max`, biased toward values that break programs.
    Bytes { min: usize, max: usize },
    /// Fixed bytes written in generated pieces with generated pauses.
    Split {
        data: Vec<u8>,
        max_pieces: usize,
        max_pause: std::time::Duration,
    },
    /// Text of a length in `min..=max` made of the bytes of `alphabet` (sorted, distinct).
    Text {
        alphabet: Vec<u8>,
        min: usize,
        max: usize,
    },
    /// Text matching a regex (byte-oriented: classes are sets of bytes).
    Pattern(Pattern),
    /// A fixed-width unsigned integer in `min..=max`.
    Number { width: Width, min: u64, max: u64 },
    /// A signed integer in `min..=max`, of a signed `width`; its values keep it in two's
    /// complement (see [`Width`]).
    Signed { width: Width, min: i64, max: i64 },
}

/// A compiled `text: {regex: ...}` generator: the syntax tree to generate from, and the
/// whole-match regex that candidates made by shrinking must still match.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub hir: regex_syntax::hir::Hir,
    pub whole: regex::bytes::Regex,
}

impl Generator {
    /// Whether `value` is one this generator could have made (shrinking only runs those).
    pub fn admits(&self, value: &crate::spec::Value) -> bool {
        use crate::spec::Value;
        match (self, value) {
            (Generator::Bytes { min, max }, Value::Bytes(b)) => (*min..=*max).contains(&b.len()),
            (Generator::Text { alphabet, min, max }, Value::Bytes(b)) => {
                (*min..=*max).contains(&b.len())
                    && b.iter().all(|x| alphabet.binary_search(x).is_ok())
            }
            (Generator::Pattern(p), Value::Bytes(b)) => p.whole.is_match(b),
            (Generator::Number { min, max, .. }, Value::Number { value, .. }) => {
                (*min..=*max).contains(value)
            }
            (Generator::Signed { min, max, .. }, Value::Number { value, width }) => {
                width.signed && (*min..=*max).contains(&(*value as i64))
            }
            (Generator::Split { .. }, Value::Split { .. }) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGenerator {
    bytes: Option<RawBytesGen>,
    split: Option<RawSplitGen>,
    text: Option<RawTextGen>,
    number: Option<RawNumberGen>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTextGen {
    /// The bytes the text is made of, written as the inside of a regex bracket expression:
    /// `a-z0-9_`, `^\r\n` (any byte but CR and LF), `[:alpha:]`.
    chars: Option<String>,
    /// Or a regex the whole text matches, e.g. `[a-z]{1,8}`: it says the length itself.
    regex: Option<String>,
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawBytesGen {
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSplitGen {
    text: Option<String>,
    escaped: Option<String>,
    hex: Option<String>,
    bytes: Option<Vec<u8>>,
    max_pieces: Option<usize>,
    max_pause: Option<Dur>,
}

impl<'de> Deserialize<'de> for Generator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawGenerator::deserialize(deserializer)?;
        raw.try_into().map_err(de::Error::custom)
    }
}

impl TryFrom<RawGenerator> for Generator {
    type Error = ModelError;
    fn try_from(raw: RawGenerator) -> Result<Self, ModelError> {
        let kinds = [
            raw.bytes.is_some(),
            raw.split.is_some(),
            raw.text.is_some(),
            raw.number.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => return Err(ModelError::GeneratorNone),
            1 => {}
            _ => return Err(ModelError::GeneratorSeveral),
        }
        if let Some(t) = raw.text {
            return text_generator(t);
        }
        if let Some(n) = raw.number {
            let width = n.width()?;
            if n.is_signed()? {
                let (width, min, max) = n.signed_bounds(width)?;
                return Ok(Generator::Signed { width, min, max });
            }
            let (min, max) = n.unsigned_bounds(width)?;
            if min > max {
                return Err(ModelError::MinAboveMax { min, max });
            }
            if max > width.max() {
                return Err(ModelError::MaxTooBig {
                    max,
                    size: width.size,
                });
            }
            return Ok(Generator::Number { width, min, max });
        }
        match (raw.bytes, raw.split) {
            (Some(b), None) => {
                let (min, max) = lengths(b.length, b.min_length, b.max_length, "bytes")?;
                Ok(Generator::Bytes { min, max })
            }
            (None, Some(s)) => {
                let data = one_payload(s.text, s.escaped, s.hex, s.bytes)?
                    .ok_or(ModelError::SplitNoBytes)?;
                if data.is_empty() {
                    return Err(ModelError::SplitEmpty);
                }
                let max_pieces = s.max_pieces.unwrap_or(data.len()).clamp(1, data.len());
                let max_pause = s
                    .max_pause
                    .map_or(std::time::Duration::from_millis(50), Dur::get);
                if max_pause > std::time::Duration::from_secs(10) {
                    return Err(ModelError::MaxPauseTooLong);
                }
                Ok(Generator::Split {
                    data,
                    max_pieces,
                    max_pause,
                })
            }
            _ => Err(ModelError::GeneratorKind),
        }
    }
}

/// A fixed value for a generated one (see [`Scenario::with`]).
#[derive(Debug, Clone)]
pub enum Fixed {
    Bytes(Vec<u8>),
    /// A number, negative for a signed generator.
    Number(i128),
    /// Offsets where writes start, and the pause before each.
    Split {
        cuts: Vec<usize>,
        pauses: Vec<std::time::Duration>,
    },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFixed {
    text: Option<String>,
    escaped: Option<String>,
    hex: Option<String>,
    bytes: Option<Vec<u8>>,
    cuts: Option<Vec<usize>>,
    pauses: Option<Vec<String>>,
    #[schemars(range(min = i64::MIN, max = u64::MAX))]
    number: Option<i128>,
}

impl<'de> Deserialize<'de> for Fixed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawFixed::deserialize(deserializer)?;
        let payload =
            one_payload(raw.text, raw.escaped, raw.hex, raw.bytes).map_err(de::Error::custom)?;
        if let Some(n) = raw.number {
            return match (payload, raw.cuts, raw.pauses) {
                (None, None, None) => Ok(Fixed::Number(n)),
                _ => Err(de::Error::custom("a fixed `number` stands alone")),
            };
        }
        match (payload, raw.cuts, raw.pauses) {
            (Some(b), None, None) => Ok(Fixed::Bytes(b)),
            (None, Some(cuts), pauses) => Ok(Fixed::Split {
                cuts,
                pauses: pauses
                    .unwrap_or_default()
                    .iter()
                    .map(|p| crate::spec::data::parse_pause(p))
                    .collect::<Result<_, _>>()
                    .map_err(de::Error::custom)?,
            }),
            _ => Err(de::Error::custom(
                "a fixed value is bytes (`hex`, `text`, ...), a `number`, or, for a `split` value, `cuts` and `pauses`",
            )),
        }
    }
}

/// `length`, or `min_length`/`max_length`, checked.
fn lengths(
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    kind: &'static str,
) -> Result<(usize, usize), ModelError> {
    let (min, max) = match (length, min_length, max_length) {
        (Some(n), None, None) => (n, n),
        (None, min, Some(max)) => (min.unwrap_or(0), max),
        (None, _, None) => return Err(ModelError::LengthMissing { kind }),
        _ => return Err(ModelError::LengthBoth),
    };
    if min > max {
        return Err(ModelError::MinLengthAboveMax { min, max });
    }
    if max > MAX_GENERATED {
        return Err(ModelError::LengthTooLong { max: MAX_GENERATED });
    }
    Ok((min, max))
}

fn text_generator(t: RawTextGen) -> Result<Generator, ModelError> {
    let parse = |pattern: &str| {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(|source| ModelError::RegexSyntax {
                pattern: pattern.to_string(),
                source: Box::new(source),
            })
    };
    match (t.chars, t.regex) {
        (Some(chars), None) => {
            let (min, max) = lengths(t.length, t.min_length, t.max_length, "text")?;
            let hir = parse(&format!("[{chars}]"))?;
            let alphabet: Vec<u8> = match hir.kind() {
                regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Bytes(class)) => {
                    class.iter().flat_map(|r| r.start()..=r.end()).collect()
                }
                regex_syntax::hir::HirKind::Literal(lit) => lit.0.to_vec(),
                _ => return Err(ModelError::CharsNotASet { chars }),
            };
            if alphabet.is_empty() {
                return Err(ModelError::CharsEmpty { chars });
            }
            let mut alphabet = alphabet;
            alphabet.sort_unstable();
            alphabet.dedup();
            Ok(Generator::Text { alphabet, min, max })
        }
        (None, Some(regex)) => {
            if t.length.is_some() || t.min_length.is_some() || t.max_length.is_some() {
                return Err(ModelError::RegexWithLength);
            }
            if regex.len() > 1000 {
                return Err(ModelError::RegexTooLong);
            }
            let hir = parse(&regex)?;
            let whole = regex::bytes::RegexBuilder::new(&format!("^(?:{regex})$"))
                .unicode(false)
                .size_limit(1 << 20)
                .build()
                .map_err(|source| ModelError::RegexBuild {
                    pattern: regex.clone(),
                    source,
                })?;
            Ok(Generator::Pattern(Pattern {
                source: regex,
                hir,
                whole,
            }))
        }
        (None, None) => Err(ModelError::TextNone),
        (Some(_), Some(_)) => Err(ModelError::TextBoth),
    }
}
