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
    assert!(report.contains("2000 cases, seed"), "{report}");
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
