//! Hostile programs at start-up: a server that never listens, one that listens only after
//! 3 s, one that listens on the wrong port, and one that exits at once. conform must give its
//! verdict at the ready timeout, or sooner when the program has already shown its hand (it
//! exited, or it listens elsewhere), and stop what still runs.
//!
//! Every run is watched from outside (tests/common/hostile.rs): its wall time against a
//! generous bound, its peak memory, and every process below it, none of which may outlive it.

mod common;

use common::fixture;
use common::hostile::{GREET, hostile, rust_fixture, says, secs};

#[test]
fn server_that_never_listens_fails_at_its_ready_timeout() {
    let run = hostile(
        "never_binds",
        &rust_fixture("tcp_server_never_binds"),
        GREET,
        &["--ready-timeout", "2s"],
        &[],
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
            "opened no listening socket",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn server_that_listens_after_3s_passes_with_the_default_ready_timeout() {
    let run = hostile(
        "binds_late",
        &fixture("python/tcp_server_binds_late.py"),
        GREET,
        &[],
        &[],
        secs(3),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn server_that_listens_after_3s_fails_a_1s_ready_timeout_as_not_listening() {
    let run = hostile(
        "binds_late_ready_1s",
        &fixture("python/tcp_server_binds_late.py"),
        GREET,
        &["--ready-timeout", "1s"],
        &[],
        secs(1),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program was not listening on TCP 127.0.0.1:",
            "after 1000ms",
            "opened no listening socket",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn server_on_the_wrong_port_fails_as_soon_as_it_listens_naming_that_port() {
    // A ready timeout far beyond the run's limit: only the early "listens elsewhere" path can
    // produce this verdict within it.
    let run = hostile(
        "wrong_port",
        &fixture("shell/tcp_server_wrong_port.sh"),
        GREET,
        &["--ready-timeout", "10m"],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program is listening on TCP 127.0.0.1:",
            "instead of TCP 127.0.0.1:",
            "or run with --port ",
        ],
    );
}

#[test]
fn server_that_exits_at_once_fails_without_waiting_for_any_deadline() {
    let run = hostile(
        "exits_at_once",
        &fixture("shell/tcp_server_exit3.sh"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program exited with code 3 before listening on TCP 127.0.0.1:",
            "simulated startup failure",
        ],
    );
}
