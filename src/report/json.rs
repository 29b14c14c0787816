//! JSON Lines for programs: one object per event, schema `conform-events/2`, documented in
//! `docs/events.md`.
//!
//! In: [`Event`]s. Out: one line of JSON per event, written and flushed as it arrives. The
//! structs here mirror the events field by field; they exist so that the wire format is
//! written down in one place and changes only on purpose (a new schema version), not because
//! a type in `event` was renamed.

mod history;
mod wire;

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::Reporter;
use crate::drive::template;
use crate::event::{
    Event, Exit, Failure, Generated, ProgramEnding, ScenarioId, StepRef, Summary, TargetKind,
    Verdict, signal_name,
};
use crate::spec::payload::escape;
use crate::verdict::Mismatch;
use wire::WireJson;

/// Bump the number when a field changes meaning or disappears; adding a field keeps it.
pub const SCHEMA: &str = "conform-events/2";

pub struct Json<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> Json<W> {
    pub fn new(out: W) -> Self {
        Json { out }
    }
}

impl<W: Write + Send> Reporter for Json<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        let body = match event {
            // Progress is for a terminal's progress line; the event stream has the verdicts.
            Event::Progress { .. } => return Ok(()),
            Event::RunStarted { scenarios, jobs } => Body::RunStarted {
                scenarios: *scenarios,
                jobs: *jobs,
            },
            Event::ScenarioStarted { id } => Body::ScenarioStarted { id: id.into() },
            Event::StepObserved {
                id,
                step,
                passed,
                duration,
            } => Body::StepObserved {
                id: id.into(),
                step: step.into(),
                passed: *passed,
                duration_ms: millis(*duration),
            },
            Event::ScenarioFinished {
                id,
                target,
                lifecycle,
                verdict,
                duration,
                cases,
                seed,
                cut_short,
                window,
                clients,
            } => {
                let (word, failure, skip_reason) = match verdict {
                    Verdict::Pass => ("pass", None, None),
                    Verdict::Fail(failure) => ("fail", Some(failure.as_ref().into()), None),
                    Verdict::Warn(failure) => ("warn", Some(failure.as_ref().into()), None),
                    Verdict::Skip(reason) => ("skip", None, Some(reason.as_str())),
                };
                Body::ScenarioFinished {
                    id: id.into(),
                    target: target.into(),
                    lifecycle: lifecycle.to_string(),
                    verdict: word,
                    failure,
                    skip_reason,
                    duration_ms: millis(*duration),
                    cases: *cases,
                    // A string, because seeds use all 64 bits and JavaScript (and jq before
                    // 1.7) read JSON numbers as doubles: a rounded seed replays nothing.
                    seed: seed.map(|s| s.to_string()),
                    cut_short: cut_short.map(|c| CutShortJson {
                        planned: c.planned,
                        budget_ms: millis(c.budget),
                    }),
                    window: *window,
                    clients: *clients,
                }
            }
            Event::RunFinished { summary, duration } => Body::RunFinished {
                summary: summary.into(),
                duration_ms: millis(*duration),
            },
        };
        let line = Line {
            schema: SCHEMA,
            body,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        // Flushed per event so a program tailing the stream sees each one as it happens.
        self.out.flush()
    }
}

/// Milliseconds to the microsecond, so `0.288` is written rather than `0.28822899999999996`.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize)]
struct Line<'a> {
    schema: &'static str,
    #[serde(flatten)]
    body: Body<'a>,
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "one value lives per event, only to be serialized: boxing would only add an allocation"
)]
enum Body<'a> {
    RunStarted {
        scenarios: usize,
        jobs: usize,
    },
    ScenarioStarted {
        id: Id<'a>,
    },
    StepObserved {
        id: Id<'a>,
        step: Step,
        passed: bool,
        duration_ms: f64,
    },
    ScenarioFinished {
        id: Id<'a>,
        target: Target<'a>,
        lifecycle: String,
        verdict: &'static str,
        failure: Option<FailureJson<'a>>,
        skip_reason: Option<&'a str>,
        duration_ms: f64,
        cases: u64,
        seed: Option<String>,
        /// Present when the time budget stopped a generated scenario before all its cases.
        #[serde(skip_serializing_if = "Option::is_none")]
        cut_short: Option<CutShortJson>,
        /// Requests kept in flight, when the scenario ran through a window.
        #[serde(skip_serializing_if = "Option::is_none")]
        window: Option<usize>,
        /// Sessions played at once, when a session scenario ran several clients.
        #[serde(skip_serializing_if = "Option::is_none")]
        clients: Option<usize>,
    },
    RunFinished {
        summary: SummaryJson,
        duration_ms: f64,
    },
}

