//! What a newcomer meets first: the shipped specs by name from any directory, `conform specs`
//! and `--export`, `conform init`, an unquoted `--server` command, and numbers written as
//! decimal text in a first spec of their own.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{conform, root, stderr, stdout};

/// Every file below `dir`, by its `/`-separated path below `dir`, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path.strip_prefix(base).unwrap();
                let name: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(name.join("/"), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The shipped spec names: every YAML file under specs/, without `.yaml`.
fn shipped_names() -> Vec<String> {
    tree(&root().join("specs"))
        .into_keys()
        .filter_map(|p| p.strip_suffix(".yaml").map(str::to_string))
        .collect()
}

#[test]
fn every_file_under_specs_is_inside_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exported");
    let output = conform()
        .args(["specs", "--export"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shipped = tree(&root().join("specs"));
    let exported = tree(&out);
    let missing: Vec<&String> = shipped
        .keys()
        .filter(|k| !exported.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "not embedded in the binary: {missing:?}"
    );
    assert_eq!(
        exported.keys().collect::<Vec<_>>(),
        shipped.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &shipped {
        assert!(
            exported[path] == *bytes,
            "{path} differs from the embedded copy"
        );
    }
    let report = stdout(&output);
    assert!(
        report.contains(&format!("wrote {}\n", out.join("rfc/time.yaml").display())),
        "{report}"
    );
}

#[test]
fn export_never_overwrites_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("udp.yaml"), "mine\n").unwrap();
    let output = conform()
        .args(["specs", "--export"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "conform: error: --export {dir}: not overwriting 1 existing file(s): {dir}/udp.yaml; \
             remove them or export into another directory\n",
            dir = dir.path().display()
        )
    );
    assert_eq!(stdout(&output), "");
    // Nothing was written, not even the files that did not exist.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("udp.yaml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn specs_lists_every_shipped_spec_with_its_scenarios_and_description() {
    let output = conform().arg("specs").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let names = shipped_names();
    let width = names.iter().map(String::len).max().unwrap();
    assert!(
        text.starts_with(&format!("{:<width$}  SCENARIOS  DESCRIPTION\n", "NAME")),
        "{text}"
    );
    for name in &names {
        let spec = conform::spec::load_file(&root().join(format!("specs/{name}.yaml"))).unwrap();
        let line = format!(
            "{name:<width$}  {:>9}  {}\n",
            spec.file.scenarios.len(),
            spec.file.description.unwrap_or_default()
        );
        assert!(text.contains(&line), "no line {line:?} in:\n{text}");
    }
    assert!(text.contains("Run one with `conform run NAME`"), "{text}");
}

/// An empty directory to run conform in, away from the repository's `specs/`.
fn elsewhere() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn shipped_specs_run_by_name_from_any_directory() {
    let dir = elsewhere();
    let output = conform()
        .current_dir(dir.path())
        .args(["run", "udp", "--verbose"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));
    assert!(
        report.contains("PASS  udp :: server reverses 8 bytes  ("),
        "{report}"
    );
    let notes = stderr(&output);
    assert!(
        notes.contains(
            "conform: udp: the spec `udp` shipped with conform (no file of that name here)\n"
        ),
        "{notes}"
    );
}

#[test]
fn check_accepts_names_and_the_paths_of_a_clone() {
    let dir = elsewhere();
    let output = conform()
        .current_dir(dir.path())
        .args(["check", "tcp", "rfc/time", "specs/udp.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "ok: tcp (shipped, 9 scenario(s))\nok: rfc/time (shipped, 2 scenario(s))\n\
         ok: udp (shipped, 10 scenario(s))\n"
    );
}

#[test]
fn a_file_that_exists_wins_over_a_shipped_name() {
    let dir = elsewhere();
    std::fs::write(
        dir.path().join("udp"),
        "scenarios:\n  - name: mine\n    role: server\n    transport: udp\n    steps: [connect]\n",
    )
    .unwrap();
    let output = conform()
        .current_dir(dir.path())
        .args(["check", "udp", "--verbose"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "ok: udp (1 scenario(s))\n");
    assert_eq!(
        stderr(&output),
        "conform: udp: reading the file (a shipped spec is named `udp` too; a file that \
         exists wins)\n"
    );
}

#[test]
fn an_unknown_name_lists_the_shipped_ones() {
    let dir = elsewhere();
    let output = conform()
        .current_dir(dir.path())
        .args(["run", "udpp"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let names: Vec<String> = {
        // The guide's specs first, then the others, as `conform specs` orders them.
        let mut names = shipped_names();
        names.sort_by_key(|n| (n.contains('/'), n.clone()));
        names
    };
    assert_eq!(
        stderr(&output),
        format!(
            "conform: error: udpp: cannot read spec: no such file; no shipped spec has that \
             name either (did you mean `udp`?). Shipped specs: {} (`conform specs` describes \
             them)\n",
            names.join(", ")
        )
    );
}

#[test]
fn reports_and_replay_lines_name_a_shipped_spec_by_its_name() {
    let dir = elsewhere();
    let server = root().join("fixtures/python/udp_server_forever_8_byte_buffer.py");
    let output = conform()
        .current_dir(dir.path())
        .args([
            "run",
            "udp-sizes",
            "--cases",
            "30",
            "--seed",
            "7",
            "--server",
        ])
        .arg(format!("python3 {} {{port}}", server.display()))
        .args(["--lifecycle", "scenario"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    assert!(
        report.contains("FAIL  udp-sizes :: server reverses datagrams of any size  ("),
        "{report}"
    );
    let replay = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("no replay line in:\n{report}"));
    assert!(
        replay.starts_with("conform run udp-sizes --server "),
        "{replay}"
    );
}

#[test]
fn unquoted_server_command_words_are_not_taken_for_specs() {
    let output = conform()
        .args([
            "run",
            "specs/udp.yaml",
            "--server",
            "python3",
            "fixtures/python/udp_server_echo.py",
            "{port}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "conform: error: `fixtures/python/udp_server_echo.py {port}` are not spec files: they \
         look like the rest of the --server command, which the shell split into words because \
         it was not quoted, so --server got only `python3`. Quote the whole command: --server \
         'python3 fixtures/python/udp_server_echo.py {port}'\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn one_unquoted_word_after_client_is_named_alone() {
    let output = conform()
        .args(["run", "specs/tcp.yaml", "--client", "python3"])
        .arg(PathBuf::from("fixtures/python/tcp_client_correct.py"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "conform: error: `fixtures/python/tcp_client_correct.py` is not a spec file: it \
             looks like the rest of the --client command"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("--client 'python3 fixtures/python/tcp_client_correct.py'\n"),
        "{err}"
    );
    assert!(!err.contains("expected a map"), "{err}");
}

/// The starter's commented example scenario with its `# ` removed: what a user gets by
/// uncommenting it.
fn uncommented(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        inside |= line.starts_with("  # - name:");
        let line = match line.strip_prefix("  #") {
            Some(rest) if inside => match rest.strip_prefix(' ') {
                Some(rest) => format!("  {rest}"),
                None => rest.to_string(),
            },
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn init_writes_starters_that_check_and_pass_against_the_reference() {
    let dir = elsewhere();
    for (role, transport, upper) in [
        ("server", "tcp", "TCP"),
        ("server", "udp", "UDP"),
        ("client", "tcp", "TCP"),
        ("client", "udp", "UDP"),
    ] {
        let file = format!("my-{transport}-{role}.yaml");
        let init = conform()
            .current_dir(dir.path())
            .args(["init", &file, "--role", role, "--transport", transport])
            .output()
            .unwrap();
        assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
        assert_eq!(
            stdout(&init),
            format!(
                "wrote {file}: a spec for a {upper} {role}. Next:\n  conform check {file}\n  \
                 conform run {file}                  # against conform's own {role}\n  \
                 conform run {file} --{role} './my-{role} {{port}}'\n"
            )
        );
        let check = conform()
            .current_dir(dir.path())
            .args(["check", &file])
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
        assert_eq!(stdout(&check), format!("ok: {file} (1 scenario(s))\n"));
        let run = conform()
            .current_dir(dir.path())
            .args(["run", &file])
            .output()
            .unwrap();
        let report = stdout(&run);
        assert_eq!(run.status.code(), Some(0), "{file}:\n{report}");
        assert!(report.contains("1 passed, 0 failed, 0 skipped"), "{report}");
        // The request/reply example to uncomment is a valid scenario too.
        let text = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert!(
            text.contains("  # - name: "),
            "{file} has no example:\n{text}"
        );
        let both = dir.path().join(format!("both-{file}"));
        std::fs::write(&both, uncommented(&text)).unwrap();
        let check = conform().arg("check").arg(&both).output().unwrap();
        assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
        assert!(
            stdout(&check).ends_with("(2 scenario(s))\n"),
            "{}",
            stdout(&check)
        );
    }
}

#[test]
fn init_defaults_to_a_tcp_server_and_never_overwrites() {
    let dir = elsewhere();
    let path = dir.path().join("spec.yaml");
    let first = conform().arg("init").arg(&path).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("# A conform spec for a TCP server:"),
        "{written}"
    );
    std::fs::write(&path, "mine\n").unwrap();
    let again = conform()
        .arg("init")
        .arg(&path)
        .args(["--role", "client"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        stderr(&again),
        format!(
            "conform: error: {} exists already: not overwriting it; give another name\n",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
}

/// A spec for a TCP line server that answers with the line it got, with a generated number
/// written as decimal text; `reply` is the step that checks the answer.
fn decimal_echo_spec(reply: &str) -> String {
    format!(
        "scenarios:\n  - name: echoes a decimal id\n    role: server\n    transport: tcp\n    \
         lifecycle: scenario\n    cases: 20\n    generate:\n      id: {{number: {{min: 1, max: \
         1000000}}}}\n    steps:\n      - connect\n      - send: {{concat: [\"id=\", {{decimal: \
         id}}, \"\\n\"]}}\n      - {reply}\n      - close\n"
    )
}

#[test]
fn generated_decimal_numbers_reach_line_and_line_regex() {
    let dir = elsewhere();
    let server = format!(
        "python3 {} {{port}}",
        root()
            .join("fixtures/python/echo_server_truncates.py")
            .display()
    );
    for (reply, code) in [
        ("expect: {line: {concat: [\"id=\", {var: id}]}}", 0),
        (
            "expect: {line_regex: {concat: [\"i.=\", {decimal: id}]}}",
            0,
        ),
        // The same with one character more: the assertion has teeth.
        ("expect: {line: {concat: [\"id=\", {var: id}, \"0\"]}}", 1),
    ] {
        let path = dir.path().join("decimal.yaml");
        std::fs::write(&path, decimal_echo_spec(reply)).unwrap();
        let output = conform()
            .arg("run")
            .arg(&path)
            .args(["--seed", "3", "--server", &server])
            .output()
            .unwrap();
        let report = stdout(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{reply}:\n{report}{}",
            stderr(&output)
        );
        if code == 0 {
            assert!(report.contains(", 20 cases, seed 3)"), "{report}");
        } else {
            assert!(report.contains("the line differs at byte "), "{report}");
        }
    }
}
