//! Playing the steps of one case against an open [`Session`]: connections, sends with their
//! faults, and every kind of expectation.
//!
//! In: a session, a scenario, the default deadline and the values of one case. Out: `None` for
//! a pass, or a [`Failure`] naming the step and carrying the case's wire log. All socket and
//! process calls go through `drive/`.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde_saphyr::Spanned;

use super::inject;
use super::script::{Played, Script, Tape};
use super::session::{SETTLE, Session};
use crate::drive::tcp::{TcpPeer, io_reason};
use crate::drive::udp::UdpPeer;
use crate::drive::wire::Recorder;
use crate::event::{Failure, StepRef, Wire};
use crate::spec::{Env, Expect, ExpectOutput, Scenario, Step, Transport};
use crate::verdict::{Expectation, Mismatch, Progress, judge_output};

/// The Unix time in seconds, for numbers that must be the time now.
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long output steps wait for an exited program's last writes to arrive.
const OUTPUT_SETTLE: Duration = Duration::from_millis(200);

enum Conn {
    Tcp(TcpPeer),
    Udp(UdpPeer),
    Closed,
}

/// Plays a script (the scenario's steps, then each command's) over one set of connections.
pub fn play_script(
    session: &mut Session,
    scenario: &Scenario,
    default_within: Duration,
    script: Script<'_>,
    observe: &mut dyn FnMut(StepRef, bool, Duration),
) -> Played {
    let Script {
        prelude,
        commands,
        replies,
        transcript,
        together,
    } = script;
    let (wire, gate) = together.unzip();
    session.wire = wire.unwrap_or_else(|| Recorder::when(session.record_wire));
    let mut case = Case {
        scenario,
        default_within,
        env: prelude.env,
        conns: Vec::new(),
        session,
        tape: Tape::new(replies, transcript),
    };
    if let Some(socket) = case.session.udp.take() {
        let peer = UdpPeer::for_client(socket, case.session.wire.clone());
        case.conns.push(("main".into(), Conn::Udp(peer)));
    }
    let mut failure = None;
    let mut failed_part = None;
    // What the scenario's own steps leave (generated and captured values): every command
    // starts from it.
    let mut base = Env::new();
    let parts = std::iter::once(prelude.steps).chain(commands.iter().map(|c| c.steps));
    'parts: for (part, steps) in parts.enumerate() {
        if part > 0 {
            case.env = base.clone();
            let own = &commands[part - 1].env;
            case.env
                .extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        case.tape.part();
        for (index, step) in steps.iter().enumerate() {
            let began = Instant::now();
            let result = case.step(&step.value);
            observe(step_ref(index, step), result.is_ok(), began.elapsed());
            if let Err(mismatches) = result {
                failure = Some(Failure {
                    step: Some(step_ref(index, step)),
                    mismatches,
                    program: None,
                    generated: None,
                    wire: None,
                });
                failed_part = Some(part);
                break 'parts;
            }
        }
        case.tape.part_done();
        if part == 0
            && let Some(gate) = &gate
        {
            // Every client arrives in bounded time (its steps have deadlines, and one that
            // fails arrives at once), so the gate waits for all of them: a client whose own
            // steps the server keeps waiting is caught by its deadline, never by the gate's.
            // The cap only stops a wait for a client that can never come.
            gate.arrive(
                default_within
                    .saturating_mul(20)
                    .max(Duration::from_secs(10)),
            );
        }
        if part == 0 && !commands.is_empty() {
            base = std::mem::take(&mut case.env);
        }
    }
    // A client that failed before the gate still arrives, so nobody waits for it.
    if failed_part == Some(0)
        && let Some(gate) = &gate
    {
        gate.arrive(Duration::ZERO);
    }
    case.finish();
    let Case { tape, .. } = case;
    let failure = failure.map(|mut f| {
        f.wire = session.wire.take();
        f
    });
    tape.finish(failure, failed_part)
}

struct Case<'a> {
    scenario: &'a Scenario,
    default_within: Duration,
    /// The generated values, and what earlier steps of this case captured.
    env: Env,
    session: &'a mut Session,
    conns: Vec<(String, Conn)>,
    /// The parts played, what went each way, and the replies `same_as_reference` read.
    tape: Tape,
}

