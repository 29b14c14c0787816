//! The feeder of several clients at once (`clients: N`, `--clients N`): each case is one
//! session per client, played at the same time on connections of their own to one server;
//! with a model, their history must be linearizable (`history`). The first failure is
//! shrunk (fewer clients, then each client's session) with every candidate replayed a few
//! times, since a race need not show on every run.
//!
//! In: a [`Ctx`], the number of clients, the run's seed and the values `--with` pins. Out:
//! the same [`Fuzzed`] as the other feeders, the failure carrying one timeline per client.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::SetupError;
use super::converse;
use super::exec::{Ctx, Executor};
use super::feed::{Fuzzed, budget, planned_sessions};
use super::history::{self, Judged, SEARCH_STEPS};
use super::script::{Played, Replies};
use crate::event::{Failure, Generated, Shrinking, Tick};
use crate::input::generate::Rng;
use crate::input::session::clients::shrink_clients;
use crate::input::session::model::Model;
use crate::input::session::{SessionCase, generate};
use crate::input::shrink::{Limits, Probe};
use crate::spec::Value;
use crate::spec::model::frame::Frame;

/// Times a shrinking candidate is played before it is taken to pass.
pub const REPLAYS: u32 = 5;

/// A failing case: the failure as reported, each client's run, and how the history was
/// judged (when every client played to the end).
#[derive(Clone)]
struct Failed {
    failure: Failure,
    played: Vec<Played>,
    judged: Option<Judged>,
}

impl Failed {
    /// Whether `other` failed the same way: both histories no order explains, or both at
    /// the same step.
    fn same_kind(&self, other: &Failed) -> bool {
        match (&self.judged, &other.judged) {
            (Some(_), Some(_)) => true,
            (None, None) => self.failure.step == other.failure.step,
            _ => false,
        }
    }
}

/// Runs cases of `clients` sessions at once and settles the first failure.
pub fn concurrent(
    ctx: Ctx<'_>,
    clients: usize,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<Fuzzed, SetupError> {
    let scenario = ctx.scenario;
    let mut player = Player::new(ctx);
    let planned = u64::from(planned_sessions(scenario, ctx.opts));
    let budget = budget(scenario, ctx.opts);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut ran = 0u64;
    while ran < planned && !crate::os::cleanup::is_interrupted() {
        if ran > 0 && started.elapsed() >= budget {
            let cut_short = Some(crate::event::CutShort { planned, budget });
            return Ok(passed(ran, cut_short));
        }
        let sessions = generate::clients(&mut rng, scenario, pinned, clients);
        ran += 1;
        let failed = player.play(&sessions)?;
        progress(Tick::Case {
            done: ran,
            planned,
            failed: failed.is_some(),
        });
        if let Some(failed) = failed {
            let at = (ran, started.elapsed());
            let failure = settle(
                ctx,
                &mut player,
                (sessions, *failed),
                pinned,
                at,
                seed,
                progress,
            )?;
            return Ok(Fuzzed {
                cases: ran,
                failure: Some(failure),
                minimal: None,
                cut_short: None,
                window: None,
            });
        }
    }
    Ok(passed(ran, None))
}

fn passed(cases: u64, cut_short: Option<crate::event::CutShort>) -> Fuzzed {
    Fuzzed {
        cases,
        failure: None,
        minimal: None,
        cut_short,
        window: None,
    }
}

/// Plays cases of several clients on one executor.
struct Player<'a> {
    ctx: Ctx<'a>,
    executor: Executor<'a>,
    model: Option<Model>,
    frame: Frame,
}

impl<'a> Player<'a> {
    fn new(ctx: Ctx<'a>) -> Self {
        let mut executor = Executor::new(ctx, ctx.lifecycle());
        executor.stop_passed_in_background();
        let frame = ctx
            .scenario
            .model
            .as_ref()
            .and_then(|m| m.value.frame.as_ref())
            .map_or(Frame::Datagram, |f| f.0.clone());
        Player {
            ctx,
            executor,
            model: Model::of(ctx.scenario),
            frame,
        }
    }

    /// Plays one case: `None` when it passed.
    fn play(&mut self, sessions: &[SessionCase]) -> Result<Option<Box<Failed>>, SetupError> {
        let scenario = self.ctx.scenario;
        let replies = || match &self.model {
            Some(_) => Replies::Defer(self.frame.clone()),
            None => Replies::Read,
        };
        let scripts = sessions
            .iter()
            .map(|s| super::pair::script(scenario, s, &[], replies()))
            .collect();
        let (mut played, wire) = self.executor.play_many(scripts)?;
        if let Some(k) = played.iter().position(|p| p.failure.is_some()) {
            let mut failure = played[k].failure.clone().unwrap_or_default();
            if played.len() > 1 {
                for m in &mut failure.mismatches {
                    m.summary = format!("client {}: {}", k + 1, m.summary);
                }
            }
            played.resize_with(sessions.len(), Played::default);
            return Ok(Some(Box::new(Failed {
                failure,
                played,
                judged: None,
            })));
        }
        let Some(model) = &self.model else {
            return Ok(None);
        };
        let judged =
            history::judge(scenario, model, sessions, &played, SEARCH_STEPS).map_err(|e| {
                SetupError::Usage(format!(
                    "scenario `{}`: the model failed while judging a history: {e}",
                    scenario.name.value
                ))
            })?;
        match judged {
            Judged::Explained => Ok(None),
            Judged::Undecided { steps } => Err(SetupError::Usage(format!(
                "scenario `{}`: the history of {} clients could not be checked within {steps} \
                 steps of the search: use fewer clients (`--clients`) or shorter sessions \
                 (`session: {{max_commands: N}}`)",
                scenario.name.value,
                sessions.len()
            ))),
            Judged::Unexplained { .. } => {
                let mut failure = history::failure(scenario, sessions, &played, &judged);
                failure.wire = wire;
                Ok(Some(Box::new(Failed {
                    failure,
                    played,
                    judged: Some(judged),
                })))
            }
        }
    }

