//! Running one case of a scenario: start the program, play the steps, stop the program.
//!
//! In: a scenario, a [`Target`] and the run's options. Out: a [`Verdict`] with the failing
//! step and the program's ending, or a [`SetupError`] when conform itself could not proceed.

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde_saphyr::Spanned;

use super::SetupError;
use super::options::RunOptions;
use super::start::{self, Started};
use crate::drive::program::Program;
use crate::drive::tcp::{TcpPeer, io_reason};
use crate::drive::udp::{Received, UdpPeer};
use crate::event::{Failure, StepRef};
use crate::spec::{Expect, ExpectOutput, Scenario, Spec, Step, Transport};
use crate::verdict::{Expectation, Mismatch, Progress, judge_datagram, judge_output};

/// How long a failed case waits for the program to end by itself before stopping it.
const SETTLE: Duration = Duration::from_millis(300);

/// What a scenario runs against, decided by the plan.
#[derive(Debug, Clone)]
pub enum Target {
    Reference,
    Program(Vec<String>),
    Address(SocketAddr),
}

enum Conn {
    Tcp(TcpPeer),
    Udp(UdpPeer),
    Closed,
}

struct Case<'a> {
    scenario: &'a Scenario,
    default_within: Duration,
    program: Program,
    /// Where the server under test listens (server role).
    server: Option<SocketAddr>,
    /// conform's listener for a TCP client under test.
    listener: Option<TcpListener>,
    conns: Vec<(String, Conn)>,
}

/// Runs the scenario once. `Ok(None)` is a pass.
pub fn run(
    spec: &Spec,
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
    observe: &mut dyn FnMut(StepRef, bool, Duration),
) -> Result<Option<Failure>, SetupError> {
    let started = start::start(scenario, target, opts)?;
    let (program, server, listener, udp) = match started {
        Started::Ready {
            program,
            server,
            listener,
            udp,
        } => (program, server, listener, udp),
        Started::NotReady { failure } => return Ok(Some(failure)),
    };
    let default_within = scenario
        .timeout
        .or(spec.file.timeout)
        .map_or(opts.timeout, |d| d.get());
    let mut case = Case {
        scenario,
        default_within,
        program,
        server,
        listener,
        conns: Vec::new(),
    };
    if let Some(socket) = udp {
        case.conns
            .push(("main".into(), Conn::Udp(UdpPeer::for_client(socket))));
    }
    let mut failure = None;
    for (index, step) in scenario.steps.iter().enumerate() {
        let began = Instant::now();
        let result = case.step(&step.value);
        observe(step_ref(index, step), result.is_ok(), began.elapsed());
        if let Err(mismatches) = result {
            failure = Some(Failure {
                step: Some(step_ref(index, step)),
                mismatches,
                program: None,
            });
            break;
        }
    }
    // Close conform's sockets first: a server waiting on its client then sees EOF and can
    // end by itself instead of being killed.
    case.conns.clear();
    if failure.is_some() {
        // A program that is crashing right now should be reported as crashed, not as
        // stopped by conform: give it a moment to finish on its own.
        case.program.wait_exit(Instant::now() + SETTLE);
    }
    let report = case.program.stop(opts.grace);
    Ok(failure.map(|mut f| {
        f.program = report;
        f
    }))
}

fn step_ref(index: usize, step: &Spanned<Step>) -> StepRef {
    StepRef {
        index: index + 1,
        keyword: step.value.keyword(),
        line: step.referenced.line(),
        column: step.referenced.column(),
    }
}

type StepResult = Result<(), Vec<Mismatch>>;

fn one(m: Mismatch) -> Vec<Mismatch> {
    vec![m]
}

