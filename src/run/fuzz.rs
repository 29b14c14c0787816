//! Generated scenarios: many cases with proptest, and shrinking of a failure to the smallest
//! input that still fails, against the live program.
//!
//! In: a scenario with `generate`, a target, options and a seed. Out: how many cases ran and,
//! on failure, the [`Failure`] of the minimal case with the original and minimal inputs and
//! a command line that replays it. proptest drives generation and shrinking; this module
//! only keeps the program running (or restarts it) between cases.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use super::SetupError;
use super::case::{self, Opened, Session, Target};
use super::options::{DEFAULT_CASES, RunOptions};
use crate::event::{Failure, Generated};
use crate::generate;
use crate::spec::data::decode_value;
use crate::spec::{Env, Generator, Lifecycle, Role, Scenario, Spec, Value};

/// Shrinking stops after this many attempts (or `--shrink-time`), so a slow program cannot
/// stretch a run forever.
const MAX_SHRINK_ITERS: u32 = 1024;

pub struct Fuzzed {
    pub cases: u64,
    pub failure: Option<Failure>,
    /// The values of the minimal failing case.
    pub minimal: Option<Env>,
}

/// Resolves `--with NAME=VALUE` for this scenario (names it does not generate are ignored:
/// the flag applies to every selected scenario).
pub fn overrides(
    scenario: &Scenario,
    with: &[(String, String)],
) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    for (name, text) in with {
        if let Some(g) = scenario.generate.get(name) {
            let base = match &g.value {
                Generator::Split { data, .. } => Some(data.as_slice()),
                Generator::Bytes { .. } => None,
            };
            let value =
                decode_value(text, base).map_err(|e| format!("--with {name}={text}: {e}"))?;
            out.insert(name.clone(), value);
        }
    }
    Ok(out)
}

struct State<'a> {
    session: Option<Session>,
    setup: Option<SetupError>,
    ran: u64,
    first_fail: Option<(u64, Env)>,
    last_fail: Option<(Env, Failure)>,
    progress: Option<&'a mut dyn FnMut(u64, bool)>,
}

#[allow(clippy::too_many_arguments)]
pub fn fuzz(
    spec: &Spec,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    seed: u64,
    pinned: &BTreeMap<String, Value>,
    replay_base: &str,
    progress: Option<&mut dyn FnMut(u64, bool)>,
) -> Result<Fuzzed, SetupError> {
    // A client under test runs once per case by nature: it is the one that starts talking.
    // The in-process reference is a careful server that serves any number of clients, so it
    // is started once whatever the spec says.
    let lifecycle = match (scenario.role, target) {
        (Role::Client, _) => Lifecycle::Case,
        (Role::Server, Target::Reference) => Lifecycle::Scenario,
        (Role::Server, _) => opts.lifecycle.unwrap_or(scenario.lifecycle),
    };
    let cases = if generate::all_pinned(scenario, pinned) {
        1
    } else {
        opts.cases
            .or(scenario.cases.as_ref().map(|c| c.value))
            .unwrap_or(DEFAULT_CASES)
    };
    let within = case::default_within(spec, scenario, opts);
    let strategy = generate::strategy(scenario, pinned);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: MAX_SHRINK_ITERS,
        max_shrink_time: opts.shrink_time.as_millis().try_into().unwrap_or(u32::MAX),
        max_global_rejects: 0,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let seed_bytes = seed_bytes(seed);
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let state = RefCell::new(State {
        session: None,
        setup: None,
        ran: 0,
        first_fail: None,
        last_fail: None,
        progress,
    });
    let outcome = runner.run(&strategy, |env| {
        let mut st = state.borrow_mut();
        if st.setup.is_some() {
            return Err(TestCaseError::fail("conform could not run the case"));
        }
        st.ran += 1;
        let failure = one_case(&mut st, scenario, target, opts, lifecycle, within, &env);
        let failed = failure.is_some();
        let ran = st.ran;
        if let Some(progress) = st.progress.as_mut() {
            progress(ran, failed);
        }
        match failure {
            None => Ok(()),
            Some(f) => {
                if st.first_fail.is_none() {
                    st.first_fail = Some((st.ran, env.clone()));
                }
                st.last_fail = Some((env, f));
                Err(TestCaseError::fail("the case failed"))
            }
        }
    });
    let mut st = state.into_inner();
    let leftover = st
        .session
        .take()
        .map(|s| s.close(opts.grace, st.last_fail.is_some()));
    if let Some(e) = st.setup {
        return Err(e);
    }
    let mut minimal_env = None;
    let failure = match outcome {
        Ok(()) => None,
        Err(TestError::Abort(reason)) => {
            return Err(SetupError::Other(format!(
                "generating cases stopped: {reason}"
            )));
        }
        Err(TestError::Fail(_, minimal)) => {
            let (first_case, original) = st.first_fail.take().unwrap_or((0, minimal.clone()));
            let (env, mut failure) = st
                .last_fail
                .take()
                .unwrap_or_else(|| (minimal.clone(), Failure::default()));
            if failure.program.is_none() {
                failure.program = leftover.flatten();
            }
            failure.generated = Some(generated(
                seed,
                first_case,
                &original,
                &env,
                st.ran - first_case,
                replay_base,
                scenario,
            ));
            minimal_env = Some(env);
            Some(failure)
        }
    };
    Ok(Fuzzed {
        cases: st.ran,
        failure,
        minimal: minimal_env,
    })
}

