//! Checks that need more than one value at a time: unique names, steps that make sense for
//! the scenario's role and transport, connections named before they are used.
//!
//! In: a parsed [`Spec`]. Out: `Ok` or the first problem, located at the offending node.

pub mod clients;
mod error;
mod session;

use std::collections::HashSet;

use serde_saphyr::Location;

use super::data::split_value;
use super::error::SpecError;
use super::model::Spec;
use super::model::{Fixed, Generator, Role, Scenario, Step, Transport};
pub use error::StepError;

pub fn check(spec: &Spec) -> Result<(), SpecError> {
    let at =
        |loc: &Location, msg: String| SpecError::new(&spec.path, loc.line(), loc.column(), msg);
    if let Some(version) = &spec.file.version
        && version.value != 1
    {
        return Err(at(
            &version.referenced,
            format!(
                "unknown spec version {}: this conform reads version 1",
                version.value
            ),
        ));
    }
    if spec.file.scenarios.is_empty() {
        return Err(SpecError::new(
            &spec.path,
            1,
            1,
            "`scenarios` is empty: add at least one",
        ));
    }
    let mut names = HashSet::new();
    for scenario in &spec.file.scenarios {
        let name = &scenario.value.name;
        if name.value.trim().is_empty() {
            return Err(at(
                &name.referenced,
                "a scenario name cannot be empty".into(),
            ));
        }
        if !names.insert(name.value.as_str()) {
            return Err(at(
                &name.referenced,
                format!(
                    "two scenarios are named `{}`: names must be unique in a file",
                    name.value
                ),
            ));
        }
        if scenario.value.steps.is_empty() {
            return Err(at(
                &scenario.referenced,
                format!("scenario `{}` has no steps", name.value),
            ));
        }
        check_generated(&scenario.value)
            .and_then(|()| check_steps(&scenario.value))
            .and_then(|()| session::check(&scenario.value))
            .and_then(|()| clients::check(&scenario.value))
            .map_err(|(loc, msg)| at(&loc, format!("in scenario `{}`: {msg}", name.value)))?;
    }
    Ok(())
}

pub(super) type Problem = (Location, String);

/// Most cases one scenario may ask for by default.
const MAX_CASES: u32 = 10_000_000;

/// Generated values: every variable a step reads is generated, fixed values fit their
/// generators, case counts are sane.
fn check_generated(scenario: &Scenario) -> Result<(), Problem> {
    if let Some(cases) = &scenario.cases {
        if cases.value == 0 || cases.value > MAX_CASES {
            return Err((
                cases.referenced,
                format!("`cases` must be between 1 and {MAX_CASES}"),
            ));
        }
        if !scenario.runs_many() {
            return Err((
                cases.referenced,
                "`cases` only applies to a scenario with `generate` or `commands`".into(),
            ));
        }
    }
    if let Some(budget) = &scenario.budget
        && !scenario.runs_many()
    {
        return Err((
            budget.referenced,
            "`budget` only applies to a scenario with `generate` or `commands`".into(),
        ));
    }
    if let Some(window) = &scenario.window {
        if window.value == 0 || window.value > 4096 {
            return Err((
                window.referenced,
                "`window` must be between 1 and 4096".into(),
            ));
        }
        if window.value > 1 {
            super::window::window_plan(scenario)?;
        }
    }
    check_with(scenario)?;
    check_names(scenario)
}

