//! The README, CONTRIBUTING.md and the manual (`docs/*.md`) kept true: their command examples
//! are run as written, the specs they show must load, and their links must lead somewhere.
//!
//! In: every ```` ```console ```` block of those files. A block holds `$ conform ...` lines,
//! each followed by an optional `? CODE` line (the exit status; 0 when absent) and the output
//! a reader sees, stdout and stderr together as on a terminal, where `[..]` stands for any text
//! within a line (times, ports, random seeds) and a line `...` for any number of lines. Blocks
//! in other languages (`sh`, `text`, `yaml`) are not run: they show commands that need
//! programs of the reader's own. Out: a failure naming the document, the line and the
//! difference, for every example whose exit status or output is not what the document says.
//!
//! The syntax is trycmd's, but trycmd turns every backslash of the output into a slash (for
//! Windows paths), and conform's output is full of escapes (`"\x01"`), so the examples run
//! here, with snapbox doing the matching. No shell runs them; the documents show what a reader
//! types into one, so unquoted words such as `specs/*.yaml` are expanded here as a shell
//! would. The commands run from the repository root.
//!
//! `SNAPSHOTS=overwrite cargo test --test docs` writes the output conform gives now into the
//! documents instead of failing, keeping the `[..]` and `...` that still match.

mod docs {
    pub mod console;
    pub mod markdown;
}

use std::path::{Path, PathBuf};

use docs::console::{Example, check, check_document, examples, invocation, words};
use docs::markdown::{anchor, anchors, links, spec_blocks};

/// The documents whose examples are run and whose links are checked. docs/events.md, the JSON
/// reference, has no commands; it is linked to, not checked here.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    let mut manual: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .filter(|path| !path.ends_with("events.md"))
        .collect();
    manual.sort();
    docs.extend(manual);
    docs
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn command_examples_in_the_documents_are_true() {
    let overwrite = std::env::var_os("SNAPSHOTS").is_some_and(|mode| mode == "overwrite");
    let docs = documents(root());
    let problems: Vec<String> = std::thread::scope(|scope| {
        let checks: Vec<_> = docs
            .iter()
            .map(|doc| scope.spawn(move || check_document(doc, overwrite)))
            .collect();
        checks
            .into_iter()
            .flat_map(|check| check.join().expect("a document's check ran"))
            .collect()
    });
    let ran: usize = docs
        .iter()
        .map(|doc| {
            examples(&std::fs::read_to_string(doc).unwrap_or_default()).map_or(0, |e| e.len())
        })
        .sum();
    assert!(
        problems.is_empty() || overwrite,
        "{} of {ran} command examples do not hold:\n\n{}\n\n\
         `SNAPSHOTS=overwrite cargo test --test docs` writes the output conform gives now into the documents",
        problems.len(),
        problems.join("\n\n")
    );
    assert!(
        ran >= 10,
        "only {ran} command examples were found in the documents"
    );
}

#[test]
fn links_in_the_documents_lead_to_files_and_headings_of_the_repository() {
    let repository = root().canonicalize().expect("the repository root");
    let mut broken = Vec::new();
    for doc in documents(root()) {
        let text = std::fs::read_to_string(&doc).expect("the document is readable");
        let name = doc
            .strip_prefix(root())
            .expect("inside")
            .display()
            .to_string();
        for link in links(&text) {
            let (file, heading) = link.split_once('#').unwrap_or((&link, ""));
            let target = doc.parent().expect("a directory").join(file);
            match target.canonicalize() {
                Ok(path) if !path.starts_with(&repository) => {
                    broken.push(format!("{name}: {link} is outside the repository"))
                }
                Ok(path) if !heading.is_empty() => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    if !anchors(&text).iter().any(|a| a == heading) {
                        broken.push(format!("{name}: {link}: no such heading"));
                    }
                }
                Ok(_) => {}
                Err(_) => broken.push(format!("{name}: {link}: no such file")),
            }
        }
        // Built from parts, so this guard is not itself a path out of the repository.
        let outside = ["..", "shared"].join("/");
        if text.contains(&outside) {
            broken.push(format!(
                "{name}: refers to {outside}, outside the repository"
            ));
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; the manual in docs/ takes the rest"
    );
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a sh block");
    assert!(
        first_block.contains("cargo run --release -- run specs/*.yaml")
            && first_block.contains("scripts/test"),
        "the README starts with the two commands a newcomer needs:\n{first_block}"
    );
}

