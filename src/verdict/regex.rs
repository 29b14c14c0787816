//! Judging `regex` and `line_regex` expectations. Pure: no sockets, no clocks.
//!
//! In: the matcher, its [`MatchRegex`] and the bytes received (a stream's buffer, or one
//! datagram). Out: on a stream, [`Progress`]: a match passes, bytes that no continuation can
//! make match fail at once (naming the byte where a match became impossible), anything else
//! waits; on a datagram, whether it matches whole, and if not where it went wrong.

use super::scan::{Rest, dead_byte, scan};
use super::{Mismatch, Progress, describe_matcher, show_byte};
use crate::spec::payload::escape;
use crate::spec::{MatchRegex, Matcher};

/// How many bytes after the one that made a match impossible a failure shows.
const SHOWN_AFTER: usize = 16;

/// `regex:` on a stream: the shortest prefix that matches, so the result does not depend on
/// how the bytes were split into segments.
pub(super) fn judge_regex(matcher: &Matcher, regex: &MatchRegex, buf: &[u8]) -> Progress {
    if let Some(end) = regex.regex().shortest_match(buf) {
        return Progress::Pass { consumed: end };
    }
    match dead_byte(regex, buf) {
        Some(at) => Progress::Fail(impossible(&describe_matcher(matcher), buf, at)),
        None => Progress::Pending,
    }
}

/// `line_regex:` on a stream: one line, decided when its newline comes, or before when its
/// content can no longer match whatever follows.
pub(super) fn judge_line_regex(matcher: &Matcher, regex: &MatchRegex, buf: &[u8]) -> Progress {
    let newline = buf.iter().position(|b| *b == b'\n');
    let content = &buf[..newline.unwrap_or(buf.len())];
    if let Some(end) = newline
        && regex.regex().is_match(content)
    {
        return Progress::Pass { consumed: end + 1 };
    }
    let line = &buf[..newline.map_or(buf.len(), |end| end + 1)];
    // The same message whether or not the newline has arrived yet, so it does not depend on
    // how the line was split into segments.
    if let Some(at) = dead_byte(regex, content) {
        return Progress::Fail(impossible(&describe_matcher(matcher), line, at));
    }
    match newline {
        Some(_) => Progress::Fail(
            Mismatch::new(format!(
                "expected {}, but got \"{}\"",
                describe_matcher(matcher),
                escape(line)
            ))
            .bytes(b"", line),
        ),
        None => Progress::Pending,
    }
}

/// `regex:` or `line_regex:` on one datagram, which must match whole.
pub(super) fn judge_regex_datagram(
    matcher: &Matcher,
    regex: &MatchRegex,
    datagram: &[u8],
) -> Result<(), Mismatch> {
    let content = match matcher {
        Matcher::LineRegex(_) => datagram.strip_suffix(b"\n"),
        _ => Some(datagram),
    };
    if content.is_some_and(|content| regex.whole().is_match(content)) {
        return Ok(());
    }
    let what = format!("a datagram of {}", describe_matcher(matcher));
    // Whole: a prefix that matched does not help, a byte no match can contain decides.
    let dead = scan(regex, content.unwrap_or(datagram)).and_then(|found| match found.rest {
        Rest::DeadAt(at) => Some(at),
        Rest::Closed | Rest::Open => None,
    });
    Err(match dead {
        Some(at) => impossible(&what, datagram, at).bytes(b"", datagram),
        None => {
            Mismatch::new(format!("expected {what}, but it did not match")).bytes(b"", datagram)
        }
    })
}

