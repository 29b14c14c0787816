//! Table tests of sequences: parts, numbers, captures, and regex parts that give back.

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

fn regex(p: &str) -> MatchRegex {
    MatchRegex::start(p).unwrap()
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
    let m = Matcher::LineRegex(MatchRegex::line(r"VALUE (?P<key>\S+) (?P<len>\d+)").unwrap());
    let got = captures(&m, b"VALUE k1 5\n", Some("all"));
    assert_eq!(got["key"], Value::Bytes(b"k1".to_vec()));
    assert_eq!(got["len"], Value::Bytes(b"5".to_vec()));
    assert_eq!(got["all"], Value::Bytes(b"VALUE k1 5\n".to_vec()));
}

// ---------------------------------------------------------------------------------------------
// Regex parts: the longest match the rest of the sequence allows.

use rstest::rstest;

fn bytes(text: &str) -> Part {
    Part::Bytes(text.as_bytes().to_vec())
}

fn part(p: &str) -> Part {
    Part::Regex(regex(p))
}

/// `seq: [":", {regex: '[1-9][0-9]*'}, "\r\n"]`: a RESP integer reply.
fn integer() -> Vec<Part> {
    vec![bytes(":"), part("[1-9][0-9]*"), bytes("\r\n")]
}

fn consumed(outcome: SeqOutcome) -> usize {
    match outcome {
        SeqOutcome::Match { consumed, .. } => consumed,
        other => panic!("expected a match, got {other:?}"),
    }
}

fn summary(outcome: SeqOutcome) -> String {
    match outcome {
        SeqOutcome::Fail(m) => m.summary,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[rstest]
#[case::two_digits(":10\r\n", 5)]
#[case::one_digit(":9\r\n", 4)]
#[case::many_digits(":1234567890\r\n", 13)]
#[case::with_the_next_reply_behind_it(":10\r\n+OK\r\n", 5)]
fn a_number_followed_by_crlf_matches_on_an_open_stream(#[case] got: &str, #[case] want: usize) {
    assert_eq!(consumed(match_seq(&integer(), got.as_bytes(), false)), want);
}

#[rstest]
#[case::the_number_may_go_on(":10")]
#[case::the_line_end_is_half_there(":10\r")]
#[case::nothing_after_the_colon(":")]
fn a_number_that_more_bytes_could_change_waits(#[case] got: &str) {
    assert_eq!(
        match_seq(&integer(), got.as_bytes(), false),
        SeqOutcome::Pending
    );
}

#[rstest]
#[case::a_negative_number(
    ":-5\r\n",
    false,
    "part 2 of the sequence: no match is possible from byte 1 (0x2d '-'): expected bytes \
     matching /[1-9][0-9]*/"
)]
#[case::a_leading_zero(
    ":05\r\n",
    false,
    "part 2 of the sequence: no match is possible from byte 1 (0x30 '0'): expected bytes \
     matching /[1-9][0-9]*/"
)]
#[case::a_letter_after_the_digits(
    ":12x\r\n",
    false,
    "part 3 of the sequence differs at byte 3: expected 0x0d '\\r', got 0x78 'x'"
)]
#[case::the_stream_ended_after_the_digits(
    ":12",
    true,
    "part 3 of the sequence needs 2 byte(s) at byte 3, but only 0 arrived"
)]
fn a_number_that_cannot_be_fails_with_the_longest_splits_failure(
    #[case] got: &str,
    #[case] complete: bool,
    #[case] want: &str,
) {
    assert_eq!(
        summary(match_seq(&integer(), got.as_bytes(), complete)),
        want
    );
}

#[test]
fn a_number_fed_one_byte_at_a_time_never_commits_before_it_is_decided() {
    let reply = b":1234\r\n";
    for cut in 0..reply.len() {
        assert_eq!(
            match_seq(&integer(), &reply[..cut], false),
            SeqOutcome::Pending,
            "after {cut} byte(s)"
        );
    }
    assert_eq!(consumed(match_seq(&integer(), reply, false)), reply.len());
}

