//! The feeder of sessions, and of every scenario that compares with a reference program:
//! cases (sessions of commands, or the scenario's own steps) played on the program under test
//! and, with `--reference`, first on the reference, through a [`Pair`] of executors; the first
//! failure shrunk (commands, then values, then templates) against both programs.
//!
//! In: a [`Ctx`], the run's seed and the values `--with` pins. Out: the same [`Fuzzed`] as
//! the other feeders, the failure carrying the minimal session as a transcript; with
//! `--save-failures`, a spec that replays it. Values come from `session::generate`, the
//! search from `session::shrink`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::SetupError;
use super::exec::Ctx;
use super::feed::{Fuzzed, budget, planned_sessions};
use super::options::RunOptions;
use super::pair::{Outcome, Pair};
use super::script::Played;
use super::{fuzz, transcript};
use crate::event::{CutShort, Failure, Generated, Shrinking, Tick};
use crate::input::generate::{self, Rng};
use crate::input::regress;
use crate::input::session::shrink::{Shrunk, Space};
use crate::input::session::{self, Call, SessionCase, encode};
use crate::input::shrink::{End, Limits, Probe};
use crate::plan::Target;
use crate::spec::validate::first_input_step;
use crate::spec::{Env, Generator, Scenario, Value};

/// A failing case as the search found it.
struct Found {
    case: u64,
    elapsed: Duration,
    session: SessionCase,
    outcome: Outcome,
}

/// Runs a session scenario (or one compared with a reference) and settles its first failure.
pub fn conversations(
    ctx: Ctx<'_>,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Fuzzed, SetupError> {
    let scenario = ctx.scenario;
    let fixed = fixed_calls(scenario, ctx.opts)?;
    // The reference gets ports of its own: `--port` is the program under test's.
    let reference_opts = RunOptions {
        port: None,
        ..ctx.opts.clone()
    };
    let reference_target = ctx
        .opts
        .reference
        .clone()
        .filter(|_| scenario.uses_reference())
        .map(Target::Program);
    let reference_ctx = reference_target
        .as_ref()
        .map(|t| Ctx::new(ctx.spec, scenario, t, &reference_opts));
    let mut pair = Pair::new(ctx, reference_ctx);
    let hunted = hunt(ctx, &mut pair, fixed.as_deref(), seed, pinned, progress)?;
    let Some(found) = hunted.found else {
        pair.restart(false);
        pair.close_reference(false);
        return Ok(Fuzzed {
            cases: hunted.ran,
            failure: None,
            minimal: None,
            cut_short: hunted.cut_short,
            window: None,
        });
    };
    let fixed = fixed.is_some();
    let mut failure = settle(ctx, &mut pair, found, fixed, pinned, seed, progress)?;
    save(ctx, &mut failure)?;
    Ok(Fuzzed {
        cases: hunted.ran,
        failure: Some(failure.failure),
        minimal: None,
        cut_short: hunted.cut_short,
        window: None,
    })
}

/// What the cases came to: how many ran, whether the budget cut them short, the first
/// failure.
struct Hunted {
    ran: u64,
    cut_short: Option<CutShort>,
    found: Option<Found>,
}

