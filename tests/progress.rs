//! The progress line of long generated runs: drawn on a terminal, absent otherwise.
//! A terminal is provided by util-linux `script`, which runs conform on a pseudo-terminal.

mod common;

use std::process::Command;

use common::{conform, root, stderr, stdout};

const RUN: &str = "run specs/udp-sizes.yaml --cases 3000 --seed 7 --color never";

#[test]
fn a_long_generated_run_shows_progress_on_a_terminal() {
    assert!(
        common::which("script"),
        "util-linux `script` is needed to give conform a terminal"
    );
    let command = format!("{} {RUN}", env!("CARGO_BIN_EXE_conform"));
    let output = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .current_dir(root())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(
        screen.contains(" cases/s"),
        "no progress line in:\n{screen}"
    );
    assert!(
        screen.contains("server reverses datagrams of any size: "),
        "{screen}"
    );
    // The line is cleared before the verdict is printed.
    assert!(screen.contains("\r\x1b[2K"), "{screen}");
    assert!(screen.contains("1 passed, 0 failed"), "{screen}");
}

#[test]
fn no_progress_when_stdout_is_not_a_terminal() {
    let output = conform().args(RUN.split(' ')).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(!stdout(&output).contains("cases/s"));
    assert!(!stderr(&output).contains("cases/s"));
    assert!(!stderr(&output).contains('\x1b'));
}

/// Runs conform on a pseudo-terminal with extra environment; returns what the screen showed.
fn on_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_conform"));
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &command, "/dev/null"])
        .current_dir(root());
    cmd.env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
}

#[test]
fn verdicts_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let coloured = on_terminal("run specs/tcp.yaml --filter tag:greeting", &[]);
    assert!(coloured.contains("\x1b[32mPASS"), "{coloured}");
    let plain = on_terminal(
        "run specs/tcp.yaml --filter tag:greeting",
        &[("NO_COLOR", "1")],
    );
    assert!(plain.contains("PASS"), "{plain}");
    assert!(!plain.contains("\x1b[32m"), "{plain}");
}

#[test]
fn color_always_and_never_override_the_terminal_check() {
    let forced = conform()
        .args([
            "run",
            "specs/tcp.yaml",
            "--filter",
            "tag:greeting",
            "--color",
            "always",
        ])
        .output()
        .unwrap();
    assert!(
        stdout(&forced).contains("\x1b[32mPASS"),
        "{}",
        stdout(&forced)
    );
    let never = on_terminal(
        "run specs/tcp.yaml --filter tag:greeting --color never",
        &[],
    );
    assert!(
        never.contains("PASS") && !never.contains("\x1b[32m"),
        "{never}"
    );
}
