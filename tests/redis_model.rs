//! `specs/examples/redis-model.yaml`, a model of Redis's state instead of a reference:
//! redis-server meets the model over many sessions and seeds, and every defect planted in
//! the clone (`fixtures/python/mini_redis.py --defect NAME`) is found by the model alone and
//! shrunk to the same minimal session the reference finds, each command shown with the
//! model's state before it.

mod common;

use common::redis::{REDIS, clone, minimal_session};
use common::which;
use rstest::rstest;

const SPEC: &str = "specs/examples/redis-model.yaml";

/// Runs the example against `server`, with no reference.
fn run(server: &str, seed: &str, extra: &[&str]) -> (Option<i32>, String) {
    let args: Vec<&str> = ["--seed", seed].iter().chain(extra).copied().collect();
    common::run_spec(SPEC, server, &args)
}

#[rstest]
#[case("1")]
#[case("2")]
#[case("3")]
fn redis_server_meets_the_model_over_many_sessions(#[case] seed: &str) {
    assert!(which("redis-server"), "redis-server is not installed");
    let (code, report) = run(REDIS, seed, &["--cases", "100"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(&format!("100 cases, seed {seed})")),
        "{report}"
    );
}

#[rstest]
#[case::overwrite_keeps_tail(
    "overwrite-keeps-tail",
    "INCR(key=hex:61) SET(key=hex:61 value=hex:) GET(key=hex:61)",
    &[r#"expected: "$0\r\n\r\n""#]
)]
#[case::del_keeps(
    "del-keeps",
    "INCR(key=hex:61) DEL(key=hex:61) GET(key=hex:61)",
    &[
        r#"expected: "$-1\r\n""#,
        r#"2. DEL key="a" state=#{"a": "1"}"#,
        r#"3. GET key="a" state=#{}   <- fails here"#
    ]
)]
#[case::pipeline_drops("pipeline-drops", "SET_GET_IN_ONE_WRITE(key=hex:61 value=hex:)", &[])]
#[case::incr_wraps_32(
    "incr-wraps-32",
    "SET_NUMBER(key=hex:61 value=hex:32313437343833363530) INCR(key=hex:61)",
    &[r#"expected: ":2147483651\r\n""#]
)]
#[case::append_missing_fails("append-missing-fails", "APPEND(key=hex:61 value=hex:)", &[])]
#[case::bulk_splits_crlf("bulk-splits-crlf", "APPEND(key=hex:61 value=hex:0d0a)", &[])]
fn each_planted_defect_is_found_by_the_model_and_shrunk(
    #[case] defect: &str,
    #[case] minimal: &str,
    #[case] shown: &[&str],
) {
    let (code, report) = run(&clone(Some(defect)), "1", &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("minimal: no shorter or simpler input fails"),
        "{report}"
    );
    assert_eq!(minimal_session(&report), minimal, "{report}");
    for line in shown {
        assert!(report.contains(line), "{line}\n{report}");
    }
}
