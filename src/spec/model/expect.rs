//! `expect`: what the next bytes or datagram must be, as written and for one case.
//!
//! In: YAML through serde (`RawExpect`). Out: [`Expect`] with an [`Expected`] matcher that
//! [`Expected::resolve`] turns into a concrete [`Matcher`] for one case: bytes, a line, a
//! regex (whose named groups are captured), a length, a number, or a sequence of parts.

use schemars::JsonSchema;
use serde::Deserialize;

use super::common::{MAX_DATAGRAM, compile};
use super::error::ModelError;
use super::number::{NumberMatch, NumberRange, RawNumberMatch};
pub use super::regex::MatchRegex;
use super::seq::{Part, SeqPart};
use crate::spec::data::{Data, DataFields, Env, TextOrData};
use crate::spec::duration::Dur;

/// What the next bytes or datagram must look like.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exactly these bytes.
    Bytes(Vec<u8>),
    /// One line, `\n`-terminated, equal to this (without the `\n`).
    Line(Vec<u8>),
    /// One line, `\n`-terminated, whose content matches this regex entirely.
    LineRegex(MatchRegex),
    /// Bytes matching this regex (anchored at the start); for TCP, the shortest prefix of the
    /// stream that matches is consumed.
    Regex(MatchRegex),
    /// Exactly this many bytes, any content.
    Length(usize),
    /// A binary number in a range.
    Number(NumberRange),
    /// Parts matched one after another.
    Seq(Vec<Part>),
    /// One reply, however it is framed, whatever its content (`same_as_reference` reads with
    /// it and compares afterwards).
    Frame(crate::spec::model::frame::Frame),
}

/// `expect`: a matcher, a deadline and a connection.
#[derive(Debug)]
pub struct Expect {
    pub matcher: Expected,
    pub within: Option<Dur>,
    pub on: Option<String>,
    /// TCP: read slowly, this many bytes at a time with pauses (`read_chunk`, `read_pause`).
    pub slow_read: Option<SlowRead>,
    /// Keep everything this step received under a name, for later steps.
    pub capture: Option<String>,
}

/// How conform reads when it reads slowly, to exercise a peer's partial writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowRead {
    pub chunk: usize,
    pub pause: std::time::Duration,
}

/// A matcher as written: fixed, or computed from generated values for each case.
#[derive(Debug, Clone)]
pub enum Expected {
    Fixed(Matcher),
    /// Exactly the bytes this data evaluates to.
    Bytes(Data),
    /// As many bytes as this generated value has.
    LengthOf(String),
    Number(NumberMatch),
    Seq(Vec<SeqPart>),
    /// One line equal to these computed bytes (`line: {decimal: n}`).
    Line(Data),
    /// One line matching a regex built for each case: literal text is regex syntax, and
    /// computed values are matched as they are (`line_regex: {concat: ["id=", {var: n}]}`).
    LineRegex(Data),
    /// Whatever the reference program answered to the same bytes.
    SameAsReference(crate::spec::model::frame::SameAs),
}

