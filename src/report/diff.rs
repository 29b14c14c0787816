//! Expected and actual bytes, shown so a person sees the wrong byte at once: escaped text
//! with a caret, then a hex dump of both sides with the first differing byte marked.
//!
//! In: two byte strings. Out: lines of text (no colour, no trailing newline). [`render`]
//! shows a window of the bytes around the first difference (for report files);
//! [`render_elided`] is the terminal's: the start, the end and the bytes on each side of the
//! first difference, with counts of what is left out, so a long value stays a few lines.

use std::ops::Range;

use crate::spec::payload::escape;
use crate::verdict::first_difference;

/// Bytes shown at most per side; a difference past this is shown in a window around it.
const WINDOW: usize = 128;
const ROW: usize = 16;

pub fn render(expected: &[u8], actual: &[u8]) -> Vec<String> {
    let diff = first_difference(expected, actual);
    let start = match diff {
        Some(at) if at >= WINDOW / 2 => (at - WINDOW / 4) / ROW * ROW,
        _ => 0,
    };
    let (exp_text, exp_caret) = escaped_window(expected, start, diff);
    let (act_text, act_caret) = escaped_window(actual, start, diff);
    let mut lines = heading(&exp_text, &act_text, act_caret.or(exp_caret), diff);
    let end = expected.len().max(actual.len()).min(start + WINDOW);
    let mut row = start;
    while row < end.max(start + 1) && row < start + WINDOW {
        let left = hex_row(expected, row);
        let right = hex_row(actual, row);
        let mark = diff.filter(|at| (row..row + ROW).contains(at));
        lines.push(format!(
            "{row:06x}  {left:<width$}  {right}",
            width = ROW * 3
        ));
        if let Some(at) = mark {
            let col = (at - row) * 3;
            let caret = format!("{}^^", " ".repeat(col));
            lines.push(format!("        {caret:<width$}  {caret}", width = ROW * 3));
        }
        row += ROW;
        if row >= end {
            break;
        }
    }
    let total = expected.len().max(actual.len());
    if total > start + WINDOW || start > 0 {
        lines.push(format!(
            "(showing bytes {start}..{}; expected has {}, actual has {})",
            (start + WINDOW).min(total),
            expected.len(),
            actual.len()
        ));
    }
    lines
}

/// The escaped text of `bytes[start..start+WINDOW]`, quoted, and the column of `diff` in it.
fn escaped_window(bytes: &[u8], start: usize, diff: Option<usize>) -> (String, Option<usize>) {
    let start = start.min(bytes.len());
    let end = (start + WINDOW).min(bytes.len());
    let mut text = String::from(if start > 0 { "…\"" } else { "\"" });
    let mut caret = None;
    for (offset, byte) in bytes[start..end].iter().enumerate() {
        if diff == Some(start + offset) {
            caret = Some(text.chars().count());
        }
        text.push_str(&escape(&[*byte]));
    }
    if diff == Some(end) && end == bytes.len() {
        caret = Some(text.chars().count());
    }
    text.push('"');
    if end < bytes.len() {
        text.push('…');
    }
    (text, caret)
}

/// A plain hex dump of the first `rows` rows of `bytes`, with offsets.
pub fn hex_rows(bytes: &[u8], rows: usize) -> Vec<String> {
    let mut lines: Vec<String> = (0..bytes.len().div_ceil(ROW).min(rows))
        .map(|r| format!("{:06x}  {}", r * ROW, hex_row(bytes, r * ROW)))
        .collect();
    if bytes.len() > rows * ROW {
        lines.push(format!("(first {} of {} bytes)", rows * ROW, bytes.len()));
    }
    lines
}

/// Bytes the terminal shows at the start and at the end of a long value, and on each side
/// of the first difference.
const HEAD: usize = 32;
const TAIL: usize = 16;
const AROUND: usize = 16;
/// Values up to this many bytes are shown whole.
const WHOLE: usize = 64;

