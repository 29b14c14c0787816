//! The reporters (JUnit, TAP, JSON Lines, human), fed one synthetic run (`common::sample`, no
//! sockets, no programs) and checked two ways: against snapshot files in
//! `tests/data/reports/` (re-bless with `SNAPSHOTS=overwrite cargo test --test reports`), and
//! by the consumers people will feed them to: `xmllint` with a published JUnit schema, Perl's
//! `TAP::Parser`, and `serde_json`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::sample::{render, sample_run};
use conform::report::json::Json;
use conform::report::junit::Junit;
use conform::report::tap::Tap;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot(name: &str) -> PathBuf {
    root().join("tests/data/reports").join(name)
}

/// Compares with the stored snapshot, or stores it when `SNAPSHOTS=overwrite`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot(name);
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        fs::create_dir_all(root().join("tests/data/reports")).expect("create snapshot dir");
        fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `SNAPSHOTS=overwrite cargo test --test reports` to create it",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "{} differs from the output below; if the change is intended, re-bless with \
         `SNAPSHOTS=overwrite cargo test --test reports`\n{actual}",
        path.display()
    );
}

/// How long a consumer may take to read a report: seconds of work at most, so only a hung
/// tool reaches it.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a consumer from a Debian package, bounded in time (see `common::run_tool`).
fn run_tool(program: &str, package: &str, args: &[&str]) -> std::process::Output {
    common::run_tool(program, package, args, TOOL_TIMEOUT)
}

fn temp_file(contents: &str, suffix: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut file, contents.as_bytes()).expect("write temp file");
    file
}

// ---- JUnit ----------------------------------------------------------------------------------

#[test]
fn junit_report_matches_snapshot() {
    assert_snapshot("sample.junit.xml", &render(Junit::new));
}

