//! The UDP reversal.
//!
//! What goes in and out:
//!
//! * [`udp_server`] gets a bound `UdpSocket`. For each datagram it writes one
//!   line to `out`: the datagram's bytes as a Lisp vector, for example
//!   `#(1 2 3 4 5 6 7 8)`. Then it sends the same bytes in reverse order
//!   back to the sender's address, from the same socket.
//! * [`udp_client`] gets the server's address. It sends [`UDP_REQUEST`] and
//!   receives one datagram. It writes `Sending data`, `Receiving data` and
//!   the reply as a Lisp vector, `#(8 7 6 5 4 3 2 1)`.
//!
//! The exchange on the wire:
//!
//! ```text
//! client (any port)                      server (PORT)
//!   | --- 01 02 03 04 05 06 07 08 ---------> |  prints #(1 2 3 4 5 6 7 8)
//!   | <-- 08 07 06 05 04 03 02 01 ---------- |  (reply from PORT)
//! ```
//!
//! UDP keeps message boundaries. One send is one datagram, and a datagram
//! arrives whole or not at all. There is no connection and no end-of-stream
//! signal. The reply must come from the server's own port. The guide's client
//! connects its socket to the server's address, and the kernel then drops
//! datagrams from any other address.

use std::io::{self, ErrorKind, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{POLL_INTERVAL, Serve, Shutdown, at_least_1ms, lisp_vector};

/// What the client sends: the bytes 1 to 8.
pub const UDP_REQUEST: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// Big enough for any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6),
/// so a datagram is never cut short. The guide reads into an 8-byte buffer,
/// so it handles only 8-byte datagrams correctly.
const RECEIVE_BUFFER: usize = 65_536;

/// Runs the guide's UDP server on `socket`.
///
/// For each datagram (0 to 65,507 bytes), it writes the datagram's bytes to
/// `out` as a Lisp vector line. Then it sends the bytes in reverse order
/// (same length) to the sender. With [`Serve::Once`] it handles one datagram
/// and returns, like the guide. With [`Serve::Forever`] it keeps going. In
/// both modes it returns soon after `shutdown` is triggered, because it
/// checks the flag every [`POLL_INTERVAL`].
///
/// The socket's read timeout is changed to [`POLL_INTERVAL`].
///
/// # Errors
///
/// Errors from receiving or sending (other than timeouts, signals and ICMP
/// errors about earlier clients), and errors from writing to `out`.
pub fn udp_server(
    socket: UdpSocket,
    serve: Serve,
    out: &mut dyn Write,
    shutdown: &Shutdown,
) -> io::Result<()> {
    socket.set_read_timeout(Some(POLL_INTERVAL))?;
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    while let Some((size, sender)) = receive(&socket, &mut buffer, shutdown)? {
        let request = &buffer[..size];
        print_line(out, lisp_vector(request).as_bytes())?;
        send_whole(&socket, &reversed(request), sender)?;
        if serve == Serve::Once {
            break;
        }
    }
    Ok(())
}

/// Waits for the next datagram. Returns its size and sender, or `None` once
/// `shutdown` is triggered.
fn receive(
    socket: &UdpSocket,
    buffer: &mut [u8],
    shutdown: &Shutdown,
) -> io::Result<Option<(usize, SocketAddr)>> {
    loop {
        if shutdown.is_triggered() {
            return Ok(None);
        }
        match socket.recv_from(buffer) {
            Ok(datagram) => return Ok(Some(datagram)),
            Err(error) if is_transient(&error) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Errors that do not stop the server. They are timeouts (time to check the
/// shutdown flag), signals, and ICMP errors left over from an earlier reply
/// to a client that has gone.
fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::WouldBlock
            | ErrorKind::TimedOut
            | ErrorKind::Interrupted
            | ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
    )
}

/// The bytes in reverse order: the server's whole job.
fn reversed(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().rev().copied().collect()
}

/// Sends `bytes` as one datagram to `to`.
fn send_whole(socket: &UdpSocket, bytes: &[u8], to: SocketAddr) -> io::Result<()> {
    let sent = socket.send_to(bytes, to)?;
    if sent != bytes.len() {
        return Err(io::Error::new(
            ErrorKind::WriteZero,
            format!("sent {sent} of {} bytes", bytes.len()),
        ));
    }
    Ok(())
}

/// Runs the guide's UDP client against `addr`.
///
/// It sends [`UDP_REQUEST`] and receives one datagram. It writes three lines
/// to `out`: `Sending data`, `Receiving data` and the reply as a Lisp vector.
/// It does not check the reply; a checker compares the printed vector. As in
/// the guide, both text lines are printed before the request is sent, so on
/// failure `out` holds those two lines.
///
/// # Errors
///
/// * [`ErrorKind::TimedOut`]: no reply came within `timeout`.
/// * [`ErrorKind::ConnectionRefused`]: the kernel reported that nothing is
///   bound on the port.
/// * Other socket errors, and errors from writing to `out`.
pub fn udp_client(addr: SocketAddr, out: &mut dyn Write, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    let socket = UdpSocket::bind(local_address_for(addr))?;
    // A connected UDP socket sends to `addr` by default, and it receives only
    // from `addr`.
    socket.connect(addr)?;
    print_line(out, b"Sending data")?;
    print_line(out, b"Receiving data")?;
    let sent = socket.send(&UDP_REQUEST)?;
    if sent != UDP_REQUEST.len() {
        return Err(io::Error::new(ErrorKind::WriteZero, "request cut short"));
    }
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let size = receive_reply(&socket, &mut buffer, deadline)?;
    print_line(out, lisp_vector(&buffer[..size]).as_bytes())
}

/// The address for the client's socket: any port, on the loopback address if
/// the server is on loopback.
fn local_address_for(server: SocketAddr) -> SocketAddr {
    let ip = match server.ip() {
        ip if ip.is_loopback() => ip,
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// Receives one datagram on a connected socket before `deadline`. Returns its
/// size.
fn receive_reply(socket: &UdpSocket, buffer: &mut [u8], deadline: Instant) -> io::Result<usize> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(ErrorKind::TimedOut, "no reply datagram"));
        }
        socket.set_read_timeout(Some(at_least_1ms(left)))?;
        match socket.recv(buffer) {
            Ok(size) => return Ok(size),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(io::Error::new(ErrorKind::TimedOut, "no reply datagram"));
            }
            Err(error) => return Err(error),
        }
    }
}

