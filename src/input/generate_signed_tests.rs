//! Tests of the signed number generator: its range, its edges, its simplest value, and a
//! seed that gives the same numbers on every machine.

use super::*;

fn signed_sample(seed: u64, n: usize, min: i64, max: i64) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| signed(&mut rng, min, max)).collect()
}

#[test]
fn signed_numbers_stay_in_range_and_hit_its_edges_for_many_seeds() {
    // One case in 120 is a given edge: 2000 cases hold each of them for every seed.
    for seed in 0..20 {
        let cases = signed_sample(seed, 2000, -100_000, 100_000);
        assert!(cases.iter().all(|n| (-100_000..=100_000).contains(n)));
        for edge in [
            -100_000, 100_000, 0, 1, -1, 127, -128, 128, -129, 32_767, -32_768,
        ] {
            assert!(cases.contains(&edge), "seed {seed}: no {edge}");
        }
        // Uniform draws reach both sides far from the edges.
        assert!(
            cases.iter().any(|n| (-90_000..-40_000).contains(n)),
            "seed {seed}"
        );
        assert!(
            cases.iter().any(|n| (40_000..90_000).contains(n)),
            "seed {seed}"
        );
    }
}

#[test]
fn the_whole_signed_64_bit_range_reaches_both_ends_and_the_32_bit_edges() {
    let cases = signed_sample(8, 1000, i64::MIN, i64::MAX);
    for edge in [
        i64::MIN,
        i64::MAX,
        0x7fff_ffff,
        -0x8000_0000,
        0x8000_0000,
        -0x8000_0001,
    ] {
        assert!(cases.contains(&edge), "no {edge}");
    }
    assert!(cases.iter().any(|n| *n < -(1 << 62)));
    assert!(cases.iter().any(|n| *n > 1 << 62));
}

#[test]
fn a_signed_range_on_one_side_of_zero_clamps_its_edges_into_it() {
    let cases = signed_sample(2, 300, -50, -10);
    assert!(cases.iter().all(|n| (-50..=-10).contains(n)), "{cases:?}");
    assert!(cases.contains(&-10) && cases.contains(&-50) && cases.contains(&-11));
}

#[test]
fn a_seed_gives_the_same_signed_numbers_on_every_machine() {
    // Pinned like PINNED_42: a seed in a bug report must keep replaying the same cases.
    assert_eq!(signed_sample(42, 6, -1000, 1000), PINNED_SIGNED_42);
}

const PINNED_SIGNED_42: [i64; 6] = [-1000, 999, 850, 540, 700, 167];

#[test]
fn the_simplest_signed_number_is_zero_or_the_bound_nearest_it() {
    let simplest = |min: i64, max: i64| {
        let width = crate::spec::model::number::Width::DECIMAL.with_sign(true);
        simplest(&Generator::Signed { width, min, max })
            .bytes()
            .to_vec()
    };
    assert_eq!(simplest(-100, 100), b"0");
    assert_eq!(simplest(5, 100), b"5");
    assert_eq!(simplest(-100, -7), b"-7");
}

#[test]
fn a_fixed_negative_number_fits_a_signed_generator_only() {
    let one = crate::spec::model::number::Width::new(1, None).unwrap();
    let signed = Generator::Signed {
        width: one.with_sign(true),
        min: -128,
        max: 127,
    };
    let value = fixed_value(&signed, &Fixed::Number(-5)).unwrap();
    assert_eq!(value.bytes().as_ref(), [0xfb]);
    assert_eq!(value.encode(), "number:-5");
    assert!(fixed_value(&signed, &Fixed::Number(128)).is_err());
    let unsigned = Generator::Number {
        width: one,
        min: 0,
        max: 255,
    };
    assert!(fixed_value(&unsigned, &Fixed::Number(-5)).is_err());
    assert_eq!(
        fixed_value(&unsigned, &Fixed::Number(255))
            .unwrap()
            .bytes()
            .as_ref(),
        [0xff]
    );
}
