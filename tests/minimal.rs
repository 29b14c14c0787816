//! "Minimal means minimal": shrinking against real programs ends at the exact least failing
//! input for a number that wraps at 2^31, bytes that break on CR LF, and a regex whose every
//! text fails, and the report says precisely what was checked. The specs are in
//! `tests/data/minimal/` and pass against a real `redis-server`.

mod common;

use common::{fixture, shrunk_section, which};

const WRAPS: &str = "python/tcp_server_incr_wraps_at_2_31.py";
const SPLITS: &str = "python/tcp_server_splits_on_crlf.py";
const REDIS: &str = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no";

fn run(spec: &str, server: &str, extra: &[&str]) -> (Option<i32>, String) {
    common::run_spec(&format!("tests/data/minimal/{spec}.yaml"), server, extra)
}

fn probes(heading_line: &str) -> u64 {
    heading_line
        .split("(after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

#[test]
fn the_specs_pass_against_redis_server() {
    assert!(
        which("redis-server"),
        "redis-server is not installed; scripts/test installs it (Debian package redis-server)"
    );
    for spec in ["counter", "values", "lines"] {
        let (code, report) = run(spec, REDIS, &["--seed", "4"]);
        assert_eq!(code, Some(0), "{spec}: {report}");
    }
}

#[test]
fn a_counter_that_wraps_at_2_31_shrinks_to_exactly_2147483647() {
    for seed in 1..=3 {
        let (code, report) = run("counter", &fixture(WRAPS), &["--seed", &seed.to_string()]);
        assert_eq!(code, Some(1), "seed {seed}: {report}");
        let section = shrunk_section(&report, "locally minimal input (after ");
        assert!(section.len() == 3, "seed {seed}: {report}");
        assert!(probes(section[0]) <= 60, "seed {seed}: {report}");
        assert_eq!(
            section[1], "start = 2147483647 (64-bit big-endian: 000000007fffffff)",
            "seed {seed}: {report}"
        );
        assert_eq!(
            section[2],
            "locally minimal: each of these simplifications was run and passes: lowering the \
             number to its minimum or by one, clearing its highest bit; simpler inputs that \
             were not run may still fail"
        );
        assert!(
            report.contains("--with start=number:2147483647\n"),
            "seed {seed}: {report}"
        );
    }
}

#[test]
fn the_counter_counts_right_just_below_2147483647_and_wrong_from_it() {
    let (code, report) = run(
        "counter",
        &fixture(WRAPS),
        &["--with", "start=number:2147483646"],
    );
    assert_eq!(code, Some(0), "{report}");
    let (code, report) = run(
        "counter",
        &fixture(WRAPS),
        &["--with", "start=number:2147483647"],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("actual:   \":-2147483649\\r\\n\""),
        "{report}"
    );
}

#[test]
fn a_server_that_splits_on_crlf_shrinks_to_999_zero_bytes_then_crlf() {
    // Values are 1001 to 2000 bytes: the shortlex-smallest one with CR LF in it is the
    // shortest length, zeros first, CR LF last.
    let value = format!("hex:{}0d0a", "00".repeat(999));
    for seed in 1..=2 {
        let (code, report) = run("values", &fixture(SPLITS), &["--seed", &seed.to_string()]);
        assert_eq!(code, Some(1), "seed {seed}: {report}");
        let section = shrunk_section(&report, "locally minimal input (after ");
        assert!(section.len() == 3, "seed {seed}: {report}");
        assert_eq!(
            section[1], "value = 1001 byte(s): \"\\x00\" × 999, \"\\r\\n\" at 999",
            "seed {seed}: {report}"
        );
        assert!(section[2].starts_with(
            "locally minimal: each of these simplifications was run and passes: deleting any \
             one byte, lowering any one byte"
        ));
        // The terminal's replay line names a file holding the value, as `--with` reads it.
        let file = report
            .split_whitespace()
            .find_map(|w| w.strip_prefix("value=@"))
            .unwrap_or_else(|| panic!("seed {seed}: no value file in {report}"));
        let written = std::fs::read_to_string(file).unwrap();
        assert_eq!(written.trim_end(), value, "seed {seed}: {report}");
        assert!(probes(section[0]) <= 80, "seed {seed}: {report}");
    }
}

#[test]
fn a_long_failing_input_shows_its_crlf_in_the_report_not_a_silent_cut() {
    // Pinned, so nothing is shrunk: the report shows the value as it was, in parts.
    let mut value = vec![b'.'; 1500];
    value[563] = b'\r';
    value[564] = b'\n';
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    let (code, report) = run(
        "values",
        &fixture(SPLITS),
        &["--with", &format!("value=hex:{hex}")],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("  value = 1500 byte(s): \".\" × 563, \"\\r\\n\" at 563, \".\" × 935\n"),
        "{report}"
    );
    assert!(
        report.contains("every generated value is fixed: nothing to shrink"),
        "{report}"
    );
}

#[test]
fn a_regex_whose_every_text_fails_reports_its_shortest_match() {
    // Seed 2's first case is "abc", the first alternative; the shortest match is "".
    let (code, report) = run("lines", &fixture(SPLITS), &["--seed", "2"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("  w = 3 byte(s) \"abc\"\n"), "{report}");
    let section = shrunk_section(&report, "simplest input (after 1 probe):");
    assert_eq!(
        section,
        [
            "simplest input (after 1 probe):",
            "w = 0 byte(s) \"\"",
            "fails for any input, e.g. the simplest one: it fails the same way as the first \
             failing case",
        ],
        "{report}"
    );
}

#[test]
fn the_json_report_names_a_local_minimum_as_such() {
    let (code, report) = run(
        "counter",
        &fixture(WRAPS),
        &["--seed", "1", "--format", "json"],
    );
    assert_eq!(code, Some(1), "{report}");
    let finished: serde_json::Value = report
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "scenario_finished")
        .expect("a scenario_finished event");
    let generated = &finished["failure"]["generated"];
    assert_eq!(generated["shrinking"], "locally_minimal");
    assert_eq!(
        generated["minimal"][0]["description"],
        "2147483647 (64-bit big-endian: 000000007fffffff)"
    );
}
