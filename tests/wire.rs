//! The wire log of real runs: what conform records at its sockets for a failing case, in the
//! JSON events and on the terminal with `--trace`, against fixtures with one known defect.

mod common;

use std::time::Duration;

use common::{conform, fixture, scenario_block, stdout};
use serde_json::Value;

/// Longest a run here may take; the fixtures fail in milliseconds.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The `scenario_finished` events of a `--format json` run.
fn finished(args: &[&str]) -> Vec<Value> {
    let output = conform()
        .args(args)
        .args(["--format", "json"])
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    stdout(&output)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|e| e["event"] == "scenario_finished")
        .collect()
}

fn entries(event: &Value) -> Vec<Value> {
    event["failure"]["wire"]["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no wire log: {event}"))
        .clone()
}

/// The bytes of the data entries going one way, concatenated (TCP reads split freely).
fn stream(entries: &[Value], direction: &str) -> String {
    entries
        .iter()
        .filter(|e| e["kind"] == "data" && e["direction"] == direction)
        .map(|e| e["hex"].as_str().expect("hex").to_owned())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn tcp_server_wire_log_has_the_connection_the_bytes_and_the_exit_in_order() {
    let server = fixture("rust/tcp_server_extra_line");
    let events = finished(&[
        "run",
        "specs/tcp.yaml",
        "--filter",
        "name:server greets with Hello World",
        "--server",
        &server,
    ]);
    assert_eq!(events[0]["verdict"], "fail", "{}", events[0]);
    let log = entries(&events[0]);
    assert_eq!(log[0]["kind"], "connect", "{log:?}");
    let local = log[0]["local"].as_str().expect("local");
    let peer = log[0]["peer"].as_str().expect("peer");
    let port = events[0]["failure"]["program"]["command"]
        .as_str()
        .and_then(|c| c.trim_matches('`').rsplit(' ').next())
        .expect("the port is the command's last word");
    assert_eq!(peer, format!("127.0.0.1:{port}"));
    assert_eq!(stream(&log, "received"), hex(b"Hello World!\nbye\n"));
    for e in log.iter().filter(|e| e["kind"] == "data") {
        assert_eq!(
            (e["local"].as_str(), e["peer"].as_str()),
            (Some(local), Some(peer))
        );
        assert_eq!(e["transport"], "tcp");
    }
    let times: Vec<f64> = log
        .iter()
        .map(|e| e["at_ms"].as_f64().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let last = log.last().expect("entries");
    assert_eq!(last["kind"], "exit");
    assert_eq!(last["ending"]["kind"], "exited");
    assert_eq!(last["ending"]["code"], 0);
    assert_eq!(events[0]["failure"]["wire"]["bytes_cut"], 0);
}

#[test]
fn udp_server_wire_log_has_each_datagram_with_its_addresses() {
    let server = fixture("rust/udp_server_drop_last_byte");
    let events = finished(&[
        "run",
        "specs/udp.yaml",
        "--filter",
        "name:server reverses 8 bytes",
        "--server",
        &server,
    ]);
    let log = entries(&events[0]);
    let data: Vec<&Value> = log.iter().filter(|e| e["kind"] == "data").collect();
    assert_eq!(data.len(), 2, "{log:?}");
    assert_eq!(data[0]["direction"], "sent");
    assert_eq!(data[0]["hex"], "0102030405060708");
    assert_eq!(data[1]["direction"], "received");
    assert_eq!(data[1]["hex"], "08070605040302");
    assert_eq!(data[1]["length"], 7);
    assert_eq!(data[1]["transport"], "udp");
    assert_eq!(data[0]["peer"], data[1]["peer"]);
    assert_eq!(data[0]["local"], data[1]["local"]);
}

#[test]
fn trace_prints_the_wire_log_of_a_failing_client_case_and_plain_runs_do_not() {
    let client = fixture("rust/tcp_client_exit2");
    let args = [
        "run",
        "specs/tcp.yaml",
        "--filter",
        "name:client prints the greeting",
        "--client",
        &client,
    ];
    let traced = conform()
        .args(args)
        .arg("--trace")
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert_eq!(traced.status.code(), Some(1));
    let block = scenario_block(&stdout(&traced), "client prints the greeting");
    let lines: Vec<&str> = block.lines().map(str::trim).collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.contains(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in:\n{block}"))
    };
    let heading = at("wire log (times from the start of the case):");
    let accept = at("ms  accept   program 127.0.0.1:");
    let sent = at("ms  sent     13 byte(s) tcp  conform 127.0.0.1:");
    assert_eq!(lines[sent + 1], r#""Hello World!\n""#);
    assert_eq!(
        lines[sent + 2],
        "000000  48 65 6c 6c 6f 20 57 6f 72 6c 64 21 0a"
    );
    let exit = at("ms  exit     the program exited with code 2");
    assert!(heading < accept && accept < sent && sent < exit, "{block}");

    let plain = conform()
        .args(args)
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert!(!stdout(&plain).contains("wire log"), "{}", stdout(&plain));
}

/// `expect_one_of` on a UDP socket: the reply matches neither alternative, and the wire log
/// shows the datagram that decided it. (The silence is long so that only a reply, never a
/// slow machine, can decide.)
#[test]
fn udp_alternatives_that_all_fail_show_the_deciding_datagram() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("one_of.yaml");
    std::fs::write(
        &spec,
        r#"
scenarios:
  - name: reply is neither alternative
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02"}
      - expect_one_of:
          - expect: {hex: "01 02"}
          - expect_silence: 30s
"#,
    )
    .expect("write spec");
    let events = finished(&["run", spec.to_str().expect("UTF-8 path")]);
    assert_eq!(events[0]["verdict"], "fail", "{}", events[0]);
    let mismatches = events[0]["failure"]["mismatches"]
        .as_array()
        .expect("mismatches");
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
    assert_eq!(mismatches[0]["actual_hex"], "0201");
    let log = entries(&events[0]);
    assert_eq!(stream(&log, "sent"), "0102");
    assert_eq!(stream(&log, "received"), "0201");
}
