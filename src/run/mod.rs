//! Running planned scenarios, several at a time, and handing every result to a reporter as
//! an [`Event`].
//!
//! In: planned scenarios and [`RunOptions`]. Out: events, and a [`Summary`]; a [`SetupError`]
//! stops the run when conform itself cannot go on (the program does not exist, no port).

pub mod case;
pub mod fuzz;
mod inject;
pub mod options;
mod regress;
mod start;
mod window;

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::drive::process::SpawnError;
use crate::event::{Event, ScenarioId, Summary, TargetKind, Verdict};
use crate::plan::Planned;
use crate::report::Reporter;
use crate::spec::{Level, Scenario, Spec};
use case::Target;
use options::RunOptions;

/// conform could not do its job; not the program's fault.
#[derive(Debug)]
pub enum SetupError {
    Spawn(SpawnError),
    Port(std::io::Error),
    /// `--port` names a port that something conform did not start holds.
    PortHeld(crate::drive::port::PortHeld),
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    Report(std::io::Error),
    Other(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Spawn(e) => write!(f, "{e}"),
            SetupError::Port(e) => write!(f, "cannot find a free port: {e}"),
            SetupError::PortHeld(held) => write!(f, "{held}"),
            SetupError::Bind { addr, source } => write!(
                f,
                "cannot listen on {addr}: {}",
                crate::drive::tcp::io_reason(source)
            ),
            SetupError::Report(e) => write!(f, "cannot write the report: {e}"),
            SetupError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SetupError {}

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
    // Every scenario runs once per address family (`--ip both`), family by family.
    let families: Vec<Vec<RunOptions>> = batches
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
        .collect();
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
    let run_seed = opts.seed.unwrap_or_else(fuzz::random_seed);
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<Event, SetupError>>();
    let mut summary = Summary::default();
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, abort, work) = (&next, &abort, &work);
            scope.spawn(move || {
                while !abort.load(Ordering::SeqCst) {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some((item, opts)) = work.get(index) else {
                        break;
                    };
                    let result = run_one(item, opts, run_seed, &tx);
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
            if crate::cleanup::is_interrupted() {
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
    if crate::cleanup::is_interrupted() {
        crate::cleanup::wait_for_interrupt_exit();
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

fn run_one(
    item: &Planned<'_>,
    opts: &RunOptions,
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
            let _ = tx.send(Ok(Event::ScenarioFinished {
                id,
                target: TargetKind::Reference,
                lifecycle,
                verdict: Verdict::Skip(reason.clone()),
                duration: Duration::ZERO,
                cases: 0,
                seed: None,
                cut_short: None,
            }));
            return Ok(());
        }
    };
    let _ = tx.send(Ok(Event::ScenarioStarted { id: id.clone() }));
    let started = Instant::now();
    let mut observe = |step, passed, duration| {
        let _ = tx.send(Ok(Event::StepObserved {
            id: id.clone(),
            step,
            passed,
            duration,
        }));
    };
    let (failure, cases, seed, cut_short) = if item.scenario.is_generated() {
        let pinned = fuzz::overrides(item.scenario, &opts.with).map_err(SetupError::Other)?;
        let base = replay_base(item, target, opts);
        let planned = fuzz::planned_cases(item.scenario, opts, &pinned);
        let mut shown = Progress::new(opts.progress, &id.name, planned);
        let mut tick = |tick: fuzz::Tick| shown.tick(tick);
        let window = opts
            .window
            .or(item.scenario.window.as_ref().map(|w| w.value as usize))
            .unwrap_or(1);
        // Several requests in flight need one long-running server: a program restarted for
        // every case (the default for external programs) is fuzzed one case at a time.
        let persistent = matches!(target, Target::Reference | Target::Address(_))
            || opts.lifecycle.unwrap_or(item.scenario.lifecycle)
                == crate::spec::Lifecycle::Scenario;
        let fuzzed = if window > 1
            && persistent
            && crate::spec::validate::windowable(item.scenario)
            && !crate::generate::all_pinned(item.scenario, &pinned)
        {
            window::windowed(
                item.spec,
                item.scenario,
                target,
                opts,
                run_seed,
                &pinned,
                &base,
                window,
                planned,
            )?
        } else {
            fuzz::fuzz(
                item.spec,
                item.scenario,
                target,
                opts,
                run_seed,
                &pinned,
                &base,
                &mut tick,
            )?
        };
        shown.clear();
        let mut failure = fuzzed.failure;
        if let (Some(dir), Some(f), Some(env)) =
            (&opts.save_failures, failure.as_mut(), &fuzzed.minimal)
        {
            // Implementations of a matrix share the seed, so their files would share names.
            let dir = match &opts.implementation {
                Some(implementation) => dir.join(implementation),
                None => dir.clone(),
            };
            regress::save(&dir, item.spec, item.scenario, env, f).map_err(|e| {
                SetupError::Other(format!("--save-failures {}: {e}", dir.display()))
            })?;
        }
        (failure, fuzzed.cases, Some(run_seed), fuzzed.cut_short)
    } else {
        let env = crate::spec::Env::new();
        (
            case::run(item.spec, item.scenario, target, opts, &env, &mut observe)?,
            1,
            None,
            None,
        )
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
    }));
    Ok(())
}

/// The start of a command line that runs this scenario against the same target again.
fn replay_base(item: &Planned<'_>, target: &Target, opts: &RunOptions) -> String {
    let mut line = format!("conform run {}", fuzz::quote(&item.spec.path));
    match target {
        Target::Reference => {}
        Target::Program(words) => {
            let flag = match item.scenario.role {
                crate::spec::Role::Server => "--server",
                crate::spec::Role::Client => "--client",
            };
            let command: Vec<String> = words.iter().map(|w| fuzz::quote(w)).collect();
            line.push_str(&format!(" {flag} {}", fuzz::quote(&command.join(" "))));
        }
        Target::Address(addr) => line.push_str(&format!(" --connect {addr}")),
    }
    if let Some(lifecycle) = opts.lifecycle {
        line.push_str(&format!(" --lifecycle {lifecycle}"));
    }
    if opts.ip.is_ipv6() {
        line.push_str(" --ip 6");
    }
    if let Some(port) = opts.port {
        line.push_str(&format!(" --port {port}"));
    }
    line
}

/// A one-line progress display on a terminal, redrawn at most ten times a second.
struct Progress<'a> {
    enabled: bool,
    name: &'a str,
    planned: u32,
    started: Instant,
    last: Option<Instant>,
}

impl<'a> Progress<'a> {
    fn new(enabled: bool, name: &'a str, planned: u32) -> Self {
        Progress {
            enabled,
            name,
            planned,
            started: Instant::now(),
            last: None,
        }
    }

    fn tick(&mut self, tick: fuzz::Tick) {
        if !self.enabled
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        match tick {
            fuzz::Tick::Case { done, .. } => {
                let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                eprint!(
                    "\r\x1b[2K{}: case {done} of {}, {rate:.0} cases/s",
                    self.name, self.planned
                );
            }
            fuzz::Tick::Probe { done, size } => eprint!(
                "\r\x1b[2K{}: failed; shrinking, probe {done} (an input of size {size})",
                self.name
            ),
        }
    }

    fn clear(&self) {
        if self.enabled && self.last.is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}
