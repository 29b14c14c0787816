//! Generated scenarios: many cases from a seed, and shrinking of a failure to the simplest
//! input that still fails, against the live program.
//!
//! In: a scenario with `generate`, a target, options and a seed. Out: how many cases ran and,
//! on failure, the [`Failure`] of the minimal case with the original and minimal inputs, how
//! shrinking ended and a command line that replays it. Values come from [`generate`], the
//! search from [`shrink`]; this module keeps the program running (or restarts it) between
//! cases, and decides what "fails the same way" means. The windowed runner shares
//! [`settle`], so every path shrinks with the same search.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::SetupError;
use super::case::{self, Opened, Session, Target};
use super::options::{DEFAULT_BUDGET, DEFAULT_CASES, RunOptions};
use crate::event::{CutShort, Failure, Generated, Shrinking};
use crate::generate::{self, Rng};
use crate::shrink::{self, End, Limits, Probe};
use crate::spec::data::decode_value;
use crate::spec::validate::first_input_step;
use crate::spec::{Env, Generator, Lifecycle, Role, Scenario, Spec, Value};

pub struct Fuzzed {
    pub cases: u64,
    pub failure: Option<Failure>,
    /// The values of the minimal failing case, when shrinking produced one worth saving.
    pub minimal: Option<Env>,
    /// Set when the time budget stopped the cases early.
    pub cut_short: Option<CutShort>,
}

/// What a run of cases reports as it goes, for the progress line.
#[derive(Debug, Clone, Copy)]
pub enum Tick {
    /// A case ended: how many have run, and whether this one failed.
    Case { done: u64, failed: bool },
    /// A shrinking probe ended: how many have run, and the size of the input it tried.
    Probe { done: u64, size: usize },
}

/// Resolves `--with NAME=VALUE` for this scenario (names it does not generate are ignored:
/// the flag applies to every selected scenario).
pub fn overrides(
    scenario: &Scenario,
    with: &[(String, String)],
) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    for (name, text) in with {
        if let Some(g) = scenario.generate.get(name) {
            let (base, width) = match &g.value {
                Generator::Split { data, .. } => (Some(data.as_slice()), None),
                Generator::Number { width, .. } => (None, Some(*width)),
                _ => (None, None),
            };
            let value = decode_value(text, base, width)
                .map_err(|e| format!("--with {name}={text}: {e}"))?;
            if !g.value.admits(&value) {
                return Err(format!(
                    "--with {name}={text}: the value is not one its generator makes (check its length, characters or range)"
                ));
            }
            out.insert(name.clone(), value);
        }
    }
    Ok(out)
}

/// The cases a generated scenario runs: one when every value is pinned.
pub fn planned_cases(
    scenario: &Scenario,
    opts: &RunOptions,
    pinned: &BTreeMap<String, Value>,
) -> u32 {
    if generate::all_pinned(scenario, pinned) {
        1
    } else {
        opts.cases
            .or(scenario.cases.as_ref().map(|c| c.value))
            .unwrap_or(DEFAULT_CASES)
    }
}

/// The time a generated scenario may spend running cases.
pub fn budget(scenario: &Scenario, opts: &RunOptions) -> Duration {
    opts.budget
        .or(scenario.budget.as_ref().map(|b| b.value.get()))
        .unwrap_or(DEFAULT_BUDGET)
}

/// The program under test, started or restarted as the lifecycle says.
struct Runner<'a> {
    scenario: &'a Scenario,
    target: &'a Target,
    opts: &'a RunOptions,
    lifecycle: Lifecycle,
    within: Duration,
    session: Option<Session>,
    setup: Option<SetupError>,
}

