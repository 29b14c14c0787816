//! Hostile programs that leave processes behind: a server that ignores SIGTERM and forks a
//! child that ignores it too, and a server whose orphaned grandchildren (one `setsid`'d) keep
//! its port, stdout and stderr open after it exits. conform must kill them all, found through
//! the process tree, and judge the server's output without waiting for them.
//!
//! Every run is watched from outside (tests/common/hostile.rs): its wall time against a
//! generous bound, its peak memory, and every process below it, none of which may outlive it.

mod common;

use common::fixture;
use common::hostile::{GREET, GREET_TWICE, hostile, pids_in, says, secs, stat};

#[test]
fn server_that_ignores_sigterm_and_forks_is_killed_after_its_ready_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let run = hostile(
        "ignore_term_forks",
        &fixture("shell/ignore_term_forks.sh"),
        GREET,
        &["--ready-timeout", "2s", "--grace", "200ms"],
        &[("PIDFILE", &pidfile)],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "was not listening on TCP 127.0.0.1:",
            "after 2000ms",
            "did not exit within the grace of 200 ms after SIGTERM; conform killed it with SIGKILL",
        ],
    );
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 2, "the fixture wrote its pids");
    for pid in pids {
        assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
    }
}

#[test]
fn grandchildren_holding_the_port_and_pipes_after_the_server_exits_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    // Passes the greeting; the second client is connected by the kernel (a grandchild holds
    // the listening socket) but nobody greets it: a warning after its 2 s deadline.
    let run = hostile(
        "grandchildren_hold",
        &fixture("python/tcp_server_grandchildren_hold.py"),
        GREET_TWICE,
        &[],
        &[("PIDFILE", &pidfile)],
        secs(2),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
    says(
        &run,
        "server serves a second client",
        "WARN",
        &[
            "step 5 `expect`",
            "nothing arrived within 2s",
            "exited with code 0",
        ],
    );
    // Two runs of the program, each with two grandchildren (one setsid'd): six pids.
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 6, "{pids:?}");
    for pid in pids {
        assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
    }
}

#[test]
fn output_of_a_server_that_exited_is_judged_without_waiting_for_its_helpers() {
    let spec = r#"
scenarios:
  - name: server prints nothing
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
      - expect_exit: {code: 0, within: 20s}
      - expect_stdout: {text: "", within: 20s}
"#;
    let run = hostile(
        "grandchildren_hold_stdout",
        &fixture("python/tcp_server_grandchildren_hold.py"),
        spec,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    // The verdict is right either way; what is wrong is that it takes the full 20 s.
    assert!(
        run.wall < secs(10),
        "took {:.2}s although the program had exited\n{}",
        run.wall.as_secs_f64(),
        run.context()
    );
}
