//! The session of a failed session scenario, for reporters: the commands of the minimal
//! session with their values, what conform sent for each, and what the program (and the
//! reference program, when there is one) answered.

/// Bytes kept for a report, and how many there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// The first bytes (a few KiB at most).
    pub bytes: Vec<u8>,
    /// How many there were in all.
    pub len: usize,
}

impl Kept {
    pub fn is_cut(&self) -> bool {
        self.bytes.len() < self.len
    }
}

/// One command of the minimal session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandReport {
    pub name: String,
    /// `(name, description)` of each value it played with.
    pub values: Vec<(String, String)>,
    /// What conform sent while playing it.
    pub sent: Kept,
    /// What the program under test answered; `None` when it did not play the session (the
    /// reference failed it first).
    pub answered: Option<Kept>,
    /// What the reference program answered, when there is one.
    pub reference: Option<Kept>,
}

/// The minimal session of a failure, as a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionReport {
    /// The names of the commands of the first failing session, in order.
    pub original: Vec<String>,
    /// The commands of the minimal session, in order.
    pub commands: Vec<CommandReport>,
    /// The command (1-based) whose step failed; `None` when one of the scenario's own steps
    /// failed.
    pub failed_at: Option<usize>,
    /// The reference program's command line, when one was compared with.
    pub reference: Option<String>,
}

/// One command as one of several clients played it, with when it was sent and answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimedCommand {
    pub name: String,
    /// `(name, description)` of each value it played with.
    pub values: Vec<(String, String)>,
    pub sent: Kept,
    pub answered: Kept,
    /// From the start of the case to before its first byte was sent; `None` when it was
    /// not played (its client failed before it).
    pub began: Option<std::time::Duration>,
    /// From the start of the case to its last reply read; `None` when it got none.
    pub ended: Option<std::time::Duration>,
}

/// The history of several clients at once that no order of their commands explains: one
/// timeline per client, and how far the search for an order got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryReport {
    /// Each client's commands, in the order it played them.
    pub clients: Vec<Vec<TimedCommand>>,
    /// The longest order found whose replies the model explains, as (client, command)
    /// pairs, both 0-based.
    pub explained: Vec<(usize, usize)>,
    /// The commands that could have come next, none of whose replies the model explains
    /// there, each with the reply the model expected.
    pub stuck: Vec<Stuck>,
    /// Times each candidate was replayed while shrinking (a race need not show every time).
    pub replays: u32,
}

/// A command no order could place next, and what the model expected of it there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stuck {
    pub client: usize,
    pub command: usize,
    /// The replies the model expected, one per `expect` step, where it could say.
    pub expected: Vec<Vec<u8>>,
}
