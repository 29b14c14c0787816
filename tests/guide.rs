//! The shipped specs against the two implementations that must pass them: conform's own
//! reference, and the guide's Lisp programs.

mod common;

use common::{conform, lisp, scenario_block, stdout};

#[test]
fn reference_passes_every_shipped_scenario_without_warnings() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "specs/udp.yaml"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("13 passed, 0 failed, 0 skipped"),
        "{report}"
    );
    assert!(!report.contains("WARN"), "{report}");
}

#[test]
fn lisp_tcp_programs_pass_every_must_scenario() {
    let output = conform()
        .args(["run", "specs/tcp.yaml"])
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
}

#[test]
fn lisp_udp_programs_pass_every_must_scenario() {
    let output = conform()
        .args(["run", "specs/udp.yaml"])
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
}

#[test]
fn strict_turns_lisp_should_warnings_into_failures() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--strict"])
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(scenario_block(&report, "server answers a second datagram").starts_with("FAIL"));
    // Client scenarios had no --client: skipped, not failed.
    assert!(
        scenario_block(
            &report,
            "client sends 1 to 8 and prints the reversed vector"
        )
        .starts_with("SKIP")
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
        report.contains("13 passed, 0 failed, 0 skipped"),
        "{report}"
    );
}

#[test]
fn parallel_jobs_run_the_lisp_server_on_separate_ports() {
    let output = conform()
        .args(["run", "specs/udp.yaml", "--jobs", "3"])
        .args(["--server", &lisp("udp", "server")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("4 passed, 0 failed, 2 skipped, 1 warned"),
        "{report}"
    );
}
