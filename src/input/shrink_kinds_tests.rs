//! Table tests of the passes over numbers, text, regexes and splits, with closures in
//! place of programs.

use std::collections::BTreeMap;

use super::tests::{ROOMY, run, split_env, split_gen};
use super::*;
use crate::input::generate::Rng;

fn number_gen(min: u64, max: u64) -> BTreeMap<String, Generator> {
    let width = crate::spec::model::number::Width::new(2, None).unwrap();
    BTreeMap::from([("n".to_string(), Generator::Number { width, min, max })])
}

fn number_env(value: u64) -> Env {
    let width = crate::spec::model::number::Width::new(2, None).unwrap();
    Env::from([("n".to_string(), Value::Number { value, width })])
}

#[test]
fn a_number_shrinks_to_the_smallest_that_fails_within_its_range() {
    let shrunk = run(
        &number_gen(10, 60_000),
        number_env(52_345),
        ROOMY,
        |e| matches!(e["n"], Value::Number { value, .. } if value >= 1000),
    );
    assert_eq!(shrunk.env, number_env(1000));
    assert_eq!(
        shrunk.end,
        End::Local {
            passes: Passes {
                numbers: true,
                ..Passes::default()
            }
        }
    );
    assert!(shrunk.probes <= 24, "{}", shrunk.probes);
}

#[test]
fn text_stays_in_its_character_class_while_it_shrinks() {
    let generators = BTreeMap::from([(
        "key".to_string(),
        Generator::Text {
            alphabet: (b'a'..=b'z').collect(),
            min: 1,
            max: 16,
        },
    )]);
    let original = Env::from([("key".to_string(), Value::Bytes(b"hello".to_vec()))]);
    // Fails for any key containing a letter from 'k' on.
    let shrunk = run(&generators, original, ROOMY, |e| {
        e["key"].bytes().iter().any(|b| *b >= b'k')
    });
    assert_eq!(
        shrunk.env,
        Env::from([("key".to_string(), Value::Bytes(b"k".to_vec()))])
    );
    assert_eq!(shrunk.end, End::Minimal);
}

fn number64_gen(min: u64, max: u64) -> BTreeMap<String, Generator> {
    let width = crate::spec::model::number::Width::new(8, None).unwrap();
    BTreeMap::from([("n".to_string(), Generator::Number { width, min, max })])
}

fn number64_env(value: u64) -> Env {
    let width = crate::spec::model::number::Width::new(8, None).unwrap();
    Env::from([("n".to_string(), Value::Number { value, width })])
}

fn number_of(e: &Env) -> u64 {
    match e["n"] {
        Value::Number { value, .. } => value,
        _ => unreachable!(),
    }
}

const LOCAL_NUMBERS: End = End::Local {
    passes: Passes {
        bytes: false,
        regex: false,
        numbers: true,
        splits: false,
        signed: false,
    },
};

/// A counter that adds one in its low 32 bits as a signed 32-bit integer: every value
/// whose low 32 bits are 2^31 - 1 or more comes back wrong.
fn wraps_at_2_31(e: &Env) -> bool {
    (number_of(e) & 0xffff_ffff) >= 0x7fff_ffff
}

#[test]
fn a_wraparound_at_2_31_shrinks_to_exactly_2147483647_by_clearing_high_bits() {
    // One less (…7ffffffe) passes, so lowering alone stops at once; bisection alone
    // fails too (half the values in any range fail). Clearing high bits keeps 0x7fffffff.
    let shrunk = run(
        &number64_gen(0, u64::MAX),
        number64_env(0x6eda_91a0_7fff_ffff),
        ROOMY,
        wraps_at_2_31,
    );
    assert_eq!(shrunk.env, number64_env(2_147_483_647));
    assert_eq!(shrunk.end, LOCAL_NUMBERS);
    assert!(shrunk.probes <= 20, "{}", shrunk.probes);
}

#[test]
fn a_wraparound_at_2_31_reaches_2147483647_from_any_64_bit_start() {
    let mut rng = Rng::new(3);
    let mut done = 0;
    while done < 40 {
        let original = number64_env(rng.next_u64());
        if !wraps_at_2_31(&original) {
            continue;
        }
        let shrunk = run(&number64_gen(0, u64::MAX), original, ROOMY, wraps_at_2_31);
        assert_eq!(shrunk.env, number64_env(2_147_483_647));
        done += 1;
    }
}

