//! How a generated value's bytes read in a report: whole when short, in parts when long,
//! never cut without saying so.
//!
//! In: bytes. Out: one line of escaped text in quotes, or of parts (`"\x00" × 999`,
//! `… 1489 byte(s) …`, `"\r\n" at 999`).

use crate::spec::payload::escape;

/// Byte strings up to this long are shown whole.
pub(super) const SHOWN: usize = 64;
/// A run of equal bytes at least this long is shown as the byte and its count.
const RUN: usize = 8;
/// A stretch of other bytes longer than twice this shows this many at each end.
const EDGE: usize = 16;
/// The most CR LF shown inside a stretch of a long value, and the bytes shown around each.
const LINE_ENDS: usize = 4;
const AROUND: usize = 4;
/// The most parts a long value is shown in; the middle ones are counted instead.
const PARTS: usize = 12;

/// One part of a long byte string.
enum Part {
    /// The bytes `start..end`, shown.
    Bytes { start: usize, end: usize },
    /// `count` bytes equal to `byte` from `start`.
    Run { byte: u8, count: usize },
    /// So many bytes not shown.
    Gap(usize),
}

/// Bytes as escaped text in quotes; a long string in parts, so that nothing is hidden
/// without saying how much: runs of one byte as the byte and a count (`"\x00" × 999`),
/// other stretches whole when short, else their first and last bytes and the bytes around
/// their first CR LF, with the count of those left out between; each part that does not
/// start the value says where it starts. A shrunk
/// value is mostly one repeated byte, so the bytes that make it fail stay in view:
/// `"\x00" × 999, "\r\n" at 999`.
pub fn describe_bytes(b: &[u8]) -> String {
    if b.len() <= SHOWN {
        return format!("\"{}\"", escape(b));
    }
    let mut parts = Vec::new();
    let stretch = |parts: &mut Vec<Part>, start: usize, end: usize| {
        if end - start <= 2 * EDGE {
            if start < end {
                parts.push(Part::Bytes { start, end });
            }
            return;
        }
        // The first and last bytes, and a few bytes around each CR LF in between (up to
        // a few of them): line ends are where most protocols split their input.
        let mut shown = vec![(start, start + EDGE)];
        let middle = &b[start + EDGE..end - EDGE];
        for at in middle
            .windows(2)
            .enumerate()
            .filter(|(_, w)| *w == b"\r\n")
            .map(|(i, _)| start + EDGE + i)
            .take(LINE_ENDS)
        {
            let window = (at.saturating_sub(AROUND), (at + 2 + AROUND).min(end));
            match shown.last_mut() {
                Some(last) if window.0 <= last.1 => last.1 = last.1.max(window.1),
                _ => shown.push(window),
            }
        }
        match shown.last_mut() {
            Some(last) if end - EDGE <= last.1 => last.1 = end,
            _ => shown.push((end - EDGE, end)),
        }
        let mut at = start;
        for (s, e) in shown {
            if s > at {
                parts.push(Part::Gap(s - at));
            }
            parts.push(Part::Bytes { start: s, end: e });
            at = e;
        }
    };
    let (mut i, mut other) = (0, 0);
    while i < b.len() {
        let count = b[i..].iter().take_while(|&&x| x == b[i]).count();
        if count >= RUN {
            stretch(&mut parts, other, i);
            parts.push(Part::Run { byte: b[i], count });
            other = i + count;
        }
        i += count;
    }
    stretch(&mut parts, other, b.len());
    let size = |p: &Part| match p {
        Part::Bytes { start, end } => end - start,
        Part::Run { count, .. } => *count,
        Part::Gap(n) => *n,
    };
    if parts.len() > PARTS {
        let tail = parts.split_off(parts.len() - PARTS / 2);
        let left: usize = parts.drain(PARTS / 2..).map(|p| size(&p)).sum();
        parts.push(Part::Gap(left));
        parts.extend(tail);
    }
    let mut at = 0;
    let mut out = Vec::with_capacity(parts.len());
    for part in &parts {
        out.push(match part {
            Part::Bytes { start, end } if *start == 0 => format!("\"{}\"", escape(&b[..*end])),
            Part::Bytes { start, end } => {
                format!("\"{}\" at {start}", escape(&b[*start..*end]))
            }
            Part::Run { byte, count } => format!("\"{}\" × {count}", escape(&[*byte])),
            Part::Gap(n) => format!("… {n} byte(s) …"),
        });
        at += size(part);
    }
    debug_assert_eq!(at, b.len());
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use crate::spec::Value;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(
            Value::Bytes(vec![0, 1]).describe(),
            "2 byte(s) \"\\x00\\x01\""
        );
        assert_eq!(
            Value::Bytes(vec![7; 9]).describe(),
            "9 byte(s), all \"\\x07\""
        );
        let edge = [b'a'; 63].iter().chain(b"\n").copied().collect::<Vec<u8>>();
        assert!(Value::Bytes(edge).describe().ends_with("aaa\\n\""));
    }

    #[test]
    fn a_long_value_of_zeros_keeps_its_crlf_and_says_where_it_is() {
        let mut b = vec![0u8; 999];
        b.extend_from_slice(b"\r\n");
        assert_eq!(
            Value::Bytes(b).describe(),
            "1001 byte(s): \"\\x00\" × 999, \"\\r\\n\" at 999"
        );
        let mut b = vec![0u8; 1500];
        b[563] = b'\r';
        b[564] = b'\n';
        assert_eq!(
            Value::Bytes(b).describe(),
            "1500 byte(s): \"\\x00\" × 563, \"\\r\\n\" at 563, \"\\x00\" × 935"
        );
    }

    #[test]
    fn a_long_varied_value_shows_its_ends_and_counts_what_it_leaves_out() {
        let b: Vec<u8> = (0..1800u32).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(
            Value::Bytes(b).describe(),
            "1800 byte(s): \"abcdefghijklmnop\", … 1768 byte(s) …, \"qrstuvwxyzabcdef\" at 1784"
        );
    }

    #[test]
    fn a_long_varied_value_keeps_the_bytes_around_a_crlf_in_view() {
        let mut b: Vec<u8> = (0..1800u32).map(|i| b'a' + (i % 26) as u8).collect();
        b[563] = b'\r';
        b[564] = b'\n';
        assert_eq!(
            Value::Bytes(b).describe(),
            "1800 byte(s): \"abcdefghijklmnop\", … 543 byte(s) …, \"nopq\\r\\ntuvw\" at 559, \
             … 1215 byte(s) …, \"qrstuvwxyzabcdef\" at 1784"
        );
    }

    #[test]
    fn a_value_of_many_parts_counts_the_middle_ones() {
        // 30 runs of 8 bytes, alternating 0 and 1: the first 6 and the last 6 parts shown.
        let b: Vec<u8> = (0..240).map(|i| ((i / 8) % 2) as u8).collect();
        let text = Value::Bytes(b).describe();
        assert_eq!(text.matches(" × 8").count(), 12, "{text}");
        assert!(text.contains("… 144 byte(s) …"), "{text}");
    }
}
