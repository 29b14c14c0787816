//! The checks of sessions and of `same_as_reference` that need the whole scenario: command
//! names, weights and bundles, the steps of every command (connections, values known where
//! they are used), fixed sessions that fit their commands, and framings that fit the transport.
//!
//! In: a parsed [`Scenario`]. Out: `Ok` or the first problem, located at the offending node.

use std::collections::{BTreeSet, HashSet};

use serde_saphyr::Spanned;

use super::{Problem, check_step, step_captures, step_vars};
use crate::spec::data::{DataError, split_value};
use crate::spec::model::frame::Frame;
use crate::spec::model::session::{Command, same_as_reference};
use crate::spec::model::{Fixed, Generator, Role, Scenario, Step, Transport};

/// Most commands one session may play.
const MAX_COMMANDS: u32 = 1000;

pub(super) fn check(scenario: &Scenario) -> Result<(), Problem> {
    for step in scenario
        .steps
        .iter()
        .chain(scenario.commands.iter().flat_map(|c| c.value.steps.iter()))
    {
        check_same_as(scenario, step)?;
    }
    if !scenario.is_session() {
        if let Some(model) = &scenario.model {
            return Err((
                model.referenced,
                "`model` only applies to a scenario with `commands`".into(),
            ));
        }
        if let Some(session) = &scenario.session {
            return Err((
                session.referenced,
                "`session` only applies to a scenario with `commands`".into(),
            ));
        }
        if let Some(first) = scenario.play.iter().flatten().next() {
            return Err((
                first.referenced,
                "`play` only applies to a scenario with `commands`".into(),
            ));
        }
        return Ok(());
    }
    let at_name = scenario.name.referenced;
    if scenario.role != Role::Server {
        return Err((
            at_name,
            "`commands` are played by conform as the client: a session scenario has `role: server`"
                .into(),
        ));
    }
    if let Some(window) = scenario.window.as_ref().filter(|w| w.value > 1) {
        return Err((
            window.referenced,
            "`window` does not apply to sessions: their commands depend on each other".into(),
        ));
    }
    if let Some(session) = &scenario.session {
        let (min, max) = (
            session.value.min_commands.unwrap_or(1),
            session
                .value
                .max_commands
                .unwrap_or(crate::spec::model::session::DEFAULT_MAX_COMMANDS),
        );
        if min == 0 || max == 0 || max > MAX_COMMANDS || min > max {
            return Err((
                session.referenced,
                format!(
                    "a session plays between 1 and {MAX_COMMANDS} commands, and `min_commands` ({min}) \
                     is at most `max_commands` ({max})"
                ),
            ));
        }
    }
    let mut names = HashSet::new();
    for command in &scenario.commands {
        let name = &command.value.name;
        if name.value.is_empty()
            || !name
                .value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        {
            return Err((
                name.referenced,
                format!(
                    "command name `{}`: use letters, digits and `_ . : -` (replay lines name commands)",
                    name.value
                ),
            ));
        }
        if !names.insert(name.value.as_str()) {
            return Err((
                name.referenced,
                format!("two commands are named `{}`", name.value),
            ));
        }
        check_command(scenario, command)
            .map_err(|(loc, msg)| (loc, format!("in command `{}`: {msg}", name.value)))?;
    }
    check_play(scenario)
}

/// `same_as_reference` fits a server scenario, outside alternatives, framed as the transport
/// allows.
fn check_same_as(scenario: &Scenario, step: &Spanned<Step>) -> Result<(), Problem> {
    if let Step::ExpectOneOf(branches) = &step.value
        && branches
            .iter()
            .any(|b| same_as_reference(&b.value).is_some())
    {
        return Err((
            step.referenced,
            "`same_as_reference` cannot be an alternative: it reads one reply and compares it"
                .into(),
        ));
    }
    let Some(same) = same_as_reference(&step.value) else {
        return Ok(());
    };
    if scenario.role != Role::Server {
        return Err((
            step.referenced,
            "`same_as_reference` compares servers: the reference (`--reference`) is a server, \
             so it fits only a `role: server` scenario"
                .into(),
        ));
    }
    match (scenario.transport, &same.frame) {
        (Transport::Udp, None | Some(Frame::Datagram)) => Ok(()),
        (Transport::Udp, Some(_)) => Err((
            step.referenced,
            "over UDP a reply is one datagram: leave out the framing, or write `datagram`".into(),
        )),
        (Transport::Tcp, None) => Err((
            step.referenced,
            "a TCP stream has no message boundaries: say where a reply ends, e.g. \
             `expect: {same_as_reference: resp}` (or `line`, or a map with `until`, `length` or `regex`)"
                .into(),
        )),
        (Transport::Tcp, Some(Frame::Datagram)) => Err((
            step.referenced,
            "`datagram` framing is for UDP: a TCP reply is framed as `line`, `resp`, or by `until`, `length` or `regex`"
                .into(),
        )),
        (Transport::Tcp, Some(_)) => Ok(()),
    }
}

