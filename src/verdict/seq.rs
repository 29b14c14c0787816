//! Matching a sequence of parts, and the numbers in it, against received bytes; and the
//! values a passed step captures. Pure: no sockets, no clocks.
//!
//! In: the parts of one case, the bytes received so far and whether more can come. Out: a
//! match (bytes consumed, named captures), "need more bytes", or a [`Mismatch`] naming the
//! part and the byte offset where the reply went wrong.
//!
//! A regex part takes the longest match that lets the rest of the sequence match: its match
//! ends are tried longest first, and a shorter one only when the parts after it fail. On a
//! stream it is decided only once no longer match can come (a byte it cannot take arrived,
//! or the peer closed), so it never commits to a short match that more bytes would extend.

use std::collections::BTreeMap;

use super::regex::impossible;
use super::scan::{Rest, scan};
use super::{Mismatch, show_byte};
use crate::spec::model::number::NumberRange;
use crate::spec::model::seq::{Part, group_names};
use crate::spec::payload::escape;
use crate::spec::{MatchRegex, Matcher, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeqOutcome {
    Match {
        consumed: usize,
        captures: BTreeMap<String, Value>,
    },
    /// Everything so far fits; the sequence needs more bytes.
    Pending,
    Fail(Mismatch),
}

/// Ends of regex parts one match tries at most, over all its regex parts: a sequence whose
/// regex parts split the bytes in more ways than this fails with the longest split's failure.
pub const MAX_TRIES: usize = 10_000;

/// Matches `parts` against the start of `buf`. With `complete`, no more bytes will come, so
/// a part that needs more fails instead of waiting; bytes after the sequence are left for
/// later steps either way.
pub fn match_seq(parts: &[Part], buf: &[u8], complete: bool) -> SeqOutcome {
    let ending = if complete {
        Ending::Ended
    } else {
        Ending::Open
    };
    Search::new(parts, buf, ending).from(0, 0, BTreeMap::new())
}

/// Matches `parts` against all of `bytes` (a datagram, or what a step consumed): the
/// sequence must end where the bytes do.
pub fn match_whole(parts: &[Part], bytes: &[u8]) -> SeqOutcome {
    Search::new(parts, bytes, Ending::Whole).from(0, 0, BTreeMap::new())
}

/// How the bytes a sequence is matched against end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// A stream still open: more bytes may come.
    Open,
    /// A stream that ended, or whose deadline passed: no more bytes come.
    Ended,
    /// A datagram: no more bytes come, and the sequence must take every one.
    Whole,
}

type Captures = BTreeMap<String, Value>;

struct Search<'a> {
    parts: &'a [Part],
    buf: &'a [u8],
    ending: Ending,
    /// Regex part ends this search may still try.
    tries: usize,
}

impl<'a> Search<'a> {
    fn new(parts: &'a [Part], buf: &'a [u8], ending: Ending) -> Self {
        Search {
            parts,
            buf,
            ending,
            tries: MAX_TRIES,
        }
    }

    /// Matches the parts from `first` on, starting at byte `pos`.
    fn from(&mut self, first: usize, mut pos: usize, mut captures: Captures) -> SeqOutcome {
        for index in first..self.parts.len() {
            match &self.parts[index] {
                Part::Regex(regex) => return self.regex_part(index, regex, pos, captures),
                part => match self.fixed_part(index + 1, part, pos, &mut captures) {
                    Ok(len) => pos += len,
                    Err(outcome) => return outcome,
                },
            }
        }
        if self.ending == Ending::Whole && pos < self.buf.len() {
            return SeqOutcome::Fail(
                Mismatch::new(format!(
                    "the datagram has {} byte(s) more than the sequence, from byte {pos}",
                    self.buf.len() - pos
                ))
                .bytes(&self.buf[..pos], self.buf),
            );
        }
        SeqOutcome::Match {
            consumed: pos,
            captures,
        }
    }

