//! The report a person reads: one line per scenario with its verdict and time, details under
//! each failure or warning, and a closing `N passed, N failed, N skipped` line.
//!
//! In: [`Event`]s. Out: text on the writer it was given.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use super::{Reporter, diff};
use crate::event::{Event, Failure, ScenarioId, TargetKind, Verdict};
use crate::spec::payload::escape;

pub mod hints;

pub struct Human<W: Write + Send> {
    out: W,
    /// Print a line when a scenario starts, too (for `--verbose`).
    pub verbose: bool,
    /// Colour the verdict words (a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Print the wire log under each failure and warning (`--trace`).
    pub trace: bool,
    /// Show long expected and actual values by their start, their end and the bytes around
    /// the first difference (a terminal); off, report files keep the fuller window.
    pub elide: bool,
    /// Server commands that exited before listening, with how many scenarios they failed:
    /// the hint about them is said once, at the end.
    exited_early: BTreeMap<String, usize>,
    /// Programs that never became ready, by how they ended and what they printed, with the
    /// scenario that showed it first: the next one that ends the same way refers to it
    /// instead of printing the same traceback again.
    never_ready: Vec<(NeverReady, String)>,
    /// Scenarios skipped, by reason: counted in one line at the end unless `verbose`.
    skipped: BTreeMap<String, usize>,
}

/// How a program that never became ready ended, as far as the report shows it.
#[derive(PartialEq, Eq)]
struct NeverReady {
    target: TargetKind,
    ending: Option<crate::event::ProgramEnding>,
    stderr: Vec<String>,
    stdout: Vec<String>,
}

impl<W: Write + Send> Human<W> {
    pub fn new(out: W) -> Self {
        Human {
            out,
            verbose: false,
            color: false,
            trace: false,
            elide: false,
            exited_early: BTreeMap::new(),
            never_ready: Vec::new(),
            skipped: BTreeMap::new(),
        }
    }

    /// The end of the report: skipped scenarios counted, the run's hints, the summary.
    fn run_finished(
        &mut self,
        summary: &crate::event::Summary,
        duration: Duration,
    ) -> io::Result<()> {
        for (reason, count) in &self.skipped {
            let word = paint(&Verdict::Skip(String::new()), self.color);
            let what = if *count == 1 { "scenario" } else { "scenarios" };
            writeln!(
                self.out,
                "{word}  {count} {what}: {reason} (--verbose lists them)"
            )?;
        }
        writeln!(self.out)?;
        for (command, scenarios) in &self.exited_early {
            if let Some(hint) = hints::port_hint(command, *scenarios) {
                writeln!(self.out, "{hint}\n")?;
            }
        }
        let warned = if summary.warned > 0 {
            format!(", {} warned", summary.warned)
        } else {
            String::new()
        };
        writeln!(
            self.out,
            "{} passed, {} failed, {} skipped{warned}  ({})",
            summary.passed,
            summary.failed,
            summary.skipped,
            fmt_duration(duration)
        )?;
        Ok(())
    }

    /// The lines under a failing or warning scenario.
    fn failure(
        &mut self,
        id: &ScenarioId,
        target: &TargetKind,
        failure: &Failure,
    ) -> io::Result<()> {
        writeln!(self.out, "      against: {target}")?;
        if let TargetKind::Program(command) = target
            && hints::exited_before_listening(failure)
        {
            // The words as typed: the hint rewrites the template the user wrote.
            *self.exited_early.entry(command.join(" ")).or_default() += 1;
        }
        if let (Some(program), None) = (&failure.program, &failure.step) {
            let end = NeverReady {
                target: target.clone(),
                ending: program.ending.clone(),
                stderr: program.stderr_tail.clone(),
                stdout: program.stdout_tail.clone(),
            };
            if let Some((_, first)) = self.never_ready.iter().find(|(seen, _)| *seen == end) {
                for m in &failure.mismatches {
                    writeln!(self.out, "      {}", m.summary)?;
                }
                return writeln!(
                    self.out,
                    "      (it ended as in `{first}` above, where its output is shown)"
                );
            }
            self.never_ready.push((end, id.name.clone()));
        }
        for line in lines_of(&id.file, failure, self.elide) {
            writeln!(self.out, "      {line}")?;
        }
        if self.trace
            && let Some(log) = &failure.wire
        {
            for line in super::wirelog::lines(log) {
                writeln!(self.out, "      {line}")?;
            }
        }
        Ok(())
    }
}

