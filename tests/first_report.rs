//! The first reports a newcomer reads: hints for the first mistakes, long values cut to
//! what matters in a terminal, skipped scenarios counted, and a closed stdout (`| head`).

mod common;

use common::{conform, root, stderr, stdout};

/// An empty directory to run conform in, away from the repository's `specs/`.
fn elsewhere() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn a_server_command_without_the_port_is_hinted_once_per_run() {
    for (command, says) in [
        (
            "python3 fixtures/python/tcp_server_correct.py",
            "hint: the server exited before listening in 4 scenarios, and its command \
             `python3 fixtures/python/tcp_server_correct.py` has no {port}. conform gives the \
             server a free port for every case, in place of {port} in the command (and in \
             $CONFORM_PORT); a program that wants its port as an argument exits without one. \
             Write: --server 'python3 fixtures/python/tcp_server_correct.py {port}' (or, for a \
             program that uses a port of its own, --port N)\n",
        ),
        (
            "python3 fixtures/python/tcp_server_correct.py $PORT",
            "hint: the server exited before listening in 4 scenarios, and its command \
             `python3 fixtures/python/tcp_server_correct.py $PORT` uses `$PORT`: no shell runs \
             the command, so the program gets the text `$PORT` as it is. Write {port} instead: \
             --server 'python3 fixtures/python/tcp_server_correct.py {port}'\n",
        ),
    ] {
        let output = conform()
            .args([
                "run",
                "specs/tcp.yaml",
                "--filter",
                "role:server",
                "--server",
                command,
            ])
            .output()
            .unwrap();
        let report = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{report}");
        assert_eq!(
            report.matches("hint: the server exited").count(),
            1,
            "{report}"
        );
        assert!(report.contains(says), "{report}");
        // The program's output is shown once; the other scenarios refer to it.
        assert_eq!(report.matches("last stderr lines:").count(), 1, "{report}");
        assert_eq!(
            report
                .matches("(it ended as in `server greets with Hello World` above, where its output is shown)")
                .count(),
            3,
            "{report}"
        );
    }
}

#[test]
fn a_command_that_passes_the_port_gets_no_port_hint() {
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--filter",
            "role:server",
            "--server",
        ])
        .arg("sh -c 'exit 3' {port}")
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("exited with code 3 before listening"),
        "{report}"
    );
    assert!(!report.contains("hint: the server exited"), "{report}");
}

#[test]
fn empty_output_from_a_running_program_gets_the_buffering_hint() {
    let output = conform()
        // The test environment may ask Python not to buffer; a user's usually does not.
        .env_remove("PYTHONUNBUFFERED")
        .args(["run", "specs/udp.yaml", "--strict", "--timeout", "1s"])
        .args([
            "--filter",
            "name:server prints the datagram it received",
            "--server",
        ])
        .arg("python3 fixtures/python/udp_server_buffered_stdout.py {port}")
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "\n        hint: the program printed nothing on stdout. If it does print, the lines \
             may still be in its buffer: a program whose stdout is a pipe, not a terminal, often \
             keeps what it prints until it exits, and a program that conform stops never writes \
             it. Flush after each line: `python3 -u` or `print(..., flush=True)`; C and C++ \
             `setvbuf(stdout, NULL, _IOLBF, 0)` or `fflush(stdout)`; Ruby `$stdout.sync = true`; \
             Perl `$| = 1`\n"
        ),
        "{report}"
    );
    // The hint is part of the mismatch, so machine-readable reports carry it too.
    let json = conform()
        .env_remove("PYTHONUNBUFFERED")
        .args([
            "run",
            "specs/udp.yaml",
            "--strict",
            "--timeout",
            "1s",
            "--format",
            "json",
        ])
        .args([
            "--filter",
            "name:server prints the datagram it received",
            "--server",
        ])
        .arg("python3 fixtures/python/udp_server_buffered_stdout.py {port}")
        .output()
        .unwrap();
    let events = stdout(&json);
    let finished: serde_json::Value = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "scenario_finished")
        .unwrap();
    let hint = finished["failure"]["mismatches"][0]["hint"]
        .as_str()
        .unwrap_or("");
    assert!(
        hint.starts_with("the program printed nothing on stdout"),
        "{events}"
    );
    // The same server flushing (Python told to) passes: the hint is about buffering only.
    let output = conform()
        .env("PYTHONUNBUFFERED", "1")
        .args(["run", "specs/udp.yaml", "--strict", "--timeout", "1s"])
        .args([
            "--filter",
            "name:server prints the datagram it received",
            "--server",
        ])
        .arg("python3 fixtures/python/udp_server_buffered_stdout.py {port}")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

