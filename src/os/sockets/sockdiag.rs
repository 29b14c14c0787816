//! Asking the kernel through netlink `NETLINK_SOCK_DIAG` (inet_diag, as `ss` does): a protocol,
//! the states wanted and optionally a local port come in; the matching sockets, with their local
//! address, state and inode, go out.
//!
//! Unlike reading `/proc/net/tcp`, which walks the kernel's whole connection table on every
//! read, the state and the port are filtered in the kernel: a query for listening sockets never
//! looks at established or TIME_WAIT connections, so it costs the same tens of microseconds on a
//! busy machine as on an idle one. The message layout comes from `netlink-packet-sock-diag`; only
//! the port filter (a few bytes of inet_diag bytecode, which that crate does not model) is
//! written here.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, TCP_LISTEN,
};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_SOCK_DIAG};

use super::{Proto, SocketInfo, Wanted};

/// The request attribute that carries a filter program (`INET_DIAG_REQ_BYTECODE`).
const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// Filter instructions: "local port >= N" and "local port <= N" (`INET_DIAG_BC_S_GE`/`_S_LE`),
/// understood by every kernel that has inet_diag (the `== N` instruction is much younger).
const INET_DIAG_BC_S_GE: u8 = 2;
const INET_DIAG_BC_S_LE: u8 = 3;

/// How long one answer from the kernel may take; it normally comes in microseconds.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// Messages read for one query at most: a dump of every socket on a very busy machine fits
/// many times over, and a kernel that never says "done" cannot keep conform reading.
const MAX_RECEIVES: usize = 10_000;

/// Receive buffer: large enough for the biggest dump message the kernel sends (32 KiB).
const BUFFER: usize = 64 * 1024;

/// The sockets of `proto` in the `wanted` states, on `port` if given, over IPv4 and IPv6.
pub fn list(proto: Proto, wanted: Wanted, port: Option<u16>) -> io::Result<Vec<SocketInfo>> {
    // One netlink socket per thread, kept between queries: opening one costs four system calls,
    // as much as the query itself. After an error it is closed, so an answer left half read can
    // never be taken for the next one's.
    thread_local! {
        static CACHED: RefCell<Option<(Socket, Vec<u8>)>> = const { RefCell::new(None) };
    }
    CACHED.with(|cell| {
        let mut cached = cell.borrow_mut();
        let (socket, buffer) = match cached.take() {
            Some(open) => open,
            None => (open()?, vec![0u8; BUFFER]),
        };
        let mut buffer = buffer;
        let result = query(&socket, &mut buffer, proto, wanted, port);
        if result.is_ok() {
            *cached = Some((socket, buffer));
        }
        result
    })
}

fn query(
    socket: &Socket,
    buffer: &mut [u8],
    proto: Proto,
    wanted: Wanted,
    port: Option<u16>,
) -> io::Result<Vec<SocketInfo>> {
    let mut found = Vec::new();
    for family in [AF_INET, AF_INET6] {
        let request = request(proto, wanted, family, port);
        socket.send(&request, 0)?;
        receive(socket, proto, buffer, &mut found)?;
    }
    // UDP has no listening state: a socket counts once it has a local port.
    if proto == Proto::Udp {
        found.retain(|s| s.local.port() != 0);
    }
    Ok(found)
}

fn open() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NetlinkAddr::new(0, 0))?;
    set_receive_timeout(&socket, ANSWER_TIMEOUT)?;
    Ok(socket)
}

fn set_receive_timeout(socket: &Socket, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    // SAFETY: setsockopt reads `size_of::<timeval>()` bytes from a live local value.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A dump request for one family, with the port filter appended when there is a port.
fn request(proto: Proto, wanted: Wanted, family: u8, port: Option<u16>) -> Vec<u8> {
    let states = match (proto, wanted) {
        (Proto::Tcp, Wanted::Ready) => StateFlags::LISTEN,
        // A UDP socket is "closed" when bound but unconnected and "established" when connected.
        (Proto::Udp, Wanted::Ready) | (_, Wanted::Any) => StateFlags::all(),
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut message = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: match proto {
                Proto::Tcp => IPPROTO_TCP,
                Proto::Udp => IPPROTO_UDP,
            },
            extensions: ExtensionFlags::empty(),
            states,
            socket_id: if family == AF_INET {
                SocketId::new_v4()
            } else {
                SocketId::new_v6()
            },
        })
        .into(),
    );
    message.finalize();
    let mut bytes = vec![0u8; message.buffer_len()];
    message.serialize(&mut bytes);
    if let Some(port) = port {
        let filter = port_filter(port);
        bytes.extend_from_slice(&filter);
        // The netlink header's first field is the total length, in host byte order.
        let total = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        bytes[..4].copy_from_slice(&total.to_ne_bytes());
    }
    bytes
}

/// The attribute holding "local port >= port and local port <= port" as inet_diag bytecode.
///
/// Each instruction is `{code: u8, yes: u8, no: u16}` followed by one holding the operand in
/// `no`. On a match the kernel moves `yes` bytes on, otherwise `no`; a socket is reported when
/// the program ends exactly at its last byte, so `no` jumps 4 bytes past the end to reject.
pub(super) fn port_filter(port: u16) -> [u8; 20] {
    const PROGRAM: u16 = 16;
    let mut attr = [0u8; 20];
    attr[0..2].copy_from_slice(&(4 + PROGRAM).to_ne_bytes());
    attr[2..4].copy_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    let ops = [
        (INET_DIAG_BC_S_GE, 8u8, PROGRAM + 4),
        (0, 0, port),
        (INET_DIAG_BC_S_LE, 8, PROGRAM - 8 + 4),
        (0, 0, port),
    ];
    for (i, (code, yes, no)) in ops.into_iter().enumerate() {
        let at = 4 + i * 4;
        attr[at] = code;
        attr[at + 1] = yes;
        attr[at + 2..at + 4].copy_from_slice(&no.to_ne_bytes());
    }
    attr
}

/// Reads answers until the kernel says the dump is done.
fn receive(
    socket: &Socket,
    proto: Proto,
    buffer: &mut [u8],
    found: &mut Vec<SocketInfo>,
) -> io::Result<()> {
    for _ in 0..MAX_RECEIVES {
        let size = socket.recv(&mut &mut buffer[..], 0)?;
        let mut offset = 0;
        while offset < size {
            let message = NetlinkMessage::<SockDiagMessage>::deserialize(&buffer[offset..size])
                .map_err(|e| io::Error::other(format!("sock_diag answer not understood: {e}")))?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(error) => return Err(error.to_io()),
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    let header = &response.header;
                    let id = &header.socket_id;
                    found.push(SocketInfo {
                        proto,
                        local: SocketAddr::new(id.source_address, id.source_port),
                        state: header.state,
                        inode: u64::from(header.inode),
                    });
                }
                // Acknowledgements, no-ops and (non-exhaustive) future kinds carry no socket.
                _ => {}
            }
            if length == 0 {
                break;
            }
            // Messages are padded to 4 bytes.
            offset += (length + 3) & !3;
        }
    }
    Err(io::Error::other(
        "sock_diag: the kernel's answer never ended",
    ))
}

/// Whether a state is TCP's listening state, as the kernel numbers it.
pub fn is_listen(state: u8) -> bool {
    state == TCP_LISTEN
}
