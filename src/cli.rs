//! The command line: clap types in, validated settings out, then the chosen command runs.
//! Nothing below this module sees clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod args;
mod matrix;
mod reference;
mod reports;
mod run;

pub(crate) use reports::{reporters, use_color};
pub(crate) use run::{announce, filters, shared_options};

use crate::exit;
use crate::spec::{self, Spec};

#[derive(Parser, Debug)]
#[command(
    name = "conform",
    version,
    about = "Check TCP/UDP socket programs against YAML scenario files",
    after_help = exit::HELP
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
    #[command(after_help = exit::HELP)]
    Run(args::RunArgs),
    /// Run the same specs against many implementations and report one table.
    #[command(after_help = exit::HELP)]
    Matrix(matrix::MatrixArgs),
    /// Validate spec files without touching the network.
    #[command(after_help = exit::HELP)]
    Check {
        /// Spec files to validate.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
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
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::run_command(args),
        Command::Matrix(args) => matrix::matrix_command(args),
        Command::Check { specs } => check_command(&specs),
        Command::Reference(args) => reference::reference_command(args),
        Command::Schema => {
            print!("{}", spec::schema::json());
            exit::PASS
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "conform",
                &mut std::io::stdout(),
            );
            exit::PASS
        }
        Command::Man => match man_page(&mut std::io::stdout()) {
            Ok(()) => exit::PASS,
            Err(e) => error(format!("cannot write the man page: {e}"), exit::SETUP),
        },
    }
}

pub(crate) fn error(message: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("conform: error: {message}");
    code
}

/// Loads every spec, printing every error (not only the first).
pub(crate) fn load_all(paths: &[PathBuf]) -> Result<Vec<Spec>, usize> {
    let mut specs = Vec::new();
    let mut errors = 0;
    for path in paths {
        match spec::load_file(path) {
            Ok(spec) => specs.push(spec),
            Err(e) => {
                eprintln!("conform: error: {e}");
                errors += 1;
            }
        }
    }
    if errors > 0 { Err(errors) } else { Ok(specs) }
}

fn check_command(paths: &[PathBuf]) -> i32 {
    match load_all(paths) {
        Ok(specs) => {
            for spec in &specs {
                println!(
                    "ok: {} ({} scenario(s))",
                    spec.path,
                    spec.file.scenarios.len()
                );
            }
            exit::PASS
        }
        Err(_) => exit::USAGE,
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