#[test]
fn junit_report_validates_against_the_jenkins_junit_schema() {
    let xml = temp_file(&render(Junit::new), ".xml");
    let schema = root().join("tests/data/junit.xsd");
    let path = xml.path().to_str().expect("UTF-8 temp path");
    let output = run_tool(
        "xmllint",
        "libxml2-utils",
        &[
            "--noout",
            "--schema",
            schema.to_str().expect("UTF-8 path"),
            path,
        ],
    );
    assert!(
        output.status.success(),
        "xmllint rejected the report:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn junit_report_reads_back_as_dashboards_see_it() {
    let xml = temp_file(&render(Junit::new), ".xml");
    let path = xml.path().to_str().expect("UTF-8 temp path");
    let xpath = |expr: &str| -> String {
        let output = run_tool("xmllint", "libxml2-utils", &["--xpath", expr, path]);
        assert!(
            output.status.success(),
            "xmllint --xpath {expr}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(xpath("count(/testsuites/testsuite)"), "2");
    assert_eq!(xpath("string(/testsuites/@tests)"), "7");
    assert_eq!(xpath("string(/testsuites/@failures)"), "3");
    assert_eq!(xpath("string(/testsuites/@skipped)"), "1");
    assert_eq!(xpath("string(/testsuites/@time)"), "14.404");
    // The suite's time is the sum of its scenarios'.
    assert_eq!(
        xpath("string(/testsuites/testsuite[@name='specs/tcp.yaml']/@time)"),
        "1.639"
    );
    assert_eq!(
        xpath("string(//testcase[failure]/@name)"),
        r#"server answers #1 & <more> "quoted" \ back"#
    );
    assert_eq!(
        xpath("string((//testcase/failure)[1]/@message)"),
        "the line differs at byte 11: expected 0x21 '!', got 0x3f '?'"
    );
    let body = xpath("string((//testcase/failure)[1])");
    assert!(body.contains(r#"expected: "Hello World!\n""#), "{body}");
    assert!(body.contains("000000  48 65 6c 6c 6f"), "{body}");
    // The warning passes, with its diagnosis in system-err.
    let warned = "//testcase[properties/property[@name='verdict' and @value='warn']]";
    assert_eq!(xpath(&format!("count({warned}/failure)")), "0");
    assert!(xpath(&format!("string({warned}/system-err)")).starts_with("warning: "));
    assert_eq!(
        xpath("string(//testcase[skipped]/skipped/@message)"),
        "a client scenario, and only --server was given"
    );
    assert_eq!(
        xpath("string(//testcase/properties/property[@name='seed']/@value)"),
        "12345678901234567890"
    );
    assert_eq!(
        xpath(
            "string(//testcase[@name='server reverses 8 bytes']/properties/property[@name='tags']/@value)"
        ),
        "guide,fuzz"
    );
    assert!(
        xpath("string(//testcase/properties/property[@name='replay']/@value)")
            .starts_with("conform run specs/udp.yaml")
    );
}

// ---- TAP ------------------------------------------------------------------------------------

#[test]
fn tap_stream_matches_snapshot() {
    assert_snapshot("sample.tap", &render(Tap::new));
}

/// Reads the stream with Perl's TAP::Parser and prints what it understood, one `key=value`
/// per line. Every parse error counts: the stream is TAP 13 so that TAP::Parser before 3.48
/// (Debian 12 ships 3.44), which rejects `TAP version 14`, reads it cleanly.
const TAP_PARSER_SCRIPT: &str = r#"
use strict; use warnings; use TAP::Parser;
my $p = TAP::Parser->new({ source => $ARGV[0] });
my ($declared, @yaml) = ('none');
while (my $r = $p->next) {
    $declared = $r->version if $r->is_version;
    push @yaml, $r->data if $r->is_yaml;
}
my @errors = $p->parse_errors;
print "declared_version=$declared\n";
print "parser_version=", $p->version, "\n";
print "plan=", $p->plan, "\n";
print "tests_run=", $p->tests_run, "\n";
print "passed=", scalar($p->passed), "\n";
print "failed=", scalar($p->failed), "\n";
print "skipped=", scalar($p->skipped), "\n";
print "todo=", scalar($p->todo), "\n";
print "errors=", join(' | ', @errors), "\n";
print "yaml_blocks=", scalar(@yaml), "\n";
print "yaml1_severity=$yaml[0]{severity}\n";
print "yaml1_expected=$yaml[0]{expected}\n";
print "yaml1_at=$yaml[0]{at}\n";
print "yaml1_stderr2=", (split /\n/, $yaml[0]{program}{stderr_tail})[1], "\n";
print "yaml2_severity=$yaml[1]{severity}\n";
print "yaml2_alternatives=", scalar(@{$yaml[1]{alternatives}}), "\n";
print "yaml2_actual=$yaml[1]{alternatives}[0]{actual}\n";
print "yaml3_ending=$yaml[2]{program}{ending}\n";
print "yaml3_stderr=$yaml[2]{program}{stderr_tail}";
print "yaml4_seed=$yaml[3]{generated}{seed}\n";
print "yaml4_minimal=$yaml[3]{generated}{minimal}[0]{name}: $yaml[3]{generated}{minimal}[0]{description}\n";
print "yaml4_actual=$yaml[3]{actual}\n";
"#;

#[test]
fn tap_stream_is_read_by_perls_tap_parser() {
    let tap = temp_file(&render(Tap::new), ".tap");
    let path = tap.path().to_str().expect("UTF-8 temp path");
    let output = run_tool("perl", "perl", &["-e", TAP_PARSER_SCRIPT, path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // perl-base alone lacks TAP::Parser; Debian's `perl` package brings it.
    assert!(
        !stderr.contains("Can't locate TAP/Parser.pm"),
        "Perl's TAP::Parser is missing; run scripts/test, which installs the Debian package \
         perl, or `apt-get install -y perl`"
    );
    assert!(output.status.success(), "perl failed:\n{stderr}{stdout}");
    let expected = [
        "declared_version=13",
        "parser_version=13",
        "plan=1..7",
        "tests_run=7",
        // TAP counts skips and warnings (both `ok`) as passed.
        "passed=4",
        "failed=3",
        "skipped=1",
        "todo=0",
        "errors=",
        "yaml_blocks=4",
        "yaml1_severity=fail",
        r"yaml1_expected=Hello World!\n",
        "yaml1_at=specs/tcp.yaml:16:9",
        "yaml1_stderr2=ValueError: <bad> & \"worse\" it's \u{1b}[31mred\u{1b}[0m",
        "yaml2_severity=warning",
        "yaml2_alternatives=2",
        r"yaml2_actual=\x00\xff\n",
        "yaml3_ending=exited with code 1",
        "yaml3_stderr=bind: Address already in use",
        "yaml4_seed=12345678901234567890",
        "yaml4_minimal=payload: 2 bytes: 01 02",
        "yaml4_actual=\\x01\\x02",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, expected, "TAP::Parser read:\n{stdout}");
}

/// What `prove` (Test::Harness, the TAP consumer most Linux machines have) says about a
/// stream: it reads the file through `cat` as if a test script had printed it.
fn prove(tap: &str) -> String {
    let file = temp_file(tap, ".tap");
    let path = file.path().to_str().expect("UTF-8 temp path");
    let output = run_tool("prove", "perl", &["--exec", "cat", path]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The plan's count, and prove's summary naming that many tests with no parse error.
fn assert_prove_reads_cleanly(tap: &str) {
    let plan = tap
        .lines()
        .find_map(|l| l.strip_prefix("1.."))
        .expect("a plan line");
    let said = prove(tap);
    assert!(
        !said.contains("Parse errors"),
        "prove:\n{said}\nstream:\n{tap}"
    );
    assert!(
        said.contains(&format!("Files=1, Tests={plan},")),
        "prove:\n{said}\nstream:\n{tap}"
    );
}

#[test]
fn prove_reads_the_sample_stream_without_parse_errors() {
    assert_prove_reads_cleanly(&render(Tap::new));
}

/// A stream from a real run, with a failure, its diagnostics and the program's output, and
/// skipped scenarios: whatever conform writes, prove reads.
#[test]
fn prove_reads_a_real_runs_stream_without_parse_errors() {
    let output = common::conform()
        .args(["run", "specs/tcp.yaml", "--format", "tap", "--server"])
        .arg(common::fixture("rust/tcp_server_extra_line"))
        .timeout(Duration::from_secs(120))
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let tap = common::stdout(&output);
    assert!(tap.starts_with("TAP version 13\n"), "{tap}");
    assert!(tap.contains("\nnot ok "), "{tap}");
    assert!(tap.contains("# SKIP "), "{tap}");
    assert_prove_reads_cleanly(&tap);
}

// ---- Human, with --trace --------------------------------------------------------------------

#[test]
fn human_trace_shows_the_wire_log_under_the_failure_only_when_asked() {
    use conform::report::human::Human;
    let traced = render(|out| {
        let mut human = Human::new(out);
        human.trace = true;
        human
    });
    let expected = [
        "      wire log (times from the start of the case):",
        "            0.512 ms  connect  conform 127.0.0.1:40112 -> program 127.0.0.1:30386",
        "            1.204 ms  received 6 byte(s) tcp  program 127.0.0.1:30386 -> conform 127.0.0.1:40112",
        "                      \"Hello \"",
        "                      000000  48 65 6c 6c 6f 20",
        "            1.730 ms  received 7 byte(s) tcp  program 127.0.0.1:30386 -> conform 127.0.0.1:40112",
        "                      \"World?\\n\"",
        "                      000000  57 6f 72 6c 64 3f 0a",
        "         5002.000 ms  silence  nothing arrived for 5000 ms",
        "         5002.100 ms  FIN      conform closed its side  conform 127.0.0.1:40112 -> program 127.0.0.1:30386",
        "         5804.000 ms  exit     the program was still running; conform stopped it with SIGTERM",
    ]
    .join("\n");
    assert!(traced.contains(&expected), "{traced}");
    let plain = render(Human::new);
    assert!(!plain.contains("wire log"), "{plain}");
}

#[test]
fn human_report_shows_an_empty_argument_quoted_in_the_command() {
    let report = render(conform::report::human::Human::new);
    assert!(
        report.contains("      against: `python3 my_server.py {port} --log ''`\n"),
        "{report}"
    );
    assert!(
        report.contains(
            "      program `python3 my_server.py 30386 --log ''`: was still running; conform \
             stopped it with SIGTERM\n"
        ),
        "{report}"
    );
    assert!(
        report.contains("      program `./srv 30500`: exited with code 1\n"),
        "{report}"
    );
}

// ---- JSON Lines -----------------------------------------------------------------------------

#[test]
fn json_lines_match_snapshot() {
    assert_snapshot("sample.jsonl", &render(Json::new));
}

#[test]
fn every_json_line_parses_and_names_schema_and_event() {
    let text = render(Json::new);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(events.len(), sample_run().len());
    for event in &events {
        assert_eq!(event["schema"], "conform-events/2", "{event}");
    }
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().expect("event is a string"))
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_finished"));
    for kind in &kinds {
        assert!(
            [
                "run_started",
                "scenario_started",
                "step_observed",
                "scenario_finished",
                "run_finished"
            ]
            .contains(kind),
            "{kind}"
        );
    }
    let finished: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "scenario_finished")
        .collect();
    let verdicts: Vec<&str> = finished
        .iter()
        .map(|e| e["verdict"].as_str().expect("verdict is a string"))
        .collect();
    assert_eq!(
        verdicts,
        ["pass", "fail", "warn", "skip", "pass", "fail", "fail"]
    );
    let mismatch = &finished[1]["failure"]["mismatches"][0];
    assert_eq!(mismatch["expected_hex"], "48656c6c6f20576f726c64210a");
    assert_eq!(mismatch["actual_text"], r"Hello World?\n");
    assert_eq!(finished[1]["failure"]["step"]["line"], 16);
    let wire = &finished[1]["failure"]["wire"];
    assert_eq!(wire["entries"][0]["kind"], "connect");
    assert_eq!(wire["entries"][0]["local"], "127.0.0.1:40112");
    assert_eq!(wire["entries"][2]["direction"], "received");
    assert_eq!(wire["entries"][2]["hex"], "576f726c643f0a");
    assert_eq!(wire["entries"][2]["text"], r"World?\n");
    assert_eq!(wire["entries"][2]["at_ms"], 1.73);
    assert_eq!(wire["entries"][5]["kind"], "exit");
    let stopped = serde_json::json!({
        "kind": "stopped_by_sigterm",
        "grace_ms": 2000.0,
        "message": "was still running; conform stopped it with SIGTERM"
    });
    assert_eq!(wire["entries"][5]["ending"], stopped);
    // The command as its words, and as a line that shows the empty argument.
    let program = &finished[1]["failure"]["program"];
    assert_eq!(program["ending"], stopped);
    assert_eq!(
        program["argv"],
        serde_json::json!(["python3", "my_server.py", "30386", "--log", ""])
    );
    assert_eq!(program["command"], "python3 my_server.py 30386 --log ''");
    assert_eq!(
        finished[1]["target"],
        serde_json::json!({
            "kind": "program",
            "command": "python3 my_server.py {port} --log ''",
            "argv": ["python3", "my_server.py", "{port}", "--log", ""]
        })
    );
    assert_eq!(
        finished[5]["failure"]["program"]["ending"],
        serde_json::json!({"kind": "exited", "code": 1, "message": "exited with code 1"})
    );
    assert_eq!(wire["bytes_cut"], 0);
    assert!(finished[2]["failure"]["wire"].is_null());
    assert!(finished[5]["failure"]["step"].is_null());
    assert_eq!(finished[4]["seed"], "12345678901234567890");
    assert_eq!(finished[4]["duration_ms"], 48.5);
    assert_eq!(
        finished[4]["id"]["tags"],
        serde_json::json!(["guide", "fuzz"])
    );
    assert_eq!(finished[4]["target"]["kind"], "address");
    let generated = &finished[6]["failure"]["generated"];
    assert_eq!(generated["seed"], "12345678901234567890");
    assert_eq!(generated["minimal"][0]["name"], "payload");
    assert_eq!(generated["shrink_steps"], 12);
    assert!(finished[1]["failure"]["generated"].is_null());
}

/// The diagnostics blocks are YAML 1.2 for readers other than Perl's YAMLish subset too
/// (node-tap and most TAP 14 harnesses use a full YAML parser).
#[test]
fn tap_diagnostics_blocks_are_yaml_for_a_full_yaml_parser() {
    let tap = render(Tap::new);
    let mut blocks: Vec<serde_json::Value> = Vec::new();
    let mut current: Option<String> = None;
    for line in tap.lines() {
        match (line, current.as_mut()) {
            ("  ---", None) => current = Some(String::new()),
            ("  ...", Some(text)) => {
                let value = serde_saphyr::from_str(text)
                    .unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"));
                blocks.push(value);
                current = None;
            }
            (line, Some(text)) => {
                text.push_str(line.strip_prefix("  ").expect("indented by two spaces"));
                text.push('\n');
            }
            (_, None) => {}
        }
    }
    assert_eq!(blocks.len(), 4);
    assert_eq!(blocks[0]["expected"], r"Hello World!\n");
    assert_eq!(
        blocks[0]["program"]["stderr_tail"],
        "Traceback (most recent call last):\nValueError: <bad> & \"worse\" it's \u{1b}[31mred\u{1b}[0m\n"
    );
    assert_eq!(blocks[1]["alternatives"][0]["actual"], r"\x00\xff\n");
    assert_eq!(
        blocks[2]["program"]["stderr_tail"],
        "bind: Address already in use\n"
    );
    assert_eq!(blocks[3]["generated"]["seed"], "12345678901234567890");
    assert_eq!(blocks[3]["step"], 3);
}

/// The examples in the schema's documentation are real lines of the current schema.
#[test]
fn documented_json_examples_parse_and_name_the_schema() {
    let doc = fs::read_to_string(root().join("docs/events.md")).expect("docs/events.md");
    let examples: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .collect();
    assert!(examples.len() >= 5, "{examples:?}");
    for example in examples {
        let value: serde_json::Value =
            serde_json::from_str(example).unwrap_or_else(|e| panic!("{e}: {example}"));
        assert_eq!(value["schema"], "conform-events/2", "{example}");
        assert!(value["event"].is_string(), "{example}");
        assert_shapes_are_current(&value, example);
    }
}

/// Every `ending` in a documented example is an object with a kind and a message, and every
/// program target has its words: the shapes of version 2, not version 1's strings.
fn assert_shapes_are_current(value: &serde_json::Value, example: &str) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(ending) = map.get("ending") {
                assert!(ending["kind"].is_string(), "{example}");
                assert!(ending["message"].is_string(), "{example}");
            }
            if map.get("kind").and_then(|k| k.as_str()) == Some("program") {
                assert!(map["argv"].is_array(), "{example}");
            }
            map.values()
                .for_each(|v| assert_shapes_are_current(v, example));
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| assert_shapes_are_current(v, example)),
        _ => {}
    }
}
