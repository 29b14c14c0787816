//! The wire log of a case, recorded where conform does its I/O (`tcp.rs`, `udp.rs`, the
//! case's connect and accept), so it shows exactly what went through conform's sockets.
//!
//! In: connections, writes, reads, datagrams, closes and waits as they happen. Out: a
//! [`WireLog`] with each entry's time from the case's start. Memory is bounded per case: the
//! first [`KEPT_BYTES`] payload bytes are kept (lengths stay exact, the log says how much was
//! cut) and at most [`MAX_ENTRIES`] entries are recorded. When no report will show the log,
//! the recorder is off and costs nothing: no allocation, no lock, no system call.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::event::{Direction, Ends, Wire, WireEntry, WireLog};
use crate::spec::Transport;

/// Payload bytes kept per case: enough for any exchange the specs describe, small enough
/// that a program writing without end costs conform nothing.
pub const KEPT_BYTES: usize = 64 * 1024;

/// Entries recorded per case (a peer dribbling one byte per read makes one entry per byte).
pub const MAX_ENTRIES: usize = 4096;

/// A handle on one case's log; clones record into the same log. Each connection of a case
/// holds one, and the case takes the log when it ends. `None` when recording is off.
#[derive(Clone)]
pub struct Recorder(Option<Arc<Mutex<State>>>);

struct State {
    started: Instant,
    wall: std::time::SystemTime,
    log: WireLog,
    kept: usize,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::off()
    }
}

impl Recorder {
    /// A log whose times count from now.
    pub fn new() -> Self {
        let wall = std::time::SystemTime::now();
        Recorder(Some(Arc::new(Mutex::new(State {
            started: Instant::now(),
            wall,
            log: WireLog {
                started: wall,
                ..WireLog::default()
            },
            kept: 0,
        }))))
    }

    /// A recorder that records nothing, for runs whose reports never show a wire log.
    pub fn off() -> Self {
        Recorder(None)
    }

    /// A recorder that records when `on`.
    pub fn when(on: bool) -> Self {
        if on { Self::new() } else { Self::off() }
    }

    /// Whether entries are kept; callers skip work (finding addresses) when not.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Runs `f` on the state, or returns `off` when recording is off.
    fn with<T>(&self, off: T, f: impl FnOnce(&mut State) -> T) -> T {
        match &self.0 {
            // A poisoned lock only means another thread panicked mid-record: the log is
            // still a list of whole entries.
            Some(state) => f(&mut state.lock().unwrap_or_else(|p| p.into_inner())),
            None => off,
        }
    }

    /// Records `what` now.
    pub fn record(&self, what: Wire) {
        self.with((), |state| {
            if state.log.entries.len() >= MAX_ENTRIES {
                state.log.entries_dropped += 1;
                return;
            }
            let at = state.started.elapsed();
            state.log.entries.push(WireEntry { at, what });
        });
    }

    /// Records one write, read or datagram, keeping its bytes while the case's limit lasts.
    pub fn data(&self, transport: Transport, direction: Direction, ends: Ends, bytes: &[u8]) {
        if !self.is_on() {
            return;
        }
        let kept = self.with(0, |state| {
            let room = KEPT_BYTES.saturating_sub(state.kept).min(bytes.len());
            if state.log.entries.len() < MAX_ENTRIES {
                state.kept += room;
                state.log.bytes_cut += (bytes.len() - room) as u64;
            }
            room
        });
        self.record(Wire::Data {
            transport,
            direction,
            ends,
            bytes: bytes[..kept].to_vec(),
            length: bytes.len(),
        });
    }

    /// Records a wait that ended with nothing received.
    pub fn silence(&self, waited: Duration) {
        self.record(Wire::Silence { waited });
    }

    /// The log so far (`None` when recording is off); the recorder starts an empty one with
    /// the same start time.
    pub fn take(&self) -> Option<WireLog> {
        self.with(None, |state| {
            state.kept = 0;
            let fresh = WireLog {
                started: state.wall,
                ..WireLog::default()
            };
            Some(std::mem::replace(&mut state.log, fresh))
        })
    }

    /// Time since the case started (zero when recording is off).
    pub fn elapsed(&self) -> Duration {
        self.with(Duration::ZERO, |state| state.started.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn ends() -> Ends {
        let local: SocketAddr = "127.0.0.1:1000".parse().expect("address");
        let peer: SocketAddr = "127.0.0.1:2000".parse().expect("address");
        Ends { local, peer }
    }

    #[test]
    fn bytes_beyond_the_limit_are_cut_but_lengths_stay_exact() {
        let wire = Recorder::new();
        let big = vec![7u8; KEPT_BYTES - 10];
        wire.data(Transport::Tcp, Direction::Received, ends(), &big);
        wire.data(Transport::Tcp, Direction::Received, ends(), &[1u8; 30]);
        let log = wire.take().expect("recording");
        assert_eq!(log.bytes_cut, 20);
        match &log.entries[1].what {
            Wire::Data { bytes, length, .. } => assert_eq!((bytes.len(), *length), (10, 30)),
            other => panic!("not data: {other:?}"),
        }
    }

    #[test]
    fn entries_beyond_the_limit_are_counted_not_kept() {
        let wire = Recorder::new();
        for _ in 0..MAX_ENTRIES + 5 {
            wire.silence(Duration::from_millis(1));
        }
        let log = wire.take().expect("recording");
        assert_eq!(log.entries.len(), MAX_ENTRIES);
        assert_eq!(log.entries_dropped, 5);
    }

    #[test]
    fn an_off_recorder_keeps_nothing() {
        let wire = Recorder::off();
        wire.data(Transport::Udp, Direction::Sent, ends(), b"ab");
        assert!(!wire.is_on());
        assert!(wire.take().is_none());
    }

    #[test]
    fn entries_keep_their_order_and_times_never_go_back() {
        let wire = Recorder::new();
        wire.data(Transport::Udp, Direction::Sent, ends(), b"ab");
        wire.silence(Duration::from_millis(3));
        let log = wire.take().expect("recording");
        assert!(matches!(log.entries[0].what, Wire::Data { .. }));
        assert!(matches!(log.entries[1].what, Wire::Silence { .. }));
        assert!(log.entries[0].at <= log.entries[1].at);
    }
}
