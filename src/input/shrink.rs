//! Shrinking: from a failing input to the simplest one found that still fails the same way.
//!
//! In: the generators of the values that may change, the failing values, a budget, and a
//! `probe` callback that runs one candidate and says whether it fails the same way. Out: the
//! simplest failing values found, the number of probes, and why the search ended: proven
//! minimal, locally minimal, or stopped by a limit. This module knows values and their
//! simplifications, not sockets or programs: it is tested with closures in place of programs.
//!
//! **Simpler** is shortlex: fewer bytes (or fewer cuts) first, then smaller values, value by
//! value in name order. Each kind of value has its own order inside that: bytes and text
//! compare byte by byte from the first (a text's smallest character is its set's first); a
//! regex's text likewise, among the texts that match; a number by its value (a signed one by
//! its distance from 0, then positive first); a split by its number of cuts, then its
//! pauses, then its cut offsets. Every probe against a live program costs a process start
//! or a deadline, so the order of candidates matters most:
//!
//! 1. the simplest input of every generator at once: when it fails the same way, nothing
//!    simpler exists and the search ends;
//! 2. the failing input again, alone: when it passes, the failure depends on earlier cases
//!    or on timing, and shrinking it would only chase noise;
//! 3. then rounds of passes, each trying one kind of simplification everywhere, repeated
//!    until a whole round changes nothing (the passes are in `bytes`, `number`, `split` and
//!    `pattern`);
//! 4. then the proof: when the inputs simpler than the result are few, and all but a handful
//!    were already run, those few are run too; if every one passes, the result is
//!    **minimal** (no simpler input fails). Otherwise it is only **locally minimal**: no
//!    single simplification of the passes still fails.
//!
//! The search is the one Hypothesis uses (shortlex order, passes to a fixed point) reduced
//! to conform's kinds of value. A candidate that is not simpler than the best so far is
//! never run, and no candidate is run twice, so the number of probes depends only on the
//! program's answers: the same seed gives the same probes on any machine.

mod bytes;
mod number;
mod pattern;
mod proof;
mod split;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::input::generate;
use crate::spec::{Env, Generator, Value};

/// What a probe found.
#[derive(Debug)]
pub enum Probe<F> {
    /// The candidate passed, or failed in another way (another step, another kind).
    Pass,
    /// The candidate failed the same way.
    Fail(F),
    /// conform cannot go on (an interrupt, a program that cannot be started).
    Stop,
}

/// How far a search may go.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most probes (runs of the program) the search makes.
    pub probes: u32,
    /// A wall-clock safety net; the probe budget is what normally ends a long search.
    pub time: Duration,
    /// Whether the failing input is already known to fail when run alone (the windowed
    /// runner replays it before shrinking), so the search need not run it again.
    pub reproduced: bool,
}

/// Why the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every input simpler than the result was run and passed (or none exists): minimal.
    Minimal,
    /// A whole round of passes found nothing simpler that fails, but some simpler inputs
    /// were never run: locally minimal. `passes` says which kinds of pass ran.
    Local { passes: Passes },
    /// The simplest input of every generator fails the same way.
    Simplest,
    /// The failing input passed when run again alone.
    NotReproduced,
    /// The probe budget ran out first; the input is not proven minimal.
    Budget,
    /// The time safety net was hit first; the input is not proven minimal.
    TimeCap,
    /// conform had to stop.
    Stopped,
}

pub use crate::event::Passes;

/// The passes a search over these generators runs.
fn passes_of(generators: &BTreeMap<String, Generator>) -> Passes {
    let mut passes = Passes::default();
    for generator in generators.values() {
        match generator {
            Generator::Bytes { .. } | Generator::Text { .. } => passes.bytes = true,
            Generator::Pattern(_) => {
                passes.bytes = true;
                passes.regex = true;
            }
            Generator::Number { .. } => passes.numbers = true,
            Generator::Signed { .. } => passes.signed = true,
            Generator::Split { .. } => passes.splits = true,
        }
    }
    passes
}

/// The result of a search.
#[derive(Debug)]
pub struct Shrunk<F> {
    pub env: Env,
    pub failure: F,
    pub probes: u32,
    pub end: End,
}

