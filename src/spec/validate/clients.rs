//! The checks of `clients:` (and `--clients`): several sessions at once fit a session
//! scenario of a server, and, with a model, commands whose replies can be read before the
//! order that explains them is known.
//!
//! In: a parsed [`Scenario`] and the number of clients a run plays. Out: `Ok`, or the first
//! problem located at the offending node (the run reports it without a location when the
//! number came from the command line).

use serde_saphyr::{Location, Spanned};

use super::Problem;
use crate::spec::model::frame::Frame;
use crate::spec::model::session::same_as_reference;
use crate::spec::model::{Expected, Scenario, Step, Transport};

/// Most clients one scenario may play at once.
pub const MAX_CLIENTS: u32 = 64;

pub(super) fn check(scenario: &Scenario) -> Result<(), Problem> {
    let Some(clients) = &scenario.clients else {
        return Ok(());
    };
    if !(1..=MAX_CLIENTS).contains(&clients.value) {
        return Err((
            clients.referenced,
            format!("`clients` is between 1 and {MAX_CLIENTS}"),
        ));
    }
    fits(scenario, clients.value, clients.referenced)
}

/// Whether `clients` sessions at once fit the scenario; `at` is where a problem of the
/// scenario as a whole is reported.
pub fn fits(scenario: &Scenario, clients: u32, at: Location) -> Result<(), Problem> {
    if clients <= 1 {
        return Ok(());
    }
    if !scenario.is_session() {
        return Err((
            at,
            "several clients play sessions at once: `clients` needs a scenario with `commands`"
                .into(),
        ));
    }
    if let Some(play) = scenario.play.iter().flatten().next() {
        return Err((
            play.referenced,
            "`play` replays the session of one client: run it with one client".into(),
        ));
    }
    let steps = scenario
        .steps
        .iter()
        .chain(scenario.commands.iter().flat_map(|c| c.value.steps.iter()));
    for step in steps {
        if same_as_reference(&step.value).is_some() {
            return Err((
                step.referenced,
                "`same_as_reference` compares one session with the reference's: it does not \
                 combine with several clients (a model says what several may see)"
                    .into(),
            ));
        }
    }
    if !scenario.commands.iter().any(|c| c.value.atomic()) {
        return Err((
            at,
            "with several clients only commands that are not `atomic: false` are played, \
             and every command here is"
                .into(),
        ));
    }
    let Some(model) = &scenario.model else {
        return Ok(());
    };
    if scenario.transport == Transport::Tcp && model.value.frame.is_none() {
        return Err((
            model.referenced,
            "with several clients the replies are read before the order that explains them \
             is known, so the model says where one reply ends: add `frame: resp` (or `line`, \
             or a map with `until`, `length` or `regex`) to `model`"
                .into(),
        ));
    }
    if let Some(frame) = &model.value.frame
        && matches!(
            (scenario.transport, &frame.0),
            (
                Transport::Udp,
                Frame::Line | Frame::Resp | Frame::Until(_) | Frame::Length(_) | Frame::Regex(_)
            ) | (Transport::Tcp, Frame::Datagram)
        )
    {
        return Err((
            model.referenced,
            "over UDP a reply is one datagram: leave out `frame`; over TCP it is `line`, \
             `resp`, or a map with `until`, `length` or `regex`"
                .into(),
        ));
    }
    if let Some(name) = &model.value.partition
        && let Some(command) = scenario
            .commands
            .iter()
            .find(|c| c.value.atomic() && !c.value.generate.contains_key(name))
    {
        return Err((
            model.referenced,
            format!(
                "`partition: {name}` checks the commands of each `{name}` apart, so every command \
                 several clients play generates `{name}`; `{}` does not (mark it `atomic: false`, \
                 or leave `partition` out)",
                command.value.name.value
            ),
        ));
    }
    for command in scenario.commands.iter().filter(|c| c.value.atomic()) {
        for step in &command.value.steps {
            deferrable(step).map_err(|(loc, msg)| {
                (
                    loc,
                    format!("in command `{}`: {msg}", command.value.name.value),
                )
            })?;
        }
    }
    Ok(())
}

/// A command step several clients can play with a model: its replies are judged after the
/// session, in the order that explains them, so a step may only send, or read one reply.
fn deferrable(step: &Spanned<Step>) -> Result<(), Problem> {
    let problem = match &step.value {
        Step::Send(_) | Step::SendAll(_) => {
            let mut vars = Vec::new();
            super::step_vars(&step.value, &mut vars);
            if !vars.contains(&crate::spec::expr::STATE) {
                return Ok(());
            }
            "with several clients what a command sends is decided before the order that \
             explains the replies is known: it cannot read `state` (only its `expect` steps, \
             `when` and `update` can)"
        }
        Step::Expect(expect) if expect.capture.is_some() => {
            "`capture` keeps a reply that is only judged after the session: it does not \
             combine with several clients and a model"
        }
        Step::Expect(expect) if matches!(expect.matcher, Expected::SameAsReference(_)) => {
            "`same_as_reference` does not combine with several clients"
        }
        Step::Expect(_) => return Ok(()),
        _ => {
            "with several clients and a model, a command's steps are `send`, `send_all` and \
             `expect` (one reply each, judged in the order that explains them): mark a \
             command that needs more `atomic: false`"
        }
    };
    Err((step.referenced, problem.into()))
}
