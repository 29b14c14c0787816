//! Shrinking: from a failing input to a shortlex-minimal one that still fails the same way.
//!
//! In: the generators of the values that may change, the failing values, a budget, and a
//! `probe` callback that runs one candidate and says whether it fails the same way. Out: the
//! simplest failing values found, the number of probes, and why the search ended. This
//! module knows values and their simplifications, not sockets or programs: it is tested with
//! closures in place of programs.
//!
//! **Simpler** is shortlex: fewer bytes (or fewer cuts) first, then smaller byte values (or
//! shorter pauses, earlier cuts), value by value in name order. Every probe against a live
//! program costs a process start or a deadline, so the order of candidates matters most:
//!
//! 1. the simplest input of every generator at once (the shortest length, all zeros, no
//!    split): when it fails the same way, nothing simpler exists and the search ends;
//! 2. the failing input again, alone: when it passes, the failure depends on earlier cases
//!    or on timing, and shrinking it would only chase noise;
//! 3. then rounds of passes, each trying one kind of simplification everywhere, repeated
//!    until a whole round changes nothing: each value at its simplest; shorter prefixes
//!    (the lengths just above the minimum first, then doubling, then bisection); zeroing
//!    runs; deleting runs of bytes (the largest first, halving); lowering each byte (to 0,
//!    to 1, then by bisection); removing cuts, moving them earlier, shortening pauses;
//!    lowering numbers.
//!
//! The search is the one Hypothesis uses (shortlex order, passes to a fixed point) reduced
//! to conform's two kinds of value. A candidate that is not simpler than the best so far is
//! never run, and no candidate is run twice, so the number of probes depends only on the
//! program's answers: the same seed gives the same probes on any machine.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::generate;
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
    /// A whole round of passes found nothing simpler that fails: minimal.
    Minimal,
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
        for name in generators.keys() {
            s.round(name);
        }
        if let Some(end) = s.stop {
            return s.finish(end);
        }
        if s.best == before {
            return s.finish(End::Minimal);
        }
    }
}

