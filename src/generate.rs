//! Generated values: proptest strategies for a scenario's `generate` section.
//!
//! In: a scenario's generators, and fixed values (`with:` in the spec, `--with` on the
//! command line). Out: a strategy producing one [`Env`] per case, which proptest also
//! shrinks. Generators are biased toward the values that break programs: 0x00, 0xFF,
//! 0x7F/0x80 and `\n` bytes, all-equal contents, the smallest and largest sizes, one-byte
//! writes and zero pauses.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::strategy::{BoxedStrategy, Just, Strategy};

use crate::spec::data::split_value;
use crate::spec::{Env, Fixed, Generator, Scenario, Value};

/// The byte values that break programs most often.
const EDGES: [u8; 5] = [0x00, 0xff, 0x7f, 0x80, b'\n'];

/// One byte, with the values that break programs far more likely than uniform: about one in
/// five is an edge value. Built from one `u16` rather than `prop_oneof!`, because proptest's
/// unions clone the test runner for every alternative of every byte, which costs more than a
/// loopback round trip. A `u16` shrinks toward 0, that is toward the plain low byte, and that
/// byte toward 0x00.
fn byte() -> impl Strategy<Value = u8> {
    any::<u16>().prop_map(|x| {
        let [low, high] = x.to_le_bytes();
        if high >= 0xcc {
            EDGES[usize::from(low) % EDGES.len()]
        } else {
            low
        }
    })
}

/// Payloads longer than this repeat a random pattern of at most this many bytes.
///
/// Why: proptest shrinks a collection by deleting one element at a time, which for a
/// 1472-byte datagram means over a thousand runs of the program under test (each a process
/// start for a one-shot server). Generating a length and a short pattern instead lets the
/// length shrink by binary search (about a dozen runs) and the pattern in at most a few
/// hundred, while payloads up to this size are still fully random.
pub const PATTERN: usize = 32;

/// Byte strings of `min..=max` bytes: a length (one case in six the smallest, one the
/// largest) and a pattern of biased bytes cycled to that length, or (one case in six) its
/// first byte repeated. Selectors shrink toward the plain case, lengths toward `min`.
pub fn bytes(min: usize, max: usize) -> BoxedStrategy<Vec<u8>> {
    (0u8..6, 0u8..6, min..=max, vec(byte(), 1..=PATTERN))
        .prop_map(move |(shape, size, n, pattern)| {
            let n = match size {
                4 => min,
                5 => max,
                _ => n,
            };
            if shape == 5 {
                vec![pattern[0]; n]
            } else {
                pattern.iter().cycle().take(n).copied().collect()
            }
        })
        .boxed()
}

/// The ways to write `data`: where the writes start, and the pause before each.
pub fn split(data: Vec<u8>, max_pieces: usize, max_pause: Duration) -> BoxedStrategy<Value> {
    let n = data.len();
    let all_cuts: Vec<usize> = (1..n).collect();
    let most = max_pieces.saturating_sub(1).min(all_cuts.len());
    let max_ms = max_pause.as_millis() as u64;
    let pause = prop_oneof![2 => Just(0u64), 1 => 0..=max_ms];
    let mut cut_choices: Vec<(u32, BoxedStrategy<Vec<usize>>)> =
        vec![(3, subsequence(all_cuts.clone(), 0..=most).boxed())];
    if most == all_cuts.len() && n > 1 {
        // One byte per write: the split that breaks most readers.
        cut_choices.push((1, Just(all_cuts).boxed()));
    }
    proptest::strategy::Union::new_weighted(cut_choices)
        .prop_flat_map(move |cuts| {
            let count = cuts.len();
            (Just(cuts), vec(pause.clone(), count))
        })
        .prop_map(move |(cuts, pauses)| {
            let pauses = pauses.into_iter().map(Duration::from_millis).collect();
            Value::Split {
                data: data.clone(),
                cuts,
                pauses,
            }
        })
        .boxed()
}

