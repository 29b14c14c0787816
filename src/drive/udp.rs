//! A UDP socket as conform sees it: datagrams with their source addresses.
//!
//! In: a bound `UdpSocket`, the address replies must come from (server role) or none (client
//! role, where the first datagram's sender becomes the peer). Out: a judged datagram, or a
//! [`Mismatch`] saying what arrived instead, from where, or that nothing did. Every datagram
//! sent or received, and every fruitless wait, goes to the case's wire log.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::event::{Direction, Ends};
use crate::spec::{Matcher, Transport};
use crate::verdict::{Expectation, Mismatch, judge_datagram};

use super::poll;
use super::tcp::io_reason;
use super::wire::Recorder;

/// Longest single blocking receive, so a program's exit is noticed promptly.
const SLICE: Duration = Duration::from_millis(50);

pub struct UdpPeer {
    socket: UdpSocket,
    /// Where `send` goes: the server under test, or the client that last wrote to us.
    pub peer: Option<SocketAddr>,
    /// Whether replies must come from `peer` (conform addressed a server there).
    check_source: bool,
    buf: Vec<u8>,
    /// The read timeout last set on the socket, so it is set only when it changes: a
    /// system call per datagram is a measurable share of a loopback round trip.
    timeout: Option<Duration>,
    /// conform's own address, for the wire log; looked up the first time an entry needs it,
    /// since a system call per case is a measurable share of a loopback round trip.
    local: Option<SocketAddr>,
    wire: Recorder,
}

/// What a wait for a datagram found.
pub enum Received {
    Datagram(Vec<u8>, SocketAddr),
    Nothing,
    /// The program under test ended and nothing was queued.
    ProgramEnded,
}

impl UdpPeer {
    /// A socket that talks to a server at `server`.
    pub fn to_server(socket: UdpSocket, server: SocketAddr, wire: Recorder) -> Self {
        UdpPeer {
            local: None,
            socket,
            peer: Some(server),
            check_source: true,
            buf: vec![0u8; 65_536],
            timeout: None,
            wire,
        }
    }

    /// A socket that waits for a client.
    pub fn for_client(socket: UdpSocket, wire: Recorder) -> Self {
        UdpPeer {
            local: None,
            socket,
            peer: None,
            check_source: false,
            buf: vec![0u8; 65_536],
            timeout: None,
            wire,
        }
    }

    /// Makes a peer of an earlier case ready for a new one against `server`, recording into
    /// the new case's `wire`: datagrams left over from the earlier case are discarded so they
    /// cannot be taken for this case's reply.
    pub fn reuse(&mut self, server: SocketAddr, wire: Recorder) {
        self.peer = Some(server);
        self.check_source = true;
        self.wire = wire;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.socket);
        loop {
            // SAFETY: `fd` is this peer's open socket and `buf` is a writable buffer of the
            // length given; MSG_DONTWAIT makes the call return at once.
            let n = unsafe {
                libc::recv(
                    fd,
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                break;
            }
        }
    }

    /// conform's address for the log: looked up once, and only while recording.
    fn local(&mut self) -> SocketAddr {
        if !self.wire.is_on() {
            return SocketAddr::from(([0, 0, 0, 0], 0));
        }
        *self.local.get_or_insert_with(|| local_addr(&self.socket))
    }

    fn set_timeout(&mut self, timeout: Duration) {
        if self.timeout != Some(timeout) {
            let _ = self.socket.set_read_timeout(Some(timeout));
            self.timeout = Some(timeout);
        }
    }

    pub fn send(&mut self, data: &[u8]) -> Result<(), Mismatch> {
        let peer = self.peer.ok_or_else(|| {
            Mismatch::new("nothing to answer: no datagram has arrived from the client yet")
        })?;
        let sent = self.socket.send_to(data, peer);
        if let Ok(n) = sent {
            let ends = Ends {
                local: self.local(),
                peer,
            };
            self.wire
                .data(Transport::Udp, Direction::Sent, ends, &data[..n]);
        }
        match sent {
            Ok(n) if n == data.len() => Ok(()),
            Ok(n) => Err(Mismatch::new(format!(
                "only {n} of {} byte(s) were sent",
                data.len()
            ))),
            Err(e) => Err(Mismatch::new(format!(
                "could not send a {}-byte datagram to {peer}: {}",
                data.len(),
                io_reason(&e)
            ))),
        }
    }

