//! Console blocks of markdown documents: reading them, running their commands, and judging
//! the output (see the top of tests/docs.rs for the syntax).

use std::path::Path;

use snapbox::{Assert, Data};

use crate::root;

/// One `$` line of a console block with what the document says it gives.
#[derive(Debug, PartialEq)]
pub struct Example {
    /// The line of the `$` (1-based).
    pub line: usize,
    /// The command as written, without the `$ `.
    pub command: String,
    pub status: i32,
    /// The expected output, one entry per line, without trailing blank lines.
    pub expected: Vec<String>,
    /// The lines (0-based, end exclusive) from the `$` line to the last line of output.
    pub span: std::ops::Range<usize>,
}

/// The examples of one document, in order.
pub fn examples(text: &str) -> Result<Vec<Example>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let runs = info.trim() == "console";
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            if !runs {
                i += 1;
                continue;
            }
            let example = example(&lines, i)?;
            i = example.span.end;
            while i < lines.len() && lines[i].trim().is_empty() {
                i += 1;
            }
            found.push(example);
        }
        i += 1;
    }
    Ok(found)
}

/// The example whose `$` line is `lines[start]`, inside a console block.
pub fn example(lines: &[&str], start: usize) -> Result<Example, String> {
    let command = lines[start].strip_prefix("$ ").ok_or_else(|| {
        format!(
            "line {}: a console block line must start with `$ `",
            start + 1
        )
    })?;
    let mut i = start + 1;
    let mut status = 0;
    if let Some(code) = lines.get(i).and_then(|l| l.strip_prefix("? ")) {
        status = code
            .trim()
            .parse()
            .map_err(|_| format!("line {}: `? ` takes an exit code", i + 1))?;
        i += 1;
    }
    let first = i;
    while i < lines.len() && !lines[i].starts_with("$ ") && !lines[i].starts_with("```") {
        i += 1;
    }
    let mut end = i;
    while end > first && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    Ok(Example {
        line: start + 1,
        command: command.trim_end().to_string(),
        status,
        expected: lines[first..end].iter().map(|l| l.to_string()).collect(),
        span: start..end,
    })
}

