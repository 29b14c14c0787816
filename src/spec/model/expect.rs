//! `expect`: what the next bytes or datagram must be, as written and for one case.
//!
//! In: YAML through serde (`RawExpect`). Out: [`Expect`] with an [`Expected`] matcher that
//! [`Expected::resolve`] turns into a concrete [`Matcher`] for one case: bytes, a line, a
//! regex (whose named groups are captured), a length, a number, or a sequence of parts.

use regex::bytes::Regex;
use schemars::JsonSchema;
use serde::Deserialize;

use super::number::{NumberMatch, NumberRange, RawNumberMatch};
use super::seq::{Part, SeqPart};
use super::step::{MAX_DATAGRAM, compile};
use crate::spec::data::{Data, DataFields, Env};
use crate::spec::duration::Dur;

/// What the next bytes or datagram must look like.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exactly these bytes.
    Bytes(Vec<u8>),
    /// One line, `\n`-terminated, equal to this (without the `\n`).
    Line(Vec<u8>),
    /// One line, `\n`-terminated, whose content matches this regex entirely.
    LineRegex(Regex),
    /// Bytes matching this regex (anchored at the start); for TCP, the shortest prefix of the
    /// stream that matches is consumed.
    Regex(Regex),
    /// Exactly this many bytes, any content.
    Length(usize),
    /// A binary number in a range.
    Number(NumberRange),
    /// Parts matched one after another.
    Seq(Vec<Part>),
    /// One reply, however it is framed, whatever its content (`same_as_reference` reads with
    /// it and compares afterwards).
    Frame(crate::spec::frame::Frame),
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
    /// Whatever the reference program answered to the same bytes.
    SameAsReference(crate::spec::frame::SameAs),
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
            Expected::Fixed(_) | Expected::SameAsReference(_) => {}
        }
    }

    /// The names this matcher captures: named regex groups and sequence captures.
    pub fn captures(&self, out: &mut Vec<String>) {
        match self {
            Expected::Fixed(Matcher::Regex(r) | Matcher::LineRegex(r)) => {
                out.extend(super::seq::group_names(r));
            }
            Expected::Seq(parts) => parts.iter().for_each(|p| p.captures(out)),
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
        same_as_reference: Option<crate::spec::frame::SameAs>,
        line: Option<String>,
        line_regex: Option<String>,
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
            same_as_reference: Some(crate::spec::frame::SameAs::bare()),
            ..RawExpect::default()
        }
    }
}

impl TryFrom<RawExpect> for Expect {
    type Error = String;
    fn try_from(raw: RawExpect) -> Result<Self, String> {
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
                return Err("`seq` needs at least one part".into());
            }
            matchers.push(Expected::Seq(parts));
        }
        if let Some(same) = raw.same_as_reference {
            matchers.push(Expected::SameAsReference(same));
        }
        if let Some(line) = raw.line {
            if line.contains('\n') {
                return Err("`line` is one line: leave out the `\\n`, conform adds it".into());
            }
            matchers.push(Expected::Fixed(Matcher::Line(line.into_bytes())));
        }
        if let Some(pattern) = raw.line_regex {
            matchers.push(Expected::Fixed(Matcher::LineRegex(compile(
                &pattern, true,
            )?)));
        }
        if let Some(pattern) = raw.regex {
            matchers.push(Expected::Fixed(Matcher::Regex(compile(&pattern, false)?)));
        }
        if let Some(length) = raw.length {
            if length > MAX_DATAGRAM {
                return Err(format!(
                    "`length: {length}` is larger than the largest datagram ({MAX_DATAGRAM} bytes)"
                ));
            }
            matchers.push(Expected::Fixed(Matcher::Length(length)));
        }
        let matcher = match matchers.len() {
            1 => matchers.remove(0),
            0 => {
                return Err(
                    "`expect` needs one of `text`, `escaped`, `hex`, `bytes`, `line`, \
                     `line_regex`, `regex`, `length`, `number`, `seq` or `same_as_reference` \
                     (or a plain string)"
                        .into(),
                );
            }
            _ => {
                return Err(
                    "`expect` takes exactly one matcher; use `expect_one_of` for alternatives"
                        .into(),
                );
            }
        };
        let slow_read = match (raw.read_chunk, raw.read_pause) {
            (Some(0), _) => return Err("`read_chunk` is a number of bytes: at least 1".into()),
            (Some(chunk), pause) => Some(SlowRead {
                chunk,
                pause: pause.map_or(std::time::Duration::ZERO, Dur::get),
            }),
            (None, Some(_)) => {
                return Err("`read_pause` is the wait between reads: give `read_chunk` too".into());
            }
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