impl<W: Write + Send> Reporter for Human<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { scenarios, jobs } => {
                if self.verbose {
                    writeln!(
                        self.out,
                        "running {scenarios} scenario(s), {jobs} at a time"
                    )?;
                }
            }
            Event::ScenarioStarted { id } => {
                if self.verbose {
                    writeln!(self.out, "START {} :: {}", id.file, id.name)?;
                }
            }
            Event::StepObserved { .. } | Event::Progress { .. } => {}
            Event::ScenarioFinished {
                id,
                target,
                lifecycle: _,
                verdict,
                duration,
                cases,
                seed,
                cut_short,
                window,
                clients,
            } => {
                let level = if id.level == crate::spec::Level::Should {
                    " [should]"
                } else {
                    ""
                };
                if let Verdict::Skip(reason) = verdict {
                    // Skipped scenarios are one line each with --verbose, else one count.
                    if self.verbose {
                        let word = paint(verdict, self.color);
                        writeln!(
                            self.out,
                            "{word}  {} :: {}{level}  ({reason})",
                            id.file, id.name
                        )?;
                    } else {
                        *self.skipped.entry(reason.clone()).or_default() += 1;
                    }
                    return self.out.flush();
                }
                let generated = cases_note(*cases, *seed, *cut_short, (*window, *clients))
                    .map_or(String::new(), |note| format!(", {note}"));
                let word = paint(verdict, self.color);
                writeln!(
                    self.out,
                    "{word}  {} :: {}{level}  ({}{generated})",
                    id.file,
                    id.name,
                    fmt_duration(*duration)
                )?;
                match verdict {
                    Verdict::Pass | Verdict::Skip(_) => {}
                    Verdict::Fail(failure) | Verdict::Warn(failure) => {
                        self.failure(id, target, failure)?;
                        if matches!(verdict, Verdict::Warn(_)) {
                            writeln!(
                                self.out,
                                "      (a `should` scenario: reported as a warning; --strict makes it fail)"
                            )?;
                        }
                    }
                }
            }
            Event::RunFinished { summary, duration } => self.run_finished(summary, *duration)?,
        }
        self.out.flush()
    }
}

/// What a generated scenario ran: `256 cases, seed 7`, or how many of them the time budget
/// allowed. `None` for a plain scenario.
pub fn cases_note(
    cases: u64,
    seed: Option<u64>,
    cut_short: Option<crate::event::CutShort>,
    (window, clients): (Option<usize>, Option<usize>),
) -> Option<String> {
    let seed = seed?;
    let in_flight = format!(
        "{}{}",
        window.map_or(String::new(), |n| format!(", {n} in flight")),
        clients.map_or(String::new(), |n| format!(", {n} clients at once"))
    );
    Some(match cut_short {
        None => format!(
            "{cases} case{}{in_flight}, seed {seed}",
            if cases == 1 { "" } else { "s" }
        ),
        Some(cut) => format!(
            "{cases} of {} cases{in_flight}: the {} budget ran out, seed {seed}",
            cut.planned,
            crate::spec::Dur(cut.budget)
        ),
    })
}

/// The verdict word, padded, in its colour when asked.
fn paint(verdict: &Verdict, color: bool) -> String {
    let word = verdict.word();
    if !color {
        return format!("{word:<4}");
    }
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::Fail(_) => "1;31",
        Verdict::Warn(_) => "33",
        Verdict::Skip(_) => "2",
    };
    format!("\x1b[{code}m{word:<4}\x1b[0m")
}