/// The words of a command line as a POSIX shell splits them: each word's text with the quotes
/// removed, and whether any of it was quoted (a quoted word is never expanded).
pub fn words(command: &str) -> Result<Vec<(String, bool)>, String> {
    let unbalanced = || format!("unbalanced quotes in `{command}`");
    let mut words = Vec::new();
    let mut chars = command.chars();
    let mut word: Option<(String, bool)> = None;
    while let Some(c) = chars.next() {
        if c == ' ' || c == '\t' {
            words.extend(word.take());
            continue;
        }
        let (text, quoted) = word.get_or_insert_with(|| (String::new(), false));
        match c {
            '\'' => {
                *quoted = true;
                loop {
                    match chars.next().ok_or_else(unbalanced)? {
                        '\'' => break,
                        c => text.push(c),
                    }
                }
            }
            '"' => {
                *quoted = true;
                loop {
                    match chars.next().ok_or_else(unbalanced)? {
                        '"' => break,
                        '\\' => text.push(chars.next().ok_or_else(unbalanced)?),
                        c => text.push(c),
                    }
                }
            }
            '\\' => {
                *quoted = true;
                text.extend(chars.next());
            }
            _ => text.push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn matches(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|skip| matches(rest, &name[skip..])),
        Some(('?', rest)) => !name.is_empty() && matches(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && matches(rest, &name[1..]),
    }
}

/// A shell's expansion of one unquoted word, relative to the repository root: the paths that
/// match its last component, sorted, or the word itself when it has no wildcard or nothing
/// matches.
pub fn expand(word: &str) -> Vec<String> {
    if !word.contains(['*', '?']) {
        return vec![word.to_string()];
    }
    let (dir, pattern) = word.rsplit_once('/').unwrap_or(("", word));
    assert!(
        !dir.contains(['*', '?']),
        "wildcards are expanded in the last path component only: {word}"
    );
    let pattern: Vec<char> = pattern.chars().collect();
    let mut found: Vec<String> = std::fs::read_dir(root().join(dir))
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| !name.starts_with('.'))
                .filter(|name| matches(&pattern, &name.chars().collect::<Vec<_>>()))
                .map(|name| match dir {
                    "" => name,
                    _ => format!("{dir}/{name}"),
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() {
        found.push(word.to_string());
    }
    found
}

/// The program, its arguments and the `NAME=VALUE` assignments written before it.
pub type Invocation = (String, Vec<String>, Vec<(String, String)>);

pub fn invocation(command: &str) -> Result<Invocation, String> {
    let mut env = Vec::new();
    let mut words = words(command)?.into_iter();
    let program = loop {
        match words.next() {
            Some((word, false)) if word.contains('=') => {
                let (name, value) = word.split_once('=').expect("an assignment");
                env.push((name.to_string(), value.to_string()));
            }
            Some((word, _)) => break word,
            None => return Err(format!("no command in `{command}`")),
        }
    };
    let args = words
        .flat_map(|(word, quoted)| match quoted {
            true => vec![word],
            false => expand(&word),
        })
        .collect();
    Ok((program, args, env))
}

/// Runs an example's command: its exit status and its output, stdout and stderr together,
/// without trailing blank lines.
pub fn run(command: &str) -> Result<(i32, String), String> {
    let (program, args, env) = invocation(command)?;
    if program != "conform" {
        return Err(format!("the examples run conform only, not `{program}`"));
    }
    let output = snapbox::cmd::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(&args)
        .current_dir(root())
        .envs(env)
        // The matrix table's layout follows the terminal's width.
        .env("COLUMNS", "100")
        .stderr_to_stdout()
        // Only a safety net against a hang: every example ends in seconds.
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let text = text.trim_end_matches(['\n', ' ']);
    Ok((output.status.code().unwrap_or(-1), text.to_string()))
}

/// `actual` rewritten toward `expected`: where a `[..]` or `...` of `expected` matches, the
/// actual text gives way to it. Equal to `expected` exactly when the example holds.
pub fn normalized(actual: &str, expected: &str) -> String {
    let assert = Assert::new().normalize_paths(false);
    let (actual, _) = assert.normalize(Data::text(actual), Data::text(expected));
    actual.render().unwrap_or_default()
}

/// What went wrong with one example, or None when it holds; and the lines that would make it
/// hold (for `SNAPSHOTS=overwrite`).
pub fn check(example: &Example) -> (Option<String>, Vec<String>) {
    let (status, actual) = match run(&example.command) {
        Ok(result) => result,
        Err(problem) => return (Some(problem), Vec::new()),
    };
    let expected = example.expected.join("\n");
    let output = normalized(&actual, &expected);
    let mut lines = vec![format!("$ {}", example.command)];
    if status != 0 {
        lines.push(format!("? {status}"));
    }
    lines.extend(output.lines().map(str::to_string));
    let mut problems = Vec::new();
    if status != example.status {
        problems.push(format!(
            "exit status {status}, the document says {}",
            example.status
        ));
    }
    if output != expected {
        let diff = Assert::new()
            .normalize_paths(false)
            .palette(snapbox::report::Palette::plain())
            .try_eq(Some(&"conform"), Data::text(actual), Data::text(expected))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        problems.push(format!("the output differs:\n{diff}"));
    }
    let problem = (!problems.is_empty()).then(|| problems.join("\n"));
    (problem, lines)
}

/// The problems of one document's examples; with `overwrite`, the document is rewritten with
/// what conform gives now.
pub fn check_document(doc: &Path, overwrite: bool) -> Vec<String> {
    let name = doc
        .strip_prefix(root())
        .unwrap_or(doc)
        .display()
        .to_string();
    let text = std::fs::read_to_string(doc).unwrap_or_default();
    let examples = match examples(&text) {
        Ok(examples) => examples,
        Err(problem) => return vec![format!("{name}: {problem}")],
    };
    let mut problems = Vec::new();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for example in examples.iter().rev() {
        let (problem, fixed) = check(example);
        if let Some(problem) = problem {
            problems.push(format!(
                "{name}:{}: `{}`: {problem}",
                example.line, example.command
            ));
            if overwrite && !fixed.is_empty() {
                lines.splice(example.span.clone(), fixed);
            }
        }
    }
    if overwrite && !problems.is_empty() {
        std::fs::write(doc, lines.join("\n") + "\n").expect("the document is writable");
    }
    problems.reverse();
    problems
}
