//! What the runner tells reporters, and nothing else: reporters never see sockets or clap.
//!
//! In: produced by `run`. Out: consumed by every reporter in `report`, which match every
//! variant explicitly so a new event forces a decision everywhere.

mod ending;

use std::net::SocketAddr;
use std::time::Duration;

pub use ending::{Exit, ProgramEnding, signal_name};

use crate::quote;
use crate::spec::{Level, Lifecycle, Role, Transport};
use crate::verdict::Mismatch;

mod session;
pub use session::{CommandReport, HistoryReport, Kept, SessionReport, Stuck, TimedCommand};

/// Identifies a scenario in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioId {
    pub file: String,
    pub name: String,
    pub role: Role,
    pub transport: Transport,
    pub level: Level,
    pub tags: Vec<String>,
    /// The implementation under test in `conform matrix`; `None` in `conform run`.
    pub implementation: Option<String>,
}

impl ScenarioId {
    /// The spec file, or `implementation: file` in a matrix: what reports group by.
    pub fn suite(&self) -> String {
        match &self.implementation {
            Some(implementation) => format!("{implementation}: {}", self.file),
            None => self.file.clone(),
        }
    }
}

/// What the scenario ran against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// conform's built-in reference implementation, in-process.
    Reference,
    /// An external program: the command's words, placeholders such as `{port}` unfilled.
    Program(Vec<String>),
    /// A server that was already running at this address.
    Address(String),
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetKind::Reference => f.write_str("built-in reference"),
            TargetKind::Program(words) => write!(f, "`{}`", quote::join(words)),
            TargetKind::Address(addr) => write!(f, "server at {addr}"),
        }
    }
}

/// The step a failure happened at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// 1-based position in the scenario's steps.
    pub index: usize,
    pub keyword: &'static str,
    pub line: u64,
    pub column: u64,
}

/// How the program under test ended and what it last printed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramReport {
    /// The command as run, one word per argument, the port filled in; `None` for the
    /// built-in reference, which runs in-process.
    pub argv: Option<Vec<String>>,
    /// `None` only when the built-in reference's thread died without returning.
    pub ending: Option<ProgramEnding>,
    pub stderr_tail: Vec<String>,
    pub stdout_tail: Vec<String>,
}

impl ProgramReport {
    /// The command as one line, words quoted where a shell would need it (an empty argument
    /// shows as `''`), or "the built-in reference".
    pub fn command(&self) -> String {
        match &self.argv {
            Some(argv) => quote::join(argv),
            None => "the built-in reference".into(),
        }
    }
}

/// Why a scenario failed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// The step that failed; `None` when the program failed before any step ran.
    pub step: Option<StepRef>,
    /// One mismatch, or one per alternative of `expect_one_of`.
    pub mismatches: Vec<Mismatch>,
    pub program: Option<ProgramReport>,
    /// For a generated scenario: the inputs that failed.
    pub generated: Option<Generated>,
    /// What went over the wire in the failing case (the minimal one, when generated);
    /// `None` when no case ran (the program never became ready).
    pub wire: Option<WireLog>,
}

/// Everything conform sent and received in one case, in order, as seen at its sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireLog {
    /// The wall-clock time the case started; entries count from it.
    pub started: std::time::SystemTime,
    pub entries: Vec<WireEntry>,
    /// Payload bytes not kept because the case's byte limit was reached; every entry's
    /// `length` is still exact.
    pub bytes_cut: u64,
    /// Entries not recorded at all because the case's entry limit was reached.
    pub entries_dropped: u64,
}

