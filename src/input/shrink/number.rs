//! The passes over numbers: clearing high bits, then bisection toward the minimum.
//!
//! In: the best value of one number. Out: smaller candidates within its range, tried
//! through [`Search::attempt`]. Clearing high bits finds the failures that depend on the
//! low bits (a counter that wraps at 2^31 fails for every value whose low 31 bits are all
//! ones, so 0x6eda91a07fffffff ends at 0x7fffffff = 2147483647); bisection finds a
//! threshold below the value (a failure for every value from 1000 on ends at 1000). At a
//! fixed point, the minimum and the value one less both pass.

use super::Search;
use crate::spec::Value;

impl<F> Search<'_, F> {
    fn number(&self, name: &str) -> Option<(u64, crate::spec::model::number::Width)> {
        match self.current(name) {
            Value::Number { value, width } => Some((value, width)),
            _ => None,
        }
    }

    pub(super) fn lower_number(&mut self, name: &str, min: u64) {
        let Some((value, width)) = self.number(name) else {
            return;
        };
        let number = |n: u64| Value::Number { value: n, width };
        if value <= min || self.attempt_value(name, number(min)) {
            return;
        }
        self.clear_high_bits(name);
        let Some((value, _)) = self.number(name) else {
            return;
        };
        if value - 1 == min || !self.attempt_value(name, number(value - 1)) {
            return;
        }
        // The bisection's invariant: `lo` passes (the minimum was tried first), `hi` fails.
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

    /// Keeps only the low bits: the most high bits that can be cleared at once while the
    /// failure holds, found in about 2·log2(64) probes. Candidates below the minimum are
    /// refused by `attempt`, which ends the search there.
    fn clear_high_bits(&mut self, name: &str) {
        let Some((base, width)) = self.number(name) else {
            return;
        };
        let bits = u64::BITS - base.leading_zeros();
        self.find_largest(|s, k| {
            if k >= u64::from(bits) {
                return false;
            }
            let keep = bits - k as u32;
            let mask = if keep >= 64 {
                u64::MAX
            } else {
                (1u64 << keep) - 1
            };
            s.holds(
                name,
                Value::Number {
                    value: base & mask,
                    width,
                },
            )
        });
    }
}
