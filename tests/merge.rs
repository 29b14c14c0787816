//! `conform report`: event files read back and merged into one report. A run's own events
//! give back the run's own pages (human, HTML, JUnit) modulo times; the shares of a matrix
//! split across three CI jobs give the table and the page one big run gives; inputs that are
//! no event files are refused with their file, line and why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{conform, fixture, root, run_tool, stderr, stdout};

/// Longest a run here may take: the matrix runs eighteen cases of Python fixtures.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// A consumer (xmllint, a browser) takes seconds at most; more means it hangs.
const TOOL_LIMIT: Duration = Duration::from_secs(120);

const SAMPLE: &str = "tests/data/reports/sample.jsonl";

/// What a run or a merge printed and wrote.
struct Reports {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    html: String,
    junit: String,
}

/// Runs conform with `args`, the HTML and JUnit reports written into `dir` under `tag`.
fn reports(dir: &Path, tag: &str, args: &[&str]) -> Reports {
    let html = dir.join(format!("{tag}.html"));
    let junit = dir.join(format!("{tag}.xml"));
    let output = conform()
        .args(args)
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), stderr(&output)))
    };
    Reports {
        code: output.status.code(),
        stdout: stdout(&output),
        stderr: stderr(&output),
        html: read(&html),
        junit: read(&junit),
    }
}

/// The run of `args` with its events written too, and `conform report` of those events
/// (given `extra` too, such as `--trace`).
fn round_trip(dir: &Path, args: &[&str], extra: &[&str]) -> (Reports, Reports) {
    let events = dir.join("events.jsonl");
    let mut run_args: Vec<&str> = args.to_vec();
    let json = format!("json={}", events.display());
    run_args.extend(["--report", &json]);
    run_args.extend(extra);
    let run = reports(dir, "run", &run_args);
    let mut report_args = vec!["report", events.to_str().expect("UTF-8 path")];
    report_args.extend(extra);
    let merged = reports(dir, "merged", &report_args);
    (run, merged)
}

