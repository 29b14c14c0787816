//! `conform matrix`: many implementations in one run. The reference (run as a program), a
//! fixture with one defect and the guide's Lisp programs side by side; `--each` over
//! directories of submissions; the table, the exit code and every report naming the
//! implementation.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{conform, fixture, lisp, root, run_tool, stderr, stdout};

/// Longest a matrix run here may take: a few implementations, server scenarios only.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The reference TCP server as an external program, like any implementation.
fn reference_server() -> String {
    let binary = assert_cmd::cargo::cargo_bin("conform");
    format!("{} reference tcp-server --port {{port}}", binary.display())
}

/// Runs `conform matrix` with `args` and returns (exit code, stdout).
fn matrix(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = conform();
    cmd.arg("matrix").args(args).timeout(RUN_LIMIT);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd.output().expect("conform runs");
    let code = output.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {}", stderr(&output));
    (code, stdout(&output))
}

/// The words of a table row, by implementation name.
fn row<'t>(table: &'t str, name: &str) -> Vec<&'t str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row `{name}` in:\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn the_table_has_a_row_per_implementation_and_one_failed_must_fails_the_run() {
    let reference = format!("ref={}", reference_server());
    let extra = format!("extra={}", fixture("rust/tcp_server_extra_line"));
    let guide = format!("lisp={}", lisp("tcp", "server"));
    let args = [
        "specs/tcp.yaml",
        "--filter",
        "role:server",
        "--server",
        &reference,
        "--server",
        &extra,
        "--server",
        &guide,
    ];
    let (code, table) = matrix(&args, &[("COLUMNS", "200")]);
    assert_eq!(code, 1, "{table}");
    assert!(
        table.starts_with("3 implementation(s), 4 scenario(s)\n"),
        "{table}"
    );
    // Four scenario columns, then passed, failed, warned, skipped.
    assert_eq!(row(&table, "ref")[1..3], ["ok", "ok"], "{table}");
    assert_eq!(row(&table, "extra")[1..3], ["FAIL", "ok"], "{table}");
    assert_eq!(row(&table, "lisp")[1..3], ["ok", "ok"], "{table}");
    assert_eq!(row(&table, "extra")[6], "1", "extra failed once:\n{table}");
    assert!(
        table.contains("\n  1  specs/tcp.yaml :: server greets with Hello World\n"),
        "{table}"
    );
    assert!(
        table.contains(
            "  FAIL extra: specs/tcp.yaml :: server greets with Hello World: expected the \
             connection to close, but 4 more byte(s) arrived"
        ),
        "{table}"
    );
    assert!(
        table.contains("\n5 passed, 1 failed, 0 skipped, 6 warned"),
        "{table}"
    );

    // Warnings alone do not fail a matrix, as in `run`.
    let (code, table) = matrix(
        &[
            "specs/tcp.yaml",
            "--filter",
            "role:server",
            "--server",
            &reference,
            "--server",
            &guide,
        ],
        &[],
    );
    assert_eq!(code, 0, "{table}");
}

#[test]
fn a_narrow_terminal_gets_one_column_per_spec_file_with_counts() {
    let reference = format!("ref={}", reference_server());
    let extra = format!("extra={}", fixture("rust/tcp_server_extra_line"));
    let (code, table) = matrix(
        &[
            "specs/tcp.yaml",
            "--server",
            &reference,
            "--server",
            &extra,
            "--filter",
            "role:server",
        ],
        &[("COLUMNS", "40")],
    );
    assert_eq!(code, 1);
    let head = table.lines().nth(2).expect("a header line");
    assert!(head.contains("specs/tcp.yaml"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("extra") && l.contains("1 ok 1 FAIL 2 warn")),
        "{table}"
    );
}

/// Two submissions in directories, one correct and one that sends the wrong bytes.
fn submissions(dir: &Path) {
    for (name, source) in [
        ("alice", "tcp_server_correct.py"),
        ("bob", "tcp_server_wrong_bytes.py"),
    ] {
        let home = dir.join("submissions").join(name);
        std::fs::create_dir_all(&home).expect("mkdir");
        std::fs::copy(
            root().join("fixtures/python").join(source),
            home.join("server.py"),
        )
        .expect("copy fixture");
    }
}

