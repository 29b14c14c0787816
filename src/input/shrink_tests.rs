//! Table tests of the search, with closures in place of programs.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::*;
use crate::input::generate::{self, Rng};

pub(super) const ROOMY: Limits = Limits {
    probes: 10_000,
    time: Duration::from_secs(3600),
    reproduced: false,
};

/// How a search over bytes alone ends when it is only locally minimal.
const LOCAL_BYTES: End = End::Local {
    passes: Passes {
        bytes: true,
        regex: false,
        numbers: false,
        splits: false,
        signed: false,
    },
};

pub(super) fn bytes_gen(min: usize, max: usize) -> BTreeMap<String, Generator> {
    BTreeMap::from([("payload".to_string(), Generator::Bytes { min, max })])
}

pub(super) fn env(bytes: &[u8]) -> Env {
    Env::from([("payload".to_string(), Value::Bytes(bytes.to_vec()))])
}

/// Shrinks with `fails` as the program; also checks that no candidate runs twice.
pub(super) fn run(
    generators: &BTreeMap<String, Generator>,
    original: Env,
    limits: Limits,
    fails: impl Fn(&Env) -> bool,
) -> Shrunk<()> {
    assert!(fails(&original), "the original must fail");
    let mut tried = HashSet::new();
    let mut probe = |candidate: &Env| {
        assert!(tried.insert(candidate.clone()), "ran twice: {candidate:?}");
        if fails(candidate) {
            Probe::Fail(())
        } else {
            Probe::Pass
        }
    };
    shrink(generators, original, (), limits, &mut probe)
}

/// The guide's UDP server: an 8-byte buffer, zero-filled, reversed; the reply has the
/// datagram's length, so only 8-byte datagrams (and all-zero ones) come back right.
fn eight_byte_buffer_fails(e: &Env) -> bool {
    let data = e["payload"].bytes();
    let mut buffer = [0u8; 8];
    let n = data.len().min(8);
    buffer[..n].copy_from_slice(&data[..n]);
    buffer.reverse();
    let reply: Vec<u8> = (0..data.len())
        .map(|i| buffer.get(i).copied().unwrap_or(0))
        .collect();
    let mut expected = data.to_vec();
    expected.reverse();
    reply != expected
}

#[test]
fn the_eight_byte_buffer_shrinks_to_one_byte_0x01_from_any_first_failure() {
    let generators = bytes_gen(0, 1472);
    let mut probes = Vec::new();
    let mut rng = Rng::new(1);
    while probes.len() < 60 {
        let original = env(&generate::bytes(&mut rng, 0, 1472));
        if !eight_byte_buffer_fails(&original) {
            continue;
        }
        let shrunk = run(&generators, original, ROOMY, eight_byte_buffer_fails);
        assert_eq!(shrunk.env, env(&[1]));
        assert_eq!(shrunk.end, End::Minimal);
        probes.push(shrunk.probes);
    }
    probes.sort_unstable();
    assert!(probes[probes.len() / 2] <= 20, "probes: {probes:?}");
    assert!(probes[probes.len() - 1] <= 40, "probes: {probes:?}");
}