/// The lines describing one failure, without indentation, as report files show them.
pub fn failure_lines(file: &str, failure: &Failure) -> Vec<String> {
    lines_of(file, failure, false)
}

/// The lines describing one failure; `elide` shortens long values for a terminal.
fn lines_of(file: &str, failure: &Failure, elide: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let session = failure
        .generated
        .as_ref()
        .and_then(|g| g.session.as_deref());
    let history = failure
        .generated
        .as_ref()
        .and_then(|g| g.history.as_deref());
    if let Some(g) = &failure.generated
        && let Some(history) = history
    {
        lines.extend(super::history::header_lines(g, history));
        lines.push("with the smallest failing history found:".into());
    } else if let Some(g) = &failure.generated
        && let Some(session) = session
    {
        lines.extend(super::session::header_lines(g, session));
    } else if let Some(g) = &failure.generated {
        let before = super::session::found_after(g);
        lines.push(format!(
            "failing input (case {}, seed {}, {before}):",
            g.case, g.seed
        ));
        lines.extend(g.original.iter().map(|(n, v)| format!("  {n} = {v}")));
        if let Some(heading) = g.shrinking.heading() {
            let runs = if g.probes == 1 { "probe" } else { "probes" };
            lines.push(format!("{heading} (after {} {runs}):", g.probes));
            lines.extend(g.minimal.iter().map(|(n, v)| format!("  {n} = {v}")));
            lines.push(g.shrinking.message());
            lines.push(format!("with the {heading}:"));
        } else {
            lines.push(g.shrinking.message());
        }
    }
    // In a session, the failing step belongs to a command: say which.
    let command = session.and_then(|s| {
        let n = s.failed_at?;
        Some(format!("command {n} `{}`, ", s.commands.get(n - 1)?.name))
    });
    let place = match &failure.step {
        Some(step) => format!(
            "{}step {} `{}` ({file}:{}:{}): ",
            command.unwrap_or_default(),
            step.index,
            step.keyword,
            step.line,
            step.column
        ),
        None => String::new(),
    };
    let several = failure.mismatches.len() > 1;
    if several {
        lines.push(format!("{place}none of the alternatives happened:"));
    }
    for (n, mismatch) in failure.mismatches.iter().enumerate() {
        let (lead, pad) = if several {
            (format!("  {}. ", n + 1), "     ")
        } else {
            (place.clone(), "  ")
        };
        lines.push(format!("{lead}{}", mismatch.summary));
        if let Some(hint) = &mismatch.hint {
            lines.push(format!("{pad}hint: {hint}"));
        }
        lines.extend(bytes_lines(mismatch, pad, elide));
    }
    if let Some(g) = &failure.generated {
        lines.push(format!(
            "replay: {}",
            if elide {
                g.replay_short.as_ref().unwrap_or(&g.replay)
            } else {
                &g.replay
            }
        ));
        if let Some(saved) = &g.saved {
            lines.push(format!("saved as a regression spec: {saved}"));
        }
    }
    if let Some(program) = &failure.program {
        lines.extend(program_lines(program, elide));
    }
    lines
}

/// The expected and actual bytes of one mismatch, each line led by `pad`.
fn bytes_lines(mismatch: &crate::verdict::Mismatch, pad: &str, elide: bool) -> Vec<String> {
    let mut lines = Vec::new();
    match (&mismatch.expected, &mismatch.actual) {
        // Nothing arrived: the summary says so; show only what was expected.
        (Some(expected), Some(actual)) if actual.is_empty() && !expected.is_empty() => {
            let shown = if elide {
                diff::text_elided(expected)
            } else {
                format!("\"{}\"", escape(expected))
            };
            lines.push(format!("{pad}expected: {shown}"));
        }
        (Some(expected), Some(actual)) if expected.is_empty() && elide => {
            lines.push(format!("{pad}received: {}", diff::text_elided(actual)));
            lines.extend(
                diff::hex_rows_elided(actual)
                    .into_iter()
                    .map(|l| format!("{pad}{l}")),
            );
        }
        // Nothing was expected (extra bytes, a wrong source): show what came.
        (Some(expected), Some(actual)) if expected.is_empty() => {
            lines.push(format!(
                "{pad}received: \"{}\"",
                escape(&actual[..actual.len().min(256)])
            ));
            lines.extend(
                diff::hex_rows(actual, 4)
                    .into_iter()
                    .map(|l| format!("{pad}{l}")),
            );
        }
        (Some(expected), Some(actual)) if elide => {
            lines.extend(
                diff::render_elided(expected, actual)
                    .into_iter()
                    .map(|l| format!("{pad}{l}")),
            );
        }
        (Some(expected), Some(actual)) => {
            lines.extend(
                diff::render(expected, actual)
                    .into_iter()
                    .map(|l| format!("{pad}{l}")),
            );
        }
        _ => {}
    }
    lines
}