#[test]
fn a_threshold_far_below_a_64_bit_value_is_found_exactly_by_bisection() {
    let shrunk = run(
        &number64_gen(5, u64::MAX),
        number64_env(u64::MAX - 12),
        ROOMY,
        |e| number_of(e) >= 1_000_000_000_000,
    );
    assert_eq!(shrunk.env, number64_env(1_000_000_000_000));
    assert_eq!(shrunk.end, LOCAL_NUMBERS);
    assert!(shrunk.probes <= 100, "{}", shrunk.probes);
}

#[test]
fn clearing_high_bits_stops_at_the_minimum_of_the_range() {
    // Fails when the low byte is 0xff; the range starts at 1000, so 255 (0xff) and 511
    // (0x1ff) are not in it, and clearing bits ends at 1023 (0x3ff), the least failing
    // value.
    let shrunk = run(
        &number64_gen(1000, 1 << 40),
        number64_env(0xab_cdef_13ff),
        ROOMY,
        |e| number_of(e) & 0xff == 0xff,
    );
    assert_eq!(shrunk.env, number64_env(1023));
}

#[test]
fn a_small_number_is_proven_minimal_when_every_smaller_one_was_run() {
    let shrunk = run(&number64_gen(0, 1000), number64_env(200), ROOMY, |e| {
        number_of(e) >= 3
    });
    assert_eq!(shrunk.env, number64_env(3));
    assert_eq!(shrunk.end, End::Minimal);
}

/// A server that splits requests on CR LF instead of reading their lengths: any value
/// with CR LF in it is cut in two.
fn text_gen(chars: &str, min: usize, max: usize) -> BTreeMap<String, Generator> {
    let alphabet: Vec<u8> = chars.bytes().collect();
    BTreeMap::from([("key".to_string(), Generator::Text { alphabet, min, max })])
}

fn key_env(text: &[u8]) -> Env {
    Env::from([("key".to_string(), Value::Bytes(text.to_vec()))])
}

#[test]
fn text_moves_its_characters_later_over_the_first_character_of_its_set() {
    let generators = text_gen("abcdefghijklmnopqrstuvwxyz", 3, 16);
    let shrunk = run(&generators, key_env(b"zkqqzz"), ROOMY, |e| {
        e["key"].bytes().contains(&b'k')
    });
    assert_eq!(shrunk.env, key_env(b"aak"));
}

fn regex_gen(source: &str) -> BTreeMap<String, Generator> {
    let yaml = format!("text: {{regex: '{source}'}}");
    let generator: Generator = serde_saphyr::from_str(&yaml).unwrap();
    BTreeMap::from([("key".to_string(), generator)])
}

#[test]
fn a_regex_whose_every_text_fails_ends_at_its_shortest_match_after_one_probe() {
    let shrunk = run(&regex_gen("abc|x?"), key_env(b"abc"), ROOMY, |_| true);
    assert_eq!(shrunk.env, key_env(b""));
    assert_eq!(shrunk.end, End::Simplest);
    assert_eq!(shrunk.probes, 1);
}