#[allow(clippy::too_many_arguments)]
pub fn fuzz(
    spec: &Spec,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    replay_base: &str,
    progress: &mut dyn FnMut(Tick),
) -> Result<Fuzzed, SetupError> {
    // A client under test runs once per case by nature: it is the one that starts talking.
    // The in-process reference is a careful server that serves any number of clients, so it
    // is started once whatever the spec says.
    let lifecycle = match (scenario.role, target) {
        (Role::Client, _) => Lifecycle::Case,
        (Role::Server, Target::Reference) => Lifecycle::Scenario,
        (Role::Server, _) => opts.lifecycle.unwrap_or(scenario.lifecycle),
    };
    let planned = planned_cases(scenario, opts, pinned);
    let budget = budget(scenario, opts);
    let mut runner = Runner {
        scenario,
        target,
        opts,
        lifecycle,
        within: case::default_within(spec, scenario, opts),
        session: None,
        setup: None,
    };
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut ran = 0u64;
    let mut cut_short = None;
    let mut found = None;
    while ran < u64::from(planned) && !crate::cleanup::is_interrupted() {
        if ran > 0 && started.elapsed() >= budget {
            cut_short = Some(CutShort {
                planned: u64::from(planned),
                budget,
            });
            break;
        }
        let env = generate::case(&mut rng, scenario, pinned);
        ran += 1;
        let failure = runner.case(&env);
        if let Some(e) = runner.setup.take() {
            runner.close(false);
            return Err(e);
        }
        progress(Tick::Case {
            done: ran,
            failed: failure.is_some(),
        });
        if let Some(failure) = failure {
            found = Some(Found {
                case: ran,
                elapsed: started.elapsed(),
                env,
                failure,
                reproduced: false,
            });
            break;
        }
    }
    let Some(found) = found else {
        runner.close(false);
        return Ok(Fuzzed {
            cases: ran,
            failure: None,
            minimal: None,
            cut_short,
        });
    };
    let mut probes = 0;
    let settled = settle(scenario, pinned, opts, found, &mut |env| {
        if crate::cleanup::is_interrupted() {
            return Err(());
        }
        // A late reply to an earlier probe must not be taken for this one's.
        if let Some(session) = runner.session.as_mut() {
            session.forget_spares();
        }
        let failure = runner.case(env);
        probes += 1;
        progress(Tick::Probe {
            done: probes,
            size: shrink::key(env).0,
        });
        match runner.setup {
            Some(_) => Err(()),
            None => Ok(failure),
        }
    });
    let leftover = runner.close(true);
    if let Some(e) = runner.setup.take() {
        return Err(e);
    }
    let (env, mut failure) = settled.finish(seed, replay_base, scenario);
    if failure.program.is_none() {
        failure.program = leftover;
    }
    Ok(Fuzzed {
        cases: ran + probes,
        failure: Some(failure),
        minimal: env,
        cut_short,
    })
}

impl Runner<'_> {
    /// Runs one case, starting or restarting the program as its lifecycle says.
    fn case(&mut self, env: &Env) -> Option<Failure> {
        // A persistent program that died (perhaps on the previous input) is started again.
        if let Some(session) = self.session.as_mut()
            && (self.lifecycle == Lifecycle::Case || session.program_ended())
        {
            self.close(false);
        }
        if self.session.is_none() {
            match case::open(self.scenario, self.target, self.opts) {
                Ok(Opened::Ready(session)) => self.session = Some(session),
                Ok(Opened::NotReady(failure)) => return Some(failure),
                Err(e) => {
                    self.setup = Some(e);
                    return Some(Failure::default());
                }
            }
        }
        let session = self.session.as_mut()?;
        let failure = case::play(session, self.scenario, self.within, env, &mut |_, _, _| {});
        let ended =
            self.lifecycle == Lifecycle::Case || (failure.is_some() && session.program_ended());
        if !ended {
            return failure;
        }
        let report = self.close(failure.is_some());
        failure.map(|mut f| {
            f.program = report;
            f
        })
    }

    fn close(&mut self, failed: bool) -> Option<crate::event::ProgramReport> {
        self.session
            .take()
            .and_then(|s| s.close(self.opts.grace, failed))
    }
}

/// A failing case as the run found it.
pub struct Found {
    /// 1-based number of the case.
    pub case: u64,
    /// Time from the first case to the end of this one.
    pub elapsed: Duration,
    pub env: Env,
    pub failure: Failure,
    /// Whether it is already known to fail when run alone.
    pub reproduced: bool,
}

/// A failure after shrinking, ready to be reported.
pub struct Settled {
    found_case: u64,
    elapsed: Duration,
    original: Env,
    env: Env,
    failure: Failure,
    probes: u64,
    shrinking: Shrinking,
}

/// Where a failure happened: the step, and whether anything arrived. The simplest input
/// is said to fail "for any input" only when it fails where the first failing case did.
fn signature(failure: &Failure) -> (Option<usize>, bool) {
    let got_bytes = failure
        .mismatches
        .iter()
        .any(|m| m.actual.as_ref().is_some_and(|a| !a.is_empty()));
    (failure.step.as_ref().map(|s| s.index), got_bytes)
}