/// Text with every duration as `<t>`: `12 ms`, `1.50 s`, a wire log's `  0.512 ms`, and
/// JUnit's `time="0.190"`.
fn untimed(text: &str) -> String {
    let durations = regex::Regex::new(r" *\b\d+(\.\d+)? (ms|s)\b").expect("regex");
    let junit = regex::Regex::new(r#"time="[0-9.]+""#).expect("regex");
    let text = durations.replace_all(text, " <t>");
    junit.replace_all(&text, "time=\"<t>\"").into_owned()
}

/// The same reports, the merge's from the run's events: every page modulo times, the exit
/// code and no warning.
fn assert_same(run: &Reports, merged: &Reports) {
    assert_eq!(merged.code, run.code, "{}", merged.stderr);
    assert_eq!(merged.stderr, "");
    assert_eq!(untimed(&merged.stdout), untimed(&run.stdout));
    assert_eq!(untimed(&merged.html), untimed(&run.html));
    assert_eq!(untimed(&merged.junit), untimed(&run.junit));
}

fn xmllint(args: &[&str]) -> Output {
    run_tool("xmllint", "libxml2-utils", args, TOOL_LIMIT)
}

/// The JUnit file is valid against the Jenkins JUnit schema, as tests/reports.rs checks.
fn assert_valid_junit(dir: &Path, xml: &str) {
    let path = dir.join("check.xml");
    std::fs::write(&path, xml).expect("write the JUnit file");
    let schema = root().join("tests/data/junit.xsd");
    let output = xmllint(&[
        "--noout",
        "--schema",
        schema.to_str().expect("UTF-8 path"),
        path.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        output.status.success(),
        "xmllint rejected the merged JUnit file:\n{}",
        stderr(&output)
    );
}

#[test]
fn the_reference_runs_events_give_back_its_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (run, merged) = round_trip(
        dir.path(),
        &["run", "specs/tcp.yaml", "specs/udp.yaml"],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_same(&run, &merged);
    assert_valid_junit(dir.path(), &merged.junit);
}

#[test]
fn a_failing_programs_events_give_back_its_diagnosis_and_wire_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = fixture("rust/tcp_server_extra_line");
    let (run, merged) = round_trip(
        dir.path(),
        &["run", "specs/tcp.yaml", "--server", &server],
        &["--trace"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // The wire log is in the human report (--trace) and on the page.
    assert!(merged.stdout.contains("connect  conform 127.0.0.1:"));
    assert!(merged.html.contains("← from program"));
    assert_same(&run, &merged);
    assert_valid_junit(dir.path(), &merged.junit);
}

#[test]
fn a_shrunk_generated_failure_gives_back_its_minimal_input_and_replay_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = fixture("rust/udp_server_drop_last_byte");
    let (run, merged) = round_trip(
        dir.path(),
        &[
            "run",
            "specs/udp-sizes.yaml",
            "--server",
            &server,
            "--seed",
            "1",
            "--cases",
            "40",
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(merged.stdout.contains("minimal input (after "));
    assert!(
        merged
            .stdout
            .contains("replay: conform run specs/udp-sizes.yaml")
    );
    assert_same(&run, &merged);
}

// ---- a matrix split across three jobs ----------------------------------------------------------

/// Two implementations of both TCP roles: one correct, one with a defect on each side.
fn implementations() -> Vec<String> {
    let python = |file: &str| format!("python3 fixtures/python/{file} {{port}}");
    vec![
        "--server".into(),
        format!("good={}", python("tcp_server_correct.py")),
        "--client".into(),
        format!("good={}", python("tcp_client_correct.py")),
        "--server".into(),
        format!("bad={}", python("tcp_server_wrong_bytes.py")),
        "--client".into(),
        format!("bad={}", python("tcp_client_no_colon.py")),
    ]
}

/// `conform matrix specs/tcp.yaml` over both implementations, the same seed every time.
fn matrix(dir: &Path, tag: &str, extra: &[&str]) -> (Reports, PathBuf) {
    let events = dir.join(format!("{tag}.jsonl"));
    let json = format!("json={}", events.display());
    let mut args = vec!["matrix", "specs/tcp.yaml", "--seed", "1", "--report", &json];
    let implementations = implementations();
    args.extend(implementations.iter().map(String::as_str));
    args.extend(extra);
    (reports(dir, tag, &args), events)
}

/// The table with each failure line cut after its scenario: what a failure says about the
/// second of two clients depends on how the race between them went.
fn grid(table: &str) -> String {
    let failure = regex::Regex::new(r"(?m)^(  (FAIL|warn) \S+: \S+ :: .+?): .*$").expect("regex");
    untimed(&failure.replace_all(table, "$1"))
}

/// The part of an HTML page between two headings.
fn section<'p>(page: &'p str, from: &str, to: &str) -> &'p str {
    let start = page
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in:\n{page}"));
    let end = page[start..].find(to).map_or(page.len(), |end| start + end);
    &page[start..end]
}

const SCENARIOS: [&str; 9] = [
    "server greets with Hello World",
    "server greets without being spoken to",
    "server serves a second client",
    "server serves two clients at once",
    "client prints the greeting",
    "client waits for the whole line",
    "client prints the greeting however it is split",
    "client prints the greeting written one byte at a time",
    "client prints the greeting after a half-close",
];

#[test]
fn three_shares_of_a_matrix_merge_into_the_report_of_one_big_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (whole, whole_events) = matrix(dir.path(), "whole", &[]);
    assert_eq!(whole.code, Some(1), "{}", whole.stderr);
    // The big run's own events give back its reports exactly.
    let own = reports(
        dir.path(),
        "own",
        &["report", whole_events.to_str().expect("UTF-8 path")],
    );
    assert_same(&whole, &own);

    let mut shares = Vec::new();
    for k in 1..=3 {
        let partition = format!("hash:{k}/3");
        let (share, events) = matrix(
            dir.path(),
            &format!("share-{k}"),
            &["--partition", &partition],
        );
        assert_eq!(share.code.map(|c| c <= 1), Some(true), "{}", share.stderr);
        shares.push(events);
    }
    let mut args = vec!["report"];
    args.extend(shares.iter().map(|p| p.to_str().expect("UTF-8 path")));
    let merged = reports(dir.path(), "merged", &args);
    assert_eq!(merged.code, Some(1), "{}", merged.stderr);
    assert_eq!(merged.stderr, "");
    // The table: the same rows and columns, in the same order, the same verdicts and totals.
    assert!(
        merged
            .stdout
            .starts_with("2 implementation(s), 9 scenario(s)\n")
    );
    assert_eq!(grid(&merged.stdout), grid(&whole.stdout));
    // The page's matrix too: the cells link to the same sections, so the scenarios are in
    // the same order on the whole page.
    let matrix_of = |page: &str| untimed(section(page, "<h2>Matrix</h2>", "<h2>Scenarios</h2>"));
    assert_eq!(matrix_of(&merged.html), matrix_of(&whole.html));

    assert_valid_junit(dir.path(), &merged.junit);
    let path = dir.path().join("merged.xml");
    let count = |expr: &str| -> String {
        let output = xmllint(&["--xpath", expr, path.to_str().expect("UTF-8 path")]);
        assert!(output.status.success(), "{expr}: {}", stderr(&output));
        stdout(&output).trim().to_owned()
    };
    assert_eq!(count("count(//testcase)"), "18");
    for implementation in ["good", "bad"] {
        for name in SCENARIOS {
            let expr = format!(
                "count(//testsuite[@name='{implementation}: specs/tcp.yaml']/testcase[@name='{name}'])"
            );
            assert_eq!(count(&expr), "1", "{expr}");
        }
    }
    assert_rendered_once_each(dir.path(), &merged.html);
}

/// Headless Chromium renders the merged page: a matrix of two rows of nine verdicts, nine
/// numbered scenarios, and eighteen rows in the scenario list.
fn assert_rendered_once_each(dir: &Path, html: &str) {
    let page = dir.join("page.html");
    std::fs::write(&page, html).expect("write page");
    let profile = format!("--user-data-dir={}", dir.join("profile").display());
    let output = run_tool(
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
            page.to_str().expect("UTF-8 path"),
        ],
        TOOL_LIMIT,
    );
    assert!(output.status.success(), "chromium: {}", stderr(&output));
    let dom = stdout(&output);
    let matrix = section(&dom, "<table class=\"matrix\">", "</table>");
    assert_eq!(matrix.matches("<tr><td><b>").count(), 2, "{matrix}");
    assert_eq!(matrix.matches("class=\"badge ").count(), 18, "{matrix}");
    assert!(!matrix.contains("<td>·</td>"), "a cell is empty: {matrix}");
    let legend = section(&dom, "<ol class=\"legend\">", "</ol>");
    for name in SCENARIOS {
        assert_eq!(
            legend
                .matches(&format!("<li>specs/tcp.yaml :: {name}</li>"))
                .count(),
            1,
            "{legend}"
        );
    }
    let list = section(&dom, "<table class=\"scenarios\">", "</table>");
    assert_eq!(list.matches("class=\"badge ").count(), 18, "{list}");
    for implementation in ["good", "bad"] {
        let suite = format!("<td colspan=\"4\">{implementation}: specs/tcp.yaml</td>");
        assert_eq!(list.matches(&suite).count(), 1, "{list}");
    }
}

