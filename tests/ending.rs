//! How the end of a program is reported, end to end: a server that takes 0.7 s to exit after
//! SIGTERM (`fixtures/python/tcp_server_slow_shutdown.py`) exits by itself within the default
//! grace and is killed after a shorter one, and a command with an empty argument is shown with
//! that argument quoted.

mod common;

use std::path::Path;

use common::{conform, fixture, stdout};

/// A scenario a correct greeting server fails at once (the line arrives and differs), so the
/// case ends with the server still running and conform has to stop it.
const GOODBYE: &str = r#"version: 1
scenarios:
  - name: server says goodbye
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Goodbye!"}
"#;

/// The fixture's words before the port, as the human report shows them.
const SLOW: &str = "python3 fixtures/python/tcp_server_slow_shutdown.py";

struct Run {
    report: String,
    /// The JSON Lines written beside the human report.
    events: Vec<serde_json::Value>,
}

impl Run {
    /// The `program ...: ...` line under the failure, without its indentation.
    fn program_line(&self) -> &str {
        let lines: Vec<&str> = self
            .report
            .lines()
            .filter_map(|l| l.strip_prefix("      program "))
            .collect();
        assert_eq!(lines.len(), 1, "{}", self.report);
        lines[0]
    }

    /// The JSON `failure.program` of the one finished scenario.
    fn program(&self) -> &serde_json::Value {
        let finished: Vec<&serde_json::Value> = self
            .events
            .iter()
            .filter(|e| e["event"] == "scenario_finished")
            .collect();
        assert_eq!(finished.len(), 1, "{:?}", self.events);
        &finished[0]["failure"]["program"]
    }
}

/// Runs the scenario against `server` and checks that it failed.
fn run(dir: &Path, server: &str, args: &[&str]) -> Run {
    let spec = dir.join("goodbye.yaml");
    std::fs::write(&spec, GOODBYE).unwrap();
    let json = dir.join("events.jsonl");
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--server", server])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .args(args)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("the line differs at byte 0"),
        "the scenario failed for its own reason: {report}"
    );
    let events = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    Run { report, events }
}

/// `line` is `` `PREFIX PORT`SUFFIX ``: the port is the one thing a run changes.
fn assert_line(line: &str, prefix: &str, suffix: &str) {
    let port = line
        .strip_prefix(&format!("`{prefix} "))
        .and_then(|rest| rest.strip_suffix(&format!("`{suffix}")))
        .unwrap_or_else(|| panic!("not `{prefix} PORT`{suffix}:\n{line}"));
    assert!(port.parse::<u16>().is_ok(), "{line}");
}

#[test]
fn a_server_that_exits_within_the_default_grace_after_sigterm_exited_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &fixture("python/tcp_server_slow_shutdown.py"),
        &[],
    );
    assert_line(
        run.program_line(),
        SLOW,
        ": was still running; after conform sent SIGTERM it exited by itself with code 0, \
         within the grace of 2 s",
    );
    assert_eq!(
        run.program()["ending"],
        serde_json::json!({
            "kind": "exited_after_sigterm",
            "code": 0,
            "grace_ms": 2000.0,
            "message": "was still running; after conform sent SIGTERM it exited by itself \
                        with code 0, within the grace of 2 s"
        })
    );
}

#[test]
fn a_server_slower_than_a_short_grace_is_killed_without_being_said_to_ignore_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &fixture("python/tcp_server_slow_shutdown.py"),
        &["--grace", "100ms"],
    );
    assert_line(
        run.program_line(),
        SLOW,
        ": was still running and did not exit within the grace of 100 ms after SIGTERM; \
         conform killed it with SIGKILL",
    );
    assert_eq!(run.program()["ending"]["kind"], "killed_after_grace");
    assert_eq!(run.program()["ending"]["grace_ms"], 100.0);
}

#[test]
fn an_empty_argument_stays_visible_wherever_the_command_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    // `sh -c SCRIPT '' PORT`: the empty word is the script's $0, the port its $1.
    let server = format!(r#"sh -c 'exec {SLOW} "$1"' '' {{port}}"#);
    let run = run(dir.path(), &server, &[]);
    let shown = format!(r#"sh -c 'exec {SLOW} "$1"' ''"#);
    assert!(
        run.report
            .contains(&format!("      against: `{shown} {{port}}`\n")),
        "{}",
        run.report
    );
    assert_line(
        run.program_line(),
        &shown,
        ": was still running; after conform sent SIGTERM it exited by itself with code 0, \
         within the grace of 2 s",
    );
    let program = run.program();
    let argv = program["argv"].as_array().expect("argv");
    assert_eq!(argv.len(), 5, "{program}");
    assert_eq!(argv[3], "", "{program}");
    assert_eq!(
        program["command"].as_str().map(|c| c.starts_with(&shown)),
        Some(true),
        "{program}"
    );
}
