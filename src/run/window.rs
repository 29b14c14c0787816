//! A feeder of generated UDP cases with several requests in flight, for stateless datagram
//! services.
//!
//! In: a [`Ctx`], the [`WindowPlan`] the loader checked (what each request sends and the reply
//! it must get), the window size. Out: the same [`Fuzzed`] as the sequential feeder. Replies
//! are matched to requests by content, so order does not matter. When a reply matches no
//! request in flight, or replies stop coming, the requests still in flight are replayed one at
//! a time through the [`Executor`] (so the steps run exactly as the sequential path runs them,
//! faults and wire log included) to find the failing one, which is then shrunk by the same
//! search as sequential cases.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use super::SetupError;
use super::exec::{Ctx, Executor};
use super::feed::{Feed, Fuzzed};
use super::settle::{Found, settle};
use crate::drive::window::Window;
use crate::event::{CutShort, Failure};
use crate::input::generate::{self, Rng};
use crate::spec::window::WindowPlan;
use crate::spec::{Env, Lifecycle};
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

/// Requests sent between two looks at the clock and at Ctrl-C: at this rate a look per
/// request would cost a noticeable share of a round trip.
const LOOK_EVERY: u64 = 256;

/// Expected reply -> cases waiting for it, oldest first. A reply's entry goes when its last
/// case is answered, so the map holds what is in flight, not every reply ever sent.
type Waiting = HashMap<Vec<u8>, VecDeque<InFlight>, Fast>;

/// What the in-flight phase ended with.
pub(super) struct Flight {
    pub(super) sent: u64,
    waiting: Waiting,
    /// The first wrong or missing reply, or a failed send.
    pub(super) suspect: Option<Mismatch>,
    cut_short: Option<CutShort>,
}

pub(super) fn windowed(
    ctx: Ctx<'_>,
    feed: &Feed<'_>,
    plan: &WindowPlan,
    window: usize,
) -> Result<Fuzzed, SetupError> {
    let mut executor = Executor::new(ctx, Lifecycle::Scenario);
    let server = match executor.session()? {
        Ok(session) => session.server(),
        Err(failure) => {
            return Ok(Fuzzed {
                cases: 0,
                failure: Some(failure),
                minimal: None,
                cut_short: None,
                window: None,
            });
        }
    };
    let server = server.ok_or_else(|| {
        SetupError::Target("a windowed scenario needs a server to send to".into())
    })?;
    let mut socket = Window::open(server).map_err(|source| SetupError::Bind {
        addr: server,
        source,
    })?;
    let started = Instant::now();
    let flight = keep_in_flight(ctx, feed, plan, window, &mut socket);
    drop(socket);
    let Some(suspect) = flight.suspect else {
        executor.close(false);
        return Ok(Fuzzed {
            cases: flight.sent,
            failure: None,
            minimal: None,
            cut_short: flight.cut_short,
            window: Some(window),
        });
    };
    if crate::os::cleanup::is_interrupted() {
        executor.close(false);
        return Ok(Fuzzed {
            cases: flight.sent,
            failure: None,
            minimal: None,
            cut_short: None,
            window: Some(window),
        });
    }
    if let Some(fuzzed) = replay_alone(
        &mut executor,
        feed,
        flight.waiting,
        flight.sent,
        window,
        started,
    )? {
        return Ok(fuzzed);
    }
    // Every request passes on its own: the fault shows only with several in flight.
    let report = executor.close(true);
    Ok(Fuzzed {
        cases: flight.sent,
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
        window: Some(window),
    })
}