/// Shortlex order: a total size, then the elements in order.
pub fn key(env: &Env) -> (usize, Vec<u64>) {
    let mut size = 0;
    let mut seq = Vec::new();
    for value in env.values() {
        match value {
            Value::Bytes(b) => {
                size += b.len();
                seq.extend(b.iter().map(|&x| u64::from(x)));
            }
            Value::Split { cuts, pauses, .. } => {
                size += cuts.len();
                seq.extend(pauses.iter().map(|p| p.as_millis() as u64));
                seq.extend(cuts.iter().map(|&c| c as u64));
            }
            // A number's width is fixed: only its value orders it.
            Value::Number { value, .. } => seq.push(*value),
        }
    }
    (size, seq)
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

    /// Tries a candidate: true when it is simpler than the best and fails the same way (it
    /// then becomes the best).
    fn attempt(&mut self, candidate: Env) -> bool {
        if key(&candidate) >= key(&self.best) {
            return false;
        }
        // Only inputs the generators could have made: a text shrunk outside its character
        // class, or a number below its minimum, would be a counterexample to nothing.
        let admitted = self
            .generators
            .iter()
            .all(|(name, g)| candidate.get(name).is_none_or(|v| g.admits(v)));
        if !admitted {
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

    /// The best value of `name`, and a candidate with it replaced.
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

    fn attempt_bytes(&mut self, name: &str, bytes: Vec<u8>) -> bool {
        self.attempt_value(name, Value::Bytes(bytes))
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
            }
            Generator::Pattern(_) => {
                self.shorten(name, 0);
                self.delete_runs(name, 0);
                self.lower_bytes(name);
            }
            Generator::Split { .. } => {
                self.remove_cuts(name);
                self.shorten_pauses(name);
                self.move_cuts_earlier(name);
            }
            Generator::Number { min, .. } => self.lower_number(name, *min),
        }
    }

    /// The byte values below `current` that position `i` may take, smallest first.
    fn lower_choices(&self, name: &str, bytes: &[u8], i: usize) -> Vec<u8> {
        let current = bytes[i];
        match &self.generators[name] {
            Generator::Text { alphabet, .. } => {
                alphabet.iter().copied().filter(|b| *b < current).collect()
            }
            Generator::Pattern(p) => (0..current)
                .filter(|b| {
                    let mut c = bytes.to_vec();
                    c[i] = *b;
                    p.whole.is_match(&c)
                })
                .collect(),
            _ => (0..current).collect(),
        }
    }

    /// The smallest byte a whole run may be set to.
    fn lowest(&self, name: &str) -> u8 {
        match &self.generators[name] {
            Generator::Text { alphabet, .. } => alphabet[0],
            _ => 0,
        }
    }

    /// Lowers a number: to its minimum, to one less (which settles it once it is minimal),
    /// then by bisection.
    fn lower_number(&mut self, name: &str, min: u64) {
        let Value::Number { value, width } = self.current(name) else {
            return;
        };
        let number = |n: u64| Value::Number { value: n, width };
        if value <= min || self.attempt_value(name, number(min)) {
            return;
        }
        if value - 1 == min || !self.attempt_value(name, number(value - 1)) {
            return;
        }
        let (mut lo, mut hi) = (min, value - 1);
        while hi - lo > 1 && self.stop.is_none() {
            let mid = lo + (hi - lo) / 2;
            if self.attempt_value(name, number(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    fn bytes(&self, name: &str) -> Vec<u8> {
        self.current(name).bytes().to_vec()
    }

    /// Shorter prefixes: the lengths just above the minimum, then doubling, then bisection
    /// between the longest passing and the shortest failing length tried.
    fn shorten(&mut self, name: &str, min: usize) {
        let b = self.bytes(name);
        let len = b.len();
        let mut passing: Option<usize> = None;
        let mut failing = None;
        let mut d = 0;
        while min + d < len && self.stop.is_none() {
            if self.attempt_bytes(name, b[..min + d].to_vec()) {
                failing = Some(min + d);
                break;
            }
            passing = Some(min + d);
            d = if d < 4 { d + 1 } else { d * 2 };
        }
        let Some(mut hi) = failing else { return };
        let Some(mut lo) = passing else { return };
        while hi - lo > 1 && self.stop.is_none() {
            let mid = lo + (hi - lo) / 2;
            if self.attempt_bytes(name, b[..mid].to_vec()) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    /// Deletes runs of bytes: the largest power of two that keeps the minimum length first,
    /// at positions a half-run apart, down to single bytes at every position.
    fn delete_runs(&mut self, name: &str, min: usize) {
        let mut k = (self.bytes(name).len().saturating_sub(min)).next_power_of_two();
        while k >= 1 && self.stop.is_none() {
            let stride = (k / 2).max(1);
            let mut i = 0;
            loop {
                let b = self.bytes(name);
                if b.len() < min + k || i + k > b.len() || self.stop.is_some() {
                    break;
                }
                let mut candidate = b[..i].to_vec();
                candidate.extend_from_slice(&b[i + k..]);
                if !self.attempt_bytes(name, candidate) {
                    i += stride;
                }
            }
            k /= 2;
        }
    }

    /// Sets runs of bytes to zero (or the first allowed character), the largest first, at
    /// positions a run apart.
    fn zero_runs(&mut self, name: &str) {
        let low = self.lowest(name);
        let mut k = self.bytes(name).len().next_power_of_two();
        while k >= 2 && self.stop.is_none() {
            let mut i = 0;
            while i < self.bytes(name).len() && self.stop.is_none() {
                let mut b = self.bytes(name);
                let end = (i + k).min(b.len());
                if b[i..end].iter().any(|&x| x != low) {
                    b[i..end].fill(low);
                    self.attempt_bytes(name, b);
                }
                i += k;
            }
            k /= 2;
        }
    }

    /// Lowers each byte: to the smallest value it may take, to the next one, then by
    /// bisection to the smallest value that fails.
    fn lower_bytes(&mut self, name: &str) {
        let mut i = 0;
        while i < self.bytes(name).len() && self.stop.is_none() {
            let b = self.bytes(name);
            let choices = self.lower_choices(name, &b, i);
            let with = |x: u8| {
                let mut c = b.clone();
                c[i] = x;
                c
            };
            // Invariant of the bisection: choices[lo] passes (or is not tried), the value at
            // `hi` (the current one when hi == len) fails.
            if !choices.is_empty() && !self.attempt_bytes(name, with(choices[0])) {
                let (mut lo, mut hi) = (0usize, choices.len());
                if choices.len() > 1 {
                    if self.attempt_bytes(name, with(choices[1])) {
                        hi = 1;
                    } else {
                        lo = 1;
                    }
                }
                while hi - lo > 1 && self.stop.is_none() {
                    let mid = lo + (hi - lo) / 2;
                    if self.attempt_bytes(name, with(choices[mid])) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
            }
            i += 1;
        }
    }

    fn split_parts(&self, name: &str) -> (Vec<u8>, Vec<usize>, Vec<Duration>) {
        match self.current(name) {
            Value::Split { data, cuts, pauses } => (data, cuts, pauses),
            other => (other.bytes().to_vec(), Vec::new(), Vec::new()),
        }
    }

    fn attempt_split(
        &mut self,
        name: &str,
        data: Vec<u8>,
        cuts: Vec<usize>,
        pauses: Vec<Duration>,
    ) -> bool {
        self.attempt_value(name, Value::Split { data, cuts, pauses })
    }

    /// Removes one cut (and its pause) at a time, the last first.
    fn remove_cuts(&mut self, name: &str) {
        let mut i = self.split_parts(name).1.len();
        while i > 0 && self.stop.is_none() {
            i -= 1;
            let (data, mut cuts, mut pauses) = self.split_parts(name);
            if i >= cuts.len() {
                continue;
            }
            cuts.remove(i);
            pauses.remove(i);
            self.attempt_split(name, data, cuts, pauses);
        }
    }

    /// Shortens each pause: to zero, then by bisection in milliseconds.
    fn shorten_pauses(&mut self, name: &str) {
        let count = self.split_parts(name).2.len();
        for i in 0..count {
            let (data, cuts, pauses) = self.split_parts(name);
            let Some(ms) = pauses.get(i).map(|p| p.as_millis() as u64) else {
                break;
            };
            let with = |x: u64| {
                let mut p = pauses.clone();
                p[i] = Duration::from_millis(x);
                p
            };
            if ms == 0 || self.attempt_split(name, data.clone(), cuts.clone(), with(0)) {
                continue;
            }
            let (mut lo, mut hi) = (0u64, ms);
            while hi - lo > 1 && self.stop.is_none() {
                let mid = lo + (hi - lo) / 2;
                if self.attempt_split(name, data.clone(), cuts.clone(), with(mid)) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
        }
    }

    /// Moves each cut to the earliest offset it can take (just after the previous cut).
    fn move_cuts_earlier(&mut self, name: &str) {
        let count = self.split_parts(name).1.len();
        for i in 0..count {
            let (data, cuts, pauses) = self.split_parts(name);
            let Some(&cut) = cuts.get(i) else { break };
            let earliest = if i == 0 { 1 } else { cuts[i - 1] + 1 };
            if cut > earliest {
                let mut moved = cuts.clone();
                moved[i] = earliest;
                self.attempt_split(name, data, moved, pauses);
            }
        }
    }
}

#[cfg(test)]
#[path = "shrink_tests.rs"]
mod tests;
