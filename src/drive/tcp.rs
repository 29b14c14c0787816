//! A TCP connection as conform sees it: bytes in a buffer, the peer's state, and a read loop
//! that waits for one or more expectations until one is decided.
//!
//! In: a connected `TcpStream` and [`Expectation`]s with deadlines. Out: which alternative
//! passed, or every alternative's [`Mismatch`]; every write, read, close and fruitless wait
//! goes to the case's wire log as it happens.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::wire::Recorder;
use crate::event::{Direction, Ends, Wire};
use crate::spec::{SlowRead, Transport};
use crate::verdict::{Expectation, MAX_BUFFER, Mismatch, PeerState, Progress, judge_stream};

/// The longest single blocking read; bounds how late a deadline can be noticed.
const SLICE: Duration = Duration::from_millis(50);

pub struct TcpPeer {
    stream: TcpStream,
    buf: Vec<u8>,
    state: PeerState,
    /// Everything received, for the transcript (bounded).
    pub received_total: u64,
    /// While set, reads take at most `chunk` bytes and pause after each (`read_chunk`).
    slow: Option<SlowRead>,
    wire: Recorder,
    ends: Ends,
    /// conform has closed its sending side (a FIN is on its way, or an RST).
    write_closed: bool,
    /// The read timeout last set on the socket: set only when it changes, since a read
    /// usually waits one whole slice and a system call per read is a share of a case.
    read_timeout: Option<Duration>,
}

impl TcpPeer {
    /// A connection conform made (`accepted` false) or accepted, recorded in `wire`.
    pub fn new(stream: TcpStream, wire: Recorder, accepted: bool) -> Self {
        // Small writes must leave at once: timing is part of what a scenario tests.
        let _ = stream.set_nodelay(true);
        let unknown = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        // Two system calls per connection, made only when the log is kept.
        let ends = match wire.is_on() {
            true => Ends {
                local: stream.local_addr().unwrap_or(unknown),
                peer: stream.peer_addr().unwrap_or(unknown),
            },
            false => Ends {
                local: unknown,
                peer: unknown,
            },
        };
        wire.record(if accepted {
            Wire::Accept { ends }
        } else {
            Wire::Connect { ends }
        });
        TcpPeer {
            stream,
            buf: Vec::new(),
            state: PeerState::Open,
            received_total: 0,
            slow: None,
            wire,
            ends,
            write_closed: false,
            read_timeout: None,
        }
    }

