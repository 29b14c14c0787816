//! The terminal report of `conform matrix`: one row per implementation, one column per
//! scenario (or per spec file, with counts, when the scenarios do not fit the width), the
//! totals, and one line per failure or warning.
//!
//! In: [`Event`]s whose scenario ids name an implementation. Out: text, written when
//! `RunFinished` arrives (a table needs every cell). Cells are words (`ok`, `FAIL`, `warn`,
//! `skip`), so they read the same without colour.

use std::io::{self, Write};

use super::human::fmt_duration;
use super::{Reporter, wirelog};
use crate::event::{Event, Failure, Summary, Verdict, WireLog};

pub struct Table<W: Write + Send> {
    out: W,
    /// Columns of text the table may use.
    width: usize,
    color: bool,
    /// Print a line as each scenario starts (`--verbose`).
    pub verbose: bool,
    /// Print the wire log under each failure and warning (`--trace`).
    pub trace: bool,
    /// Implementations in the order they first finished a scenario.
    rows: Vec<Row>,
    /// `(file, name)` of each scenario, in the order first seen.
    columns: Vec<(String, String)>,
}

struct Row {
    name: String,
    /// `(column, verdict word, summary)` of each finished scenario.
    cells: Vec<(usize, Cell, Option<String>)>,
    /// The wire logs of failures and warnings, by column, for `--trace`.
    logs: Vec<(usize, WireLog)>,
    summary: Summary,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Cell {
    fn word(self) -> &'static str {
        match self {
            Cell::Pass => "ok",
            Cell::Fail => "FAIL",
            Cell::Warn => "warn",
            Cell::Skip => "skip",
        }
    }

