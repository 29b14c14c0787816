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

pub fn plan<'a>(specs: &'a [Spec], targets: &Targets, filters: &[Filter]) -> Vec<Planned<'a>> {
    specs
        .iter()
        .flat_map(|spec| {
            spec.file
                .scenarios
                .iter()
                .filter(move |s| filters.iter().all(|f| f.matches(spec, &s.value)))
                .map(move |s| Planned {
                    spec,
                    scenario: &s.value,
                    target: target_for(&s.value, targets),
                })
        })
        .collect()
}

/// One `--filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Name(String),
    Tag(String),
    Role(Role),
    Transport(crate::spec::Transport),
    Level(crate::spec::Level),
    File(String),
    /// Text found in the scenario's name.
    Contains(String),
}

impl std::str::FromStr for Filter {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        use crate::spec::{Level, Transport};
        let bad = |what: &str| format!("--filter {text}: {what}");
        Ok(match text.split_once(':') {
            Some(("name", v)) => Filter::Name(v.to_string()),
            Some(("tag", v)) => Filter::Tag(v.to_string()),
            Some(("file", v)) => Filter::File(v.to_string()),
            Some(("role", "server")) => Filter::Role(Role::Server),
            Some(("role", "client")) => Filter::Role(Role::Client),
            Some(("role", _)) => return Err(bad("a role is `server` or `client`")),
            Some(("transport", "tcp")) => Filter::Transport(Transport::Tcp),
            Some(("transport", "udp")) => Filter::Transport(Transport::Udp),
            Some(("transport", _)) => return Err(bad("a transport is `tcp` or `udp`")),
            Some(("level", "must")) => Filter::Level(Level::Must),
            Some(("level", "should")) => Filter::Level(Level::Should),
            Some(("level", _)) => return Err(bad("a level is `must` or `should`")),
            Some((key, _)) if key.chars().all(|c| c.is_ascii_lowercase()) && !key.is_empty() => {
                return Err(bad(
                    "filters are name:, tag:, role:, transport:, level:, file:, or plain text",
                ));
            }
            _ => Filter::Contains(text.to_string()),
        })
    }
}

impl Filter {
    pub fn matches(&self, spec: &Spec, scenario: &Scenario) -> bool {
        match self {
            Filter::Name(name) => scenario.name.value == *name,
            Filter::Tag(tag) => scenario.tags.iter().any(|t| t == tag),
            Filter::Role(role) => scenario.role == *role,
            Filter::Transport(t) => scenario.transport == *t,
            Filter::Level(l) => scenario.level == *l,
            Filter::File(path) => spec.path == *path,
            Filter::Contains(text) => scenario.name.value.contains(text.as_str()),
        }
    }
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
