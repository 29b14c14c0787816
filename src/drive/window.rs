//! A UDP socket that keeps many requests in flight to one server, for stateless datagram
//! services: sends without waiting, and receives whatever reply comes next.
//!
//! In: the server's address, datagrams to send, a deadline per receive. Out: the next reply
//! with its source, or a [`Mismatch`] saying that nothing came or a send failed. Waiting
//! follows the run's `--poll` choice like every other UDP wait: a non-blocking look first
//! (with many requests in flight a reply is usually queued), then a short spin when spinning
//! is on, then a bounded block in `poll(2)`. Datagrams are not logged one by one: a window's
//! failing request is replayed alone through the ordinary path, which logs it.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::poll;
use super::tcp::io_reason;
use crate::verdict::Mismatch;

/// Longest single block, so Ctrl-C is noticed promptly.
const SLICE: Duration = Duration::from_millis(50);

pub struct Window {
    socket: UdpSocket,
    server: SocketAddr,
    buf: Vec<u8>,
}

impl Window {
    /// A fresh socket on the server's loopback address, for requests to `server`.
    pub fn open(server: SocketAddr) -> std::io::Result<Window> {
        let socket = UdpSocket::bind(SocketAddr::new(server.ip(), 0))?;
        socket.set_nonblocking(true)?;
        Ok(Window {
            socket,
            server,
            buf: vec![0u8; 65_536],
        })
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Sends one request.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Mismatch> {
        loop {
            match self.socket.send_to(bytes, self.server) {
                Ok(_) => return Ok(()),
                // A full send buffer drains as the server reads: wait for room, bounded.
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !self.wait(libc::POLLOUT, SLICE) {
                        return Err(self.send_failed(bytes.len(), "the send buffer stayed full"));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.send_failed(bytes.len(), &io_reason(&e))),
            }
        }
    }

    fn send_failed(&self, len: usize, why: &str) -> Mismatch {
        Mismatch::new(format!(
            "could not send a {len}-byte datagram to {}: {why}",
            self.server
        ))
    }

    /// The next datagram to arrive within `within`, with its source; `None` when nothing
    /// came, or conform was interrupted.
    pub fn receive(&mut self, within: Duration) -> Option<(&[u8], SocketAddr)> {
        let start = Instant::now();
        let spin = poll::window().min(within);
        let mut blocked = false;
        loop {
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    poll::replied(start.elapsed(), !blocked);
                    return Some((&self.buf[..n], from));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // ICMP errors from earlier sends surface here on some systems; not a datagram.
                Err(_) => {}
            }
            let elapsed = start.elapsed();
            if elapsed < spin {
                std::hint::spin_loop();
                continue;
            }
            if elapsed >= within || crate::os::cleanup::is_interrupted() {
                return None;
            }
            blocked = true;
            self.wait(libc::POLLIN, (within - elapsed).min(SLICE));
        }
    }

    /// Blocks until the socket is ready for `events` or `timeout` passes.
    fn wait(&self, events: libc::c_short, timeout: Duration) -> bool {
        let mut fds = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events,
            revents: 0,
        };
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: `fds` is one valid pollfd for an open socket, and its count is 1.
        unsafe { libc::poll(&mut fds, 1, ms) > 0 }
    }
}