#[test]
fn nine_zero_bytes_and_a_late_nonzero_byte_still_reach_one_byte() {
    // Prefixes of up to eight bytes are all zero and pass, eight bytes pass whatever they
    // hold: only deleting a run reaches the failing byte.
    let mut data = vec![0u8; 9];
    data.push(0x42);
    let shrunk = run(
        &bytes_gen(0, 64),
        env(&data),
        ROOMY,
        eight_byte_buffer_fails,
    );
    assert_eq!(shrunk.env, env(&[1]));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn an_input_independent_failure_costs_one_probe() {
    let shrunk = run(&bytes_gen(0, 100), env(b"abcdef"), ROOMY, |_| true);
    assert_eq!(shrunk.end, End::Simplest);
    assert_eq!(shrunk.env, env(b""));
    assert_eq!(shrunk.probes, 1);
}

#[test]
fn the_simplest_input_respects_the_minimum_length() {
    let shrunk = run(&bytes_gen(3, 100), env(b"abcdef"), ROOMY, |_| true);
    assert_eq!(shrunk.env, env(&[0, 0, 0]));
}

#[test]
fn a_failure_that_does_not_come_back_alone_is_named_after_two_probes() {
    let original = env(b"xyz");
    let first = original.clone();
    let mut calls = 0;
    // The original failed in the run (say, after earlier cases); alone, nothing fails.
    let mut probe = |_: &Env| {
        calls += 1;
        Probe::<()>::Pass
    };
    let shrunk = shrink(&bytes_gen(0, 10), original, (), ROOMY, &mut probe);
    assert_eq!(shrunk.end, End::NotReproduced);
    assert_eq!(shrunk.env, first);
    assert_eq!(shrunk.probes, 2);
}

#[test]
fn a_reproduced_failure_is_not_run_again() {
    let limits = Limits {
        reproduced: true,
        ..ROOMY
    };
    let shrunk = run(&bytes_gen(0, 10), env(&[7]), limits, |e| {
        *e["payload"].bytes() == [7]
    });
    // The simplest input, then lowering 7 to 0 and 1: nothing else is simpler.
    assert_eq!(shrunk.env, env(&[7]));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn a_high_byte_shrinks_to_0x80() {
    let original = env(&[3, 9, 0xf3, 0x10, 0xff, 0]);
    let shrunk = run(&bytes_gen(0, 100), original, ROOMY, |e| {
        e["payload"].bytes().iter().any(|b| *b >= 0x80)
    });
    assert_eq!(shrunk.env, env(&[0x80]));
    // 121 one-byte inputs below 0x80 were never run: only locally minimal.
    assert_eq!(shrunk.end, LOCAL_BYTES);
}

#[test]
fn a_length_threshold_shrinks_to_that_many_zero_bytes() {
    let mut rng = Rng::new(5);
    let original: Vec<u8> = (0..1000).map(|_| rng.next_u64() as u8).collect();
    let shrunk = run(&bytes_gen(0, 1472), env(&original), ROOMY, |e| {
        e["payload"].bytes().len() >= 100
    });
    assert_eq!(shrunk.env, env(&[0; 100]));
    assert_eq!(shrunk.end, LOCAL_BYTES);
}

#[test]
fn a_byte_pair_in_a_long_input_is_found() {
    // Fails when the bytes "AB" appear together: the minimum is exactly those two bytes.
    let mut data = vec![b'.'; 300];
    data[200] = b'A';
    data[201] = b'B';
    let shrunk = run(&bytes_gen(0, 1472), env(&data), ROOMY, |e| {
        e["payload"].bytes().windows(2).any(|w| w == b"AB")
    });
    assert_eq!(shrunk.env, env(b"AB"));
    assert_eq!(shrunk.end, LOCAL_BYTES);
}

#[test]
fn the_probe_budget_ends_the_search_and_says_so() {
    let limits = Limits { probes: 3, ..ROOMY };
    let shrunk = run(
        &bytes_gen(0, 1472),
        env(&[0x55; 700]),
        limits,
        eight_byte_buffer_fails,
    );
    assert_eq!(shrunk.end, End::Budget);
    assert_eq!(shrunk.probes, 3);
    assert!(eight_byte_buffer_fails(&shrunk.env));
}

#[test]
fn the_time_safety_net_ends_the_search_and_says_so() {
    let limits = Limits {
        time: Duration::ZERO,
        ..ROOMY
    };
    let shrunk = run(&bytes_gen(0, 100), env(&[5; 20]), limits, |_| true);
    assert_eq!(shrunk.end, End::TimeCap);
    assert_eq!(shrunk.probes, 0);
}

#[test]
fn a_stop_from_the_probe_ends_the_search() {
    let mut probe = |_: &Env| Probe::<()>::Stop;
    let shrunk = shrink(&bytes_gen(0, 10), env(b"abc"), (), ROOMY, &mut probe);
    assert_eq!(shrunk.end, End::Stopped);
    assert_eq!(shrunk.probes, 1);
}

#[test]
fn pinned_values_never_change() {
    let generators = bytes_gen(0, 100);
    let mut original = env(&[9, 9, 9]);
    original.insert("fixed".into(), Value::Bytes(b"keep me".to_vec()));
    let shrunk = run(&generators, original, ROOMY, |e| {
        *e["fixed"].bytes() == *b"keep me" && e["payload"].bytes().contains(&9)
    });
    assert_eq!(shrunk.env["fixed"], Value::Bytes(b"keep me".to_vec()));
    assert_eq!(shrunk.env["payload"], Value::Bytes(vec![9]));
}

#[test]
fn several_values_shrink_together_in_shortlex_order() {
    let generators = BTreeMap::from([
        ("a".to_string(), Generator::Bytes { min: 0, max: 50 }),
        ("b".to_string(), Generator::Bytes { min: 0, max: 50 }),
    ]);
    let original = Env::from([
        ("a".to_string(), Value::Bytes(vec![1, 5, 200, 7])),
        ("b".to_string(), Value::Bytes(vec![40, 41, 42])),
    ]);
    let shrunk = run(&generators, original, ROOMY, |e| {
        e["a"].bytes().contains(&5) && !e["b"].bytes().is_empty()
    });
    assert_eq!(shrunk.env["a"], Value::Bytes(vec![5]));
    assert_eq!(shrunk.env["b"], Value::Bytes(vec![0]));
    assert_eq!(shrunk.end, LOCAL_BYTES);
}

pub(super) fn split_gen() -> BTreeMap<String, Generator> {
    BTreeMap::from([(
        "greeting".to_string(),
        Generator::Split {
            data: b"Hello World!\n".to_vec(),
            max_pieces: 13,
            max_pause: Duration::from_millis(50),
        },
    )])
}

pub(super) fn split_env(cuts: &[usize], pauses_ms: &[u64]) -> Env {
    Env::from([(
        "greeting".to_string(),
        Value::Split {
            data: b"Hello World!\n".to_vec(),
            cuts: cuts.to_vec(),
            pauses: pauses_ms
                .iter()
                .map(|m| Duration::from_millis(*m))
                .collect(),
        },
    )])
}

#[test]
fn a_split_shrinks_to_one_cut_at_the_first_byte_with_the_shortest_pause_that_fails() {
    // A reader that takes whatever one read returns fails when any pause is 10ms or more.
    let fails = |e: &Env| match &e["greeting"] {
        Value::Split { pauses, .. } => pauses.iter().any(|p| *p >= Duration::from_millis(10)),
        _ => false,
    };
    let original = split_env(&[2, 5, 6, 9, 12], &[0, 37, 3, 44, 12]);
    let shrunk = run(&split_gen(), original, ROOMY, fails);
    assert_eq!(shrunk.env, split_env(&[1], &[10]));
    assert_eq!(
        shrunk.end,
        End::Local {
            passes: Passes {
                splits: true,
                ..Passes::default()
            }
        }
    );
}

#[test]
fn the_same_failure_gives_the_same_probes() {
    let trace = || {
        let mut seen = Vec::new();
        let mut probe = |e: &Env| {
            seen.push(key(e));
            if eight_byte_buffer_fails(e) {
                Probe::Fail(())
            } else {
                Probe::Pass
            }
        };
        let mut data = vec![0u8; 30];
        data[17] = 0x99;
        let shrunk = shrink(&bytes_gen(0, 64), env(&data), (), ROOMY, &mut probe);
        (shrunk.env, seen)
    };
    assert_eq!(trace(), trace());
}

#[test]
fn shortlex_puts_length_before_values() {
    assert!(key(&env(&[0xff])) < key(&env(&[0, 0])));
    assert!(key(&env(&[0, 1])) < key(&env(&[1, 0])));
    assert!(key(&split_env(&[], &[])) < key(&split_env(&[5], &[0])));
    assert!(key(&split_env(&[5], &[0])) < key(&split_env(&[1], &[3])));
}

#[test]
fn a_failing_input_that_is_already_the_simplest_is_minimal_without_a_probe() {
    let shrunk = run(&bytes_gen(0, 100), env(b""), ROOMY, |_| true);
    assert_eq!(shrunk.end, End::Minimal);
    assert_eq!(shrunk.probes, 0);
}

fn has_crlf(e: &Env) -> bool {
    e["payload"].bytes().windows(2).any(|w| w == b"\r\n")
}

#[test]
fn a_crlf_in_the_middle_moves_to_the_end_of_the_shortest_length() {
    // 1001..2000 bytes with CR LF at 563: the shortlex minimum is 999 zero bytes, then
    // CR LF, which only a pass that moves bytes later can reach.
    let mut rng = Rng::new(8);
    let mut data: Vec<u8> = (0..1800).map(|_| rng.next_u64() as u8 | 0x40).collect();
    data[563] = b'\r';
    data[564] = b'\n';
    let shrunk = run(&bytes_gen(1001, 2000), env(&data), ROOMY, has_crlf);
    let mut expected = vec![0u8; 999];
    expected.extend_from_slice(b"\r\n");
    assert_eq!(shrunk.env, env(&expected));
    assert_eq!(shrunk.end, LOCAL_BYTES);
}

#[test]
fn a_crlf_anywhere_in_a_value_of_the_minimum_length_ends_at_its_end() {
    // Already as short as allowed: zeroing leaves the CR LF in place, and only moving it
    // makes the value simpler.
    let mut data = vec![0u8; 1001];
    data[10] = b'\r';
    data[11] = b'\n';
    let shrunk = run(&bytes_gen(1001, 2000), env(&data), ROOMY, has_crlf);
    let mut expected = vec![0u8; 999];
    expected.extend_from_slice(b"\r\n");
    assert_eq!(shrunk.env, env(&expected));
    // The first move (all the way) is the one that holds: one probe.
    assert!(shrunk.probes <= 40, "{}", shrunk.probes);
}

#[test]
fn a_byte_that_must_come_before_another_moves_only_as_far_as_the_failure_holds() {
    // Fails when a 0x80 byte is followed, anywhere later, by at least 3 more bytes.
    let fails = |e: &Env| {
        let b = e["payload"].bytes();
        b.iter()
            .position(|&x| x == 0x80)
            .is_some_and(|i| b.len() - i > 3)
    };
    let mut data = vec![0u8; 10];
    data[1] = 0x80;
    let shrunk = run(&bytes_gen(10, 10), env(&data), ROOMY, fails);
    let mut expected = vec![0u8; 10];
    expected[6] = 0x80;
    assert_eq!(shrunk.env, env(&expected));
}

#[test]
fn a_few_untried_simpler_inputs_are_run_to_prove_the_result_minimal() {
    // Two bytes at least; fails when the second is 5 or more. Lowering tries 0, 1, 3 and
    // 4; the proof runs the one left, [0, 2], and can then say minimal.
    let mut probed = Vec::new();
    let mut probe = |e: &Env| {
        probed.push(e["payload"].bytes().to_vec());
        if e["payload"].bytes()[1] >= 5 {
            Probe::Fail(())
        } else {
            Probe::Pass
        }
    };
    let shrunk = shrink(&bytes_gen(2, 2), env(&[9, 200]), (), ROOMY, &mut probe);
    assert_eq!(shrunk.env, env(&[0, 5]));
    assert_eq!(shrunk.end, End::Minimal);
    assert!(probed.contains(&vec![0, 2]), "{probed:?}");
}

#[test]
fn a_proof_that_finds_a_simpler_failure_goes_on_from_it() {
    // Fails for [0, 5] and for [0, 2] only: the passes stop at [0, 5] (4 passes, 3
    // passes) and the proof's own probe of [0, 2] fails, which is then shrunk further.
    let shrunk = run(&bytes_gen(2, 2), env(&[0, 5]), ROOMY, |e| {
        matches!(&*e["payload"].bytes(), [0, 5] | [0, 2])
    });
    assert_eq!(shrunk.env, env(&[0, 2]));
    assert_eq!(shrunk.end, End::Minimal);
}

#[test]
fn the_proof_stays_within_the_probe_budget() {
    let limits = Limits { probes: 4, ..ROOMY };
    let shrunk = run(&bytes_gen(2, 2), env(&[9, 200]), limits, |e| {
        e["payload"].bytes()[1] >= 5
    });
    assert_eq!(shrunk.end, End::Budget);
    assert_eq!(shrunk.probes, 4);
}

#[test]
fn the_simpler_inputs_of_a_one_byte_value_are_the_empty_one_and_the_smaller_bytes() {
    let simpler = super::proof::simpler_inputs(&bytes_gen(0, 10), &env(&[2]), 100).unwrap();
    assert_eq!(simpler, vec![env(b""), env(&[0]), env(&[1])]);
    assert!(super::proof::simpler_inputs(&bytes_gen(0, 10), &env(&[0, 0]), 100).is_none());
}