#[derive(Serialize)]
struct Id<'a> {
    file: &'a str,
    name: &'a str,
    role: String,
    transport: String,
    level: String,
    tags: &'a [String],
    /// Only in `conform matrix`, so `conform run` streams are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    implementation: Option<&'a str>,
}

impl<'a> From<&'a ScenarioId> for Id<'a> {
    fn from(id: &'a ScenarioId) -> Self {
        Id {
            file: &id.file,
            name: &id.name,
            role: id.role.to_string(),
            transport: id.transport.to_string(),
            level: id.level.to_string(),
            tags: &id.tags,
            implementation: id.implementation.as_deref(),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Target<'a> {
    Reference,
    /// `command` to show, `argv` to run: the words, `{port}` unfilled.
    Program {
        command: String,
        argv: &'a [String],
    },
    Address {
        address: &'a str,
    },
}

impl<'a> From<&'a TargetKind> for Target<'a> {
    fn from(target: &'a TargetKind) -> Self {
        match target {
            TargetKind::Reference => Target::Reference,
            TargetKind::Program(argv) => Target::Program {
                command: template::join(argv),
                argv,
            },
            TargetKind::Address(address) => Target::Address { address },
        }
    }
}

#[derive(Serialize)]
struct Step {
    index: usize,
    keyword: &'static str,
    line: u64,
    column: u64,
}

impl From<&StepRef> for Step {
    fn from(step: &StepRef) -> Self {
        Step {
            index: step.index,
            keyword: step.keyword,
            line: step.line,
            column: step.column,
        }
    }
}

#[derive(Serialize)]
struct FailureJson<'a> {
    step: Option<Step>,
    mismatches: Vec<MismatchJson<'a>>,
    program: Option<Program<'a>>,
    generated: Option<GeneratedJson<'a>>,
    wire: Option<WireJson>,
    /// The minimal session of a session scenario, one entry per command.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<Vec<CommandJson<'a>>>,
    /// Several clients at once: one timeline per client, and how far the search for an
    /// order that explains their replies got.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<history::HistoryJson<'a>>,
}

impl<'a> From<&'a Failure> for FailureJson<'a> {
    fn from(failure: &'a Failure) -> Self {
        FailureJson {
            step: failure.step.as_ref().map(Step::from),
            mismatches: failure.mismatches.iter().map(MismatchJson::from).collect(),
            program: failure.program.as_ref().map(|p| Program {
                command: p.command(),
                argv: p.argv.as_deref(),
                ending: p.ending.as_ref().map(EndingJson::from),
                stderr_tail: &p.stderr_tail,
                stdout_tail: &p.stdout_tail,
            }),
            generated: failure.generated.as_ref().map(GeneratedJson::from),
            wire: failure.wire.as_ref().map(WireJson::from),
            session: failure
                .generated
                .as_ref()
                .and_then(|g| g.session.as_deref())
                .map(commands),
            history: failure
                .generated
                .as_ref()
                .and_then(|g| g.history.as_deref())
                .map(history::HistoryJson::from),
        }
    }
}

#[derive(Serialize)]
struct CutShortJson {
    planned: u64,
    budget_ms: f64,
}

/// The inputs of a failed generated scenario, first as found and then shrunk.
#[derive(Serialize)]
struct GeneratedJson<'a> {
    /// A string for the same reason as `scenario_finished.seed`.
    seed: String,
    case: u64,
    elapsed_ms: f64,
    original: Vec<Value<'a>>,
    minimal: Vec<Value<'a>>,
    /// Runs of the program while shrinking (`shrink_steps` is the same number, kept for
    /// consumers written before `probes`).
    probes: u64,
    shrink_steps: u64,
    /// How shrinking ended: a word, and the sentence the human report prints.
    shrinking: &'static str,
    shrinking_message: String,
    replay: &'a str,
    saved: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct Value<'a> {
    name: &'a str,
    description: &'a str,
}

impl<'a> From<&'a Generated> for GeneratedJson<'a> {
    fn from(g: &'a Generated) -> Self {
        GeneratedJson {
            seed: g.seed.to_string(),
            case: g.case,
            elapsed_ms: millis(g.elapsed),
            original: values(&g.original),
            minimal: values(&g.minimal),
            probes: g.probes,
            shrink_steps: g.probes,
            shrinking: g.shrinking.word(),
            shrinking_message: g.shrinking.message(),
            replay: &g.replay,
            saved: g.saved.as_deref(),
        }
    }
}

