//! Programs with a port of their own: conform says so as soon as a server listens there, and
//! `--port` runs them, for servers and for clients; a held port and `--jobs` are refused with
//! their exit codes.
//!
//! The fixtures ignore `{port}` and `CONFORM_PORT` and use `FIXTURE_PORT`, set here to a port
//! the kernel says is free, so that tests running in parallel never share one. No assertion is
//! about elapsed time: the early message is recognised by its words, which only the early path
//! produces, with a ready timeout far longer than the test could wait.

mod common;

use std::net::{IpAddr, Ipv4Addr, TcpListener};

use common::{conform, scenario_block, stderr, stdout};

const SERVER: &str = "python3 fixtures/python/tcp_server_fixed_port.py";
const CLIENT: &str = "python3 fixtures/python/tcp_client_fixed_port.py";

/// A port free for TCP and UDP, outside the ephemeral range (so no outgoing connection of
/// another test takes it), not handed out again by this process.
fn own_port() -> u16 {
    conform::drive::port::pick(IpAddr::V4(Ipv4Addr::LOCALHOST)).expect("a free port")
}

/// `conform run SPEC ARGS...` with the fixtures' port in the environment.
fn run(port: u16, spec: &str, args: &[&str]) -> std::process::Output {
    conform()
        .args(["run", spec])
        .args(args)
        .env("FIXTURE_PORT", port.to_string())
        .output()
        .expect("conform runs")
}

#[test]
fn server_on_its_own_port_is_named_at_once_with_both_fixes() {
    let port = own_port();
    let output = run(
        port,
        "specs/tcp.yaml",
        &[
            "--server",
            SERVER,
            "--filter",
            "name:server greets with Hello World",
            "--ready-timeout",
            "30m",
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let block = scenario_block(&report, "server greets with Hello World");
    for says in [
        format!("the program is listening on TCP 127.0.0.1:{port} instead of TCP 127.0.0.1:"),
        "the command has no {port} or {hostport}".to_string(),
        "({port} in the command, or read CONFORM_PORT)".to_string(),
        format!("or run with --port {port} to use its own port"),
    ] {
        assert!(block.contains(&says), "missing `{says}` in:\n{block}");
    }
}

#[test]
fn server_on_its_own_port_passes_with_that_port() {
    let port = own_port();
    let port_arg = port.to_string();
    let output = run(
        port,
        "specs/tcp.yaml",
        &[
            "--server",
            SERVER,
            "--filter",
            "role:server",
            "--port",
            &port_arg,
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));
    // Every `must` scenario ran against the program on its own port, one after another.
    for scenario in [
        "server greets with Hello World",
        "server greets without being spoken to",
    ] {
        let block = scenario_block(&report, scenario);
        assert!(block.starts_with("PASS"), "{block}");
    }
}

#[test]
fn client_to_its_own_port_passes_with_that_port_and_fails_without() {
    let port = own_port();
    let port_arg = port.to_string();
    let filter = ["--filter", "role:client", "--cases", "4"];
    let with_port = run(
        port,
        "specs/tcp.yaml",
        &[&["--client", CLIENT, "--port", &port_arg][..], &filter].concat(),
    );
    let report = stdout(&with_port);
    assert_eq!(
        with_port.status.code(),
        Some(0),
        "{report}{}",
        stderr(&with_port)
    );
    let block = scenario_block(&report, "client prints the greeting however it is split");
    assert!(block.starts_with("PASS"), "{block}");

    // One scenario only: a generated one would shrink its failure for a long while.
    let without = run(
        port,
        "specs/tcp.yaml",
        &[
            "--client",
            CLIENT,
            "--timeout",
            "2s",
            "--filter",
            "name:client prints the greeting",
        ],
    );
    let report = stdout(&without);
    assert_eq!(without.status.code(), Some(1), "{report}");
    let block = scenario_block(&report, "client prints the greeting");
    assert!(
        block.contains("without connecting to 127.0.0.1:"),
        "{block}"
    );
}

#[test]
fn udp_server_given_the_fixed_port_through_its_template_passes() {
    let port = own_port();
    let port_arg = port.to_string();
    let output = run(
        port,
        "specs/udp.yaml",
        &[
            "--server",
            "python3 fixtures/python/udp_server_forever.py {port}",
            "--filter",
            "role:server",
            "--cases",
            "4",
            "--port",
            &port_arg,
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));
    let block = scenario_block(&report, "server reverses 8 bytes");
    assert!(block.starts_with("PASS"), "{block}");
}

#[test]
fn a_fixed_port_held_by_another_process_exits_3_naming_it() {
    // This test process holds the port, as a forgotten server would.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, own_port())).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let port_arg = port.to_string();
    let output = run(
        port,
        "specs/tcp.yaml",
        &[
            "--server",
            SERVER,
            "--filter",
            "role:server",
            "--port",
            &port_arg,
        ],
    );
    drop(listener);
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{message}{}",
        stdout(&output)
    );
    let own = std::process::id();
    for says in [
        format!("--port {port}: TCP port {port} is in use by pid {own} (`"),
        "which conform did not start; stop it, or run with another --port".to_string(),
    ] {
        assert!(message.contains(&says), "missing `{says}` in:\n{message}");
    }
    assert_eq!(message.lines().count(), 1, "one paragraph:\n{message}");
}

#[test]
fn a_fixed_port_held_against_a_client_under_test_exits_3_too() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, own_port())).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let output = run(
        port,
        "specs/tcp.yaml",
        &[
            "--client",
            CLIENT,
            "--filter",
            "role:client",
            "--port",
            &port.to_string(),
        ],
    );
    drop(listener);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{message}");
    assert!(
        message.contains(&format!("is in use by pid {}", std::process::id())),
        "{message}"
    );
}

#[test]
fn jobs_above_one_with_a_fixed_port_is_a_usage_error() {
    let output = run(
        12321,
        "specs/tcp.yaml",
        &["--server", SERVER, "--port", "12321", "--jobs", "2"],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("--jobs 2"), "{message}");
    assert!(message.contains("one at a time"), "{message}");
}

#[test]
fn a_fixed_port_without_a_program_under_test_is_a_usage_error() {
    let output = run(12321, "specs/tcp.yaml", &["--port", "12321"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("--server or --client"), "{message}");
}

#[test]
fn a_fixed_port_with_connect_is_refused_by_the_command_line() {
    let output = run(
        12321,
        "specs/tcp.yaml",
        &["--connect", "127.0.0.1:12321", "--port", "12321"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