// ---- event files from the reporters' sample run: no sockets ---------------------------------

/// `conform report` of `files` (paths relative to the repository) with `args` after them.
fn report(files: &[&Path], args: &[&str]) -> Output {
    conform()
        .arg("report")
        .args(files)
        .args(args)
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs")
}

fn sample_lines() -> Vec<serde_json::Value> {
    std::fs::read_to_string(root().join(SAMPLE))
        .expect("the sample stream")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect()
}

/// Writes events as JSON Lines into `dir/name`.
fn write_lines(dir: &Path, name: &str, lines: &[serde_json::Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&path, text).expect("write events");
    path
}

#[test]
fn the_sample_stream_reads_back_to_the_same_events_and_reports() {
    let sample = root().join(SAMPLE);
    let json = report(&[&sample], &["--format", "json"]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    assert_eq!(
        stdout(&json),
        std::fs::read_to_string(&sample).expect("sample")
    );
    for (format, snapshot) in [("junit", "sample.junit.xml"), ("tap", "sample.tap")] {
        let output = report(&[&sample], &["--format", format]);
        let expected = std::fs::read_to_string(root().join("tests/data/reports").join(snapshot))
            .expect("snapshot");
        assert_eq!(stdout(&output), expected, "{format}");
    }
}

#[test]
fn a_run_of_passes_exits_0_and_a_failed_must_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = sample_lines();
    // run_started, the first scenario (a pass) and run_finished.
    let mut passes: Vec<_> = lines[..4].to_vec();
    passes.push(lines.last().expect("run_finished").clone());
    let file = write_lines(dir.path(), "passes.jsonl", &passes);
    let output = report(&[&file], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with("\n1 passed, 0 failed, 0 skipped  (14.40 s)\n"),
        "{}",
        stdout(&output)
    );
    // The warning alone does not fail it either.
    let warned: Vec<_> = passes[..1]
        .iter()
        .chain(&lines[6..8])
        .chain(passes.last())
        .cloned()
        .collect();
    let file = write_lines(dir.path(), "warned.jsonl", &warned);
    assert_eq!(report(&[&file], &[]).status.code(), Some(0));
}

