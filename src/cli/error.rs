//! Every way a command can end in an error, each with the exit code it ends conform with.
//!
//! In: what went wrong in a command, or the typed error of the stage below it (plan,
//! baseline, matrix, run). Out: one [`CliError`], which [`super::fail`] prints as
//! `conform: error: MESSAGE` and turns into the process's exit code.

use std::path::PathBuf;

use crate::baseline::BaselineError;
use crate::drive::template::TemplateError;
use crate::exit;
use crate::matrix::MatrixError;
use crate::plan::{PlanError, Skip};
use crate::report::ReportError;
use crate::run::SetupError;
use crate::spec::SpecError;

/// A command that cannot go on. `flag` is a long option without its dashes.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    #[error(transparent)]
    Run(#[from] SetupError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A spec argument that is neither a file nor the name of a shipped spec: the message
    /// lists the shipped ones, and the closest.
    #[error("{source}{}", super::specs::not_shipped(arg))]
    NoSuchSpec {
        arg: String,
        #[source]
        source: SpecError,
    },
    #[error("--{flag}: {source}")]
    Template {
        flag: &'static str,
        #[source]
        source: TemplateError,
    },
    #[error("--connect {text}: not an address like 127.0.0.1:12321 ({source})")]
    Connect {
        text: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--connect {text}: the name resolves to no address")]
    ConnectNowhere { text: String },
    #[error(
        "--port {port} gives every program the same port, so scenarios must run one at a time: \
         drop --jobs {jobs} (or use --jobs 1)"
    )]
    PortWithJobs { port: u16, jobs: u16 },
    #[error(
        "--port {port} is the port of a program under test: use it with --server or --client \
         (the built-in reference always runs on free ports)"
    )]
    PortWithoutProgram { port: u16 },
    #[error("--with {given}: write NAME=VALUE")]
    WithForm { given: String },
    #[error("--report {spec}: write FORMAT=PATH, e.g. junit=report.xml")]
    ReportForm { spec: String },
    #[error("--report {spec}: {source}")]
    ReportFormat {
        spec: String,
        #[source]
        source: ReportError,
    },
    #[error("--report {spec}: cannot write {path}: {source}")]
    ReportFile {
        spec: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--pcap {}: cannot create the directory: {source}", dir.display())]
    Pcap {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no scenario selected: no scenario matches every --filter")]
    NoneMatch,
    /// Every selected scenario is skipped; `first` is why the first one is.
    #[error("no scenario selected: {}", every_skipped(first))]
    AllSkipped { first: Option<Skip> },
    #[error("no scenario selected: nothing would run (see the list)")]
    NothingListed,
    #[error(
        "no scenario selected: no scenario matches every --filter, or none fits the roles the \
         implementations provide"
    )]
    NoneFits,
    #[error(
        "--export {}: not overwriting {} existing file(s): {}; remove them or export into \
         another directory",
        dir.display(),
        existing.len(),
        existing.join(", ")
    )]
    ExportExisting { dir: PathBuf, existing: Vec<String> },
    #[error("--export: cannot write {}: {source}", path.display())]
    Export {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} exists already: not overwriting it; give another name", path.display())]
    InitExists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    InitWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--host {host}: not an address")]
    Host { host: String },
    /// A reference program that failed at its job: the exchange, not conform.
    #[error("{addr}: {source}")]
    Reference {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The report of `conform report` cannot be written.
    #[error("cannot write the report: {0}")]
    Report(#[source] std::io::Error),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    #[error("cannot render the man page: {0}")]
    Man(#[source] std::io::Error),
}

impl CliError {
    /// The exit status this error ends conform with (see `exit`): the command line's fault
    /// (2), conform unable to do its job (3), or, for `conform reference`, the exchange
    /// failing (1). Errors of the stages below keep their own.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Plan(e) => e.exit_code(),
            CliError::Baseline(e) => e.exit_code(),
            CliError::Matrix(e) => e.exit_code(),
            CliError::Run(e) => e.exit_code(),
            CliError::Spec(e) | CliError::NoSuchSpec { source: e, .. } => e.exit_code(),
            CliError::Template { .. }
            | CliError::Connect { .. }
            | CliError::ConnectNowhere { .. }
            | CliError::PortWithJobs { .. }
            | CliError::PortWithoutProgram { .. }
            | CliError::WithForm { .. }
            | CliError::ReportForm { .. }
            | CliError::ReportFormat { .. }
            | CliError::NoneMatch
            | CliError::AllSkipped { .. }
            | CliError::NothingListed
            | CliError::NoneFits
            | CliError::ExportExisting { .. }
            | CliError::InitExists { .. }
            | CliError::Host { .. } => exit::USAGE,
            CliError::ReportFile { .. }
            | CliError::Pcap { .. }
            | CliError::Export { .. }
            | CliError::InitWrite { .. }
            | CliError::Report(_)
            | CliError::Stdout(_)
            | CliError::Man(_) => exit::SETUP,
            CliError::Reference { .. } => exit::FAIL,
        }
    }
}

