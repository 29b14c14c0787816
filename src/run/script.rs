//! What one case plays when a feeder gives its steps: the scenario's own steps with their
//! values, then (for a session) each command's steps with its values, and what the
//! `same_as_reference` steps do with the replies they read.
//!
//! In: built by feeders. Out: the executor plays a [`Script`] and hands back [`Played`]: the
//! failure, and what went each way during each part (for a session's transcript). The
//! replies a reference's run reads go, as it reads them, to the run that compares with them.

use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_saphyr::Spanned;

use crate::drive::wire::Recorder;
use crate::event::Failure;
use crate::spec::model::frame::Frame;
use crate::spec::{Env, Scenario, Step};
use crate::verdict::Mismatch;

/// Bytes of each direction kept per part for a transcript; lengths stay exact.
const KEPT: usize = 4096;

/// Steps to play with their values.
pub struct Segment<'a> {
    pub steps: &'a [Spanned<Step>],
    pub env: Env,
}

/// What `same_as_reference` steps do with what they read.
pub enum Replies {
    /// Only read each reply (nothing compares it).
    Read,
    /// Keep every reply and hand each, as soon as it is read, to the run that compares:
    /// this is the reference's run.
    Record(mpsc::Sender<Vec<u8>>),
    /// Compare each reply with the reference's, in order, as the reference's run reads
    /// them (it plays at the same time, on its own thread).
    Compare(mpsc::Receiver<Vec<u8>>),
    /// Read each reply of a command by this framing and keep it, unjudged: one of several
    /// clients, whose replies are judged after the session in the order that explains them.
    Defer(Frame),
}

/// One case's steps: the scenario's own, then each command's. A command's steps see the
/// values of the scenario's steps (generated and captured) and their own.
pub struct Script<'a> {
    pub prelude: Segment<'a>,
    pub commands: Vec<Segment<'a>>,
    pub replies: Replies,
    /// Keep what went each way per part, for a transcript.
    pub transcript: bool,
    /// One of several clients: the wire log they share, and the gate every client reaches
    /// after the scenario's own steps, so that their commands start together.
    pub together: Option<(Recorder, Arc<Gate>)>,
}

/// Where several clients wait for each other: each arrives once, and waits (at most until a
/// deadline) for the others.
#[derive(Debug)]
pub struct Gate {
    expected: usize,
    arrived: Mutex<usize>,
    all: Condvar,
}

impl Gate {
    pub fn new(expected: usize) -> Gate {
        Gate {
            expected,
            arrived: Mutex::new(0),
            all: Condvar::new(),
        }
    }