/// The open connections after the scenario's own steps, as `check_steps` tracks them.
fn connections_after_steps(scenario: &Scenario) -> (Vec<String>, HashSet<String>) {
    let mut open = Vec::new();
    let mut named = HashSet::new();
    for step in &scenario.steps {
        // Already checked by `check_steps`: only the state it leaves matters here.
        let _ = check_step(scenario, &step.value, &mut open, &mut named);
    }
    (open, named)
}

/// The names the scenario's own steps capture.
fn captured_by_steps(scenario: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for step in &scenario.steps {
        step_captures(&step.value, &mut out);
    }
    out
}

fn check_command(scenario: &Scenario, command: &Spanned<Command>) -> Result<(), Problem> {
    let c = &command.value;
    if c.steps.is_empty() {
        return Err((command.referenced, "a command needs steps".into()));
    }
    if let Some(weight) = &c.weight
        && !(1..=1000).contains(&weight.value)
    {
        return Err((
            weight.referenced,
            "`weight` is between 1 and 1000 (leave a command out to never play it)".into(),
        ));
    }
    for (name, generator) in &c.generate {
        if scenario.generate.contains_key(name) {
            return Err((
                generator.referenced,
                format!(
                    "`{name}` is also generated by the scenario's `generate`: pick another name"
                ),
            ));
        }
    }
    for (value, bundle) in &c.bundles {
        if !c.generate.contains_key(value) {
            return Err((
                bundle.referenced,
                format!("`bundles` names `{value}`, which this command does not generate"),
            ));
        }
        if bundle.value.trim().is_empty() {
            return Err((bundle.referenced, "a bundle needs a name".into()));
        }
    }
    check_rules(scenario, command)?;
    check_from_state(scenario, command)?;
    let (mut open, mut named) = connections_after_steps(scenario);
    let mut known: Vec<String> = scenario.generate.keys().cloned().collect();
    if scenario.model.is_some() {
        known.push(crate::spec::expr::STATE.to_string());
    }
    known.extend(captured_by_steps(scenario));
    known.extend(c.generate.keys().cloned());
    for step in &c.steps {
        check_step(scenario, &step.value, &mut open, &mut named)
            .map_err(|e| (step.referenced, e.to_string()))?;
        let mut mine = Vec::new();
        step_captures(&step.value, &mut mine);
        let mut vars = Vec::new();
        step_vars(&step.value, &mut vars);
        let is_expect = matches!(step.value, Step::Expect(_));
        if let Some(var) = vars.iter().find(|v| {
            let captured_here = is_expect && mine.iter().any(|m| m == *v);
            !(known.iter().any(|k| k == *v) || captured_here)
        }) {
            return Err((
                step.referenced,
                format!(
                    "`{var}` is not a generated or captured value (known here: {})",
                    if known.is_empty() {
                        "nothing".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        known.extend(mine);
    }
    Ok(())
}

/// `when` and `update` read only the model's state and generated values; an update needs a
/// model.
fn check_rules(scenario: &Scenario, command: &Spanned<Command>) -> Result<(), Problem> {
    let c = &command.value;
    if c.update.is_some() && scenario.model.is_none() {
        return Err((
            command.referenced,
            "`update` changes the model's state: give the scenario a `model: {initial: ...}`"
                .into(),
        ));
    }
    let mut known: Vec<&str> = scenario.generate.keys().map(String::as_str).collect();
    known.extend(c.generate.keys().map(String::as_str));
    if scenario.model.is_some() {
        known.push(crate::spec::expr::STATE);
    }
    for (part, code) in [("when", &c.when), ("update", &c.update)] {
        let Some(code) = code else { continue };
        if let Some(var) = code.0.vars().iter().find(|v| !known.contains(&v.as_str())) {
            return Err((
                command.referenced,
                format!(
                    "`{part}` at line {}, column {} reads `{var}`, which is not a generated value{} (known here: {})",
                    code.0.line,
                    code.0.column,
                    if scenario.model.is_none() {
                        " (and there is no `model`, so no `state`)"
                    } else {
                        ""
                    },
                    if known.is_empty() {
                        "nothing".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// `from_state` draws generated values of the command from the model's state: it needs a
/// model, names values the command generates, and reads only `state`.
fn check_from_state(scenario: &Scenario, command: &Spanned<Command>) -> Result<(), Problem> {
    let c = &command.value;
    for (value, code) in &c.from_state {
        if scenario.model.is_none() {
            return Err((
                code.referenced,
                "`from_state` draws values from the model's state: give the scenario a \
                 `model: {initial: ...}`"
                    .into(),
            ));
        }
        if !c.generate.contains_key(value) {
            return Err((
                code.referenced,
                format!("`from_state` names `{value}`, which this command does not generate"),
            ));
        }
        if let Some(var) = code
            .value
            .0
            .vars()
            .iter()
            .find(|v| v.as_str() != crate::spec::expr::STATE)
        {
            return Err((
                code.referenced,
                format!(
                    "`from_state` of `{value}` reads `{var}`: it is computed before the command's \
                     values, from `state` alone"
                ),
            ));
        }
    }
    Ok(())
}

/// A fixed session names known commands and fixes exactly their generated values.
fn check_play(scenario: &Scenario) -> Result<(), Problem> {
    for call in scenario.play.iter().flatten() {
        let at = call.referenced;
        let Some(command) = scenario
            .commands
            .iter()
            .find(|c| c.value.name.value == call.value.name)
        else {
            let known: Vec<&str> = scenario
                .commands
                .iter()
                .map(|c| c.value.name.value.as_str())
                .collect();
            return Err((
                at,
                format!(
                    "`play` names `{}`, which is not a command here (the commands are: {})",
                    call.value.name,
                    known.join(", ")
                ),
            ));
        };
        let wanted: BTreeSet<&String> = command.value.generate.keys().collect();
        let given: BTreeSet<&String> = call.value.values.keys().collect();
        if let Some(missing) = wanted.difference(&given).next() {
            return Err((
                at,
                format!(
                    "`play` gives `{}` no `{missing}`: a fixed session fixes every value",
                    call.value.name
                ),
            ));
        }
        for (name, fixed) in &call.value.values {
            let Some(generator) = command.value.generate.get(name) else {
                return Err((
                    fixed.referenced,
                    format!("command `{}` generates no `{name}`", call.value.name),
                ));
            };
            fits(&generator.value, &fixed.value).map_err(|e| {
                (
                    fixed.referenced,
                    format!("`{name}` of `{}`: {e}", call.value.name),
                )
            })?;
        }
    }
    Ok(())
}

/// Whether a fixed value is one its generator's kind makes.
fn fits(generator: &Generator, fixed: &Fixed) -> Result<(), DataError> {
    match (generator, fixed) {
        (
            Generator::Bytes { .. } | Generator::Text { .. } | Generator::Pattern(_),
            Fixed::Bytes(_),
        ) => Ok(()),
        (Generator::Number { width, .. } | Generator::Signed { width, .. }, Fixed::Number(n)) => {
            width
                .bits(*n)
                .map(|_| ())
                .ok_or_else(|| DataError::Misfit(width.misfit(*n)))
        }
        (Generator::Split { data, .. }, Fixed::Split { cuts, pauses }) => {
            split_value(data, cuts.clone(), pauses.clone()).map(|_| ())
        }
        _ => Err(DataError::UnfitKind),
    }
}
