//! The regex matchers end to end, against fixture servers and a real Redis: a reply no
//! continuation can make match fails at once, naming the byte, and a `seq` regex part takes
//! the longest number the rest of the sequence allows, however the bytes are split.
//!
//! No test here measures time. The steps wait up to 60 s, and the fixtures end by themselves
//! after 30 s: a matcher that waited for its deadline would instead report the connection
//! closed by the fixture's end, or find nothing listening for the next case.

use crate::common::{conform, fixture, minimal_line, scenario_block, stdout, which};

/// Answers a number as a RESP integer, but through a signed byte: 200 comes back as -56.
const SIGNED_BYTE: &str = "python/integer_server_signed_byte.py";

fn run_spec(spec: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("integers.yaml");
    std::fs::write(&path, spec).unwrap();
    let output = conform().arg("run").arg(&path).args(args).output().unwrap();
    (output.status.code(), stdout(&output))
}

/// One scenario per matcher, each sending 200 and expecting a positive integer back.
fn expecting_a_positive_integer(transport: &str) -> String {
    let expectations = [
        ("regex", r#"{regex: ':[0-9]+\r\n', within: 60s}"#),
        ("line_regex", r#"{line_regex: ':[0-9]+\r', within: 60s}"#),
        (
            "seq",
            r#"{seq: [":", {regex: '[1-9][0-9]*'}, "\r\n"], within: 60s}"#,
        ),
    ];
    let mut spec = String::from("version: 1\nscenarios:\n");
    for (name, expect) in expectations {
        spec.push_str(&format!(
            "  - name: {name} over {transport}\n    role: server\n    transport: {transport}\n    \
             steps:\n      - connect\n      - send: \"200\\r\\n\"\n      - expect: {expect}\n"
        ));
    }
    spec
}

#[test]
fn a_negative_integer_fails_every_regex_matcher_at_its_minus_sign_over_tcp() {
    let (code, report) = run_spec(
        &expecting_a_positive_integer("tcp"),
        &["--server", &fixture(SIGNED_BYTE)],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("0 passed, 3 failed"), "{report}");
    for (scenario, says) in [
        (
            "regex over tcp",
            r"no match is possible from byte 1 (0x2d '-'): expected bytes matching /:[0-9]+\r\n/",
        ),
        (
            "line_regex over tcp",
            r"no match is possible from byte 1 (0x2d '-'): expected a line matching /:[0-9]+\r/",
        ),
        (
            "seq over tcp",
            "part 2 of the sequence: no match is possible from byte 1 (0x2d '-'): expected bytes \
             matching /[1-9][0-9]*/",
        ),
    ] {
        let block = scenario_block(&report, scenario);
        assert!(block.contains(says), "{block}");
        assert!(block.contains(r#"received: ":-56\r\n""#), "{block}");
    }
}

#[test]
fn a_negative_integer_fails_every_regex_matcher_at_its_minus_sign_over_udp() {
    let (code, report) = run_spec(
        &expecting_a_positive_integer("udp"),
        &["--server", &fixture(SIGNED_BYTE)],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("0 passed, 3 failed"), "{report}");
    for (scenario, says) in [
        (
            "regex over udp",
            r"no match is possible from byte 1 (0x2d '-'): expected a datagram of bytes matching /:[0-9]+\r\n/",
        ),
        (
            "line_regex over udp",
            r"no match is possible from byte 1 (0x2d '-'): expected a datagram of a line matching /:[0-9]+\r/",
        ),
        (
            "seq over udp",
            "part 2 of the sequence: no match is possible from byte 1 (0x2d '-'): expected bytes \
             matching /[1-9][0-9]*/",
        ),
    ] {
        let block = scenario_block(&report, scenario);
        assert!(block.contains(says), "{block}");
    }
}

#[test]
fn every_probe_of_a_generated_scenario_fails_at_the_minus_sign_while_shrinking() {
    // One server for the whole scenario, which ends itself 30 s after it starts: the cases
    // and the shrinking probes that fail could not each wait a 60 s deadline before then.
    let spec = "version: 1
scenarios:
  - name: any number comes back as a positive integer
    role: server
    transport: tcp
    lifecycle: scenario
    cases: 40
    generate:
      count: {number: {size: 2, order: big, min: 1, max: 1000}}
    steps:
      - connect
      - send: {concat: [{decimal: count}, \"\\r\\n\"]}
      - expect: {seq: [\":\", {regex: '[1-9][0-9]*'}, \"\\r\\n\"], within: 60s}
";
    let (code, report) = run_spec(
        spec,
        &[
            "--server",
            &fixture(SIGNED_BYTE),
            "--seed",
            "3",
            "--shrink-probes",
            "60",
        ],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("part 2 of the sequence: no match is possible from byte 1 (0x2d '-')"),
        "{report}"
    );
    // 128 to 255 fail, and so do 384 to 511, ...: shrinking had to probe several inputs.
    assert!(minimal_line(&report).contains("count = "), "{report}");
    let probes: usize = report
        .split("minimal input (after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no probe count in:\n{report}"));
    assert!(probes >= 5, "{report}");
}

#[test]
fn a_number_arriving_one_byte_at_a_time_is_not_cut_short_by_a_seq_regex_part() {
    // `:1` arrives before `0`: a part that committed to `1` would then find `0`, not CR LF.
    // The captured digits go back to the server, which must answer them again.
    let spec = r#"version: 1
scenarios:
  - name: answers ten, byte by byte
    role: server
    transport: tcp
    lifecycle: scenario
    steps:
      - connect
      - send: "10\r\n"
      - expect: {seq: [":", {regex: '(?P<n>[1-9][0-9]*)'}, "\r\n"], within: 60s}
      - send: {concat: [{var: n}, "\r\n"]}
      - expect: {regex: ':10\r\n', within: 60s}
      - send: "9\r\n"
      - expect: {seq: [":", {regex: '[1-9][0-9]*'}, "\r\n"], within: 60s}
"#;
    let (code, report) = run_spec(
        spec,
        &["--server", &fixture("python/integer_server_slow_bytes.py")],
    );
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("1 passed, 0 failed"), "{report}");
}

#[test]
fn redis_incr_of_nine_and_of_eight_match_a_number_then_crlf_and_capture_all_its_digits() {
    assert!(
        which("redis-server"),
        "redis-server is not installed; scripts/test installs it (Debian package redis-server)"
    );
    let incr = r#""*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n""#;
    let set = |value: &str| format!(r#""*3\r\n$3\r\nSET\r\n$7\r\ncounter\r\n$1\r\n{value}\r\n""#);
    let spec = format!(
        "version: 1
scenarios:
  - name: INCR answers the new value
    role: server
    transport: tcp
    lifecycle: scenario
    steps:
      - connect
      - send: {nine}
      - expect: \"+OK\\r\\n\"
      - send: {incr}
      - expect: {{seq: [\":\", {{regex: '(?P<total>[1-9][0-9]*)'}}, \"\\r\\n\"]}}
      - send: \"*2\\r\\n$3\\r\\nGET\\r\\n$7\\r\\ncounter\\r\\n\"
      - expect: {{seq: [\"$2\\r\\n\", {{var: total}}, \"\\r\\n\"]}}
      - send: {eight}
      - expect: \"+OK\\r\\n\"
      - send: {incr}
      - expect: {{seq: [\":\", {{regex: '(?P<total>[1-9][0-9]*)'}}, \"\\r\\n\"]}}
      - send: \"*2\\r\\n$3\\r\\nGET\\r\\n$7\\r\\ncounter\\r\\n\"
      - expect: {{seq: [\"$1\\r\\n\", {{var: total}}, \"\\r\\n\"]}}
",
        nine = set("9"),
        eight = set("8"),
    );
    let (code, report) = run_spec(
        &spec,
        &[
            "--server",
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no",
        ],
    );
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("1 passed, 0 failed"), "{report}");
}