/// One command of a failure's minimal session.
#[derive(Serialize)]
struct CommandJson<'a> {
    /// 1-based position in the session.
    index: usize,
    name: &'a str,
    values: Vec<Value<'a>>,
    sent: KeptJson,
    /// What the program under test answered; absent when it did not play the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    answered: Option<KeptJson>,
    /// What the reference program answered, when one was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<KeptJson>,
    /// Whether the failing step is one of this command's.
    failed: bool,
}

/// Bytes kept for a report: hex and escaped text of the kept ones, and how many there were.
#[derive(Serialize)]
pub(super) struct KeptJson {
    hex: String,
    text: String,
    length: usize,
}

impl From<&crate::event::Kept> for KeptJson {
    fn from(kept: &crate::event::Kept) -> Self {
        KeptJson {
            hex: hex(&kept.bytes),
            text: escape(&kept.bytes),
            length: kept.len,
        }
    }
}

/// `(name, description)` pairs as JSON values.
pub(super) fn values(pairs: &[(String, String)]) -> Vec<Value<'_>> {
    pairs
        .iter()
        .map(|(name, description)| Value { name, description })
        .collect()
}

fn commands(session: &crate::event::SessionReport) -> Vec<CommandJson<'_>> {
    session
        .commands
        .iter()
        .enumerate()
        .map(|(i, c)| CommandJson {
            index: i + 1,
            name: &c.name,
            values: values(&c.values),
            sent: (&c.sent).into(),
            answered: c.answered.as_ref().map(KeptJson::from),
            reference: c.reference.as_ref().map(KeptJson::from),
            failed: session.failed_at == Some(i + 1),
        })
        .collect()
}

/// Bytes twice: hex to decode exactly, conform's escaped text to read.
#[derive(Serialize)]
struct MismatchJson<'a> {
    summary: &'a str,
    expected_hex: Option<String>,
    actual_hex: Option<String>,
    expected_text: Option<String>,
    actual_text: Option<String>,
    hint: Option<&'a str>,
}

impl<'a> From<&'a Mismatch> for MismatchJson<'a> {
    fn from(m: &'a Mismatch) -> Self {
        MismatchJson {
            summary: &m.summary,
            expected_hex: m.expected.as_deref().map(hex),
            actual_hex: m.actual.as_deref().map(hex),
            expected_text: m.expected.as_deref().map(escape),
            actual_text: m.actual.as_deref().map(escape),
            hint: m.hint.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Program<'a> {
    /// The command as one line, quoted where a shell would need it; `argv` is its words
    /// (null for the built-in reference, which is no command).
    command: String,
    argv: Option<&'a [String]>,
    ending: Option<EndingJson>,
    stderr_tail: &'a [String],
    stdout_tail: &'a [String],
}

/// How the program ended: a `kind`, the fields that kind has, and the sentence reports print.
#[derive(Serialize)]
struct EndingJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signal_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grace_ms: Option<f64>,
    message: String,
}

impl From<&ProgramEnding> for EndingJson {
    fn from(ending: &ProgramEnding) -> Self {
        let (code, signal) = match ending.exit() {
            Some(Exit::Code(code)) => (Some(code), None),
            Some(Exit::Signal(signal)) => (None, Some(signal)),
            None => (None, None),
        };
        EndingJson {
            kind: ending.word(),
            code,
            signal,
            signal_name: signal.and_then(signal_name),
            grace_ms: ending.grace().map(millis),
            message: ending.to_string(),
        }
    }
}

#[derive(Serialize)]
struct SummaryJson {
    passed: usize,
    failed: usize,
    warned: usize,
    skipped: usize,
}

impl From<&Summary> for SummaryJson {
    fn from(s: &Summary) -> Self {
        SummaryJson {
            passed: s.passed,
            failed: s.failed,
            warned: s.warned,
            skipped: s.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_contiguous_lowercase() {
        assert_eq!(hex(b"Hi\n\xff"), "48690aff");
    }

    #[test]
    fn every_line_names_the_schema_and_the_event_first() {
        let mut out = Vec::new();
        Json::new(&mut out)
            .report(&Event::RunStarted {
                scenarios: 3,
                jobs: 2,
            })
            .expect("in-memory write");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"schema\":\"conform-events/2\",\"event\":\"run_started\",\"scenarios\":3,\"jobs\":2}\n"
        );
    }
}
