//! Several clients at once (`clients: N`, `--clients N`): redis-server's history passes the
//! model with three clients, the clone's lost update (`mini_redis.py --defect
//! incr-unlocked`: a read-modify-write without a lock) passes with one client and is found
//! with three and shrunk to two clients of one INCR each, a server that serves one client at
//! a time is caught, and what several clients cannot do is refused before anything runs.

mod common;

use common::redis::{REDIS, clone};
use common::{conform, stderr, stdout, which};

const COUNTER: &str = "tests/data/clients/counter.yaml";
const MODEL: &str = "specs/examples/redis-model.yaml";

use common::run_spec as run;

/// The clone serving every client on a thread of its own, with one defect or none.
fn threaded(defect: Option<&str>) -> String {
    format!("{} --threads", clone(defect))
}

#[test]
fn redis_server_meets_the_model_with_three_clients_over_several_seeds() {
    assert!(which("redis-server"), "redis-server is not installed");
    for seed in ["1", "2", "3"] {
        let (code, report) = run(
            MODEL,
            REDIS,
            &["--clients", "3", "--seed", seed, "--cases", "40"],
        );
        assert_eq!(code, Some(0), "seed {seed}:\n{report}");
        assert!(
            report.contains(&format!("40 cases, 3 clients at once, seed {seed})")),
            "{report}"
        );
    }
}

