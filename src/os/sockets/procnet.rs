//! The fallback where netlink is not available: the same questions answered by reading
//! `/proc/net/{tcp,tcp6,udp,udp6}`. A protocol and optionally a local port come in; the
//! matching rows, decoded, go out.
//!
//! Every read makes the kernel walk its whole connection table, so this costs milliseconds on
//! a machine with many connections (TIME_WAIT included); `sockdiag` is preferred whenever the
//! kernel answers it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{Proto, SocketInfo, Wanted};

/// The kernel's number for a listening TCP socket.
const TCP_LISTEN: u8 = 0x0A;

fn tables(proto: Proto) -> [&'static str; 2] {
    match proto {
        Proto::Tcp => ["/proc/net/tcp", "/proc/net/tcp6"],
        Proto::Udp => ["/proc/net/udp", "/proc/net/udp6"],
    }
}

/// The sockets of `proto` in the `wanted` states, on `port` if given.
pub fn list(proto: Proto, wanted: Wanted, port: Option<u16>) -> io::Result<Vec<SocketInfo>> {
    let mut found = Vec::new();
    for path in tables(proto) {
        match std::fs::read_to_string(path) {
            Ok(text) => found.extend(
                text.lines()
                    .skip(1)
                    .filter_map(|line| parse_row(proto, line))
                    .filter(|s| port.is_none_or(|p| s.local.port() == p))
                    .filter(|s| counts(wanted, s)),
            ),
            // A kernel without IPv6 has no tcp6/udp6 table; that just means no IPv6 sockets.
            Err(e) if e.kind() == io::ErrorKind::NotFound && path.ends_with('6') => {}
            Err(e) => return Err(io::Error::new(e.kind(), format!("cannot read {path}: {e}"))),
        }
    }
    Ok(found)
}

/// A TCP server is ready only once it listens; a UDP server as soon as it has a port.
fn counts(wanted: Wanted, socket: &SocketInfo) -> bool {
    match (wanted, socket.proto) {
        (Wanted::Any, _) => true,
        (Wanted::Ready, Proto::Tcp) => socket.state == TCP_LISTEN,
        (Wanted::Ready, Proto::Udp) => socket.local.port() != 0,
    }
}

/// Parses `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_row(proto: Proto, line: &str) -> Option<SocketInfo> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local = parse_hex_addr(fields.get(1)?)?;
    let state = u8::from_str_radix(fields.get(3)?, 16).ok()?;
    let inode = fields.get(9)?.parse().ok()?;
    Some(SocketInfo {
        proto,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_row_is_decoded() {
        let line = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 \
                    00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0";
        let row = parse_row(Proto::Tcp, line).expect("row parses");
        if cfg!(target_endian = "little") {
            assert_eq!(row.local, "127.0.0.1:8080".parse().expect("addr"));
        }
        assert_eq!(row.state, TCP_LISTEN);
        assert_eq!(row.inode, 424242);
    }

    #[test]
    fn ipv6_row_is_decoded() {
        let line = "   0: 00000000000000000000000001000000:1F90 \
                    00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 \
                    00000000  1000        0 77 1 0000000000000000 100 0 0 10 0";
        let row = parse_row(Proto::Tcp, line).expect("row parses");
        if cfg!(target_endian = "little") {
            assert_eq!(row.local, "[::1]:8080".parse().expect("addr"));
        }
        assert_eq!(row.inode, 77);
    }

    #[test]
    fn malformed_rows_are_skipped() {
        assert_eq!(parse_row(Proto::Tcp, "garbage"), None);
        assert_eq!(parse_row(Proto::Tcp, "0: XYZ:1 0:0 0A a b c d e 1"), None);
    }
}
