//! The shipped specs against the two implementations that must pass them: conform's own
//! reference, and the guide's Lisp programs.

mod common;

use common::{conform, lisp, scenario_block, stdout};

#[test]
fn reference_passes_every_shipped_scenario_without_warnings() {
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "specs/udp.yaml",
            "specs/udp-sizes.yaml",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("20 passed, 0 failed, 0 skipped"),
        "{report}"
    );
    assert!(!report.contains("WARN"), "{report}");
}

#[test]
fn lisp_tcp_programs_pass_every_must_scenario() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--cases", "8"])
        .args(["--server", &lisp("tcp", "server")])
        .args(["--client", &lisp("tcp", "client")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains(", 0 failed, 0 skipped"), "{report}");
    // The guide's server serves one client and exits: the `should` scenarios say so.
    let second = scenario_block(&report, "server serves a second client");
    assert!(second.starts_with("WARN"), "{second}");
    assert!(second.contains("connection refused"), "{second}");
    assert!(second.contains("exited with code 0"), "{second}");
    assert!(scenario_block(&report, "server greets with Hello World").starts_with("PASS"));
    assert!(scenario_block(&report, "client prints the greeting").starts_with("PASS"));
    assert!(scenario_block(&report, "client waits for the whole line").starts_with("PASS"));
    // Faults conform injects: the guide's client reads a whole line, and closes after it.
    assert!(
        scenario_block(
            &report,
            "client prints the greeting written one byte at a time"
        )
        .starts_with("PASS")
    );
    assert!(
        scenario_block(&report, "client prints the greeting after a half-close")
            .starts_with("PASS")
    );
}

#[test]
fn lisp_udp_programs_pass_every_must_scenario() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--cases", "8"])
        .args(["--server", &lisp("udp", "server")])
        .args(["--client", &lisp("udp", "client")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains(", 0 failed, 0 skipped"), "{report}");
    assert!(scenario_block(&report, "server reverses 8 bytes").starts_with("PASS"));
    assert!(scenario_block(&report, "server prints the datagram it received").starts_with("PASS"));
    let second = scenario_block(&report, "server answers a second datagram");
    assert!(second.starts_with("WARN"), "{second}");
    // The guide's client connects its socket to the server, so the kernel drops a datagram
    // from any other port: it prints the real reply.
    assert!(
        scenario_block(&report, "client ignores a reply from another port").starts_with("PASS")
    );
}

#[test]
fn strict_turns_lisp_should_warnings_into_failures() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--strict", "--cases", "4"])
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(scenario_block(&report, "server answers a second datagram").starts_with("FAIL"));
    // Client scenarios had no --client: skipped, not failed, and counted in one line.
    assert!(
        report.contains(
            "SKIP  4 scenarios: a client scenario, and no --client was given (--verbose lists them)"
        ),
        "{report}"
    );
}

#[test]
fn parallel_jobs_give_the_same_verdicts_as_one_at_a_time() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "specs/udp.yaml", "--jobs", "4"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("19 passed, 0 failed, 0 skipped"),
        "{report}"
    );
}

#[test]
fn parallel_jobs_run_the_lisp_server_on_separate_ports() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--jobs", "3", "--cases", "4"])
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("5 passed, 0 failed, 4 skipped, 1 warned"),
        "{report}"
    );
}

#[test]
fn lisp_udp_server_passes_the_generated_8_byte_scenario() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--cases", "12"])
        .args(["--filter", "name:server reverses any 8 bytes"])
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("12 cases, seed "), "{report}");
}