#[test]
fn a_counter_of_redis_server_is_linearizable_with_eight_clients() {
    assert!(which("redis-server"), "redis-server is not installed");
    let (code, report) = run(COUNTER, REDIS, &["--clients", "8", "--seed", "4"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("20 cases, 8 clients at once, seed 4)"),
        "{report}"
    );
}

#[test]
fn the_threaded_clone_is_not_blamed_with_three_clients() {
    let (code, report) = run(
        MODEL,
        &threaded(None),
        &["--clients", "3", "--seed", "5", "--cases", "30"],
    );
    assert_eq!(code, Some(0), "{report}");
    let (code, report) = run(COUNTER, &threaded(None), &["--clients", "3", "--seed", "5"]);
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn a_lost_update_passes_with_one_client() {
    let (code, report) = run(COUNTER, &clone(Some("incr-unlocked")), &["--seed", "1"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("(20 cases, seed 1)") || report.contains("20 cases, seed 1)"),
        "{report}"
    );
    assert!(!report.contains("clients at once"), "{report}");
}

#[test]
fn a_lost_update_is_found_with_three_clients_and_shrunk_to_two_incrs() {
    let (code, report) = run(
        COUNTER,
        &clone(Some("incr-unlocked")),
        &["--clients", "3", "--seed", "1"],
    );
    assert_eq!(code, Some(1), "{report}");
    for line in [
        "3 clients at once, seed 1)",
        ": 2 client(s), 2 command(s)",
        "no order of the 2 command(s) of 2 client(s) explains their replies (the history is not linearizable)",
        "  <- no order explains this reply",
        "the model expects \":2\\r\\n\" there",
        r#"expected: ":2\r\n""#,
        r#"actual:   ":1\r\n""#,
        "--seed 1 --clients 3",
        "in any of 5 runs each; a race need not show on every run",
    ] {
        assert!(report.contains(line), "missing {line:?} in\n{report}");
    }
    // Both clients' one command is an INCR answered `:1`.
    let incrs = report
        .lines()
        .filter(|l| l.trim_start().starts_with("1. INCR  "))
        .count();
    assert_eq!(incrs, 2, "{report}");
    assert_eq!(
        report.matches(r#"answered:  ":1\r\n""#).count(),
        2,
        "{report}"
    );
}

#[test]
fn a_planted_defect_of_one_session_is_found_with_three_clients_too() {
    let (code, report) = run(
        MODEL,
        &threaded(Some("del-keeps")),
        &["--clients", "3", "--seed", "1", "--shrink-probes", "40"],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("(the history is not linearizable)"),
        "{report}"
    );
    assert!(report.contains("DEL"), "{report}");
}

/// A server that serves one client at a time, each until it disconnects, cannot answer
/// the second client's PING while the first waits for it before its commands: caught, at the
/// step that waited.
#[test]
fn a_server_that_serves_one_client_at_a_time_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("counter.yaml");
    let text = std::fs::read_to_string(COUNTER)
        .unwrap()
        .replace("timeout: 2s", "timeout: 300ms");
    std::fs::write(&spec, text).unwrap();
    let (code, report) = run(
        spec.to_str().unwrap(),
        &clone(None),
        &["--clients", "2", "--seed", "1", "--shrink-probes", "2"],
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains(r#"expected 7 byte(s) "+PONG\r\n", but nothing arrived within 300ms"#),
        "{report}"
    );
    assert!(report.contains("(not played)"), "{report}");
}

/// `conform check` of a spec, with its exit code and stderr.
fn check(yaml: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, yaml).unwrap();
    let output = conform().arg("check").arg(&spec).output().unwrap();
    (output.status.code(), stderr(&output))
}

const CLIENTS_SPEC: &str = "version: 1
scenarios:
  - name: counter
    role: server
    transport: tcp
    clients: 3
    model: {initial: '0'FRAME}
    steps:
      - connect
    commands:
      - name: INCR
        steps:
          - send: \"INCR\\r\\n\"
          - expect: {expr: 'resp_int(state + 1)'}
STEP        update: 'state + 1'
";

fn clients_spec(frame: &str, step: &str) -> String {
    CLIENTS_SPEC.replace("FRAME", frame).replace("STEP", step)
}

#[test]
fn a_model_of_several_clients_without_a_frame_is_refused_at_the_model() {
    let (code, err) = check(&clients_spec("", ""));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("spec.yaml:7:12"), "{err}");
    assert!(
        err.contains("with several clients the replies are read before the order that explains them is known, so the model says where one reply ends: add `frame: resp`"),
        "{err}"
    );
    let (code, err) = check(&clients_spec(", frame: resp", ""));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_step_several_clients_cannot_judge_later_is_refused_at_the_step() {
    let (code, err) = check(&clients_spec(", frame: resp", "          - expect_eof\n"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("spec.yaml:15:13"), "{err}");
    assert!(err.contains("in command `INCR`: with several clients and a model, a command's steps are `send`, `send_all` and `expect`"), "{err}");
}

#[test]
fn clients_out_of_range_or_without_commands_are_refused() {
    let (code, err) = check(&clients_spec(", frame: resp", "").replace("clients: 3", "clients: 0"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`clients` is between 1 and 64"), "{err}");
    let plain = "version: 1
scenarios:
  - name: hello
    role: server
    transport: tcp
    clients: 2
    steps:
      - connect
      - expect: \"Hello\"
";
    let (code, err) = check(plain);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`clients` needs a scenario with `commands`"),
        "{err}"
    );
}

#[test]
fn clients_on_the_command_line_that_the_scenario_cannot_take_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, clients_spec("", "").replace("    clients: 3\n", "")).unwrap();
    let output = conform()
        .args(["run"])
        .arg(&spec)
        .args(["--clients", "3", "--server", "sleep 30"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "--clients 3: in scenario `counter`: with several clients the replies are read"
        ),
        "{err}"
    );
}

#[test]
fn the_json_report_carries_each_clients_timeline_and_conform_report_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let output = conform()
        .args(["run", COUNTER, "--clients", "3", "--seed", "1", "--server"])
        .arg(clone(Some("incr-unlocked")))
        .arg("--report")
        .arg(format!("json={}", events.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = std::fs::read_to_string(&events).unwrap();
    let finished: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "scenario_finished")
        .expect("a scenario_finished event");
    assert_eq!(finished["clients"], 3);
    let history = &finished["failure"]["history"];
    let clients = history["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2, "{history}");
    for client in clients {
        let commands = client.as_array().unwrap();
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0]["name"], "INCR");
        assert_eq!(commands[0]["answered"]["hex"], "3a310d0a");
        assert!(
            commands[0]["began_ms"].as_f64().unwrap() <= commands[0]["ended_ms"].as_f64().unwrap()
        );
    }
    assert_eq!(
        history["explained"].as_array().unwrap().len(),
        1,
        "{history}"
    );
    let stuck = history["stuck"].as_array().unwrap();
    assert_eq!(stuck.len(), 1, "{history}");
    assert_eq!(stuck[0]["expected"][0]["hex"], "3a320d0a");
    assert_eq!(finished["failure"]["generated"]["shrinking"], "replayed");
    // The wire log of the failing case holds both clients' connections.
    let entries = finished["failure"]["wire"]["entries"].as_array().unwrap();
    let connects = entries.iter().filter(|e| e["kind"] == "connect").count();
    assert_eq!(connects, 2, "{entries:?}");
    // Read back, the merged report draws the same timelines.
    let merged = conform().arg("report").arg(&events).output().unwrap();
    let report = stdout(&merged);
    assert_eq!(merged.status.code(), Some(1), "{report}");
    assert!(
        report.contains("then none of these can come next:"),
        "{report}"
    );
    assert!(
        report.contains("  <- no order explains this reply"),
        "{report}"
    );
    assert!(report.contains("in any of 5 runs each"), "{report}");
}

#[test]
fn a_partition_every_command_of_several_clients_must_generate_is_refused_at_the_model() {
    let spec = clients_spec(", frame: resp, partition: key", "");
    let (code, err) = check(&spec);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("spec.yaml:7:12"), "{err}");
    assert!(
        err.contains("`partition: key` checks the commands of each `key` apart, so every command several clients play generates `key`; `INCR` does not"),
        "{err}"
    );
}

#[test]
fn a_send_that_reads_the_state_is_refused_with_several_clients() {
    let spec = clients_spec(", frame: resp", "")
        .replace("- send: \"INCR\\r\\n\"", "- send: {expr: 'decimal(state)'}");
    assert!(spec.contains("decimal(state)"), "{spec}");
    let (code, err) = check(&spec);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("spec.yaml:13:13"), "{err}");
    assert!(
        err.contains("in command `INCR`: with several clients what a command sends is decided before the order that explains the replies is known: it cannot read `state`"),
        "{err}"
    );
}

#[test]
fn a_server_that_never_listens_is_not_shrunk_over_clients() {
    let output = conform()
        .args([
            "run",
            COUNTER,
            "--clients",
            "3",
            "--seed",
            "1",
            "--ready-timeout",
            "300ms",
        ])
        .args(["--server", "sleep 30"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("fails for any input: the program failed before the first step, before any generated value was used; not shrunk"),
        "{report}"
    );
    assert!(
        report.contains("the failing history: 3 client(s)"),
        "{report}"
    );
}
