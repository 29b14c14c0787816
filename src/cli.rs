//! The command line: clap types in, validated settings out, then the chosen command runs.
//! Nothing below this module sees clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod args;
mod error;
mod hints;
mod init;
mod matrix;
mod merge;
mod reference;
mod reports;
mod run;
mod specs;

pub use error::CliError;
pub(crate) use reports::{reporters, use_color};
pub(crate) use run::{announce, filters, partition, run_failed, shared_options};
pub(crate) use specs::{Loading, load_all};

use crate::exit;
use crate::spec;

#[derive(Parser, Debug)]
#[command(
    name = "conform",
    version,
    about = "Check TCP/UDP socket programs against YAML scenario files",
    after_help = args::TOP_AFTER
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
// Parsed once per process; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run scenarios against the built-in reference, or against your program.
    #[command(after_help = args::RUN_SHORT_AFTER, after_long_help = args::RUN_LONG_AFTER)]
    Run(args::RunArgs),
    /// Run the same specs against many implementations and report one table.
    #[command(after_help = args::RUN_EXIT_CODES)]
    Matrix(matrix::MatrixArgs),
    /// Merge the event files of several runs (CI jobs) into one report.
    #[command(after_help = args::REPORT_AFTER)]
    Report(args::ReportArgs),
    /// Validate spec files without touching the network.
    #[command(after_help = args::CHECK_EXIT_CODES)]
    Check {
        /// Spec files to validate, or names of shipped specs (see `conform specs`).
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
        /// Say for each SPEC whether a file or a shipped spec was read.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Write a commented starter spec for your server or client.
    #[command(after_help = args::INIT_EXIT_CODES)]
    Init(args::InitArgs),
    /// List the specs shipped inside conform, or write them out with --export.
    #[command(after_help = args::SPECS_EXIT_CODES)]
    Specs {
        /// Write every shipped file (specs and their JSON Schema) below DIR; existing files
        /// are never overwritten.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Run one of the guide's four programs, written in Rust.
    Reference(args::ReferenceArgs),
    /// Print the JSON Schema of the spec format (for editors: see specs/schema.json).
    Schema,
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// Parses the arguments and runs; returns the process exit code.
pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cli = Cli::parse_from(&argv);
    match cli.command {
        Command::Run(args) => run::run_command(args, &argv),
        Command::Matrix(args) => matrix::matrix_command(args, &argv),
        Command::Report(args) => merge::report_command(&args),
        Command::Check { specs, verbose } => specs::check_command(
            &specs,
            &Loading {
                verbose,
                argv: &argv,
            },
        ),
        Command::Init(args) => init::init_command(&args),
        Command::Specs { export: None } => specs::list_command(),
        Command::Specs { export: Some(dir) } => specs::export_command(&dir),
        Command::Reference(args) => reference::reference_command(args),
        Command::Schema => write_stdout(spec::schema::json().as_bytes()),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Into memory first: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "conform", &mut script);
            write_stdout(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            match man_page(&mut page) {
                Ok(()) => write_stdout(&page),
                Err(e) => fail(CliError::Man(e)),
            }
        }
    }
}

/// Ends a command with an error: its message on stderr and its exit code. Every command
/// that fails ends here, so the code is the error's to say, not each call site's.
pub(crate) fn fail(e: impl Into<CliError>) -> i32 {
    let e = e.into();
    eprintln!("conform: error: {e}");
    e.exit_code()
}

/// Writes a line to stdout, or returns from the calling command with the exit status a
/// failed write calls for (see [`stdout_failed`]).
macro_rules! out {
    ($($arg:tt)*) => {
        if let Err(e) = {
            use std::io::Write as _;
            writeln!(std::io::stdout(), $($arg)*)
        } {
            return $crate::cli::stdout_failed(e);
        }
    };
}
pub(crate) use out;

/// The end of a command whose stdout cannot be written: a closed pipe (`| head`) ends it
/// quietly with [`exit::CLOSED`], as the reader asked; anything else is an error.
pub(crate) fn stdout_failed(e: std::io::Error) -> i32 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        exit::CLOSED
    } else {
        fail(CliError::Stdout(e))
    }
}

/// Writes bytes to stdout as [`out!`] writes a line.
fn write_stdout(bytes: &[u8]) -> i32 {
    use std::io::Write;
    let mut stdout = std::io::stdout();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit::PASS,
        Err(e) => stdout_failed(e),
    }
}

/// The man page: the top-level page, then the options of each subcommand.
fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands() {
        let name = format!("conform {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let page = clap_mangen::Man::new(sub.clone().bin_name(name));
        page.render_synopsis_section(out)?;
        page.render_description_section(out)?;
        page.render_options_section(out)?;
    }
    Ok(())
}
