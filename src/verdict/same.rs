//! Comparing a program's reply with the reference program's reply to the same bytes, with the
//! differences a spec declares allowed: named regex groups that may differ, numbers within a
//! tolerance, lines (or a RESP array's elements) in any order. Pure.
//!
//! In: a [`SameAs`] and two replies. Out: `Ok`, or a [`Mismatch`] whose expected bytes are
//! the reference's reply and whose actual bytes are the program's, so reports show them
//! aligned.

use regex::bytes::Regex;

use super::frame::resp_elements;
use super::{Mismatch, first_difference, show_byte};
use crate::spec::model::frame::{Frame, SameAs};

/// Judges `candidate` against the reference's `reference` reply.
pub fn compare(same: &SameAs, reference: &[u8], candidate: &[u8]) -> Result<(), Mismatch> {
    if reference == candidate {
        return Ok(());
    }
    let allowed = allowances(same);
    if !allowed.is_empty() && equivalent(same, reference, candidate) {
        return Ok(());
    }
    let summary = match first_difference(reference, candidate) {
        Some(at) if at < reference.len() && at < candidate.len() => format!(
            "the reply differs from the reference's at byte {at}: the reference sent {}, this program {}",
            show_byte(reference[at]),
            show_byte(candidate[at])
        ),
        Some(at) if at == candidate.len() => format!(
            "the reply is shorter than the reference's: it ends after {at} byte(s), the reference's has {}",
            reference.len()
        ),
        _ => format!(
            "the reply is longer than the reference's: it goes on after the reference's {} byte(s), to {}",
            reference.len(),
            candidate.len()
        ),
    };
    let mut mismatch = Mismatch::new(summary).bytes(reference, candidate);
    if !allowed.is_empty() {
        mismatch = mismatch.hint(format!(
            "allowed to differ here: {}; the rest differs",
            allowed.join(", ")
        ));
    }
    Err(mismatch)
}

/// The declared allowances, in words.
fn allowances(same: &SameAs) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(regex) = &same.may_differ {
        let groups: Vec<String> = regex
            .capture_names()
            .flatten()
            .map(|g| format!("`{g}`"))
            .collect();
        words.push(format!(
            "the groups {} of /{}/",
            groups.join(", "),
            regex.as_str()
        ));
    }
    if let Some(t) = same.tolerance {
        words.push(format!("numbers within {t}"));
    }
    if same.any_order {
        words.push(match same.frame() {
            std::borrow::Cow::Borrowed(Frame::Resp) => {
                "lines or array elements in any order".into()
            }
            _ => "lines in any order".into(),
        });
    }
    words
}

/// Whether the two replies are the same once the allowed differences are set aside.
fn equivalent(same: &SameAs, reference: &[u8], candidate: &[u8]) -> bool {
    let normalize = |reply: &[u8]| -> Vec<Vec<u8>> {
        let mut units: Vec<Vec<u8>> = units(same, reply)
            .into_iter()
            .map(|u| masked(same.may_differ.as_ref(), u))
            .collect();
        if same.any_order {
            // The header of a RESP array stays first; the elements are sorted.
            let head = usize::from(is_resp_array(same, reply));
            units[head..].sort();
        }
        units
    };
    let (a, b) = (normalize(reference), normalize(candidate));
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| within(same.tolerance, x, y))
}

fn is_resp_array(same: &SameAs, reply: &[u8]) -> bool {
    matches!(same.frame().as_ref(), Frame::Resp) && resp_elements(reply).is_some()
}

/// The parts compared one by one: the whole reply, or with `any_order` its lines (a RESP
/// array: its header, then its elements).
fn units<'a>(same: &SameAs, reply: &'a [u8]) -> Vec<&'a [u8]> {
    if !same.any_order {
        return vec![reply];
    }
    if matches!(same.frame().as_ref(), Frame::Resp)
        && let Some(elements) = resp_elements(reply)
    {
        let body: usize = elements.iter().map(|e| e.len()).sum();
        let mut out = vec![&reply[..reply.len() - body]];
        out.extend(elements);
        return out;
    }
    reply.split_inclusive(|b| *b == b'\n').collect()
}