#[test]
fn console_blocks_are_read_like_trycmd_reads_them() {
    let doc = "text\n```console\n$ conform check a.yaml\n? 2\nerror\n\n$ conform x 'a b'\nok\n```\n\
               ```sh\n$ not run\n```\n```console\n$ conform y\n```\n";
    let found = examples(doc).expect("examples");
    assert_eq!(
        found,
        vec![
            Example {
                line: 3,
                command: "conform check a.yaml".into(),
                status: 2,
                expected: vec!["error".into()],
                span: 2..5,
            },
            Example {
                line: 7,
                command: "conform x 'a b'".into(),
                status: 0,
                expected: vec!["ok".into()],
                span: 6..8,
            },
            Example {
                line: 14,
                command: "conform y".into(),
                status: 0,
                expected: vec![],
                span: 13..14
            },
        ]
    );
    assert!(examples("```console\nnot a command\n```\n").is_err());
}

#[test]
fn commands_split_and_expand_like_a_shell() {
    assert_eq!(
        words(r#"conform run --server 'python3 x.py {port}' "a \"b\"" c\ d"#).expect("words"),
        vec![
            ("conform".into(), false),
            ("run".into(), false),
            ("--server".into(), false),
            ("python3 x.py {port}".into(), true),
            ("a \"b\"".into(), true),
            ("c d".into(), true),
        ]
    );
    assert!(words("conform 'open").is_err());
    let (program, args, env) =
        invocation("COLUMNS=60 conform check specs/*.yaml 'specs/*.yaml' specs/none*.yaml")
            .expect("an invocation");
    assert_eq!(program, "conform");
    assert_eq!(env, vec![("COLUMNS".to_string(), "60".to_string())]);
    assert_eq!(
        args,
        [
            "check",
            "specs/tcp.yaml",
            "specs/udp-sizes.yaml",
            "specs/udp.yaml",
            "specs/*.yaml",
            "specs/none*.yaml"
        ]
    );
}

#[test]
fn an_example_that_no_longer_holds_fails_with_the_difference() {
    let right = "```console\n$ conform check specs/udp-sizes.yaml\nok: [..] (1 scenario(s))\n```\n";
    let example = &examples(right).expect("examples")[0];
    assert_eq!(check(example).0, None);
    let wrong = "```console\n$ conform check specs/udp-sizes.yaml\nok: specs/udp.yaml [..]\n```\n";
    let example = &examples(wrong).expect("examples")[0];
    let (problem, fixed) = check(example);
    let problem = problem.expect("a problem");
    assert!(problem.contains("the output differs"), "{problem}");
    assert_eq!(
        fixed,
        [
            "$ conform check specs/udp-sizes.yaml",
            "ok: specs/udp-sizes.yaml (1 scenario(s))"
        ]
    );
    let status = "```console\n$ conform check specs/nothing.yaml\n...\n```\n";
    let (problem, fixed) = check(&examples(status).expect("examples")[0]);
    assert_eq!(
        problem.as_deref(),
        Some("exit status 2, the document says 0")
    );
    assert_eq!(fixed[..2], ["$ conform check specs/nothing.yaml", "? 2"]);
    let links = links("[a](docs/x.md#y) [b](https://e.org) ![c](docs/p.png) [d](#here)\n");
    assert_eq!(links, ["docs/x.md#y", "docs/p.png"]);
    assert_eq!(anchor("The wire log: `--trace`"), "the-wire-log---trace");
}

#[test]
fn specs_shown_in_the_documents_are_valid() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut checked = 0;
    let mut invalid = Vec::new();
    for doc in documents(root()) {
        let text = std::fs::read_to_string(&doc).expect("the document is readable");
        let name = doc
            .strip_prefix(root())
            .expect("inside")
            .display()
            .to_string();
        for (line, spec) in spec_blocks(&text) {
            let path = dir.path().join(format!("{}-{line}.yaml", checked));
            std::fs::write(&path, spec).expect("the spec is written");
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
                .arg("check")
                .arg(&path)
                .output()
                .expect("conform runs");
            if !output.status.success() {
                invalid.push(format!(
                    "{name}:{line}: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            checked += 1;
        }
    }
    assert!(
        invalid.is_empty(),
        "specs that do not load:\n{}",
        invalid.join("\n")
    );
    assert!(
        checked >= 5,
        "only {checked} specs were found in the documents"
    );
}