impl Default for WireLog {
    fn default() -> Self {
        WireLog {
            started: std::time::UNIX_EPOCH,
            entries: Vec::new(),
            bytes_cut: 0,
            entries_dropped: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireEntry {
    /// Time since the case started.
    pub at: Duration,
    pub what: Wire,
}

/// Which way bytes or a close went, from conform's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// conform to the program under test.
    Sent,
    /// The program under test to conform.
    Received,
}

impl Direction {
    pub fn word(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// The two ends of a connection or datagram: conform's socket and the program's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends {
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// One thing that happened at a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// conform opened a TCP connection to the program.
    Connect { ends: Ends },
    /// conform accepted a TCP connection from the program.
    Accept { ends: Ends },
    /// conform's TCP connection to the program failed, e.g. refused.
    ConnectFailed { peer: SocketAddr, reason: String },
    /// One write or read (TCP) or one datagram (UDP). `bytes` may be shorter than `length`
    /// when the case's byte limit was reached.
    Data {
        transport: Transport,
        direction: Direction,
        ends: Ends,
        bytes: Vec<u8>,
        length: usize,
    },
    /// A side closed its half of a TCP connection (FIN): `Sent` when conform did.
    Fin { direction: Direction, ends: Ends },
    /// A side reset a TCP connection (RST): `Sent` when conform did.
    Reset { direction: Direction, ends: Ends },
    /// A wait in which nothing arrived.
    Silence { waited: Duration },
    /// conform saw the program end, or stopped it.
    ProgramExit { ending: ProgramEnding },
}

/// The inputs of a failed generated scenario, before and after shrinking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub seed: u64,
    /// 1-based number of the case that first failed.
    pub case: u64,
    /// How long the cases up to and including the failing one took.
    pub elapsed: Duration,
    /// `(name, description)` of each value of the first failing case.
    pub original: Vec<(String, String)>,
    /// The same for the simplest failing case shrinking found.
    pub minimal: Vec<(String, String)>,
    /// Runs of the program made while shrinking.
    pub probes: u64,
    /// How shrinking ended, and so what `minimal` is worth.
    pub shrinking: Shrinking,
    /// A command line that runs exactly the minimal case again, every value inline.
    pub replay: String,
    /// The same command line with values too long for a terminal written to files and named
    /// as `--with NAME=@FILE`, when there are such values.
    pub replay_short: Option<String>,
    /// Where `--save-failures` wrote the regression spec, if it did.
    pub saved: Option<String>,
    /// For a session scenario: the minimal session, command by command.
    pub session: Option<Box<SessionReport>>,
    /// For several clients at once: each client's timeline, and how far the search for an
    /// order that explains their replies got.
    pub history: Option<Box<HistoryReport>>,
}

/// The kinds of simplification a search tried at its fixed point, which is what a locally
/// minimal result can claim: none of them, applied once anywhere, still fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Passes {
    /// Bytes or text: deleting, zeroing, lowering, moving later.
    pub bytes: bool,
    /// A regex's text: also a shorter alternative, fewer repetitions.
    pub regex: bool,
    /// Numbers: clearing high bits, bisection toward the minimum.
    pub numbers: bool,
    /// Signed numbers: across 0, then as numbers, toward 0.
    pub signed: bool,
    /// Splits: removing or moving cuts, shortening pauses.
    pub splits: bool,
}

/// How the search for the simplest failing input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrinking {
    /// Every simpler input was run and passed (or none exists): `minimal` is minimal.
    Minimal,
    /// No single simplification of the kinds in `passes` still fails, but not every simpler
    /// input was run: `minimal` is locally minimal.
    Local { passes: Passes },
    /// The simplest input fails the same way: the failure does not depend on the input.
    AnyInput,
    /// The failing step comes before any generated value is used (its 1-based position).
    BeforeInput { step: usize },
    /// The failing input passed when run again alone: the failure depends on earlier cases
    /// or on timing. Nothing was shrunk.
    NotReproduced,
    /// The probe budget ran out: `minimal` is the simplest found, not proven minimal.
    Budget { probes: u32 },
    /// The time safety net (`--shrink-time`) was hit: not proven minimal.
    TimeCap { limit: Duration },
    /// conform was interrupted while shrinking.
    Stopped,
    /// Every generated value was fixed (`with:`, `--with`): there is nothing to shrink.
    Fixed,
    /// The reference program failed the same case: the spec does not hold for it, so the
    /// case says nothing about the program under test. Nothing was shrunk.
    ReferenceFailed,
    /// Several clients at once: no simpler input failed in any of its `replays` runs. A
    /// race need not show on every run, so a simpler input may still fail.
    Replayed { replays: u32 },
}

impl Shrinking {
    /// A stable word for machine-readable reports.
    pub fn word(&self) -> &'static str {
        match self {
            Shrinking::Minimal => "minimal",
            Shrinking::Local { .. } => "locally_minimal",
            Shrinking::AnyInput => "any_input",
            Shrinking::BeforeInput { .. } => "before_input",
            Shrinking::NotReproduced => "not_reproduced",
            Shrinking::Budget { .. } => "budget",
            Shrinking::TimeCap { .. } => "time_cap",
            Shrinking::Stopped => "stopped",
            Shrinking::Fixed => "fixed",
            Shrinking::ReferenceFailed => "reference_failed",
            Shrinking::Replayed { .. } => "replayed",
        }
    }

    /// What the report calls the input shrinking ended with, when there is one to show.
    pub fn heading(&self) -> Option<&'static str> {
        match self {
            Shrinking::Minimal => Some("minimal input"),
            Shrinking::Local { .. } => Some("locally minimal input"),
            Shrinking::Replayed { .. } => Some("smallest failing input found"),
            Shrinking::AnyInput => Some("simplest input"),
            Shrinking::Budget { .. } | Shrinking::TimeCap { .. } | Shrinking::Stopped => {
                Some("smallest failing input found")
            }
            Shrinking::BeforeInput { .. }
            | Shrinking::NotReproduced
            | Shrinking::Fixed
            | Shrinking::ReferenceFailed => None,
        }
    }

    /// One sentence for a reader: what the minimal input is worth, or why there is none.
    pub fn message(&self) -> String {
        match self {
            Shrinking::Minimal => "minimal: no shorter or simpler input fails".into(),
            Shrinking::Local { passes } => local_message(*passes),
            Shrinking::Replayed { replays } => format!(
                "no fewer clients or commands, nor simpler values, failed in any of {replays} \
                 runs each; a race need not show on every run, so a simpler input may still fail"
            ),
            Shrinking::AnyInput => {
                "fails for any input, e.g. the simplest one: it fails the same way as the first failing case".into()
            }
            Shrinking::BeforeInput { step: 0 } => {
                "fails for any input: the program failed before the first step, before any generated value was used; not shrunk".into()
            }
            Shrinking::BeforeInput { step } => format!(
                "fails for any input: step {step} failed before any generated value was used; not shrunk"
            ),
            Shrinking::NotReproduced => {
                "does not reproduce alone: the failing input passed when run again by itself, so the failure depends on earlier cases or on timing; not shrunk".into()
            }
            Shrinking::Budget { probes } => format!(
                "not proven minimal: the budget of {probes} probes ran out (--shrink-probes)"
            ),
            Shrinking::TimeCap { limit } => format!(
                "not proven minimal: shrinking stopped after {} (--shrink-time)",
                crate::spec::Dur(*limit)
            ),
            Shrinking::Stopped => "not proven minimal: interrupted".into(),
            Shrinking::Fixed => "every generated value is fixed: nothing to shrink".into(),
            Shrinking::ReferenceFailed => {
                "the reference program failed this case itself, so the spec does not hold for it: fix the spec (or the reference); not shrunk".into()
            }
        }
    }
}