/// The unit with the text of every named group of `regex` replaced by the group's name.
fn masked(regex: Option<&Regex>, unit: &[u8]) -> Vec<u8> {
    let Some(regex) = regex else {
        return unit.to_vec();
    };
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
    for found in regex.captures_iter(unit) {
        for name in regex.capture_names().flatten() {
            if let Some(m) = found.name(name) {
                spans.push((m.start(), m.end(), name));
            }
        }
    }
    spans.sort_unstable();
    let mut out = Vec::with_capacity(unit.len());
    let mut at = 0;
    for (start, end, name) in spans {
        if start < at {
            continue;
        }
        out.extend_from_slice(&unit[at..start]);
        // NUL-delimited: no reply text can forge the placeholder by accident of content.
        out.push(0);
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        at = end;
    }
    out.extend_from_slice(&unit[at..]);
    out
}

/// Equal, or with a tolerance equal but for numbers that differ by at most it.
fn within(tolerance: Option<f64>, a: &[u8], b: &[u8]) -> bool {
    let Some(tolerance) = tolerance else {
        return a == b;
    };
    let (ta, tb) = (tokens(a), tokens(b));
    ta.len() == tb.len()
        && ta.iter().zip(&tb).all(|(x, y)| match (x, y) {
            (Token::Number(x), Token::Number(y)) => (x - y).abs() <= tolerance,
            (Token::Text(x), Token::Text(y)) => x == y,
            _ => false,
        })
}

#[derive(Debug)]
enum Token<'a> {
    Text(&'a [u8]),
    Number(f64),
}

/// Decimal numbers (`-12`, `3.5`) and the text between them.
fn tokens(bytes: &[u8]) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let (mut i, mut text_from) = (0, 0);
    while i < bytes.len() {
        let sign = usize::from(bytes[i] == b'-');
        let digits = bytes[i + sign..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            i += 1;
            continue;
        }
        let mut end = i + sign + digits;
        if bytes.get(end) == Some(&b'.') {
            let fraction = bytes[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if fraction > 0 {
                end += 1 + fraction;
            }
        }
        let number = std::str::from_utf8(&bytes[i..end])
            .ok()
            .and_then(|t| t.parse::<f64>().ok());
        if let Some(number) = number {
            if text_from < i {
                out.push(Token::Text(&bytes[text_from..i]));
            }
            out.push(Token::Number(number));
            text_from = end;
        }
        i = end;
    }
    if text_from < bytes.len() {
        out.push(Token::Text(&bytes[text_from..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(yaml: &str) -> SameAs {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn equal_replies_pass_and_others_say_where_they_differ() {
        let s = same("resp");
        assert!(compare(&s, b":1\r\n", b":1\r\n").is_ok());
        let m = compare(&s, b":1\r\n", b":0\r\n").unwrap_err();
        assert_eq!(
            m.summary,
            "the reply differs from the reference's at byte 1: the reference sent 0x31 '1', this program 0x30 '0'"
        );
        assert_eq!(m.expected.as_deref(), Some(&b":1\r\n"[..]));
        assert_eq!(m.actual.as_deref(), Some(&b":0\r\n"[..]));
        let m = compare(&s, b"+OK\r\n", b"+OK").unwrap_err();
        assert!(m.summary.contains("shorter"), "{}", m.summary);
    }

    #[test]
    fn named_groups_may_differ_and_nothing_else() {
        let s = same("{frame: line, may_differ: 'id=(?P<id>[0-9]+)'}");
        assert!(compare(&s, b"ok id=12 done\n", b"ok id=99871 done\n").is_ok());
        let m = compare(&s, b"ok id=12 done\n", b"ok id=99 gone\n").unwrap_err();
        assert!(m.hint.unwrap().contains("the groups `id`"));
    }

    #[test]
    fn numbers_may_differ_within_the_tolerance() {
        let s = same("{frame: resp, tolerance: 2}");
        assert!(compare(&s, b":100\r\n", b":98\r\n").is_ok());
        assert!(compare(&s, b":100\r\n", b":97\r\n").is_err());
        assert!(compare(&s, b",1.5\r\n", b",2.5\r\n").is_ok());
        assert!(compare(&s, b"+a1\r\n", b"+b1\r\n").is_err());
    }

    #[test]
    fn lines_and_array_elements_may_come_in_any_order() {
        let s = same("{frame: {until: \".\\n\"}, any_order: true}");
        assert!(compare(&s, b"a\nb\n.\n", b"b\na\n.\n").is_ok());
        assert!(compare(&s, b"a\nb\n.\n", b"b\nb\n.\n").is_err());
        let s = same("{frame: resp, any_order: true}");
        assert!(
            compare(
                &s,
                b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
                b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"
            )
            .is_ok()
        );
        assert!(compare(&s, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*1\r\n$1\r\nb\r\n").is_err());
    }
}
