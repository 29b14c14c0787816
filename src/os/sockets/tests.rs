//! Both sources against real sockets bound here on loopback, and against each other.

use super::*;
use rstest::rstest;
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The source's own answer, without the fallback `Source::list` adds, so a broken sock_diag
/// cannot hide behind /proc/net.
fn strict(
    source: Source,
    proto: Proto,
    wanted: Wanted,
    port: Option<u16>,
) -> io::Result<Vec<SocketInfo>> {
    match source {
        Source::SockDiag => sockdiag::list(proto, wanted, port),
        Source::ProcNet => procnet::list(proto, wanted, port),
    }
}

fn bound(source: Source, proto: Proto, port: u16) -> bool {
    !strict(source, proto, Wanted::Ready, Some(port))
        .expect("read table")
        .is_empty()
}

fn ports(found: &[SocketInfo]) -> BTreeSet<(SocketAddr, u8, u64)> {
    found.iter().map(|s| (s.local, s.state, s.inode)).collect()
}

#[rstest]
fn tcp_listener_on_loopback_is_bound(#[values(Source::SockDiag, Source::ProcNet)] source: Source) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    assert!(bound(source, Proto::Tcp, addr.port()));
    let found = strict(source, Proto::Tcp, Wanted::Ready, Some(addr.port())).expect("read table");
    assert_eq!(
        found.iter().map(|s| s.local).collect::<Vec<_>>(),
        vec![addr]
    );
}

#[rstest]
fn tcp_port_stops_being_bound_when_listener_closes(
    #[values(Source::SockDiag, Source::ProcNet)] source: Source,
) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    assert!(!bound(source, Proto::Tcp, port));
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

#[rstest]
fn bound_but_not_listening_tcp_socket_is_not_ready(
    #[values(Source::SockDiag, Source::ProcNet)] source: Source,
) {
    let (_fd, port) = bound_tcp_socket();
    assert!(!bound(source, Proto::Tcp, port));
}

#[rstest]
fn udp_socket_is_bound(#[values(Source::SockDiag, Source::ProcNet)] source: Source) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = socket.local_addr().expect("addr").port();
    assert!(bound(source, Proto::Udp, port));
    assert!(!bound(source, Proto::Tcp, port));
}

#[rstest]
fn ipv6_loopback_sockets_are_found_and_decoded(
    #[values(Source::SockDiag, Source::ProcNet)] source: Source,
) {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipping: ::1 is not available on this machine");
        return;
    };
    let addr = listener.local_addr().expect("addr");
    let found = strict(source, Proto::Tcp, Wanted::Ready, Some(addr.port())).expect("read table");
    assert_eq!(
        found.iter().map(|s| s.local).collect::<Vec<_>>(),
        vec![addr]
    );
    let udp = UdpSocket::bind("[::1]:0").expect("udp bind on ::1");
    let udp_addr = udp.local_addr().expect("addr");
    assert!(bound(source, Proto::Udp, udp_addr.port()));
}

#[rstest]
fn sockets_of_own_pid_finds_our_listener_and_udp_socket(
    #[values(Source::SockDiag, Source::ProcNet)] source: Source,
) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let found = sockets_of(source, &[std::process::id()], None);
    assert!(found.contains(&(Proto::Tcp, listener.local_addr().expect("addr"))));
    assert!(found.contains(&(Proto::Udp, udp.local_addr().expect("addr"))));
    let tcp_only = sockets_of(source, &[std::process::id()], Some(Proto::Tcp));
    assert!(!tcp_only.iter().any(|(p, _)| *p == Proto::Udp));
}

#[test]
fn sockets_of_unknown_pid_is_empty() {
    assert!(sockets_of(source(), &[u32::MAX], None).is_empty());
}

#[test]
fn sock_diag_is_chosen_where_the_kernel_answers_it() {
    // Where netlink works at all, the probe must pick it; otherwise the note says why not.
    if sockdiag::list(Proto::Tcp, Wanted::Ready, None).is_ok()
        && sockdiag::list(Proto::Udp, Wanted::Ready, None).is_ok()
    {
        assert_eq!(source(), Source::SockDiag, "{}", source_note());
    } else {
        assert!(source_note().contains("/proc/net"), "{}", source_note());
    }
}

#[test]
fn both_sources_agree_on_listeners_udp_sockets_and_inodes() {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for listener in &listeners {
        let port = listener.local_addr().expect("addr").port();
        let netlink = strict(Source::SockDiag, Proto::Tcp, Wanted::Ready, Some(port));
        let proc = strict(Source::ProcNet, Proto::Tcp, Wanted::Ready, Some(port));
        let (netlink, proc) = (netlink.expect("sock_diag"), proc.expect("/proc/net"));
        assert_eq!(ports(&netlink), ports(&proc));
        assert_eq!(netlink.len(), 1);
        assert!(netlink[0].inode != 0);
    }
    let port = udp.local_addr().expect("addr").port();
    let netlink = strict(Source::SockDiag, Proto::Udp, Wanted::Ready, Some(port));
    let proc = strict(Source::ProcNet, Proto::Udp, Wanted::Ready, Some(port));
    assert_eq!(
        ports(&netlink.expect("sock_diag")),
        ports(&proc.expect("/proc/net"))
    );
}

#[test]
fn unfiltered_listening_sockets_agree_on_ours() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    for source in [Source::SockDiag, Source::ProcNet] {
        let all = strict(source, Proto::Tcp, Wanted::Ready, None).expect("read table");
        assert!(all.iter().any(|s| s.local == addr), "{source}");
        assert!(all.iter().all(|s| s.state == 0x0A), "{source}");
    }
}

#[rstest]
fn a_connection_in_time_wait_is_seen_on_its_port(
    #[values(Source::SockDiag, Source::ProcNet)] source: Source,
) {
    // The side that closes first keeps the connection in TIME_WAIT: here the listener's.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    drop(server);
    drop(listener);
    // Reading to the end waits for the server's FIN without any timing assumption.
    let _ = std::io::Read::read_to_end(&mut &client, &mut Vec::new());
    drop(client);
    let any = strict(source, Proto::Tcp, Wanted::Any, Some(port)).expect("read table");
    assert!(!any.is_empty(), "{source}: nothing left on port {port}");
    assert!(
        strict(source, Proto::Tcp, Wanted::Ready, Some(port))
            .expect("read table")
            .is_empty()
    );
}

#[test]
fn holders_of_a_port_name_this_process() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let found = holders(Proto::Tcp, port);
    assert!(
        found.iter().any(|(pid, _)| *pid == std::process::id()),
        "{found:?}"
    );
}

#[test]
fn port_filter_program_is_two_comparisons_of_the_port() {
    let attr = sockdiag::port_filter(0x1234);
    assert_eq!(attr.len(), 20);
    assert_eq!(u16::from_ne_bytes([attr[0], attr[1]]), 20);
    // Each comparison is followed by the port as its operand.
    assert_eq!(u16::from_ne_bytes([attr[10], attr[11]]), 0x1234);
    assert_eq!(u16::from_ne_bytes([attr[18], attr[19]]), 0x1234);
}
