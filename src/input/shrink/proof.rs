//! The proof that a result is minimal: every input simpler than it was run and passed.
//!
//! In: the generators, the best input, and the inputs run so far. Out: [`Proof`]. The
//! inputs simpler than the best are listed when they are few (a byte `\x01` has two: the
//! empty input and `\x00`; the number 2147483647 has two thousand million, which no search
//! runs); if all but [`COMPLETE`] of them were already run, the rest are run too. A result
//! is called minimal only through this.

use std::time::Duration;

use super::{Search, key};
use crate::spec::{Env, Generator, Value};

/// The most simpler inputs not yet run that the proof runs to complete itself.
pub const COMPLETE: usize = 8;

/// The most inputs the proof lists before it gives up (CPU, not probes).
const MAX_LISTED: usize = 20_000;

#[derive(Debug, PartialEq, Eq)]
pub enum Proof {
    /// Every simpler input passes.
    Proven,
    /// A simpler input never run before fails: it is now the best.
    Improved,
    /// Too many simpler inputs were never run.
    Unproven,
}

impl<F> Search<'_, F> {
    pub(super) fn prove(&mut self) -> Proof {
        let cap = (self.seen.len() + COMPLETE).min(MAX_LISTED);
        let Some(simpler) = simpler_inputs(self.generators, &self.best, cap) else {
            return Proof::Unproven;
        };
        let untried: Vec<Env> = simpler
            .into_iter()
            .filter(|env| !self.seen.contains_key(env))
            .collect();
        if untried.len() > COMPLETE {
            return Proof::Unproven;
        }
        for env in untried {
            if self.attempt(env) {
                return Proof::Improved;
            }
            if self.stop.is_some() {
                return Proof::Unproven;
            }
        }
        Proof::Proven
    }
}

/// Every input the generators admit that is simpler than `best` (values not in
/// `generators` kept), or `None` when there are more than `cap`.
pub fn simpler_inputs(
    generators: &std::collections::BTreeMap<String, Generator>,
    best: &Env,
    cap: usize,
) -> Option<Vec<Env>> {
    let best_key = key(best);
    let pinned: usize = best
        .iter()
        .filter(|(name, _)| !generators.contains_key(*name))
        .map(|(_, v)| super::value_key(v, &mut Vec::new()))
        .sum();
    let room = best_key.0 - pinned;
    // With one value, the env's order is that value's own order; with several, any value
    // of a simpler input may itself be larger, so each is listed up to the size bound.
    let single = generators.len() == 1;
    let mut lists: Vec<(&String, Vec<Value>)> = Vec::new();
    for (name, generator) in generators {
        let bound = single.then(|| &best[name]);
        lists.push((name, values(generator, room, bound, cap)?));
    }
    let mut out = Vec::new();
    let mut combo = vec![0usize; lists.len()];
    let mut listed = 0usize;
    loop {
        if lists.iter().any(|(_, l)| l.is_empty()) {
            return Some(out);
        }
        listed += 1;
        if listed > MAX_LISTED {
            return None;
        }
        let mut env = best.clone();
        for ((name, list), &i) in lists.iter().zip(&combo) {
            env.insert((*name).clone(), list[i].clone());
        }
        if key(&env) < best_key {
            out.push(env);
            if out.len() > cap {
                return None;
            }
        }
        // The next combination, odometer-style.
        let mut d = 0;
        loop {
            if d == combo.len() {
                return Some(out);
            }
            combo[d] += 1;
            if combo[d] < lists[d].1.len() {
                break;
            }
            combo[d] = 0;
            d += 1;
        }
    }
}

/// What an enumeration does after one item.
#[derive(PartialEq, Eq)]
enum Flow {
    Next,
    /// Everything after this item is too large: the list is complete.
    Done,
    /// Too many items: give up.
    TooMany,
}

/// The values of `generator` of at most `room` size (and, with `bound`, simpler than it),
/// or `None` when there are more than `cap`.
fn values(
    generator: &Generator,
    room: usize,
    bound: Option<&Value>,
    cap: usize,
) -> Option<Vec<Value>> {
    let bound_key = bound.map(|b| {
        let mut seq = Vec::new();
        (super::value_key(b, &mut seq), seq)
    });
    let mut out = Vec::new();
    let mut listed = 0usize;
    // Strings and numbers are listed in shortlex order, so the first one that is not
    // simpler than the bound ends the list; splits are not, and are listed whole.
    let mut push = |v: Value, ordered: bool| {
        listed += 1;
        if listed > MAX_LISTED {
            return Flow::TooMany;
        }
        let simpler = bound_key.as_ref().is_none_or(|b| {
            let mut seq = Vec::new();
            (super::value_key(&v, &mut seq), seq) < *b
        });
        if !simpler {
            return if ordered { Flow::Done } else { Flow::Next };
        }
        if generator.admits(&v) {
            out.push(v);
        }
        if out.len() > cap {
            Flow::TooMany
        } else {
            Flow::Next
        }
    };
    let flow = match generator {
        Generator::Bytes { min, max } => {
            let all: Vec<u8> = (0..=255).collect();
            strings(&all, *min, (*max).min(room), &mut |s| {
                push(Value::Bytes(s), true)
            })
        }
        Generator::Text { alphabet, min, max } => {
            strings(alphabet, *min, (*max).min(room), &mut |s| {
                push(Value::Bytes(s), true)
            })
        }
        // Every text made of the regex's bytes, kept when it matches (`admits`).
        Generator::Pattern(p) => {
            let alphabet: Vec<u8> = (0..=255u8).filter(|b| byte_used(&p.hir, *b)).collect();
            strings(&alphabet, 0, room, &mut |s| push(Value::Bytes(s), true))
        }
        Generator::Number { width, min, max } => {
            let mut flow = Flow::Done;
            for value in *min..=*max {
                flow = push(
                    Value::Number {
                        value,
                        width: *width,
                    },
                    true,
                );
                if flow != Flow::Next {
                    break;
                }
            }
            flow
        }
        Generator::Signed { width, min, max } => {
            signed_numbers(*width, *min, *max, &mut |v| push(v, true))
        }
        Generator::Split {
            data,
            max_pieces,
            max_pause,
        } => splits(data, (*max_pieces - 1).min(room), *max_pause, &mut |v| {
            push(v, false)
        }),
    };
    (flow != Flow::TooMany).then_some(out)
}

