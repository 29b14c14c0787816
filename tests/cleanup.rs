//! Nothing conform starts outlives it: not a program that ignores SIGTERM and forks, not
//! when the run fails, and not when conform itself is interrupted with Ctrl-C.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{conform, fixture, stdout};

/// Whether `pid` is a running (not zombie) process.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Reads the pids the fixture wrote, waiting (bounded) until the file exists.
fn pids(path: &Path, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            let pids: Vec<u32> = text
                .lines()
                .filter_map(|l| l.strip_prefix("pid=")?.parse().ok())
                .collect();
            if pids.len() == 2 {
                return pids;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the fixture never wrote its pids"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn program_that_ignores_sigterm_and_forks_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let output = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--ready-timeout",
            "2s",
            "--grace",
            "200ms",
        ])
        .args(["--server", &fixture("shell/ignore_term_forks.sh")])
        .env("PIDFILE", &pidfile)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "did not exit within the grace of 200 ms after SIGTERM; conform killed it with SIGKILL"
        ),
        "{report}"
    );
    for pid in pids(&pidfile, Duration::from_secs(1)) {
        assert!(!running(pid), "process {pid} outlived conform");
    }
}

#[test]
fn ctrl_c_mid_run_stops_every_program_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(common::root())
        .args(["run", "specs/tcp.yaml", "--ready-timeout", "60s"])
        .args(["--server", &fixture("shell/ignore_term_forks.sh")])
        .env("PIDFILE", &pidfile)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pids = pids(&pidfile, Duration::from_secs(30));
    assert!(
        pids.iter().all(|p| running(*p)),
        "the fixture should be running"
    );
    // SAFETY: kill(2) with a pid we spawned and SIGINT has no memory effects.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("conform did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    for pid in pids {
        assert!(!running(pid), "process {pid} outlived conform after Ctrl-C");
    }
}

#[test]
fn flooding_stdout_does_not_stop_a_correct_server_from_passing() {
    let output = conform()
        .args(["run", "specs/tcp.yaml"])
        .args(["--server", &fixture("python/flood_stdout.py")])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
}
