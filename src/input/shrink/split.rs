//! The passes over splits: fewer cuts, shorter pauses, earlier cuts.
//!
//! In: the best value of one split. Out: simpler candidates, tried through
//! [`Search::attempt`]. At a fixed point, removing any one cut, shortening any pause to
//! zero or by 1 ms, and moving any cut one byte earlier all pass.

use std::time::Duration;

use super::Search;
use crate::spec::Value;

impl<F> Search<'_, F> {
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
    pub(super) fn remove_cuts(&mut self, name: &str) {
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
    pub(super) fn shorten_pauses(&mut self, name: &str) {
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

    /// Moves each cut earlier: to the earliest offset it can take (just after the previous
    /// cut) first, then as far as the failure holds, one byte at least.
    pub(super) fn move_cuts_earlier(&mut self, name: &str) {
        let count = self.split_parts(name).1.len();
        for i in 0..count {
            let (data, cuts, pauses) = self.split_parts(name);
            let Some(&cut) = cuts.get(i) else { break };
            let earliest = if i == 0 { 1 } else { cuts[i - 1] + 1 };
            if cut <= earliest {
                continue;
            }
            let moved = |to: usize| {
                let mut c = cuts.clone();
                c[i] = to;
                Value::Split {
                    data: data.clone(),
                    cuts: c,
                    pauses: pauses.clone(),
                }
            };
            if self.attempt_value(name, moved(earliest)) {
                continue;
            }
            self.find_largest(|s, d| {
                let d = d as usize;
                d < cut - earliest && s.holds(name, moved(cut - d))
            });
        }
    }
}