    /// Arrives, and waits for the others at most `within` (a safety cap): a client that
    /// failed before the gate still arrives, so nobody waits for it.
    pub fn arrive(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut arrived = self.arrived.lock().unwrap_or_else(|p| p.into_inner());
        *arrived += 1;
        self.all.notify_all();
        while *arrived < self.expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            arrived = match self.all.wait_timeout(arrived, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// One command as several clients play it: when it began (before its first step) and
/// ended (after its last; `None` when it failed), and the replies it read.
#[derive(Debug, Clone)]
pub struct Timed {
    pub began: Instant,
    pub ended: Option<Instant>,
    pub replies: Vec<Vec<u8>>,
}

impl<'a> Script<'a> {
    /// The scenario's steps with these values, and nothing else.
    pub fn steps_of(scenario: &'a Scenario, env: Env) -> Script<'a> {
        Script {
            prelude: Segment {
                steps: &scenario.steps,
                env,
            },
            commands: Vec::new(),
            replies: Replies::Read,
            transcript: false,
            together: None,
        }
    }
}

/// What conform sent and received during one part of a case (bounded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    pub sent: Vec<u8>,
    pub sent_len: usize,
    pub received: Vec<u8>,
    pub received_len: usize,
}

impl Exchange {
    fn keep(into: &mut Vec<u8>, len: &mut usize, bytes: &[u8]) {
        *len += bytes.len();
        let room = KEPT.saturating_sub(into.len());
        into.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// The outcome of a script.
#[derive(Debug, Clone, Default)]
pub struct Played {
    pub failure: Option<Failure>,
    /// Per part (0: the scenario's steps, then one per command), when a transcript was asked.
    pub exchanges: Vec<Exchange>,
    /// The part the failure happened in.
    pub failed_part: Option<usize>,
    /// One of several clients: each command's times and replies, in order.
    pub timed: Vec<Timed>,
}

/// The bookkeeping of one case's parts and replies, kept by the step player.
pub(super) struct Tape {
    replies: Replies,
    /// The reference's replies received so far (a comparing run).
    theirs: Vec<Vec<u8>>,
    next: usize,
    transcript: bool,
    exchanges: Vec<Exchange>,
    /// Parts begun so far (the scenario's steps are the first).
    parts: usize,
    timed: Vec<Timed>,
}

impl Tape {
    pub(super) fn new(replies: Replies, transcript: bool) -> Tape {
        Tape {
            replies,
            theirs: Vec::new(),
            next: 0,
            transcript,
            exchanges: Vec::new(),
            parts: 0,
            timed: Vec::new(),
        }
    }

    /// A new part begins.
    pub(super) fn part(&mut self) {
        if self.transcript {
            self.exchanges.push(Exchange::default());
        }
        self.parts += 1;
        if self.parts > 1 && matches!(self.replies, Replies::Defer(_)) {
            self.timed.push(Timed {
                began: Instant::now(),
                ended: None,
                replies: Vec::new(),
            });
        }
    }

    /// The part's steps all passed.
    pub(super) fn part_done(&mut self) {
        if self.parts > 1
            && let Some(timed) = self.timed.last_mut()
        {
            timed.ended = Some(Instant::now());
        }
    }

    /// The framing a command's `expect` reads its reply by when the reply is judged later.
    pub(super) fn deferring(&self) -> Option<&Frame> {
        match &self.replies {
            Replies::Defer(frame) if self.parts > 1 => Some(frame),
            _ => None,
        }
    }

    /// A reply read unjudged, for the check after the session.
    pub(super) fn defer(&mut self, reply: Vec<u8>) {
        if let Some(timed) = self.timed.last_mut() {
            timed.replies.push(reply);
        }
    }

    pub(super) fn sent(&mut self, bytes: &[u8]) {
        if let Some(x) = self.exchanges.last_mut() {
            Exchange::keep(&mut x.sent, &mut x.sent_len, bytes);
        }
    }

    pub(super) fn received(&mut self, bytes: &[u8]) {
        if let Some(x) = self.exchanges.last_mut() {
            Exchange::keep(&mut x.received, &mut x.received_len, bytes);
        }
    }

    /// The reference's reply the next `same_as_reference` step compares with, when this is
    /// a comparing run: waits until the reference's run has read it, and is `None` when
    /// that run ended without it.
    fn theirs(&mut self) -> Option<&[u8]> {
        let Replies::Compare(incoming) = &self.replies else {
            return None;
        };
        while self.theirs.len() <= self.next {
            // Bounded: the reference's run ends by its own deadlines, and its end closes
            // the channel.
            match incoming.recv() {
                Ok(reply) => self.theirs.push(reply),
                Err(_) => return None,
            }
        }
        self.theirs.get(self.next).map(Vec::as_slice)
    }

    /// A `same_as_reference` step read `reply`.
    pub(super) fn reply(
        &mut self,
        same: &crate::spec::model::frame::SameAs,
        reply: &[u8],
    ) -> Result<(), Mismatch> {
        if let Replies::Record(outgoing) = &self.replies {
            // The comparing run may have ended already; then nobody needs the reply.
            let _ = outgoing.send(reply.to_vec());
        }
        let compares = matches!(self.replies, Replies::Compare(_));
        let result = match (compares, self.theirs()) {
            (false, _) => Ok(()),
            (true, Some(reference)) => crate::verdict::same::compare(same, reference, reply),
            (true, None) => Err(Mismatch::new(
                "the reference gave no reply here: its run ended before this step",
            )
            .bytes(b"", reply)),
        };
        self.next += 1;
        result
    }

    /// A `same_as_reference` step that read nothing it could compare: its mismatches show
    /// what the reference answered instead.
    pub(super) fn unanswered(&mut self, mismatches: Vec<Mismatch>) -> Vec<Mismatch> {
        let Some(reference) = self.theirs().map(<[u8]>::to_vec) else {
            return mismatches;
        };
        mismatches
            .into_iter()
            .map(|mut m| {
                if m.hint.is_none() {
                    let shown = reference.len().min(48);
                    m.hint = Some(format!(
                        "the reference answered {} byte(s): \"{}\"{}",
                        reference.len(),
                        crate::spec::payload::escape(&reference[..shown]),
                        if shown < reference.len() { "…" } else { "" }
                    ));
                }
                m.expected = Some(reference.clone());
                m
            })
            .collect()
    }

    pub(super) fn finish(self, failure: Option<Failure>, failed_part: Option<usize>) -> Played {
        Played {
            failure,
            exchanges: self.exchanges,
            failed_part,
            timed: self.timed,
        }
    }
}
