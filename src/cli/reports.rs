//! The reports a run writes, from the command line: the one on stdout (coloured or not) and
//! every `--report FORMAT=PATH` file and `--pcap` directory, fanned out from one event stream.

use super::CliError;
use super::args::{ColorArg, SharedArgs};
use crate::report::{self, Fanout, Format, Reporter};

/// Whether the report on stdout is coloured: `--color`, else a terminal without `NO_COLOR`.
pub(crate) fn use_color(args: &SharedArgs) -> bool {
    color(args.color)
}

/// Whether `--color WHEN` colours the report on stdout.
pub(crate) fn color(when: ColorArg) -> bool {
    use std::io::IsTerminal;
    match when {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The stdout report (`human` replaced by `stdout_human` when given: `matrix` prints its
/// table instead) and every `--report FORMAT=PATH` file and `--pcap` directory.
pub(crate) fn reporters(
    args: &SharedArgs,
    stdout_human: Option<Box<dyn Reporter>>,
) -> Result<Fanout, CliError> {
    let color = use_color(args);
    let stdout_format = args.format.format();
    let style = report::HumanStyle {
        color,
        verbose: args.verbose,
        trace: args.trace,
    };
    let stdout: Box<dyn Reporter> = match (stdout_format, stdout_human) {
        (Format::Human, Some(table)) => table,
        (Format::Human, None) => {
            // Read in a terminal or a pager: long values are elided. Files keep more.
            let mut human = report::human::Human::new(std::io::stdout());
            human.color = style.color;
            human.verbose = style.verbose;
            human.trace = style.trace;
            human.elide = true;
            Box::new(human)
        }
        (format, _) => report::reporter(format, Box::new(std::io::stdout()), style),
    };
    // The progress line comes first: it clears itself before the report prints a verdict.
    let mut all: Vec<Box<dyn Reporter>> = Vec::new();
    if shows_progress() {
        all.push(Box::new(report::progress::ProgressLine::new(
            std::io::stderr(),
        )));
    }
    all.push(stdout);
    for spec in &args.report {
        all.push(report_file(spec, args.trace)?);
    }
    if let Some(dir) = &args.pcap {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Pcap {
            dir: dir.clone(),
            source,
        })?;
        all.push(Box::new(report::pcap::Pcap::new(dir)));
    }
    Ok(Fanout(all))
}

/// The reporter of one `--report FORMAT=PATH`, its file created; `trace` puts the wire log
/// in a human report file.
pub(crate) fn report_file(spec: &str, trace: bool) -> Result<Box<dyn Reporter>, CliError> {
    let (format, path) = spec.split_once('=').ok_or_else(|| CliError::ReportForm {
        spec: spec.to_string(),
    })?;
    let format: Format = format.parse().map_err(|source| CliError::ReportFormat {
        spec: spec.to_string(),
        source,
    })?;
    let file = std::fs::File::create(path).map_err(|source| CliError::ReportFile {
        spec: spec.to_string(),
        path: path.to_string(),
        source,
    })?;
    Ok(report::reporter(
        format,
        Box::new(std::io::BufWriter::new(file)),
        report::HumanStyle {
            trace,
            ..report::HumanStyle::default()
        },
    ))
}

/// Whether the run draws a progress line: both stdout and stderr are a terminal.
pub(crate) fn shows_progress() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}