/// Shrinks `original` (which failed with `first`). Values not in `generators` (pinned ones)
/// never change.
pub fn shrink<F>(
    generators: &BTreeMap<String, Generator>,
    original: Env,
    first: F,
    limits: Limits,
    probe: &mut dyn FnMut(&Env) -> Probe<F>,
) -> Shrunk<F> {
    let mut s = Search {
        generators,
        best: original.clone(),
        failure: first,
        seen: HashMap::new(),
        probes: 0,
        limits,
        started: Instant::now(),
        stop: None,
        unparsed: false,
        probe,
    };
    s.seen.insert(original.clone(), true);
    let mut simplest = original.clone();
    for (name, generator) in generators {
        simplest.insert(name.clone(), generate::simplest(generator));
    }
    if simplest == original {
        // Nothing is simpler than what failed.
        return s.finish(End::Minimal);
    }
    if s.attempt(simplest) {
        return s.finish(End::Simplest);
    }
    if let Some(end) = s.stop {
        return s.finish(end);
    }
    if !limits.reproduced {
        match s.run(&original) {
            Some(Probe::Fail(f)) => s.failure = f,
            Some(Probe::Pass) => return s.finish(End::NotReproduced),
            Some(Probe::Stop) | None => {
                let end = s.stop.unwrap_or(End::Stopped);
                return s.finish(end);
            }
        }
    }
    loop {
        let before = s.best.clone();
        s.unparsed = false;
        for name in generators.keys() {
            s.round(name);
        }
        if let Some(end) = s.stop {
            return s.finish(end);
        }
        if s.best != before {
            continue;
        }
        match s.prove() {
            proof::Proof::Proven => return s.finish(End::Minimal),
            proof::Proof::Unproven => {
                let mut passes = passes_of(generators);
                // The regex pass can claim nothing for a text it could not parse.
                passes.regex &= !s.unparsed;
                return s.finish(End::Local { passes });
            }
            // A simpler input that was never tried fails: the passes go on from it.
            proof::Proof::Improved => {}
        }
        if let Some(end) = s.stop {
            return s.finish(end);
        }
    }
}

/// Shortlex order: a total size, then the elements in order.
pub fn key(env: &Env) -> (usize, Vec<u64>) {
    let mut size = 0;
    let mut seq = Vec::new();
    for value in env.values() {
        size += value_key(value, &mut seq);
    }
    (size, seq)
}

/// One value's part of [`key`]: its size, and its elements pushed onto `seq`.
fn value_key(value: &Value, seq: &mut Vec<u64>) -> usize {
    match value {
        Value::Bytes(b) => {
            seq.extend(b.iter().map(|&x| u64::from(x)));
            b.len()
        }
        Value::Split { cuts, pauses, .. } => {
            seq.extend(pauses.iter().map(|p| p.as_millis() as u64));
            seq.extend(cuts.iter().map(|&c| c as u64));
            cuts.len()
        }
        Value::Model(_) => 0,
        // A number's width is fixed: only its value orders it. A signed one is ordered by
        // its distance from 0, then positive before negative: 0, 1, -1, 2, -2, ...
        Value::Number { value, width } if width.signed => {
            let n = width.int(*value);
            seq.push(n.unsigned_abs() as u64);
            seq.push(u64::from(n < 0));
            0
        }
        Value::Number { value, .. } => {
            seq.push(*value);
            0
        }
    }
}

struct Search<'a, F> {
    generators: &'a BTreeMap<String, Generator>,
    best: Env,
    failure: F,
    /// Every candidate run so far, and whether it failed the same way.
    seen: HashMap<Env, bool>,
    probes: u32,
    limits: Limits,
    started: Instant,
    stop: Option<End>,
    /// Whether the last round met a regex text too long or too tangled to parse.
    unparsed: bool,
    probe: &'a mut dyn FnMut(&Env) -> Probe<F>,
}