/// Runs conform with a stdout whose reading end is already closed, as `| head` leaves it
/// once head has read its lines.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(root())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = Vec::new();
    std::io::Read::read_to_end(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    std::process::Output {
        status: child.wait().unwrap(),
        stdout: Vec::new(),
        stderr: err,
    }
}

#[test]
fn a_closed_stdout_ends_conform_quietly_with_141() {
    for args in [
        &["run", "specs/udp.yaml", "--list"][..],
        &["run", "specs/udp.yaml", "--format", "json"],
        &["run", "specs/udp.yaml"],
        &["specs"],
        &["check", "udp"],
        &["schema"],
        &["completions", "bash"],
    ] {
        let output = with_closed_stdout(args);
        assert_eq!(
            output.status.code(),
            Some(conform::exit::CLOSED),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "{args:?}");
    }
}

/// 1,450 bytes of every value, most of them unprintable, as hex.
fn datagram_1450() -> String {
    (0..1450u32)
        .map(|i| format!("{:02x}", (i * 151 + 17) % 256))
        .collect()
}

/// Runs a UDP scenario that sends 1,450 bytes and expects them back against `server`, with
/// a JSON and a human report file too; returns the terminal report, the JSON events and the
/// human report file.
fn long_echo(server: &str) -> (String, String, String) {
    let dir = elsewhere();
    let data = datagram_1450();
    let spec = dir.path().join("long.yaml");
    std::fs::write(
        &spec,
        format!(
            "scenarios:\n  - name: echoes 1450 bytes\n    role: server\n    transport: udp\n    \
             timeout: 500ms\n    steps:\n      - connect\n      - send: {{hex: \"{data}\"}}\n      \
             - expect: {{hex: \"{data}\"}}\n"
        ),
    )
    .unwrap();
    let json = dir.path().join("report.jsonl");
    let file = dir.path().join("report.txt");
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--server", server])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("human={}", file.display()))
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    (
        report,
        std::fs::read_to_string(&json).unwrap(),
        std::fs::read_to_string(&file).unwrap(),
    )
}

#[test]
fn one_long_failing_echo_stays_short_in_the_terminal_and_whole_in_json() {
    let data = datagram_1450();
    let (report, events, saved) =
        long_echo("python3 fixtures/python/echo_server_truncates.py {port}");
    assert!(
        report.chars().count() <= 4000,
        "{} characters:\n{report}",
        report.chars().count()
    );
    for says in [
        "^ first difference, byte 1000",
        "        … 59 rows (944 bytes) left out …",
        "(expected has 1450 bytes, actual has 1000; … marks what is left out)",
        "…(952 bytes)…",
    ] {
        assert!(report.contains(says), "no {says:?} in:\n{report}");
    }
    // The JSON events keep both values whole; a human report file is not elided.
    assert!(
        events.contains(&format!("\"expected_hex\":\"{data}\"")),
        "{events}"
    );
    assert!(
        events.contains(&format!("\"actual_hex\":\"{}\"", &data[..2000])),
        "{events}"
    );
    assert!(!saved.contains("left out"), "{saved}");
}

