//! Table tests of the pure judging functions: what conform decides from the bytes it has, the
//! peer's state and how long it waited, and how a mismatch is worded and drawn.

use std::net::SocketAddr;
use std::time::Duration;

use conform::report::diff::render;
use conform::spec::{MatchRegex, Matcher, OutputMatcher};
use conform::verdict::{
    Expectation, MAX_BUFFER, Mismatch, PeerState, Progress, first_difference, judge_datagram,
    judge_output, judge_stream,
};
use regex::bytes::Regex;
use rstest::rstest;

use PeerState::{Closed, Open, Reset};

#[path = "common/mod.rs"]
mod common;
#[path = "verdict/live.rs"]
mod live;

const WITHIN: Duration = Duration::from_secs(2);
const NOW: Duration = Duration::ZERO;

fn bytes(text: &str) -> Matcher {
    Matcher::Bytes(text.as_bytes().to_vec())
}

fn line(text: &str) -> Matcher {
    Matcher::Line(text.as_bytes().to_vec())
}

/// Anchored at the start, as the loader compiles `regex:`.
fn regex(pattern: &str) -> Matcher {
    Matcher::Regex(MatchRegex::start(pattern).unwrap())
}

/// Anchored at both ends, as the loader compiles `line_regex:`.
fn line_regex(pattern: &str) -> Matcher {
    Matcher::LineRegex(MatchRegex::line(pattern).unwrap())
}

fn data(matcher: Matcher) -> Expectation {
    Expectation::Data(matcher)
}

fn pass(consumed: usize) -> Progress {
    Progress::Pass { consumed }
}

