//! Sessions end to end: generated sessions of commands played against a small Redis clone
//! (`fixtures/python/mini_redis.py`), with fixed expectations or compared with a reference
//! program, the failing session shrunk, shown as a transcript, replayed from its replay line
//! and from the spec `--save-failures` writes, and carried in the JSON events.

mod common;

use std::path::Path;

use common::redis::{clone, python};
use common::{conform, stdout};

/// A session scenario of PING and SET with fixed expectations.
const FIXED: &str = r#"version: 1
scenarios:
  - name: sets and pings are answered in order
    role: server
    transport: tcp
    cases: 60
    session: {max_commands: 6}
    steps:
      - connect
    commands:
      - name: PING
        steps:
          - send: "*1\r\n$4\r\nPING\r\n"
          - expect: "+PONG\r\n"
      - name: SET
        generate:
          key: {text: {chars: "a-c", min_length: 1, max_length: 2}}
          value: {text: {chars: 'a-c\r\n', max_length: 8}}
        steps:
          - send:
              concat: ["*3\r\n$3\r\nSET\r\n$", {decimal: {length_of: key}}, "\r\n", {var: key},
                       "\r\n$", {decimal: {length_of: value}}, "\r\n", {var: value}, "\r\n"]
          - expect: "+OK\r\n"
"#;

fn write_spec(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The lines of a report from `first` (a line containing it) through the next `n`.
fn lines_from(report: &str, first: &str, n: usize) -> Vec<String> {
    report
        .lines()
        .skip_while(|l| !l.contains(first))
        .take(n + 1)
        .map(|l| l.trim_start().to_string())
        .collect()
}

/// Runs a failure's replay line (conform's own binary in place of `conform`).
fn replay(report: &str) -> std::process::Output {
    let line = report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("no replay line in:\n{report}"));
    let words = conform::drive::template::split(line).unwrap();
    assert_eq!(words[0], "conform", "{line}");
    conform().args(&words[1..]).output().unwrap()
}

#[test]
fn a_session_with_fixed_expectations_passes_against_a_correct_server() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--server", &clone(None)])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains(" 60 cases, seed 3)"), "{report}");
}

#[test]
fn an_extra_reply_is_found_and_the_session_shrunk_to_the_two_commands_that_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--server", &clone(Some("bulk-splits-crlf"))])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("failing session (case 7, seed 3, after 6 passing cases in"),
        "{report}"
    );
    let failing_step = format!(
        "command 2 `PING`, step 2 `expect` ({}:14:13): byte 0 differs: expected 0x2b '+', got 0x2d '-'",
        spec.display()
    );
    assert_eq!(
        lines_from(&report, "minimal session (after", 9),
        vec![
            "minimal session (after 16 probes): 2 commands",
            "1. SET key=\"a\" value=\"\\r\\n\"",
            "sent:      \"*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\na\\r\\n$2\\r\\n\\r\\n\\r\\n\"",
            "program:   \"+OK\\r\\n\"",
            "2. PING   <- fails here",
            "sent:      \"*1\\r\\n$4\\r\\nPING\\r\\n\"",
            "program:   \"-ERR Protocol er\"",
            "minimal: no shorter or simpler input fails",
            "with the minimal session:",
            &failing_step,
        ]
    );
    assert!(
        report.contains("--seed 3 --session 'SET(key=hex:61 value=hex:0d0a) PING()'"),
        "{report}"
    );
    // The replay line plays exactly the minimal session: one case, the same failure.
    let replayed = replay(&report);
    let again = stdout(&replayed);
    assert_eq!(replayed.status.code(), Some(1), "{again}");
    assert!(again.contains("1 case, seed 3"), "{again}");
    assert!(
        again.contains("failing session (case 1, seed 3, the first case): 2 commands: SET PING"),
        "{again}"
    );
    assert!(
        again.contains("every generated value is fixed: nothing to shrink"),
        "{again}"
    );
    assert!(
        again.contains("command 2 `PING`, step 2 `expect`"),
        "{again}"
    );
}

#[test]
fn the_same_seed_gives_the_same_minimal_session_and_probes() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let run = || {
        let output = conform()
            .arg("run")
            .arg(&spec)
            .args(["--seed", "11", "--server", &clone(Some("bulk-splits-crlf"))])
            .output()
            .unwrap();
        let report = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{report}");
        let minimal = lines_from(&report, "minimal session (after", 12);
        let replay_line: Vec<String> = report
            .lines()
            .filter(|l| l.contains("replay: "))
            .map(str::to_string)
            .collect();
        (minimal, replay_line)
    };
    assert_eq!(run(), run());
}