#[test]
fn lisp_udp_server_fails_any_size_with_a_one_byte_counterexample() {
    let dir = tempfile::tempdir().unwrap();
    let output = conform()
        .args(["run", "specs/udp-sizes.yaml", "--cases", "10"])
        .args(["--server", &lisp("udp", "server")])
        .arg("--save-failures")
        .arg(dir.path())
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let minimal = common::minimal_line(&report);
    // The guide's server only handles 8 bytes, and zero bytes come back right: the
    // shortlex-minimal failing input is the single byte 0x01, on every seed.
    assert!(
        minimal.contains("payload = 1 byte(s) \"\\x01\""),
        "{report}"
    );
    assert!(
        report.contains("minimal: no shorter or simpler input fails"),
        "{report}"
    );
    assert!(report.contains("--with payload=hex:01"), "{report}");
    // The saved regression spec replays the same failure in one case.
    let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(saved.len(), 1, "{report}");
    let path = saved[0].as_ref().unwrap().path();
    let replay = conform()
        .arg("run")
        .arg(&path)
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let replayed = stdout(&replay);
    assert_eq!(replay.status.code(), Some(1), "{replayed}");
    assert!(replayed.contains("1 case, seed"), "{replayed}");
    // And the reference passes it.
    let reference = conform().arg("run").arg(&path).output().unwrap();
    assert_eq!(reference.status.code(), Some(0), "{}", stdout(&reference));
}

#[test]
fn the_same_seed_generates_the_same_cases() {
    let run = || {
        let output = conform()
            .args([
                "run",
                "specs/udp-sizes.yaml",
                "--seed",
                "42",
                "--cases",
                "3",
            ])
            .args(["--server", &common::fixture("python/udp_server_echo.py")])
            .args(["--shrink-time", "20s"])
            .output()
            .unwrap();
        let report = stdout(&output);
        report
            .lines()
            .skip_while(|l| !l.contains("failing input"))
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default()
    };
    let first = run();
    assert!(first.contains("payload = "), "{first}");
    assert_eq!(first, run());
}

/// Whether this machine can bind the IPv6 loopback; the IPv6 tests say so and skip if not.
fn ipv6_available() -> bool {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIPPED: cannot bind [::1] on this machine ({e}); IPv6 runs not tested");
            false
        }
    }
}

#[test]
fn reference_passes_every_shipped_scenario_over_ipv6() {
    if !ipv6_available() {
        return;
    }
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "specs/udp.yaml",
            "specs/udp-sizes.yaml",
        ])
        .args(["--ip", "6", "--cases", "8"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("20 passed, 0 failed, 0 skipped"),
        "{report}"
    );
}

#[test]
fn ip_both_runs_every_scenario_once_per_family() {
    if !ipv6_available() {
        return;
    }
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "specs/udp.yaml",
            "specs/udp-sizes.yaml",
        ])
        .args(["--ip", "both", "--cases", "4", "--jobs", "2"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("40 passed, 0 failed, 0 skipped"),
        "{report}"
    );
    assert!(
        report.contains(":: server reverses 8 bytes [ipv4]"),
        "{report}"
    );
    assert!(
        report.contains(":: server reverses 8 bytes [ipv6]"),
        "{report}"
    );
    assert!(!report.contains("WARN"), "{report}");
}

#[test]
fn a_server_on_ipv6_loopback_passes_with_ip_6_and_is_not_ready_with_ip_4() {
    if !ipv6_available() {
        return;
    }
    let server = common::fixture("python/tcp_server_ipv6.py");
    let only = ["--filter", "name:server greets with Hello World"];
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--ip", "6", "--server", &server])
        .args(only)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("1 passed, 0 failed"), "{report}");
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--server", &server])
        .args(["--ready-timeout", "1s"])
        .args(only)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("was not listening on TCP 127.0.0.1:"),
        "{report}"
    );
    assert!(report.contains("it is listening on TCP [::1]:"), "{report}");
}