fn generator(generator: &Generator) -> BoxedStrategy<Value> {
    match generator {
        Generator::Bytes { min, max } => bytes(*min, *max).prop_map(Value::Bytes).boxed(),
        Generator::Split {
            data,
            max_pieces,
            max_pause,
        } => split(data.clone(), *max_pieces, *max_pause),
    }
}

/// The value a spec's `with:` entry fixes.
pub fn fixed_value(generator: &Generator, fixed: &Fixed) -> Result<Value, String> {
    match (generator, fixed) {
        (Generator::Bytes { .. }, Fixed::Bytes(b)) => Ok(Value::Bytes(b.clone())),
        (Generator::Split { data, .. }, Fixed::Split { cuts, pauses }) => {
            split_value(data, cuts.clone(), pauses.clone())
        }
        _ => Err("the fixed value does not fit its generator".into()),
    }
}

/// The strategy for a whole case: every generated value by name. `overrides` (from
/// `--with`) and the spec's `with:` pin values; pinned values never change.
pub fn strategy(scenario: &Scenario, overrides: &BTreeMap<String, Value>) -> BoxedStrategy<Env> {
    let mut names = Vec::new();
    let mut parts: Vec<BoxedStrategy<Value>> = Vec::new();
    for (name, spanned) in &scenario.generate {
        let pinned = overrides.get(name).cloned().or_else(|| {
            scenario
                .with
                .get(name)
                .and_then(|f| fixed_value(&spanned.value, &f.value).ok())
        });
        parts.push(match pinned {
            Some(value) => Just(value).boxed(),
            None => generator(&spanned.value),
        });
        names.push(name.clone());
    }
    parts
        .prop_map(move |values| names.iter().cloned().zip(values).collect())
        .boxed()
}

/// Whether every generated value is pinned, so one case says everything.
pub fn all_pinned(scenario: &Scenario, overrides: &BTreeMap<String, Value>) -> bool {
    scenario
        .generate
        .keys()
        .all(|name| overrides.contains_key(name) || scenario.with.contains_key(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
        )
    }

    fn sample<T: std::fmt::Debug>(s: &BoxedStrategy<T>, seed: u8, n: usize) -> Vec<T> {
        let mut r = runner(seed);
        (0..n)
            .map(|_| s.new_tree(&mut r).unwrap().current())
            .collect()
    }

    #[test]
    fn bytes_respect_their_length_range() {
        for v in sample(&bytes(3, 9), 1, 300) {
            assert!((3..=9).contains(&v.len()), "{v:?}");
        }
    }

    #[test]
    fn edge_values_show_up_within_the_default_case_count_for_many_seeds() {
        for seed in 0..50u8 {
            let cases = sample(&bytes(8, 8), seed, 256);
            assert!(
                cases.iter().any(|c| c[0] == 0xff),
                "seed {seed}: no case starts with 0xff"
            );
            assert!(
                cases.iter().any(|c| c.contains(&0)),
                "seed {seed}: no 0x00 byte"
            );
            assert!(
                cases.iter().any(|c| c.iter().any(|b| b & 0x80 != 0)),
                "seed {seed}"
            );
            assert!(
                cases.iter().any(|c| c.iter().all(|b| *b == c[0])),
                "seed {seed}: no all-equal case"
            );
        }
    }

    #[test]
    fn extreme_lengths_show_up() {
        let cases = sample(&bytes(0, 500), 7, 200);
        assert!(cases.iter().any(|c| c.is_empty()));
        assert!(cases.iter().any(|c| c.len() == 500));
    }

    #[test]
    fn splits_keep_the_bytes_and_sometimes_write_one_byte_at_a_time() {
        let s = split(b"Hello World!\n".to_vec(), 13, Duration::from_millis(30));
        let cases = sample(&s, 3, 200);
        for v in &cases {
            let joined: Vec<u8> = v.pieces().iter().flat_map(|p| p.0.to_vec()).collect();
            assert_eq!(joined, b"Hello World!\n");
        }
        assert!(cases.iter().any(|v| v.pieces().len() == 13));
        assert!(cases.iter().any(|v| v.pieces().len() == 1));
    }

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        assert_eq!(sample(&bytes(0, 64), 9, 50), sample(&bytes(0, 64), 9, 50));
    }
}