fn fail(progress: Progress) -> Mismatch {
    match progress {
        Progress::Fail(mismatch) => mismatch,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// judge_stream: decisions the bytes already settle, before any deadline.

#[rstest]
#[case::exact_bytes_pass(bytes("Hello"), "Hello", pass(5))]
#[case::exact_bytes_consume_only_their_own(bytes("Hello"), "Hello World", pass(5))]
#[case::exact_bytes_wait_for_the_rest(bytes("Hello"), "Hel", Progress::Pending)]
#[case::exact_bytes_wait_for_the_first_byte(bytes("Hello"), "", Progress::Pending)]
#[case::line_consumes_exactly_the_line(line("Hello World!"), "Hello World!\nmore\n", pass(13))]
#[case::line_waits_for_its_newline(line("Hello World!"), "Hello World!", Progress::Pending)]
#[case::line_waits_for_the_rest(line("Hello World!"), "Hello", Progress::Pending)]
#[case::empty_line(line(""), "\nx", pass(1))]
#[case::regex_consumes_the_match(regex(r"\d+ OK "), "42 OK rest", pass(6))]
#[case::regex_waits_without_a_match(regex(r"\d+ OK"), "42 O", Progress::Pending)]
#[case::line_regex_consumes_the_line(line_regex(r"\d+ OK"), "42 OK\nrest", pass(6))]
#[case::line_regex_waits_for_the_newline(line_regex(r"\d+ OK"), "42 OK", Progress::Pending)]
#[case::length_consumes_that_many(Matcher::Length(4), "abcdef", pass(4))]
#[case::length_waits_for_enough(Matcher::Length(4), "abc", Progress::Pending)]
#[case::zero_length(Matcher::Length(0), "", pass(0))]
fn stream_data_while_the_peer_is_open(
    #[case] matcher: Matcher,
    #[case] buf: &str,
    #[case] want: Progress,
) {
    let got = judge_stream(&data(matcher), buf.as_bytes(), Open, NOW, WITHIN);
    assert_eq!(got, want);
}

#[rstest]
#[case::first_byte("Hello", "Jello", "byte 0 differs: expected 0x48 'H', got 0x4a 'J'")]
#[case::middle_byte("Hello", "Hex", "byte 2 differs: expected 0x6c 'l', got 0x78 'x'")]
#[case::control_byte("a\nb", "a\rb", "byte 1 differs: expected 0x0a '\\n', got 0x0d '\\r'")]
fn exact_bytes_fail_at_the_first_wrong_byte(
    #[case] expected: &str,
    #[case] buf: &str,
    #[case] summary: &str,
) {
    // No deadline has passed and the peer is still open: the wrong byte decides alone.
    let mismatch = fail(judge_stream(
        &data(bytes(expected)),
        buf.as_bytes(),
        Open,
        NOW,
        WITHIN,
    ));
    assert_eq!(mismatch.summary, summary);
    assert_eq!(mismatch.expected.as_deref(), Some(expected.as_bytes()));
    assert_eq!(mismatch.actual.as_deref(), Some(buf.as_bytes()));
}

#[test]
fn exact_bytes_mismatch_shows_a_little_of_what_followed() {
    let buf = format!("Hexxx{}", "y".repeat(100));
    let mismatch = fail(judge_stream(
        &data(bytes("Hello")),
        buf.as_bytes(),
        Open,
        NOW,
        WITHIN,
    ));
    let actual = mismatch.actual.unwrap();
    assert!(actual.starts_with(b"Hexxx"), "{actual:?}");
    assert!(actual.len() < buf.len(), "the whole buffer was kept");
}

#[test]
fn line_with_crlf_fails_with_the_crlf_hint() {
    let mismatch = fail(judge_stream(
        &data(line("Hello World!")),
        b"Hello World!\r\n",
        Open,
        NOW,
        WITHIN,
    ));
    assert_eq!(
        mismatch.summary,
        "the line differs at byte 12: expected 0x0a '\\n', got 0x0d '\\r'"
    );
    assert_eq!(mismatch.expected.as_deref(), Some(&b"Hello World!\n"[..]));
    assert_eq!(mismatch.actual.as_deref(), Some(&b"Hello World!\r\n"[..]));
    let hint = mismatch.hint.expect("a CRLF hint");
    assert!(hint.contains("CRLF"), "{hint}");
}

#[test]
fn wrong_line_has_no_crlf_hint() {
    let mismatch = fail(judge_stream(
        &data(line("Hello World!")),
        b"Hello World?\n",
        Open,
        NOW,
        WITHIN,
    ));
    assert_eq!(
        mismatch.summary,
        "the line differs at byte 11: expected 0x21 '!', got 0x3f '?'"
    );
    assert_eq!(mismatch.hint, None);
}

#[test]
fn line_regex_failure_names_the_byte_and_shows_the_line() {
    let mismatch = fail(judge_stream(
        &data(line_regex(r"\d+ OK")),
        b"42 NO\nrest",
        Open,
        NOW,
        WITHIN,
    ));
    assert_eq!(
        mismatch.summary,
        r"no match is possible from byte 3 (0x4e 'N'): expected a line matching /\d+ OK/"
    );
    assert_eq!(mismatch.actual.as_deref(), Some(&b"42 NO\n"[..]));
}

// ---------------------------------------------------------------------------------------------
// judge_stream: the peer closes, resets or stays silent past the deadline.

#[rstest]
#[case::closed_mid_bytes(
    bytes("Hello"),
    "Hel",
    Closed,
    "expected 5 byte(s) \"Hello\", but the peer closed the connection after 3 byte(s)"
)]
#[case::closed_before_anything(
    bytes("Hello"),
    "",
    Closed,
    "expected 5 byte(s) \"Hello\", but the peer closed the connection without sending anything"
)]
#[case::reset_mid_bytes(
    bytes("Hello"),
    "He",
    Reset,
    "expected 5 byte(s) \"Hello\", but the peer reset the connection after 2 byte(s)"
)]
#[case::reset_before_anything(
    line("hi"),
    "",
    Reset,
    "expected the line \"hi\\n\", but the peer reset the connection before sending anything"
)]
#[case::closed_short_of_a_length(
    Matcher::Length(4),
    "abc",
    Closed,
    "expected 4 byte(s), but the peer closed the connection after 3 byte(s)"
)]
#[case::closed_without_a_regex_match(
    regex(r"\d+ OK"),
    "42",
    Closed,
    "expected bytes matching /\\d+ OK/, but the peer closed the connection after 2 byte(s)"
)]
fn stream_data_cut_short_by_the_peer(
    #[case] matcher: Matcher,
    #[case] buf: &str,
    #[case] peer: PeerState,
    #[case] summary: &str,
) {
    let mismatch = fail(judge_stream(
        &data(matcher),
        buf.as_bytes(),
        peer,
        NOW,
        WITHIN,
    ));
    assert_eq!(mismatch.summary, summary);
    assert_eq!(mismatch.actual.as_deref(), Some(buf.as_bytes()));
}

