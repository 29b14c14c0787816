//! Readiness without touching the program: a protocol and port (or a set of pids) come in; what
//! the kernel's socket and process tables say goes out.
//!
//! The programs under test serve exactly one client, so a probe connection would eat it, and
//! binding the port ourselves could make the program's own bind fail. Everything here therefore
//! reads `/proc/net/{tcp,tcp6,udp,udp6}` and `/proc/PID/{stat,fd}` and never opens a socket.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::process::Exit;
use crate::proctable;

/// Transport protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        })
    }
}

/// The kernel's state code for a listening TCP socket.
const TCP_LISTEN: &str = "0A";

/// One row of a `/proc/net` socket table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SocketRow {
    local: SocketAddr,
    state: String,
    inode: u64,
}

impl Proto {
    fn tables(self) -> [&'static str; 2] {
        match self {
            Self::Tcp => ["/proc/net/tcp", "/proc/net/tcp6"],
            Self::Udp => ["/proc/net/udp", "/proc/net/udp6"],
        }
    }

    /// A TCP server is ready only once it listens; a UDP server as soon as it is bound.
    fn counts(self, row: &SocketRow) -> bool {
        match self {
            Self::Tcp => row.state == TCP_LISTEN,
            Self::Udp => row.local.port() != 0,
        }
    }
}

/// Whether any process has a listening TCP socket (or any UDP socket) on `port`, any address.
pub fn is_bound(proto: Proto, port: u16) -> io::Result<bool> {
    // Polled every few hundred microseconds while a program starts: look only at the local
    // port and state columns, and stop at the first table that has the port.
    let wanted = format!(":{port:04X}");
    let mut readable = false;
    for table in proto.tables() {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        readable = true;
        let found = text.lines().skip(1).any(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1).unwrap_or("");
            let state = fields.nth(1).unwrap_or("");
            local.ends_with(&wanted)
                && match proto {
                    Proto::Tcp => state == TCP_LISTEN,
                    Proto::Udp => true,
                }
        });
        if found {
            return Ok(true);
        }
    }
    if readable {
        Ok(false)
    } else {
        Err(io::Error::other(
            "cannot read the kernel's socket tables in /proc/net",
        ))
    }
}

/// Whether any TCP or UDP socket, in any state (TIME_WAIT included), uses `port` locally.
pub fn port_seen(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    [Proto::Tcp, Proto::Udp]
        .iter()
        .flat_map(|proto| proto.tables())
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .any(|text| {
            text.lines().skip(1).any(|line| {
                line.split_whitespace()
                    .nth(1)
                    .is_some_and(|l| l.ends_with(&wanted))
            })
        })
}

/// The local addresses of listening TCP sockets (or UDP sockets) on `port`, for messages such
/// as "something listens on [::1]:5555 but not on 127.0.0.1".
pub fn bound_addrs(proto: Proto, port: u16) -> io::Result<Vec<SocketAddr>> {
    let rows = read_tables(proto)?;
    let addrs = rows
        .into_iter()
        .filter(|row| row.local.port() == port && proto.counts(row))
        .map(|row| row.local)
        .collect::<BTreeSet<_>>();
    Ok(addrs.into_iter().collect())
}

/// The listening TCP and bound UDP sockets held open by any of `pids`, sorted.
///
/// Processes that vanish or whose descriptors we may not read are skipped: this feeds hints in
/// messages and must never turn into an error of its own.
pub fn sockets_of(pids: &[u32]) -> Vec<(Proto, SocketAddr)> {
    let inodes: BTreeSet<u64> = pids
        .iter()
        .flat_map(|&pid| proctable::socket_inodes(pid))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut found = BTreeSet::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let rows = read_tables(proto).unwrap_or_default();
        for row in rows {
            if inodes.contains(&row.inode) && proto.counts(&row) {
                found.insert((proto, row.local));
            }
        }
    }
    found.into_iter().collect()
}

fn read_tables(proto: Proto) -> io::Result<Vec<SocketRow>> {
    let mut rows = Vec::new();
    for path in proto.tables() {
        match std::fs::read_to_string(path) {
            Ok(text) => rows.extend(text.lines().skip(1).filter_map(parse_row)),
            // A kernel without IPv6 has no tcp6/udp6 table; that just means no IPv6 sockets.
            Err(e) if e.kind() == io::ErrorKind::NotFound && path.ends_with('6') => {}
            Err(e) => return Err(io::Error::new(e.kind(), format!("cannot read {path}: {e}"))),
        }
    }
    Ok(rows)
}

/// Parses `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_row(line: &str) -> Option<SocketRow> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local = parse_hex_addr(fields.get(1)?)?;
    let state = fields.get(3)?.to_string();
    let inode = fields.get(9)?.parse().ok()?;
    Some(SocketRow {
        local,
        state,
        inode,
    })
}

/// Decodes `ADDR:PORT` as the kernel prints it: the address as 32-bit words in host byte order
/// (so the hex reads "backwards" on little-endian machines), the port as a plain number.
fn parse_hex_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(hex_word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&hex_word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn hex_word(hex: &str) -> Option<[u8; 4]> {
    u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
}

/// Outcome of waiting for a program to start listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    Yes,
    Exited(Exit),
    TimedOut,
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Yes => write!(f, "the program is listening"),
            Self::Exited(exit) => write!(f, "the program {exit} before it was listening"),
            Self::TimedOut => write!(f, "the program was not listening before the deadline"),
        }
    }
}