/// The parts of a value of `len` bytes the terminal shows: sorted, disjoint, non-empty
/// ranges. `whole` when every value of the comparison is short enough to show in full; the
/// decision is shared, so both sides show the same bytes before the first difference and
/// the caret stays under it.
fn kept(len: usize, diff: Option<usize>, whole: bool) -> Vec<Range<usize>> {
    if whole {
        return std::iter::once(0..len).filter(|r| !r.is_empty()).collect();
    }
    let mut ranges = vec![0..HEAD.min(len), len.saturating_sub(TAIL)..len];
    if let Some(at) = diff {
        ranges.push(at.saturating_sub(AROUND).min(len)..(at + AROUND).min(len));
    }
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges.into_iter().filter(|r| !r.is_empty()) {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The escaped text of the `ranges` of `bytes`, each part quoted, gaps written
/// `…(N bytes)…`; and the column of `diff` in it (at the closing quote when the difference
/// is that the bytes end there).
fn escaped_parts(
    bytes: &[u8],
    ranges: &[Range<usize>],
    diff: Option<usize>,
) -> (String, Option<usize>) {
    let mut text = String::new();
    let mut caret = None;
    let mut shown_to = 0;
    for range in ranges {
        if range.start > shown_to {
            text.push_str(&format!("…({} bytes)…", range.start - shown_to));
        }
        text.push('"');
        for at in range.clone() {
            if diff == Some(at) {
                caret = Some(text.chars().count());
            }
            text.push_str(&escape(&bytes[at..=at]));
        }
        if diff == Some(range.end) && range.end == bytes.len() {
            caret = Some(text.chars().count());
        }
        text.push('"');
        shown_to = range.end;
    }
    if ranges.is_empty() {
        if diff == Some(0) {
            caret = Some(1);
        }
        text.push_str("\"\"");
    }
    (text, caret)
}

/// The rows of a side-by-side dump that hold a shown byte of either side.
fn kept_rows(sides: &[&[Range<usize>]]) -> Vec<usize> {
    let mut rows: Vec<usize> = sides
        .iter()
        .flat_map(|ranges| ranges.iter())
        .filter(|r| !r.is_empty())
        .flat_map(|r| r.start / ROW..=(r.end - 1) / ROW)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// The line that stands for rows left out of a dump.
fn rows_left_out(rows: usize) -> String {
    let what = if rows == 1 { "row" } else { "rows" };
    format!("        … {rows} {what} ({} bytes) left out …", rows * ROW)
}

/// [`render`] for a terminal: long values shown by their start, their end and the bytes on
/// each side of the first difference.
pub fn render_elided(expected: &[u8], actual: &[u8]) -> Vec<String> {
    let diff = first_difference(expected, actual);
    let whole = expected.len().max(actual.len()) <= WHOLE;
    let exp_ranges = kept(expected.len(), diff, whole);
    let act_ranges = kept(actual.len(), diff, whole);
    let (exp_text, exp_caret) = escaped_parts(expected, &exp_ranges, diff);
    let (act_text, act_caret) = escaped_parts(actual, &act_ranges, diff);
    let mut lines = heading(&exp_text, &act_text, act_caret.or(exp_caret), diff);
    let mut next = 0;
    for row in kept_rows(&[&exp_ranges, &act_ranges]) {
        if row > next {
            lines.push(rows_left_out(row - next));
        }
        let at = row * ROW;
        lines.push(format!(
            "{at:06x}  {:<width$}  {}",
            hex_row(expected, at),
            hex_row(actual, at),
            width = ROW * 3
        ));
        if let Some(d) = diff.filter(|d| (at..at + ROW).contains(d)) {
            let caret = format!("{}^^", " ".repeat((d - at) * 3));
            lines.push(format!("        {caret:<width$}  {caret}", width = ROW * 3));
        }
        next = row + 1;
    }
    if !whole {
        lines.push(format!(
            "(expected has {} bytes, actual has {}; … marks what is left out)",
            expected.len(),
            actual.len()
        ));
    }
    lines
}

/// One value for a terminal, quoted: whole when short, else its start and its end.
pub fn text_elided(bytes: &[u8]) -> String {
    let whole = bytes.len() <= WHOLE;
    escaped_parts(bytes, &kept(bytes.len(), None, whole), None).0
}

/// A hex dump of one value for a terminal: whole when short, else its first and last rows.
pub fn hex_rows_elided(bytes: &[u8]) -> Vec<String> {
    let ranges = kept(bytes.len(), None, bytes.len() <= WHOLE);
    let mut lines = Vec::new();
    let mut next = 0;
    for row in kept_rows(&[&ranges]) {
        if row > next {
            lines.push(rows_left_out(row - next));
        }
        lines.push(format!("{:06x}  {}", row * ROW, hex_row(bytes, row * ROW)));
        next = row + 1;
    }
    lines
}

fn hex_row(bytes: &[u8], row: usize) -> String {
    bytes
        .iter()
        .skip(row)
        .take(ROW)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The lines above a hex dump: both values as text, the caret under the first difference, and
/// the dump's column heads.
fn heading(expected: &str, actual: &str, caret: Option<usize>, diff: Option<usize>) -> Vec<String> {
    let mut lines = vec![
        format!("expected: {expected}"),
        format!("actual:   {actual}"),
    ];
    if let Some(col) = caret {
        lines.push(format!(
            "          {}^ first difference, byte {}",
            " ".repeat(col),
            diff.unwrap_or(0)
        ));
    }
    lines.push(format!(
        "{:<8}{:<width$}  {}",
        "offset",
        "expected (hex)",
        "actual (hex)",
        width = ROW * 3
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_wrong_byte_in_text_and_hex() {
        let lines = render(b"Hello World!\n", b"Hello World?\n");
        assert_eq!(lines[0], r#"expected: "Hello World!\n""#);
        assert_eq!(lines[1], r#"actual:   "Hello World?\n""#);
        assert_eq!(
            lines[2],
            format!("{}^ first difference, byte 11", " ".repeat(22))
        );
        assert!(
            lines[4].starts_with("000000  48 65 6c 6c 6f 20 57 6f 72 6c 64 21 0a"),
            "{}",
            lines[4]
        );
        assert!(
            lines[4].ends_with("48 65 6c 6c 6f 20 57 6f 72 6c 64 3f 0a"),
            "{}",
            lines[4]
        );
        assert_eq!(&lines[5][8 + 33..8 + 35], "^^");
    }

    #[test]
    fn marks_a_missing_tail() {
        let lines = render(b"ab\n", b"ab");
        assert_eq!(
            lines[2],
            format!("{}^ first difference, byte 2", " ".repeat(13))
        );
    }

    #[test]
    fn a_terminal_shows_start_end_and_the_difference_of_a_long_value() {
        let expected: Vec<u8> = (0..1450u32).map(|i| b'a' + (i % 26) as u8).collect();
        let actual = expected[..1000].to_vec();
        let lines = render_elided(&expected, &actual);
        assert_eq!(
            lines[0],
            "expected: \"abcdefghijklmnopqrstuvwxyzabcdef\"…(952 bytes)…\"wxyzabcdefghijklmnopqrstuvwxyzab\"…(418 bytes)…\"efghijklmnopqrst\""
        );
        assert_eq!(
            lines[1],
            "actual:   \"abcdefghijklmnopqrstuvwxyzabcdef\"…(952 bytes)…\"wxyzabcdefghijkl\""
        );
        // The caret sits under the closing quote: the actual bytes end there.
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('"'), "{lines:#?}");
        assert!(lines[2].ends_with("^ first difference, byte 1000"));
        assert_eq!(
            lines[4],
            format!(
                "000000  {:<48}  {}",
                hex_row(&expected, 0),
                hex_row(&actual, 0)
            )
        );
        assert!(lines[5].starts_with("000010  "), "{lines:#?}");
        assert_eq!(lines[6], "        … 59 rows (944 bytes) left out …");
        assert!(lines[7].starts_with("0003d0  "), "{lines:#?}");
        assert_eq!(
            lines.last().unwrap(),
            "(expected has 1450 bytes, actual has 1000; … marks what is left out)"
        );
        assert!(lines.len() <= 16, "{lines:#?}");
        assert!(lines.iter().all(|l| l.chars().count() < 160), "{lines:#?}");
    }

    proptest::proptest! {
        #[test]
        fn elided_rendering_never_panics_and_stays_short(
            expected in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
            actual in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
        ) {
            let lines = render_elided(&expected, &actual);
            proptest::prop_assert!(lines.len() <= 20, "{lines:#?}");
            let single = hex_rows_elided(&actual);
            proptest::prop_assert!(single.len() <= 6);
            proptest::prop_assert!(text_elided(&expected).chars().count() <= 4 * WHOLE + 32);
        }
    }

    #[test]
    fn empty_values_render_without_rows() {
        let lines = render_elided(b"", b"\x00\x00\x00\x01");
        assert_eq!(lines[0], "expected: \"\"");
        assert_eq!(lines[1], r#"actual:   "\x00\x00\x00\x01""#);
        assert_eq!(lines[4], format!("000000  {:<48}  00 00 00 01", ""));
        assert_eq!(render_elided(b"", b"").len(), 3);
        assert_eq!(hex_rows_elided(b""), Vec::<String>::new());
        assert_eq!(text_elided(b""), "\"\"");
    }

    #[test]
    fn a_short_value_is_shown_whole_in_a_terminal() {
        let lines = render_elided(b"Hello World!\n", b"Hello World?\n");
        assert_eq!(lines, render(b"Hello World!\n", b"Hello World?\n"));
    }

    #[test]
    fn a_long_single_value_shows_its_start_and_end() {
        let bytes: Vec<u8> = (0..200u8).collect();
        let text = text_elided(&bytes);
        assert!(text.starts_with("\"\\x00\\x01"), "{text}");
        assert!(text.contains("\"…(152 bytes)…\""), "{text}");
        let rows = hex_rows_elided(&bytes);
        assert_eq!(rows.len(), 5, "{rows:#?}");
        assert_eq!(rows[2], "        … 9 rows (144 bytes) left out …");
        assert!(rows[4].starts_with("0000c0  c0 c1"), "{rows:#?}");
    }

    #[test]
    fn long_payloads_show_a_window_around_the_difference() {
        let expected = vec![b'a'; 1000];
        let mut actual = expected.clone();
        actual[700] = b'b';
        let lines = render(&expected, &actual);
        assert!(lines.iter().any(|l| l.contains("byte 700")), "{lines:#?}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with("(showing bytes 656..784")),
            "{lines:#?}"
        );
        assert!(lines.len() < 30);
    }
}
