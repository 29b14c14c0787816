//! Generated UDP cases with several requests in flight, for stateless datagram services.
//!
//! In: a windowable scenario (`connect`, `send`, `expect` with computed bytes), an open
//! session, the window size. Out: the same [`Fuzzed`] as sequential fuzzing. Replies are
//! matched to requests by content, so order does not matter. When a reply matches no request
//! in flight, or replies stop coming, the requests still in flight are replayed one at a time
//! to find the failing one, whose proptest value tree is then shrunk like any other failure
//! (proptest's `simplify`/`complicate`, one case at a time).

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::SetupError;
use super::case::{self, Opened, Session, Target};
use super::fuzz::{Fuzzed, generated, seed_bytes};
use super::options::RunOptions;
use crate::event::Failure;
use crate::generate;
use crate::spec::{Env, Expected, Scenario, Spec, Step, Value};
use crate::verdict::Mismatch;

type Tree = Box<dyn ValueTree<Value = Env>>;

struct InFlight {
    case: u64,
    tree: Tree,
}

#[allow(clippy::too_many_arguments)]
pub fn windowed(
    spec: &Spec,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    seed: u64,
    pinned: &std::collections::BTreeMap<String, Value>,
    replay_base: &str,
    window: usize,
    cases: u32,
) -> Result<Fuzzed, SetupError> {
    let within = case::default_within(spec, scenario, opts);
    let mut session = match case::open(scenario, target, opts)? {
        Opened::Ready(session) => session,
        Opened::NotReady(failure) => {
            return Ok(Fuzzed {
                cases: 0,
                failure: Some(failure),
                minimal: None,
            });
        }
    };
    let server = session
        .server()
        .ok_or_else(|| SetupError::Other("a windowed scenario needs a server address".into()))?;
    let (send, expected) = match scenario.steps.iter().map(|s| &s.value).collect::<Vec<_>>()[..] {
        [_, Step::Send(send), Step::Expect(expect)] => (&send.data, &expect.matcher),
        _ => {
            return Err(SetupError::Other(
                "this scenario cannot keep requests in flight".into(),
            ));
        }
    };
    let Expected::Bytes(reply) = expected else {
        return Err(SetupError::Other(
            "this scenario cannot keep requests in flight".into(),
        ));
    };
    let socket =
        UdpSocket::bind(SocketAddr::new(server.ip(), 0)).map_err(|e| SetupError::Bind {
            addr: server,
            source: e,
        })?;
    let _ = socket.set_read_timeout(Some(within));
    let strategy = generate::strategy(scenario, pinned);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
    );
    // Expected reply -> cases waiting for it, oldest first.
    let mut waiting: HashMap<Vec<u8>, VecDeque<InFlight>> = HashMap::new();
    let mut in_flight = 0usize;
    let mut sent = 0u64;
    let mut buf = vec![0u8; 65_536];
    let mut suspect: Option<Mismatch> = None;
    while sent < u64::from(cases) || in_flight > 0 {
        while in_flight < window && sent < u64::from(cases) {
            let tree = strategy
                .new_tree(&mut runner)
                .map_err(|e| SetupError::Other(format!("cannot generate a case: {e}")))?;
            let env = tree.current();
            sent += 1;
            if let Err(e) = socket.send_to(&send.eval(&env), server) {
                suspect = Some(Mismatch::new(format!(
                    "could not send a datagram to {server}: {e}"
                )));
                waiting
                    .entry(Vec::new())
                    .or_default()
                    .push_back(InFlight { case: sent, tree });
                in_flight += 1;
                break;
            }
            waiting
                .entry(reply.eval(&env))
                .or_default()
                .push_back(InFlight { case: sent, tree });
            in_flight += 1;
        }
        if suspect.is_some() {
            break;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let matched = (from == server)
                    .then(|| waiting.get_mut(&buf[..n]))
                    .flatten()
                    .and_then(VecDeque::pop_front);
                match matched {
                    Some(_) => in_flight -= 1,
                    None => {
                        suspect = Some(
                            Mismatch::new(format!(
                                "a {n}-byte reply from {from} matched none of the {in_flight} request(s) in flight"
                            ))
                            .bytes(b"", &buf[..n]),
                        );
                        break;
                    }
                }
            }
            Err(_) => {
                suspect = Some(Mismatch::new(format!(
                    "no reply within {}ms with {in_flight} request(s) in flight",
                    within.as_millis()
                )));
                break;
            }
        }
    }
    let Some(suspect) = suspect else {
        session.close(opts.grace, false);
        return Ok(Fuzzed {
            cases: sent,
            failure: None,
            minimal: None,
        });
    };
    drop(socket);
    // Replay what was in flight one at a time, oldest first, to find the failing input.
    let mut pending: Vec<InFlight> = waiting.into_values().flatten().collect();
    pending.sort_by_key(|f| f.case);
    let mut ran = sent;
    for flight in pending {
        let env = flight.tree.current();
        ran += 1;
        if let Some(failure) = play(&mut session, scenario, target, opts, within, &env)? {
            let original = env.clone();
            let (env, mut failure, steps) = shrink(
                &mut session,
                scenario,
                target,
                opts,
                within,
                flight.tree,
                failure,
                &mut ran,
            )?;
            failure.generated = Some(generated(
                seed,
                flight.case,
                &original,
                &env,
                steps,
                replay_base,
                scenario,
            ));
            let report = session.close(opts.grace, true);
            if failure.program.is_none() {
                failure.program = report;
            }
            return Ok(Fuzzed {
                cases: ran,
                failure: Some(failure),
                minimal: Some(env),
            });
        }
    }
    // Every request passes on its own: the fault shows only with several in flight.
    let report = session.close(opts.grace, true);
    Ok(Fuzzed {
        cases: ran,
        failure: Some(Failure {
            step: None,
            mismatches: vec![suspect.hint(format!(
                "each request in flight passes when sent alone; with {window} in flight the replies went wrong (drop `window` to test one at a time)"
            ))],
            program: report,
            generated: None,
            wire: None,
        }),
        minimal: None,
    })
}

