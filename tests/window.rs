//! Several requests in flight (`--window`) for stateless UDP services: the same verdicts as
//! one at a time, failures still shrunk, faults that only show under concurrency reported.

mod common;

use common::{conform, fixture, stdout};

#[test]
fn reference_passes_any_size_with_a_window() {
    let output = conform()
        .args([
            "run",
            "specs/udp-sizes.yaml",
            "--window",
            "32",
            "--cases",
            "2000",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    // The window ran, not the one-at-a-time path: the report says how many were in flight.
    assert!(
        report.contains("2000 cases, 32 in flight, seed"),
        "{report}"
    );
}

#[test]
fn a_correct_persistent_server_passes_with_a_window() {
    let output = conform()
        .args([
            "run",
            "specs/udp.yaml",
            "--filter",
            "name:server reverses any 8 bytes",
        ])
        .args([
            "--window",
            "16",
            "--cases",
            "500",
            "--lifecycle",
            "scenario",
        ])
        .args(["--server", &fixture("python/udp_server_forever.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("500 cases, 16 in flight"), "{report}");
}

#[test]
fn a_window_that_finds_a_failure_still_shrinks_it() {
    let output = conform()
        .args([
            "run",
            "specs/udp.yaml",
            "--filter",
            "name:server reverses any 8 bytes",
        ])
        .args(["--window", "8", "--cases", "200", "--shrink-time", "20s"])
        .args(["--lifecycle", "scenario"])
        .args(["--server", &fixture("python/udp_server_forever_7bit.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("minimal input"), "{report}");
    // Shrunk to a single high byte among zeros.
    assert!(report.contains("minimal input"), "{report}");
    assert!(report.contains("expected 0x80"), "{report}");
    assert!(report.contains(" in flight, seed"), "{report}");
}

#[test]
fn duplicate_replies_that_only_confuse_a_window_are_reported_as_such() {
    let output = conform()
        .args([
            "run",
            "specs/udp.yaml",
            "--filter",
            "name:server reverses any 8 bytes",
        ])
        .args(["--window", "8", "--cases", "50", "--lifecycle", "scenario"])
        .args(["--server", &fixture("python/udp_server_ten_replies.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("matched none of the"), "{report}");
}

#[test]
fn window_on_a_scenario_that_cannot_use_it_is_a_spec_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(
        &path,
        "scenarios:\n  - name: x\n    role: server\n    transport: tcp\n    window: 8\n    steps: [connect]\n",
    )
    .unwrap();
    let output = conform().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("`window` needs a generated UDP server scenario"));
}

/// A generated UDP reversal scenario with a window of 8, whose `send` and `expect` lines are
/// given.
fn windowed_spec(send: &str, expect: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(
        &path,
        format!(
            "scenarios:\n  - name: reverse in a window\n    role: server\n    transport: udp\n    window: 8\n    generate:\n      payload: {{bytes: {{length: 8}}}}\n    steps:\n      - connect\n      - send: {send}\n      - expect: {expect}\n"
        ),
    )
    .unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

#[test]
fn a_window_honours_a_truncated_send_and_fails() {
    let (_dir, path) = windowed_spec("{var: payload, truncate: 4}", "{reverse: payload}");
    let output = conform()
        .args(["run", &path, "--cases", "50"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    // Found through the window, replayed alone: the reference answered the 4 bytes it got.
    assert!(report.contains(" in flight, seed"), "{report}");
    assert!(
        report.contains("expected a datagram of 8 byte(s)") && report.contains("but got 4 byte(s)"),
        "{report}"
    );
}

#[test]
fn a_window_refuses_at_the_step_the_faults_it_cannot_honour() {
    for fault in [
        "drop: true",
        "duplicate: 2",
        "delay: 10ms",
        "from_other_port: true",
    ] {
        let (_dir, path) =
            windowed_spec(&format!("{{var: payload, {fault}}}"), "{reverse: payload}");
        let output = conform().args(["check", &path]).output().unwrap();
        let err = common::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{fault}: {err}");
        let name = fault.split(':').next().unwrap();
        assert!(
            err.contains(":10:9:") && err.contains(&format!("`window` cannot honour `{name}`")),
            "{fault}: {err}"
        );
    }
}

#[test]
fn a_window_refuses_a_capture_at_its_step() {
    let (_dir, path) = windowed_spec("{var: payload}", "{reverse: payload, capture: got}");
    let output = conform().args(["check", &path]).output().unwrap();
    let err = common::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains(":11:9:") && err.contains("drop `capture`"),
        "{err}"
    );
}

#[test]
fn a_windowed_failure_is_replayed_with_the_expect_steps_deadline() {
    let (_dir, path) = windowed_spec("{var: payload}", "{reverse: payload, within: 150ms}");
    let output = conform()
        .args(["run", &path, "--cases", "20", "--lifecycle", "scenario"])
        .args(["--server", &fixture("rust/udp_server_silent")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    // The step's own deadline, not the 5 s default, bounds the window's wait and the replay.
    assert!(report.contains("within 150ms"), "{report}");
    assert!(!report.contains("5000ms"), "{report}");
}

#[test]
fn with_mistakes_are_usage_errors_naming_what_is_known() {
    let run = |with: &str| {
        conform()
            .args(["run", "specs/udp.yaml", "--with", with])
            .output()
            .unwrap()
    };
    let unknown = run("nosuch=hex:00");
    let err = common::stderr(&unknown);
    assert_eq!(unknown.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no selected scenario generates `nosuch`") && err.contains("payload"),
        "{err}"
    );
    assert!(
        stdout(&unknown).is_empty(),
        "nothing runs: {}",
        stdout(&unknown)
    );
    let encoding = run("payload=zz:00");
    let err = common::stderr(&encoding);
    assert_eq!(encoding.status.code(), Some(2), "{err}");
    assert!(err.contains("write `hex:...`"), "{err}");
    let length = run("payload=hex:00");
    let err = common::stderr(&length);
    assert_eq!(length.status.code(), Some(2), "{err}");
    assert!(err.contains("not one the generator of `payload`"), "{err}");
}