#[test]
fn save_failures_writes_a_spec_that_plays_the_minimal_session() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let saved = dir.path().join("saved");
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--server", &clone(Some("bulk-splits-crlf"))])
        .arg("--save-failures")
        .arg(&saved)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let file = saved.join("fixed-sets-and-pings-are-answered-in-order-3.yaml");
    assert!(
        report.contains(&format!("saved as a regression spec: {}", file.display())),
        "{report}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.ends_with(
            "    play:\n      - SET: {key: {hex: \"61\"}, value: {hex: \"0d0a\"}}\n      - PING\n"
        ),
        "{text}"
    );
    let replayed = conform()
        .arg("run")
        .arg(&file)
        .args(["--server", &clone(Some("bulk-splits-crlf"))])
        .output()
        .unwrap();
    let again = stdout(&replayed);
    assert_eq!(replayed.status.code(), Some(1), "{again}");
    assert!(again.contains("2 commands: SET PING"), "{again}");
    let fixed = conform()
        .arg("run")
        .arg(&file)
        .args(["--server", &clone(None)])
        .output()
        .unwrap();
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
}

#[test]
fn json_events_carry_the_minimal_session_under_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--format", "json"])
        .args(["--server", &clone(Some("bulk-splits-crlf"))])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let finished: serde_json::Value = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "scenario_finished")
        .unwrap();
    let session = &finished["failure"]["session"];
    assert_eq!(session.as_array().map(Vec::len), Some(2), "{finished:#}");
    assert_eq!(session[0]["name"], "SET");
    assert_eq!(session[0]["values"][0]["name"], "key");
    assert_eq!(session[0]["values"][0]["description"], "\"a\"");
    assert_eq!(session[0]["values"][1]["description"], "\"\\r\\n\"");
    assert_eq!(session[0]["answered"]["text"], "+OK\\r\\n");
    assert_eq!(session[0]["failed"], false);
    assert_eq!(session[1]["name"], "PING");
    assert_eq!(session[1]["sent"]["hex"], "2a310d0a24340d0a50494e470d0a");
    assert_eq!(session[1]["failed"], true);
    assert_eq!(finished["failure"]["generated"]["shrinking"], "minimal");
}

#[test]
fn a_failure_that_needs_earlier_sessions_is_said_not_to_reproduce_alone() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    // The clone's third client is answered wrongly; one long-running clone serves every
    // session, but a session replayed alone meets a fresh clone.
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--lifecycle", "scenario"])
        .args(["--server", &clone(Some("third-client-wrong"))])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("failing session (case 3, seed 3, after 2 passing cases in"),
        "{report}"
    );
    assert!(
        report.contains(
            "does not reproduce alone: the failing input passed when run again by itself"
        ),
        "{report}"
    );
    assert!(report.contains("the failing session:"), "{report}");
    assert!(report.contains("-ERR busy"), "{report}");
}

#[test]
fn without_a_reference_a_comparing_scenario_is_skipped_and_says_why() {
    let output = conform()
        .args(["run", "specs/examples/redis-session.yaml", "--list"])
        .args(["--server", &clone(None)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let listed = stdout(&output);
    assert!(
        listed.contains("(skipped: it compares with a reference program (`same_as_reference`), and no --reference was given)"),
        "{listed}"
    );
    let run = conform()
        .args(["run", "specs/examples/redis-session.yaml"])
        .args(["--server", &clone(None)])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        common::stderr(&run).contains(
            "no scenario selected: every scenario was skipped (it compares with a reference program"
        ),
        "{}",
        common::stderr(&run)
    );
}

#[test]
fn a_session_given_where_no_scenario_plays_sessions_is_a_usage_error() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--session", "SET(key=hex:61)"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::stderr(&output).contains(
            "--session SET(key=hex:61): no selected scenario plays sessions (`commands`)"
        ),
        "{}",
        common::stderr(&output)
    );
}

/// A session whose GET wrongly expects every key to be missing: the reference fails it.
const WRONG_SPEC: &str = r#"version: 1
scenarios:
  - name: a key is never there
    role: server
    transport: tcp
    cases: 40
    steps:
      - connect
    commands:
      - name: GET
        generate:
          key: {text: {chars: "a", length: 1}}
        steps:
          - send: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
          - expect: "$-1\r\n"
      - name: SET
        generate:
          key: {text: {chars: "a", length: 1}}
        steps:
          - send: "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nx\r\n"
          - expect: {same_as_reference: resp}