/// `with:` fixes only values `generate` declares, each with a value its generator could make.
fn check_with(scenario: &Scenario) -> Result<(), Problem> {
    for (name, fixed) in &scenario.with {
        let Some(generator) = scenario.generate.get(name) else {
            return Err((
                fixed.referenced,
                format!("`with` fixes `{name}`, which `generate` does not declare"),
            ));
        };
        match (&generator.value, &fixed.value) {
            (
                Generator::Bytes { .. } | Generator::Text { .. } | Generator::Pattern(_),
                Fixed::Bytes(_),
            ) => {}
            (
                Generator::Number { width, .. } | Generator::Signed { width, .. },
                Fixed::Number(n),
            ) => {
                if width.bits(*n).is_none() {
                    return Err((
                        fixed.referenced,
                        format!("`with` value of `{name}`: {}", width.misfit(*n)),
                    ));
                }
            }
            (Generator::Split { data, .. }, Fixed::Split { cuts, pauses }) => {
                split_value(data, cuts.clone(), pauses.clone())
                    .map_err(|e| (fixed.referenced, format!("`with` value of `{name}`: {e}")))?;
            }
            _ => {
                return Err((
                    fixed.referenced,
                    format!(
                        "`with` value of `{name}` does not fit its generator (bytes for `bytes` and `text`, a `number` for `number`, cuts and pauses for `split`)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every value a step uses is generated, or captured by an earlier step (or an earlier part of
/// the same sequence); no capture takes a generated value's name.
fn check_names(scenario: &Scenario) -> Result<(), Problem> {
    let mut captured: Vec<String> = Vec::new();
    for step in &scenario.steps {
        let mut mine = Vec::new();
        step_captures(&step.value, &mut mine);
        for name in &mine {
            if scenario.generate.contains_key(name) {
                return Err((
                    step.referenced,
                    format!(
                        "`{name}` is captured here but is also a generated value: pick another name"
                    ),
                ));
            }
        }
        let mut vars = Vec::new();
        step_vars(&step.value, &mut vars);
        for var in vars {
            // A sequence may use what it captured in an earlier part (`length_from`).
            let known_here =
                matches!(&step.value, Step::Expect(_)) && mine.iter().any(|m| m == var);
            if !scenario.generate.contains_key(var)
                && !captured.iter().any(|c| c == var)
                && !known_here
            {
                let mut known: Vec<&str> = scenario.generate.keys().map(String::as_str).collect();
                known.extend(captured.iter().map(String::as_str));
                let hint = if known.is_empty() {
                    "this scenario generates and captures nothing before this step".to_string()
                } else {
                    format!("known here: {}", known.join(", "))
                };
                return Err((
                    step.referenced,
                    format!("`{var}` is not a generated or captured value ({hint})"),
                ));
            }
        }
        captured.extend(mine);
    }
    Ok(())
}

/// The 1-based position of the first step that uses a generated value: a failure before it
/// cannot depend on the input.
pub fn first_input_step(scenario: &Scenario) -> Option<usize> {
    scenario
        .steps
        .iter()
        .position(|step| {
            let mut vars = Vec::new();
            step_vars(&step.value, &mut vars);
            vars.iter().any(|v| scenario.generate.contains_key(*v))
        })
        .map(|i| i + 1)
}

pub(super) fn step_vars<'a>(step: &'a Step, out: &mut Vec<&'a str>) {
    match step {
        Step::Send(send) => send.data.vars(out),
        Step::SendAll(all) => all.payloads.iter().for_each(|p| p.vars(out)),
        Step::Expect(expect) => expect.matcher.vars(out),
        Step::ExpectStdout(o) | Step::ExpectStderr(o) => {
            o.computed_lines.iter().flatten().for_each(|l| l.vars(out));
        }
        Step::ExpectOneOf(branches) => branches.iter().for_each(|b| step_vars(&b.value, out)),
        _ => {}
    }
}

/// The names a step captures from what it receives.
pub(super) fn step_captures(step: &Step, out: &mut Vec<String>) {
    match step {
        Step::Expect(expect) => {
            expect.matcher.captures(out);
            out.extend(expect.capture.clone());
        }
        Step::ExpectOneOf(branches) => branches.iter().for_each(|b| step_captures(&b.value, out)),
        _ => {}
    }
}

/// Walks the steps in order, tracking which connections exist.
pub(super) fn check_steps(scenario: &Scenario) -> Result<(), Problem> {
    let mut open: Vec<String> = Vec::new();
    let mut named: HashSet<String> = HashSet::new();
    // A UDP client scenario starts with conform's socket already bound for the client.
    if scenario.role == Role::Client && scenario.transport == Transport::Udp {
        open.push("main".into());
    }
    for step in &scenario.steps {
        check_step(scenario, &step.value, &mut open, &mut named)
            .map_err(|e| (step.referenced, e.to_string()))?;
    }
    Ok(())
}

/// `connect` or `accept`: the one the role calls for, and a name not already open.
fn check_open(
    scenario: &Scenario,
    step: &Step,
    o: &super::model::Open,
    open: &mut Vec<String>,
    named: &mut HashSet<String>,
) -> Result<(), StepError> {
    let (role, transport) = (scenario.role, scenario.transport);
    let wanted = if role == Role::Server {
        "connect"
    } else {
        "accept"
    };
    if step.keyword() != wanted {
        return Err(StepError::WrongOpen {
            keyword: step.keyword(),
            role,
            plays: if role == Role::Server {
                "client"
            } else {
                "server"
            },
            wanted,
        });
    }
    if role == Role::Client && transport == Transport::Udp {
        return Err(StepError::UdpClientOpens);
    }
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| format!("#{}", open.len() + 1));
    if o.name.is_some() && !named.insert(name.clone()) {
        return Err(StepError::AlreadyOpen { name });
    }
    open.push(name);
    Ok(())
}

/// `expect_one_of`: two or more network expectations on the same connection.
fn check_one_of(
    scenario: &Scenario,
    branches: &[serde_saphyr::Spanned<Step>],
    open: &mut Vec<String>,
    named: &mut HashSet<String>,
) -> Result<(), StepError> {
    if branches.len() < 2 {
        return Err(StepError::OneOfFew);
    }
    for branch in branches {
        if !branch.value.is_network_expectation() {
            return Err(StepError::NotAnAlternative {
                keyword: branch.value.keyword(),
            });
        }
        if let Step::Expect(e) = &branch.value
            && e.slow_read.is_some()
        {
            return Err(StepError::SlowReadAlternative);
        }
        check_step(scenario, &branch.value, open, named)?;
    }
    let targets: HashSet<_> = branches.iter().map(|b| b.value.on()).collect();
    if targets.len() > 1 {
        return Err(StepError::OneOfConnections);
    }
    Ok(())
}

pub(super) fn check_step(
    scenario: &Scenario,
    step: &Step,
    open: &mut Vec<String>,
    named: &mut HashSet<String>,
) -> Result<(), StepError> {
    let (role, transport) = (scenario.role, scenario.transport);
    match step {
        Step::Connect(o) | Step::Accept(o) => check_open(scenario, step, o, open, named)?,
        Step::ExpectEof(_) | Step::ExpectReset(_) if transport == Transport::Udp => {
            return Err(StepError::ConnectionsOverUdp {
                keyword: step.keyword(),
            });
        }
        Step::Send(send) => check_faults(&send.faults, transport)?,
        Step::SendAll(_) | Step::ShutdownWrite(_) if transport == Transport::Udp => {
            return Err(StepError::StreamsOverUdp {
                keyword: step.keyword(),
            });
        }
        Step::Close(close) if close.reset && transport == Transport::Udp => {
            return Err(StepError::ResetOverUdp);
        }
        Step::Expect(expect) if expect.slow_read.is_some() && transport == Transport::Udp => {
            return Err(StepError::SlowReadOverUdp);
        }
        Step::ExpectOneOf(branches) => check_one_of(scenario, branches, open, named)?,
        _ => {}
    }
    let uses_connection = matches!(
        step,
        Step::Send(_)
            | Step::SendAll(_)
            | Step::ShutdownWrite(_)
            | Step::Expect(_)
            | Step::ExpectEof(_)
            | Step::ExpectReset(_)
            | Step::ExpectSilence(_)
            | Step::Close(_)
    );
    if uses_connection {
        if open.is_empty() {
            let first = if role == Role::Server {
                "connect"
            } else {
                "accept"
            };
            return Err(StepError::BeforeConnection {
                keyword: step.keyword(),
                first,
            });
        }
        if let Some(on) = step.on()
            && !named.contains(on)
        {
            return Err(StepError::NoSuchConnection { on: on.to_string() });
        }
    }
    Ok(())
}

/// Faults that do not fit the transport are errors, named with the fitting alternative.
fn check_faults(faults: &super::model::SendFaults, transport: Transport) -> Result<(), StepError> {
    let wrong = match transport {
        Transport::Tcp => faults.udp_only(),
        Transport::Udp => faults.tcp_only(),
    };
    match wrong.first() {
        None => Ok(()),
        Some(&fault) => Err(StepError::WrongFault { fault, transport }),
    }
}
