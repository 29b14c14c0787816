//! conform interrupted (SIGINT) while a hostile program runs: grandchildren holding the port,
//! a server that never reads, one that never stops sending, one that answers ten times, one
//! that shuts down gracefully on SIGTERM, a late listener and a stderr flood. Each time conform
//! must exit 130 promptly, say "interrupted", give no verdict for the interrupted scenario,
//! and leave nothing behind.
//!
//! Every run is watched from outside (tests/common/hostile.rs): the watcher sends the SIGINT
//! once the run has reached the state the test means, and checks that no process outlives it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::fixture;
use common::hostile::{SPEAK_THEN_WAIT, Sample, big_send_spec, pids_in, secs, stat, watch};

// ---------------------------------------------------------------------------------------------
// Specs only this file uses.

/// The greeting, then conform idles: a run that is certainly still going when interrupted.
const GREET_THEN_IDLE: &str = r#"
scenarios:
  - name: server greets, then conform idles
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!", within: 60s}
      - pause: 60s
"#;

/// conform speaks first (a few bytes), then idles.
const SPEAK_THEN_IDLE: &str = r#"
scenarios:
  - name: server takes a request, then conform idles
    role: server
    transport: tcp
    steps:
      - connect
      - send: "Hello?\n"
      - pause: 60s
"#;

/// The greeting, then conform waits (long) for the server to close.
const GREET_THEN_WAIT_EOF: &str = r#"
scenarios:
  - name: server greets, then closes in its own time
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!", within: 60s}
      - expect_eof: {within: 60s}
"#;

/// One UDP exchange, then conform idles.
const REVERSE_THEN_IDLE: &str = r#"
scenarios:
  - name: server reverses, then conform idles
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01", within: 60s}
      - pause: 60s
"#;

/// When to interrupt a run.
#[derive(Clone, Copy)]
enum When {
    /// This long after conform started talking to the program (a connected TCP socket or a
    /// UDP socket): the specs used with it are then in a `pause`, and only the program's own
    /// behaviour is in play.
    Talking(Duration),
    /// This long after the program appeared: conform may still be waiting on it, for
    /// readiness or on a socket.
    Started(Duration),
}

/// Interrupts conform mid-run `attempts` times; each time it must exit 130 promptly, say
/// "interrupted", report no verdict for the interrupted scenario, and leave nothing behind
/// (checked by `watch`), including every pid the fixture wrote to `pidfile`.
fn interrupt_mid_run(
    command: &str,
    spec: &str,
    args: &[&str],
    pidfile: Option<&Path>,
    when: When,
    attempts: usize,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    let mut argv = vec![
        "run".to_string(),
        path.to_string_lossy().into_owned(),
        "--server".into(),
        command.into(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let env: Vec<(&str, &Path)> = pidfile.map(|p| ("PIDFILE", p)).into_iter().collect();
    let mut wrong = Vec::new();
    for attempt in 1..=attempts {
        let mut trigger = |s: &Sample| match when {
            // The fallback only keeps a broken test from idling through the 60 s pause.
            When::Talking(d) => {
                s.talking_for.is_some_and(|t| t >= d)
                    || s.program_for.is_some_and(|t| t >= secs(30))
            }
            When::Started(d) => s.program_for.is_some_and(|t| t >= d),
        };
        let run = watch(&argv, &env, false, Some(&mut trigger));
        let after = run.after_interrupt;
        assert!(after.is_some(), "never interrupted\n{}", run.context());
        assert!(
            after.is_some_and(|a| a < secs(10)),
            "took {after:?} to exit after SIGINT\n{}",
            run.context()
        );
        assert!(!run.seen.is_empty(), "no program ran\n{}", run.context());
        let verdict = run
            .stdout
            .lines()
            .any(|l| ["PASS", "FAIL", "WARN"].iter().any(|v| l.starts_with(v)));
        if run.code != Some(130) || !run.stderr.contains("interrupted") || verdict {
            wrong.push(format!("attempt {attempt}: {}", run.context()));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {attempts} interrupted run(s) did not end with exit 130, `interrupted` and \
         no verdict:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    if let Some(pidfile) = pidfile {
        let pids = pids_in(pidfile);
        assert!(!pids.is_empty(), "the fixture wrote no pids");
        for pid in pids {
            assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
        }
    }
}

#[test]
fn sigint_while_setsid_grandchildren_hold_the_port_stops_them_all_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    interrupt_mid_run(
        &fixture("python/tcp_server_grandchildren_hold.py"),
        GREET_THEN_IDLE,
        &[],
        Some(&pidfile),
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_holds_a_connection_it_never_reads_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        SPEAK_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_is_blocked_sending_forever_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_endless.py"),
        GREET_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_udp_server_answers_ten_times_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_waiting_on_a_server_that_shuts_down_gracefully_exits_130_without_a_verdict() {
    interrupt_mid_run(
        &fixture("python/tcp_server_graceful_term.py"),
        GREET_THEN_WAIT_EOF,
        &[],
        None,
        When::Talking(Duration::from_millis(500)),
        10,
    );
}

#[test]
fn sigint_while_waiting_for_a_reply_from_a_server_that_never_reads_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        &SPEAK_THEN_WAIT.replace("within: 2s", "within: 60s"),
        &[],
        None,
        When::Talking(secs(1)),
        10,
    );
}

#[test]
fn sigint_while_conform_is_blocked_sending_to_a_server_that_never_reads_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        &big_send_spec(16, "60s"),
        &[],
        None,
        When::Talking(secs(1)),
        10,
    );
}

#[test]
fn sigint_while_waiting_for_a_late_listener_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_binds_late.py"),
        GREET_THEN_IDLE,
        &["--ready-timeout", "60s"],
        None,
        When::Started(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_floods_stderr_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/flood_stderr.py"),
        GREET_THEN_IDLE,
        &[],
        None,
        When::Started(Duration::from_millis(100)),
        1,
    );
}
