//! `conform matrix --partition`: N CI jobs that together run every scenario against every
//! implementation once, each job the same scenarios for all implementations.

mod common;

use std::collections::BTreeSet;

use common::{conform, stderr};

const SERVERS: [&str; 2] = [
    "good=python3 fixtures/python/tcp_server_correct.py {port}",
    "bad=python3 fixtures/python/tcp_server_wrong_bytes.py {port}",
];

/// The (implementation, scenario) pairs a matrix run over the TCP server scenarios finished,
/// from its JSON events, and its exit code.
fn matrix(extra: &[&str]) -> (Option<i32>, BTreeSet<(String, String)>) {
    let mut cmd = conform();
    cmd.args(["matrix", "specs/tcp.yaml", "--filter", "role:server"]);
    for server in SERVERS {
        cmd.args(["--server", server]);
    }
    let output = cmd.args(["--format", "json"]).args(extra).output().unwrap();
    let mut pairs = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["event"] == "scenario_finished" {
            let id = &event["id"];
            pairs.insert((
                id["implementation"].as_str().unwrap().to_string(),
                id["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    (output.status.code(), pairs)
}

#[test]
fn shares_together_run_everything_once_and_the_same_scenarios_for_all() {
    let (code, all) = matrix(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(all.len(), 8, "{all:?}");
    for kind in ["count", "hash"] {
        let mut union = BTreeSet::new();
        for m in 1..=3 {
            let (_, share) = matrix(&["--partition", &format!("{kind}:{m}/3")]);
            assert!(union.is_disjoint(&share), "{kind}:{m}/3 repeats: {share:?}");
            let names = |implementation: &str| -> BTreeSet<&String> {
                share
                    .iter()
                    .filter(|(i, _)| i == implementation)
                    .map(|(_, n)| n)
                    .collect()
            };
            assert_eq!(names("good"), names("bad"), "{kind}:{m}/3");
            union.extend(share);
        }
        assert_eq!(union, all, "{kind}");
    }
}

#[test]
fn an_empty_share_passes_and_says_so() {
    let mut cmd = conform();
    cmd.args([
        "matrix",
        "specs/tcp.yaml",
        "--filter",
        "name:server greets with Hello World",
    ]);
    let output = cmd
        .args(["--server", SERVERS[1], "--partition", "count:2/2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stderr(&output),
        "conform: --partition count:2/2: this share has none of the 1 selected scenario(s)\n"
    );
}

#[test]
fn a_bad_partition_exits_2() {
    let (code, pairs) = matrix(&["--partition", "count:3/2"]);
    assert_eq!(code, Some(2));
    assert!(pairs.is_empty());
}
