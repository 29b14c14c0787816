//! The key-value example (`specs/examples/redis.yaml`) against a real Redis server, and the
//! new value kinds end to end: numbers saved and replayed as regression specs, text
//! generated from a regex, captures.

mod common;

use common::{conform, fixture, stdout, which};

const REDIS: &str = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no";

#[test]
fn the_redis_example_passes_against_redis_server() {
    assert!(
        which("redis-server"),
        "redis-server is not installed; scripts/test installs it (Debian package redis-server)"
    );
    let output = conform()
        .args(["run", "specs/examples/redis.yaml", "--seed", "5"])
        .args(["--server", REDIS])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("3 passed, 0 failed"), "{report}");
    assert!(report.contains("100 cases, seed 5"), "{report}");
}

#[test]
fn the_redis_example_fails_against_an_echo_server() {
    assert!(
        which("xinetd"),
        "xinetd is not installed; scripts/test installs it"
    );
    let output = conform()
        .args([
            "run",
            "specs/examples/redis.yaml",
            "--filter",
            "name:PING answers PONG",
        ])
        .args(["--server", "fixtures/shell/xinetd_service.sh echo {port}"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("byte 0 differs: expected 0x2b '+', got 0x2a '*'"),
        "{report}"
    );
}

#[test]
fn a_generated_number_shrinks_and_replays_from_its_regression_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("numbers.yaml");
    std::fs::write(
        &spec,
        "version: 1
scenarios:
  - name: reverses a 16-bit number
    role: server
    transport: udp
    lifecycle: scenario
    cases: 200
    generate:
      num: {number: {size: 2, order: big}}
    steps:
      - connect
      - send: {var: num}
      - expect: {reverse: num}
",
    )
    .unwrap();
    let saved = dir.path().join("saved");
    // The 7-bit server clears the high bit of every byte: any number with a byte of 0x80
    // or more comes back wrong.
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args([
            "--seed",
            "9",
            "--server",
            &fixture("python/udp_server_forever_7bit.py"),
        ])
        .arg("--save-failures")
        .arg(&saved)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let minimal = common::minimal_line(&report);
    assert!(minimal.contains("num = "), "{report}");
    assert!(minimal.contains("(16-bit big-endian: "), "{report}");
    assert!(report.contains("--with num=number:"), "{report}");
    let file = std::fs::read_dir(&saved)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("num: {number: "), "{text}");
    let replay = conform()
        .arg("run")
        .arg(&file)
        .args(["--server", &fixture("python/udp_server_forever_7bit.py")])
        .output()
        .unwrap();
    let replayed = stdout(&replay);
    assert_eq!(replay.status.code(), Some(1), "{replayed}");
    assert!(replayed.contains("1 case, seed"), "{replayed}");
}

#[test]
fn text_generated_from_a_regex_matches_it() {
    assert!(
        which("xinetd"),
        "xinetd is not installed; scripts/test installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("words.yaml");
    std::fs::write(
        &spec,
        "version: 1
scenarios:
  - name: echoes words
    role: server
    transport: tcp
    lifecycle: scenario
    cases: 60
    generate:
      word: {text: {regex: '[a-z]{3,8}-[0-9]{2}(ok|no)?\\n'}}
      key: {text: {chars: 'A-F', length: 4}}
    steps:
      - connect
      - send: {concat: [{var: key}, \" \", {var: word}]}
      - expect: {line_regex: '[A-F]{4} [a-z]{3,8}-[0-9]{2}(ok|no)?'}
      - close
",
    )
    .unwrap();
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args([
            "--seed",
            "4",
            "--server",
            "fixtures/shell/xinetd_service.sh echo {port}",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("60 cases"), "{report}");
}