impl Case<'_> {
    fn within(&self, explicit: Option<crate::spec::Dur>) -> Duration {
        explicit.map_or(self.default_within, |d| d.get())
    }

    fn step(&mut self, step: &Step) -> StepResult {
        match step {
            Step::Connect(open) => self.connect(open.name.clone(), self.within(open.within)),
            Step::Accept(open) => self.accept(open.name.clone(), self.within(open.within)),
            Step::Send(send) => match self.conn(send.on.as_deref())? {
                Conn::Tcp(peer) => peer.send(&send.data).map_err(one),
                Conn::Udp(peer) => peer.send(&send.data).map_err(one),
                Conn::Closed => Err(one(closed())),
            },
            Step::Expect(expect) => self.expect(expect),
            Step::ExpectEof(wait) => {
                let within = self.within(wait.within);
                self.expect_stream(wait.on.as_deref(), &[(Expectation::Eof, within)])
            }
            Step::ExpectReset(wait) => {
                let within = self.within(wait.within);
                self.expect_stream(wait.on.as_deref(), &[(Expectation::Reset, within)])
            }
            Step::ExpectSilence(silence) => {
                let quiet = silence.duration.get();
                match self.conn(silence.on.as_deref())? {
                    Conn::Udp(peer) => peer.expect_silence(quiet).map_err(one),
                    _ => self.expect_stream(
                        silence.on.as_deref(),
                        &[(Expectation::Silence(quiet), quiet)],
                    ),
                }
            }
            Step::ExpectOneOf(branches) => self.expect_one_of(branches),
            Step::Close(on) => {
                let conn = self.conn(on.on.as_deref())?;
                if let Conn::Tcp(peer) = conn {
                    peer.close();
                }
                *conn = Conn::Closed;
                Ok(())
            }
            Step::Pause(d) => {
                std::thread::sleep(d.get());
                Ok(())
            }
            Step::ExpectExit(exit) => {
                self.expect_exit(exit.code.unwrap_or(0), self.within(exit.within))
            }
            Step::ExpectStdout(out) => self.expect_output(out, false),
            Step::ExpectStderr(out) => self.expect_output(out, true),
        }
    }

    /// The named connection, or the most recent one.
    fn conn(&mut self, on: Option<&str>) -> Result<&mut Conn, Vec<Mismatch>> {
        find(&mut self.conns, on)
    }

    fn name(&self, name: Option<String>) -> String {
        name.unwrap_or_else(|| format!("#{}", self.conns.len() + 1))
    }

    fn connect(&mut self, name: Option<String>, within: Duration) -> StepResult {
        let Some(server) = self.server else {
            return Err(one(Mismatch::new("`connect` needs a server to connect to")));
        };
        let conn = match self.scenario.transport {
            Transport::Tcp => match TcpStream::connect_timeout(&server, within) {
                Ok(stream) => Conn::Tcp(TcpPeer::new(stream)),
                Err(e) => {
                    let mut m =
                        Mismatch::new(format!("could not connect to {server}: {}", io_reason(&e)));
                    if let Some(exit) = self.program.exited() {
                        m = m.hint(format!("the program had already {exit}"));
                    }
                    return Err(one(m));
                }
            },
            Transport::Udp => {
                let local = SocketAddr::new(server.ip(), 0);
                let socket = UdpSocket::bind(local).map_err(|e| {
                    one(Mismatch::new(format!(
                        "could not open a UDP socket on {local}: {}",
                        io_reason(&e)
                    )))
                })?;
                Conn::Udp(UdpPeer::to_server(socket, server))
            }
        };
        let name = self.name(name);
        self.conns.push((name, conn));
        Ok(())
    }

    fn accept(&mut self, name: Option<String>, within: Duration) -> StepResult {
        let Some(listener) = &self.listener else {
            return Err(one(Mismatch::new("`accept` needs conform to be listening")));
        };
        let deadline = Instant::now() + within;
        let _ = listener.set_nonblocking(true);
        let mut pause = Duration::from_millis(1);
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Err(one(Mismatch::new(format!(
                        "accept failed: {}",
                        io_reason(&e)
                    ))));
                }
            }
            if let Some(exit) = self.program.exited() {
                // It may have connected just before exiting.
                if let Ok((stream, _)) = listener.accept() {
                    break stream;
                }
                return Err(one(Mismatch::new(format!(
                    "the client {exit} without connecting to {}",
                    self.local_addr()
                ))));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(one(Mismatch::new(format!(
                    "the client did not connect to {} within {}ms",
                    self.local_addr(),
                    within.as_millis()
                ))));
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        let _ = stream.set_nonblocking(false);
        let name = self.name(name);
        self.conns.push((name, Conn::Tcp(TcpPeer::new(stream))));
        Ok(())
    }

    fn local_addr(&self) -> String {
        self.listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "conform's port".into(), |a| a.to_string())
    }

    fn expect(&mut self, expect: &Expect) -> StepResult {
        let within = self.within(expect.within);
        let Case { conns, program, .. } = self;
        let conn = find(conns, expect.on.as_deref())?;
        match conn {
            Conn::Udp(peer) => peer
                .expect(&expect.matcher, within, &mut || program.exited().is_some())
                .map_err(one),
            Conn::Tcp(peer) => peer
                .expect(&[(Expectation::Data(expect.matcher.clone()), within)])
                .map(|_| ()),
            Conn::Closed => Err(one(closed())),
        }
    }

    fn expect_stream(
        &mut self,
        on: Option<&str>,
        alternatives: &[(Expectation, Duration)],
    ) -> StepResult {
        match self.conn(on)? {
            Conn::Tcp(peer) => peer.expect(alternatives).map(|_| ()),
            Conn::Udp(_) => Err(one(Mismatch::new(
                "this expectation is about TCP connections",
            ))),
            Conn::Closed => Err(one(closed())),
        }
    }

    fn expect_one_of(&mut self, branches: &[Spanned<Step>]) -> StepResult {
        let mut alternatives = Vec::new();
        let mut on = None;
        for branch in branches {
            let (expectation, within) = match &branch.value {
                Step::Expect(e) => (Expectation::Data(e.matcher.clone()), self.within(e.within)),
                Step::ExpectEof(w) => (Expectation::Eof, self.within(w.within)),
                Step::ExpectReset(w) => (Expectation::Reset, self.within(w.within)),
                Step::ExpectSilence(s) => {
                    (Expectation::Silence(s.duration.get()), s.duration.get())
                }
                other => {
                    return Err(one(Mismatch::new(format!(
                        "`{}` cannot be an alternative",
                        other.keyword()
                    ))));
                }
            };
            on = on.or(branch.value.on());
            alternatives.push((expectation, within));
        }
        let Case { conns, program, .. } = self;
        match find(conns, on)? {
            Conn::Tcp(peer) => peer.expect(&alternatives).map(|_| ()),
            Conn::Udp(peer) => udp_one_of(peer, &alternatives, &mut || program.exited().is_some()),
            Conn::Closed => Err(one(closed())),
        }
    }

    fn expect_exit(&mut self, code: i32, within: Duration) -> StepResult {
        use crate::drive::process::Exit;
        match self.program.wait_exit(Instant::now() + within) {
            Some(Exit::Code(c)) if c == code => Ok(()),
            Some(exit) => Err(one(Mismatch::new(format!(
                "expected the program to exit with code {code}, but it {exit}"
            )))),
            None => Err(one(Mismatch::new(format!(
                "expected the program to exit with code {code}, but it was still running after {}ms",
                within.as_millis()
            )))),
        }
    }

    fn expect_output(&mut self, expect: &ExpectOutput, stderr: bool) -> StepResult {
        let within = self.within(expect.within);
        let deadline = Instant::now() + within;
        let mut pause = Duration::from_millis(1);
        loop {
            let output = self.program.output(stderr);
            let at_deadline = Instant::now() >= deadline;
            match judge_output(&expect.matcher, &output.bytes, output.closed || at_deadline) {
                Progress::Pass { .. } => return Ok(()),
                Progress::Fail(mut m) => {
                    if output.truncated {
                        m = m.hint("the program wrote more than the capture limit; only the start is compared");
                    } else if !output.closed {
                        m = m.hint(format!(
                            "the program was still running after {}ms; this is its output so far",
                            within.as_millis()
                        ));
                    }
                    return Err(one(m));
                }
                Progress::Pending => {}
            }
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

/// The named connection, or the most recent one; a free function so callers can borrow
/// the program at the same time.
fn find<'c>(
    conns: &'c mut [(String, Conn)],
    on: Option<&str>,
) -> Result<&'c mut Conn, Vec<Mismatch>> {
    let found = match on {
        Some(name) => conns.iter_mut().find(|(n, _)| n == name),
        None => conns.last_mut(),
    };
    found
        .map(|(_, conn)| conn)
        .ok_or_else(|| one(Mismatch::new("no connection is open for this step")))
}