#[rstest]
#[case::closed(Closed, "closed the connection after 12 byte(s)")]
#[case::timed_out(Open, "within 2s")]
fn missing_newline_says_the_newline_never_came(#[case] peer: PeerState, #[case] says: &str) {
    let mismatch = fail(judge_stream(
        &data(line("Hello World!")),
        b"Hello World!",
        peer,
        WITHIN,
        WITHIN,
    ));
    assert!(mismatch.summary.contains(says), "{}", mismatch.summary);
    assert_eq!(mismatch.expected.as_deref(), Some(&b"Hello World!\n"[..]));
    assert_eq!(mismatch.actual.as_deref(), Some(&b"Hello World!"[..]));
    let hint = mismatch.hint.expect("a missing-newline hint");
    assert!(hint.contains("newline (\\n) never came"), "{hint}");
}

#[test]
fn partial_line_has_no_missing_newline_hint() {
    let mismatch = fail(judge_stream(
        &data(line("Hello World!")),
        b"Hello",
        Closed,
        NOW,
        WITHIN,
    ));
    assert_eq!(mismatch.hint, None);
}

#[rstest]
#[case::nothing_arrived(
    bytes("Hello"),
    "",
    WITHIN,
    "expected 5 byte(s) \"Hello\", but nothing arrived within 2s"
)]
#[case::some_bytes_arrived(
    bytes("Hello"),
    "Hel",
    WITHIN,
    "expected 5 byte(s) \"Hello\", but only 3 byte(s) arrived and then nothing more within 2s"
)]
#[case::milliseconds(
    line("hi"),
    "",
    Duration::from_millis(1500),
    "expected the line \"hi\\n\", but nothing arrived within 1500ms"
)]
#[case::length(
    Matcher::Length(8),
    "1234567",
    Duration::from_millis(300),
    "expected 8 byte(s), but only 7 byte(s) arrived and then nothing more within 300ms"
)]
fn stream_data_timeout_says_within(
    #[case] matcher: Matcher,
    #[case] buf: &str,
    #[case] within: Duration,
    #[case] summary: &str,
) {
    let mismatch = fail(judge_stream(
        &data(matcher),
        buf.as_bytes(),
        Open,
        within,
        within,
    ));
    assert_eq!(mismatch.summary, summary);
}

#[test]
fn stream_data_is_pending_until_the_deadline() {
    let expectation = data(bytes("Hello"));
    let just_before = WITHIN - Duration::from_millis(1);
    assert_eq!(
        judge_stream(&expectation, b"Hel", Open, just_before, WITHIN),
        Progress::Pending
    );
    assert!(matches!(
        judge_stream(&expectation, b"Hel", Open, WITHIN, WITHIN),
        Progress::Fail(_)
    ));
}

#[test]
fn stream_data_that_never_matches_fails_at_the_buffer_limit() {
    let buf = vec![b'x'; MAX_BUFFER];
    let mismatch = fail(judge_stream(&data(line("Hello")), &buf, Open, NOW, WITHIN));
    // `line` fails at the first wrong byte, and so does a regex that cannot start with it; a
    // regex that any more bytes could still complete hits the limit instead.
    assert!(mismatch.summary.contains("byte 0"), "{}", mismatch.summary);
    let mismatch = fail(judge_stream(&data(regex("y")), &buf, Open, NOW, WITHIN));
    assert!(mismatch.summary.contains("byte 0"), "{}", mismatch.summary);
    let mismatch = fail(judge_stream(
        &data(regex("(?s).*y")),
        &buf,
        Open,
        NOW,
        WITHIN,
    ));
    assert!(
        mismatch
            .summary
            .contains(&format!("{MAX_BUFFER} bytes arrived without a match")),
        "{}",
        mismatch.summary
    );
    assert!(mismatch.actual.unwrap().len() <= 256);
}

// ---------------------------------------------------------------------------------------------
// judge_stream: end of stream, reset and silence.

#[rstest]
#[case::eof_on_close(Expectation::Eof, "", Closed, NOW, pass(0))]
#[case::eof_pending_while_open(Expectation::Eof, "", Open, NOW, Progress::Pending)]
#[case::reset_on_reset(Expectation::Reset, "", Reset, NOW, pass(0))]
#[case::reset_despite_unread_bytes(Expectation::Reset, "late", Reset, NOW, pass(0))]
#[case::reset_pending_while_open(Expectation::Reset, "", Open, NOW, Progress::Pending)]
#[case::silence_passes_after_its_duration(
    Expectation::Silence(Duration::from_millis(300)),
    "",
    Open,
    Duration::from_millis(300),
    pass(0)
)]
#[case::silence_pending_before_its_duration(
    Expectation::Silence(Duration::from_millis(300)),
    "",
    Open,
    Duration::from_millis(299),
    Progress::Pending
)]
fn stream_end_decisions(
    #[case] expectation: Expectation,
    #[case] buf: &str,
    #[case] peer: PeerState,
    #[case] waited: Duration,
    #[case] want: Progress,
) {
    assert_eq!(
        judge_stream(&expectation, buf.as_bytes(), peer, waited, WITHIN),
        want
    );
}