/// The failure of bytes in which no match is possible from byte `at` on; `what` describes
/// the expectation ("bytes matching /.../").
pub(super) fn impossible(what: &str, bytes: &[u8], at: usize) -> Mismatch {
    Mismatch::new(format!(
        "no match is possible from byte {at} ({}): expected {what}",
        show_byte(bytes[at])
    ))
    .bytes(b"", &bytes[..bytes.len().min(at + 1 + SHOWN_AFTER)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn regex(pattern: &str) -> Matcher {
        Matcher::Regex(MatchRegex::start(pattern).unwrap())
    }

    fn line_regex(pattern: &str) -> Matcher {
        Matcher::LineRegex(MatchRegex::line(pattern).unwrap())
    }

    fn on_stream(matcher: &Matcher, buf: &str) -> Progress {
        match matcher {
            Matcher::Regex(r) => judge_regex(matcher, r, buf.as_bytes()),
            Matcher::LineRegex(r) => judge_line_regex(matcher, r, buf.as_bytes()),
            _ => unreachable!("a regex matcher"),
        }
    }

    fn summary(progress: Progress) -> String {
        match progress {
            Progress::Fail(m) => m.summary,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[rstest]
    #[case::a_match(regex(r":[0-9]+\r\n"), ":15\r\n", Progress::Pass { consumed: 5 })]
    #[case::a_viable_prefix(regex(r":[0-9]+\r\n"), ":15\r", Progress::Pending)]
    #[case::nothing_yet(regex(r":[0-9]+\r\n"), "", Progress::Pending)]
    #[case::a_pattern_that_never_dies(regex("(?s).*END"), "no end in sight", Progress::Pending)]
    #[case::a_line(line_regex(r"\d+ OK"), "42 OK\nmore", Progress::Pass { consumed: 6 })]
    #[case::a_line_so_far_right(line_regex(r"\d+ OK"), "42 O", Progress::Pending)]
    #[case::a_line_that_may_still_end(line_regex(r"\d+ OK"), "42 OK", Progress::Pending)]
    fn a_regex_on_a_stream_passes_or_waits(
        #[case] matcher: Matcher,
        #[case] buf: &str,
        #[case] want: Progress,
    ) {
        assert_eq!(on_stream(&matcher, buf), want);
    }

    #[rstest]
    #[case::a_negative_number(
        regex(r":[0-9]+\r\n"),
        ":-5\r\n",
        "no match is possible from byte 1 (0x2d '-'): expected bytes matching /:[0-9]+\\r\\n/"
    )]
    #[case::the_first_byte(
        regex("END"),
        "more data",
        "no match is possible from byte 0 (0x6d 'm'): expected bytes matching /END/"
    )]
    #[case::a_line_before_its_newline(
        line_regex(r"\d+ OK"),
        "42 N",
        "no match is possible from byte 3 (0x4e 'N'): expected a line matching /\\d+ OK/"
    )]
    #[case::a_line_with_its_newline(
        line_regex(r"\d+ OK"),
        "42 NO\n",
        "no match is possible from byte 3 (0x4e 'N'): expected a line matching /\\d+ OK/"
    )]
    #[case::a_line_that_went_on(
        line_regex(r"\d+ OK"),
        "42 OK?",
        "no match is possible from byte 5 (0x3f '?'): expected a line matching /\\d+ OK/"
    )]
    #[case::a_line_that_ended_too_soon(
        line_regex(r"\d+ OK"),
        "42\n",
        "expected a line matching /\\d+ OK/, but got \"42\\n\""
    )]
    fn a_regex_on_a_stream_fails_as_soon_as_no_match_is_possible(
        #[case] matcher: Matcher,
        #[case] buf: &str,
        #[case] want: &str,
    ) {
        assert_eq!(summary(on_stream(&matcher, buf)), want);
    }

    #[test]
    fn a_dead_prefix_shows_the_bytes_up_to_a_little_after_the_byte() {
        let buf = format!(":-{}", "5".repeat(100));
        let Progress::Fail(m) = on_stream(&regex(r":[0-9]+\r\n"), &buf) else {
            panic!("a failure")
        };
        assert_eq!(m.actual.as_deref(), Some(&buf.as_bytes()[..18]));
        assert_eq!(m.expected.as_deref(), Some(&b""[..]));
    }

    #[rstest]
    #[case::a_whole_match(regex(":[0-9]+"), ":15", None)]
    #[case::a_line(line_regex(r"\d+ OK"), "42 OK\n", None)]
    #[case::a_negative_number(
        regex(":[0-9]+"),
        ":-5",
        Some(
            "no match is possible from byte 1 (0x2d '-'): expected a datagram of bytes matching /:[0-9]+/"
        )
    )]
    #[case::a_match_with_a_byte_more(
        regex(r":[0-9]+\r\n"),
        ":15\r\nx",
        Some(
            "no match is possible from byte 5 (0x78 'x'): expected a datagram of bytes matching /:[0-9]+\\r\\n/"
        )
    )]
    #[case::too_short(
        regex(r":[0-9]+\r\n"),
        ":15",
        Some("expected a datagram of bytes matching /:[0-9]+\\r\\n/, but it did not match")
    )]
    #[case::a_line_without_its_newline(
        line_regex(r"\d+ OK"),
        "42 OK",
        Some("expected a datagram of a line matching /\\d+ OK/, but it did not match")
    )]
    #[case::a_wrong_line(
        line_regex(r"\d+ OK"),
        "42 NO\n",
        Some(
            "no match is possible from byte 3 (0x4e 'N'): expected a datagram of a line matching /\\d+ OK/"
        )
    )]
    fn a_regex_on_a_datagram_matches_it_whole(
        #[case] matcher: Matcher,
        #[case] datagram: &str,
        #[case] want: Option<&str>,
    ) {
        let (Matcher::Regex(r) | Matcher::LineRegex(r)) = &matcher else {
            unreachable!("a regex matcher")
        };
        let got = judge_regex_datagram(&matcher, r, datagram.as_bytes()).err();
        assert_eq!(got.map(|m| m.summary).as_deref(), want);
    }
}