/// How the program ended and the last lines it printed.
fn program_lines(program: &crate::event::ProgramReport, elide: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(ending) = &program.ending {
        // Backticks set a command apart from the sentence; the reference is no command.
        let who = match &program.argv {
            Some(_) => format!("`{}`", program.command()),
            None => program.command(),
        };
        lines.push(format!("program {who}: {ending}"));
    }
    for (name, tail) in [
        ("stderr", &program.stderr_tail),
        ("stdout", &program.stdout_tail),
    ] {
        if !tail.is_empty() {
            lines.push(format!("last {name} lines:"));
            lines.extend(tail.iter().map(|l| {
                if elide {
                    format!("  | {}", line_elided(l))
                } else {
                    format!("  | {l}")
                }
            }));
        }
    }
    lines
}

/// Characters of a program's output line a terminal shows, at its start and at its end.
const LINE_HEAD: usize = 120;
const LINE_TAIL: usize = 40;

/// A long line of a program's output, by its start and its end.
fn line_elided(line: &str) -> String {
    let count = line.chars().count();
    if count <= LINE_HEAD + LINE_TAIL + 20 {
        return line.to_string();
    }
    let head: String = line.chars().take(LINE_HEAD).collect();
    let tail: String = line.chars().skip(count - LINE_TAIL).collect();
    format!(
        "{head}…({} characters)…{tail}",
        count - LINE_HEAD - LINE_TAIL
    )
}

pub use super::fmt_duration;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Mismatch;

    fn failure(mismatch: Mismatch) -> Failure {
        Failure {
            mismatches: vec![mismatch],
            ..Failure::default()
        }
    }

    #[test]
    fn a_long_value_that_never_came_is_elided_only_for_a_terminal() {
        let long: Vec<u8> = (0..1450u32).map(|i| (i % 256) as u8).collect();
        let f = failure(Mismatch::new("nothing came").bytes(&long, b""));
        let terminal = lines_of("f", &f, true);
        assert_eq!(terminal.len(), 2, "{terminal:#?}");
        assert!(
            terminal[1].starts_with("  expected: \"\\x00\\x01")
                && terminal[1].contains("\"…(1402 bytes)…\""),
            "{terminal:#?}"
        );
        let file = failure_lines("f", &f);
        assert!(file[1].len() > 4000, "{}", file[1].len());
    }

    #[test]
    fn long_unexpected_bytes_are_elided_for_a_terminal() {
        let long = vec![b'x'; 500];
        let f = failure(Mismatch::new("extra bytes").bytes(b"", &long));
        let terminal = lines_of("f", &f, true);
        assert_eq!(
            terminal[1],
            format!(
                "  received: \"{}\"…(452 bytes)…\"{}\"",
                "x".repeat(32),
                "x".repeat(16)
            )
        );
        assert_eq!(terminal[4], "          … 28 rows (448 bytes) left out …");
    }

    #[test]
    fn a_long_output_line_keeps_its_start_and_end() {
        let line = format!("{}{}", "a".repeat(300), "z".repeat(40));
        assert_eq!(
            line_elided(&line),
            format!("{}…(180 characters)…{}", "a".repeat(120), "z".repeat(40))
        );
        assert_eq!(line_elided("short"), "short");
    }
}