#[rstest]
#[case::eof_with_extra_bytes(
    Expectation::Eof,
    "extra\n",
    Closed,
    NOW,
    "expected the connection to close, but 6 more byte(s) arrived"
)]
#[case::eof_with_extra_bytes_while_open(
    Expectation::Eof,
    "x",
    Open,
    NOW,
    "expected the connection to close, but 1 more byte(s) arrived"
)]
#[case::eof_but_reset(
    Expectation::Eof,
    "",
    Reset,
    NOW,
    "expected an orderly close (FIN), but the connection was reset (RST)"
)]
#[case::eof_but_still_open(
    Expectation::Eof,
    "",
    Open,
    WITHIN,
    "expected the connection to close, but it was still open after 2s"
)]
#[case::reset_but_closed(
    Expectation::Reset,
    "",
    Closed,
    NOW,
    "expected a reset (RST), but the connection was closed normally (FIN)"
)]
#[case::reset_but_bytes(
    Expectation::Reset,
    "abc",
    Open,
    NOW,
    "expected a reset, but 3 byte(s) arrived"
)]
#[case::reset_but_still_open(
    Expectation::Reset,
    "",
    Open,
    WITHIN,
    "expected a reset, but the connection was still open after 2s"
)]
#[case::silence_broken_by_a_byte(
    Expectation::Silence(Duration::from_millis(300)),
    "!",
    Open,
    NOW,
    "expected silence for 300ms, but 1 byte(s) arrived"
)]
#[case::silence_broken_after_its_duration(
    Expectation::Silence(Duration::from_secs(1)),
    "ab",
    Open,
    Duration::from_secs(5),
    "expected silence for 1s, but 2 byte(s) arrived"
)]
#[case::silence_broken_by_a_close(
    Expectation::Silence(Duration::from_millis(300)),
    "",
    Closed,
    NOW,
    "expected silence for 300ms, but the peer closed the connection"
)]
#[case::silence_broken_by_a_reset(
    Expectation::Silence(Duration::from_millis(300)),
    "",
    Reset,
    NOW,
    "expected silence for 300ms, but the peer reset the connection"
)]
fn stream_end_failures(
    #[case] expectation: Expectation,
    #[case] buf: &str,
    #[case] peer: PeerState,
    #[case] waited: Duration,
    #[case] summary: &str,
) {
    let mismatch = fail(judge_stream(
        &expectation,
        buf.as_bytes(),
        peer,
        waited,
        WITHIN,
    ));
    assert_eq!(mismatch.summary, summary);
    if !buf.is_empty() {
        assert_eq!(mismatch.expected.as_deref(), Some(&b""[..]));
        assert_eq!(mismatch.actual.as_deref(), Some(buf.as_bytes()));
    }
}

// ---------------------------------------------------------------------------------------------
// judge_stream: problems found while writing these tests.

#[test]
fn regex_consumes_the_shortest_matching_prefix() {
    let got = judge_stream(&data(regex(r"\d+")), b"123 ", Open, NOW, WITHIN);
    assert_eq!(got, pass(1));
    // Whatever the segmentation, the same bytes are consumed.
    let got = judge_stream(&data(regex(r"\d+")), b"1", Open, NOW, WITHIN);
    assert_eq!(got, pass(1));
}

#[test]
fn carriage_return_where_the_newline_belongs_gets_the_crlf_hint() {
    let mismatch = fail(judge_stream(
        &data(line("Hello World!")),
        b"Hello World!\r",
        Open,
        NOW,
        WITHIN,
    ));
    assert_eq!(
        mismatch.summary,
        "the line differs at byte 12: expected 0x0a '\\n', got 0x0d '\\r'"
    );
    let hint = mismatch.hint.expect("a CRLF hint");
    assert!(hint.contains("\\r"), "{hint}");
}

// ---------------------------------------------------------------------------------------------
// judge_datagram.

const SENT_TO: &str = "127.0.0.1:9000";