/// Decides what a failure is worth and shrinks it when that makes sense. `run` plays one
/// case alone: `Ok(None)` is a pass, `Err(())` means conform must stop.
pub fn settle(
    scenario: &Scenario,
    pinned: &BTreeMap<String, Value>,
    opts: &RunOptions,
    found: Found,
    run: &mut dyn FnMut(&Env) -> Result<Option<Failure>, ()>,
) -> Settled {
    let mut settled = Settled {
        found_case: found.case,
        elapsed: found.elapsed,
        original: found.env.clone(),
        env: found.env,
        failure: found.failure,
        probes: 0,
        shrinking: Shrinking::Fixed,
    };
    if generate::all_pinned(scenario, pinned) {
        return settled;
    }
    let failed_at = settled.failure.step.as_ref().map_or(0, |s| s.index);
    let Some(first_input) = first_input_step(scenario).filter(|first| failed_at >= *first) else {
        settled.shrinking = Shrinking::BeforeInput { step: failed_at };
        return settled;
    };
    let generators: BTreeMap<String, Generator> = scenario
        .generate
        .iter()
        .filter(|(name, _)| !pinned.contains_key(*name) && !scenario.with.contains_key(*name))
        .map(|(name, g)| (name.clone(), g.value.clone()))
        .collect();
    // Any failure once the input is in use counts: a simpler input that fails at another
    // step is a simpler counterexample. A failure before the input is used (a refused
    // connection, a program that did not start) says nothing about the input.
    let mut probe = |env: &Env| match run(env) {
        Err(()) => Probe::Stop,
        Ok(Some(f)) if f.step.as_ref().is_some_and(|s| s.index >= first_input) => Probe::Fail(f),
        Ok(_) => Probe::Pass,
    };
    let limits = Limits {
        probes: opts.shrink_probes,
        time: opts.shrink_time,
        reproduced: found.reproduced,
    };
    let wanted = signature(&settled.failure);
    let first = std::mem::take(&mut settled.failure);
    let shrunk = shrink::shrink(&generators, settled.env.clone(), first, limits, &mut probe);
    settled.env = shrunk.env;
    settled.probes = u64::from(shrunk.probes);
    settled.shrinking = match shrunk.end {
        End::Minimal => Shrinking::Minimal,
        End::Local { passes } => Shrinking::Local { passes },
        End::Simplest if signature(&shrunk.failure) == wanted => Shrinking::AnyInput,
        End::Simplest => Shrinking::Minimal,
        End::NotReproduced => Shrinking::NotReproduced,
        End::Budget => Shrinking::Budget {
            probes: opts.shrink_probes,
        },
        End::TimeCap => Shrinking::TimeCap {
            limit: opts.shrink_time,
        },
        End::Stopped => Shrinking::Stopped,
    };
    settled.failure = shrunk.failure;
    settled
}

impl Settled {
    /// The failure with its generated inputs described, and the minimal values when they
    /// are worth saving as a regression spec.
    pub fn finish(
        self,
        seed: u64,
        replay_base: &str,
        scenario: &Scenario,
    ) -> (Option<Env>, Failure) {
        let Settled {
            found_case,
            elapsed,
            original,
            env,
            mut failure,
            probes,
            shrinking,
        } = self;
        failure.generated = Some(Generated {
            seed,
            case: found_case,
            elapsed,
            original: describe(&original),
            minimal: describe(&env),
            probes,
            shrinking,
            replay: replay(replay_base, scenario, seed, &env),
            saved: None,
        });
        // An input that did not fail alone, or that the failure never reached, makes no
        // regression spec.
        let worth_saving = !matches!(
            shrinking,
            Shrinking::NotReproduced | Shrinking::BeforeInput { .. }
        );
        (worth_saving.then_some(env), failure)
    }
}

/// The values of a case as `(name, description)` pairs, for reports.
fn describe(env: &Env) -> Vec<(String, String)> {
    env.iter().map(|(k, v)| (k.clone(), v.describe())).collect()
}

/// A shell-quoted word.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%{}".contains(&b))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command line that replays one case.
fn replay(base: &str, scenario: &Scenario, seed: u64, env: &Env) -> String {
    let mut line = format!(
        "{base} --filter {} --seed {seed}",
        quote(&format!("name:{}", scenario.name.value))
    );
    for (name, value) in env {
        line.push_str(&format!(
            " --with {}",
            quote(&format!("{name}={}", value.encode()))
        ));
    }
    line
}

/// Seeds for each generated scenario of a run derive from the run's seed, so one number
/// replays the whole run.
pub fn scenario_seed(run_seed: u64, index: usize) -> u64 {
    // SplitMix64: distinct, well-mixed seeds for consecutive indexes.
    let mut z = run_seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random seed when the user gave none.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    scenario_seed(
        nanos ^ u64::from(std::process::id()),
        Instant::now().elapsed().as_nanos() as usize,
    )
}
