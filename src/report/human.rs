//! The report a person reads: one line per scenario with its verdict and time, details under
//! each failure or warning, and a closing `N passed, N failed, N skipped` line.
//!
//! In: [`Event`]s. Out: text on the writer it was given.

use std::io::{self, Write};
use std::time::Duration;

use super::{Reporter, diff};
use crate::event::{Event, Failure, Verdict};
use crate::spec::payload::escape;

pub struct Human<W: Write + Send> {
    out: W,
    /// Print a line when a scenario starts, too (for `--verbose`).
    pub verbose: bool,
    /// Colour the verdict words (a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Print the wire log under each failure and warning (`--trace`).
    pub trace: bool,
}

impl<W: Write + Send> Human<W> {
    pub fn new(out: W) -> Self {
        Human {
            out,
            verbose: false,
            color: false,
            trace: false,
        }
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
            } => {
                let level = if id.level == crate::spec::Level::Should {
                    " [should]"
                } else {
                    ""
                };
                let generated = cases_note(*cases, *seed, *cut_short, *window)
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
                    Verdict::Pass => {}
                    Verdict::Skip(reason) => writeln!(self.out, "      skipped: {reason}")?,
                    Verdict::Fail(failure) | Verdict::Warn(failure) => {
                        writeln!(self.out, "      against: {target}")?;
                        for line in failure_lines(&id.file, failure) {
                            writeln!(self.out, "      {line}")?;
                        }
                        if self.trace
                            && let Some(log) = &failure.wire
                        {
                            for line in super::wirelog::lines(log) {
                                writeln!(self.out, "      {line}")?;
                            }
                        }
                        if matches!(verdict, Verdict::Warn(_)) {
                            writeln!(
                                self.out,
                                "      (a `should` scenario: reported as a warning; --strict makes it fail)"
                            )?;
                        }
                    }
                }
            }
            Event::RunFinished { summary, duration } => {
                writeln!(self.out)?;
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
                    fmt_duration(*duration)
                )?;
            }
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
    window: Option<usize>,
) -> Option<String> {
    let seed = seed?;
    let in_flight = window.map_or(String::new(), |n| format!(", {n} in flight"));
    Some(match cut_short {
        None => format!("{cases} cases{in_flight}, seed {seed}"),
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

/// The lines describing one failure, without indentation.
pub fn failure_lines(file: &str, failure: &Failure) -> Vec<String> {
    let mut lines = Vec::new();
    let session = failure
        .generated
        .as_ref()
        .and_then(|g| g.session.as_deref());
    if let Some(g) = &failure.generated
        && let Some(session) = session
    {
        lines.extend(super::session::header_lines(g, session));
    } else if let Some(g) = &failure.generated {
        let before = match g.case {
            1 => "the first case".to_string(),
            n => format!(
                "after {} passing cases in {}",
                n - 1,
                fmt_duration(g.elapsed)
            ),
        };
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
        match (&mismatch.expected, &mismatch.actual) {
            // Nothing arrived: the summary says so; show only what was expected.
            (Some(expected), Some(actual)) if actual.is_empty() && !expected.is_empty() => {
                lines.push(format!("{pad}expected: \"{}\"", escape(expected)));
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
            (Some(expected), Some(actual)) => {
                lines.extend(
                    diff::render(expected, actual)
                        .into_iter()
                        .map(|l| format!("{pad}{l}")),
                );
            }
            _ => {}
        }
    }
    if let Some(g) = &failure.generated {
        lines.push(format!("replay: {}", g.replay));
        if let Some(saved) = &g.saved {
            lines.push(format!("saved as a regression spec: {saved}"));
        }
    }
    if let Some(program) = &failure.program {
        if let Some(ending) = &program.ending {
            lines.push(format!("program {}: {ending}", program.command));
        }
        for (name, tail) in [
            ("stderr", &program.stderr_tail),
            ("stdout", &program.stdout_tail),
        ] {
            if !tail.is_empty() {
                lines.push(format!("last {name} lines:"));
                lines.extend(tail.iter().map(|l| format!("  | {l}")));
            }
        }
    }
    lines
}

pub fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}