#[test]
fn each_runs_one_implementation_per_directory_and_every_report_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    submissions(dir.path());
    let glob = format!("{}/submissions/*", dir.path().display());
    let junit = dir.path().join("matrix.xml");
    let json = dir.path().join("events.jsonl");
    let html = dir.path().join("matrix.html");
    let (code, table) = matrix(
        &[
            "specs/tcp.yaml",
            "--filter",
            "name:server greets with Hello World",
            "--each",
            &glob,
            "--server",
            "python3 {dir}/server.py {port}",
            "--report",
            &format!("junit={}", junit.display()),
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("html={}", html.display()),
        ],
        &[],
    );
    assert_eq!(code, 1, "{table}");
    assert_eq!(row(&table, "alice")[1], "ok", "{table}");
    assert_eq!(row(&table, "bob")[1], "FAIL", "{table}");

    let events = std::fs::read_to_string(&json).expect("events");
    let named: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|e| e["event"] == "scenario_finished")
        .map(|e| format!("{} {}", e["id"]["implementation"], e["verdict"]))
        .collect();
    assert_eq!(named, ["\"alice\" \"pass\"", "\"bob\" \"fail\""]);

    let path = junit.to_str().expect("UTF-8 path");
    let suites = run_tool(
        "xmllint",
        "libxml2-utils",
        &["--xpath", "//testsuite/@name", path],
        Duration::from_secs(60),
    );
    let suites = String::from_utf8_lossy(&suites.stdout);
    assert!(
        suites.contains("name=\"alice: specs/tcp.yaml\""),
        "{suites}"
    );
    assert!(suites.contains("name=\"bob: specs/tcp.yaml\""), "{suites}");

    // The HTML report leads with the matrix; Chromium renders it.
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let dom = run_tool(
        "chromium",
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &profile,
            "--dump-dom",
            html.to_str().expect("UTF-8 path"),
        ],
        Duration::from_secs(120),
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let matrix = dom
        .split("<table class=\"matrix\">")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_else(|| panic!("no matrix in:\n{dom}"));
    let bob = matrix
        .split("<tr><td><b>bob</b></td>")
        .nth(1)
        .expect("a row for bob");
    assert!(bob.contains("✗ FAIL"), "{matrix}");
    assert!(bob.contains("href=\"#case-1\""), "{matrix}");
    assert!(dom.contains("bob: specs/tcp.yaml :: server greets with Hello World"));
}

#[test]
fn implementations_must_be_named_and_globs_must_match() {
    let output = conform()
        .args(["matrix", "specs/tcp.yaml", "--server", "./srv {port}"])
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("write NAME=CMD"),
        "{}",
        stderr(&output)
    );
    let output = conform()
        .args([
            "matrix",
            "specs/tcp.yaml",
            "--each",
            "no-such-dir/*",
            "--server",
            "x {port}",
        ])
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no directory matches"),
        "{}",
        stderr(&output)
    );
}

/// Implementations share the seed, so their regression specs go to one folder each.
#[test]
fn saved_failures_of_each_implementation_go_to_its_own_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = fixture("rust/udp_server_drop_last_byte");
    let saved = dir.path().join("saved");
    let (code, table) = matrix(
        &[
            "specs/udp-sizes.yaml",
            "--seed",
            "1",
            "--cases",
            "30",
            "--server",
            &format!("a={server}"),
            "--server",
            &format!("b={server}"),
            "--save-failures",
            saved.to_str().expect("UTF-8 path"),
        ],
        &[],
    );
    assert_eq!(code, 1, "{table}");
    for name in ["a", "b"] {
        let files: Vec<_> = std::fs::read_dir(saved.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .collect();
        assert_eq!(files.len(), 1, "{name}: {files:?}");
    }
}

#[test]
fn trace_prints_the_wire_log_under_each_failure_of_the_table() {
    let extra = format!("extra={}", fixture("rust/tcp_server_extra_line"));
    let args = [
        "specs/tcp.yaml",
        "--filter",
        "name:server greets with Hello World",
        "--server",
        &extra,
        "--trace",
    ];
    let (code, table) = matrix(&args, &[]);
    assert_eq!(code, 1, "{table}");
    let failure = table
        .split("  FAIL extra: specs/tcp.yaml :: server greets with Hello World")
        .nth(1)
        .unwrap_or_else(|| panic!("no failure line:\n{table}"));
    assert!(
        failure.starts_with(": expected the connection to close, but 4 more byte(s) arrived\n      wire log (times from the start of the case):\n"),
        "{table}"
    );
    assert!(
        failure.contains("ms  connect  conform 127.0.0.1:"),
        "{table}"
    );
}
