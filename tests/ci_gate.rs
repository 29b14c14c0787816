//! What a CI job uses: shell completions and the man page, `run --list`, `--partition`
//! across jobs, and baselines of known failures.

mod common;

use std::collections::BTreeSet;

use common::{conform, fixture, stderr, stdout};

#[rstest::rstest]
fn completions_mention_run_and_its_options(
    #[values("bash", "zsh", "fish", "elvish", "powershell")] shell: &str,
) {
    let output = conform().args(["completions", shell]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("run"), "{shell}: {text}");
    assert!(
        text.contains("--server") || text.contains("'server'"),
        "{shell}: {text}"
    );
}

#[test]
fn completions_for_an_unknown_shell_exit_2() {
    let output = conform().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_page_is_roff_and_documents_run_options() {
    let output = conform().arg("man").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output).replace("\\-", "-");
    assert!(text.contains(".TH conform 1"), "{text}");
    assert!(text.contains("conform run"), "{text}");
    assert!(text.contains("--server"), "{text}");
    assert!(text.contains("--partition"), "{text}");
}

fn list(args: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "specs/udp.yaml", "--list"])
        .args(args)
        .output()
        .unwrap();
    let lines = stdout(&output).lines().map(str::to_string).collect();
    (output.status.code(), lines, stderr(&output))
}

#[test]
fn list_prints_selected_scenarios_and_runs_nothing() {
    let (code, lines, err) = list(&["--server", "no-such-program {port}"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        lines.contains(
            &"specs/tcp.yaml :: server greets with Hello World  [server tcp must]".into()
        ),
        "{lines:#?}"
    );
    let client = lines
        .iter()
        .find(|l| l.starts_with("specs/tcp.yaml :: client prints the greeting  "))
        .expect("client scenario listed");
    assert!(
        client.ends_with("(skipped: a client scenario, and no --client was given)"),
        "{client}"
    );
}

#[test]
fn list_with_nothing_selected_exits_2() {
    let (code, lines, err) = list(&["--filter", "name:no such scenario"]);
    assert_eq!(code, Some(2));
    assert!(lines.is_empty());
    assert!(err.contains("no scenario selected"), "{err}");
    let (code, _, err) = list(&["--filter", "role:client", "--server", "x {port}"]);
    assert_eq!(code, Some(2), "all skipped: {err}");
}

#[rstest::rstest]
fn partitions_together_list_every_scenario_once(
    #[values("hash", "count")] kind: &str,
    #[values(1, 2, 3, 5)] jobs: usize,
) {
    let (code, all, _) = list(&[]);
    assert_eq!(code, Some(0));
    let mut seen = Vec::new();
    for m in 1..=jobs {
        let (code, lines, err) = list(&["--partition", &format!("{kind}:{m}/{jobs}")]);
        assert_eq!(code, Some(0), "{err}");
        seen.extend(lines);
    }
    assert_eq!(seen.len(), all.len(), "{seen:#?}");
    let seen: BTreeSet<_> = seen.into_iter().collect();
    assert_eq!(seen, all.into_iter().collect::<BTreeSet<_>>());
}

#[rstest::rstest]
#[case("count:0/3")]
#[case("count:4/3")]
#[case("foo:1/2")]
#[case("hash:1/0")]
#[case("hash:x")]
fn invalid_partitions_exit_2_with_a_message(#[case] value: &str) {
    let (code, lines, err) = list(&["--partition", value]);
    assert_eq!(code, Some(2));
    assert!(lines.is_empty());
    assert!(err.contains(&format!("--partition {value}: ")), "{err}");
}

const SCENARIO: &str = "name:server reverses 8 bytes";

/// Runs the UDP reversal scenario against the echo fixture (which fails it) or the reference.
fn run_udp(echo: bool, extra: &[&str]) -> (Option<i32>, String) {
    let mut cmd = conform();
    cmd.args([
        "run",
        "specs/udp.yaml",
        "--filter",
        SCENARIO,
        "--color",
        "never",
    ]);
    if echo {
        cmd.args(["--server", &fixture("python/udp_server_echo.py")]);
    }
    let output = cmd.args(extra).output().unwrap();
    (output.status.code(), stderr(&output))
}

fn write_baseline(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("baseline.json");
    let (code, err) = run_udp(true, &["--write-baseline", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "the echo server fails the reversal: {err}");
    path
}

#[test]
fn a_known_failure_in_the_baseline_does_not_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_baseline(&dir);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["schema"], "conform-baseline/1");
    assert_eq!(
        json["scenarios"],
        serde_json::json!([{"file": "specs/udp.yaml", "name": "server reverses 8 bytes", "verdict": "fail"}])
    );
    let (code, err) = run_udp(true, &["--baseline", path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("known failures, not failing the run (1)"),
        "{err}"
    );
}

#[test]
fn a_new_failure_fails_the_run_despite_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.json");
    std::fs::write(
        &path,
        r#"{"schema":"conform-baseline/1","scenarios":[{"file":"specs/udp.yaml","name":"server reverses 8 bytes","verdict":"pass"}]}"#,
    )
    .unwrap();
    let (code, err) = run_udp(true, &["--baseline", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("new failures (1)"), "{err}");
    assert!(
        err.contains("specs/udp.yaml :: server reverses 8 bytes"),
        "{err}"
    );
}

#[test]
fn a_fixed_failure_is_reported_as_now_passing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_baseline(&dir);
    let (code, err) = run_udp(false, &["--baseline", path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("now passing: tighten the baseline with --write-baseline (1)"),
        "{err}"
    );
}

#[rstest::rstest]
#[case::missing("", "cannot read it")]
#[case::garbled("{\"schema\": ", "not a conform baseline")]
#[case::foreign(
    "{\"schema\":\"x/9\",\"scenarios\":[]}",
    "unknown baseline format `x/9`"
)]
fn a_bad_baseline_file_exits_2_naming_it(#[case] content: &str, #[case] says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.json");
    if !content.is_empty() {
        std::fs::write(&path, content).unwrap();
    }
    let (code, err) = run_udp(false, &["--baseline", path.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("--baseline {}: ", path.display())),
        "{err}"
    );
    assert!(err.contains(says), "{err}");
}
