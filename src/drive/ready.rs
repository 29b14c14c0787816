//! Waiting for a program to be ready: what to watch (protocol, the port conform gave it, the
//! program's pid, a deadline) comes in; a [`Ready`] goes out: listening, exited first,
//! listening on another port, or not listening by the deadline.
//!
//! Readiness is read from the kernel's socket table ([`crate::os::sockets`]), never probed: the
//! guide's servers serve exactly one client, so a probe connection would eat it.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::process::Exit;
use crate::os::proctable;
pub use crate::os::sockets::Proto;
use crate::os::sockets::{self, Source};

/// How often the program's own sockets are looked at while it is not ready yet. Cheaper than a
/// readiness check per look would allow, and frequent enough to say "it listens elsewhere"
/// well under a second after it does.
const LOOK_ELSEWHERE_EVERY: Duration = Duration::from_millis(50);

/// How long a program must listen elsewhere, and not on its port, before conform stops waiting:
/// a program that opens another port first and its own port a moment later is still ready.
pub const ELSEWHERE_SETTLE: Duration = Duration::from_millis(300);

/// Processes of one program looked at, at most (the program and its descendants).
const FAMILY_LIMIT: usize = 256;

/// Outcome of waiting for a program to start listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    Yes,
    Exited(Exit),
    /// The program (or one of its descendants) listens on these addresses, none on its port.
    Elsewhere(Vec<SocketAddr>),
    TimedOut,
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Yes => write!(f, "the program is listening"),
            Self::Exited(exit) => write!(f, "the program {exit} before it was listening"),
            Self::Elsewhere(_) => write!(f, "the program is listening on another port"),
            Self::TimedOut => write!(f, "the program was not listening before the deadline"),
        }
    }
}

/// What to wait for.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    pub source: Source,
    pub proto: Proto,
    pub port: u16,
    /// The program, whose own sockets tell whether it listens elsewhere; `None` to not look.
    pub pid: Option<u32>,
    pub deadline: Instant,
}

/// Polls the socket table until the port is bound, `exited` reports an exit, the program is
/// seen listening elsewhere for [`ELSEWHERE_SETTLE`], or the deadline.
///
/// `exited` is typically `|| child.try_status()`; it is asked after each look at the table so
/// a program that binds and then crashes still counts as having become ready.
pub fn wait_ready(watch: &Watch, mut exited: impl FnMut() -> Option<Exit>) -> io::Result<Ready> {
    // Starts short: a small program binds within a millisecond, and a look at the table costs
    // tens of microseconds through sock_diag.
    let mut pause = Duration::from_micros(100);
    let mut next_look = Instant::now() + LOOK_ELSEWHERE_EVERY;
    let mut elsewhere_since: Option<Instant> = None;
    loop {
        if sockets::is_bound(watch.source, watch.proto, watch.port)? {
            return Ok(Ready::Yes);
        }
        if let Some(exit) = exited() {
            return Ok(Ready::Exited(exit));
        }
        let now = Instant::now();
        if let Some(pid) = watch.pid
            && now >= next_look
        {
            next_look = now + LOOK_ELSEWHERE_EVERY;
            let found = elsewhere(watch, pid);
            match elsewhere_since {
                _ if found.is_empty() => elsewhere_since = None,
                None => elsewhere_since = Some(now),
                Some(since) if now - since >= ELSEWHERE_SETTLE => {
                    return Ok(Ready::Elsewhere(found));
                }
                Some(_) => {}
            }
        }
        if now >= watch.deadline {
            return Ok(Ready::TimedOut);
        }
        std::thread::sleep(pause.min(watch.deadline - now));
        pause = (pause * 5 / 4).min(Duration::from_millis(5));
    }
}

/// Where the program and its descendants listen (for `watch.proto`), other than its port.
fn elsewhere(watch: &Watch, pid: u32) -> Vec<SocketAddr> {
    let mut pids = vec![pid];
    pids.extend(proctable::family(pid, FAMILY_LIMIT));
    sockets::sockets_of(watch.source, &pids, Some(watch.proto))
        .into_iter()
        .map(|(_, addr)| addr)
        .filter(|addr| addr.port() != watch.port)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    fn watch(proto: Proto, port: u16, pid: Option<u32>, deadline: Instant) -> Watch {
        Watch {
            source: sockets::source(),
            proto,
            port,
            pid,
            deadline,
        }
    }

    fn generous() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    /// A port that nothing uses (bound, then released).
    fn unused_port() -> u16 {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        drop(socket);
        port
    }

    #[test]
    fn wait_ready_sees_an_existing_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let ready = wait_ready(&watch(Proto::Tcp, port, None, generous()), || None);
        assert_eq!(ready.expect("table"), Ready::Yes);
    }

    #[test]
    fn wait_ready_reports_exit_before_binding() {
        let w = watch(Proto::Udp, unused_port(), None, generous());
        let ready = wait_ready(&w, || Some(Exit::Code(2)));
        assert_eq!(ready.expect("table"), Ready::Exited(Exit::Code(2)));
    }

    #[test]
    fn wait_ready_times_out_when_nothing_binds() {
        let deadline = Instant::now() + Duration::from_millis(50);
        let ready = wait_ready(&watch(Proto::Udp, unused_port(), None, deadline), || None);
        assert_eq!(ready.expect("table"), Ready::TimedOut);
    }

    #[test]
    fn a_program_listening_on_another_port_is_reported_before_the_deadline() {
        // This test process plays the program: it listens, but not on the port it was given.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let w = watch(
            Proto::Tcp,
            unused_port(),
            Some(std::process::id()),
            Instant::now() + Duration::from_secs(600),
        );
        match wait_ready(&w, || None).expect("table") {
            Ready::Elsewhere(found) => assert!(found.contains(&addr), "{found:?}"),
            other => panic!("expected Elsewhere, got {other:?}"),
        }
    }
}