    /// A regex part: its match ends, longest first, each followed by the rest of the parts.
    fn regex_part(
        &mut self,
        index: usize,
        regex: &MatchRegex,
        pos: usize,
        captures: Captures,
    ) -> SeqOutcome {
        let n = index + 1;
        let rest = &self.buf[pos..];
        let Some(found) = scan(regex, rest) else {
            return self.shortest(index, regex, pos, captures);
        };
        if found.rest == Rest::Open && self.ending == Ending::Open {
            // A longer match may still come, and would be the one to try first.
            return SeqOutcome::Pending;
        }
        let mut failure: Option<Mismatch> = None;
        for &end in found.ends.iter().rev() {
            if self.tries == 0 {
                let gave_up = Mismatch::new(format!(
                    "part {n} of the sequence: no way to split the bytes between the regex \
                     parts matched in {MAX_TRIES} tries"
                ))
                .bytes(b"", self.buf);
                return SeqOutcome::Fail(failure.unwrap_or(gave_up).hint(format!(
                    "conform gave up after trying {MAX_TRIES} ends of the sequence's regex \
                     parts; a tighter regex or an `until` part splits the bytes in fewer ways"
                )));
            }
            self.tries -= 1;
            let Some(next) = with_groups(regex, &rest[..end], &captures) else {
                continue;
            };
            match self.from(index + 1, pos + end, next) {
                SeqOutcome::Fail(m) => {
                    failure.get_or_insert(m);
                }
                decided => return decided,
            }
        }
        if let Some(m) = failure {
            return SeqOutcome::Fail(m);
        }
        let what = format!("bytes matching /{}/", regex.source());
        SeqOutcome::Fail(match found.rest {
            Rest::DeadAt(at) => {
                let mut m = impossible(&what, self.buf, pos + at);
                m.summary = format!("part {n} of the sequence: {}", m.summary);
                m
            }
            Rest::Closed | Rest::Open => does_not_match(n, pos, regex, self.buf),
        })
    }

    /// A regex part the lazy DFA cannot follow (a Unicode word boundary met a non-ASCII
    /// byte): its shortest match, without giving any back.
    fn shortest(
        &mut self,
        index: usize,
        regex: &MatchRegex,
        pos: usize,
        captures: Captures,
    ) -> SeqOutcome {
        let rest = &self.buf[pos..];
        let found = regex.regex().shortest_match(rest);
        match found.and_then(|end| Some((end, with_groups(regex, &rest[..end], &captures)?))) {
            Some((end, next)) => self.from(index + 1, pos + end, next),
            None if self.ending == Ending::Open => SeqOutcome::Pending,
            None => SeqOutcome::Fail(does_not_match(index + 1, pos, regex, self.buf)),
        }
    }

    /// Literal bytes at `pos`: how many they take, or where they differ (`Some`), or that
    /// more bytes must come first (`None`).
    fn literal_part(
        &self,
        n: usize,
        expected: &[u8],
        pos: usize,
    ) -> Result<usize, Option<SeqOutcome>> {
        let buf = self.buf;
        let rest = &buf[pos..];
        let seen = &rest[..rest.len().min(expected.len())];
        if let Some(at) = seen.iter().zip(expected).position(|(a, b)| a != b) {
            let mut want = buf[..pos].to_vec();
            want.extend_from_slice(expected);
            return Err(Some(SeqOutcome::Fail(
                Mismatch::new(format!(
                    "part {n} of the sequence differs at byte {}: expected {}, got {}",
                    pos + at,
                    show_byte(expected[at]),
                    show_byte(seen[at])
                ))
                .bytes(&want, &buf[..buf.len().min(want.len().max(pos + at + 16))]),
            )));
        }
        if seen.len() < expected.len() {
            return Err(None);
        }
        Ok(expected.len())
    }

    /// A part whose length the bytes or the captures fix: how many bytes it takes, or how
    /// the sequence ends here.
    fn fixed_part(
        &self,
        n: usize,
        part: &Part,
        pos: usize,
        captures: &mut Captures,
    ) -> Result<usize, SeqOutcome> {
        let buf = self.buf;
        let rest = &buf[pos..];
        let short = |want: usize| {
            if self.ending == Ending::Open {
                return SeqOutcome::Pending;
            }
            SeqOutcome::Fail(
                Mismatch::new(format!(
                    "part {n} of the sequence needs {want} byte(s) at byte {pos}, but only {} arrived",
                    rest.len()
                ))
                .bytes(b"", buf),
            )
        };
        match part {
            Part::Bytes(expected) => self
                .literal_part(n, expected, pos)
                .map_err(|e| e.unwrap_or_else(|| short(expected.len()))),
            Part::Length { n: len, capture } => {
                if rest.len() < *len {
                    return Err(short(*len));
                }
                keep(captures, capture, Value::Bytes(rest[..*len].to_vec()));
                Ok(*len)
            }
            Part::LengthFrom { from, capture } => {
                let Some(len) = captures
                    .get(from)
                    .map(|v| crate::spec::model::number::number_of(v) as usize)
                else {
                    return Err(SeqOutcome::Fail(Mismatch::new(format!(
                        "part {n} of the sequence takes its length from `{from}`, which nothing captured"
                    ))));
                };
                if rest.len() < len {
                    return Err(short(len));
                }
                keep(captures, capture, Value::Bytes(rest[..len].to_vec()));
                Ok(len)
            }
            Part::Until { delim, capture } => match rest
                .windows(delim.len())
                .position(|w| w == delim.as_slice())
            {
                Some(at) => {
                    keep(captures, capture, Value::Bytes(rest[..at].to_vec()));
                    Ok(at + delim.len())
                }
                None if self.ending == Ending::Open => Err(SeqOutcome::Pending),
                None => Err(SeqOutcome::Fail(
                    Mismatch::new(format!(
                        "part {n} of the sequence: \"{}\" never came after byte {pos}",
                        escape(delim)
                    ))
                    .bytes(b"", buf),
                )),
            },
            Part::Number { range, capture } => {
                let size = usize::from(range.width.size);
                if rest.len() < size {
                    return Err(short(size));
                }
                let value = range.width.decode(&rest[..size]);
                if let Err(mut m) = judge_number(range, value) {
                    m.summary = format!("part {n} of the sequence (byte {pos}): {}", m.summary);
                    m.actual = Some(buf[..pos + size].to_vec());
                    return Err(SeqOutcome::Fail(m));
                }
                keep(
                    captures,
                    capture,
                    Value::Number {
                        value,
                        width: range.width,
                    },
                );
                Ok(size)
            }
            Part::Regex(_) => unreachable!("regex parts are matched by `regex_part`"),
        }
    }
}

