//! What the feeders of generated cases share: the inputs they are given and the outcome they
//! hand back.
//!
//! In: nothing but types. Out: [`Feed`] (seed, pinned values, replay line, planned cases) and
//! [`Fuzzed`] (cases run, the settled failure), and the scenario's time budget.

use std::collections::BTreeMap;
use std::time::Duration;

use super::options::{DEFAULT_BUDGET, DEFAULT_CASES, RunOptions};
use crate::event::{CutShort, Failure};
use crate::spec::{Env, Scenario, Value};

pub struct Fuzzed {
    /// Generated cases run (shrinking probes are counted apart, in the failure).
    pub cases: u64,
    pub failure: Option<Failure>,
    /// The values of the minimal failing case, when shrinking produced one worth saving.
    pub minimal: Option<Env>,
    /// Set when the time budget stopped the cases early.
    pub cut_short: Option<CutShort>,
    /// Requests kept in flight, when the cases ran through a window.
    pub window: Option<usize>,
}

/// What every feeder of generated cases is given.
pub struct Feed<'a> {
    pub seed: u64,
    pub pinned: &'a BTreeMap<String, Value>,
    /// The start of the command line that replays a case.
    pub replay_base: String,
    pub planned: u32,
    /// Where values too long for a replay line on a terminal are written, if anywhere.
    pub replay_dir: Option<std::path::PathBuf>,
}

/// Sessions a session scenario plays: `--cases`, else the spec's `cases`, else the default.
pub fn planned_sessions(scenario: &Scenario, opts: &RunOptions) -> u32 {
    opts.cases
        .or(scenario.cases.as_ref().map(|c| c.value))
        .unwrap_or(DEFAULT_CASES)
}

/// The time a generated scenario may spend running cases.
pub fn budget(scenario: &Scenario, opts: &RunOptions) -> Duration {
    opts.budget
        .or(scenario.budget.as_ref().map(|b| b.value.get()))
        .unwrap_or(DEFAULT_BUDGET)
}
