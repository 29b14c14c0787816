//! The transcript of a failing session for reports: each command of the session with its
//! values, what conform sent, what the program under test answered and what the reference
//! answered.
//!
//! In: the session, and the runs of both programs. Out: a [`SessionReport`].

use super::script::{Exchange, Played};
use crate::event::{CommandReport, Kept, SessionReport};
use crate::input::session::{SessionCase, encode};
use crate::spec::Scenario;
use crate::spec::expr::STATE;

/// The report of `case`, played as `candidate` (if the program under test played it) and
/// `reference`; `original` is the first failing session.
pub fn report(
    scenario: &Scenario,
    original: &SessionCase,
    case: &SessionCase,
    candidate: Option<&Played>,
    reference: Option<&Played>,
    reference_command: Option<String>,
) -> SessionReport {
    let name = |command: usize| scenario.commands[command].value.name.value.clone();
    let kept = |played: &Played, part: usize| {
        played.exchanges.get(part).map(|x: &Exchange| {
            (
                Kept {
                    bytes: x.sent.clone(),
                    len: x.sent_len,
                },
                Kept {
                    bytes: x.received.clone(),
                    len: x.received_len,
                },
            )
        })
    };
    // The model's state before each command, shown among its values: what the expected
    // replies were computed from.
    let states = crate::input::session::model::Model::of(scenario)
        .and_then(|m| m.states(case).ok())
        .unwrap_or_default();
    let commands = case
        .calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            // Part 0 is the scenario's own steps; the commands follow.
            let part = i + 1;
            let mine = candidate.and_then(|p| kept(p, part));
            let theirs = reference.and_then(|p| kept(p, part));
            let sent = mine
                .as_ref()
                .or(theirs.as_ref())
                .map(|(sent, _)| sent.clone())
                .unwrap_or_default();
            CommandReport {
                name: name(call.command),
                values: call
                    .env
                    .iter()
                    .map(|(n, v)| (n.clone(), encode::compact(v)))
                    .chain(states.get(i).map(|s| (STATE.to_string(), s.summary())))
                    .collect(),
                sent,
                answered: mine.map(|(_, received)| received),
                reference: theirs.map(|(_, received)| received),
            }
        })
        .collect();
    let failed = candidate.or(reference).and_then(|p| p.failed_part);
    SessionReport {
        original: original.calls.iter().map(|c| name(c.command)).collect(),
        commands,
        failed_at: failed.filter(|part| *part > 0),
        reference: reference_command,
    }
}