#[test]
fn ipv6_runs_hand_the_bare_address_and_the_bracketed_hostport_to_programs() {
    if !ipv6_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.yaml");
    std::fs::write(
        &path,
        "scenarios:\n  - name: prints its address\n    role: client\n    transport: udp\n    steps:\n      - expect_exit\n      - expect_stdout: {regex: '^::1 \\[::1\\]:[0-9]+ ::1$'}\n",
    )
    .unwrap();
    let output = conform()
        .arg("run")
        .arg(&path)
        .args([
            "--ip",
            "6",
            "--client",
            "sh -c 'echo \"$0 $1 $CONFORM_HOST\"' {host} {hostport}",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
}

/// The guide's UDP server is exact for 8 bytes only; other sizes get what its 8-byte buffer
/// holds, with the datagram's length, as the guide's code does.
#[test]
fn lisp_udp_server_answers_other_sizes_from_its_8_byte_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sizes.yaml");
    std::fs::write(
        &path,
        r##"
scenarios:
  - name: three bytes come back as three zeros
    role: server
    transport: udp
    steps:
      - connect
      - send: "abc"
      - expect: {hex: "00 00 00"}
      - expect_exit: {code: 0}
      - expect_stdout: {lines: ["#(97 98 99 0 0 0 0 0)"]}
  - name: twelve bytes come back as eight reversed and four zeros
    role: server
    transport: udp
    steps:
      - connect
      - send: "abcdefghijkl"
      - expect: {hex: "68 67 66 65 64 63 62 61 00 00 00 00"}
      - expect_exit: {code: 0}
      - expect_stdout: {lines: ["#(97 98 99 100 101 102 103 104)"]}
"##,
    )
    .unwrap();
    let output = conform()
        .arg("run")
        .arg(&path)
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("2 passed, 0 failed, 0 skipped"), "{report}");
}

/// `fixtures/lisp/run` with `args`, from the repository root, with `env` added.
fn run_script(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.current_dir(common::root())
        .arg("fixtures/lisp/run")
        .args(args)
        .stdin(std::process::Stdio::null());
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("sh runs")
}

#[test]
fn lisp_run_script_rejects_bad_arguments_with_its_usage_line() {
    for args in [
        &[][..],
        &["tcp", "server"],
        &["sctp", "server", "12321"],
        &["tcp", "peer", "12321"],
        &["tcp", "server", "12321)"],
        &["tcp", "server", "0"],
        &["udp", "client", "65536"],
    ] {
        let output = run_script(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            common::stderr(&output),
            "usage: fixtures/lisp/run tcp|udp server|client PORT\n",
            "{args:?}"
        );
        assert_eq!(stdout(&output), "", "{args:?}");
    }
}

#[test]
fn lisp_run_script_says_in_one_line_that_sbcl_is_missing() {
    // No sbcl on this PATH; the script needs nothing else from it to say so.
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let output = run_script(&["tcp", "server", "12321"], &[("PATH", path)]);
    assert_eq!(output.status.code(), Some(127));
    assert_eq!(
        common::stderr(&output),
        "fixtures/lisp/run: sbcl is not installed (Debian package sbcl; scripts/test \
         installs it)\n"
    );
    assert_eq!(stdout(&output), "");
}

/// An ASDF source registry that ignores every configured place: usocket cannot be found.
const NO_SYSTEMS: (&str, &str) = (
    "CL_SOURCE_REGISTRY",
    "(:source-registry :ignore-inherited-configuration)",
);

#[test]
fn lisp_run_script_says_in_one_line_that_usocket_is_missing() {
    let _ = lisp("udp", "server"); // asserts that sbcl is installed
    let output = run_script(&["udp", "server", "12321"], &[NO_SYSTEMS]);
    assert_eq!(
        output.status.code(),
        Some(127),
        "{}",
        common::stderr(&output)
    );
    assert_eq!(
        common::stderr(&output),
        "fixtures/lisp/run: usocket is not installed (Debian package cl-usocket; \
         scripts/test installs it)\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn a_missing_usocket_shows_in_the_report_of_a_lisp_run() {
    let output = conform()
        .args(["run", "specs/tcp.yaml"])
        .args(["--filter", "name:server greets with Hello World"])
        .args(["--server", &lisp("tcp", "server")])
        .env(NO_SYSTEMS.0, NO_SYSTEMS.1)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let block = scenario_block(&report, "server greets with Hello World");
    assert!(block.starts_with("FAIL"), "{block}");
    assert!(block.contains("exited with code 127"), "{block}");
    assert!(
        block.contains("fixtures/lisp/run: usocket is not installed"),
        "{block}"
    );
}