    fn paint(self, text: &str, color: bool) -> String {
        if !color {
            return text.to_owned();
        }
        let code = match self {
            Cell::Pass => "32",
            Cell::Fail => "1;31",
            Cell::Warn => "33",
            Cell::Skip => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

impl<W: Write + Send> Table<W> {
    pub fn new(out: W, width: usize, color: bool) -> Self {
        Table {
            out,
            width,
            color,
            verbose: false,
            trace: false,
            rows: Vec::new(),
            columns: Vec::new(),
        }
    }

    fn write_table(&mut self, summary: &Summary, duration: std::time::Duration) -> io::Result<()> {
        let name_width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(0)
            .max(14);
        let totals = "passed failed warned skipped";
        let per_scenario = name_width + 2 + self.columns.len() * 6 + totals.len();
        let files = self.files();
        writeln!(
            self.out,
            "{} implementation(s), {} scenario(s)\n",
            self.rows.len(),
            self.columns.len()
        )?;
        if per_scenario <= self.width {
            self.by_scenario(name_width, totals)?;
        } else {
            self.by_file(name_width, totals, &files)?;
        }
        let mut failures = Vec::new();
        for row in &self.rows {
            for (column, cell, why) in &row.cells {
                if matches!(cell, Cell::Fail | Cell::Warn) {
                    let (file, name) = &self.columns[*column];
                    failures.push(format!(
                        "{} {}: {file} :: {name}: {}",
                        cell.paint(cell.word(), self.color),
                        row.name,
                        why.as_deref().unwrap_or("failed")
                    ));
                    let log = row.logs.iter().find(|(c, _)| c == column);
                    if let (true, Some((_, log))) = (self.trace, log) {
                        failures
                            .extend(wirelog::lines(log).into_iter().map(|l| format!("    {l}")));
                    }
                }
            }
        }
        if !failures.is_empty() {
            writeln!(
                self.out,
                "\nfailures and warnings (details: --report html=PATH):"
            )?;
            for line in failures {
                writeln!(self.out, "  {line}")?;
            }
        }
        writeln!(
            self.out,
            "\n{} passed, {} failed, {} skipped, {} warned  ({})",
            summary.passed,
            summary.failed,
            summary.skipped,
            summary.warned,
            fmt_duration(duration)
        )
    }

    fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = Vec::new();
        for (file, _) in &self.columns {
            if !files.contains(file) {
                files.push(file.clone());
            }
        }
        files
    }

    /// One column per scenario, numbered, with the numbers explained below the table.
    fn by_scenario(&mut self, name_width: usize, totals: &str) -> io::Result<()> {
        let mut head = format!("{:name_width$}  ", "");
        for n in 1..=self.columns.len() {
            head.push_str(&format!("{n:<6}"));
        }
        writeln!(self.out, "{head}{totals}")?;
        for row in &self.rows {
            let mut line = format!("{:name_width$}  ", row.name);
            for column in 0..self.columns.len() {
                let text = match row.cells.iter().find(|(c, _, _)| *c == column) {
                    Some((_, cell, _)) => cell.paint(&format!("{:<6}", cell.word()), self.color),
                    None => format!("{:<6}", "·"),
                };
                line.push_str(&text);
            }
            writeln!(self.out, "{line}{}", counts(&row.summary))?;
        }
        writeln!(self.out)?;
        for (n, (file, name)) in self.columns.iter().enumerate() {
            writeln!(self.out, "{:>3}  {file} :: {name}", n + 1)?;
        }
        Ok(())
    }

    /// One column per spec file, each cell counting its scenarios by verdict.
    fn by_file(&mut self, name_width: usize, totals: &str, files: &[String]) -> io::Result<()> {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                files
                    .iter()
                    .map(|file| {
                        let mut n = [0usize; 4];
                        for (column, cell, _) in &row.cells {
                            if self.columns[*column].0 == *file {
                                n[*cell as usize] += 1;
                            }
                        }
                        let parts: Vec<String> = [Cell::Pass, Cell::Fail, Cell::Warn, Cell::Skip]
                            .iter()
                            .filter(|c| n[**c as usize] > 0)
                            .map(|c| format!("{} {}", n[*c as usize], c.word()))
                            .collect();
                        parts.join(" ")
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                cells
                    .iter()
                    .map(|r| r[i].len())
                    .max()
                    .unwrap_or(0)
                    .max(f.len())
            })
            .collect();
        let mut head = format!("{:name_width$}  ", "");
        for (file, w) in files.iter().zip(&widths) {
            head.push_str(&format!("{file:<w$}  "));
        }
        writeln!(self.out, "{head}{totals}")?;
        for (row, cells) in self.rows.iter().zip(&cells) {
            let mut line = format!("{:name_width$}  ", row.name);
            for (cell, w) in cells.iter().zip(&widths) {
                line.push_str(&format!("{cell:<w$}  "));
            }
            writeln!(self.out, "{line}{}", counts(&row.summary))?;
        }
        Ok(())
    }
}

/// A failure in one line: its first mismatch, or how the program ended when none (it never
/// became ready).
fn headline(failure: &Failure) -> Option<String> {
    failure
        .mismatches
        .first()
        .map(|m| m.summary.clone())
        .or_else(|| {
            let program = failure.program.as_ref()?;
            Some(format!("program {}", program.ending.as_ref()?))
        })
}

/// The totals columns of a row, under `passed failed warned skipped`.
fn counts(s: &Summary) -> String {
    format!("{:<7}{:<7}{:<7}{}", s.passed, s.failed, s.warned, s.skipped)
}

impl<W: Write + Send> Reporter for Table<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { .. } => {}
            Event::ScenarioStarted { id } => {
                if self.verbose {
                    writeln!(self.out, "START {} :: {}", id.suite(), id.name)?;
                }
            }
            Event::StepObserved { .. } | Event::Progress { .. } => {}
            Event::ScenarioFinished { id, verdict, .. } => {
                let key = (id.file.clone(), id.name.clone());
                let column = match self.columns.iter().position(|c| *c == key) {
                    Some(column) => column,
                    None => {
                        self.columns.push(key);
                        self.columns.len() - 1
                    }
                };
                let name = id.implementation.clone().unwrap_or_else(|| "-".into());
                let index = match self.rows.iter().position(|r| r.name == name) {
                    Some(index) => index,
                    None => {
                        self.rows.push(Row {
                            name,
                            cells: Vec::new(),
                            logs: Vec::new(),
                            summary: Summary::default(),
                        });
                        self.rows.len() - 1
                    }
                };
                let (cell, why) = match verdict {
                    Verdict::Pass => (Cell::Pass, None),
                    Verdict::Fail(f) => (Cell::Fail, headline(f)),
                    Verdict::Warn(f) => (Cell::Warn, headline(f)),
                    Verdict::Skip(reason) => (Cell::Skip, Some(reason.clone())),
                };
                let row = &mut self.rows[index];
                if let Verdict::Fail(f) | Verdict::Warn(f) = verdict
                    && let Some(log) = &f.wire
                    && self.trace
                {
                    row.logs.push((column, log.clone()));
                }
                row.summary.add(verdict);
                row.cells.push((column, cell, why));
            }
            Event::RunFinished { summary, duration } => {
                self.write_table(summary, *duration)?;
                self.out.flush()?;
            }
        }
        Ok(())
    }
}
