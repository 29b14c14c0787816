//! The passes over numbers: clearing high bits, then bisection toward the minimum; for a
//! signed number, the same toward 0 on its side of 0, after trying its positive.
//!
//! In: the best value of one number. Out: smaller candidates within its range, tried
//! through [`Search::attempt`]. Clearing high bits finds the failures that depend on the
//! low bits (a counter that wraps at 2^31 fails for every value whose low 31 bits are all
//! ones, so 0x6eda91a07fffffff ends at 0x7fffffff = 2147483647); bisection finds a
//! threshold below the value (a failure for every value from 1000 on ends at 1000). At a
//! fixed point, the minimum and the value one less both pass.
//!
//! A signed number is simpler the nearer it is to 0, and a positive one simpler than its
//! negative (`1` is shorter text than `-1`). Its passes first cross 0 to the farthest simpler
//! value on the other side (-37 to 37, 37 to -36), so that a failure on that side is found
//! from either; then they work on its magnitude, with its sign kept: -37 lowers toward -1
//! and 0, never toward `i64::MIN`, and a failure for every value below -10 ends at exactly
//! -11.

use super::Search;
use crate::spec::Value;
use crate::spec::model::number::Width;

/// One side of 0 for a number: its values by magnitude, so that lowering the magnitude
/// moves toward 0 whatever the sign.
#[derive(Debug, Clone, Copy)]
struct Ray {
    width: Width,
    negative: bool,
}

impl Ray {
    fn value(self, magnitude: u64) -> Value {
        // Truncating the negated magnitude to 64 bits is its two's complement; a magnitude
        // the range does not allow is refused by `attempt` like any other.
        let value = if self.negative {
            (-i128::from(magnitude)) as u64
        } else {
            magnitude
        };
        Value::Number {
            value,
            width: self.width,
        }
    }
}

impl<F> Search<'_, F> {
    /// The number's integer and width.
    fn number(&self, name: &str) -> Option<(i128, Width)> {
        match self.current(name) {
            Value::Number { value, width } => Some((width.int(value), width)),
            _ => None,
        }
    }

    fn magnitude(&self, name: &str) -> Option<u64> {
        // Every number is a u64 or an i64, whose magnitude fits in 64 bits.
        self.number(name).map(|(n, _)| n.unsigned_abs() as u64)
    }

    pub(super) fn lower_number(&mut self, name: &str, min: u64) {
        let Some((_, width)) = self.number(name) else {
            return;
        };
        self.lower_on(
            name,
            Ray {
                width,
                negative: false,
            },
            min,
        );
    }

    pub(super) fn lower_signed(&mut self, name: &str, min: i64, max: i64) {
        let Some((n, width)) = self.number(name) else {
            return;
        };
        // Across 0: the simpler values there are the magnitudes below this one's (and this
        // one's own, for a negative number), and the farthest of them fails first when the
        // failure grows with the distance from 0.
        let across = if n < 0 { -n } else { 1 - n };
        if n != 0 && (i128::from(min)..=i128::from(max)).contains(&across) {
            let ray = Ray {
                width,
                negative: across < 0,
            };
            self.attempt_value(name, ray.value(across.unsigned_abs() as u64));
        }
        let Some((n, _)) = self.number(name) else {
            return;
        };
        // The least magnitude on this side of 0 that the range allows: 0 when it holds 0.
        let negative = n < 0;
        let floor = match negative {
            true => u64::try_from(max).map_or(max.unsigned_abs(), |_| 0),
            false => u64::try_from(min).unwrap_or(0),
        };
        self.lower_on(name, Ray { width, negative }, floor);
    }

    /// Lowers the magnitude of the number on `ray` toward `floor`, the least magnitude its
    /// range allows there.
    fn lower_on(&mut self, name: &str, ray: Ray, floor: u64) {
        let Some(magnitude) = self.magnitude(name) else {
            return;
        };
        if magnitude <= floor || self.attempt_value(name, ray.value(floor)) {
            return;
        }
        self.clear_high_bits(name, ray);
        let Some(magnitude) = self.magnitude(name) else {
            return;
        };
        if magnitude - 1 == floor || !self.attempt_value(name, ray.value(magnitude - 1)) {
            return;
        }
        // The bisection's invariant: `lo` passes (the floor was tried first), `hi` fails.
        let (mut lo, mut hi) = (floor, magnitude - 1);
        while hi - lo > 1 && self.stop.is_none() {
            let mid = lo + (hi - lo) / 2;
            if self.attempt_value(name, ray.value(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }

    /// Keeps only the low bits of the magnitude: the most high bits that can be cleared at
    /// once while the failure holds, found in about 2·log2(64) probes. Candidates outside
    /// the range are refused by `attempt`, which ends the search there.
    fn clear_high_bits(&mut self, name: &str, ray: Ray) {
        let Some(base) = self.magnitude(name) else {
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
            s.holds(name, ray.value(base & mask))
        });
    }
}
