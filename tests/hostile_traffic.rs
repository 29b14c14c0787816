//! Hostile programs once connected: a server that never reads (so conform's reply wait and
//! its large write both block), one that never stops sending, and a UDP server that answers
//! every datagram ten times. Each wait must end at its step's deadline or sooner, with memory
//! bounded, and the verdicts must name what went wrong.
//!
//! Every run is watched from outside (tests/common/hostile.rs): its wall time against a
//! generous bound, its peak memory, and every process below it, none of which may outlive it.

mod common;

use common::fixture;
use common::hostile::{SPEAK_THEN_WAIT, big_send_spec, hostile, says, secs};

// ---------------------------------------------------------------------------------------------
// Specs only this file uses.

/// After the greeting: EOF expected, or bytes matching a pattern that never comes.
const GREET_THEN_END: &str = r#"
timeout: 2s
scenarios:
  - name: server greets with Hello World
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
  - name: server ends its stream with END
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect: {regex: '(?s).*END'}
"#;

/// The shipped UDP scenarios a duplicating server passes and fails (from specs/udp.yaml).
const REVERSE: &str = r#"
scenarios:
  - name: server reverses 8 bytes
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
  - name: server reverses text bytes
    role: server
    transport: udp
    steps:
      - connect
      - send: "ABCDEFGH"
      - expect: "HGFEDCBA"
  - name: server answers once per datagram
    role: server
    transport: udp
    level: should
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
      - expect_silence: 300ms
"#;

#[test]
fn server_that_accepts_and_never_reads_fails_at_the_expect_deadline() {
    let run = hostile(
        "never_reads",
        &fixture("python/tcp_server_never_reads.py"),
        SPEAK_THEN_WAIT,
        &[],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server answers a client that speaks first",
        "FAIL",
        &[
            "step 3 `expect`",
            "but nothing arrived within 2s",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn sending_to_a_server_that_never_reads_is_bounded_by_the_step_deadline() {
    // 16 MiB cannot fit in the kernel's buffers (a 4 KiB receive buffer, send buffers of at
    // most 4 MiB by default), so conform's write blocks.
    let run = hostile(
        "never_reads_big_send",
        &fixture("python/tcp_server_never_reads.py"),
        &big_send_spec(16, "2s"),
        &[],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(&run, "server takes a large request", "FAIL", &["`send`"]);
}

#[test]
fn endless_sender_fails_expect_eof_at_once_and_memory_stays_bounded() {
    let run = hostile(
        "endless",
        &fixture("python/tcp_server_endless.py"),
        GREET_THEN_END,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "step 3 `expect_eof`",
            "expected the connection to close, but",
            "more byte(s) arrived",
            r#"received: "more data more data"#,
        ],
    );
    // A pattern that never comes: conform stops at its buffer limit instead of reading on.
    says(
        &run,
        "server ends its stream with END",
        "FAIL",
        &["step 3 `expect`", "bytes arrived without a match"],
    );
}

#[test]
fn udp_server_answering_ten_times_passes_must_scenarios_and_warns_once_per_datagram() {
    let run = hostile(
        "ten_replies",
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server reverses 8 bytes", "PASS", &[]);
    says(&run, "server reverses text bytes", "PASS", &[]);
    says(
        &run,
        "server answers once per datagram",
        "WARN",
        &[
            "step 4 `expect_silence`",
            "expected silence for 300ms, but a 8-byte datagram arrived",
        ],
    );
    assert!(
        run.stdout.contains("2 passed, 0 failed"),
        "{}",
        run.context()
    );
}

#[test]
fn udp_server_answering_ten_times_fails_once_per_datagram_with_strict() {
    let run = hostile(
        "ten_replies_strict",
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE,
        &["--strict"],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(&run, "server reverses 8 bytes", "PASS", &[]);
    says(&run, "server answers once per datagram", "FAIL", &[]);
}