/// Writes `text` and a newline to `out`, then flushes, as `(format t "~A~%")`
/// does.
fn print_line(out: &mut dyn Write, text: &[u8]) -> io::Result<()> {
    out.write_all(text)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::sync::mpsc;
    use std::thread;

    /// Generous: tests never assert speed, only that things finish.
    const PATIENCE: Duration = Duration::from_secs(5);

    type Finished = mpsc::Receiver<(io::Result<()>, Vec<u8>)>;

    fn bind() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = socket.local_addr().expect("local_addr");
        (socket, addr)
    }

    /// Starts `udp_server` on a thread. Returns its address, its shutdown flag
    /// and a channel that receives its result and output when it returns.
    fn start_server(serve: Serve) -> (SocketAddr, Shutdown, Finished) {
        let (socket, addr) = bind();
        let shutdown = Shutdown::new();
        let flag = shutdown.clone();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            let mut out = Vec::new();
            let result = udp_server(socket, serve, &mut out, &flag);
            let _ = done.send((result, out));
        });
        (addr, shutdown, finished)
    }

    /// Sends `request` to `server` from a fresh socket. Returns the reply and
    /// the address it came from.
    fn exchange(server: SocketAddr, request: &[u8]) -> (Vec<u8>, SocketAddr) {
        let (socket, _) = bind();
        socket.set_read_timeout(Some(PATIENCE)).expect("timeout");
        socket.send_to(request, server).expect("send");
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        let (size, from) = socket.recv_from(&mut buffer).expect("reply");
        buffer.truncate(size);
        (buffer, from)
    }

    #[rstest]
    #[case::once(Serve::Once)]
    #[case::forever(Serve::Forever)]
    fn server_and_client_print_the_guides_output(#[case] serve: Serve) {
        let (addr, shutdown, finished) = start_server(serve);
        let mut out = Vec::new();
        udp_client(addr, &mut out, PATIENCE).expect("client");
        assert_eq!(out, b"Sending data\nReceiving data\n#(8 7 6 5 4 3 2 1)\n");
        if serve == Serve::Forever {
            shutdown.trigger();
        }
        let (result, server_out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(server_out, b"#(1 2 3 4 5 6 7 8)\n");
    }

    #[rstest]
    #[case::empty(0)]
    #[case::one_byte(1)]
    #[case::the_guides_eight(8)]
    #[case::a_thousand(1000)]
    #[case::largest_ipv4_payload(65_507)]
    fn server_reverses_a_datagram_of_any_size(#[case] size: usize) {
        let request: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
        let (addr, _shutdown, finished) = start_server(Serve::Once);
        let (reply, from) = exchange(addr, &request);
        assert_eq!(reply, reversed(&request));
        assert_eq!(from, addr, "the reply comes from the server's socket");
        let (result, out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(out, format!("{}\n", lisp_vector(&request)).into_bytes());
    }

    #[test]
    fn forever_server_answers_each_datagram_and_sender() {
        let (addr, shutdown, finished) = start_server(Serve::Forever);
        for request in [&[1u8, 2, 3][..], &[], &UDP_REQUEST] {
            let (reply, _) = exchange(addr, request);
            assert_eq!(reply, reversed(request));
        }
        shutdown.trigger();
        let (result, out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(out, b"#(1 2 3)\n#()\n#(1 2 3 4 5 6 7 8)\n");
    }

    #[rstest]
    #[case::forever(Serve::Forever)]
    #[case::once_before_any_datagram(Serve::Once)]
    fn shutdown_stops_a_waiting_server(#[case] serve: Serve) {
        let (_addr, shutdown, finished) = start_server(serve);
        thread::sleep(Duration::from_millis(30));
        shutdown.trigger();
        let (result, out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(out, b"");
    }

    #[test]
    fn client_sends_exactly_the_request_and_prints_whatever_comes_back() {
        let (server, addr) = bind();
        let echo = thread::spawn(move || {
            server.set_read_timeout(Some(PATIENCE)).expect("timeout");
            let mut buffer = [0u8; 64];
            let (size, from) = server.recv_from(&mut buffer).expect("request");
            server.send_to(&buffer[..size], from).expect("echo");
            buffer[..size].to_vec()
        });
        let mut out = Vec::new();
        udp_client(addr, &mut out, PATIENCE).expect("client");
        assert_eq!(echo.join().expect("echo thread"), UDP_REQUEST);
        assert_eq!(out, b"Sending data\nReceiving data\n#(1 2 3 4 5 6 7 8)\n");
    }

    #[test]
    fn client_times_out_without_a_reply() {
        let (silent, addr) = bind();
        let mut out = Vec::new();
        let result = udp_client(addr, &mut out, Duration::from_millis(100));
        drop(silent);
        let error = result.expect_err("silence must time out");
        assert_eq!(error.kind(), ErrorKind::TimedOut);
        assert_eq!(out, b"Sending data\nReceiving data\n");
    }

    #[test]
    fn client_ignores_a_reply_from_another_port() {
        let (server, addr) = bind();
        let impostor = thread::spawn(move || {
            server.set_read_timeout(Some(PATIENCE)).expect("timeout");
            let mut buffer = [0u8; 64];
            let (size, from) = server.recv_from(&mut buffer).expect("request");
            let (other, _) = bind();
            other
                .send_to(&reversed(&buffer[..size]), from)
                .expect("send");
        });
        let mut out = Vec::new();
        let result = udp_client(addr, &mut out, Duration::from_millis(300));
        impostor.join().expect("impostor thread");
        assert_eq!(result.expect_err("wrong port").kind(), ErrorKind::TimedOut);
    }
}