impl<F> Search<'_, F> {
    fn finish(self, end: End) -> Shrunk<F> {
        Shrunk {
            env: self.best,
            failure: self.failure,
            probes: self.probes,
            end,
        }
    }

    /// Runs a candidate, within the limits. `None` when the limits stop the search.
    fn run(&mut self, env: &Env) -> Option<Probe<F>> {
        if self.stop.is_some() {
            return None;
        }
        if self.probes >= self.limits.probes {
            self.stop = Some(End::Budget);
            return None;
        }
        if self.started.elapsed() >= self.limits.time {
            self.stop = Some(End::TimeCap);
            return None;
        }
        self.probes += 1;
        let result = (self.probe)(env);
        if matches!(result, Probe::Stop) {
            self.stop = Some(End::Stopped);
        }
        Some(result)
    }

    /// Whether every value of `candidate` is one its generator could have made: a text
    /// shrunk outside its character class, or a number below its minimum, would be a
    /// counterexample to nothing.
    fn admitted(&self, candidate: &Env) -> bool {
        self.generators
            .iter()
            .all(|(name, g)| candidate.get(name).is_none_or(|v| g.admits(v)))
    }

    /// Tries a candidate: true when it is simpler than the best and fails the same way (it
    /// then becomes the best).
    fn attempt(&mut self, candidate: Env) -> bool {
        if key(&candidate) >= key(&self.best) || !self.admitted(&candidate) {
            return false;
        }
        if let Some(&failed) = self.seen.get(&candidate) {
            if failed {
                self.best = candidate;
            }
            return failed;
        }
        match self.run(&candidate) {
            Some(Probe::Fail(f)) => {
                self.seen.insert(candidate.clone(), true);
                self.best = candidate;
                self.failure = f;
                true
            }
            Some(Probe::Pass) => {
                self.seen.insert(candidate, false);
                false
            }
            Some(Probe::Stop) | None => false,
        }
    }

    /// The best value of `name`.
    fn current(&self, name: &str) -> Value {
        self.best[name].clone()
    }

    fn with(&self, name: &str, value: Value) -> Env {
        let mut env = self.best.clone();
        env.insert(name.to_string(), value);
        env
    }

    fn attempt_value(&mut self, name: &str, value: Value) -> bool {
        let candidate = self.with(name, value);
        self.attempt(candidate)
    }

    /// Whether `value` fails: true for the best value itself (known to fail), else an
    /// attempt. The steps of [`Search::find_largest`] use it, as candidates made from a
    /// fixed base may repeat the best.
    fn holds(&mut self, name: &str, value: Value) -> bool {
        self.best[name] == value || self.attempt_value(name, value)
    }

    /// The largest `n` for which `f(n)` holds, given that `f(0)` does and that `f` turns
    /// false past some bound: 1 to 4 first (small answers are the common ones), then
    /// doubling, then bisection, as Hypothesis's `find_integer`. About 2·log2(n) calls.
    fn find_largest(&mut self, mut f: impl FnMut(&mut Self, u64) -> bool) -> u64 {
        for n in 1..5 {
            if !f(self, n) {
                return n - 1;
            }
        }
        let (mut lo, mut hi) = (4u64, 5u64);
        while f(self, hi) {
            lo = hi;
            hi = hi.saturating_mul(2);
            if lo == hi {
                return lo;
            }
        }
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if f(self, mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// One round of every pass over one value.
    fn round(&mut self, name: &str) {
        let generator = &self.generators[name];
        let simplest = generate::simplest(generator);
        self.attempt_value(name, simplest);
        match generator {
            Generator::Bytes { min, .. } | Generator::Text { min, .. } => {
                let min = *min;
                self.shorten(name, min);
                // Zeroing before deleting: once the bytes are all alike, every deletion of
                // a run of one size gives the same candidate, which runs once, so a failure
                // that depends only on the length costs a probe per size, not per byte.
                self.zero_runs(name);
                self.delete_runs(name, min);
                self.lower_bytes(name);
                self.move_runs_later(name);
            }
            Generator::Pattern(p) => {
                self.pattern_pass(name, p);
                self.shorten(name, 0);
                self.delete_runs(name, 0);
                self.lower_bytes(name);
                self.move_runs_later(name);
            }
            Generator::Split { .. } => {
                self.remove_cuts(name);
                self.shorten_pauses(name);
                self.move_cuts_earlier(name);
            }
            Generator::Number { min, .. } => self.lower_number(name, *min),
            Generator::Signed { min, max, .. } => self.lower_signed(name, *min, *max),
        }
    }
}

#[cfg(test)]
#[path = "shrink_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "shrink_kinds_tests.rs"]
mod kinds_tests;
