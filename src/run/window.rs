//! Generated UDP cases with several requests in flight, for stateless datagram services.
//!
//! In: a windowable scenario (`connect`, `send`, `expect` with computed bytes), an open
//! session, the window size. Out: the same [`Fuzzed`] as sequential fuzzing. Replies are
//! matched to requests by content, so order does not matter. When a reply matches no request
//! in flight, or replies stop coming, the requests still in flight are replayed one at a time
//! to find the failing one, which is then shrunk by the same search as sequential cases.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::SetupError;
use super::case::{self, Opened, Session, Target};
use super::fuzz::{Found, Fuzzed, settle};
use super::options::RunOptions;
use crate::event::Failure;
use crate::generate::{self, Rng};
use crate::spec::{Env, Expected, Scenario, Spec, Step, Value};
use crate::verdict::Mismatch;

/// A fast, non-cryptographic hash for the map of replies in flight (FxHash's
/// multiply-rotate): the keys are conform's own requests' replies, so there is no adversary to
/// resist, and SipHash cost a measurable share of a 64-request window.
#[derive(Default, Clone, Copy)]
struct Fast;

impl std::hash::BuildHasher for Fast {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

struct InFlight {
    case: u64,
    env: Env,
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
                cut_short: None,
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
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    // Expected reply -> cases waiting for it, oldest first. A reply's entry goes when its
    // last case is answered, so the map holds what is in flight, not every reply ever sent.
    let mut waiting: HashMap<Vec<u8>, VecDeque<InFlight>, Fast> = HashMap::default();
    let mut in_flight = 0usize;
    let mut sent = 0u64;
    let mut buf = vec![0u8; 65_536];
    let mut suspect: Option<Mismatch> = None;
    let budget = super::fuzz::budget(scenario, opts);
    let mut planned = u64::from(cases);
    let mut cut_short = None;
    while sent < planned || in_flight > 0 {
        while in_flight < window && sent < planned {
            // The clock is read every 256 requests, not for each: at this rate a reading
            // would cost a noticeable share of a round trip.
            if sent % 256 == 255 && started.elapsed() >= budget {
                cut_short = Some(crate::event::CutShort { planned, budget });
                planned = sent;
                break;
            }
            let env = generate::case(&mut rng, scenario, pinned);
            sent += 1;
            if let Err(e) = socket.send_to(&send.eval(&env), server) {
                suspect = Some(Mismatch::new(format!(
                    "could not send a datagram to {server}: {e}"
                )));
                waiting
                    .entry(Vec::new())
                    .or_default()
                    .push_back(InFlight { case: sent, env });
                in_flight += 1;
                break;
            }
            waiting
                .entry(reply.eval(&env))
                .or_default()
                .push_back(InFlight { case: sent, env });
            in_flight += 1;
        }
        if suspect.is_some() {
            break;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let reply = &buf[..n];
                let matched = match waiting.get_mut(reply) {
                    Some(queue) if from == server => {
                        let first = queue.pop_front();
                        if queue.is_empty() {
                            waiting.remove(reply);
                        }
                        first
                    }
                    _ => None,
                };
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
            cut_short,
        });
    };
    drop(socket);
    // Replay what was in flight one at a time, oldest first, to find the failing input.
    let mut pending: Vec<InFlight> = waiting.into_values().flatten().collect();
    pending.sort_by_key(|f| f.case);
    let mut ran = sent;
    for flight in pending {
        ran += 1;
        let Some(failure) = play(&mut session, scenario, target, opts, within, &flight.env)? else {
            continue;
        };
        let found = Found {
            case: flight.case,
            elapsed: started.elapsed(),
            env: flight.env,
            failure,
            reproduced: true,
        };
        let mut setup = None;
        let settled = settle(scenario, pinned, opts, found, &mut |env| {
            if crate::cleanup::is_interrupted() {
                return Err(());
            }
            ran += 1;
            play(&mut session, scenario, target, opts, within, env).map_err(|e| {
                setup = Some(e);
            })
        });
        if let Some(e) = setup {
            session.close(opts.grace, false);
            return Err(e);
        }
        let (minimal, mut failure) = settled.finish(seed, replay_base, scenario);
        let report = session.close(opts.grace, true);
        if failure.program.is_none() {
            failure.program = report;
        }
        return Ok(Fuzzed {
            cases: ran,
            failure: Some(failure),
            minimal,
            cut_short: None,
        });
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
        cut_short: None,
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
