//! Using conform from Rust: load a spec, run it against a target, get typed verdicts.
//!
//! In: a spec (a path or YAML text), a [`Target`] and [`RunOptions`]. Out: one
//! [`ScenarioResult`] per selected scenario, in spec order, or an [`Error`] when conform
//! could not do its job. A conformance failure is a [`Verdict::Fail`], never an `Err`.
//!
//! ```no_run
//! use conform::api::{self, SpecInput, Target};
//! use conform::event::Verdict;
//!
//! let results = api::check(
//!     SpecInput::Path("specs/udp.yaml".as_ref()),
//!     &Target::Server("python3 my_server.py {port}".into()),
//!     &api::RunOptions::default(),
//! )
//! .unwrap();
//! for r in &results {
//!     println!("{} :: {}: {}", r.file, r.name, r.verdict.word());
//! }
//! assert!(results.iter().all(|r| !matches!(r.verdict, Verdict::Fail(_))));
//! ```

use std::net::SocketAddr;
use std::path::Path;

use crate::drive::template::TemplateError;
use crate::event::{Event, ScenarioId, Verdict};
use crate::plan;
use crate::plan::Targets;
use crate::report::Reporter;
pub use crate::run::options::RunOptions;
use crate::run::{self, SetupError};
use crate::spec::{self, SpecError};

/// Where the spec comes from.
#[derive(Debug, Clone, Copy)]
pub enum SpecInput<'a> {
    Path(&'a Path),
    /// YAML text; `name` stands for the file in results and messages.
    Text {
        name: &'a str,
        text: &'a str,
    },
}

/// What the scenarios run against.
#[derive(Debug, Clone)]
pub enum Target {
    /// conform's built-in reference implementation, in-process: every scenario runs.
    Reference,
    /// A server program, as a command template (`./srv {port}`); client scenarios are skipped.
    Server(String),
    /// A client program, as a command template; server scenarios are skipped.
    Client(String),
    /// A server already listening, e.g. one your test started in-process; client
    /// scenarios are skipped.
    Address(SocketAddr),
}

/// One scenario's outcome.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub file: String,
    pub name: String,
    pub id: ScenarioId,
    /// `Pass`, `Fail` (with the failing step and bytes), `Warn` or `Skip` (with why).
    pub verdict: Verdict,
}

/// conform could not run the spec at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid or unreadable; the message has the file, line and column.
    #[error(transparent)]
    Spec(SpecError),
    /// The command template cannot be used (e.g. it contains `|`).
    #[error("`{command}`: {source}")]
    Command {
        command: String,
        #[source]
        source: TemplateError,
    },
    /// conform could not do its job (program not found, no free port).
    #[error(transparent)]
    Setup(SetupError),
}

impl Error {
    /// The exit status `conform run` ends with for the same error (see `exit`).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec(e) => e.exit_code(),
            Error::Command { .. } => crate::exit::USAGE,
            Error::Setup(e) => e.exit_code(),
        }
    }
}

/// Loads the spec and runs every scenario of it against `target`. `options.targets` is
/// ignored: `target` says what runs.
pub fn check(
    input: SpecInput<'_>,
    target: &Target,
    options: &RunOptions,
) -> Result<Vec<ScenarioResult>, Error> {
    let spec = match input {
        SpecInput::Path(path) => spec::load_file(path),
        SpecInput::Text { name, text } => spec::load_str(name, text),
    }
    .map_err(Error::Spec)?;
    let words = |cmd: &str| {
        crate::drive::template::split(cmd).map_err(|source| Error::Command {
            command: cmd.to_string(),
            source,
        })
    };
    let targets = match target {
        Target::Reference => Targets::default(),
        Target::Server(cmd) => Targets {
            server: Some(words(cmd)?),
            ..Targets::default()
        },
        Target::Client(cmd) => Targets {
            client: Some(words(cmd)?),
            ..Targets::default()
        },
        Target::Address(addr) => Targets {
            connect: Some(*addr),
            ..Targets::default()
        },
    };
    let options = RunOptions {
        targets,
        ..options.clone()
    };
    let specs = [spec];
    let planned = plan::plan(&specs, &options.targets, &[]);
    let mut collector = Collector::default();
    run::run(&planned, &options, &mut collector).map_err(Error::Setup)?;
    // Results come in completion order; give them in spec order.
    let mut results = collector.0;
    let order = |r: &ScenarioResult| planned.iter().position(|p| p.scenario.name.value == r.name);
    results.sort_by_key(order);
    Ok(results)
}

/// Keeps every finished scenario.
#[derive(Default)]
struct Collector(Vec<ScenarioResult>);

impl Reporter for Collector {
    fn report(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::ScenarioFinished { id, verdict, .. } => self.0.push(ScenarioResult {
                file: id.file.clone(),
                name: id.name.clone(),
                id: id.clone(),
                verdict: verdict.clone(),
            }),
            Event::RunStarted { .. }
            | Event::ScenarioStarted { .. }
            | Event::StepObserved { .. }
            | Event::Progress { .. }
            | Event::RunFinished { .. } => {}
        }
        Ok(())
    }
}
