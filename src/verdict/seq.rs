//! Matching a sequence of parts, and the numbers in it, against received bytes; and the
//! values a passed step captures. Pure: no sockets, no clocks.
//!
//! In: the parts of one case, the bytes received so far and whether more can come. Out: a
//! match (bytes consumed, named captures), "need more bytes", or a [`Mismatch`] naming the
//! part and the byte offset where the reply went wrong.

use std::collections::BTreeMap;

use super::{Mismatch, show_byte};
use crate::spec::model::number::NumberRange;
use crate::spec::model::seq::{Part, group_names};
use crate::spec::payload::escape;
use crate::spec::{Matcher, Value};

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

/// Matches `parts` against the start of `buf`. With `complete`, no more bytes will come, so
/// a part that needs more fails instead of waiting.
pub fn match_seq(parts: &[Part], buf: &[u8], complete: bool) -> SeqOutcome {
    let mut pos = 0;
    let mut captures = BTreeMap::new();
    for (index, part) in parts.iter().enumerate() {
        let n = index + 1;
        let rest = &buf[pos..];
        let short = |want: usize| {
            if complete {
                SeqOutcome::Fail(
                    Mismatch::new(format!(
                        "part {n} of the sequence needs {want} byte(s) at byte {pos}, but only {} arrived",
                        rest.len()
                    ))
                    .bytes(b"", buf),
                )
            } else {
                SeqOutcome::Pending
            }
        };
        match part {
            Part::Bytes(expected) => {
                let seen = &rest[..rest.len().min(expected.len())];
                if let Some(at) = seen.iter().zip(expected).position(|(a, b)| a != b) {
                    let mut want = buf[..pos].to_vec();
                    want.extend_from_slice(expected);
                    return SeqOutcome::Fail(
                        Mismatch::new(format!(
                            "part {n} of the sequence differs at byte {}: expected {}, got {}",
                            pos + at,
                            show_byte(expected[at]),
                            show_byte(seen[at])
                        ))
                        .bytes(&want, &buf[..buf.len().min(want.len().max(pos + at + 16))]),
                    );
                }
                if seen.len() < expected.len() {
                    return short(expected.len());
                }
                pos += expected.len();
            }
            Part::Length { n: len, capture } => {
                if rest.len() < *len {
                    return short(*len);
                }
                keep(&mut captures, capture, Value::Bytes(rest[..*len].to_vec()));
                pos += len;
            }
            Part::LengthFrom { from, capture } => {
                let Some(len) = captures
                    .get(from)
                    .map(|v| crate::spec::model::number::number_of(v) as usize)
                else {
                    return SeqOutcome::Fail(Mismatch::new(format!(
                        "part {n} of the sequence takes its length from `{from}`, which nothing captured"
                    )));
                };
                if rest.len() < len {
                    return short(len);
                }
                keep(&mut captures, capture, Value::Bytes(rest[..len].to_vec()));
                pos += len;
            }
            Part::Until { delim, capture } => {
                match rest
                    .windows(delim.len())
                    .position(|w| w == delim.as_slice())
                {
                    Some(at) => {
                        keep(&mut captures, capture, Value::Bytes(rest[..at].to_vec()));
                        pos += at + delim.len();
                    }
                    None if complete => {
                        return SeqOutcome::Fail(
                            Mismatch::new(format!(
                                "part {n} of the sequence: \"{}\" never came after byte {pos}",
                                escape(delim)
                            ))
                            .bytes(b"", buf),
                        );
                    }
                    None => return SeqOutcome::Pending,
                }
            }
            Part::Regex(regex) => match regex.shortest_match(rest) {
                Some(end) => {
                    if let Some(found) = regex.captures(&rest[..end]) {
                        for name in group_names(regex) {
                            if let Some(m) = found.name(&name) {
                                captures.insert(name, Value::Bytes(m.as_bytes().to_vec()));
                            }
                        }
                    }
                    pos += end;
                }
                None if complete => {
                    return SeqOutcome::Fail(
                        Mismatch::new(format!(
                            "part {n} of the sequence: the bytes from byte {pos} do not match /{}/",
                            super::strip_anchors(regex.as_str())
                        ))
                        .bytes(b"", buf),
                    );
                }
                None => return SeqOutcome::Pending,
            },
            Part::Number { range, capture } => {
                let size = usize::from(range.width.size);
                if rest.len() < size {
                    return short(size);
                }
                let value = range.width.decode(&rest[..size]);
                if let Err(mut m) = judge_number(range, value) {
                    m.summary = format!("part {n} of the sequence (byte {pos}): {}", m.summary);
                    m.actual = Some(buf[..pos + size].to_vec());
                    return SeqOutcome::Fail(m);
                }
                keep(
                    &mut captures,
                    capture,
                    Value::Number {
                        value,
                        width: range.width,
                    },
                );
                pos += size;
            }
        }
    }
    SeqOutcome::Match {
        consumed: pos,
        captures,
    }
}

