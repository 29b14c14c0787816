//! The kernel's socket table, asked without opening a socket on the port: a protocol and a port
//! (or a set of pids) come in; the sockets there, with their local address, state and inode, go
//! out.
//!
//! The programs under test serve exactly one client, so a probe connection would eat it, and
//! binding the port ourselves could make the program's own bind fail. conform therefore asks the
//! kernel. It prefers netlink sock_diag ([`sockdiag`]), where the kernel filters by state and port
//! and answers in microseconds; where that is not available (an old or sandboxed kernel) it
//! reads `/proc/net` ([`procnet`]). The choice is made once per process, on first use.

pub mod procnet;
pub mod sockdiag;

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;

use crate::os::proctable;

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

/// Which sockets a query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// What makes a server ready: a listening TCP socket, a UDP socket with a local port.
    Ready,
    /// Every socket in any state, TIME_WAIT included.
    Any,
}

/// One socket as the kernel describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    pub proto: Proto,
    pub local: SocketAddr,
    /// The kernel's TCP state number (UDP sockets use the same numbers).
    pub state: u8,
    /// Names the socket in `/proc/PID/fd`, which tells whose it is.
    pub inode: u64,
}

/// Where the socket table is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    SockDiag,
    ProcNet,
}

impl Source {
    /// The sockets of `proto` in the `wanted` states, on `port` if given.
    pub fn list(
        self,
        proto: Proto,
        wanted: Wanted,
        port: Option<u16>,
    ) -> io::Result<Vec<SocketInfo>> {
        match self {
            // A query that fails once netlink has proved to work (a signal during the receive,
            // say) is answered from /proc/net rather than failing the case.
            Self::SockDiag => {
                sockdiag::list(proto, wanted, port).or_else(|_| procnet::list(proto, wanted, port))
            }
            Self::ProcNet => procnet::list(proto, wanted, port),
        }
    }

    /// Tries sock_diag once for each protocol; `Err` says why it can't be used.
    fn probe() -> io::Result<()> {
        // Port 0 matches nothing, so this also checks that the kernel takes the port filter.
        for proto in [Proto::Tcp, Proto::Udp] {
            sockdiag::list(proto, Wanted::Ready, Some(0))?;
        }
        Ok(())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SockDiag => "netlink sock_diag",
            Self::ProcNet => "/proc/net",
        })
    }
}

/// The source chosen for this process, and why sock_diag was not, if it was not.
fn chosen() -> &'static (Source, Option<String>) {
    static CHOSEN: OnceLock<(Source, Option<String>)> = OnceLock::new();
    CHOSEN.get_or_init(|| match Source::probe() {
        Ok(()) => (Source::SockDiag, None),
        Err(e) => (Source::ProcNet, Some(e.to_string())),
    })
}

/// Where this process reads the socket table.
pub fn source() -> Source {
    chosen().0
}

/// One line for `--verbose`: where sockets are read, and why not through netlink if not.
pub fn source_note() -> String {
    match chosen() {
        (source, None) => format!("reading the socket table through {source}"),
        (source, Some(why)) => {
            format!("reading the socket table through {source} (netlink sock_diag: {why})")
        }
    }
}

/// Whether anything listens on TCP `port` (or has UDP `port`), on any address.
pub fn is_bound(source: Source, proto: Proto, port: u16) -> io::Result<bool> {
    Ok(!source.list(proto, Wanted::Ready, Some(port))?.is_empty())
}

/// The local addresses of listening TCP sockets (or UDP sockets) on `port`, for messages such
/// as "something listens on [::1]:5555 but not on 127.0.0.1".
pub fn bound_addrs(proto: Proto, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs: BTreeSet<SocketAddr> = source()
        .list(proto, Wanted::Ready, Some(port))?
        .into_iter()
        .map(|s| s.local)
        .collect();
    Ok(addrs.into_iter().collect())
}

/// Whether any TCP or UDP socket, in any state (TIME_WAIT included), uses `port` locally.
pub fn port_seen(port: u16) -> bool {
    [Proto::Tcp, Proto::Udp].into_iter().any(|proto| {
        source()
            .list(proto, Wanted::Any, Some(port))
            .is_ok_and(|found| !found.is_empty())
    })
}

/// The listening TCP and bound UDP sockets held open by any of `pids`, sorted; only `proto`'s
/// when given.
///
/// Processes that vanish or whose descriptors we may not read are skipped: this feeds hints in
/// messages and must never turn into an error of its own.
pub fn sockets_of(source: Source, pids: &[u32], proto: Option<Proto>) -> Vec<(Proto, SocketAddr)> {
    let inodes: BTreeSet<u64> = pids
        .iter()
        .flat_map(|&pid| proctable::socket_inodes(pid))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut found = BTreeSet::new();
    for p in [Proto::Tcp, Proto::Udp] {
        if proto.is_some_and(|wanted| wanted != p) {
            continue;
        }
        for socket in source.list(p, Wanted::Ready, None).unwrap_or_default() {
            if inodes.contains(&socket.inode) {
                found.insert((p, socket.local));
            }
        }
    }
    found.into_iter().collect()
}

/// The processes (pid and command line) that hold a listening TCP socket or a UDP socket on
/// `port`, among those whose descriptors conform may read; empty when none can be seen.
pub fn holders(proto: Proto, port: u16) -> Vec<(u32, String)> {
    let inodes: BTreeSet<u64> = source()
        .list(proto, Wanted::Ready, Some(port))
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.inode)
        .filter(|&inode| inode != 0)
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    proctable::owners_of(&inodes)
}

#[cfg(test)]
mod tests;
