//! Expected and actual bytes, shown so a person sees the wrong byte at once: escaped text
//! with a caret, then a hex dump of both sides with the first differing byte marked.
//!
//! In: two byte strings. Out: lines of text (no colour, no trailing newline).

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
    let mut lines = Vec::new();
    let (exp_text, exp_caret) = escaped_window(expected, start, diff);
    let (act_text, act_caret) = escaped_window(actual, start, diff);
    lines.push(format!("expected: {exp_text}"));
    lines.push(format!("actual:   {act_text}"));
    if let Some(col) = act_caret.or(exp_caret) {
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

fn hex_row(bytes: &[u8], row: usize) -> String {
    bytes
        .iter()
        .skip(row)
        .take(ROW)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
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
