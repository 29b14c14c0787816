//! TAP version 13 (the Test Anything Protocol), for `prove`, tap-parser and the many CI
//! plugins that read it.
//!
//! Version 13, not 14: the stream uses nothing 14 added (no subtests, no pragmas), and
//! TAP::Parser before 3.48 (Debian 12 ships 3.44) reports a parse error for every
//! `TAP version 14` stream, while every TAP 14 reader also reads 13.
//!
//! In: [`Event`]s. Out: TAP written as events arrive: the version line and the plan
//! (`1..N`) at `RunStarted`, one test point per finished scenario (`ok`, `not ok`, `ok ... #
//! SKIP reason`), and for failures and warnings a YAML diagnostics block (two-space indent,
//! between `  ---` and `  ...`). A warning is `ok` with `severity: warning` in its block: it
//! passed as far as the run's outcome goes, and `# TODO` would claim the test is unfinished.

use std::io::{self, Write};
use std::time::Duration;

use super::Reporter;
use super::human::fmt_duration;
use crate::event::{Event, Failure, Generated, ProgramReport, ScenarioId, TargetKind, Verdict};
use crate::spec::payload::escape;
use crate::verdict::Mismatch;

/// Bytes of a payload shown in a YAML block; the length says when there were more. The
/// block is for reading, and a 1 MiB line would drown the rest of the stream.
const SHOWN_BYTES: usize = 1024;

pub struct Tap<W: Write + Send> {
    out: W,
    /// The number of the last test point written.
    number: usize,
}

impl<W: Write + Send> Tap<W> {
    pub fn new(out: W) -> Self {
        Tap { out, number: 0 }
    }

    fn test_point(
        &mut self,
        id: &ScenarioId,
        target: &TargetKind,
        verdict: &Verdict,
        duration: Duration,
    ) -> io::Result<()> {
        self.number += 1;
        let n = self.number;
        let description = description(&format!("{} :: {}", id.suite(), id.name));
        match verdict {
            Verdict::Pass => writeln!(self.out, "ok {n} - {description}"),
            Verdict::Skip(reason) => {
                writeln!(
                    self.out,
                    "ok {n} - {description} # SKIP {}",
                    one_line(reason)
                )
            }
            Verdict::Fail(failure) => {
                writeln!(self.out, "not ok {n} - {description}")?;
                let block = yaml_block(&id.file, target, failure, "fail", duration);
                self.out.write_all(block.as_bytes())
            }
            Verdict::Warn(failure) => {
                writeln!(self.out, "ok {n} - {description}")?;
                let block = yaml_block(&id.file, target, failure, "warning", duration);
                self.out.write_all(block.as_bytes())
            }
        }
    }
}

impl<W: Write + Send> Reporter for Tap<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { scenarios, jobs: _ } => {
                // The plan goes first: the count is known, and a consumer that sees fewer test
                // points than planned knows the run was cut short.
                writeln!(self.out, "TAP version 13")?;
                writeln!(self.out, "1..{scenarios}")?;
            }
            // A test point is written when its verdict is known; starts and steps are
            // already summed up in it.
            Event::ScenarioStarted { .. } => {}
            Event::StepObserved { .. } | Event::Progress { .. } => {}
            Event::ScenarioFinished {
                id,
                target,
                lifecycle: _,
                verdict,
                duration,
                cases: _,
                seed: _,
                cut_short: _,
                window: _,
                clients: _,
            } => self.test_point(id, target, verdict, *duration)?,
            Event::RunFinished { summary, duration } => {
                writeln!(
                    self.out,
                    "# {} passed, {} failed, {} skipped, {} warned ({})",
                    summary.passed,
                    summary.failed,
                    summary.skipped,
                    summary.warned,
                    fmt_duration(*duration)
                )?;
            }
        }
        // Flushed per event so a consumer reading a pipe sees each scenario as it ends.
        self.out.flush()
    }
}

