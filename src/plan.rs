//! Deciding what runs: each scenario of each spec, against which target, or skipped and why.
//!
//! In: loaded specs and the run's [`Targets`]. Out: a list of [`Planned`] scenarios, in file
//! order. No I/O.

use crate::run::case::Target;
use crate::run::options::Targets;
use crate::spec::{Role, Scenario, Spec};

/// One scenario and what it will run against.
pub struct Planned<'a> {
    pub spec: &'a Spec,
    pub scenario: &'a Scenario,
    pub target: Result<Target, String>,
}

pub fn plan<'a>(specs: &'a [Spec], targets: &Targets) -> Vec<Planned<'a>> {
    specs
        .iter()
        .flat_map(|spec| {
            spec.file.scenarios.iter().map(move |s| Planned {
                spec,
                scenario: &s.value,
                target: target_for(&s.value, targets),
            })
        })
        .collect()
}

/// With no target given, everything runs against the reference. With a server (or an
/// address) given, server scenarios run against it and client scenarios are skipped; and
/// the other way round.
fn target_for(scenario: &Scenario, targets: &Targets) -> Result<Target, String> {
    if !targets.any_external() {
        return Ok(Target::Reference);
    }
    match scenario.role {
        Role::Server => match (&targets.server, targets.connect) {
            (Some(words), _) => Ok(Target::Program(words.clone())),
            (None, Some(addr)) => Ok(Target::Address(addr)),
            (None, None) => Err("a server scenario, and no --server or --connect was given".into()),
        },
        Role::Client => match &targets.client {
            Some(words) => Ok(Target::Program(words.clone())),
            None => Err("a client scenario, and no --client was given".into()),
        },
    }
}
