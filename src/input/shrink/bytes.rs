//! The passes over bytes and text: shorter prefixes, zeroed runs, deleted runs, lowered
//! bytes, and runs moved later.
//!
//! In: the best value of one name (bytes, text from a set, or a regex's text). Out: simpler
//! candidates, each tried through [`Search::attempt`], which keeps text in its set or its
//! regex. At a fixed point of these passes, deleting any one byte, lowering any one byte to
//! the smallest value it may take or to the next smaller one, and moving any run of
//! non-zero bytes one place later all pass.

use super::Search;
use crate::spec::{Generator, Value};

impl<F> Search<'_, F> {
    fn bytes(&self, name: &str) -> Vec<u8> {
        self.current(name).bytes().to_vec()
    }

    fn attempt_bytes(&mut self, name: &str, bytes: Vec<u8>) -> bool {
        self.attempt_value(name, Value::Bytes(bytes))
    }

    /// The byte values below `bytes[i]` that position `i` may take, smallest first.
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

    /// The smallest byte a position may hold: the filler that runs are zeroed to and that
    /// runs are moved over.
    fn lowest(&self, name: &str) -> u8 {
        match &self.generators[name] {
            Generator::Text { alphabet, .. } => alphabet[0],
            _ => 0,
        }
    }

    /// Shorter prefixes: the lengths just above the minimum, then doubling, then bisection
    /// between the longest passing and the shortest failing length tried.
    pub(super) fn shorten(&mut self, name: &str, min: usize) {
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
    pub(super) fn delete_runs(&mut self, name: &str, min: usize) {
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
    pub(super) fn zero_runs(&mut self, name: &str) {
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

    /// Lowers each byte, from the first (the one shortlex weighs most): to the smallest
    /// value it may take, to the next one, then by bisection to the smallest value that
    /// fails.
    pub(super) fn lower_bytes(&mut self, name: &str) {
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

    /// Moves each run of non-zero bytes (bytes other than the lowest) later over the zeros
    /// that follow it, the last run first: shortlex prefers zeros early, so `"\r\n"` in the
    /// middle of zeros becomes `"\r\n"` at the end when the failure holds there. The whole
    /// way first (one probe when position does not matter), then as far as it still fails.
    pub(super) fn move_runs_later(&mut self, name: &str) {
        let low = self.lowest(name);
        let mut end = self.bytes(name).len();
        while self.stop.is_none() {
            let b = self.bytes(name);
            // The last run of non-low bytes that ends at or before `end`.
            let Some(last) = b[..end.min(b.len())].iter().rposition(|&x| x != low) else {
                return;
            };
            let first = b[..last]
                .iter()
                .rposition(|&x| x == low)
                .map_or(0, |i| i + 1);
            let room = b[last + 1..].iter().take_while(|&&x| x == low).count();
            if room > 0 {
                let base = b.clone();
                let moved = |d: usize| {
                    let mut c = base.clone();
                    c[first..last + 1 + d].fill(low);
                    c[first + d..last + 1 + d].copy_from_slice(&base[first..=last]);
                    c
                };
                if !self.attempt_bytes(name, moved(room)) {
                    self.find_largest(|s, d| {
                        let d = d as usize;
                        d < room && s.holds(name, Value::Bytes(moved(d)))
                    });
                }
            }
            end = first;
        }
    }
}
