//! The program under test and, when the scenario compares with one, the reference program:
//! each behind its own [`Executor`], playing the same case one after the other. The reference
//! plays first and its replies are kept; the program under test then plays the same bytes and
//! each `same_as_reference` step compares its reply with the reference's.
//!
//! In: the two contexts and a [`SessionCase`]. Out: an [`Outcome`]: a pass, the program's
//! failure (with both runs, for a transcript), or the reference's own failure.

use std::sync::mpsc;

use super::SetupError;
use super::exec::{Ctx, Executor};
use super::script::{Played, Replies, Script, Segment};
use crate::event::ProgramReport;
use crate::input::session::SessionCase;
use crate::input::session::model::{Model, ModelError};
use crate::spec::expr::{STATE, Val};
use crate::spec::{Scenario, Value};

/// What one case came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    /// The program under test failed; the reference's run, when there is one, passed.
    Fail {
        candidate: Box<Played>,
        reference: Option<Box<Played>>,
    },
    /// The reference failed the case itself: the spec does not hold for it.
    ReferenceFailed {
        reference: Box<Played>,
    },
}

pub struct Pair<'a> {
    candidate: Executor<'a>,
    reference: Option<Executor<'a>>,
}

impl<'a> Pair<'a> {
    pub fn new(candidate: Ctx<'a>, reference: Option<Ctx<'a>>) -> Self {
        let executor = |ctx: Ctx<'a>| {
            let mut executor = Executor::new(ctx, ctx.lifecycle());
            executor.stop_passed_in_background();
            executor
        };
        Pair {
            candidate: executor(candidate),
            reference: reference.map(executor),
        }
    }

    /// Plays one case on the reference (if any) and on the program under test at the same
    /// time, each on its own thread: the program's `same_as_reference` steps wait for the
    /// reference's replies as the reference reads them. Starting, playing and stopping the
    /// two programs overlap, so a case costs about what the slower one costs.
    pub fn play(&mut self, case: &SessionCase) -> Result<Outcome, SetupError> {
        let scenario = self.candidate.ctx().scenario;
        let states = model_states(scenario, case)?;
        let Some(oracle) = self.reference.as_mut() else {
            let played = self.candidate.play(
                script(scenario, case, &states, Replies::Read),
                &mut |_, _, _| {},
            )?;
            return Ok(match played.failure {
                None => Outcome::Pass,
                Some(_) => Outcome::Fail {
                    candidate: Box::new(played),
                    reference: None,
                },
            });
        };
        let (replies, incoming) = mpsc::channel();
        let candidate = &mut self.candidate;
        let states = &states;
        let (reference, candidate) = std::thread::scope(|scope| {
            let reference = scope.spawn(move || {
                oracle.play(
                    script(scenario, case, states, Replies::Record(replies)),
                    &mut |_, _, _| {},
                )
            });
            let candidate = candidate.play(
                script(scenario, case, states, Replies::Compare(incoming)),
                &mut |_, _, _| {},
            );
            let reference = reference
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (reference, candidate)
        });
        let (reference, candidate) = (reference?, candidate?);
        Ok(match (&reference.failure, &candidate.failure) {
            (Some(_), _) => Outcome::ReferenceFailed {
                reference: Box::new(reference),
            },
            (None, None) => Outcome::Pass,
            (None, Some(_)) => Outcome::Fail {
                candidate: Box::new(candidate),
                reference: Some(Box::new(reference)),
            },
        })
    }

    /// Stops both programs, so the next case starts from fresh ones (a shrinking probe must
    /// not inherit the state earlier cases left). Says how the program under test ended.
    pub fn restart(&mut self, failed: bool) -> Option<ProgramReport> {
        if let Some(oracle) = &mut self.reference {
            oracle.retire();
        }
        if failed {
            return self.candidate.close(true);
        }
        self.candidate.retire();
        None
    }

    /// Stops both programs; says how the reference ended.
    pub fn close_reference(&mut self, failed: bool) -> Option<ProgramReport> {
        self.reference.as_mut().and_then(|r| r.close(failed))
    }
}

/// The steps of one case: the scenario's, then each command's, with their values (and the
/// model's state before each, when `states` has them).
pub(super) fn script<'s>(
    scenario: &'s Scenario,
    case: &SessionCase,
    states: &[Val],
    replies: Replies,
) -> Script<'s> {
    Script {
        prelude: Segment {
            steps: &scenario.steps,
            env: case.prelude.clone(),
        },
        commands: case
            .calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let mut env = call.env.clone();
                if let Some(state) = states.get(i) {
                    env.insert(STATE.to_string(), Value::Model(state.clone()));
                }
                Segment {
                    steps: &scenario.commands[call.command].value.steps,
                    env,
                }
            })
            .collect(),
        replies,
        transcript: scenario.is_session(),
        together: None,
    }
}

/// The model's state before each command. A fixed session may break a precondition: its
/// commands are still played, each in the state the updates before it left. A rule that
/// fails to evaluate is a fault of the spec, reported as such.
fn model_states(scenario: &Scenario, case: &SessionCase) -> Result<Vec<Val>, SetupError> {
    let Some(model) = Model::of(scenario) else {
        return Ok(Vec::new());
    };
    let failed = |e: ModelError| {
        SetupError::Usage(format!(
            "scenario `{}`: the model failed: {e}",
            scenario.name.value
        ))
    };
    match model.states(case) {
        Ok(states) => return Ok(states),
        Err(ModelError::Refused { .. }) => {}
        Err(e) => return Err(failed(e)),
    }
    let mut state = model.initial().map_err(failed)?;
    let mut out = Vec::with_capacity(case.calls.len());
    for call in &case.calls {
        let next = model.next(&case.prelude, call, &state).map_err(|error| {
            failed(ModelError::Failed {
                index: out.len() + 1,
                name: scenario.commands[call.command].value.name.value.clone(),
                part: "update",
                error,
            })
        })?;
        out.push(std::mem::replace(&mut state, next));
    }
    Ok(out)
}