/// A test point description: one line, with `#` and `\` escaped (an unescaped `#` would
/// start a directive; TAP::Parser has understood these escapes since long before TAP 14
/// wrote them down).
fn description(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        match c {
            '#' => out.push_str("\\#"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// Control characters (newlines above all) would end the line early or corrupt it.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The diagnostics of a failure or warning. Single mismatch: its fields at top level. Several
/// (`expect_one_of`): one entry each under `alternatives`.
fn yaml_block(
    file: &str,
    target: &TargetKind,
    failure: &Failure,
    severity: &str,
    duration: Duration,
) -> String {
    let mut y = Yaml::default();
    y.raw(0, "---");
    let message = match failure.mismatches.as_slice() {
        [only] => only.summary.clone(),
        [] => match failure.program.as_ref().and_then(|p| p.ending.as_ref()) {
            Some(ending) => format!("program {ending}"),
            None => "scenario failed".to_owned(),
        },
        [_, ..] => "none of the alternatives happened".to_owned(),
    };
    y.line(0, "message", Some(&quote(&message)));
    y.line(0, "severity", Some(severity));
    y.line(0, "against", Some(&quote(&target.to_string())));
    if let Some(step) = &failure.step {
        y.line(0, "step", Some(&step.index.to_string()));
        y.line(0, "keyword", Some(&quote(step.keyword)));
        y.line(
            0,
            "at",
            Some(&quote(&format!("{file}:{}:{}", step.line, step.column))),
        );
    }
    match failure.mismatches.as_slice() {
        [only] => mismatch_details(&mut y, 0, only),
        [] => {}
        several => {
            y.line(0, "alternatives", None);
            for mismatch in several {
                // The first key carries the `- `; the others line up with it.
                y.line(1, "- message", Some(&quote(&mismatch.summary)));
                mismatch_details(&mut y, 2, mismatch);
            }
        }
    }
    if let Some(program) = &failure.program {
        program_fields(&mut y, program);
    }
    if let Some(generated) = &failure.generated {
        generated_fields(&mut y, generated);
    }
    y.line(
        0,
        "duration_ms",
        Some(&format!("{:.3}", duration.as_secs_f64() * 1000.0)),
    );
    y.raw(0, "...");
    y.text
}

/// What a mismatch holds besides its summary: the hint and the bytes on both sides.
fn mismatch_details(y: &mut Yaml, depth: usize, mismatch: &Mismatch) {
    if let Some(hint) = &mismatch.hint {
        y.line(depth, "hint", Some(&quote(hint)));
    }
    for (key, bytes) in [
        ("expected", &mismatch.expected),
        ("actual", &mismatch.actual),
    ] {
        if let Some(bytes) = bytes {
            // conform's escaped form (`\n`, `\xff`) is printable ASCII, so it goes in single
            // quotes verbatim and reads exactly like the spec's `escaped:` payloads.
            let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
            y.line(depth, key, Some(&quote(&escape(shown))));
            if shown.len() < bytes.len() {
                y.line(
                    depth,
                    &format!("{key}_length"),
                    Some(&bytes.len().to_string()),
                );
            }
        }
    }
}

fn program_fields(y: &mut Yaml, program: &ProgramReport) {
    y.line(0, "program", None);
    y.line(1, "command", Some(&quote(&program.command())));
    if let Some(ending) = &program.ending {
        y.line(1, "ending", Some(&quote(&ending.to_string())));
    }
    for (key, tail) in [
        ("stderr_tail", &program.stderr_tail),
        ("stdout_tail", &program.stdout_tail),
    ] {
        if !tail.is_empty() {
            lines_field(y, 1, key, tail);
        }
    }
}

/// Lines of output as one string. Not a YAML list: Perl's YAMLish reader takes a list item
/// whose first word ends in a colon (`- bind: Address in use`) for a mapping and fails. A
/// literal block (`|`) reads as printed; lines it cannot hold exactly in both YAML and
/// YAMLish (blank, indented, or with control characters) make it a double-quoted string.
fn lines_field(y: &mut Yaml, depth: usize, key: &str, lines: &[String]) {
    let literal = lines.iter().all(|line| {
        !line.trim().is_empty()
            && !line.starts_with(char::is_whitespace)
            && !line.chars().any(char::is_control)
    });
    if literal {
        y.line(depth, key, Some("|"));
        for line in lines {
            y.raw(depth + 1, line);
        }
    } else {
        let mut text = lines.join("\n");
        text.push('\n');
        y.line(depth, key, Some(&quote(&text)));
    }
}

fn generated_fields(y: &mut Yaml, generated: &Generated) {
    y.line(0, "generated", None);
    // Quoted: a YAML reader would take a 64-bit seed for a float and round it.
    y.line(1, "seed", Some(&quote(&generated.seed.to_string())));
    y.line(1, "case", Some(&generated.case.to_string()));
    y.line(1, "probes", Some(&generated.probes.to_string()));
    y.line(1, "shrinking", Some(generated.shrinking.word()));
    y.line(
        1,
        "shrinking_message",
        Some(&quote(&generated.shrinking.message())),
    );
    y.line(1, "replay", Some(&quote(&generated.replay)));
    if let Some(saved) = &generated.saved {
        y.line(1, "saved", Some(&quote(saved)));
    }
    for (key, values) in [
        ("original", &generated.original),
        ("minimal", &generated.minimal),
    ] {
        if !values.is_empty() {
            y.line(1, key, None);
            for (name, description) in values {
                y.line(2, "- name", Some(&quote(name)));
                y.line(3, "description", Some(&quote(description)));
            }
        }
    }
}

/// A YAML block under construction, already indented by the two spaces TAP 13 wants.
#[derive(Default)]
struct Yaml {
    text: String,
}

impl Yaml {
    /// `key: value`, or `key:` opening a nested mapping when `value` is `None`, at `depth`
    /// levels of two spaces inside the block.
    fn line(&mut self, depth: usize, key: &str, value: Option<&str>) {
        let line = match value {
            Some(value) => format!("{key}: {value}"),
            None => format!("{key}:"),
        };
        self.raw(depth, &line);
    }

    /// A line as it is: the block's markers and the lines of a literal block.
    fn raw(&mut self, depth: usize, text: &str) {
        self.text.push_str("  ");
        self.text.push_str(&"  ".repeat(depth));
        self.text.push_str(text);
        self.text.push('\n');
    }
}

/// A YAML scalar for any text. Printable text goes in single quotes, where only `'` needs
/// doubling; text with control characters goes in double quotes with `\xHH` escapes, the
/// escape form both YAML 1.2 and Perl's TAP::Parser YAMLish reader understand.
fn quote(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return format!("'{}'", text.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // Other control characters (rare: U+2028 is not one) are dropped rather than
            // escaped with `\u`, which the YAMLish reader does not know.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_escapes_hash_and_backslash_and_stays_on_one_line() {
        assert_eq!(description("a # b \\ c\nd"), "a \\# b \\\\ c d");
    }

    #[test]
    fn printable_text_is_single_quoted_with_quotes_doubled() {
        assert_eq!(quote("it's \\n"), "'it''s \\n'");
    }

    #[test]
    fn long_payloads_are_cut_and_their_length_given() {
        let failure = Failure {
            step: None,
            mismatches: vec![Mismatch::new("too long").bytes(b"ab", &[b'x'; 5000])],
            program: None,
            generated: None,
            wire: None,
        };
        let block = yaml_block(
            "f.yaml",
            &TargetKind::Reference,
            &failure,
            "fail",
            Duration::ZERO,
        );
        let actual = block
            .lines()
            .find(|l| l.starts_with("  actual: "))
            .expect("an actual line");
        assert_eq!(actual.len(), "  actual: ''".len() + SHOWN_BYTES);
        assert!(block.contains("\n  actual_length: 5000\n"), "{block}");
        assert!(!block.contains("expected_length"), "{block}");
    }

    #[test]
    fn control_characters_are_double_quoted_escapes() {
        assert_eq!(quote("a\u{1b}[1m\"\n"), "\"a\\x1b[1m\\\"\\n\"");
    }
}