fn keep(captures: &mut BTreeMap<String, Value>, name: &Option<String>, value: Value) {
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
            if regex.capture_names().flatten().next().is_some() =>
        {
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
            if let SeqOutcome::Match { captures, .. } = match_seq(parts, consumed, true) {
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
mod tests {
    use super::*;
    use crate::spec::model::number::{RFC868_OFFSET, Width};

    fn range(lo: u64, hi: u64) -> NumberRange {
        NumberRange {
            width: Width::new(4, None).unwrap(),
            lo,
            hi,
            what: format!("{lo}..{hi}"),
            epoch: None,
        }
    }

    fn regex(p: &str) -> regex::bytes::Regex {
        regex::bytes::Regex::new(&format!("^(?:{p})")).unwrap()
    }

    #[test]
    fn a_memcached_style_reply_matches_and_captures() {
        let parts = vec![
            Part::Length {
                n: 2,
                capture: Some("id".into()),
            },
            Part::Bytes(vec![0, 0, 0, 1, 0, 0]),
            Part::Regex(regex(r"VERSION (?P<version>[0-9.]+)\r\n")),
        ];
        let reply = b"\x12\x34\x00\x00\x00\x01\x00\x00VERSION 1.6.18\r\n";
        match match_seq(&parts, reply, true) {
            SeqOutcome::Match { consumed, captures } => {
                assert_eq!(consumed, reply.len());
                assert_eq!(captures["id"], Value::Bytes(vec![0x12, 0x34]));
                assert_eq!(captures["version"], Value::Bytes(b"1.6.18".to_vec()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_length_delimited_field_takes_its_length_from_an_earlier_capture() {
        let parts = vec![
            Part::Bytes(b"$".to_vec()),
            Part::Until {
                delim: b"\r\n".to_vec(),
                capture: Some("len".into()),
            },
            Part::LengthFrom {
                from: "len".into(),
                capture: Some("value".into()),
            },
            Part::Bytes(b"\r\n".to_vec()),
        ];
        assert_eq!(match_seq(&parts, b"$5\r\nhel", false), SeqOutcome::Pending);
        match match_seq(&parts, b"$5\r\nhello\r\n+OK", false) {
            SeqOutcome::Match { consumed, captures } => {
                assert_eq!(consumed, 11);
                assert_eq!(captures["value"], Value::Bytes(b"hello".to_vec()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_byte_names_the_part_and_the_offset() {
        let parts = vec![Part::Bytes(b"+OK".to_vec()), Part::Bytes(b"\r\n".to_vec())];
        let SeqOutcome::Fail(m) = match_seq(&parts, b"+OK\n", false) else {
            panic!()
        };
        assert!(
            m.summary
                .contains("part 2 of the sequence differs at byte 3"),
            "{}",
            m.summary
        );
    }

    #[test]
    fn a_short_datagram_fails_but_a_short_stream_waits() {
        let parts = vec![Part::Length {
            n: 4,
            capture: None,
        }];
        assert_eq!(match_seq(&parts, b"ab", false), SeqOutcome::Pending);
        let SeqOutcome::Fail(m) = match_seq(&parts, b"ab", true) else {
            panic!()
        };
        assert!(
            m.summary
                .contains("needs 4 byte(s) at byte 0, but only 2 arrived")
        );
    }

    #[test]
    fn numbers_out_of_range_say_what_was_wanted_and_why_it_might_differ() {
        let now = 1_796_000_000;
        let r = NumberRange {
            width: Width::new(4, None).unwrap(),
            lo: now + RFC868_OFFSET - 2,
            hi: now + RFC868_OFFSET + 2,
            what: "now".into(),
            epoch: Some(crate::spec::model::number::Epoch::Rfc868),
        };
        let m = judge_number(&r, now).unwrap_err();
        assert!(m.summary.contains(&format!("got {now}")), "{}", m.summary);
        assert!(m.hint.unwrap().contains("Unix time"));
        assert!(judge_number(&range(5, 9), 7).is_ok());
    }

    #[test]
    fn captures_of_a_regex_step_and_of_the_whole_step() {
        let m = Matcher::LineRegex(
            regex::bytes::Regex::new(r"^(?:VALUE (?P<key>\S+) (?P<len>\d+))$").unwrap(),
        );
        let got = captures(&m, b"VALUE k1 5\n", Some("all"));
        assert_eq!(got["key"], Value::Bytes(b"k1".to_vec()));
        assert_eq!(got["len"], Value::Bytes(b"5".to_vec()));
        assert_eq!(got["all"], Value::Bytes(b"VALUE k1 5\n".to_vec()));
    }
}
