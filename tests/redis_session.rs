//! `specs/examples/redis-session.yaml` against the real Redis: redis-server agrees with
//! itself and the correct clone agrees with it over many sessions and seeds, and every
//! defect planted in the clone (`fixtures/python/mini_redis.py --defect NAME`) is found
//! within the default budget and shrunk to a session of at most four commands, the same one
//! for the same seed.

mod common;

use common::redis::{REDIS, clone, minimal_session};
use common::{conform, stdout, which};
use rstest::rstest;

const SPEC: &str = "specs/examples/redis-session.yaml";

fn redis_installed() {
    assert!(
        which("redis-server"),
        "redis-server is not installed; scripts/test installs it (Debian package redis-server)"
    );
}

/// Runs the example against `server`, compared with redis-server.
fn run(server: &str, seed: &str, extra: &[&str]) -> (Option<i32>, String) {
    redis_installed();
    let args: Vec<&str> = ["--seed", seed, "--reference", REDIS]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    common::run_spec(SPEC, server, &args)
}

#[rstest]
#[case("1")]
#[case("2")]
#[case("3")]
fn redis_server_agrees_with_itself_over_many_sessions(#[case] seed: &str) {
    let (code, report) = run(REDIS, seed, &["--cases", "100"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(&format!("100 cases, seed {seed})")),
        "{report}"
    );
}

#[rstest]
#[case("1")]
#[case("2")]
fn the_correct_clone_agrees_with_redis_server(#[case] seed: &str) {
    let (code, report) = run(&clone(None), seed, &["--cases", "100"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(&format!("100 cases, seed {seed})")),
        "{report}"
    );
}

#[rstest]
#[case::overwrite_keeps_tail(
    "overwrite-keeps-tail",
    "INCR(key=hex:61) SET(key=hex:61 value=hex:) GET(key=hex:61)"
)]
#[case::del_keeps("del-keeps", "INCR(key=hex:61) DEL(key=hex:61) GET(key=hex:61)")]
#[case::pipeline_drops("pipeline-drops", "SET_GET_IN_ONE_WRITE(key=hex:61 value=hex:)")]
#[case::incr_wraps_32(
    "incr-wraps-32",
    "SET_NUMBER(key=hex:61 number=hex:32313437343833363530) INCR(key=hex:61)"
)]
#[case::append_missing_fails("append-missing-fails", "APPEND(key=hex:61 value=hex:)")]
#[case::bulk_splits_crlf("bulk-splits-crlf", "APPEND(key=hex:61 value=hex:0d0a)")]
fn each_planted_defect_is_found_and_shrunk_to_a_short_session(
    #[case] defect: &str,
    #[case] minimal: &str,
) {
    // The default budget and case count: what a user gets without flags.
    let (code, report) = run(&clone(Some(defect)), "1", &[]);
    assert_eq!(code, Some(1), "{report}");
    let shrunk = common::scenario_block(&report, "sessions of string commands");
    let heading = shrunk
        .lines()
        .find(|l| l.contains("minimal session (after"))
        .unwrap_or_else(|| panic!("not shrunk:\n{report}"));
    let commands: usize = heading
        .rsplit(": ")
        .next()
        .and_then(|n| n.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(commands <= 4, "{heading}");
    assert!(
        shrunk.contains("minimal: no shorter or simpler input fails"),
        "{report}"
    );
    assert_eq!(minimal_session(&report), minimal, "{report}");
    assert!(
        shrunk.contains("the reply differs from the reference's at byte"),
        "{report}"
    );
}

#[test]
fn the_same_seed_gives_the_same_minimal_session() {
    let first = run(&clone(Some("del-keeps")), "7", &[]).1;
    let second = run(&clone(Some("del-keeps")), "7", &[]).1;
    let heading = |r: &str| {
        r.lines()
            .find(|l| l.contains("minimal session (after"))
            .map(str::to_string)
    };
    assert!(heading(&first).is_some(), "{first}");
    assert_eq!(heading(&first), heading(&second));
    assert_eq!(minimal_session(&first), minimal_session(&second));
}

#[test]
fn a_matrix_compares_every_implementation_with_the_one_reference() {
    redis_installed();
    let output = conform()
        .args([
            "matrix",
            SPEC,
            "--seed",
            "1",
            "--cases",
            "40",
            "--reference",
            REDIS,
        ])
        .args(["--server", &format!("good={}", clone(None))])
        .args([
            "--server",
            &format!("wraps={}", clone(Some("incr-wraps-32"))),
        ])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    let table = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{table}");
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>())
    };
    assert_eq!(row("good"), Some(vec!["good", "ok"]), "{table}");
    assert_eq!(row("wraps"), Some(vec!["wraps", "FAIL"]), "{table}");
    assert!(
        table.contains("FAIL wraps: specs/examples/redis-session.yaml :: sessions of string commands answer as the reference does: the reply differs from the reference's at byte 1"),
        "{table}"
    );
}