    /// Sends `data` from a fresh socket on another port of the same address: a client that
    /// filters by source address (a connected UDP socket) must not take it for the reply.
    pub fn send_from_other_port(&mut self, data: &[u8]) -> Result<(), Mismatch> {
        let peer = self.peer.ok_or_else(|| {
            Mismatch::new("nothing to answer: no datagram has arrived from the client yet")
        })?;
        let here = self
            .socket
            .local_addr()
            .map_err(|e| Mismatch::new(format!("no local address: {}", io_reason(&e))))?;
        let other = UdpSocket::bind(SocketAddr::new(here.ip(), 0)).map_err(|e| {
            Mismatch::new(format!(
                "could not open a second UDP socket on {}: {}",
                here.ip(),
                io_reason(&e)
            ))
        })?;
        let ends = Ends {
            local: local_addr(&other),
            peer,
        };
        other
            .send_to(data, peer)
            .map(|n| {
                self.wire
                    .data(Transport::Udp, Direction::Sent, ends, &data[..n]);
            })
            .map_err(|e| {
                Mismatch::new(format!(
                    "could not send a {}-byte datagram to {peer} from another port: {}",
                    data.len(),
                    io_reason(&e)
                ))
            })
    }

    /// Waits up to `within` for one datagram, polling `program_ended` between slices.
    pub fn receive(
        &mut self,
        within: Duration,
        program_ended: &mut dyn FnMut() -> bool,
    ) -> Received {
        let start = Instant::now();
        if let Some((n, from)) = self.spin(within) {
            return self.arrived(n, from);
        }
        loop {
            let left = within.saturating_sub(start.elapsed());
            if left.is_zero() {
                self.wire.silence(within);
                return Received::Nothing;
            }
            self.set_timeout(left.min(SLICE));
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    poll::replied(start.elapsed(), false);
                    return self.arrived(n, from);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                // ICMP errors from earlier sends surface here on some systems; not a datagram.
                Err(_) => {}
            }
            if program_ended() {
                // One last look: the reply may have been queued just before the exit.
                let _ = self.socket.set_nonblocking(true);
                let last = self.socket.recv_from(&mut self.buf);
                let _ = self.socket.set_nonblocking(false);
                self.timeout = None;
                return match last {
                    Ok((n, from)) => self.arrived(n, from),
                    Err(_) => Received::ProgramEnded,
                };
            }
        }
    }

    /// Spins on a non-blocking receive for the spinner's window (at most `within`); the
    /// datagram's length and source when one came.
    fn spin(&mut self, within: Duration) -> Option<(usize, SocketAddr)> {
        let window = poll::window().min(within);
        if window.is_zero() {
            return None;
        }
        let start = Instant::now();
        self.socket.set_nonblocking(true).ok()?;
        let got = loop {
            match self.socket.recv_from(&mut self.buf) {
                Ok(got) => break Some(got),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if start.elapsed() >= window {
                        break None;
                    }
                    std::hint::spin_loop();
                }
                Err(_) => break None,
            }
        };
        let _ = self.socket.set_nonblocking(false);
        if got.is_some() {
            poll::replied(start.elapsed(), true);
        }
        got
    }

    /// The datagram of `n` bytes in the buffer, recorded.
    fn arrived(&mut self, n: usize, from: SocketAddr) -> Received {
        let data = self.buf[..n].to_vec();
        let ends = Ends {
            local: self.local(),
            peer: from,
        };
        self.wire
            .data(Transport::Udp, Direction::Received, ends, &data);
        Received::Datagram(data, from)
    }

    /// Receives one datagram and judges it; returns it when it passes.
    pub fn expect(
        &mut self,
        matcher: &Matcher,
        within: Duration,
        program_ended: &mut dyn FnMut() -> bool,
    ) -> Result<Vec<u8>, Mismatch> {
        match self.receive(within, program_ended) {
            Received::Datagram(data, from) => {
                let want = if self.check_source { self.peer } else { None };
                judge_datagram(matcher, &data, from, want)?;
                if !self.check_source {
                    self.peer = Some(from);
                }
                Ok(data)
            }
            Received::Nothing => Err(Mismatch::new(format!(
                "expected a datagram of {}, but none arrived within {}ms",
                crate::verdict::describe_matcher(matcher),
                within.as_millis()
            ))),
            Received::ProgramEnded => Err(Mismatch::new(format!(
                "expected a datagram of {}, but the program ended without sending one",
                crate::verdict::describe_matcher(matcher)
            ))),
        }
    }

    /// Expects no datagram for `quiet`.
    pub fn expect_silence(&mut self, quiet: Duration) -> Result<(), Mismatch> {
        match self.receive(quiet, &mut || false) {
            Received::Datagram(data, from) => Err(Mismatch::new(format!(
                "expected silence for {}ms, but a {}-byte datagram arrived from {from}",
                quiet.as_millis(),
                data.len()
            ))
            .bytes(b"", &data)),
            _ => Ok(()),
        }
    }
}

/// Alternatives on a UDP socket: silence for the shortest quiet period, or a datagram that
/// one of the data alternatives accepts (`expect_one_of` on UDP).
pub fn one_of(
    peer: &mut UdpPeer,
    alternatives: &[(Expectation, Duration)],
    ended: &mut dyn FnMut() -> bool,
) -> Result<(), Vec<Mismatch>> {
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

/// A socket's own address; a socket that has none yet shows as 0.0.0.0:0 in the log.
fn local_addr(socket: &UdpSocket) -> SocketAddr {
    socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}