#[rstest]
#[case::exact_bytes(bytes("HGFEDCBA"), "HGFEDCBA")]
#[case::line(line("hi"), "hi\n")]
#[case::line_regex(line_regex(r"#\(\d( \d)*\)"), "#(8 7 6)\n")]
#[case::regex_over_the_whole_datagram(regex(r"\d+ OK"), "42 OK")]
#[case::length(Matcher::Length(8), "12345678")]
#[case::empty_datagram(bytes(""), "")]
fn datagram_passes(#[case] matcher: Matcher, #[case] datagram: &str) {
    let from = addr(SENT_TO);
    assert_eq!(
        judge_datagram(&matcher, datagram.as_bytes(), from, Some(from)),
        Ok(())
    );
}

#[test]
fn datagram_source_is_not_checked_without_an_address() {
    assert_eq!(
        judge_datagram(&bytes("x"), b"x", addr("10.0.0.1:5"), None),
        Ok(())
    );
}

#[rstest]
#[case::other_port("127.0.0.1:9001")]
#[case::other_host("127.0.0.2:9000")]
fn datagram_from_the_wrong_address_names_both(#[case] from: &str) {
    let mismatch = judge_datagram(
        &bytes("HGFEDCBA"),
        b"HGFEDCBA",
        addr(from),
        Some(addr(SENT_TO)),
    )
    .unwrap_err();
    assert_eq!(
        mismatch.summary,
        format!("the reply came from {from}, not from {SENT_TO}, the address conform sent to")
    );
    assert_eq!(mismatch.actual.as_deref(), Some(&b"HGFEDCBA"[..]));
    let hint = mismatch.hint.expect("a hint about the replying socket");
    assert!(hint.contains("socket that received the request"), "{hint}");
}

#[test]
fn ipv6_addresses_are_named_in_brackets() {
    let mismatch = judge_datagram(
        &bytes("x"),
        b"x",
        addr("[::1]:9001"),
        Some(addr("[::1]:9000")),
    )
    .unwrap_err();
    assert!(
        mismatch
            .summary
            .contains("from [::1]:9001, not from [::1]:9000"),
        "{}",
        mismatch.summary
    );
}

#[rstest]
#[case::same_length_wrong_byte(
    bytes("HGFEDCBA"),
    "HGFEDCBB",
    "the datagram differs at byte 7: expected 0x41 'A', got 0x42 'B'"
)]
#[case::too_short(
    bytes("HGFEDCBA"),
    "HGFEDCB",
    "expected a datagram of 8 byte(s) \"HGFEDCBA\", but got 7 byte(s)"
)]
#[case::too_long(
    bytes("abc"),
    "abcd",
    "expected a datagram of 3 byte(s) \"abc\", but got 4 byte(s)"
)]
#[case::line_without_newline(
    line("hi"),
    "hi",
    "expected a datagram of the line \"hi\\n\", but got 2 byte(s)"
)]
#[case::line_with_wrong_byte(
    line("hi"),
    "ho\n",
    "the datagram differs at byte 1: expected 0x69 'i', got 0x6f 'o'"
)]
#[case::wrong_length(
    Matcher::Length(8),
    "1234567",
    "expected a datagram of 8 byte(s), but got 7 byte(s)"
)]
#[case::regex_matching_only_a_prefix(
    regex(r"\d+ OK"),
    "42 OK extra",
    "no match is possible from byte 5 (0x20 ' '): expected a datagram of bytes matching /\\d+ OK/"
)]
#[case::line_regex_without_newline(
    line_regex(r"\d+ OK"),
    "42 OK",
    "expected a datagram of a line matching /\\d+ OK/, but it did not match"
)]
fn datagram_mismatch_says_what_differs(
    #[case] matcher: Matcher,
    #[case] datagram: &str,
    #[case] summary: &str,
) {
    let from = addr(SENT_TO);
    let mismatch = judge_datagram(&matcher, datagram.as_bytes(), from, Some(from)).unwrap_err();
    assert_eq!(mismatch.summary, summary);
    assert_eq!(mismatch.actual.as_deref(), Some(datagram.as_bytes()));
}

#[test]
fn datagram_regex_matches_the_whole_datagram_through_any_alternative() {
    let from = addr(SENT_TO);
    assert_eq!(
        judge_datagram(
            &regex("HELLO|HELLO WORLD"),
            b"HELLO WORLD",
            from,
            Some(from)
        ),
        Ok(())
    );
}

// ---------------------------------------------------------------------------------------------
// judge_output.

fn lines(lines: &[&str]) -> OutputMatcher {
    OutputMatcher::Lines(lines.iter().map(|l| l.to_string()).collect())
}