/// Calls `each` with every number of `min..=max` in its order (0, 1, -1, 2, -2, ... from
/// the one nearest 0), until it says otherwise.
fn signed_numbers(
    width: crate::spec::model::number::Width,
    min: i64,
    max: i64,
    each: &mut dyn FnMut(Value) -> Flow,
) -> Flow {
    let (min, max) = (i128::from(min), i128::from(max));
    let nearest = 0.clamp(min, max).unsigned_abs();
    for magnitude in nearest..=i128::from(i64::MIN).unsigned_abs() {
        let m = magnitude as i128;
        let sides = [(m <= max).then_some(m), (m > 0 && -m >= min).then_some(-m)];
        if sides.iter().all(Option::is_none) {
            break;
        }
        for n in sides.into_iter().flatten() {
            let flow = each(Value::Number {
                value: n as u64,
                width,
            });
            if flow != Flow::Next {
                return flow;
            }
        }
    }
    Flow::Done
}

/// Calls `each` with every string over `alphabet` (ascending) of a length in `min..=max`,
/// in shortlex order, until it says otherwise.
fn strings(alphabet: &[u8], min: usize, max: usize, each: &mut dyn FnMut(Vec<u8>) -> Flow) -> Flow {
    if alphabet.is_empty() {
        return if min == 0 {
            each(Vec::new())
        } else {
            Flow::Done
        };
    }
    for len in min..=max {
        let mut digits = vec![0usize; len];
        loop {
            let flow = each(digits.iter().map(|&d| alphabet[d]).collect());
            if flow != Flow::Next {
                return flow;
            }
            if !odometer(&mut digits, alphabet.len()) {
                break;
            }
        }
    }
    Flow::Done
}

/// The next digits in base `base`, the last one fastest; false after the largest.
fn odometer(digits: &mut [usize], base: usize) -> bool {
    for d in digits.iter_mut().rev() {
        *d += 1;
        if *d < base {
            return true;
        }
        *d = 0;
    }
    false
}

/// Calls `each` with every split of `data` with at most `most` cuts, until it says
/// otherwise.
fn splits(
    data: &[u8],
    most: usize,
    max_pause: Duration,
    each: &mut dyn FnMut(Value) -> Flow,
) -> Flow {
    let offsets: Vec<usize> = (1..data.len()).collect();
    let base = max_pause.as_millis() as usize + 1;
    for count in 0..=most.min(offsets.len()) {
        let mut cuts: Vec<usize> = (0..count).collect();
        loop {
            let mut pauses = vec![0usize; count];
            loop {
                let flow = each(Value::Split {
                    data: data.to_vec(),
                    cuts: cuts.iter().map(|&i| offsets[i]).collect(),
                    pauses: pauses
                        .iter()
                        .map(|&m| Duration::from_millis(m as u64))
                        .collect(),
                });
                if flow == Flow::TooMany {
                    return flow;
                }
                if !odometer(&mut pauses, base) {
                    break;
                }
            }
            if !next_combination(&mut cuts, offsets.len()) {
                break;
            }
        }
    }
    Flow::Done
}

/// The next `k`-subset of `0..n` in lexicographic order; false after the last.
fn next_combination(c: &mut [usize], n: usize) -> bool {
    let k = c.len();
    for i in (0..k).rev() {
        if c[i] < n - k + i {
            c[i] += 1;
            for j in i + 1..k {
                c[j] = c[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Whether byte `b` may appear in a text of the regex (a literal's or a class's byte).
fn byte_used(hir: &regex_syntax::hir::Hir, b: u8) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(lit) => lit.0.contains(&b),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&b)),
        // Any byte may be part of a character's UTF-8 form: listing too many bytes only
        // costs time, as texts that do not match are dropped.
        HirKind::Class(Class::Unicode(_)) => true,
        HirKind::Repetition(rep) => byte_used(&rep.sub, b),
        HirKind::Capture(cap) => byte_used(&cap.sub, b),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().any(|p| byte_used(p, b))
        }
    }
}