/// Plays cases until one fails, the planned ones have run or the time budget is spent.
fn hunt(
    ctx: Ctx<'_>,
    pair: &mut Pair<'_>,
    fixed: Option<&[Call]>,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Hunted, SetupError> {
    let scenario = ctx.scenario;
    let planned = u64::from(match (fixed, scenario.is_session()) {
        (Some(_), _) => 1,
        (None, true) => planned_sessions(scenario, ctx.opts),
        (None, false) => fuzz::planned_cases(scenario, ctx.opts, pinned),
    });
    let budget = budget(scenario, ctx.opts);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut ran = 0u64;
    while ran < planned && !crate::os::cleanup::is_interrupted() {
        if ran > 0 && started.elapsed() >= budget {
            let cut_short = Some(CutShort { planned, budget });
            return Ok(Hunted {
                ran,
                cut_short,
                found: None,
            });
        }
        let case = match fixed {
            Some(calls) => SessionCase {
                prelude: generate::case(&mut rng, scenario, pinned),
                calls: calls.to_vec(),
            },
            None if scenario.is_session() => session::generate::session(&mut rng, scenario, pinned),
            None => SessionCase {
                prelude: generate::case(&mut rng, scenario, pinned),
                calls: Vec::new(),
            },
        };
        ran += 1;
        let outcome = pair.play(&case)?;
        let failed = !matches!(outcome, Outcome::Pass);
        progress(Tick::Case {
            done: ran,
            planned,
            failed,
        });
        if failed {
            let found = Found {
                case: ran,
                elapsed: started.elapsed(),
                session: case,
                outcome,
            };
            return Ok(Hunted {
                ran,
                cut_short: None,
                found: Some(found),
            });
        }
    }
    Ok(Hunted {
        ran,
        cut_short: None,
        found: None,
    })
}

/// The one session `--session` or the spec's `play:` fixes, if any.
fn fixed_calls(scenario: &Scenario, opts: &RunOptions) -> Result<Option<Vec<Call>>, SetupError> {
    match &opts.session {
        Some(text) if scenario.is_session() => encode::decode(scenario, text)
            .map(Some)
            .map_err(|e| SetupError::Session(Box::new(e))),
        _ => Ok(encode::played(scenario)),
    }
}

/// A settled failure and what `--save-failures` needs of it.
struct Settled {
    failure: Failure,
    /// The minimal case, when it is worth saving.
    minimal: Option<SessionCase>,
}

/// Decides what a failure is worth, shrinks it when that makes sense, and describes it.
fn settle(
    ctx: Ctx<'_>,
    pair: &mut Pair<'_>,
    found: Found,
    fixed: bool,
    pinned: &BTreeMap<String, Value>,
    seed: u64,
    progress: &mut dyn FnMut(Tick),
) -> Result<Settled, SetupError> {
    let scenario = ctx.scenario;
    let original = found.session.clone();
    let at = (found.case, found.elapsed);
    let (candidate, reference) = match found.outcome {
        Outcome::ReferenceFailed { reference } => {
            let program = pair.close_reference(true);
            pair.restart(false);
            let mut failure = reference_failure(ctx, &reference, program);
            failure.generated = Some(generated(
                ctx,
                at,
                &original,
                &original,
                (0, Shrinking::ReferenceFailed, seed),
                (None, Some(&*reference)),
            ));
            return Ok(Settled {
                failure,
                minimal: None,
            });
        }
        Outcome::Fail {
            candidate,
            reference,
        } => (candidate, reference),
        Outcome::Pass => unreachable!("a passing case is not a failure"),
    };
    let before_input = before_input(scenario, &candidate);
    let all_fixed = fixed && generate::all_pinned(scenario, pinned);
    let (shrunk, shrinking) = match (before_input, all_fixed || !scenario.runs_many()) {
        (Some(step), _) => (None, Shrinking::BeforeInput { step }),
        (None, true) => (None, Shrinking::Fixed),
        (None, false) => {
            let shrunk = search(
                ctx,
                pair,
                &found.session,
                (candidate.clone(), reference.clone()),
                pinned,
                progress,
            )?;
            let shrinking = ending(shrunk.end, ctx.opts);
            (Some(shrunk), shrinking)
        }
    };
    let leftover = pair.restart(true);
    pair.close_reference(false);
    let (minimal, (candidate, reference), probes) = match shrunk {
        Some(s) => (s.case, s.failure, s.probes),
        None => (found.session.clone(), (candidate, reference), 0),
    };
    let mut failure = candidate.failure.clone().unwrap_or_default();
    if failure.program.is_none() {
        failure.program = leftover;
    }
    if scenario.runs_many() {
        failure.generated = Some(generated(
            ctx,
            at,
            &original,
            &minimal,
            (probes, shrinking, seed),
            (Some(&candidate), reference.as_deref()),
        ));
    }
    let worth_saving = scenario.runs_many()
        && !matches!(
            shrinking,
            Shrinking::NotReproduced | Shrinking::BeforeInput { .. }
        );
    Ok(Settled {
        failure,
        minimal: worth_saving.then_some(minimal),
    })
}

/// The step of the scenario's own steps that failed before any generated value was used, or
/// 0 when the program never became ready; `None` when the failure may depend on the input.
fn before_input(scenario: &Scenario, candidate: &Played) -> Option<usize> {
    let step = candidate.failure.as_ref()?.step.as_ref().map(|s| s.index);
    match (candidate.failed_part, step) {
        (Some(part), _) if part > 0 => None,
        (None, _) | (_, None) => Some(0),
        (Some(_), Some(step)) => match first_input_step(scenario) {
            Some(first) if step >= first => None,
            _ => Some(step),
        },
    }
}

/// The two runs of a failing probe: the program's, and the reference's.
type Probed = (Box<Played>, Option<Box<Played>>);

/// Shrinks the failing session, every candidate played on fresh programs.
fn search(
    ctx: Ctx<'_>,
    pair: &mut Pair<'_>,
    original: &SessionCase,
    first: Probed,
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Shrunk<Probed>, SetupError> {
    let scenario = ctx.scenario;
    let space = space(ctx, original, pinned);
    let limits = Limits {
        probes: ctx.opts.shrink_probes,
        time: ctx.opts.shrink_time,
        reproduced: false,
    };
    let mut setup = None;
    let mut probes = 0;
    let shrunk = crate::input::session::shrink::shrink(
        &space,
        original.clone(),
        first,
        limits,
        &mut |case| {
            if crate::os::cleanup::is_interrupted() {
                return Probe::Stop;
            }
            probes += 1;
            pair.restart(false);
            let outcome = pair.play(case);
            progress(Tick::Probe {
                done: probes,
                size: case.calls.len(),
            });
            match outcome {
                Err(e) => {
                    setup = Some(e);
                    Probe::Stop
                }
                Ok(Outcome::Fail {
                    candidate,
                    reference,
                }) if before_input(scenario, &candidate).is_none() => {
                    Probe::Fail((candidate, reference))
                }
                Ok(_) => Probe::Pass,
            }
        },
    );
    match setup {
        Some(e) => Err(e),
        None => Ok(shrunk),
    }
}

/// What may change while a failing session shrinks: the values nobody pinned, and the
/// commands unless the session was fixed.
pub(super) fn space(
    ctx: Ctx<'_>,
    original: &SessionCase,
    pinned: &BTreeMap<String, Value>,
) -> Space {
    let scenario = ctx.scenario;
    let unpinned = |generate: &BTreeMap<String, serde_saphyr::Spanned<Generator>>| {
        generate
            .iter()
            .filter(|(name, _)| !pinned.contains_key(*name) && !scenario.with.contains_key(*name))
            .map(|(name, g)| (name.clone(), g.value.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let fixed = ctx.opts.session.is_some() || scenario.play.is_some();
    Space {
        prelude: unpinned(&scenario.generate),
        // A fixed session keeps its commands: only the scenario's own values may change.
        commands: scenario
            .commands
            .iter()
            .map(|c| {
                if fixed {
                    BTreeMap::new()
                } else {
                    unpinned(&c.value.generate)
                }
            })
            .collect(),
        min_commands: if fixed {
            original.calls.len()
        } else {
            scenario.session_bounds().0 as usize
        },
        model: crate::input::session::model::Model::of(scenario),
        barred: Vec::new(),
    }
}

/// How the search ended, for the report.
pub(super) fn ending(end: End, opts: &RunOptions) -> Shrinking {
    match end {
        End::Minimal | End::Simplest => Shrinking::Minimal,
        End::Local { passes } => Shrinking::Local { passes },
        End::NotReproduced => Shrinking::NotReproduced,
        End::Budget => Shrinking::Budget {
            probes: opts.shrink_probes,
        },
        End::TimeCap => Shrinking::TimeCap {
            limit: opts.shrink_time,
        },
        End::Stopped => Shrinking::Stopped,
    }
}

/// The reference's own failure, said to be the reference's.
fn reference_failure(
    ctx: Ctx<'_>,
    reference: &Played,
    program: Option<crate::event::ProgramReport>,
) -> Failure {
    let mut failure = reference.failure.clone().unwrap_or_default();
    let command = ctx
        .opts
        .reference
        .as_ref()
        .map_or(String::new(), |w| w.join(" "));
    for m in &mut failure.mismatches {
        m.summary = format!("the reference `{command}` failed this step: {}", m.summary);
    }
    if program.is_some() {
        failure.program = program;
    }
    failure
}

/// The failure's inputs: the scenario's own values, the session as a transcript, how
/// shrinking ended and the replay line.
fn generated(
    ctx: Ctx<'_>,
    (case, elapsed): (u64, Duration),
    original: &SessionCase,
    minimal: &SessionCase,
    (probes, shrinking, seed): (u32, Shrinking, u64),
    (candidate, reference): (Option<&Played>, Option<&Played>),
) -> Generated {
    let scenario = ctx.scenario;
    let describe = |env: &Env| -> Vec<(String, String)> {
        env.iter().map(|(k, v)| (k.clone(), v.describe())).collect()
    };
    let reference_command = ctx.opts.reference.as_deref().map(crate::quote::join);
    Generated {
        seed,
        case,
        elapsed,
        original: describe(&original.prelude),
        minimal: describe(&minimal.prelude),
        probes: u64::from(probes),
        shrinking,
        replay: replay(ctx, seed, minimal),
        replay_short: None,
        saved: None,
        history: None,
        session: scenario.is_session().then(|| {
            Box::new(transcript::report(
                scenario,
                original,
                minimal,
                candidate,
                reference,
                reference_command,
            ))
        }),
    }
}

/// The command line that replays exactly this case.
fn replay(ctx: Ctx<'_>, seed: u64, case: &SessionCase) -> String {
    use crate::quote::quote;
    let mut line = replay_start(ctx, seed);
    push_with(&mut line, &case.prelude);
    if ctx.scenario.is_session() {
        line.push_str(&format!(
            " --session {}",
            quote(&encode::encode(ctx.scenario, case))
        ));
    }
    line
}

/// The start of a session scenario's replay line: the target, the reference, the scenario
/// and the seed.
pub(super) fn replay_start(ctx: Ctx<'_>, seed: u64) -> String {
    use crate::quote::{join, quote};
    let mut line = fuzz::replay_base(ctx);
    if let Some(words) = &ctx.opts.reference {
        line.push_str(&format!(" --reference {}", quote(&join(words))));
    }
    line.push_str(&format!(
        " --filter {} --seed {seed}",
        quote(&format!("name:{}", ctx.scenario.name.value))
    ));
    line
}

/// `--with NAME=VALUE` for each of `values`, on a replay line.
pub(super) fn push_with<'v>(
    line: &mut String,
    values: impl IntoIterator<Item = (&'v String, &'v Value)>,
) {
    for (name, value) in values {
        line.push_str(&format!(
            " --with {}",
            crate::quote::quote(&format!("{name}={}", value.encode()))
        ));
    }
}

/// `--save-failures`: the minimal case as a spec that replays it.
fn save(ctx: Ctx<'_>, settled: &mut Settled) -> Result<(), SetupError> {
    let (Some(dir), Some(case)) = (&ctx.opts.save_failures, &settled.minimal) else {
        return Ok(());
    };
    let dir = match &ctx.opts.implementation {
        Some(implementation) => dir.join(implementation),
        None => dir.clone(),
    };
    let calls = ctx
        .scenario
        .is_session()
        .then(|| encode_play(ctx.scenario, case));
    regress::save_case(
        &dir,
        ctx.spec,
        ctx.scenario,
        &case.prelude,
        calls.as_deref(),
        &mut settled.failure,
    )
    .map_err(|message| SetupError::Save {
        dir,
        message: message.to_string(),
    })
}

/// The `play:` entries of a session, one YAML line each.
fn encode_play(scenario: &Scenario, case: &SessionCase) -> Vec<String> {
    case.calls
        .iter()
        .map(|call| {
            let name = &scenario.commands[call.command].value.name.value;
            if call.env.is_empty() {
                return name.clone();
            }
            let values: Vec<String> = call
                .env
                .iter()
                .map(|(k, v)| format!("{k}: {}", regress::yaml_value(v)))
                .collect();
            format!("{name}: {{{}}}", values.join(", "))
        })
        .collect()
}