    /// Writes all of `data`, giving up after `within`: a peer that stops reading fills the
    /// socket buffers and would otherwise block conform forever.
    pub fn send(&mut self, data: &[u8], within: Duration) -> Result<(), Mismatch> {
        let deadline = Instant::now() + within;
        let mut sent = 0;
        while sent < data.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Mismatch::new(format!(
                    "the peer stopped reading: only {sent} of {} byte(s) could be sent within {}ms",
                    data.len(),
                    within.as_millis()
                )));
            }
            let _ = self.stream.set_write_timeout(Some(left));
            match self.stream.write(&data[sent..]) {
                Ok(0) => {
                    return Err(Mismatch::new(format!(
                        "could not send {} byte(s): the connection is closed",
                        data.len() - sent
                    )));
                }
                Ok(n) => {
                    let ends = self.ends;
                    let bytes = &data[sent..sent + n];
                    self.wire.data(Transport::Tcp, Direction::Sent, ends, bytes);
                    sent += n;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    return Err(Mismatch::new(format!(
                        "could not send {} byte(s): {}",
                        data.len() - sent,
                        io_reason(&e)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Closes conform's side entirely.
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        self.record_fin();
    }

    /// A FIN from conform, once per connection.
    fn record_fin(&mut self) {
        if !self.write_closed {
            self.write_closed = true;
            let ends = self.ends;
            self.wire.record(Wire::Fin {
                direction: Direction::Sent,
                ends,
            });
        }
    }

    /// Half-closes: the peer reads EOF, and conform can still read what it sends.
    pub fn shutdown_write(&mut self) -> Result<(), Mismatch> {
        self.stream.shutdown(Shutdown::Write).map_err(|e| {
            Mismatch::new(format!(
                "could not shut down conform's write side: {}",
                io_reason(&e)
            ))
        })?;
        self.record_fin();
        Ok(())
    }

    /// Closes abortively: with SO_LINGER {on, 0} the kernel sends RST instead of FIN and
    /// discards whatever was not yet sent.
    pub fn reset(self) -> Result<(), Mismatch> {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.stream);
        // SAFETY: `fd` is this peer's open socket, and `linger` is a valid `struct linger`
        // whose size is passed along with it.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&raw const linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Mismatch::new(format!(
                "could not set SO_LINGER to reset the connection: {}",
                io_reason(&e)
            )));
        }
        drop(self.stream);
        self.wire.record(Wire::Reset {
            direction: Direction::Sent,
            ends: self.ends,
        });
        Ok(())
    }

    /// Like [`expect`](Self::expect), reading at most `slow.chunk` bytes at a time and
    /// pausing after each read, so a peer writing much meets a slow reader.
    pub fn expect_slowly(
        &mut self,
        alternatives: &[(Expectation, Duration)],
        slow: SlowRead,
    ) -> Result<(usize, Vec<u8>), Vec<Mismatch>> {
        self.slow = Some(slow);
        let result = self.expect(alternatives);
        self.slow = None;
        result
    }

    /// Waits until one of `alternatives` passes (returns its index and the bytes it
    /// consumed) or all have failed. A program that exits closes its sockets, so no
    /// liveness check is needed here.
    pub fn expect(
        &mut self,
        alternatives: &[(Expectation, Duration)],
    ) -> Result<(usize, Vec<u8>), Vec<Mismatch>> {
        let start = Instant::now();
        let (received_before, state_before) = (self.received_total, self.state);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let waited = start.elapsed();
            let mut failures = Vec::new();
            let mut next_wake = Duration::MAX;
            for (index, (expectation, within)) in alternatives.iter().enumerate() {
                match judge_stream(expectation, &self.buf, self.state, waited, *within) {
                    Progress::Pass { consumed } => {
                        if matches!(expectation, Expectation::Silence(_)) {
                            self.wire.silence(waited);
                        }
                        let taken: Vec<u8> = self.buf.drain(..consumed).collect();
                        return Ok((index, taken));
                    }
                    Progress::Fail(mismatch) => failures.push(mismatch),
                    Progress::Pending => {
                        let horizon = match expectation {
                            Expectation::Silence(d) => *d,
                            _ => *within,
                        };
                        next_wake = next_wake.min(horizon.saturating_sub(waited));
                    }
                }
            }
            if failures.len() == alternatives.len() {
                // Nothing arrived, and a deadline (not the bytes already buffered) decided.
                if self.received_total == received_before
                    && self.state == state_before
                    && alternatives.iter().any(|(_, within)| waited >= *within)
                {
                    self.wire.silence(waited);
                }
                return Err(failures);
            }
            self.read_some(&mut chunk, next_wake.clamp(Duration::from_millis(1), SLICE));
        }
    }

    fn read_some(&mut self, chunk: &mut [u8], timeout: Duration) {
        if self.state != PeerState::Open || self.buf.len() >= MAX_BUFFER {
            std::thread::sleep(timeout);
            return;
        }
        if self.read_timeout != Some(timeout) {
            let _ = self.stream.set_read_timeout(Some(timeout));
            self.read_timeout = Some(timeout);
        }
        let mut room = (MAX_BUFFER - self.buf.len()).min(chunk.len());
        if let Some(slow) = self.slow {
            room = room.min(slow.chunk);
        }
        match self.stream.read(&mut chunk[..room]) {
            Ok(0) => {
                self.state = PeerState::Closed;
                self.wire.record(Wire::Fin {
                    direction: Direction::Received,
                    ends: self.ends,
                });
            }
            Ok(n) => {
                self.wire
                    .data(Transport::Tcp, Direction::Received, self.ends, &chunk[..n]);
                self.buf.extend_from_slice(&chunk[..n]);
                self.received_total += n as u64;
                if let Some(slow) = self.slow
                    && !slow.pause.is_zero()
                {
                    std::thread::sleep(slow.pause);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => {
                self.state = PeerState::Reset;
                self.wire.record(Wire::Reset {
                    direction: Direction::Received,
                    ends: self.ends,
                });
            }
        }
    }
}

pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused (nothing is listening)".into(),
        ErrorKind::ConnectionReset => "connection reset by the peer".into(),
        ErrorKind::BrokenPipe => "the peer has closed the connection".into(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_lowercase(),
                None => text,
            }
        }
    }
}
