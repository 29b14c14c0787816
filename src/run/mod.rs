//! Running planned scenarios, several at a time, and handing every result to a reporter as
//! an [`Event`].
//!
//! In: planned scenarios and [`RunOptions`]. Out: events, and a [`Summary`]; a [`SetupError`]
//! stops the run when conform itself cannot go on (the program does not exist, no port).

mod clients;
mod converse;
mod exec;
#[cfg(test)]
mod exec_tests;
mod feed;
pub mod fuzz;
mod history;
mod inject;
pub mod options;
mod pair;
mod script;
mod session;
mod settle;
mod start;
mod steps;
mod transcript;
mod window;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::drive::process::SpawnError;
use crate::event::Reporter;
use crate::event::{Event, ScenarioId, Summary, TargetKind, Tick, Verdict};
use crate::plan::{Planned, Target};
use crate::spec::{Level, Scenario, Spec, Value};
use exec::{Ctx, Executor};
use options::RunOptions;

/// conform could not do its job, or was asked to do something impossible: not the
/// program's fault. Each error knows its exit code.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Spawn(#[from] SpawnError),
    #[error("cannot find a free port: {0}")]
    Port(#[source] std::io::Error),
    /// `--port` names a port that something conform did not start holds.
    #[error("{0}")]
    PortHeld(crate::drive::port::PortHeld),
    #[error("cannot listen on {addr}: {}", crate::drive::tcp::io_reason(source))]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the report: {0}")]
    Report(#[source] std::io::Error),
    #[error("cannot read the kernel's socket table: {0}")]
    SocketTable(#[source] std::io::Error),
    /// A `--save-failures` file could not be written.
    #[error("--save-failures {}: {message}", dir.display())]
    Save {
        dir: std::path::PathBuf,
        message: String,
    },
    /// The command line asks for what the selected scenarios cannot give.
    #[error("{0}")]
    Usage(String),
    /// A `--with` value that pins nothing (boxed: it names the flag, the value and the
    /// scenario, and the run's errors stay small).
    #[error(transparent)]
    With(Box<fuzz::WithError>),
    /// A `--session` that names no session of a selected scenario.
    #[error("--session: {0}")]
    Session(#[source] Box<crate::input::session::encode::SessionError>),
    /// A scenario asks for what its target cannot do (e.g. `--connect` for a client).
    #[error("{0}")]
    Target(String),
}

impl From<fuzz::WithError> for SetupError {
    fn from(e: fuzz::WithError) -> Self {
        SetupError::With(Box::new(e))
    }
}

impl SetupError {
    /// The exit status this error ends conform with (see `exit`).
    pub fn exit_code(&self) -> i32 {
        match self {
            SetupError::Usage(_) => crate::exit::USAGE,
            SetupError::With(e) => e.exit_code(),
            SetupError::Session(e) => e.exit_code(),
            _ => crate::exit::SETUP,
        }
    }
}

pub fn scenario_id(spec: &Spec, scenario: &Scenario) -> ScenarioId {
    ScenarioId {
        file: spec.path.clone(),
        name: scenario.name.value.clone(),
        role: scenario.role,
        transport: scenario.transport,
        level: scenario.level,
        tags: scenario.tags.clone(),
        implementation: None,
    }
}

fn target_kind(target: &Target) -> TargetKind {
    match target {
        Target::Reference => TargetKind::Reference,
        Target::Program(words) => TargetKind::Program(words.clone()),
        Target::Address(addr) => TargetKind::Address(addr.to_string()),
    }
}

/// Runs every planned scenario, `opts.jobs` at a time; reports in completion order.
pub fn run(
    planned: &[Planned<'_>],
    opts: &RunOptions,
    reporter: &mut dyn Reporter,
) -> Result<Summary, SetupError> {
    run_batches(&[Batch { planned, opts }], reporter)
}

/// The scenarios planned for one implementation, with its options (targets, name).
pub struct Batch<'p, 'a> {
    pub planned: &'p [Planned<'a>],
    pub opts: &'p RunOptions,
}

/// Runs several batches as one run (`conform matrix`: one batch per implementation), with
/// the first batch's `jobs` and seed, so every implementation meets the same generated cases.
pub fn run_batches(
    batches: &[Batch<'_, '_>],
    reporter: &mut dyn Reporter,
) -> Result<Summary, SetupError> {
    let started = Instant::now();
    let Some(first) = batches.first() else {
        return Ok(Summary::default());
    };
    let opts = first.opts;
    let families = families(batches);
    let work: Vec<(&Planned<'_>, &RunOptions)> = batches
        .iter()
        .zip(&families)
        .flat_map(|(batch, families)| {
            families
                .iter()
                .flat_map(move |family| batch.planned.iter().map(move |item| (item, family)))
        })
        .collect();
    let jobs = opts.jobs.clamp(1, work.len().max(1));
    reporter
        .report(&Event::RunStarted {
            scenarios: work.len(),
            jobs,
        })
        .map_err(SetupError::Report)?;
    let pinned = pin_values(&work)?;
    check_session(&work)?;
    let run_seed = opts.seed.unwrap_or_else(fuzz::random_seed);
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<Event, SetupError>>();
    let mut summary = Summary::default();
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, abort, work, pinned) = (&next, &abort, &work, &pinned);
            scope.spawn(move || {
                while !abort.load(Ordering::SeqCst) {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some((item, opts)) = work.get(index) else {
                        break;
                    };
                    let result = run_one(item, opts, &pinned[index], run_seed, &tx);
                    if let Err(e) = result {
                        abort.store(true, Ordering::SeqCst);
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            });
        }
        drop(tx);
        for message in rx {
            if crate::os::cleanup::is_interrupted() {
                // What programs do now is conform's own SIGTERM at work: judge nothing.
                abort.store(true, Ordering::SeqCst);
                continue;
            }
            match message {
                Ok(event) => {
                    if let Event::ScenarioFinished { verdict, .. } = &event {
                        summary.add(verdict);
                    }
                    if let Err(e) = reporter.report(&event) {
                        abort.store(true, Ordering::SeqCst);
                        first_error.get_or_insert(SetupError::Report(e));
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    if crate::os::cleanup::is_interrupted() {
        crate::os::cleanup::wait_for_interrupt_exit();
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    reporter
        .report(&Event::RunFinished {
            summary,
            duration: started.elapsed(),
        })
        .map_err(SetupError::Report)?;
    Ok(summary)
}

/// Every batch's options once per address family (`--ip both`): each scenario runs once per
/// family, family by family.
fn families(batches: &[Batch<'_, '_>]) -> Vec<Vec<RunOptions>> {
    batches
        .iter()
        .map(|batch| {
            if batch.opts.families.is_empty() {
                vec![batch.opts.clone()]
            } else {
                batch
                    .opts
                    .families
                    .iter()
                    .map(|ip| batch.opts.for_family(*ip))
                    .collect()
            }
        })
        .collect()
}

/// The values `--with` pins, resolved for every scenario of the run before anything starts:
/// a name that no selected scenario generates, an unknown encoding or a value its generator
/// cannot make is a usage error (exit 2) naming what would have been right.
fn pin_values(work: &[(&Planned<'_>, &RunOptions)]) -> Result<Vec<Pinned>, SetupError> {
    let mut pinned = Vec::with_capacity(work.len());
    for (item, opts) in work {
        pinned.push(fuzz::overrides(item.scenario, &opts.with)?);
    }
    let Some((_, opts)) = work.first() else {
        return Ok(pinned);
    };
    for (name, text) in &opts.with {
        if pinned.iter().any(|p| p.contains_key(name)) {
            continue;
        }
        let mut known: Vec<String> = work
            .iter()
            .flat_map(|(item, _)| item.scenario.generate.keys().cloned())
            .collect();
        known.sort();
        known.dedup();
        let (name, text) = (name.clone(), text.clone());
        return Err(if known.is_empty() {
            fuzz::WithError::NothingGenerated { name, text }
        } else {
            fuzz::WithError::NotGenerated { name, text, known }
        }
        .into());
    }
    Ok(pinned)
}

/// `--session` names commands of the selected session scenarios, and `--clients` fits
/// them: checked before anything starts, like `--with`.
fn check_session(work: &[(&Planned<'_>, &RunOptions)]) -> Result<(), SetupError> {
    for (item, opts) in work {
        clients_of(item.scenario, opts)?;
    }
    let Some(text) = work.first().and_then(|(_, opts)| opts.session.as_deref()) else {
        return Ok(());
    };
    let sessions: Vec<&Scenario> = work
        .iter()
        .map(|(item, _)| item.scenario)
        .filter(|s| s.is_session())
        .collect();
    if sessions.is_empty() {
        return Err(SetupError::Usage(format!(
            "--session {text}: no selected scenario plays sessions (`commands`)"
        )));
    }
    for scenario in sessions {
        crate::input::session::encode::decode(scenario, text)
            .map_err(|e| SetupError::Session(Box::new(e)))?;
    }
    Ok(())
}

/// The values `--with` pins for one scenario.
type Pinned = BTreeMap<String, Value>;

fn run_one(
    item: &Planned<'_>,
    opts: &RunOptions,
    pinned: &Pinned,
    run_seed: u64,
    tx: &mpsc::Sender<Result<Event, SetupError>>,
) -> Result<(), SetupError> {
    let mut id = scenario_id(item.spec, item.scenario);
    id.name.push_str(opts.family_suffix());
    id.implementation = opts.implementation.clone();
    let lifecycle = opts.lifecycle.unwrap_or(item.scenario.lifecycle);
    let target = match &item.target {
        Ok(target) => target,
        Err(reason) => {
            let skip = skipped(id, TargetKind::Reference, lifecycle, reason.to_string());
            let _ = tx.send(Ok(skip));
            return Ok(());
        }
    };
    if item.scenario.uses_reference() && opts.reference.is_none() {
        let reason = crate::plan::Skip::NoReference.to_string();
        let _ = tx.send(Ok(skipped(id, target_kind(target), lifecycle, reason)));
        return Ok(());
    }
    let _ = tx.send(Ok(Event::ScenarioStarted { id: id.clone() }));
    let started = Instant::now();
    let ctx = Ctx::new(item.spec, item.scenario, target, opts);
    let clients = clients_of(item.scenario, opts)?;
    let (failure, cases, seed, cut_short, window) = if clients > 1 {
        let mut progress = ProgressFeed::new(opts.progress, &id, tx);
        let fed = clients::concurrent(ctx, clients, run_seed, pinned, &mut |tick| {
            progress.tick(tick)
        })?;
        (fed.failure, fed.cases, Some(run_seed), fed.cut_short, None)
    } else if item.scenario.is_session() || item.scenario.uses_reference() {
        let mut progress = ProgressFeed::new(opts.progress, &id, tx);
        let fed = converse::conversations(ctx, run_seed, pinned, &mut |tick| progress.tick(tick))?;
        let seed = item.scenario.runs_many().then_some(run_seed);
        (fed.failure, fed.cases, seed, fed.cut_short, None)
    } else if item.scenario.is_generated() {
        let mut progress = ProgressFeed::new(opts.progress, &id, tx);
        let fuzzed = fuzz::generated(ctx, run_seed, pinned, &mut |tick| progress.tick(tick))?;
        (
            fuzzed.failure,
            fuzzed.cases,
            Some(run_seed),
            fuzzed.cut_short,
            fuzzed.window,
        )
    } else {
        let mut observe = |step, passed, duration| {
            let _ = tx.send(Ok(Event::StepObserved {
                id: id.clone(),
                step,
                passed,
                duration,
            }));
        };
        let mut executor = Executor::new(ctx, crate::spec::Lifecycle::Case);
        let failure = executor.case(&crate::spec::Env::new(), &mut observe)?;
        (failure, 1, None, None, None)
    };
    let verdict = match failure {
        None => Verdict::Pass,
        Some(f) if item.scenario.level == Level::Should && !opts.strict => {
            Verdict::Warn(Box::new(f))
        }
        Some(f) => Verdict::Fail(Box::new(f)),
    };
    let _ = tx.send(Ok(Event::ScenarioFinished {
        id,
        target: target_kind(target),
        lifecycle,
        verdict,
        duration: started.elapsed(),
        cases,
        seed,
        cut_short,
        window,
        clients: (clients > 1).then_some(clients),
    }));
    Ok(())
}

/// The event of a scenario that did not run, and why.
fn skipped(
    id: ScenarioId,
    target: TargetKind,
    lifecycle: crate::spec::Lifecycle,
    reason: String,
) -> Event {
    Event::ScenarioFinished {
        id,
        target,
        lifecycle,
        verdict: Verdict::Skip(reason),
        duration: Duration::ZERO,
        cases: 0,
        seed: None,
        cut_short: None,
        window: None,
        clients: None,
    }
}

/// How many clients a scenario plays at once: `--clients` for session scenarios, else the
/// spec's `clients`. A number the scenario cannot take is a usage error.
fn clients_of(scenario: &crate::spec::Scenario, opts: &RunOptions) -> Result<usize, SetupError> {
    let from_spec = scenario.clients.as_ref().map_or(1, |c| c.value);
    let Some(n) = opts.clients.filter(|_| scenario.is_session()) else {
        return Ok(from_spec as usize);
    };
    crate::spec::validate::clients::fits(scenario, n, scenario.name.referenced).map_err(
        |(_, message)| {
            SetupError::Usage(format!(
                "--clients {n}: in scenario `{}`: {message}",
                scenario.name.value
            ))
        },
    )?;
    Ok(n as usize)
}

/// Hands a generated scenario's progress to the reporters as events, at most ten a second:
/// drawing them is the human reporter's business, not the worker's.
struct ProgressFeed<'a> {
    enabled: bool,
    id: &'a ScenarioId,
    tx: &'a mpsc::Sender<Result<Event, SetupError>>,
    last: Option<Instant>,
}

impl<'a> ProgressFeed<'a> {
    fn new(
        enabled: bool,
        id: &'a ScenarioId,
        tx: &'a mpsc::Sender<Result<Event, SetupError>>,
    ) -> Self {
        ProgressFeed {
            enabled,
            id,
            tx,
            last: None,
        }
    }

    fn tick(&mut self, tick: Tick) {
        if !self.enabled
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let _ = self.tx.send(Ok(Event::Progress {
            id: self.id.clone(),
            tick,
        }));
    }
}
