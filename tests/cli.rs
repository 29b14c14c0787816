//! The command line as a user meets it: `check`, errors with locations and exit codes,
//! targets that cannot run, and the standalone reference programs.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{conform, stderr, stdout};

#[test]
fn check_accepts_the_shipped_specs() {
    let output = conform()
        .args(["check", "specs/tcp.yaml", "specs/udp.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("ok: specs/tcp.yaml (9 scenario(s))"));
}

#[test]
fn check_reports_a_misspelt_key_with_location_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "scenarios:\n  - name: x\n    role: server\n    transport: tcp\n    stpes: [connect]\n",
    )
    .unwrap();
    let output = conform().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("bad.yaml:5:5: unknown field `stpes`"), "{err}");
    assert!(err.contains("did you mean `steps`?"), "{err}");
    assert!(err.contains("5 |     stpes: [connect]"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn run_with_a_bad_spec_exits_2_before_running_anything() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "no/such/spec.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no/such/spec.yaml: cannot read spec: no such file"));
    assert_eq!(stdout(&output), "");
}

#[test]
fn unknown_option_exits_2() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--sever", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--sever"), "{}", stderr(&output));
}

#[test]
fn help_lists_the_exit_codes() {
    let output = conform().args(["run", "--help"]).output().unwrap();
    let text = stdout(&output);
    assert!(text.contains("Exit codes:"), "{text}");
    assert!(text.contains("3  conform could not do its job"), "{text}");
}

#[test]
fn missing_program_exits_3_with_a_clear_message() {
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--server",
            "./no-such-server {port}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("cannot run `./no-such-server`: no such file or directory"),
        "{err}"
    );
}

#[test]
fn non_executable_program_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sh");
    std::fs::write(&path, "#!/bin/sh\n").unwrap();
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--server"])
        .arg(format!("{} {{port}}", path.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("permission denied"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unterminated_quote_in_a_template_exits_2() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--server", "sh -c 'echo {port}"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--server"), "{}", stderr(&output));
}

#[test]
fn selecting_no_scenario_exits_2() {
    // Every scenario of a server-only spec is skipped when only a client is given.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.yaml");
    std::fs::write(
        &path,
        "scenarios:\n  - name: x\n    role: server\n    transport: tcp\n    steps: [connect]\n",
    )
    .unwrap();
    let output = conform()
        .arg("run")
        .arg(&path)
        .args(["--client", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no scenario selected"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn connect_runs_server_scenarios_against_a_running_server() {
    let port = free_port();
    let mut server = spawn_reference(&["tcp-server", "--forever", "--port", &port.to_string()]);
    wait_tcp(port);
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--connect",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("4 passed, 0 failed, 5 skipped"), "{report}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn spawn_reference(args: &[&str]) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("reference")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) until something accepts connections on `port`.
fn wait_tcp(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("nothing listened on {port}: {e}"),
        }
    }
}

#[test]
fn reference_tcp_server_greets_once_and_exits() {
    let port = free_port();
    let mut server = spawn_reference(&["tcp-server", "--port", &port.to_string()]);
    let mut stream = wait_tcp(port);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"Hello World!\n");
    let status = server.wait().unwrap();
    assert!(status.success());
}

#[test]
fn reference_udp_client_prints_the_guides_three_lines() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let client = spawn_reference(&["udp-client", "--port", &port.to_string()]);
    let mut buf = [0u8; 64];
    let (n, from) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &[1, 2, 3, 4, 5, 6, 7, 8]);
    socket.send_to(&[8, 7, 6, 5, 4, 3, 2, 1], from).unwrap();
    let output = client.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Sending data\nReceiving data\n#(8 7 6 5 4 3 2 1)\n"
    );
}

#[test]
fn reference_tcp_client_prints_the_greeting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = spawn_reference(&["tcp-client", "--port", &port.to_string()]);
    let (mut conn, _) = listener.accept().unwrap();
    conn.write_all(b"Hello World!\n").unwrap();
    drop(conn);
    let output = client.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Input is: Hello World!\n"
    );
}