impl Expected {
    /// The concrete matcher for one case; `now` is the Unix time in seconds, for numbers
    /// that must be the current time.
    pub fn resolve(&self, env: &Env, now: u64) -> std::borrow::Cow<'_, Matcher> {
        use std::borrow::Cow;
        match self {
            Expected::Fixed(m) => Cow::Borrowed(m),
            Expected::Bytes(data) => Cow::Owned(Matcher::Bytes(data.eval(env))),
            Expected::LengthOf(name) => Cow::Owned(Matcher::Length(
                env.get(name).map_or(0, |v| v.bytes().len()),
            )),
            Expected::Number(number) => Cow::Owned(Matcher::Number(number.resolve(env, now))),
            Expected::Seq(parts) => Cow::Owned(Matcher::Seq(
                parts.iter().map(|p| p.resolve(env, now)).collect(),
            )),
            Expected::Line(data) => Cow::Owned(Matcher::Line(data.eval(env))),
            Expected::LineRegex(data) => Cow::Owned(Matcher::LineRegex(
                // The skeleton compiled at load time, and computed values are escaped, so
                // only a contrived pattern (a value inside `{m,n}`) fails here: it then
                // matches nothing, and the report shows the pattern.
                MatchRegex::line(&regex_source(data, env)).unwrap_or_else(|_| {
                    MatchRegex::line(r"[^\s\S]").expect("a regex that matches nothing")
                }),
            )),
            Expected::SameAsReference(same) => {
                Cow::Owned(Matcher::Frame(same.frame().into_owned()))
            }
        }
    }

    /// The values this matcher reads.
    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expected::Bytes(data) => data.vars(out),
            Expected::LengthOf(name) => out.push(name),
            Expected::Number(number) => number.vars(out),
            Expected::Seq(parts) => parts.iter().for_each(|p| p.vars(out)),
            Expected::Line(data) | Expected::LineRegex(data) => data.vars(out),
            Expected::Fixed(_) | Expected::SameAsReference(_) => {}
        }
    }

    /// The names this matcher captures: named regex groups and sequence captures.
    pub fn captures(&self, out: &mut Vec<String>) {
        match self {
            Expected::Fixed(Matcher::Regex(r) | Matcher::LineRegex(r)) => {
                out.extend(super::seq::group_names(r.regex()));
            }
            Expected::Seq(parts) => parts.iter().for_each(|p| p.captures(out)),
            Expected::LineRegex(data) => {
                if let Ok(skeleton) = compile(&regex_source(data, &Env::new()), true) {
                    out.extend(super::seq::group_names(&skeleton));
                }
            }
            _ => {}
        }
    }
}

with_data_fields! {
    #[derive(Debug, Default, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RawExpect {
        length_of: Option<String>,
        /// A binary number: `{size: 4, order: big}` and `equals`, `min`/`max` or `now`.
        number: Option<RawNumberMatch>,
        /// One reply matched part by part.
        seq: Option<Vec<SeqPart>>,
        /// Keep everything this step received under this name.
        capture: Option<String>,
        /// The reply must equal the reference program's (`--reference`).
        same_as_reference: Option<crate::spec::model::frame::SameAs>,
        /// One line, without its `\n`: text, or computed bytes such as `{decimal: n}`.
        line: Option<TextOrData>,
        /// One line matching a regex: text, or built from parts (`{concat: [...]}`) in which
        /// computed values are matched literally.
        line_regex: Option<TextOrData>,
        regex: Option<String>,
        length: Option<usize>,
        within: Option<Dur>,
        on: Option<String>,
        read_chunk: Option<usize>,
        read_pause: Option<Dur>,
    }
}

impl RawExpect {
    /// The form of a plain string: exactly this text.
    pub(super) fn text(text: String) -> RawExpect {
        RawExpect {
            text: Some(text),
            ..RawExpect::default()
        }
    }

    /// The form of a bare `expect: same_as_reference`.
    pub(super) fn same_as_reference() -> RawExpect {
        RawExpect {
            same_as_reference: Some(crate::spec::model::frame::SameAs::bare()),
            ..RawExpect::default()
        }
    }
}