"#;

#[test]
fn a_reference_that_fails_the_spec_itself_is_blamed_and_not_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "wrong.yaml", WRONG_SPEC);
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args([
            "--seed",
            "2",
            "--server",
            &clone(None),
            "--reference",
            &clone(None),
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!(
            "command 3 `GET`, step 2 `expect` ({}:15:13): the reference `{} fixtures/python/mini_redis.py {{port}}` failed this step: byte 1 differs: expected 0x2d '-', got 0x31 '1'",
            spec.display(),
            python()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "program `{} fixtures/python/mini_redis.py ",
            python()
        )),
        "{report}"
    );
    assert!(
        report.contains(
            "the reference program failed this case itself, so the spec does not hold for it"
        ),
        "{report}"
    );
    assert!(
        report.contains("program:   (not judged: the reference failed this session)"),
        "{report}"
    );
}

#[test]
fn a_one_shot_scenario_compares_every_case_with_the_reference_and_shrinks_its_value() {
    assert!(
        common::which("xinetd"),
        "xinetd is not installed; scripts/test installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        dir.path(),
        "echo.yaml",
        "version: 1
scenarios:
  - name: lines come back as the reference echoes them
    role: server
    transport: tcp
    lifecycle: scenario
    cases: 40
    generate:
      line: {text: {chars: \"a-z\", min_length: 0, max_length: 1500}}
    steps:
      - connect
      - send: {concat: [{var: line}, \"\\n\"]}
      - expect: {same_as_reference: line}
",
    );
    // The program under test echoes 1000 bytes and closes; xinetd's echo is the reference.
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "2"])
        .args([
            "--server",
            &format!(
                "{} fixtures/python/echo_server_truncates.py {{port}}",
                python()
            ),
        ])
        .args([
            "--reference",
            "fixtures/shell/xinetd_service.sh echo {port}",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(
        common::minimal_line(&report).trim(),
        "line = 1000 byte(s), all \"a\"",
        "{report}"
    );
    assert!(
        report.contains("expected one line, but the peer closed the connection after 1000 byte(s)"),
        "{report}"
    );
    assert!(
        report.contains("hint: the reference answered 1001 byte(s): \"aaaa"),
        "{report}"
    );
    assert!(
        report.contains("--reference 'fixtures/shell/xinetd_service.sh echo {port}'"),
        "{report}"
    );
}

#[test]
fn the_html_report_shows_the_minimal_session_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let page = dir.path().join("report.html");
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--server", &clone(Some("bulk-splits-crlf"))])
        .arg("--report")
        .arg(format!("html={}", page.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // What a browser built from the page, not the text conform wrote.
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let rendered = common::run_tool(
        "chromium",
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            &profile,
            "--dump-dom",
            page.to_str().unwrap(),
        ],
        std::time::Duration::from_secs(120),
    );
    let dom = String::from_utf8_lossy(&rendered.stdout);
    let table = dom
        .split("<table class=\"session\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no session table in:\n{dom}"));
    assert!(dom.contains("<h3>Minimal session</h3>"), "{dom}");
    assert_eq!(table.matches("<tr").count(), 3, "{table}");
    let failed = table
        .split("<tr class=\"failed\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no failing row:\n{table}"));
    assert!(failed.contains("<b>PING</b>"), "{failed}");
    assert!(failed.contains("\"-ERR Protocol er\""), "{failed}");
    assert!(table.contains("key=\"a\" value=\"\\r\\n\""), "{table}");
}

#[test]
fn a_merged_report_shows_the_minimal_session_as_the_run_did() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "fixed.yaml", FIXED);
    let events = dir.path().join("events.jsonl");
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--seed", "3", "--server", &clone(Some("bulk-splits-crlf"))])
        .arg("--report")
        .arg(format!("json={}", events.display()))
        .output()
        .unwrap();
    let run = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{run}");
    let merged = conform().arg("report").arg(&events).output().unwrap();
    let report = stdout(&merged);
    assert_eq!(merged.status.code(), Some(1), "{report}");
    // The transcript of the minimal session comes back from the event stream.
    let transcript = |text: &str| lines_from(text, "minimal session (after", 7);
    assert_eq!(transcript(&report), transcript(&run), "{report}");
}