#[test]
fn a_scenario_in_two_files_is_reported_once_with_a_warning_naming_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = sample_lines();
    let a = write_lines(dir.path(), "a.jsonl", &lines);
    // b.jsonl repeats the first scenario, which passed in a.jsonl, as a skip.
    let mut repeated = lines[..4].to_vec();
    repeated[3]["verdict"] = "skip".into();
    repeated[3]["skip_reason"] = "a client scenario, and only --server was given".into();
    repeated.push(lines.last().expect("run_finished").clone());
    let b = write_lines(dir.path(), "b.jsonl", &repeated);
    let output = report(&[&a, &b], &["--format", "tap"]);
    assert_eq!(output.status.code(), Some(1));
    let a = a.display();
    let b = b.display();
    assert_eq!(
        stderr(&output),
        format!(
            "conform: warning: `specs/tcp.yaml :: server greets with Hello World` is in both \
             {a}:4 and {b}:4: reported once, from {a} (PASS in {a}, SKIP in {b})\n\
             conform: warning: events of `conform run` name no implementation, so the same \
             scenario run against different programs looks the same; `conform matrix` names \
             each implementation\n"
        )
    );
    assert!(stdout(&output).starts_with("TAP version 13\n1..7\n"));
    assert_eq!(
        stdout(&output)
            .matches("server greets with Hello World")
            .count(),
        1
    );
}

#[test]
fn a_run_that_did_not_finish_is_reported_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = sample_lines();
    // Cut after the first scenario finished and the second started.
    let file = write_lines(dir.path(), "cut.jsonl", &lines[..5]);
    let output = report(&[&file], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stderr(&output),
        format!(
            "conform: warning: {}: the run did not finish (no `run_finished`): the 1 \
             scenario(s) it finished are reported; 1 scenario(s) that started did not finish\n",
            file.display()
        )
    );
    assert!(stdout(&output).ends_with("\n1 passed, 0 failed, 0 skipped  (0 ms)\n"));
}

