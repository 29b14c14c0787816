//! `--save-failures`: a minimal counterexample becomes a ready-to-commit regression spec.
//!
//! In: the spec (with its source text), the failed scenario and the minimal case's values.
//! Out: a YAML file holding that scenario, cut from the original text unchanged, plus a
//! `with:` section that pins every generated value, so `conform run FILE` replays exactly
//! the minimal case.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::event::Failure;
use crate::spec::data::hex;
use crate::spec::{Env, Scenario, Spec, Value};

/// Writes the regression spec and records its path in the failure.
pub fn save(
    dir: &Path,
    spec: &Spec,
    scenario: &Scenario,
    env: &Env,
    failure: &mut Failure,
) -> io::Result<()> {
    save_case(dir, spec, scenario, env, None, failure)
}

/// Like [`save`], for a case whose commands are fixed too: `play` holds one YAML entry per
/// command of the session (`SET: {key: {hex: "61"}}`).
pub fn save_case(
    dir: &Path,
    spec: &Spec,
    scenario: &Scenario,
    env: &Env,
    play: Option<&[String]>,
    failure: &mut Failure,
) -> io::Result<()> {
    if !scenario.with.is_empty() || scenario.play.is_some() {
        // Already a regression spec: it pins its values itself.
        return Ok(());
    }
    let seed = failure.generated.as_ref().map_or(0, |g| g.seed);
    let text = regression_text(spec, scenario, env, play, seed)
        .ok_or_else(|| io::Error::other("cannot find the scenario in its spec's text"))?;
    if let Err(e) = crate::spec::load_str("regression", &text) {
        return Err(io::Error::other(format!(
            "the regression spec does not load: {e}"
        )));
    }
    std::fs::create_dir_all(dir)?;
    let stem = Path::new(&spec.path)
        .file_stem()
        .map_or("spec".into(), |s| s.to_string_lossy().into_owned());
    let path = dir.join(format!(
        "{}-{}-{seed}.yaml",
        slug(&stem),
        slug(&scenario.name.value)
    ));
    std::fs::write(&path, text)?;
    if let Some(generated) = failure.generated.as_mut() {
        generated.saved = Some(path.display().to_string());
    }
    Ok(())
}

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The regression spec's text, or `None` if the scenario cannot be found in the source.
pub fn regression_text(
    spec: &Spec,
    scenario: &Scenario,
    env: &Env,
    play: Option<&[String]>,
    seed: u64,
) -> Option<String> {
    let spanned = spec
        .file
        .scenarios
        .iter()
        .find(|s| s.value.name.value == scenario.name.value)?;
    let first = spanned.referenced.line() as usize;
    let key_indent = spanned.referenced.column() as usize - 1;
    let lines: Vec<&str> = spec.source.lines().collect();
    let mut body = vec![*lines.get(first - 1)?];
    for line in &lines[first..] {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && indent < key_indent {
            break;
        }
        body.push(line);
    }
    while body
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        body.pop();
    }
    let pad = " ".repeat(key_indent);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Regression: the smallest failing case conform found for `{}`",
        scenario.name.value
    );
    let _ = writeln!(
        text,
        "# in {} (seed {seed}). `conform run` on this file replays exactly that case.",
        spec.path
    );
    let _ = writeln!(text, "version: 1");
    if let Some(timeout) = spec.file.timeout {
        let _ = writeln!(text, "timeout: {timeout}");
    }
    let _ = writeln!(text, "scenarios:");
    for line in body {
        let _ = writeln!(text, "{line}");
    }
    if !env.is_empty() {
        let _ = writeln!(text, "{pad}with:");
        for (name, value) in env {
            let _ = writeln!(text, "{pad}  {name}: {}", yaml_value(value));
        }
    }
    if let Some(play) = play {
        let _ = writeln!(text, "{pad}play:");
        for entry in play {
            let _ = writeln!(text, "{pad}  - {entry}");
        }
    }
    Some(text)
}

pub(crate) fn yaml_value(value: &Value) -> String {
    match value {
        Value::Bytes(b) => format!("{{hex: \"{}\"}}", hex(b)),
        Value::Number { value, width } => format!("{{number: {}}}", width.int(*value)),
        // Never a command's own value: the state is computed, not fixed.
        Value::Model(state) => format!("{{text: {:?}}}", state.describe()),
        Value::Split { cuts, pauses, .. } => {
            let cuts: Vec<String> = cuts.iter().map(|c| c.to_string()).collect();
            let pauses: Vec<String> = pauses
                .iter()
                .map(|p| format!("{}ms", p.as_millis()))
                .collect();
            format!(
                "{{cuts: [{}], pauses: [{}]}}",
                cuts.join(", "),
                pauses.join(", ")
            )
        }
    }
}