#[rstest]
#[case::lines_exact(lines(&["Sending data", "Receiving data"]), "Sending data\nReceiving data\n", true, pass(0))]
#[case::lines_correct_so_far(lines(&["Sending data", "Receiving data"]), "Sending data\n", false, Progress::Pending)]
#[case::lines_complete_but_still_open(lines(&["Sending data"]), "Sending data\n", false, Progress::Pending)]
#[case::lines_mid_line(lines(&["Sending data"]), "Send", false, Progress::Pending)]
#[case::no_lines_no_output(lines(&[]), "", true, pass(0))]
#[case::exact_bytes(OutputMatcher::Exact(b"a\0b".to_vec()), "a\0b", true, pass(0))]
#[case::regex_matches_early(OutputMatcher::Regex(Regex::new(r"(?m)^#\(1 2\)$").unwrap()), "noise\n#(1 2)\n", false, pass(0))]
#[case::regex_waits_while_open(OutputMatcher::Regex(Regex::new(r"(?m)^#\(1 2\)$").unwrap()), "noise\n", false, Progress::Pending)]
fn output_decisions(
    #[case] matcher: OutputMatcher,
    #[case] output: &str,
    #[case] closed: bool,
    #[case] want: Progress,
) {
    assert_eq!(judge_output(&matcher, output.as_bytes(), closed), want);
}

#[rstest]
#[case::extra_line(
    lines(&["a", "b"]),
    "a\nb\nc\n",
    true,
    "the output has extra bytes from line 3 (byte 4)"
)]
#[case::extra_line_while_open(
    lines(&["a", "b"]),
    "a\nb\nc",
    false,
    "the output has extra bytes from line 3 (byte 4)"
)]
#[case::missing_line(
    lines(&["a", "b"]),
    "a\n",
    true,
    "the output ended early, at line 2 (byte 2)"
)]
#[case::missing_newline(
    lines(&["a", "b"]),
    "a\nb",
    true,
    "the output ended early, at line 2 (byte 3)"
)]
#[case::no_output(lines(&["a"]), "", true, "the output ended early, at line 1 (byte 0)")]
#[case::wrong_byte_while_open(
    lines(&["Sending data", "Receiving data"]),
    "Sending data\nReceiving Data\n",
    false,
    "the output differs at line 2 (byte 23): expected 0x64 'd', got 0x44 'D'"
)]
#[case::crlf_output(
    lines(&["a"]),
    "a\r\n",
    true,
    "the output differs at line 1 (byte 1): expected 0x0a '\\n', got 0x0d '\\r'"
)]
#[case::exact_bytes_differ(
    OutputMatcher::Exact(b"abc".to_vec()),
    "abd",
    true,
    "the output differs at line 1 (byte 2): expected 0x63 'c', got 0x64 'd'"
)]
fn output_mismatch_names_line_and_byte(
    #[case] matcher: OutputMatcher,
    #[case] output: &str,
    #[case] closed: bool,
    #[case] summary: &str,
) {
    let mismatch = fail(judge_output(&matcher, output.as_bytes(), closed));
    assert_eq!(mismatch.summary, summary);
    assert_eq!(mismatch.actual.as_deref(), Some(output.as_bytes()));
}

#[test]
fn output_regex_without_a_match_fails_once_closed() {
    let matcher = OutputMatcher::Regex(Regex::new(r"(?m)^#\(1 2\)$").unwrap());
    let mismatch = fail(judge_output(&matcher, b"#(1 2 3)\n", true));
    assert_eq!(
        mismatch.summary,
        r"expected output matching /(?m)^#\(1 2\)$/, but it did not match"
    );
    assert_eq!(mismatch.actual.as_deref(), Some(&b"#(1 2 3)\n"[..]));
}

// ---------------------------------------------------------------------------------------------
// first_difference.

#[rstest]
#[case::equal("abc", "abc", None)]
#[case::both_empty("", "", None)]
#[case::differ_at_start("abc", "xbc", Some(0))]
#[case::differ_in_the_middle("abc", "abd", Some(2))]
#[case::second_is_a_prefix("abc", "ab", Some(2))]
#[case::first_is_a_prefix("ab", "abc", Some(2))]
#[case::first_empty("", "x", Some(0))]
#[case::second_empty("x", "", Some(0))]
fn first_difference_finds_the_first_differing_index(
    #[case] a: &str,
    #[case] b: &str,
    #[case] want: Option<usize>,
) {
    assert_eq!(first_difference(a.as_bytes(), b.as_bytes()), want);
    assert_eq!(first_difference(b.as_bytes(), a.as_bytes()), want);
}

