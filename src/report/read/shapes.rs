//! The documented JSON shapes of `conform-events/2` (docs/events.md), as serde reads them:
//! one struct per event kind and per object inside one, field for field what
//! `report::json` writes.
//!
//! In: one line's JSON value, already known to carry the right `schema` and a known `event`.
//! Out: these plain structs, which `convert` turns into [`crate::event::Event`]s. Fields the
//! writer always writes are required here, so a stream that lost one is refused by name;
//! fields it leaves out when they do not apply are `Option`s. Unknown fields are ignored, as
//! the schema's versioning asks of consumers.

use serde::Deserialize;

use crate::spec::{Level, Role, Transport};

#[derive(Deserialize)]
pub(super) struct RunStarted {
    pub(super) scenarios: usize,
    pub(super) jobs: usize,
}

#[derive(Deserialize)]
pub(super) struct ScenarioStarted {
    pub(super) id: Id,
}

#[derive(Deserialize)]
pub(super) struct StepObserved {
    pub(super) id: Id,
    pub(super) step: Step,
    pub(super) passed: bool,
    pub(super) duration_ms: f64,
}

#[derive(Deserialize)]
pub(super) struct ScenarioFinished {
    pub(super) id: Id,
    pub(super) target: Target,
    pub(super) lifecycle: crate::spec::Lifecycle,
    pub(super) verdict: VerdictWord,
    pub(super) failure: Option<Failure>,
    pub(super) skip_reason: Option<String>,
    pub(super) duration_ms: f64,
    pub(super) cases: u64,
    pub(super) seed: Option<String>,
    pub(super) cut_short: Option<CutShort>,
    pub(super) window: Option<usize>,
    #[serde(default)]
    pub(super) clients: Option<usize>,
}

#[derive(Deserialize)]
pub(super) struct RunFinished {
    pub(super) summary: Summary,
    pub(super) duration_ms: f64,
}

#[derive(Deserialize)]
pub(super) struct Id {
    pub(super) file: String,
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) transport: Transport,
    pub(super) level: Level,
    pub(super) tags: Vec<String>,
    pub(super) implementation: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Target {
    Reference,
    /// `command` is the same words for display; `argv` is what ran.
    Program {
        argv: Vec<String>,
    },
    Address {
        address: String,
    },
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum VerdictWord {
    Pass,
    Fail,
    Warn,
    Skip,
}

#[derive(Deserialize)]
pub(super) struct Step {
    pub(super) index: usize,
    pub(super) keyword: String,
    pub(super) line: u64,
    pub(super) column: u64,
}

#[derive(Deserialize)]
pub(super) struct Failure {
    pub(super) step: Option<Step>,
    pub(super) mismatches: Vec<Mismatch>,
    pub(super) program: Option<Program>,
    pub(super) generated: Option<Generated>,
    pub(super) wire: Option<Wire>,
    /// The minimal session of a session scenario.
    #[serde(default)]
    pub(super) session: Option<Vec<Command>>,
    /// Several clients at once: their timelines.
    #[serde(default)]
    pub(super) history: Option<History>,
}

/// `failure.history`: clients and commands are 1-based.
#[derive(Deserialize)]
pub(super) struct History {
    pub(super) clients: Vec<Vec<Timed>>,
    pub(super) explained: Vec<At>,
    pub(super) stuck: Vec<Stuck>,
    pub(super) replays: u32,
}

#[derive(Deserialize)]
pub(super) struct Timed {
    pub(super) name: String,
    pub(super) values: Vec<Value>,
    pub(super) sent: Kept,
    pub(super) answered: Kept,
    pub(super) began_ms: Option<f64>,
    pub(super) ended_ms: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct At {
    pub(super) client: usize,
    pub(super) command: usize,
}

#[derive(Deserialize)]
pub(super) struct Stuck {
    pub(super) client: usize,
    pub(super) command: usize,
    pub(super) expected: Vec<Bytes>,
}

#[derive(Deserialize)]
pub(super) struct Bytes {
    pub(super) hex: String,
}

/// One command of a failure's minimal session.
#[derive(Deserialize)]
pub(super) struct Command {
    pub(super) name: String,
    pub(super) values: Vec<Value>,
    pub(super) sent: Kept,
    pub(super) answered: Option<Kept>,
    pub(super) reference: Option<Kept>,
    pub(super) failed: bool,
}

/// Bytes kept for a report: read from `hex`; `length` is how many there were.
#[derive(Deserialize)]
pub(super) struct Kept {
    pub(super) hex: String,
    pub(super) length: usize,
}

/// The bytes are read from the hex fields, which are exact; `*_text` repeats them escaped.
#[derive(Deserialize)]
pub(super) struct Mismatch {
    pub(super) summary: String,
    pub(super) expected_hex: Option<String>,
    pub(super) actual_hex: Option<String>,
    pub(super) hint: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Program {
    pub(super) argv: Option<Vec<String>>,
    pub(super) ending: Option<Ending>,
    pub(super) stderr_tail: Vec<String>,
    pub(super) stdout_tail: Vec<String>,
}

/// `message` is not read: it is the sentence of `kind` and its fields, which the reporters
/// write again from them.
#[derive(Deserialize, Clone)]
pub(super) struct Ending {
    pub(super) kind: String,
    pub(super) code: Option<i32>,
    pub(super) signal: Option<i32>,
    pub(super) grace_ms: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct CutShort {
    pub(super) planned: u64,
    pub(super) budget_ms: f64,
}

#[derive(Deserialize)]
pub(super) struct Generated {
    pub(super) seed: String,
    pub(super) case: u64,
    pub(super) elapsed_ms: f64,
    pub(super) original: Vec<Value>,
    pub(super) minimal: Vec<Value>,
    pub(super) probes: u64,
    pub(super) shrinking: String,
    pub(super) shrinking_message: String,
    pub(super) replay: String,
    pub(super) saved: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Value {
    pub(super) name: String,
    pub(super) description: String,
}

#[derive(Deserialize)]
pub(super) struct Wire {
    pub(super) entries: Vec<WireEntry>,
    pub(super) bytes_cut: u64,
    pub(super) entries_dropped: u64,
}

/// One wire log entry: `at_ms` and `kind` always, the rest as `kind` has them.
#[derive(Deserialize)]
pub(super) struct WireEntry {
    pub(super) at_ms: f64,
    pub(super) kind: String,
    pub(super) transport: Option<Transport>,
    pub(super) direction: Option<String>,
    pub(super) local: Option<String>,
    pub(super) peer: Option<String>,
    pub(super) length: Option<usize>,
    pub(super) hex: Option<String>,
    pub(super) waited_ms: Option<f64>,
    pub(super) ending: Option<Ending>,
    pub(super) reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Summary {
    pub(super) passed: usize,
    pub(super) failed: usize,
    pub(super) warned: usize,
    pub(super) skipped: usize,
}