#[rstest]
#[case::gives_back_one_digit(vec![part("[0-9]+"), bytes("0!")], "1200!", 5)]
#[case::gives_back_to_a_later_regex(vec![part("[a-z]+"), part("[a-z]"), bytes(".")], "abc.", 4)]
#[case::prefers_the_longer_alternative(vec![part("a|ab"), part("c?")], "abc", 3)]
#[case::an_empty_match_when_nothing_more_fits(vec![part("x*"), bytes("y")], "y", 1)]
fn a_regex_part_gives_back_what_the_next_part_needs(
    #[case] parts: Vec<Part>,
    #[case] got: &str,
    #[case] want: usize,
) {
    assert_eq!(consumed(match_seq(&parts, got.as_bytes(), true)), want);
}

#[test]
fn captures_come_from_the_split_that_matched() {
    let parts = vec![
        part("(?P<digits>[0-9]+)"),
        bytes("0"),
        part("(?P<word>a|ab)"),
        bytes("c"),
    ];
    let SeqOutcome::Match { captures, .. } = match_seq(&parts, b"1200abc", true) else {
        panic!("a match")
    };
    assert_eq!(captures["digits"], Value::Bytes(b"120".to_vec()));
    // The regex crate alone prefers `a`; the match that spans `ab` is the one that counts.
    assert_eq!(captures["word"], Value::Bytes(b"ab".to_vec()));
    let step = captures_of(&parts, b"1200abc");
    assert_eq!(step["digits"], Value::Bytes(b"120".to_vec()));
}

fn captures_of(parts: &[Part], consumed: &[u8]) -> BTreeMap<String, Value> {
    captures(&Matcher::Seq(parts.to_vec()), consumed, None)
}

#[rstest]
#[case::a_whole_datagram(vec![part("[a-z]+"), part("[a-z]")], "abc", None)]
#[case::a_byte_too_many(
    vec![part("[a-z]")],
    "ab",
    Some("the datagram has 1 byte(s) more than the sequence, from byte 1")
)]
#[case::a_dead_byte(
    vec![bytes(":"), part("[0-9]+")],
    ":1-",
    Some("the datagram has 1 byte(s) more than the sequence, from byte 2")
)]
#[case::a_dead_first_byte(
    vec![bytes(":"), part("[0-9]+")],
    ":-",
    Some("part 2 of the sequence: no match is possible from byte 1 (0x2d '-'): expected bytes \
          matching /[0-9]+/")
)]
fn a_datagram_sequence_takes_every_byte(
    #[case] parts: Vec<Part>,
    #[case] datagram: &str,
    #[case] want: Option<&str>,
) {
    let got = match match_whole(&parts, datagram.as_bytes()) {
        SeqOutcome::Match { consumed, .. } => {
            assert_eq!(consumed, datagram.len());
            None
        }
        SeqOutcome::Fail(m) => Some(m.summary),
        SeqOutcome::Pending => panic!("a datagram is complete"),
    };
    assert_eq!(got.as_deref(), want);
}

#[test]
fn a_regex_that_may_go_on_decides_when_the_stream_ends() {
    let parts = vec![part("[0-9]+")];
    assert_eq!(match_seq(&parts, b"12", false), SeqOutcome::Pending);
    assert_eq!(consumed(match_seq(&parts, b"12 ", false)), 2);
    assert_eq!(consumed(match_seq(&parts, b"12", true)), 2);
}

#[test]
fn too_many_ways_to_split_give_up_with_the_longest_splits_failure() {
    // Three `a*` parts split 300 a's in about 4.5 million ways, none followed by `b`.
    let parts = vec![part("a*"), part("a*"), part("a*"), bytes("b")];
    let got = format!("{}c", "a".repeat(300));
    let SeqOutcome::Fail(m) = match_seq(&parts, got.as_bytes(), true) else {
        panic!("a failure")
    };
    assert_eq!(
        m.summary,
        "part 4 of the sequence differs at byte 300: expected 0x62 'b', got 0x63 'c'"
    );
    let hint = m.hint.expect("a hint that conform gave up");
    assert!(
        hint.contains(&format!("after trying {MAX_TRIES} ends")),
        "{hint}"
    );
}