#[test]
fn inputs_that_are_not_event_files_are_refused_with_their_line_and_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = sample_lines();
    let not_json = dir.path().join("report.xml");
    std::fs::write(&not_json, "<?xml version=\"1.0\"?>\n").expect("write");
    let mut old = lines.clone();
    old[2]["schema"] = "conform-events/1".into();
    let old = write_lines(dir.path(), "old.jsonl", &old);
    let mut missing = lines.clone();
    missing[5]["failure"]["step"]
        .as_object_mut()
        .expect("a step")
        .remove("line");
    let missing = write_lines(dir.path(), "missing.jsonl", &missing);
    let mut bad_hex = lines.clone();
    bad_hex[5]["failure"]["mismatches"][0]["actual_hex"] = "4g".into();
    let bad_hex = write_lines(dir.path(), "hex.jsonl", &bad_hex);
    let mut no_bytes = lines.clone();
    no_bytes[5]["failure"]["wire"]["entries"][1]
        .as_object_mut()
        .expect("a data entry")
        .remove("hex");
    let no_bytes = write_lines(dir.path(), "wire.jsonl", &no_bytes);
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");

    let files = [&not_json, &old, &missing, &bad_hex, &no_bytes, &empty];
    let output = report(&files.map(PathBuf::as_path), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "", "nothing is reported");
    let expected = [
        format!(
            "{}:1: not JSON (expected value at column 1): not a conform event file",
            not_json.display()
        ),
        format!(
            "{}:3: schema `conform-events/1`, but this conform reads `conform-events/2`: the \
             file was written by another version of conform",
            old.display()
        ),
        format!("{}:6: missing field `failure.step.line`", missing.display()),
        format!(
            "{}:6: `failure.mismatches[0].actual_hex`: `4g` is not hex (pairs of 0-9 a-f)",
            bad_hex.display()
        ),
        format!(
            "{}:6: missing field `failure.wire.entries[1].hex` (a `data` entry has it)",
            no_bytes.display()
        ),
        format!(
            "{}: empty: not a conform event file (no `run_started`; a run writes its first \
             event as it starts)",
            empty.display()
        ),
    ];
    let said: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
    let expected: Vec<String> = expected
        .iter()
        .map(|line| format!("conform: error: {line}"))
        .collect();
    assert_eq!(said, expected);
}

#[test]
fn a_file_that_cannot_be_read_exits_3_and_a_bad_report_option_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let absent = dir.path().join("absent.jsonl");
    let output = report(&[&absent], &[]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        stderr(&output),
        format!(
            "conform: error: {}: cannot read it: No such file or directory (os error 2)\n",
            absent.display()
        )
    );
    let sample = root().join(SAMPLE);
    let output = report(&[&sample], &["--report", "pdf=x.pdf"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "conform: error: --report pdf=x.pdf: unknown format `pdf`: use human, junit, tap, json \
         or html\n"
    );
}

#[test]
fn event_kinds_this_conform_does_not_know_are_skipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut lines = sample_lines();
    lines.insert(
        1,
        serde_json::json!({"schema": "conform-events/2", "event": "run_paused", "why": "later"}),
    );
    let file = write_lines(dir.path(), "newer.jsonl", &lines);
    let output = report(&[&file], &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        std::fs::read_to_string(root().join(SAMPLE)).expect("sample")
    );
}

#[test]
fn report_help_shows_the_ci_example_and_the_exit_codes_in_80_columns() {
    let output = conform()
        .args(["report", "--help"])
        .env("COLUMNS", "80")
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("  conform report events-*.jsonl --report html=class.html \\\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  2  the command line is wrong, or a FILE is not a conform event file"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn many_scenarios_found_twice_are_counted_after_ten_and_a_file_given_twice_is_read_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = sample_lines();
    let copies: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|name| write_lines(dir.path(), &format!("{name}.jsonl"), &lines))
        .collect();
    let output = report(
        &[&copies[0], &copies[1], &copies[2], &copies[0]],
        &["--format", "tap"],
    );
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    let warnings: Vec<&str> = said.lines().collect();
    // Seven scenarios twice in b.jsonl and in c.jsonl: ten named, four counted.
    assert_eq!(warnings.len(), 1 + 10 + 2, "{said}");
    assert_eq!(
        warnings[0],
        format!(
            "conform: warning: {} is given twice: it is read once",
            copies[0].display()
        )
    );
    assert_eq!(
        warnings[11],
        "conform: warning: and 4 more scenario(s) found in two files, each reported once"
    );
    assert!(stdout(&output).starts_with("TAP version 13\n1..7\n"));
}