    /// Plays a candidate up to [`REPLAYS`] times, fresh programs each time: `Fail` when one
    /// of the runs fails as `like` did.
    fn probe(
        &mut self,
        candidate: &[SessionCase],
        like: &Failed,
    ) -> Result<Probe<Failed>, SetupError> {
        for _ in 0..REPLAYS {
            if crate::os::cleanup::is_interrupted() {
                return Ok(Probe::Stop);
            }
            self.executor.retire();
            match self.play(candidate)? {
                Some(failed) if failed.same_kind(like) => return Ok(Probe::Fail(*failed)),
                _ => {}
            }
        }
        Ok(Probe::Pass)
    }
}

/// Shrinks a failure of several clients and describes it.
fn settle(
    ctx: Ctx<'_>,
    player: &mut Player<'_>,
    (original, first): (Vec<SessionCase>, Failed),
    pinned: &BTreeMap<String, Value>,
    (case, elapsed): (u64, Duration),
    seed: u64,
    progress: &mut dyn FnMut(Tick),
) -> Result<Failure, SetupError> {
    // A program that never became ready fails for any clients and any commands.
    let never_ready = first.judged.is_none() && first.failure.step.is_none();
    let (clients, last, probes, shrinking) = if never_ready {
        (
            original.clone(),
            first,
            0,
            Shrinking::BeforeInput { step: 0 },
        )
    } else {
        shrink_failure(ctx, player, (original.clone(), first), pinned, progress)?
    };
    let mut failure = last.failure.clone();
    let mut replay = converse::replay_start(ctx, seed);
    replay.push_str(&format!(" --clients {}", original.len()));
    converse::push_with(&mut replay, pinned);
    failure.generated = Some(Generated {
        seed,
        case,
        elapsed,
        original: Vec::new(),
        minimal: Vec::new(),
        probes: u64::from(probes),
        shrinking,
        replay,
        replay_short: None,
        saved: None,
        session: None,
        history: Some(Box::new(history::report(
            ctx.scenario,
            &clients,
            &last.played,
            last.judged.as_ref(),
            REPLAYS,
        ))),
    });
    Ok(failure)
}

/// Shrinks a failure of several clients: the simplest clients found, their last failing
/// run, the probes spent and how the search ended.
fn shrink_failure(
    ctx: Ctx<'_>,
    player: &mut Player<'_>,
    (original, first): (Vec<SessionCase>, Failed),
    pinned: &BTreeMap<String, Value>,
    progress: &mut dyn FnMut(Tick),
) -> Result<(Vec<SessionCase>, Failed, u32, Shrinking), SetupError> {
    let space = {
        let mut space = converse::space(ctx, &original[0], pinned);
        space.barred = ctx
            .scenario
            .commands
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.value.atomic())
            .map(|(i, _)| i)
            .collect();
        space
    };
    let limits = Limits {
        probes: ctx.opts.shrink_probes,
        time: ctx.opts.shrink_time,
        reproduced: true,
    };
    let mut setup = None;
    let mut probes = 0u64;
    let like = first.clone();
    // A failure in the clients' own steps, before any command, depends on no command.
    let sessions = first.judged.is_some() || first.played.iter().all(|p| p.failed_part != Some(0));
    let shrunk = shrink_clients(
        &space,
        (original, first),
        limits,
        sessions,
        &mut |candidate| {
            probes += 1;
            progress(Tick::Probe {
                done: probes,
                size: candidate.iter().map(|c| c.calls.len()).sum(),
            });
            match player.probe(candidate, &like) {
                Ok(probe) => probe,
                Err(e) => {
                    setup = Some(e);
                    Probe::Stop
                }
            }
        },
    );
    player.executor.close(false);
    if let Some(e) = setup {
        return Err(e);
    }
    let shrinking = match converse::ending(shrunk.end, ctx.opts) {
        // A candidate that passed its replays may still fail on another run: the result is
        // as small as the replays could tell, never proven minimal.
        Shrinking::Minimal | Shrinking::Local { .. } => Shrinking::Replayed { replays: REPLAYS },
        other => other,
    };
    Ok((shrunk.clients, shrunk.failure, shrunk.probes, shrinking))
}
