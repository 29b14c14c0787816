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
    assert!(replayed.contains("1 cases, seed"), "{replayed}");
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
