//! `conform report`: event files of several runs (the CI jobs of one split run) read back,
//! merged into one run and fed to the reporters a run uses. Clap types end here: reading is
//! [`crate::report::read`], merging [`crate::report::read::merge`].

use super::args::{FormatArg, ReportArgs};
use super::reports::{color, report_file};
use super::{CliError, fail, stdout_failed};
use crate::exit;
use crate::report::read::{self, merge};
use crate::report::{self, Fanout, Reporter};

pub(crate) fn report_command(args: &ReportArgs) -> i32 {
    let mut streams = Vec::new();
    let mut failed = None;
    let mut given = std::collections::HashSet::new();
    // Every file is read, so one command says everything that is wrong with its inputs.
    for path in &args.files {
        // A glob and a name may both give one file: its scenarios are not twice the work.
        if !given.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            eprintln!(
                "conform: warning: {} is given twice: it is read once",
                path.display()
            );
            continue;
        }
        match read::read_file(path) {
            Ok(stream) => streams.push(stream),
            Err(e) => {
                eprintln!("conform: error: {e}");
                failed = failed.max(Some(e.exit_code()));
            }
        }
    }
    if let Some(code) = failed {
        return code;
    }
    let merged = merge::merge(&streams);
    for warning in &merged.warnings {
        eprintln!("conform: warning: {warning}");
    }
    let matrix = merged.events.iter().any(|event| {
        matches!(event, crate::event::Event::ScenarioFinished { id, .. }
            if id.implementation.is_some())
    });
    let mut reporter = match reporters(args, matrix) {
        Ok(reporter) => reporter,
        Err(e) => return fail(e),
    };
    for event in &merged.events {
        if let Err(e) = reporter.report(event) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return stdout_failed(e);
            }
            return fail(CliError::Report(e));
        }
    }
    if merged.summary.failed > 0 {
        exit::FAIL
    } else {
        exit::PASS
    }
}

/// The report on stdout, as `run` or (for events that name implementations) `matrix`
/// prints it, and every `--report FORMAT=PATH` file.
fn reporters(args: &ReportArgs, matrix: bool) -> Result<Fanout, CliError> {
    let color = color(args.color);
    let stdout: Box<dyn Reporter> = match (args.format, matrix) {
        (FormatArg::Human, true) => {
            let mut table =
                report::matrix::Table::new(std::io::stdout(), super::matrix::width(), color);
            table.verbose = args.verbose;
            table.trace = args.trace;
            Box::new(table)
        }
        (FormatArg::Human, false) => {
            // As `run` prints it in a terminal or a pager: long values elided.
            let mut human = report::human::Human::new(std::io::stdout());
            human.color = color;
            human.verbose = args.verbose;
            human.trace = args.trace;
            human.elide = true;
            Box::new(human)
        }
        (format, _) => report::reporter(
            format.format(),
            Box::new(std::io::stdout()),
            report::HumanStyle::default(),
        ),
    };
    let mut all = vec![stdout];
    for spec in &args.report {
        all.push(report_file(spec, args.trace)?);
    }
    Ok(Fanout(all))
}
