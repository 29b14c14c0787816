//! Shrinking against real programs: minimal counterexamples, input-independent failures,
//! failures that do not reproduce alone, and the budgets that bound a generated scenario.
//! Every assertion is on what a user reads; none depends on the machine's speed (budgets are
//! counted in probes; the one time budget used is far below any program's start-up).

mod common;

use common::{conform, fixture, stdout};

const EIGHT_BYTE_BUFFER: &str = "python/udp_server_forever_8_byte_buffer.py";

/// Runs `specs/udp-sizes.yaml` against the persistent 8-byte-buffer server.
fn eight_byte_buffer(seed: u64, extra: &[&str]) -> (Option<i32>, String) {
    let output = conform()
        .args(["run", "specs/udp-sizes.yaml", "--lifecycle", "scenario"])
        .args(["--seed", &seed.to_string()])
        .args(["--server", &fixture(EIGHT_BYTE_BUFFER)])
        .args(extra)
        .output()
        .unwrap();
    (output.status.code(), stdout(&output))
}

/// The lines from `failing input` to the replay line: what shrinking reported.
fn generated_section(report: &str) -> String {
    report
        .lines()
        .skip_while(|l| !l.contains("failing input"))
        .take_while(|l| !l.contains("replay:"))
        .filter(|l| !l.contains("failing input"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_eight_byte_buffer_shrinks_to_the_byte_0x01_on_every_seed() {
    for seed in 1..=6 {
        let (code, report) = eight_byte_buffer(seed, &[]);
        assert_eq!(code, Some(1), "seed {seed}: {report}");
        let section = generated_section(&report);
        assert!(
            section.contains("minimal input (after ")
                && section.contains("  payload = 1 byte(s) \"\\x01\"")
                && section.contains("minimal: no shorter or simpler input fails"),
            "seed {seed}: {report}"
        );
        assert!(
            report.contains("--with payload=hex:01"),
            "seed {seed}: {report}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_cases_probes_and_minimal_input() {
    let (_, first) = eight_byte_buffer(11, &[]);
    let (_, second) = eight_byte_buffer(11, &[]);
    let section = generated_section(&first);
    assert!(section.contains("probes):"), "{first}");
    assert_eq!(section, generated_section(&second));
    let failing = |r: &str| {
        r.lines()
            .find(|l| l.contains("failing input"))
            .map(|l| l.replace(|c: char| c.is_ascii_digit(), "#"))
            .map(|l| l.split(" in ").next().unwrap_or_default().to_string())
    };
    assert_eq!(failing(&first), failing(&second));
}

#[test]
fn the_probe_budget_ends_shrinking_and_the_report_says_it_is_not_proven_minimal() {
    let (code, report) = eight_byte_buffer(2, &["--shrink-probes", "2"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("smallest failing input found (after 2 probes):"),
        "{report}"
    );
    assert!(
        report.contains("not proven minimal: the budget of 2 probes ran out (--shrink-probes)"),
        "{report}"
    );
}

#[test]
fn a_silent_server_fails_for_any_input_after_one_probe() {
    let output = conform()
        .args([
            "run",
            "specs/udp-sizes.yaml",
            "--timeout",
            "300ms",
            "--seed",
            "5",
        ])
        .args(["--server", &fixture("rust/udp_server_silent")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    // One case, then one probe with the simplest input: two deadlines, not minutes.
    assert!(report.contains("1 case, seed 5"), "{report}");
    assert!(
        report.contains("simplest input (after 1 probe):"),
        "{report}"
    );
    assert!(report.contains("  payload = 0 byte(s) \"\""), "{report}");
    assert!(
        report.contains("fails for any input, e.g. the simplest one"),
        "{report}"
    );
    assert!(report.contains("none arrived within 300ms"), "{report}");
    assert!(!report.contains("proptest"), "{report}");
}

#[test]
fn a_server_that_answers_after_the_deadline_fails_for_any_input_after_one_probe() {
    let output = conform()
        .args([
            "run",
            "specs/udp-sizes.yaml",
            "--timeout",
            "300ms",
            "--seed",
            "6",
        ])
        .args(["--server", &fixture("rust/udp_server_slow_reply")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("1 case, seed 6"), "{report}");
    assert!(
        report.contains("fails for any input, e.g. the simplest one"),
        "{report}"
    );
}

#[test]
fn a_refused_connection_before_the_input_is_used_is_named_not_shrunk() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("greet.yaml");
    std::fs::write(
        &spec,
        "version: 1
scenarios:
  - name: greets any client that then speaks
    role: server
    transport: tcp
    lifecycle: scenario
    cases: 20
    generate:
      payload: {bytes: {min_length: 1, max_length: 16}}
    steps:
      - connect
      - expect: {line: \"Hello World!\"}
      - send: {var: payload}
",
    )
    .unwrap();
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3"])
        .args(["--server", &fixture("python/tcp_server_refuses_after_5.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("failing input (case 6, seed 3, after 5 passing cases in "),
        "{report}"
    );
    assert!(
        report.contains(
            "fails for any input: step 1 failed before any generated value was used; not shrunk"
        ),
        "{report}"
    );
    assert!(report.contains("step 1 `connect`"), "{report}");
    assert!(report.contains("connection refused"), "{report}");
    // No probe ran: six cases in all.
    assert!(report.contains("6 cases, seed 3"), "{report}");
    assert!(!report.contains("minimal input"), "{report}");
}

#[test]
fn a_failure_that_depends_on_earlier_cases_is_said_not_to_reproduce_alone() {
    let output = conform()
        .args(["run", "specs/udp-sizes.yaml", "--lifecycle", "scenario"])
        .args(["--seed", "5"])
        .args([
            "--server",
            &fixture("python/udp_server_forever_third_wrong.py"),
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("failing input (case 3, seed 5,"),
        "{report}"
    );
    assert!(
        report.contains(
            "does not reproduce alone: the failing input passed when run again by itself"
        ),
        "{report}"
    );
    assert!(!report.contains("minimal input"), "{report}");
}

#[test]
fn a_single_read_client_shrinks_to_one_cut() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--seed", "4"])
        .args([
            "--filter",
            "name:client prints the greeting however it is split",
        ])
        .args(["--client", &fixture("python/tcp_client_single_recv.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let minimal = common::minimal_line(&report);
    assert!(
        minimal.contains("greeting = 13 byte(s) in 2 write(s)"),
        "{report}"
    );
    // A pause of 0 ms at each later offset is simpler too, and most were never run.
    assert!(
        report.contains(
            "locally minimal: each of these simplifications was run and passes: removing any \
             one cut, moving any cut one byte earlier, shortening any pause to 0 or by 1 ms"
        ),
        "{report}"
    );
    assert!(report.contains("`expect_stdout`"), "{report}");
}

#[test]
fn the_time_budget_stops_starting_cases_and_the_report_says_how_many_ran() {
    // The server takes longer to start than the whole budget: exactly one case runs.
    let output = conform()
        .args(["run", "specs/udp-sizes.yaml", "--lifecycle", "scenario"])
        .args(["--seed", "1", "--budget", "1ms"])
        .args(["--server", &fixture("python/udp_server_forever.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("1 of 200 cases: the 1ms budget ran out, seed 1"),
        "{report}"
    );
}

#[test]
fn the_spec_can_set_the_time_budget() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("budget.yaml");
    let text = std::fs::read_to_string(common::root().join("specs/udp-sizes.yaml"))
        .unwrap()
        .replace("    cases: 200\n", "    cases: 200\n    budget: 1ms\n");
    std::fs::write(&spec, text).unwrap();
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--lifecycle", "scenario", "--seed", "1"])
        .args(["--server", &fixture("python/udp_server_forever.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("1 of 200 cases: the 1ms budget ran out"),
        "{report}"
    );
}

#[test]
fn json_reports_carry_probes_and_how_shrinking_ended() {
    let (_, report) = eight_byte_buffer(3, &["--format", "json"]);
    let finished: serde_json::Value = report
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "scenario_finished")
        .expect("a scenario_finished event");
    let generated = &finished["failure"]["generated"];
    assert_eq!(generated["shrinking"], "minimal", "{report}");
    assert_eq!(
        generated["shrinking_message"],
        "minimal: no shorter or simpler input fails"
    );
    assert!(generated["probes"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(generated["probes"], generated["shrink_steps"]);
    assert_eq!(
        generated["minimal"][0]["description"],
        "1 byte(s) \"\\x01\""
    );
}
