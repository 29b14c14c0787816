//! The executor and the window feeder against scripted peers: UDP sockets in a thread that
//! answer as each test says, reached as a `--connect` address, so no program runs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use super::exec::{Ctx, Executor};
use super::feed::Feed;
use super::options::RunOptions;
use super::window;
use crate::plan::Target;
use crate::spec::{self, Env, Lifecycle, Spec, Value};

const SPEC: &str = "\
scenarios:
  - name: reverse
    role: server
    transport: udp
    generate:
      payload: {bytes: {length: 8}}
    steps:
      - connect
      - send: {var: payload}
      - expect: {reverse: payload, within: 150ms}
  - name: reverse truncated
    role: server
    transport: udp
    window: 8
    generate:
      payload: {bytes: {length: 8}}
    steps:
      - connect
      - send: {var: payload, truncate: 4}
      - expect: {reverse: payload, within: 150ms}
";

/// A UDP peer that answers each datagram with `answer(datagram)` (nothing for `None`), and
/// reports every datagram it got; it stops after `limit` datagrams or 5 s of quiet.
fn scripted(
    limit: usize,
    answer: fn(&[u8]) -> Option<Vec<u8>>,
) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..limit {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                return;
            };
            let _ = tx.send(buf[..n].to_vec());
            if let Some(reply) = answer(&buf[..n]) {
                let _ = socket.send_to(&reply, from);
            }
        }
    });
    (addr, rx)
}

fn reversed(bytes: &[u8]) -> Option<Vec<u8>> {
    Some(bytes.iter().rev().copied().collect())
}

fn env(payload: &[u8]) -> Env {
    let mut env = Env::new();
    env.insert("payload".into(), Value::Bytes(payload.to_vec()));
    env
}

fn spec() -> Spec {
    spec::load_str("scripted.yaml", SPEC).unwrap()
}

#[test]
fn a_case_against_a_correct_peer_passes() {
    let spec = spec();
    let (addr, got) = scripted(1, reversed);
    let target = Target::Address(addr);
    let opts = RunOptions::default();
    let scenario = &spec.file.scenarios[0].value;
    let mut executor = Executor::new(Ctx::new(&spec, scenario, &target, &opts), Lifecycle::Case);
    let failure = executor.case(&env(b"12345678"), &mut |_, _, _| {}).unwrap();
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(got.recv().unwrap(), b"12345678");
}

#[test]
fn a_wrong_answer_fails_at_the_expect_step_with_the_bytes() {
    let spec = spec();
    let (addr, _got) = scripted(1, |b| Some(b.to_vec()));
    let target = Target::Address(addr);
    let opts = RunOptions::default();
    let scenario = &spec.file.scenarios[0].value;
    let mut executor = Executor::new(Ctx::new(&spec, scenario, &target, &opts), Lifecycle::Case);
    let failure = executor
        .case(&env(b"12345678"), &mut |_, _, _| {})
        .unwrap()
        .expect("an echo is not a reversal");
    assert_eq!(failure.step.as_ref().map(|s| s.index), Some(3));
    assert_eq!(
        failure.mismatches[0].actual.as_deref(),
        Some(&b"12345678"[..])
    );
    // The failing case's wire log goes with it.
    assert!(failure.wire.is_some());
}

#[test]
fn every_step_is_observed_in_order() {
    let spec = spec();
    let (addr, _got) = scripted(1, reversed);
    let target = Target::Address(addr);
    let opts = RunOptions::default();
    let scenario = &spec.file.scenarios[0].value;
    let mut executor = Executor::new(Ctx::new(&spec, scenario, &target, &opts), Lifecycle::Case);
    let mut seen = Vec::new();
    executor
        .case(&env(b"abcdefgh"), &mut |step, passed, _| {
            seen.push((step.keyword, passed))
        })
        .unwrap();
    assert_eq!(seen, [("connect", true), ("send", true), ("expect", true)]);
}

fn feed(pinned: &std::collections::BTreeMap<String, Value>, planned: u32) -> Feed<'_> {
    Feed {
        seed: 7,
        pinned,
        replay_base: "conform run scripted.yaml".into(),
        planned,
        replay_dir: None,
    }
}

#[test]
fn the_window_sends_what_the_plan_says_and_replays_a_failure_alone() {
    let spec = spec();
    // Reverses whatever it gets: the truncated 4 bytes come back as 4.
    let (addr, got) = scripted(64, reversed);
    let target = Target::Address(addr);
    let opts = RunOptions::default();
    let scenario = &spec.file.scenarios[1].value;
    let plan = spec::window::window_plan(scenario).unwrap();
    let pinned = Default::default();
    let fuzzed = window::windowed(
        Ctx::new(&spec, scenario, &target, &opts),
        &feed(&pinned, 16),
        &plan,
        8,
    )
    .unwrap();
    assert_eq!(fuzzed.window, Some(8));
    let failure = fuzzed
        .failure
        .expect("a truncated request gets a short reply");
    // Found in the window, then replayed through the ordinary path, which names the step.
    assert_eq!(failure.step.as_ref().map(|s| s.index), Some(3));
    let first = got.recv().unwrap();
    assert_eq!(first.len(), 4, "the window honours `truncate`");
}

#[test]
fn the_window_waits_as_long_as_the_expect_step_says() {
    let spec = spec();
    let (addr, _got) = scripted(64, |_| None);
    let target = Target::Address(addr);
    let opts = RunOptions {
        timeout: Duration::from_secs(60),
        ..RunOptions::default()
    };
    let scenario = &spec.file.scenarios[1].value;
    let mut plan = spec::window::window_plan(scenario).unwrap();
    plan.truncate = None;
    let pinned = Default::default();
    let mut socket = crate::drive::window::Window::open(addr).unwrap();
    let flight = window::keep_in_flight(
        Ctx::new(&spec, scenario, &target, &opts),
        &feed(&pinned, 8),
        &plan,
        8,
        &mut socket,
    );
    let suspect = flight.suspect.expect("a silent peer");
    assert_eq!(
        suspect.summary,
        "no reply within 150ms with 8 request(s) in flight"
    );
}