fn every_skipped(first: &Option<Skip>) -> String {
    match first {
        Some(skip) => format!("every scenario was skipped ({skip})"),
        None => "the specs have no scenarios".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "denied")
    }

    #[test]
    fn the_command_lines_faults_end_with_2_and_conforms_own_with_3() {
        let usage = CliError::ReportForm {
            spec: "junit".into(),
        };
        assert_eq!(
            usage.to_string(),
            "--report junit: write FORMAT=PATH, e.g. junit=report.xml"
        );
        assert_eq!(usage.exit_code(), exit::USAGE);
        let setup = CliError::ReportFile {
            spec: "junit=/r.xml".into(),
            path: "/r.xml".into(),
            source: io(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            setup.to_string(),
            "--report junit=/r.xml: cannot write /r.xml: denied"
        );
        assert_eq!(setup.exit_code(), exit::SETUP);
        assert!(setup.source().is_some_and(|s| s.is::<std::io::Error>()));
    }

    #[test]
    fn errors_of_the_stages_below_keep_their_message_code_and_source() {
        let plan: CliError = "role:neither"
            .parse::<crate::plan::Filter>()
            .unwrap_err()
            .into();
        assert_eq!(
            plan.to_string(),
            "--filter role:neither: a role is `server` or `client`"
        );
        assert_eq!(plan.exit_code(), exit::USAGE);

        let write = CliError::from(BaselineError::Write {
            path: "/b.json".into(),
            source: io(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(write.exit_code(), exit::SETUP);
        assert!(write.source().is_some_and(|s| s.is::<std::io::Error>()));

        let run = CliError::from(SetupError::Port(io(std::io::ErrorKind::AddrInUse)));
        assert_eq!(run.to_string(), "cannot find a free port: denied");
        assert_eq!(run.exit_code(), exit::SETUP);
    }

    #[test]
    fn a_failing_reference_program_ends_as_a_failure() {
        let e = CliError::Reference {
            addr: "127.0.0.1:9".parse().unwrap(),
            source: io(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(e.to_string(), "127.0.0.1:9: denied");
        assert_eq!(e.exit_code(), exit::FAIL);
    }

    #[test]
    fn a_bad_template_names_the_flag_and_keeps_the_template_error() {
        let source = crate::drive::template::split("").unwrap_err();
        let e = CliError::Template {
            flag: "server",
            source,
        };
        assert_eq!(e.to_string(), "--server: the command is empty");
        assert!(e.source().is_some_and(|s| s.is::<TemplateError>()));
    }

    #[test]
    fn all_skipped_says_why_the_first_was() {
        let e = CliError::AllSkipped {
            first: Some(Skip::NoClient),
        };
        assert_eq!(
            e.to_string(),
            "no scenario selected: every scenario was skipped (a client scenario, and no \
             --client was given)"
        );
        let e = CliError::AllSkipped { first: None };
        assert_eq!(
            e.to_string(),
            "no scenario selected: the specs have no scenarios"
        );
    }
}