/// The captures so far and the named groups of `regex` in a match of exactly `matched`;
/// `None` when the regex crate does not match those bytes alone (an assertion such as `\b`
/// that the byte after them decided differently).
fn with_groups(regex: &MatchRegex, matched: &[u8], captures: &Captures) -> Option<Captures> {
    let mut out = captures.clone();
    // Most regexes name no group: nothing to search for.
    if regex.regex().capture_names().flatten().next().is_none() {
        return Some(out);
    }
    let found = regex.whole().captures(matched)?;
    for name in group_names(regex.regex()) {
        if let Some(m) = found.name(&name) {
            out.insert(name, Value::Bytes(m.as_bytes().to_vec()));
        }
    }
    Some(out)
}

fn does_not_match(n: usize, pos: usize, regex: &MatchRegex, buf: &[u8]) -> Mismatch {
    Mismatch::new(format!(
        "part {n} of the sequence: the bytes from byte {pos} do not match /{}/",
        regex.source()
    ))
    .bytes(b"", buf)
}

fn keep(captures: &mut Captures, name: &Option<String>, value: Value) {
    if let Some(name) = name {
        captures.insert(name.clone(), value);
    }
}

/// Whether a received number is in range; the mismatch names the number, the range and a
/// likely cause (a clock counted from the other epoch, swapped bytes).
pub fn judge_number(range: &NumberRange, value: u64) -> Result<(), Mismatch> {
    if range.accepts(value) {
        return Ok(());
    }
    let bytes = range.width.encode(value);
    let mut m = Mismatch::new(format!(
        "expected {}, got {value} ({})",
        range.describe(),
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    m.actual = Some(bytes);
    m.expected = Some(Vec::new());
    if let Some(hint) = range.hint(value) {
        m = m.hint(hint);
    }
    Err(m)
}

/// The values a step captured from the bytes it consumed: named regex groups, sequence
/// captures; `whole` (the step's own `capture:`) gets all of them.
pub fn captures(
    matcher: &Matcher,
    consumed: &[u8],
    whole: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    match matcher {
        // Most regexes name no group: nothing to search for, on every step that uses one.
        Matcher::Regex(regex) | Matcher::LineRegex(regex)
            if regex.regex().capture_names().flatten().next().is_some() =>
        {
            let regex = regex.regex();
            let text = match matcher {
                Matcher::LineRegex(_) => consumed.strip_suffix(b"\n").unwrap_or(consumed),
                _ => consumed,
            };
            if let Some(found) = regex.captures(text) {
                for name in group_names(regex) {
                    if let Some(m) = found.name(&name) {
                        out.insert(name, Value::Bytes(m.as_bytes().to_vec()));
                    }
                }
            }
        }
        Matcher::Seq(parts) => {
            // The step consumed exactly these bytes: split them as the stream was split.
            if let SeqOutcome::Match { captures, .. } = match_whole(parts, consumed) {
                out = captures;
            }
        }
        _ => {}
    }
    if let Some(name) = whole {
        let value = match matcher {
            Matcher::Number(range) if consumed.len() == usize::from(range.width.size) => {
                Value::Number {
                    value: range.width.decode(consumed),
                    width: range.width,
                }
            }
            _ => Value::Bytes(consumed.to_vec()),
        };
        out.insert(name.to_string(), value);
    }
    out
}

#[cfg(test)]
#[path = "seq_tests.rs"]
mod tests;