/// What a locally minimal input is worth: the single simplifications that were run on it
/// and all passed, kind by kind.
fn local_message(passes: Passes) -> String {
    let mut tried = Vec::new();
    if passes.bytes {
        tried.push(
            "deleting any one byte, lowering any one byte to the smallest value it may take \
             or to the next smaller one, moving any run of bytes one place later over the \
             smallest bytes that follow it",
        );
    }
    if passes.regex {
        tried.push(
            "in the regex, replacing any part by its shortest match, taking another \
             alternative, dropping one repetition",
        );
    }
    if passes.numbers {
        tried.push("lowering the number to its minimum or by one, clearing its highest bit");
    }
    if passes.signed {
        tried.push(
            "moving the signed number to 0 (or its bound nearest 0), across 0 (-n to n, n to \
             1-n) or one step toward 0, clearing the highest bit of its magnitude",
        );
    }
    if passes.splits {
        tried.push(
            "removing any one cut, moving any cut one byte earlier, shortening any pause to 0 \
             or by 1 ms",
        );
    }
    format!(
        "locally minimal: each of these simplifications was run and passes: {}; simpler \
         inputs that were not run may still fail",
        tried.join("; ")
    )
}

/// A generated scenario that stopped starting new cases because its time budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutShort {
    /// Cases it would have run.
    pub planned: u64,
    pub budget: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(Box<Failure>),
    /// A `should` scenario failed and the run is not `--strict`.
    Warn(Box<Failure>),
    Skip(String),
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) => "FAIL",
            Verdict::Warn(_) => "WARN",
            Verdict::Skip(_) => "SKIP",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(_) => self.failed += 1,
            Verdict::Warn(_) => self.warned += 1,
            Verdict::Skip(_) => self.skipped += 1,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    RunStarted {
        scenarios: usize,
        jobs: usize,
    },
    ScenarioStarted {
        id: ScenarioId,
    },
    /// One step of a scenario finished (the failing step is the last one observed).
    StepObserved {
        id: ScenarioId,
        step: StepRef,
        passed: bool,
        duration: Duration,
    },
    ScenarioFinished {
        id: ScenarioId,
        target: TargetKind,
        lifecycle: Lifecycle,
        verdict: Verdict,
        duration: Duration,
        /// Cases run: 1 for a plain scenario, more for a generated one.
        cases: u64,
        /// The seed of a generated scenario, to replay it.
        seed: Option<u64>,
        /// Set when a generated scenario's time budget ended it before all its cases ran.
        cut_short: Option<CutShort>,
        /// Requests kept in flight, when a generated scenario ran through a window.
        window: Option<usize>,
        /// Sessions played at once, when a session scenario ran several clients.
        clients: Option<usize>,
    },
    RunFinished {
        summary: Summary,
        duration: Duration,
    },
    /// How far a generated scenario has got, at most ten times a second, and only when the
    /// run shows progress (a terminal): for a progress line, not for reports.
    Progress {
        id: ScenarioId,
        tick: Tick,
    },
}

/// What a run of generated cases reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// A case ended: how many have run of how many planned, and whether this one failed.
    Case {
        done: u64,
        planned: u64,
        failed: bool,
    },
    /// A shrinking probe ended: how many have run, and the size of the input it tried.
    Probe { done: u64, size: usize },
}

/// A consumer of run events: the runner hands every event to one, and every report is one.
pub trait Reporter: Send {
    fn report(&mut self, event: &Event) -> std::io::Result<()>;
}