fn closed() -> Mismatch {
    Mismatch::new("this connection was already closed by an earlier `close` step")
}

/// Alternatives on a UDP socket: silence for the shortest quiet period, or a datagram that
/// one of the data alternatives accepts.
fn udp_one_of(
    peer: &mut UdpPeer,
    alternatives: &[(Expectation, Duration)],
    ended: &mut dyn FnMut() -> bool,
) -> StepResult {
    let quiet = alternatives
        .iter()
        .filter_map(|(e, _)| match e {
            Expectation::Silence(d) => Some(*d),
            _ => None,
        })
        .min();
    let wait = quiet.unwrap_or_else(|| {
        alternatives
            .iter()
            .map(|(_, w)| *w)
            .max()
            .unwrap_or_default()
    });
    let want_from = peer.peer;
    match peer.receive(wait, ended) {
        Received::Datagram(data, from) => {
            let mut failures = Vec::new();
            for (expectation, _) in alternatives {
                match expectation {
                    Expectation::Data(matcher) => {
                        match judge_datagram(matcher, &data, from, want_from) {
                            Ok(()) => return Ok(()),
                            Err(m) => failures.push(m),
                        }
                    }
                    other => failures.push(Mismatch::new(format!(
                        "expected {}, but a {}-byte datagram arrived",
                        crate::verdict::describe(other),
                        data.len()
                    ))),
                }
            }
            Err(failures)
        }
        Received::Nothing | Received::ProgramEnded if quiet.is_some() => Ok(()),
        _ => Err(alternatives
            .iter()
            .map(|(e, w)| {
                Mismatch::new(format!(
                    "expected {}, but nothing arrived within {}ms",
                    crate::verdict::describe(e),
                    w.as_millis()
                ))
            })
            .collect()),
    }
}
