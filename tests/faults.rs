//! Faults conform injects when it plays the peer: each one observably happens (the reference or
//! a fixture reacts to it) and each one is deterministic.

mod common;

use common::{conform, fixture, scenario_block, stdout};

/// Writes `yaml` to a temporary spec file and runs conform on it with `args`.
fn run(yaml: &str, args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("faults.yaml");
    std::fs::write(&path, yaml).unwrap();
    let output = conform().arg("run").arg(&path).args(args).output().unwrap();
    (output.status.code().unwrap_or(-1), stdout(&output))
}

const UDP_SERVER_FAULTS: &str = r#"
scenarios:
  - name: a dropped datagram gets no reply
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08", drop: true}
      - expect_silence: 300ms
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
  - name: a duplicated datagram gets two replies
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08", duplicate: 2, delay: 20ms}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
      - expect_silence: 200ms
  - name: a truncated datagram is reversed as sent
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08", truncate: 3}
      - expect: {hex: "03 02 01"}
  - name: a datagram from another port is answered there
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08", from_other_port: true}
      - expect_silence: 300ms
"#;

#[test]
fn udp_faults_reach_a_careful_server_as_declared() {
    let (code, report) = run(UDP_SERVER_FAULTS, &[]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("4 passed, 0 failed"), "{report}");
}

const TCP_CLIENT_FAULTS: &str = r#"
scenarios:
  - name: greeting in one-byte chunks
    role: client
    transport: tcp
    steps:
      - accept
      - send: {text: "Hello World!\n", chunks: 1, pause: 10ms}
      - close
      - expect_exit
      - expect_stdout: {lines: ["Input is: Hello World!"]}
  - name: greeting and more in one write
    role: client
    transport: tcp
    steps:
      - accept
      - send_all: ["Hello World!\n", "second line\n"]
      - close
      - expect_exit
      - expect_stdout: {lines: ["Input is: Hello World!"]}
  - name: reset instead of a greeting
    role: client
    transport: tcp
    steps:
      - accept
      - close: {reset: true}
      - expect_exit: {code: 1}
      - expect_stderr: {regex: 'ConnectionResetError'}
"#;

#[test]
fn tcp_faults_reach_a_correct_client_as_declared() {
    let (code, report) = run(
        TCP_CLIENT_FAULTS,
        &["--client", &fixture("python/tcp_client_correct.py")],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("3 passed, 0 failed"), "{report}");
}

#[test]
fn one_byte_chunks_catch_a_client_that_reads_once() {
    let (code, report) = run(
        TCP_CLIENT_FAULTS,
        &[
            "--client",
            &fixture("python/tcp_client_single_recv.py"),
            "--filter",
            "name:greeting in one-byte chunks",
        ],
    );
    assert_eq!(code, 1, "{report}");
    let block = scenario_block(&report, "greeting in one-byte chunks");
    assert!(block.contains("Input is: H"), "{block}");
}

#[test]
fn slow_reads_and_half_close_work_against_the_reference_server() {
    let yaml = r#"
scenarios:
  - name: read one byte at a time
    role: server
    transport: tcp
    steps:
      - connect
      - shutdown_write
      - expect: {line: "Hello World!", read_chunk: 1, read_pause: 5ms}
      - expect_eof
"#;
    let (code, report) = run(yaml, &[]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = run(yaml, &["--server", &fixture("rust/tcp_server_slow_bytes")]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn faults_replay_the_same_way_every_time() {
    for _ in 0..3 {
        let (code, report) = run(UDP_SERVER_FAULTS, &["--filter", "duplicated"]);
        assert_eq!(code, 0, "{report}");
    }
}