impl TryFrom<RawExpect> for Expect {
    type Error = ModelError;
    fn try_from(raw: RawExpect) -> Result<Self, ModelError> {
        let fields = data_fields!(raw);
        let mut matchers = Vec::new();
        match fields.into_data()? {
            Some(Data::Literal(bytes)) => matchers.push(Expected::Fixed(Matcher::Bytes(bytes))),
            Some(data) => matchers.push(Expected::Bytes(data)),
            None => {}
        }
        if let Some(name) = raw.length_of {
            matchers.push(Expected::LengthOf(name));
        }
        if let Some(number) = raw.number {
            matchers.push(Expected::Number(number.try_into()?));
        }
        if let Some(parts) = raw.seq {
            if parts.is_empty() {
                return Err(ModelError::SeqEmpty);
            }
            matchers.push(Expected::Seq(parts));
        }
        if let Some(same) = raw.same_as_reference {
            matchers.push(Expected::SameAsReference(same));
        }
        if let Some(TextOrData(line)) = raw.line {
            match line {
                Data::Literal(line) if line.contains(&b'\n') => {
                    return Err(ModelError::LineNewline);
                }
                Data::Literal(line) => matchers.push(Expected::Fixed(Matcher::Line(line))),
                computed => matchers.push(Expected::Line(computed)),
            }
        }
        if let Some(TextOrData(pattern)) = raw.line_regex {
            // Compiled now with every computed value empty, so a bad pattern is a load error.
            let skeleton = MatchRegex::line(&regex_source(&pattern, &Env::new()))?;
            match pattern {
                Data::Literal(_) => matchers.push(Expected::Fixed(Matcher::LineRegex(skeleton))),
                computed => matchers.push(Expected::LineRegex(computed)),
            }
        }
        if let Some(pattern) = raw.regex {
            matchers.push(Expected::Fixed(Matcher::Regex(MatchRegex::start(
                &pattern,
            )?)));
        }
        if let Some(length) = raw.length {
            if length > MAX_DATAGRAM {
                return Err(ModelError::LengthAboveDatagram {
                    length,
                    max: MAX_DATAGRAM,
                });
            }
            matchers.push(Expected::Fixed(Matcher::Length(length)));
        }
        let matcher = match matchers.len() {
            1 => matchers.remove(0),
            0 => return Err(ModelError::ExpectNone),
            _ => return Err(ModelError::ExpectSeveral),
        };
        let slow_read = match (raw.read_chunk, raw.read_pause) {
            (Some(0), _) => return Err(ModelError::ReadChunkZero),
            (Some(chunk), pause) => Some(SlowRead {
                chunk,
                pause: pause.map_or(std::time::Duration::ZERO, Dur::get),
            }),
            (None, Some(_)) => return Err(ModelError::ReadPauseAlone),
            (None, None) => None,
        };
        Ok(Expect {
            matcher,
            within: raw.within,
            on: raw.on,
            slow_read,
            capture: raw.capture,
        })
    }
}

/// The regex a `line_regex` stands for in one case: literal text is regex syntax; every
/// computed value is escaped, byte by byte, so it matches exactly itself.
fn regex_source(data: &Data, env: &Env) -> String {
    match data {
        Data::Literal(text) => String::from_utf8_lossy(text).into_owned(),
        Data::Concat(parts) => parts.iter().map(|p| regex_source(p, env)).collect(),
        computed => computed
            .eval(env)
            .iter()
            .map(|&b| match b {
                b if b.is_ascii_alphanumeric() => char::from(b).to_string(),
                b if b.is_ascii() => format!("\\x{b:02x}"),
                // Outside ASCII, `\xNN` would mean a code point; `(?-u:...)` makes it a byte.
                b => format!("(?-u:\\x{b:02x})"),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Value;

    fn env() -> Env {
        Env::from([
            ("n".to_string(), Value::Bytes(b"4.2".to_vec())),
            ("b".to_string(), Value::Bytes(vec![0xff, b'*'])),
        ])
    }

    #[test]
    fn computed_values_in_a_line_regex_match_only_themselves() {
        let data = Data::Concat(vec![
            Data::Literal(b"v=".to_vec()),
            Data::Var("n".into()),
            Data::Literal(b" .*".to_vec()),
        ]);
        assert_eq!(regex_source(&data, &env()), r"v=4\x2e2 .*");
        let regex = compile(&regex_source(&data, &env()), true).unwrap();
        assert!(regex.is_match(b"v=4.2 anything"));
        assert!(!regex.is_match(b"v=4x2 anything"));
        let bytes = compile(&regex_source(&Data::Var("b".into()), &env()), true).unwrap();
        assert!(bytes.is_match(&[0xff, b'*']));
        assert!(!bytes.is_match(&[0xff, 0xff]));
    }
}
