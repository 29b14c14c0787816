//! Settling a failing generated case: deciding what it is worth, shrinking it with the
//! search of [`shrink`], and describing the original and minimal inputs for the report.
//!
//! In: the failing case as a feeder found it and a way to play one case alone. Out: a
//! [`Settled`] failure with its inputs, how shrinking ended and the replay line. The
//! sequential and windowed feeders share it, so every path shrinks with the same search.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::feed::Feed;
use super::options::RunOptions;
use crate::event::{Failure, Generated, Shrinking};
use crate::input::generate;
use crate::input::shrink::{self, End, Limits, Probe};
use crate::spec::validate::first_input_step;
use crate::spec::{Env, Generator, Scenario, Value};

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
    pub fn finish(self, feed: &Feed<'_>, scenario: &Scenario) -> (Option<Env>, Failure) {
        let seed = feed.seed;
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
            replay: replay(&feed.replay_base, scenario, seed, &env, None),
            replay_short: long_values(&env).then(|| {
                replay(
                    &feed.replay_base,
                    scenario,
                    seed,
                    &env,
                    feed.replay_dir.as_deref(),
                )
            }),
            saved: None,
            session: None,
            history: None,
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

/// Characters of an encoded value that a replay line shows inline; a longer value is written
/// to a file that the terminal's replay line names (`--with NAME=@FILE`).
const REPLAY_INLINE: usize = 200;

/// Whether some value is too long for a replay line on a terminal.
fn long_values(env: &Env) -> bool {
    env.values().any(|v| v.encode().len() > REPLAY_INLINE)
}

/// Writes one long value, encoded as `--with` reads it, to a file in `dir`; its path.
fn value_file(dir: &Path, seed: u64, name: &str, encoded: &str) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // The process id keeps runs at the same time (CI jobs, test binaries) from sharing a file.
    let path = dir.join(format!("replay-{}-{seed}-{safe}.txt", std::process::id()));
    std::fs::write(&path, format!("{encoded}\n")).ok()?;
    Some(path)
}

/// The command line that replays one case: every value inline, or, with `files`, long
/// values written to files there and named as `--with NAME=@FILE`.
fn replay(base: &str, scenario: &Scenario, seed: u64, env: &Env, files: Option<&Path>) -> String {
    let mut line = format!(
        "{base} --filter {} --seed {seed}",
        crate::drive::template::quote(&format!("name:{}", scenario.name.value))
    );
    for (name, value) in env {
        line.push_str(&format!(
            " --with {}",
            crate::drive::template::quote(&format!("{name}={}", {
                let encoded = value.encode();
                match files {
                    Some(dir) if encoded.len() > REPLAY_INLINE => {
                        match value_file(dir, seed, name, &encoded) {
                            Some(path) => format!("@{}", path.display()),
                            None => encoded,
                        }
                    }
                    _ => encoded,
                }
            }))
        ));
    }
    line
}