// ---------------------------------------------------------------------------------------------
// render.

/// The caret line under `expected:` / `actual:` for a difference at `byte`, `column` characters
/// into the quoted text.
fn caret(column: usize, byte: usize) -> String {
    format!(
        "{}^ first difference, byte {byte}",
        " ".repeat("actual:   ".len() + column)
    )
}

#[rstest]
#[case::wrong_byte(b"abc", b"abd", 3, 2)]
#[case::missing_tail(b"ab\n", b"ab", 3, 2)]
#[case::extra_tail(b"ab", b"ab\n", 3, 2)]
#[case::nothing_arrived(b"hi\n", b"", 1, 0)]
#[case::after_an_escape(b"a\nb", b"a\nc", 4, 2)]
#[case::at_an_escape(b"a\nb", b"a\r\nb", 2, 1)]
fn render_puts_the_caret_under_the_first_difference(
    #[case] expected: &[u8],
    #[case] actual: &[u8],
    #[case] column: usize,
    #[case] byte: usize,
) {
    let lines = render(expected, actual);
    assert_eq!(lines[2], caret(column, byte), "{lines:#?}");
}

#[test]
fn render_shows_escaped_text_then_hex_with_the_byte_marked() {
    let lines = render(b"Hello\n", b"Hellp\r\n");
    assert_eq!(
        lines,
        vec![
            r#"expected: "Hello\n""#.to_string(),
            r#"actual:   "Hellp\r\n""#.to_string(),
            caret(5, 4),
            format!(
                "{:<8}{:<48}  {}",
                "offset", "expected (hex)", "actual (hex)"
            ),
            format!(
                "000000  {:<48}  {}",
                "48 65 6c 6c 6f 0a", "48 65 6c 6c 70 0d 0a"
            ),
            format!("        {:<48}  {}", "            ^^", "            ^^"),
        ]
    );
}

