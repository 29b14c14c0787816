//! The human report as a person reads it, held in snapshots (`tests/snapshots/`): a change to
//! its wording or layout shows up as a diff to review (`cargo insta review`, or compare the
//! `.snap.new` file). Times, ports, paths and the ending of one-shot servers are replaced by
//! placeholders; everything else is the exact text.

mod common;

use common::{conform, fixture, stdout};

/// Runs conform with `args` and returns its report with what changes from run to run
/// replaced.
fn report(args: &[&str]) -> String {
    let output = conform().args(args).output().unwrap();
    let mut text = stdout(&output);
    text.push_str(&format!("[exit {}]\n", output.status.code().unwrap_or(-1)));
    text
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (r"\(\d+(\.\d+)? ?(ms|s|µs)\)", "([TIME])"),
        (r"\(\d+(\.\d+)? ?(ms|s|µs), ", "([TIME], "),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r" (\d{4,5})(\b|$)", " [PORT]"),
        (r"(/[^ `']*)?target/[a-z]+/examples", "[EXAMPLES]"),
        // A one-shot server may end by itself or be stopped in the same moment: how it ended
        // is asserted exactly in tests/ending.rs, not here.
        (
            r"(exited with code 0|was still running; conform stopped it with SIGTERM)\n",
            "[ENDED]\n",
        ),
        (r"/[^ `']*/fixtures/", "fixtures/"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

#[test]
fn a_passing_run_against_the_reference() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "reference_tcp",
            report(&[
                "run",
                "specs/tcp.yaml",
                "--filter",
                "level:must",
                "--seed",
                "1"
            ])
        );
    });
}

#[test]
fn a_wrong_byte_with_its_diff_and_how_the_program_ended() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "tcp_wrong_byte",
            report(&[
                "run",
                "specs/tcp.yaml",
                "--filter",
                "name:server greets with Hello World",
                "--server",
                &fixture("python/tcp_server_wrong_bytes.py"),
            ])
        );
    });
}

#[test]
fn a_generated_failure_with_its_minimal_input_and_replay_line() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "udp_shrunk",
            report(&[
                "run",
                "specs/udp-sizes.yaml",
                "--seed",
                "1",
                "--server",
                &fixture("rust/udp_server_drop_last_byte"),
            ])
        );
    });
}
