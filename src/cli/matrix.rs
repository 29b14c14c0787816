//! `conform matrix`: the same specs against many implementations in one run, reported as
//! one table. Clap types end here: what goes on is [`crate::matrix`] and the runner.

use std::path::PathBuf;

use super::args::SharedArgs;
use super::{CliError, Loading, fail, load_all, reporters, shared_options, use_color};
use crate::exit;
use crate::matrix::{self, Implementation, MatrixError};
use crate::plan;
use crate::plan::Targets;
use crate::report::Reporter;
use crate::run::{self, Batch};

const IMPLEMENTATIONS: &str = "Implementations";

/// Width of the table when stdout is not a terminal and COLUMNS does not say.
const DEFAULT_WIDTH: usize = 120;

#[derive(clap::Args, Debug)]
pub(crate) struct MatrixArgs {
    /// Spec files, or names of shipped specs, to run against every implementation.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// A server under test, `NAME=CMD` (CMD as for `run --server`). Repeatable; a server and a
    /// client with the same NAME are one implementation. With --each, a template without NAME
    /// in which {dir} and {name} are replaced by each directory's absolute path and name.
    #[arg(long, value_name = "NAME=CMD", help_heading = IMPLEMENTATIONS)]
    server: Vec<String>,
    /// A client under test, `NAME=CMD`, as for --server.
    #[arg(long, value_name = "NAME=CMD", help_heading = IMPLEMENTATIONS)]
    client: Vec<String>,
    /// One implementation per directory matching GLOB (`*` and `?` in path components),
    /// named after the directory.
    #[arg(long, value_name = "GLOB", help_heading = IMPLEMENTATIONS)]
    each: Option<String>,
    #[command(flatten)]
    shared: SharedArgs,
}

/// The implementations the command line names.
fn implementations(args: &MatrixArgs) -> Result<Vec<Implementation>, MatrixError> {
    let all = match &args.each {
        Some(glob) => {
            if args.server.len() > 1 || args.client.len() > 1 {
                return Err(MatrixError::EachTemplates { glob: glob.clone() });
            }
            matrix::each(
                glob,
                args.server.first().map(String::as_str),
                args.client.first().map(String::as_str),
            )?
        }
        None => matrix::named(&args.server, &args.client)?,
    };
    if all.is_empty() {
        return Err(MatrixError::NoImplementation);
    }
    Ok(all)
}

/// The width the table may use: COLUMNS, else the terminal's, else a default.
pub(crate) fn width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return columns;
    }
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the struct it is given, which outlives the
    // call; on a descriptor that is not a terminal it fails and writes nothing.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &raw mut size) };
    if rc == 0 && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        DEFAULT_WIDTH
    }
}

pub(crate) fn matrix_command(args: MatrixArgs, argv: &[String]) -> i32 {
    let implementations = match implementations(&args) {
        Ok(all) => all,
        Err(e) => return fail(e),
    };
    let mut options = Vec::new();
    for implementation in &implementations {
        let targets = Targets {
            server: implementation.server.clone(),
            client: implementation.client.clone(),
            connect: None,
        };
        match shared_options(&args.shared, targets) {
            Ok(mut opts) => {
                opts.implementation = Some(implementation.name.clone());
                // A progress line per implementation would only scroll the table away.
                opts.progress = false;
                options.push(opts);
            }
            Err(e) => return fail(e),
        }
    }
    let Ok(specs) = load_all(
        &args.specs,
        &Loading {
            verbose: args.shared.verbose,
            argv,
        },
    ) else {
        return exit::USAGE;
    };
    crate::os::cleanup::install();
    super::announce(&args.shared);
    let filters = match super::filters(&args.shared) {
        Ok(filters) => filters,
        Err(e) => return fail(e),
    };
    let partition = match super::partition(&args.shared) {
        Ok(partition) => partition,
        Err(e) => return fail(e),
    };
    let mut planned: Vec<Vec<plan::Planned<'_>>> = options
        .iter()
        .map(|opts| {
            let mut planned = plan::plan(&specs, &opts.targets, &filters);
            plan::require_reference(&mut planned, opts.reference.is_some());
            planned
        })
        .collect();
    if let Some(partition) = partition {
        // Every implementation plans the same scenarios in the same order, so each share is
        // the same scenarios for all of them, and the shares together run everything once.
        let selected = planned.first().map_or(0, Vec::len);
        planned = planned.into_iter().map(|p| partition.apply(p)).collect();
        if planned.iter().all(Vec::is_empty) && selected > 0 {
            eprintln!(
                "conform: --partition {partition}: this share has none of the {selected} \
                 selected scenario(s)"
            );
            return exit::PASS;
        }
    }
    if planned
        .iter()
        .all(|p| p.iter().all(|item| item.target.is_err()))
    {
        return fail(CliError::NoneFits);
    }
    let mut table =
        crate::report::matrix::Table::new(std::io::stdout(), width(), use_color(&args.shared));
    table.verbose = args.shared.verbose;
    table.trace = args.shared.trace;
    let mut reporter = match reporters(&args.shared, Some(Box::new(table))) {
        Ok(reporter) => reporter,
        Err(e) => return fail(e),
    };
    let batches: Vec<Batch<'_, '_>> = planned
        .iter()
        .zip(&options)
        .map(|(planned, opts)| Batch { planned, opts })
        .collect();
    match run::run_batches(&batches, &mut reporter as &mut dyn Reporter) {
        Ok(summary) if summary.failed > 0 => exit::FAIL,
        Ok(_) => exit::PASS,
        Err(e) => super::run_failed(e),
    }
}