#[test]
fn verbose_says_how_the_socket_table_is_read() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--verbose"])
        .args(["--filter", "name:server greets with Hello World"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let note = stderr(&output);
    // Netlink where the kernel answers it; otherwise /proc/net, with the reason.
    assert!(
        note.contains("conform: reading the socket table through netlink sock_diag\n")
            || note.contains(
                "conform: reading the socket table through /proc/net (netlink sock_diag: "
            ),
        "{note}"
    );
}

#[test]
fn help_and_man_page_describe_port() {
    let help = conform().args(["run", "--help"]).output().unwrap();
    assert!(stdout(&help).contains("--port <N>"), "{}", stdout(&help));
    let man = conform().arg("man").output().unwrap();
    assert!(
        stdout(&man).contains("Every program under test gets this one port"),
        "the man page lacks run --port"
    );
}

#[test]
fn poll_mode_an_explicit_choice_is_honoured_and_said_under_verbose() {
    for (mode, says) in [
        (
            "block",
            "waiting for replies: block (asked with --poll block)",
        ),
        ("spin", "waiting for replies: spin (asked with --poll spin)"),
    ] {
        let output = conform()
            .args(["run", "specs/udp.yaml", "--verbose", "--poll", mode])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
    }
}

#[test]
fn poll_mode_auto_blocks_on_one_core() {
    if !common::which("taskset") {
        eprintln!("SKIPPED: taskset (util-linux) is not installed");
        return;
    }
    // Pinned to one CPU, the standard library reports one core available.
    let output = std::process::Command::new("taskset")
        .args(["-c", "0"])
        .arg(assert_cmd::cargo::cargo_bin("conform"))
        .args(["run", "specs/udp.yaml", "--verbose", "--poll", "auto"])
        .current_dir(common::root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains("waiting for replies: block: auto, and this machine has 1 core"),
        "{err}"
    );
}

#[test]
fn poll_mode_refuses_other_words() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--poll", "fast"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--poll"), "{}", stderr(&output));
}

/// The help text of `conform ARGS`, as an 80-column terminal shows it.
fn help(args: &[&str]) -> String {
    let output = conform().args(args).env("COLUMNS", "80").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn run_short_help_fits_a_screen_and_says_where_the_rest_is() {
    let text = help(&["run", "-h"]);
    let lines = text.lines().count();
    assert!(lines <= 45, "`run -h` is {lines} lines:\n{text}");
    let headings: Vec<&str> = text
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .collect();
    assert_eq!(
        headings,
        [
            "Arguments:",
            "Options:",
            "Running:",
            "Selecting:",
            "Generated scenarios:",
            "Reports:",
            "CI:"
        ],
        "{text}"
    );
    assert!(text.contains("--server <CMD>"), "{text}");
    assert!(!text.contains("--shrink-time"), "{text}");
    assert!(
        text.ends_with("`conform run --help` shows every option, examples and the exit codes.\n"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn run_long_help_groups_every_option_then_examples_and_exit_codes() {
    let text = help(&["run", "--help"]);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
    };
    let order = [
        at("\nRunning:\n"),
        at("\nSelecting:\n"),
        at("\nGenerated scenarios:\n"),
        at("\nReports:\n"),
        at("\nCI:\n"),
        at("\nExamples:\n"),
        at("\nExit codes:\n"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(at("--shrink-time <DURATION>") < order[2 + 1], "{text}");
    assert!(text.contains("  conform run udp --server 'python3 srv.py {port}'\n"));
    assert!(text.contains("  3  conform could not do its job"), "{text}");
    assert!(
        text.contains("\n141  stdout was closed before the report"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn defaults_in_the_help_are_the_run_options_defaults() {
    use conform::run::options::{DEFAULT_GRACE, DEFAULT_READY_TIMEOUT, DEFAULT_TIMEOUT};
    let text = help(&["run", "--help"]);
    for (option, default) in [
        ("--timeout", DEFAULT_TIMEOUT),
        ("--ready-timeout", DEFAULT_READY_TIMEOUT),
        ("--grace", DEFAULT_GRACE),
    ] {
        let block: String = text
            .split("\n\n")
            .find(|b| b.trim_start().starts_with(&format!("{option} <DURATION>")))
            .unwrap_or_else(|| panic!("no {option} in:\n{text}"))
            .to_string();
        let shown = conform::spec::Dur(default).to_string();
        assert!(block.contains(&format!("[default: {shown}]")), "{block}");
    }
}

#[test]
fn check_init_and_specs_help_list_their_own_exit_codes() {
    let check = help(&["check", "--help"]);
    assert!(
        check.ends_with(
            "Exit codes:\n  0  every SPEC is a valid spec\n  2  a SPEC is wrong or cannot be \
             read; every error is printed, with its\n     file, line and column\n141  stdout \
             was closed before everything was written (`| head`)\n"
        ),
        "{check}"
    );
    assert!(!check.contains("conformance failure"), "{check}");
    let init = help(&["init", "--help"]);
    assert!(
        init.contains("  2  FILE exists already: it is never overwritten\n"),
        "{init}"
    );
    let specs = help(&["specs", "--help"]);
    assert!(
        specs.contains("  2  a file to write exists already: nothing is written"),
        "{specs}"
    );
}

#[rstest::rstest]
#[case::format(&["--format", "xml"], "human, junit, tap, json, html")]
#[case::color(&["--color", "sometimes"], "auto, always, never")]
#[case::ip(&["--ip", "5"], "4, 6, both")]
#[case::poll(&["--poll", "fast"], "spin, block, auto")]
fn a_word_outside_a_typed_option_lists_the_words_it_takes(
    #[case] option: &[&str],
    #[case] values: &str,
) {
    let output = conform()
        .args(["run", "specs/udp.yaml"])
        .args(option)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("invalid value '{}' for '{}", option[1], option[0])),
        "{err}"
    );
    assert!(
        err.contains(&format!("[possible values: {values}]")),
        "{err}"
    );
}
