//! Signed numbers end to end: a generated negative number is sent as decimal text, found
//! failing, shrunk to the exact least failing value, replayed with `--with` and saved as a
//! regression spec that loads back. `tests/data/minimal/incrby.yaml` passes against a real
//! `redis-server`; the fixtures each have one defect with negative numbers.

mod common;

use common::redis::REDIS;
use common::{conform, fixture, run_spec as run, shrunk_section, which};

const SPEC: &str = "tests/data/minimal/incrby.yaml";
/// Counters kept as unsigned 32-bit integers: INCRBY by -1 from 0 answers 4294967295.
const UNSIGNED: &str = "python/tcp_server_incrby_unsigned.py";
/// Numbers kept in a signed byte: -129 comes back as 127.
const SIGNED_BYTE: &str = "python/integer_server_signed_byte.py";

#[test]
fn the_incrby_spec_passes_against_redis_server() {
    assert!(
        which("redis-server"),
        "redis-server is not installed; scripts/test installs it (Debian package redis-server)"
    );
    for seed in ["1", "2"] {
        let (code, report) = run(SPEC, REDIS, &["--seed", seed]);
        assert_eq!(code, Some(0), "seed {seed}: {report}");
        assert!(report.contains("100 cases"), "{report}");
    }
    let (code, report) = run(SPEC, REDIS, &["--with", "by=number:-1000000"]);
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn an_unsigned_counter_fails_for_negative_amounts_and_shrinks_to_exactly_minus_1() {
    for seed in 1..=3 {
        let (code, report) = run(SPEC, &fixture(UNSIGNED), &["--seed", &seed.to_string()]);
        assert_eq!(code, Some(1), "seed {seed}: {report}");
        let section = shrunk_section(&report, "minimal input (after ");
        assert_eq!(section.len(), 3, "seed {seed}: {report}");
        assert_eq!(
            section[1..],
            [
                "by = -1 (signed decimal text: 2d31)",
                "minimal: no shorter or simpler input fails"
            ],
            "seed {seed}: {report}"
        );
        assert!(
            report.contains("expected: \":-1\\r\\n\"\n")
                && report.contains("actual:   \":4294967295\\r\\n\"\n"),
            "seed {seed}: {report}"
        );
        assert!(
            report.contains("--with by=number:-1\n"),
            "seed {seed}: {report}"
        );
    }
}

#[test]
fn a_negative_amount_replays_with_with_and_a_saved_spec_loads_back() {
    let (code, report) = run(SPEC, &fixture(UNSIGNED), &["--with", "by=number:-5"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("by = -5 (signed decimal text: 2d35)"),
        "{report}"
    );
    assert!(
        report.contains("actual:   \":4294967291\\r\\n\""),
        "{report}"
    );
    let (code, report) = run(SPEC, &fixture(UNSIGNED), &["--with", "by=number:5"]);
    assert_eq!(code, Some(0), "{report}");

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved");
    let args = ["--seed", "1", "--save-failures", saved.to_str().unwrap()];
    let (code, report) = run(SPEC, &fixture(UNSIGNED), &args);
    assert_eq!(code, Some(1), "{report}");
    let files: Vec<_> = std::fs::read_dir(&saved)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.contains("    with:\n      by: {number: -1}\n"),
        "{text}"
    );
    let path = files[0].to_str().unwrap();
    let (code, report) = run(path, &fixture(UNSIGNED), &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("by = -1 (signed decimal text: 2d31)"),
        "{report}"
    );
    assert!(
        report.contains("every generated value is fixed"),
        "{report}"
    );
    let (code, report) = run(path, REDIS, &[]);
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn an_amount_outside_the_range_or_the_width_is_refused() {
    for (with, says) in [
        (
            "by=number:-1000001",
            "--with by=number:-1000001: the value is not one the generator of `by` in scenario \
             `INCRBY from 0 by any amount gives the amount` makes (check its length, characters \
             or range)",
        ),
        (
            "by=number:-9223372036854775809",
            "--with by=number:-9223372036854775809: -9223372036854775809 does not fit in a \
             signed 64-bit number (-9223372036854775808 to 9223372036854775807)",
        ),
    ] {
        let output = conform()
            .args(["run", SPEC, "--server", REDIS, "--with", with])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{with}");
        let stderr = common::stderr(&output);
        assert!(stderr.contains(says), "{stderr}");
    }
}

/// Sends a negative number as a line and expects it back as a RESP integer.
const NEGATIVE_LINES: &str = r#"version: 1
scenarios:
  - name: answers any negative number as itself
    role: server
    transport: tcp
    lifecycle: scenario
    cases: 100
    generate:
      num: {number: {min: -100000, max: -1}}
    steps:
      - connect
      - send: {concat: [{decimal: num}, "\r\n"]}
      - expect: {concat: [":", {decimal: num}, "\r\n"]}
"#;

#[test]
fn a_signed_byte_fails_from_minus_129_down_and_shrinks_to_exactly_minus_129() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("negative.yaml");
    std::fs::write(&spec, NEGATIVE_LINES).unwrap();
    for seed in 1..=3 {
        let args = ["--seed", &seed.to_string()];
        let (code, report) = run(spec.to_str().unwrap(), &fixture(SIGNED_BYTE), &args);
        assert_eq!(code, Some(1), "seed {seed}: {report}");
        let section = shrunk_section(&report, "locally minimal input (after ");
        assert_eq!(section.len(), 3, "seed {seed}: {report}");
        assert_eq!(
            section[1], "num = -129 (signed decimal text: 2d313239)",
            "seed {seed}: {report}"
        );
        assert_eq!(
            section[2],
            "locally minimal: each of these simplifications was run and passes: moving the \
             signed number to 0 (or its bound nearest 0), across 0 (-n to n, n to 1-n) or one \
             step toward 0, clearing the highest bit of its magnitude; simpler inputs that were \
             not run may still fail",
            "seed {seed}: {report}"
        );
        assert!(
            report.contains("actual:   \":127\\r\\n\""),
            "seed {seed}: {report}"
        );
    }
}