pub(super) fn step_ref(index: usize, step: &Spanned<Step>) -> StepRef {
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
            Step::Send(send) => self.send(send),
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
            Step::SendAll(all) => self.send_all(all),
            Step::Close(close) => {
                let conn = self.conn(close.on.as_deref())?;
                match std::mem::replace(conn, Conn::Closed) {
                    Conn::Tcp(peer) if close.reset => peer.reset().map_err(one),
                    Conn::Tcp(mut peer) => {
                        peer.close();
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            Step::ShutdownWrite(on) => match self.conn(on.on.as_deref())? {
                Conn::Tcp(peer) => peer.shutdown_write().map_err(one),
                Conn::Udp(_) => Err(one(Mismatch::new(
                    "`shutdown_write` is about TCP connections",
                ))),
                Conn::Closed => Err(one(closed())),
            },
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

    /// Sends computed bytes; a `split` value goes out in its pieces, with its pauses.
    fn send(&mut self, send: &crate::spec::model::Send) -> StepResult {
        let pieces: Vec<(Vec<u8>, Duration)> = match &send.data {
            crate::spec::Data::Var(name) => match self.env.get(name) {
                Some(value) => value
                    .pieces()
                    .into_iter()
                    .map(|(p, d)| (p.into_owned(), d))
                    .collect(),
                None => vec![(Vec::new(), Duration::ZERO)],
            },
            data => vec![(data.eval(&self.env), Duration::ZERO)],
        };
        let conn = find(&mut self.conns, send.on.as_deref())?;
        let writes = match conn {
            Conn::Udp(_) => pieces
                .into_iter()
                .flat_map(|(piece, _)| inject::udp_datagrams(piece, &send.faults))
                .collect(),
            _ => inject::tcp_writes(pieces, &send.faults),
        };
        self.write_all(send.on.as_deref(), writes)
    }

    /// `send_all`: every payload, concatenated, in one write.
    fn send_all(&mut self, all: &crate::spec::SendAll) -> StepResult {
        let bytes: Vec<u8> = all
            .payloads
            .iter()
            .flat_map(|p| p.eval(&self.env))
            .collect();
        let write = inject::Write {
            bytes,
            pause_before: Duration::ZERO,
            from_other_port: false,
        };
        self.write_all(all.on.as_deref(), vec![write])
    }

    fn write_all(&mut self, on: Option<&str>, writes: Vec<inject::Write>) -> StepResult {
        let conn = find(&mut self.conns, on)?;
        for write in writes {
            if !write.pause_before.is_zero() {
                std::thread::sleep(write.pause_before);
            }
            let sent = match conn {
                Conn::Tcp(peer) => peer.send(&write.bytes, self.default_within),
                Conn::Udp(peer) if write.from_other_port => peer.send_from_other_port(&write.bytes),
                Conn::Udp(peer) => peer.send(&write.bytes),
                Conn::Closed => return Err(one(closed())),
            };
            if sent.is_ok() {
                self.tape.sent(&write.bytes);
            }
            if let Err(mut m) = sent {
                // Writing to a peer that is gone usually means the program stopped
                // listening early: say so, its output shows what it made of the bytes.
                if let Some(exit) = self.session.program.wait_exit(Instant::now() + SETTLE) {
                    m = m.hint(format!(
                        "the program had stopped reading and {exit}; its output is below"
                    ));
                }
                return Err(one(m));
            }
        }
        Ok(())
    }

    /// Ends the case: UDP sockets of a server case go back to the session for the next case;
    /// everything else closes.
    fn finish(&mut self) {
        for (_, conn) in self.conns.drain(..) {
            match conn {
                Conn::Udp(peer) if self.session.server.is_some() => {
                    self.session.spare_udp.push(peer);
                }
                Conn::Tcp(mut peer) => peer.close(),
                Conn::Udp(_) | Conn::Closed => {}
            }
        }
        // Asking costs a system call per case: only when the log is kept.
        if self.session.wire.is_on()
            && let Some(exit) = self.session.program.exited()
        {
            self.session.wire.record(Wire::ProgramExit {
                ending: exit.into(),
            });
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
        let Some(server) = self.session.server else {
            return Err(one(Mismatch::new("`connect` needs a server to connect to")));
        };
        let conn = match self.scenario.transport {
            Transport::Tcp => match TcpStream::connect_timeout(&server, within) {
                Ok(stream) => Conn::Tcp(TcpPeer::new(stream, self.session.wire.clone(), false)),
                Err(e) => {
                    self.session.wire.record(Wire::ConnectFailed {
                        peer: server,
                        reason: io_reason(&e),
                    });
                    let mut m =
                        Mismatch::new(format!("could not connect to {server}: {}", io_reason(&e)));
                    if let Some(exit) = self.session.program.exited() {
                        m = m.hint(format!("the program had already {exit}"));
                    }
                    return Err(one(m));
                }
            },
            Transport::Udp => {
                if let Some(mut peer) = self.session.spare_udp.pop() {
                    peer.reuse(server, self.session.wire.clone());
                    let name = self.name(name);
                    self.conns.push((name, Conn::Udp(peer)));
                    return Ok(());
                }
                let local = SocketAddr::new(server.ip(), 0);
                let socket = UdpSocket::bind(local).map_err(|e| {
                    one(Mismatch::new(format!(
                        "could not open a UDP socket on {local}: {}",
                        io_reason(&e)
                    )))
                })?;
                Conn::Udp(UdpPeer::to_server(
                    socket,
                    server,
                    self.session.wire.clone(),
                ))
            }
        };
        let name = self.name(name);
        self.conns.push((name, conn));
        Ok(())
    }

    fn accept(&mut self, name: Option<String>, within: Duration) -> StepResult {
        let Some(listener) = &self.session.listener else {
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
            if let Some(exit) = self.session.program.exited() {
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
        let peer = TcpPeer::new(stream, self.session.wire.clone(), true);
        self.conns.push((name, Conn::Tcp(peer)));
        Ok(())
    }

    fn local_addr(&self) -> String {
        self.session
            .listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "conform's port".into(), |a| a.to_string())
    }

    fn expect(&mut self, expect: &Expect) -> StepResult {
        let within = self.within(expect.within);
        // One of several clients reads a command's reply by the model's framing; which reply
        // is right depends on the order the check finds after the session.
        let deferred = self.tape.deferring().cloned();
        let matcher = match &deferred {
            Some(frame) => std::borrow::Cow::Owned(crate::spec::Matcher::Frame(frame.clone())),
            None => expect.matcher.resolve(&self.env, unix_now()),
        };
        let same = match &expect.matcher {
            crate::spec::Expected::SameAsReference(same) => Some(same),
            _ => None,
        };
        let Case { conns, session, .. } = self;
        let conn = find(conns, expect.on.as_deref())?;
        let read = match conn {
            Conn::Udp(peer) => peer
                .expect(&matcher, within, &mut || session.program.exited().is_some())
                .map_err(one),
            Conn::Tcp(peer) => {
                let wanted = [(Expectation::Data(matcher.clone().into_owned()), within)];
                match expect.slow_read {
                    Some(slow) => peer.expect_slowly(&wanted, slow),
                    None => peer.expect(&wanted),
                }
                .map(|(_, taken)| taken)
            }
            Conn::Closed => return Err(one(closed())),
        };
        let consumed = match read {
            Ok(consumed) => consumed,
            Err(mismatches) => {
                // What arrived instead belongs in a transcript too.
                if let Some(actual) = mismatches.iter().find_map(|m| m.actual.as_ref()) {
                    self.tape.received(actual);
                }
                return Err(match same {
                    Some(_) => self.tape.unanswered(mismatches),
                    None => mismatches,
                });
            }
        };
        self.tape.received(&consumed);
        if deferred.is_some() {
            self.tape.defer(consumed);
            return Ok(());
        }
        if let Some(same) = same {
            self.tape.reply(same, &consumed).map_err(one)?;
        }
        let captured =
            crate::verdict::seq::captures(&matcher, &consumed, expect.capture.as_deref());
        self.env.extend(captured);
        Ok(())
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
                Step::Expect(e) => (
                    Expectation::Data(e.matcher.resolve(&self.env, unix_now()).into_owned()),
                    self.within(e.within),
                ),
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
        let Case { conns, session, .. } = self;
        match find(conns, on)? {
            Conn::Tcp(peer) => peer.expect(&alternatives).map(|_| ()),
            Conn::Udp(peer) => crate::drive::udp::one_of(peer, &alternatives, &mut || {
                session.program.exited().is_some()
            }),
            Conn::Closed => Err(one(closed())),
        }
    }

    fn expect_exit(&mut self, code: i32, within: Duration) -> StepResult {
        use crate::drive::process::Exit;
        match self.session.program.wait_exit(Instant::now() + within) {
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
        let mut ended_at: Option<Instant> = None;
        let matcher = expect.resolve(&self.env);
        loop {
            let output = self.session.program.output(stderr);
            let now = Instant::now();
            // Once the program has exited, what it wrote reaches us within moments; a helper
            // it left behind may hold the pipe open much longer, and is not what is judged.
            if self.session.program.exited().is_some() {
                ended_at.get_or_insert(now);
            }
            let settled = ended_at.is_some_and(|t| now.duration_since(t) >= OUTPUT_SETTLE);
            let closed = output.closed || settled || now >= deadline;
            match judge_output(&matcher, &output.bytes, closed) {
                Progress::Pass { .. } => return Ok(()),
                Progress::Fail(mut m) => {
                    if output.truncated {
                        m = m.hint("the program wrote more than the capture limit; only the start is compared");
                    } else if let Some(hint) =
                        crate::verdict::hint::buffering(&output.bytes).filter(|_| !stderr)
                    {
                        m = m.hint(hint);
                    } else if !output.closed && ended_at.is_none() {
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
