//! A started target: the program under test (or the in-process reference) and what conform
//! holds open for it, kept for one case or, with `lifecycle: scenario`, for many.
//!
//! In: a scenario, a [`Target`] and the run's options. Out: a [`Session`] ready for cases, or
//! the [`Failure`] of a program that never became ready; closing it stops the program and
//! says how it ended.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use super::SetupError;
use super::options::RunOptions;
use super::start::{self, Started};
use crate::drive::program::Program;
use crate::drive::udp::UdpPeer;
use crate::drive::wire::Recorder;
use crate::event::{Failure, ProgramReport};
use crate::plan::Target;
use crate::spec::{Scenario, Spec};

/// How long a failed case waits for the program to end by itself before stopping it.
pub(super) const SETTLE: Duration = Duration::from_millis(300);

/// A started target and what conform holds open for it.
pub struct Session {
    pub(super) program: Program,
    /// Where the server under test listens (server role).
    pub(super) server: Option<SocketAddr>,
    /// conform's listener for a TCP client under test.
    pub(super) listener: Option<TcpListener>,
    /// conform's socket for a UDP client under test.
    pub(super) udp: Option<UdpSocket>,
    /// UDP peers of finished cases, reused: a new socket per case would cost about as much
    /// as the exchange itself.
    pub(super) spare_udp: Vec<UdpPeer>,
    /// The wire log of the case being played; a new one for every case.
    pub(super) wire: Recorder,
    /// Whether cases keep a wire log (`RunOptions::wire_log`).
    pub(super) record_wire: bool,
}

/// A session, or the failure of a program that never became ready.
pub enum Opened {
    Ready(Session),
    NotReady(Failure),
}

/// Starts the target and waits until it is ready.
pub fn open(scenario: &Scenario, target: &Target, opts: &RunOptions) -> Result<Opened, SetupError> {
    Ok(match start::start(scenario, target, opts)? {
        Started::Ready {
            program,
            server,
            listener,
            udp,
        } => Opened::Ready(Session {
            program,
            server,
            listener,
            udp,
            spare_udp: Vec::new(),
            wire: Recorder::off(),
            record_wire: opts.wire_log,
        }),
        Started::NotReady { failure } => Opened::NotReady(*failure),
    })
}

impl Session {
    /// Drops the UDP sockets kept from earlier cases, so the next case starts on a fresh port
    /// that no late or duplicate reply can reach.
    pub fn forget_spares(&mut self) {
        self.spare_udp.clear();
    }

    /// What one of several clients plays through: the server's address and a wire log of
    /// the clients' own, but not the program (the executor watches it) nor the sockets
    /// conform holds for a client under test.
    pub(super) fn view(&self) -> Session {
        Session {
            program: Program::Absent,
            server: self.server,
            listener: None,
            udp: None,
            spare_udp: Vec::new(),
            wire: Recorder::off(),
            record_wire: self.record_wire,
        }
    }

    /// Where the server under test listens, for a server scenario.
    pub fn server(&self) -> Option<SocketAddr> {
        self.server
    }

    /// Whether the program under test has ended (a server that did cannot serve more cases).
    pub fn program_ended(&mut self) -> bool {
        self.program.exited().is_some()
    }

    /// The wire log of the last case played, for the executor to finish.
    pub(super) fn wire(&self) -> &Recorder {
        &self.wire
    }

    /// Stops the program and describes how it ended. After a failure the program gets a
    /// moment to end by itself, so a crash is reported as a crash.
    pub fn close(mut self, grace: Duration, failed: bool) -> Option<ProgramReport> {
        self.spare_udp.clear();
        if failed {
            self.program.wait_exit(Instant::now() + SETTLE);
        }
        self.program.stop(grace)
    }
}

/// The deadline of waits that the steps do not bound themselves.
pub fn default_within(spec: &Spec, scenario: &Scenario, opts: &RunOptions) -> Duration {
    scenario
        .timeout
        .or(spec.file.timeout)
        .map_or(opts.timeout, |d| d.get())
}