#[test]
fn render_of_equal_bytes_marks_nothing() {
    let lines = render(b"same", b"same");
    assert_eq!(lines[0], r#"expected: "same""#);
    assert_eq!(lines[1], r#"actual:   "same""#);
    assert!(lines[2].starts_with("offset"), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains('^')), "{lines:#?}");
}

#[test]
fn render_of_two_empty_strings_is_a_header_and_an_empty_row() {
    let lines = render(b"", b"");
    assert_eq!(lines[0], r#"expected: """#);
    assert_eq!(lines[1], r#"actual:   """#);
    assert!(!lines.iter().any(|l| l.contains('^')), "{lines:#?}");
}

#[test]
fn render_marks_the_byte_in_a_later_hex_row() {
    let expected = b"0123456789abcdefXYZ";
    let actual = b"0123456789abcdefXYz";
    let lines = render(expected, actual);
    let row = lines
        .iter()
        .position(|l| l.starts_with("000010  "))
        .expect("a second hex row");
    let marks = &lines[row + 1];
    assert_eq!(
        marks,
        &format!("        {:<48}  {}", "      ^^", "      ^^")
    );
}

#[test]
fn render_escapes_binary_bytes() {
    let lines = render(&[0x00, 0xff], &[0x00, 0xfe]);
    assert_eq!(lines[0], r#"expected: "\x00\xff""#);
    assert_eq!(lines[1], r#"actual:   "\x00\xfe""#);
    assert_eq!(lines[2], caret(5, 1));
}

#[test]
fn render_of_a_long_payload_windows_around_the_difference() {
    let expected = vec![b'a'; 1000];
    let mut actual = expected.clone();
    actual[700] = b'b';
    let lines = render(&expected, &actual);
    assert!(lines[0].starts_with("expected: …\""), "{}", lines[0]);
    assert!(lines[0].ends_with("\"…"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.ends_with("byte 700")), "{lines:#?}");
    let note = lines.last().unwrap();
    let range = note
        .strip_prefix("(showing bytes ")
        .and_then(|rest| rest.strip_suffix("; expected has 1000, actual has 1000)"))
        .unwrap_or_else(|| panic!("no window note: {note}"));
    let (start, end) = range.split_once("..").unwrap();
    let (start, end): (usize, usize) = (start.parse().unwrap(), end.parse().unwrap());
    assert!((start..end).contains(&700), "{note}");
    assert!(end - start <= 128, "{note}");
    assert!(lines.len() < 30, "{lines:#?}");
}

#[test]
fn render_lines_have_no_newlines() {
    let lines = render(b"a\nb\r\n\0", b"a\nc\r\n");
    assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')));
}

mod numbers_and_sequences {
    use super::*;
    use conform::spec::model::number::{NumberRange, Width};
    use conform::spec::model::seq::Part;

    fn number(lo: u64, hi: u64) -> Matcher {
        Matcher::Number(NumberRange {
            width: Width::new(2, None).unwrap(),
            lo,
            hi,
            what: format!("a number from {lo} to {hi}"),
            epoch: None,
        })
    }

    fn resp_bulk() -> Matcher {
        Matcher::Seq(vec![
            Part::Bytes(b"$".to_vec()),
            Part::Until {
                delim: b"\r\n".to_vec(),
                capture: Some("len".into()),
            },
            Part::LengthFrom {
                from: "len".into(),
                capture: None,
            },
            Part::Bytes(b"\r\n".to_vec()),
        ])
    }

    #[rstest]
    #[case::waits_for_the_second_byte(b"\x01", Progress::Pending)]
    #[case::in_range(b"\x01\x00", pass(2))]
    #[case::leaves_what_follows(b"\x00\x05rest", pass(2))]
    fn a_number_on_a_stream(#[case] got: &[u8], #[case] expected: Progress) {
        assert_eq!(
            judge_stream(&data(number(5, 300)), got, Open, NOW, WITHIN),
            expected
        );
    }

    #[test]
    fn a_number_out_of_range_says_what_came_and_the_byte_order_hint() {
        // 0x0201 is out of range; read the other way round it would be 0x0102 = 258.
        let m = fail(judge_stream(
            &data(number(250, 260)),
            b"\x02\x01",
            Open,
            NOW,
            WITHIN,
        ));
        assert_eq!(
            m.summary,
            "expected a 16-bit big-endian number: a number from 250 to 260, got 513 (02 01)"
        );
        assert_eq!(
            m.hint.as_deref(),
            Some("the bytes are right in the other byte order")
        );
    }

    #[test]
    fn a_number_datagram_of_the_wrong_size_fails() {
        let from = addr("127.0.0.1:9");
        assert!(judge_datagram(&number(0, 10), b"\x00\x05", from, Some(from)).is_ok());
        let m = judge_datagram(&number(0, 10), b"\x00\x00\x05", from, Some(from)).unwrap_err();
        assert!(m.summary.contains("but got 3 byte(s)"), "{}", m.summary);
    }

    #[test]
    fn a_sequence_across_segments_waits_then_passes() {
        let m = data(resp_bulk());
        for partial in [&b"$"[..], b"$5", b"$5\r\n", b"$5\r\nhel", b"$5\r\nhello\r"] {
            assert_eq!(
                judge_stream(&m, partial, Open, NOW, WITHIN),
                Progress::Pending
            );
        }
        assert_eq!(
            judge_stream(&m, b"$5\r\nhello\r\n+OK\r\n", Open, NOW, WITHIN),
            pass(11)
        );
    }

    #[test]
    fn a_sequence_cut_short_by_the_peer_names_the_part_it_needed() {
        let m = fail(judge_stream(
            &data(resp_bulk()),
            b"$5\r\nhel",
            Closed,
            NOW,
            WITHIN,
        ));
        assert_eq!(
            m.summary,
            "part 3 of the sequence needs 5 byte(s) at byte 4, but only 3 arrived"
        );
    }

    #[test]
    fn a_wrong_byte_in_a_sequence_fails_without_waiting() {
        let m = fail(judge_stream(
            &data(resp_bulk()),
            b"$5\r\nhello\n",
            Open,
            NOW,
            WITHIN,
        ));
        assert!(
            m.summary
                .starts_with("part 4 of the sequence differs at byte 9: expected 0x0d"),
            "{}",
            m.summary
        );
    }

    #[test]
    fn a_sequence_datagram_with_bytes_left_over_fails() {
        let from = addr("127.0.0.1:9");
        let m = judge_datagram(&resp_bulk(), b"$2\r\nhi\r\nXY", from, Some(from)).unwrap_err();
        assert_eq!(
            m.summary,
            "the datagram has 2 byte(s) more than the sequence, from byte 8"
        );
        assert!(judge_datagram(&resp_bulk(), b"$2\r\nhi\r\n", from, Some(from)).is_ok());
    }
}