/// What a failure report says about generated inputs: both cases, how far shrinking got,
/// and the command that replays the minimal case. Shared with the windowed runner.
pub fn generated(
    seed: u64,
    case: u64,
    original: &Env,
    minimal: &Env,
    shrink_steps: u64,
    replay_base: &str,
    scenario: &Scenario,
) -> Generated {
    Generated {
        seed,
        case,
        original: describe(original),
        minimal: describe(minimal),
        shrink_steps,
        replay: replay(replay_base, scenario, seed, minimal),
        saved: None,
    }
}

/// The values of a case as `(name, description)` pairs, for reports.
fn describe(env: &Env) -> Vec<(String, String)> {
    env.iter().map(|(k, v)| (k.clone(), v.describe())).collect()
}

/// Runs one case, starting or restarting the program as its lifecycle says.
fn one_case(
    st: &mut State<'_>,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    lifecycle: Lifecycle,
    within: Duration,
    env: &Env,
) -> Option<Failure> {
    // A persistent program that died (perhaps on the previous input) is started again.
    if let Some(session) = st.session.as_mut()
        && (lifecycle == Lifecycle::Case || session.program_ended())
    {
        let old = st.session.take();
        old.map(|s| s.close(opts.grace, false));
    }
    if st.session.is_none() {
        match case::open(scenario, target, opts) {
            Ok(Opened::Ready(session)) => st.session = Some(session),
            Ok(Opened::NotReady(failure)) => return Some(failure),
            Err(e) => {
                st.setup = Some(e);
                return Some(Failure::default());
            }
        }
    }
    let session = st.session.as_mut()?;
    let failure = case::play(session, scenario, within, env, &mut |_, _, _| {});
    let ended = lifecycle == Lifecycle::Case || (failure.is_some() && session.program_ended());
    if !ended {
        return failure;
    }
    let report = st
        .session
        .take()
        .and_then(|s| s.close(opts.grace, failure.is_some()));
    failure.map(|mut f| {
        f.program = report;
        f
    })
}

/// The 32-byte proptest seed for a run seed.
pub fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    bytes
}

/// A shell-quoted word.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%{}".contains(&b))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command line that replays one case.
fn replay(base: &str, scenario: &Scenario, seed: u64, env: &Env) -> String {
    let mut line = format!(
        "{base} --filter {} --seed {seed}",
        quote(&format!("name:{}", scenario.name.value))
    );
    for (name, value) in env {
        line.push_str(&format!(
            " --with {}",
            quote(&format!("{name}={}", value.encode()))
        ));
    }
    line
}

/// Seeds for each generated scenario of a run derive from the run's seed, so one number
/// replays the whole run.
pub fn scenario_seed(run_seed: u64, index: usize) -> u64 {
    // SplitMix64: distinct, well-mixed seeds for consecutive indexes.
    let mut z = run_seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random seed when the user gave none.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    scenario_seed(
        nanos ^ u64::from(std::process::id()),
        Instant::now().elapsed().as_nanos() as usize,
    )
}