/// One case, one at a time, restarting the program if it died.
fn play(
    session: &mut Session,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    within: Duration,
    env: &Env,
) -> Result<Option<Failure>, SetupError> {
    if session.program_ended() {
        let fresh = match case::open(scenario, target, opts)? {
            Opened::Ready(s) => s,
            Opened::NotReady(failure) => return Ok(Some(failure)),
        };
        let old = std::mem::replace(session, fresh);
        old.close(opts.grace, false);
    }
    // Replies to the requests that were in flight may still be on their way: a fresh socket
    // per replayed case keeps them from being taken for this case's reply.
    session.forget_spares();
    Ok(case::play(
        session,
        scenario,
        within,
        env,
        &mut |_, _, _| {},
    ))
}

/// Shrinks a failing value tree with proptest's own simplify/complicate protocol, running
/// each candidate once; returns the smallest failing values, their failure and the steps.
#[allow(clippy::too_many_arguments)]
fn shrink(
    session: &mut Session,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    within: Duration,
    mut tree: Tree,
    first: Failure,
    ran: &mut u64,
) -> Result<(Env, Failure, u64), SetupError> {
    let started = Instant::now();
    let mut best = (tree.current(), first);
    let mut steps = 0u64;
    if !tree.simplify() {
        return Ok((best.0, best.1, 0));
    }
    while steps < 1024 && started.elapsed() < opts.shrink_time {
        steps += 1;
        *ran += 1;
        let env = tree.current();
        match play(session, scenario, target, opts, within, &env)? {
            Some(failure) => {
                best = (env, failure);
                if !tree.simplify() {
                    break;
                }
            }
            None => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    Ok((best.0, best.1, steps))
}