#[test]
fn a_long_line_of_program_output_is_elided_in_the_terminal() {
    let (report, events, saved) = long_echo(&common::fixture("rust/udp_server_silent"));
    assert!(
        report.chars().count() <= 4000,
        "{} characters:\n{report}",
        report.chars().count()
    );
    // The program printed the datagram as one long line: its start and its end are shown.
    assert!(
        report.contains("        | #(17 168 63 214 109 4 155 50 201 96 247 142 "),
        "{report}"
    );
    assert!(report.contains(" characters)…"), "{report}");
    // Whole, the program's line alone is longer than that.
    assert!(saved.chars().count() > 4000, "{saved}");
    assert!(events.contains(&datagram_1450()), "{events}");
}

#[test]
fn skipped_scenarios_are_one_count_unless_verbose() {
    let server = "python3 fixtures/python/tcp_server_correct.py {port}";
    let why = "a client scenario, and no --client was given";
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--filter",
            "level:must",
            "--server",
            server,
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report.matches("SKIP").count(), 1, "{report}");
    assert!(
        report.contains(&format!(
            "SKIP  4 scenarios: {why} (--verbose lists them)\n\n2 passed, 0 failed, 4 skipped  ("
        )),
        "{report}"
    );
    let verbose = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--filter",
            "level:must",
            "--verbose",
        ])
        .args(["--server", server])
        .output()
        .unwrap();
    let report = stdout(&verbose);
    assert_eq!(verbose.status.code(), Some(0), "{report}");
    let skips: Vec<&str> = report.lines().filter(|l| l.starts_with("SKIP")).collect();
    let expected: Vec<String> = [
        "client prints the greeting",
        "client prints the greeting however it is split",
        "client prints the greeting written one byte at a time",
        "client prints the greeting after a half-close",
    ]
    .iter()
    .map(|name| format!("SKIP  specs/tcp.yaml :: {name}  ({why})"))
    .collect();
    assert_eq!(skips, expected, "{report}");
    assert!(report.contains("2 passed, 0 failed, 4 skipped"), "{report}");
}

#[test]
fn a_generated_long_failure_names_its_value_file_and_replays_from_it() {
    let dir = elsewhere();
    let spec = dir.path().join("gen.yaml");
    std::fs::write(
        &spec,
        "scenarios:\n  - name: echoes 1450 generated bytes\n    role: server\n    \
         transport: udp\n    timeout: 500ms\n    generate:\n      payload: {bytes: {length: \
         1450}}\n    steps:\n      - connect\n      - send: {var: payload}\n      - expect: \
         {var: payload}\n",
    )
    .unwrap();
    let saved = dir.path().join("saved");
    let server = "python3 fixtures/python/echo_server_truncates.py {port}";
    let output = conform()
        .arg("run")
        .arg(&spec)
        .args(["--server", server, "--lifecycle", "scenario", "--seed", "3"])
        .arg("--save-failures")
        .arg(&saved)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    // The input and the replay line would be thousands of characters each.
    assert!(
        report.chars().count() <= 4000,
        "{} characters:\n{report}",
        report.chars().count()
    );
    let replay = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: "))
        .expect("a replay line");
    let file = replay
        .split_whitespace()
        .find_map(|w| w.strip_prefix("payload=@"))
        .expect("the long value named as a file");
    let file = std::path::Path::new(file);
    assert!(file.starts_with(&saved), "{replay}");
    assert!(
        std::fs::read_to_string(file).unwrap().starts_with("hex:"),
        "{replay}"
    );
    // That value replays the failure: one case, the same one.
    let again = conform()
        .arg("run")
        .arg(&spec)
        .args(["--server", server, "--lifecycle", "scenario", "--seed", "3"])
        .arg(format!("--with=payload=@{}", file.display()))
        .output()
        .unwrap();
    let replayed = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{replayed}");
    assert!(replayed.contains("1 case, seed 3"), "{replayed}");
    assert!(replayed.contains("but got 1000 byte(s)"), "{replayed}");
    // A file that cannot be read is a usage error naming it.
    let missing = conform()
        .arg("run")
        .arg(&spec)
        .args([
            "--server",
            server,
            "--with",
            "payload=@/nonexistent/value.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot read /nonexistent/value.txt"),
        "{}",
        stderr(&missing)
    );
}
