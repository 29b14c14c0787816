//! The guide's four programs, rewritten in Rust as the reference for conform.
//!
//! The sockets guide defines two tiny exchanges. Both run on the loopback
//! address, `127.0.0.1:PORT`:
//!
//! * **TCP greeting** ([`tcp`]). The server accepts a connection and writes
//!   [`GREETING`], `Hello World!` followed by a line feed. The client reads one
//!   line and prints `Input is: Hello World!`. The client sends nothing.
//! * **UDP reversal** ([`udp`]). The client sends the eight bytes of
//!   [`UDP_REQUEST`]. The server prints them as a Lisp vector,
//!   `#(1 2 3 4 5 6 7 8)`, and sends them back in reverse order, from the
//!   socket that received them, to the sender's address. The client prints
//!   `Sending data`, `Receiving data` and the reply, `#(8 7 6 5 4 3 2 1)`.
//!
//! In the guide, each program is a function that prints to standard output.
//! Here each one is a function that writes to an `out` writer that stands for
//! standard output. On success the bytes match the guide's output exactly.
//! The caller binds the listener or socket that a server uses, so tests can
//! bind port 0 and let the kernel pick a free port.
//!
//! The guide's servers handle one client and then return ([`Serve::Once`]).
//! The reference can also keep serving ([`Serve::Forever`]) until a
//! [`Shutdown`] flag is triggered. Unlike the guide, the reference is careful:
//!
//! * the TCP client reads until the newline, however the line is split
//!   into segments;
//! * the UDP server handles a datagram of any size;
//! * every wait has a deadline or checks the shutdown flag.

pub mod tcp;
pub mod udp;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use tcp::{GREETING, tcp_client, tcp_server};
pub use udp::{UDP_REQUEST, udp_client, udp_server};

/// How many clients a server handles before it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serve {
    /// Handle one client (one TCP connection or one datagram) and return, as
    /// the guide does. A shutdown that comes before any client also returns.
    Once,
    /// Handle clients until [`Shutdown::trigger`] is called.
    Forever,
}

/// A flag that tells a running server to stop. Clones share the same flag.
///
/// The servers check the flag at least every [`POLL_INTERVAL`]. So a server
/// stops soon after [`trigger`](Shutdown::trigger), even if no client ever
/// comes.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// A flag that is not triggered yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every server that holds a clone of this flag to stop.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`trigger`](Shutdown::trigger) has been called on any clone.
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How long a server waits for a client before it checks [`Shutdown`] again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Formats bytes the way Common Lisp prints a byte vector: unsigned
/// decimal numbers separated by single spaces inside `#(` and `)`.
///
/// `lisp_vector(&[1, 2, 3])` is `"#(1 2 3)"` and `lisp_vector(&[])` is `"#()"`.
#[must_use]
pub fn lisp_vector(bytes: &[u8]) -> String {
    let numbers: Vec<String> = bytes.iter().map(u8::to_string).collect();
    format!("#({})", numbers.join(" "))
}

/// Returns `duration`, raised to one millisecond if it is zero. Socket timeouts
/// reject a zero duration, because zero would mean "wait forever".
pub(crate) fn at_least_1ms(duration: Duration) -> Duration {
    duration.max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(&[], "#()")]
    #[case(&[0], "#(0)")]
    #[case(&[1, 2, 3, 4, 5, 6, 7, 8], "#(1 2 3 4 5 6 7 8)")]
    #[case(&[8, 7, 6, 5, 4, 3, 2, 1], "#(8 7 6 5 4 3 2 1)")]
    #[case(&[0, 127, 128, 255], "#(0 127 128 255)")]
    fn lisp_vector_prints_decimal_bytes(#[case] bytes: &[u8], #[case] expected: &str) {
        assert_eq!(lisp_vector(bytes), expected);
    }

    #[test]
    fn shutdown_is_shared_by_clones() {
        let flag = Shutdown::new();
        let clone = flag.clone();
        assert!(!flag.is_triggered());
        clone.trigger();
        assert!(flag.is_triggered());
        assert!(clone.is_triggered());
    }

    #[test]
    fn zero_timeout_becomes_one_millisecond() {
        assert_eq!(at_least_1ms(Duration::ZERO), Duration::from_millis(1));
        assert_eq!(at_least_1ms(Duration::from_secs(2)), Duration::from_secs(2));
    }
}
