//! Specs with expressions and models as `conform check` sees them: an expression that does
//! not compile is refused at its own line and column, an unknown variable is named, and a
//! model's rules are checked against the scenario.

mod common;

use common::{conform, stderr};

/// Writes `text` as a spec and runs `conform check` on it.
fn check(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, text).unwrap();
    let output = conform()
        .current_dir(dir.path())
        .args(["check", "m.yaml"])
        .output()
        .unwrap();
    (output.status.code(), stderr(&output))
}

/// A session scenario with a model, one command `C` whose extra lines are `command` (each
/// at the command's indentation) and whose one step is `step`.
fn session(model: &str, command: &str, step: &str) -> String {
    format!(
        "scenarios:\n  - name: s\n    role: server\n    transport: tcp\n{model}    steps:\n      - connect\n    commands:\n      - name: C\n        generate:\n          key: {{text: {{chars: a-c, min_length: 1, max_length: 2}}}}\n{command}        steps:\n          - {step}\n"
    )
}

const MODEL: &str = "    model: {initial: '#{}'}\n";

#[test]
fn a_valid_model_spec_is_accepted() {
    let text = session(
        MODEL,
        "        when: 'key in state'\n        update: 'let s = state; s.remove(key); s'\n",
        "send: {expr: 'resp_bulk(state[key])'}",
    );
    let (code, err) = check(&text);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_syntax_error_is_shown_at_its_line_and_column() {
    let text = session(MODEL, "", "send: {expr: 'key +'}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "conform: error: m.yaml:13:32: expression error: Script is incomplete\n   \
         |\n13 |           - send: {expr: 'key +'}\n   |                                ^\n"
    );
}

#[test]
fn a_syntax_error_in_a_block_scalar_is_shown_on_its_own_line() {
    let model = "    model:\n      initial: |\n        let m = #{};\n        m[ = 3;\n";
    let text = session(model, "", "send: {var: key}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("conform: error: m.yaml:8:12: expression error: Unexpected '='"),
        "{err}"
    );
}

#[test]
fn an_unknown_variable_in_an_expression_is_named() {
    let text = session(MODEL, "", "send: {expr: 'kee + 1'}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(
            "conform: error: m.yaml:13:13: in scenario `s`: in command `C`: `kee` is not a \
             generated or captured value (known here: state, key)"
        ),
        "{err}"
    );
}

#[test]
fn a_precondition_that_reads_an_unknown_value_is_named_with_its_position() {
    let text = session(MODEL, "        when: 'kay == 1'\n", "send: {var: key}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "in command `C`: `when` at line 12, column 15 reads `kay`, which is not a generated \
             value (known here: key, state)"
        ),
        "{err}"
    );
}

#[test]
fn state_without_a_model_is_unknown() {
    let text = session("", "", "send: {expr: 'state[key]'}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`state` is not a generated or captured value (known here: key)"),
        "{err}"
    );
}

#[test]
fn an_update_needs_a_model() {
    let text = session("", "        update: 'state'\n", "send: {var: key}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "in command `C`: `update` changes the model's state: give the scenario a \
             `model: {initial: ...}`"
        ),
        "{err}"
    );
}

#[test]
fn a_model_needs_commands() {
    let text = "scenarios:\n  - name: s\n    role: server\n    transport: tcp\n    model: {initial: '#{}'}\n    steps:\n      - connect\n";
    let (code, err) = check(text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`model` only applies to a scenario with `commands`"),
        "{err}"
    );
}

#[test]
fn eval_is_not_part_of_the_language() {
    let text = session(MODEL, "", "send: {expr: 'eval(\"1\")'}");
    let (code, err) = check(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("expression error"), "{err}");
}

/// A UDP reversal whose reply is computed by an expression from the generated request.
const REVERSAL: &str = "version: 1
scenarios:
  - name: reversal computed by an expression
    role: server
    transport: udp
    cases: 20
    generate:
      p: {bytes: {min_length: 8, max_length: 8}}
    steps:
      - connect
      - send: {var: p}
      - expect: {expr: 'let b = as_blob(p); b.reverse(); b'}
";

fn run_reversal(server: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rev.yaml");
    std::fs::write(&path, REVERSAL).unwrap();
    let mut command = conform();
    command.args(["run", path.to_str().unwrap(), "--seed", "3"]);
    if let Some(server) = server {
        command.args(["--server", server]);
    }
    let output = command.output().unwrap();
    (output.status.code(), common::stdout(&output))
}

#[test]
fn computed_bytes_pass_the_reference_and_catch_an_echo() {
    let (code, report) = run_reversal(None);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("20 cases, seed 3)"), "{report}");
    let echo = format!(
        "python3 {}",
        common::root()
            .join("fixtures/python/udp_server_echo.py")
            .display()
    ) + " {port}";
    let (code, report) = run_reversal(Some(&echo));
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains(r#"expected: "\x01\x00\x00\x00\x00\x00\x00\x00""#),
        "{report}"
    );
}

#[test]
fn an_update_that_fails_to_evaluate_is_reported_as_a_fault_of_the_spec() {
    assert!(
        common::which("redis-server"),
        "redis-server is not installed"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("err.yaml");
    let text = "version: 1
scenarios:
  - name: s
    role: server
    transport: tcp
    model: {initial: '#{}'}
    steps:
      - connect
    commands:
      - name: PING
        steps:
          - send: \"*1\\r\\n$4\\r\\nPING\\r\\n\"
          - expect: {expr: 'resp_simple(\"PONG\")'}
        update: 'state.missing_fn()'
";
    std::fs::write(&path, text).unwrap();
    let output = conform()
        .args(["run", path.to_str().unwrap(), "--seed", "1", "--server"])
        .arg("redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "conform: error: scenario `s`: the model failed: command 1 (`PING`): `update` failed: \
         Function not found: missing_fn (map) (line 1, position 7)\n"
    );
}
