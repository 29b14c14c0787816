//! Load: several conform processes at once, each picking its own ports, against the
//! reference and against the guide's one-shot Lisp servers. Every run must pass, within a
//! generous bound.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::hostile::{secs, signal};
use common::{lisp, root};

/// Starts every command at once and collects their outputs, each within `limit`.
fn all_at_once(runs: Vec<Vec<String>>, limit: Duration) -> Vec<Output> {
    let children: Vec<(u32, mpsc::Receiver<std::io::Result<Output>>)> = runs
        .iter()
        .map(|args| {
            let child: Child = Command::new(env!("CARGO_BIN_EXE_conform"))
                .current_dir(root())
                .args(args)
                .env_remove("NO_COLOR")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("conform starts");
            let pid = child.id();
            let (tx, rx) = mpsc::channel();
            thread::spawn(move || {
                let _ = tx.send(child.wait_with_output());
            });
            (pid, rx)
        })
        .collect();
    let deadline = Instant::now() + limit;
    let mut outputs = Vec::new();
    let mut hung = Vec::new();
    for (pid, rx) in &children {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(output) => outputs.push(output.expect("conform ran")),
            Err(_) => hung.push(*pid),
        }
    }
    for &pid in &hung {
        // SIGINT lets conform stop its own programs on the way out.
        signal(pid, libc::SIGINT);
    }
    assert!(
        hung.is_empty(),
        "conform runs {hung:?} still going after {limit:?}"
    );
    outputs
}

fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn eight_conform_runs_at_once_against_the_reference_all_pass() {
    let runs = (0..8)
        .map(|_| words(&["run", "specs/tcp.yaml", "specs/udp.yaml"]))
        .collect();
    for output in all_at_once(runs, secs(120)) {
        let report = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert!(report.contains(" 0 failed, 0 skipped"), "{report}");
        assert!(!report.contains("WARN"), "{report}");
    }
}

#[test]
fn four_conform_runs_at_once_against_the_lisp_servers_all_pass() {
    let tcp = lisp("tcp", "server");
    let udp = lisp("udp", "server");
    // Each generated scenario starts SBCL once per case: a few cases keep this affordable.
    let runs = [("tcp", &tcp), ("udp", &udp), ("tcp", &tcp), ("udp", &udp)]
        .iter()
        .map(|(proto, server)| {
            let spec = format!("specs/{proto}.yaml");
            words(&["run", &spec, "--server", server, "--cases", "5"])
        })
        .collect();
    for output in all_at_once(runs, secs(240)) {
        let report = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert!(report.contains(" 0 failed,"), "{report}");
        assert!(!report.contains("FAIL"), "{report}");
    }
}
