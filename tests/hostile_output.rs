//! Hostile programs that flood their output: 50 MiB on stdout or stderr before they listen.
//! conform must drain both pipes while it waits for readiness, keep only a bounded part
//! (memory stays bounded), pass the greeting, and show only the last stderr lines in a report.
//!
//! Every run is watched from outside (tests/common/hostile.rs): its wall time against a
//! generous bound, its peak memory, and every process below it, none of which may outlive it.

mod common;

use common::hostile::{GREET, GREET_TWICE, hostile, says, secs};
use common::{fixture, scenario_block};

#[test]
fn flooding_stdout_with_50_mib_keeps_conform_memory_bounded_and_passes() {
    let run = hostile(
        "flood_stdout",
        &fixture("python/flood_stdout.py"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn flooding_stderr_with_50_mib_keeps_conform_memory_bounded_and_passes() {
    let run = hostile(
        "flood_stderr",
        &fixture("python/flood_stderr.py"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn flooded_stderr_in_a_failure_report_is_cut_to_its_last_lines() {
    // The fixture serves one client, so the second-client scenario warns and its report
    // shows the program's stderr: the last lines of 50 MiB, not all of it.
    let run = hostile(
        "flood_stderr_report",
        &fixture("python/flood_stderr.py"),
        GREET_TWICE,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    let block = scenario_block(&run.stdout, "server serves a second client");
    assert!(block.contains("last stderr lines:"), "{block}");
    // 8 lines of about 1 KiB each, not 50 MiB.
    assert!(run.stdout.len() < 64 * 1024, "{} bytes", run.stdout.len());
}