/// Polls the socket tables until `port` is bound, `exited` reports an exit, or `deadline`.
///
/// `exited` is typically `|| child.try_status()`; it is asked after each look at the tables so
/// a program that binds and then crashes still counts as having become ready.
pub fn wait_ready(
    proto: Proto,
    port: u16,
    mut exited: impl FnMut() -> Option<Exit>,
    deadline: Instant,
) -> io::Result<Ready> {
    // Starts short: a small program binds within a millisecond, and each look at the table
    // costs only tens of microseconds.
    let mut pause = Duration::from_micros(100);
    loop {
        if is_bound(proto, port)? {
            return Ok(Ready::Yes);
        }
        if let Some(exit) = exited() {
            return Ok(Ready::Exited(exit));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Ready::TimedOut);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 5 / 4).min(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn generous() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn tcp_listener_on_loopback_is_bound() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(is_bound(Proto::Tcp, port).expect("read tables"));
        let addrs = bound_addrs(Proto::Tcp, port).expect("read tables");
        assert_eq!(addrs, vec![listener.local_addr().expect("addr")]);
    }

    #[test]
    fn tcp_port_stops_being_bound_when_listener_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        assert!(!is_bound(Proto::Tcp, port).expect("read tables"));
    }

    /// A TCP socket that is bound but never listens, made with libc since std can't.
    fn bound_tcp_socket() -> (OwnedFd, u16) {
        // SAFETY: plain socket calls on a fresh descriptor we own; sockaddr_in is plain data.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket failed");
            let fd = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let sa = &raw mut addr as *mut libc::sockaddr;
            assert_eq!(libc::bind(fd.as_raw_fd(), sa, len), 0, "bind failed");
            let mut got_len = len;
            assert_eq!(libc::getsockname(fd.as_raw_fd(), sa, &mut got_len), 0);
            (fd, u16::from_be(addr.sin_port))
        }
    }

    #[test]
    fn bound_but_not_listening_tcp_socket_is_not_ready() {
        let (_fd, port) = bound_tcp_socket();
        assert!(!is_bound(Proto::Tcp, port).expect("read tables"));
    }

    #[test]
    fn udp_socket_is_bound() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        assert!(is_bound(Proto::Udp, port).expect("read tables"));
        assert!(!is_bound(Proto::Tcp, port).expect("read tables"));
    }

    #[test]
    fn ipv6_loopback_sockets_are_found_and_decoded() {
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            eprintln!("skipping: ::1 is not available on this machine");
            return;
        };
        let addr = listener.local_addr().expect("addr");
        assert_eq!(
            bound_addrs(Proto::Tcp, addr.port()).expect("read tables"),
            vec![addr]
        );
        let udp = UdpSocket::bind("[::1]:0").expect("udp bind on ::1");
        let udp_addr = udp.local_addr().expect("addr");
        assert!(is_bound(Proto::Udp, udp_addr.port()).expect("read tables"));
    }

    #[test]
    fn sockets_of_own_pid_finds_our_listener_and_udp_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let found = sockets_of(&[std::process::id()]);
        assert!(found.contains(&(Proto::Tcp, listener.local_addr().expect("addr"))));
        assert!(found.contains(&(Proto::Udp, udp.local_addr().expect("addr"))));
    }

    #[test]
    fn sockets_of_unknown_pid_is_empty() {
        assert!(sockets_of(&[u32::MAX]).is_empty());
    }

    #[test]
    fn ipv4_row_is_decoded() {
        let line = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 \
                    00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0";
        let row = parse_row(line).expect("row parses");
        if cfg!(target_endian = "little") {
            assert_eq!(row.local, "127.0.0.1:8080".parse().expect("addr"));
        }
        assert_eq!(row.state, "0A");
        assert_eq!(row.inode, 424242);
    }

    #[test]
    fn ipv6_row_is_decoded() {
        let line = "   0: 00000000000000000000000001000000:1F90 \
                    00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 \
                    00000000  1000        0 77 1 0000000000000000 100 0 0 10 0";
        let row = parse_row(line).expect("row parses");
        if cfg!(target_endian = "little") {
            assert_eq!(row.local, "[::1]:8080".parse().expect("addr"));
        }
        assert_eq!(row.inode, 77);
    }

    #[test]
    fn malformed_rows_are_skipped() {
        assert_eq!(parse_row("garbage"), None);
        assert_eq!(parse_row("0: XYZ:1 0:0 0A a b c d e 1"), None);
    }

    #[test]
    fn wait_ready_sees_an_existing_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let ready = wait_ready(Proto::Tcp, port, || None, generous());
        assert_eq!(ready.expect("tables"), Ready::Yes);
    }

    #[test]
    fn wait_ready_reports_exit_before_binding() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        drop(socket);
        let ready = wait_ready(Proto::Udp, port, || Some(Exit::Code(2)), generous());
        assert_eq!(ready.expect("tables"), Ready::Exited(Exit::Code(2)));
    }

    #[test]
    fn wait_ready_times_out_when_nothing_binds() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        drop(socket);
        let deadline = Instant::now() + Duration::from_millis(50);
        let ready = wait_ready(Proto::Udp, port, || None, deadline);
        assert_eq!(ready.expect("tables"), Ready::TimedOut);
    }
}