#[test]
fn a_regex_text_takes_a_shorter_alternative_that_deletion_cannot_reach() {
    // Deleting letters from "qwertyu" leaves the first alternative at four letters at
    // best; the second alternative's "0" is one byte, and nothing simpler but "" exists.
    let shrunk = run(
        &regex_gen("[a-z]{4,8}|[0-9]{1,2}|"),
        key_env(b"qwertyu"),
        ROOMY,
        |e| !e["key"].bytes().is_empty(),
    );
    assert_eq!(shrunk.env, key_env(b"0"));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_regex_text_drops_repetitions_down_to_the_one_that_fails() {
    let shrunk = run(
        &regex_gen("(ab|cd){1,6}"),
        key_env(b"ababcdabab"),
        ROOMY,
        |e| e["key"].bytes().windows(2).any(|w| w == b"cd"),
    );
    assert_eq!(shrunk.env, key_env(b"cd"));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_regex_text_that_only_fails_long_keeps_the_fewest_repetitions_that_fail() {
    // Fails from 5 bytes on: the shortlex minimum of `x[a-c]+` with 5 bytes is "xaaaa".
    let shrunk = run(&regex_gen("x[a-c]+"), key_env(b"xcbcabcabc"), ROOMY, |e| {
        e["key"].bytes().len() >= 5
    });
    assert_eq!(shrunk.env, key_env(b"xaaaa"));
}

#[test]
fn a_cut_moves_earlier_only_as_far_as_the_failure_holds_and_the_few_left_are_run() {
    // Fails when some write starts at offset 6 or later ("World!\n"): the minimum is one
    // cut at 6 with no pause; offsets 2 to 4 are run by the proof.
    let fails = |e: &Env| match &e["greeting"] {
        Value::Split { cuts, .. } => cuts.iter().any(|&c| c >= 6),
        _ => false,
    };
    let original = split_env(&[3, 8, 11], &[20, 0, 7]);
    let shrunk = run(&split_gen(), original, ROOMY, fails);
    assert_eq!(shrunk.env, split_env(&[6], &[0]));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn structural_candidates_of_a_regex_text_all_match_it() {
    let generators = regex_gen("(GET|PUT) /[a-z]{1,5}(\\?[a-z]=[0-9]{1,3})*");
    let Generator::Pattern(p) = &generators["key"] else {
        unreachable!()
    };
    let text = b"PUT /abcde?x=12?y=345";
    let candidates = super::pattern::candidates(&p.hir, text).unwrap();
    assert!(candidates.contains(&b"GET /a".to_vec()), "{candidates:?}");
    assert!(candidates.contains(&b"PUT /abcde?x=12".to_vec()));
    assert!(candidates.contains(&b"GET /abcde?x=12?y=345".to_vec()));
    for c in &candidates {
        assert!(p.whole.is_match(c), "{}", String::from_utf8_lossy(c));
    }
}

// Signed numbers: toward 0 from either side, positive before negative.

fn signed_gen(min: i64, max: i64) -> BTreeMap<String, Generator> {
    let width = crate::spec::model::number::Width::DECIMAL.with_sign(true);
    BTreeMap::from([("n".to_string(), Generator::Signed { width, min, max })])
}

fn signed_env(n: i64) -> Env {
    let width = crate::spec::model::number::Width::DECIMAL.with_sign(true);
    Env::from([(
        "n".to_string(),
        Value::Number {
            value: n as u64,
            width,
        },
    )])
}

fn signed_of(e: &Env) -> i64 {
    match e["n"] {
        Value::Number { value, .. } => value as i64,
        _ => unreachable!(),
    }
}

const LOCAL_SIGNED: End = End::Local {
    passes: Passes {
        bytes: false,
        regex: false,
        numbers: false,
        splits: false,
        signed: true,
    },
};

/// Shrinks like `run`, and checks that no probe is farther from 0 than the original.
fn run_signed(min: i64, max: i64, original: i64, fails: impl Fn(i64) -> bool) -> Shrunk<()> {
    let shrunk = run(&signed_gen(min, max), signed_env(original), ROOMY, |e| {
        let n = signed_of(e);
        assert!(n.unsigned_abs() <= original.unsigned_abs(), "probed {n}");
        assert!((min..=max).contains(&n), "probed {n} outside {min}..={max}");
        fails(n)
    });
    assert!(fails(signed_of(&shrunk.env)));
    shrunk
}

#[test]
fn signed_numbers_order_by_distance_from_zero_then_positive_first() {
    let order: Vec<i64> = [3, -1, 0, -3, 1, 2, -2].into_iter().collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|n| key(&signed_env(*n)));
    assert_eq!(sorted, [0, 1, -1, 2, -2, 3, -3]);
}

#[test]
fn a_failure_below_minus_10_shrinks_to_exactly_minus_11() {
    let shrunk = run_signed(-1000, 1000, -37, |n| n < -10);
    assert_eq!(signed_of(&shrunk.env), -11);
    assert_eq!(shrunk.end, LOCAL_SIGNED);
    assert!(shrunk.probes <= 20, "{}", shrunk.probes);
}

#[test]
fn a_failure_below_minus_10_shrinks_to_minus_11_from_any_64_bit_start() {
    let mut rng = Rng::new(5);
    for _ in 0..40 {
        // Negative starts anywhere down to i64::MIN: never shrunk farther from 0.
        let start = (rng.next_u64() | 1 << 63) as i64;
        let shrunk = run_signed(i64::MIN, i64::MAX, start.min(-11), |n| n < -10);
        assert_eq!(signed_of(&shrunk.env), -11, "from {start}");
        assert!(shrunk.probes <= 200, "from {start}: {}", shrunk.probes);
    }
    let shrunk = run_signed(i64::MIN, i64::MAX, i64::MIN, |n| n < -10);
    assert_eq!(signed_of(&shrunk.env), -11);
}

#[test]
fn a_failure_above_1000_shrinks_to_exactly_1001() {
    let shrunk = run_signed(-100_000, 100_000, 52_345, |n| n > 1000);
    assert_eq!(signed_of(&shrunk.env), 1001);
    assert_eq!(shrunk.end, LOCAL_SIGNED);
}

#[test]
fn a_failure_for_every_nonzero_number_shrinks_to_1_and_is_proven() {
    // 1 is simpler than -1: from -37, crossing 0 to 37 comes first.
    let shrunk = run_signed(-1000, 1000, -37, |n| n != 0);
    assert_eq!(signed_of(&shrunk.env), 1);
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_failure_for_every_negative_number_shrinks_to_minus_1_and_is_proven() {
    let shrunk = run_signed(-1000, 1000, -37, |n| n < 0);
    assert_eq!(signed_of(&shrunk.env), -1);
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_failure_on_the_negative_side_is_found_from_a_positive_start() {
    // A 3-character field: from 1000 up and from -100 down the number is cut short. -100 is
    // simpler than 1000; crossing 0 from 52345 to -52344 reaches that side.
    let shrunk = run_signed(-100_000, 100_000, 52_345, |n| n.to_string().len() > 3);
    assert_eq!(signed_of(&shrunk.env), -100);
}

#[test]
fn a_small_negative_threshold_is_proven_minimal() {
    // Simpler than -3: 0, 1, -1, 2, -2 and 3, few enough to run all.
    let shrunk = run_signed(-1000, 1000, -200, |n| n <= -3);
    assert_eq!(signed_of(&shrunk.env), -3);
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_range_below_zero_shrinks_toward_its_bound_nearest_zero() {
    let shrunk = run_signed(-1000, -20, -900, |n| n < -100);
    assert_eq!(signed_of(&shrunk.env), -101);
    let shrunk = run_signed(-1000, -20, -900, |_| true);
    assert_eq!(signed_of(&shrunk.env), -20);
    assert_eq!(shrunk.end, End::Simplest);
    // Above zero, toward its minimum, crossing nothing.
    let shrunk = run_signed(20, 1000, 900, |n| n > 100);
    assert_eq!(signed_of(&shrunk.env), 101);
}

#[test]
fn a_signed_32_bit_overflow_shrinks_to_exactly_its_edges() {
    // `n + 1` and `n - 1` in an i32: wrong from 2147483647 up and from -2147483648 down.
    let overflows = |n: i64| i32::try_from(n + 1).is_err() || i32::try_from(n - 1).is_err();
    let shrunk = run_signed(i64::MIN, i64::MAX, 0x6eda_91a0_7fff_ffff, overflows);
    assert_eq!(signed_of(&shrunk.env), 2_147_483_647);
    let shrunk = run_signed(i64::MIN, i64::MAX, -0x6eda_91a0_7fff_ffff, overflows);
    assert_eq!(signed_of(&shrunk.env), 2_147_483_647);
    let below = |n: i64| i32::try_from(n - 1).is_err() && n < 0;
    let shrunk = run_signed(i64::MIN, i64::MAX, -0x6eda_91a0_7fff_ffff, below);
    assert_eq!(signed_of(&shrunk.env), -2_147_483_648);
}