/// Replays what was in flight one at a time, oldest first, to find the failing input, and
/// settles it; `None` when every request passes alone.
fn replay_alone(
    executor: &mut Executor<'_>,
    feed: &Feed<'_>,
    waiting: Waiting,
    sent: u64,
    window: usize,
    started: Instant,
) -> Result<Option<Fuzzed>, SetupError> {
    let ctx = executor.ctx();
    let mut pending: Vec<InFlight> = waiting.into_values().flatten().collect();
    pending.sort_by_key(|f| f.case);
    for flight_case in pending {
        // Replies to the requests that were in flight may still be on their way: a fresh
        // socket per replayed case keeps them from being taken for this case's reply.
        executor.forget_spares();
        let Some(failure) = executor.case(&flight_case.env, &mut |_, _, _| {})? else {
            continue;
        };
        let found = Found {
            case: flight_case.case,
            elapsed: started.elapsed(),
            env: flight_case.env,
            failure,
            reproduced: true,
        };
        let mut setup = None;
        let settled = settle(ctx.scenario, feed.pinned, ctx.opts, found, &mut |env| {
            if crate::os::cleanup::is_interrupted() {
                return Err(());
            }
            executor.forget_spares();
            executor
                .case(env, &mut |_, _, _| {})
                .map_err(|e| setup = Some(e))
        });
        let report = executor.close(true);
        if let Some(e) = setup {
            return Err(e);
        }
        let (minimal, mut failure) = settled.finish(feed, ctx.scenario);
        if failure.program.is_none() {
            failure.program = report;
        }
        return Ok(Some(Fuzzed {
            cases: sent,
            failure: Some(failure),
            minimal,
            cut_short: None,
            window: Some(window),
        }));
    }
    Ok(None)
}

/// Sends requests, keeping `window` in flight, until the planned cases are answered or a
/// reply is wrong or late.
pub(super) fn keep_in_flight(
    ctx: Ctx<'_>,
    feed: &Feed<'_>,
    plan: &WindowPlan,
    window: usize,
    socket: &mut Window,
) -> Flight {
    // The `expect` step's own deadline, as the sequential path would wait.
    let within = plan.within.unwrap_or(ctx.within);
    let server = socket.server();
    let budget = super::feed::budget(ctx.scenario, ctx.opts);
    let started = Instant::now();
    let mut rng = Rng::new(feed.seed);
    let mut flight = Flight {
        sent: 0,
        waiting: Waiting::default(),
        suspect: None,
        cut_short: None,
    };
    let mut planned = u64::from(feed.planned);
    let mut in_flight = 0usize;
    while flight.sent < planned || in_flight > 0 {
        while in_flight < window && flight.sent < planned {
            if flight.sent % LOOK_EVERY == LOOK_EVERY - 1 {
                if crate::os::cleanup::is_interrupted() {
                    flight.suspect = Some(Mismatch::new("interrupted"));
                    return flight;
                }
                if started.elapsed() >= budget {
                    flight.cut_short = Some(CutShort { planned, budget });
                    planned = flight.sent;
                    break;
                }
            }
            let env = generate::case(&mut rng, ctx.scenario, feed.pinned);
            flight.sent += 1;
            let mut request = plan.send.eval(&env);
            if let Some(keep) = plan.truncate {
                request.truncate(keep);
            }
            let sent = socket.send(&request);
            let expected = if sent.is_ok() {
                plan.reply.eval(&env)
            } else {
                Vec::new()
            };
            flight
                .waiting
                .entry(expected)
                .or_default()
                .push_back(InFlight {
                    case: flight.sent,
                    env,
                });
            in_flight += 1;
            if let Err(m) = sent {
                flight.suspect = Some(m);
                return flight;
            }
        }
        if in_flight == 0 {
            break;
        }
        let Some((reply, from)) = socket.receive(within) else {
            flight.suspect = Some(Mismatch::new(format!(
                "no reply within {}ms with {in_flight} request(s) in flight",
                within.as_millis()
            )));
            return flight;
        };
        let matched = match flight.waiting.get_mut(reply) {
            Some(queue) if from == server => {
                let first = queue.pop_front();
                if queue.is_empty() {
                    flight.waiting.remove(reply);
                }
                first
            }
            _ => None,
        };
        if matched.is_none() {
            let n = reply.len();
            flight.suspect = Some(
                Mismatch::new(format!(
                    "a {n}-byte reply from {from} matched none of the {in_flight} request(s) in flight"
                ))
                .bytes(b"", reply),
            );
            return flight;
        }
        in_flight -= 1;
    }
    flight
}
