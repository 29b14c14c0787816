//! The RFC specs (`specs/rfc/`) against real implementations: xinetd's internal echo,
//! discard, chargen, daytime and time services, socat as a UDP echo server, and fixtures
//! with one defect each. Each spec passes against its own service and fails against the
//! other four.

mod common;

use common::{conform, fixture, stdout, which};

const SERVICES: [&str; 5] = ["echo", "discard", "chargen", "daytime", "time"];

/// xinetd running one internal service on the port conform picks, TCP and UDP.
fn xinetd(service: &str) -> String {
    assert!(
        which("xinetd"),
        "xinetd is not installed; scripts/test installs it (Debian package xinetd)"
    );
    format!("fixtures/shell/xinetd_service.sh {service} {{port}}")
}

fn run(spec: &str, server: &str, extra: &[&str]) -> (Option<i32>, String) {
    let output = conform()
        .args(["run", &format!("specs/rfc/{spec}.yaml"), "--seed", "7"])
        .args(["--server", server])
        .args(extra)
        .output()
        .unwrap();
    (output.status.code(), stdout(&output))
}

#[test]
fn each_rfc_spec_passes_against_its_own_xinetd_service() {
    for service in ["discard", "chargen", "daytime", "time"] {
        let (code, report) = run(service, &xinetd(service), &[]);
        assert_eq!(code, Some(0), "{service}: {report}");
        assert!(!report.contains("FAIL"), "{service}: {report}");
    }
    // xinetd's UDP echo drops a datagram that arrives while it answers the previous one, so
    // only its TCP echo is checked here; socat serves the UDP side below.
    let (code, report) = run("echo", &xinetd("echo"), &["--filter", "transport:tcp"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("2 passed, 0 failed"), "{report}");
}

#[test]
fn socat_passes_the_udp_echo_spec_but_ignores_empty_datagrams() {
    assert!(
        which("socat"),
        "socat is not installed; scripts/test installs it"
    );
    let (code, report) = run(
        "echo",
        "socat UDP-RECVFROM:{port},bind=127.0.0.1,fork PIPE",
        &["--filter", "transport:udp"],
    );
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(
            "PASS  specs/rfc/echo.yaml :: echo over UDP sends back any datagram, 1 to 1472 bytes"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "WARN  specs/rfc/echo.yaml :: echo over UDP answers an empty datagram with an empty one"
        ),
        "{report}"
    );
}

/// Runs `spec` against every other service; each run must fail.
fn fails_against_the_others(spec: &str) {
    for service in SERVICES.iter().filter(|s| **s != spec) {
        let (code, report) = run(
            spec,
            &xinetd(service),
            &["--timeout", "1s", "--shrink-probes", "4", "--cases", "3"],
        );
        assert_eq!(code, Some(1), "{spec} spec against {service}: {report}");
    }
}

#[test]
fn the_echo_spec_fails_against_the_other_services() {
    fails_against_the_others("echo");
}

#[test]
fn the_discard_spec_fails_against_the_other_services() {
    fails_against_the_others("discard");
}

#[test]
fn the_chargen_spec_fails_against_the_other_services() {
    fails_against_the_others("chargen");
}

#[test]
fn the_daytime_spec_fails_against_the_other_services() {
    fails_against_the_others("daytime");
}

#[test]
fn the_time_spec_fails_against_the_other_services() {
    fails_against_the_others("time");
}

#[test]
fn a_time_server_counting_from_1970_is_named() {
    let (code, report) = run("time", &fixture("python/time_server_1970.py"), &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("0 passed, 2 failed"), "{report}");
    assert!(
        report.contains(
            "expected a 32-bit big-endian number: the time now in RFC 868 seconds (since 1900)"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "hint: it looks like Unix time: RFC 868 counts seconds from 1900, 2208988800 more than from 1970"
        ),
        "{report}"
    );
}

#[test]
fn an_echo_that_truncates_shrinks_to_1001_zero_bytes_over_tcp_and_udp() {
    let (code, report) = run("echo", &fixture("python/echo_server_truncates.py"), &[]);
    assert_eq!(code, Some(1), "{report}");
    // Both scenarios shrink to the same input: the length is what matters, not the bytes.
    assert_eq!(
        report
            .lines()
            .filter(|l| l.trim() == "data = 1001 byte(s), all \"\\x00\"")
            .count(),
        2,
        "{report}"
    );
    // Not every shorter input was run, so the claim is the local one.
    assert_eq!(
        report
            .matches("locally minimal: each of these simplifications was run and passes")
            .count(),
        2,
        "{report}"
    );
    assert!(
        report.contains("but the peer closed the connection after 1000 byte(s)"),
        "{report}"
    );
    assert!(report.contains("but got 1000 byte(s)"), "{report}");
}
