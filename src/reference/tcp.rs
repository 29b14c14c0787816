//! The TCP greeting.
//!
//! What goes in and out:
//!
//! * [`tcp_server`] gets a bound `TcpListener`. For each connection it
//!   writes [`GREETING`] (`Hello World!\n`, 13 bytes) and closes its side
//!   (FIN). It reads nothing from the client and prints nothing.
//! * [`tcp_client`] gets the server's address. It connects, sends nothing,
//!   reads up to the first `\n` and prints `Input is: Hello World!\n`.
//!
//! The exchange on the wire:
//!
//! ```text
//! client                      server
//!   | --- connect -------------> |
//!   | <-- "Hello World!\n" ----- |
//!   | <-- FIN ------------------ |
//!   | --- FIN -----------------> |
//! ```
//!
//! TCP is a byte stream, not a message stream. The line can reach the client
//! in one read or in thirteen, so the client reads until it sees the newline.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{POLL_INTERVAL, Serve, Shutdown, at_least_1ms};

/// What the server writes to each client: `Hello World!` and a line feed
/// (the guide's `~%`).
pub const GREETING: &[u8] = b"Hello World!\n";

/// What the client prints before the line it read.
const CLIENT_PREFIX: &[u8] = b"Input is: ";

/// The longest line the client accepts. The greeting is 13 bytes, so a
/// longer line means the server is wrong. The limit stops a server that never
/// sends a newline from filling memory.
const MAX_LINE: usize = 64 * 1024;

/// How long the server may take to write the greeting.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the server reads and discards input after it sends FIN (see
/// [`drain`]).
const DRAIN_TIME: Duration = Duration::from_millis(500);

/// Runs the guide's TCP server on `listener`.
///
/// Each client gets [`GREETING`], then FIN. The server does not wait for the
/// client to send anything first. With [`Serve::Once`] it serves one client
/// and returns, like the guide. With [`Serve::Forever`] it serves each client
/// on its own thread, so clients can overlap. It stops accepting soon after
/// `shutdown` is triggered, waits for the clients it is serving, then
/// returns.
///
/// The guide's server prints nothing, so nothing is written to `_out`.
///
/// # Errors
///
/// Errors from the listener (poll or accept, other than a client that gives
/// up while connecting). With [`Serve::Once`], errors from the one
/// connection too. With [`Serve::Forever`], an error with one client is
/// ignored.
pub fn tcp_server(
    listener: TcpListener,
    serve: Serve,
    _out: &mut dyn Write,
    shutdown: &Shutdown,
) -> io::Result<()> {
    // Set non-blocking so that a connection that disappears between poll(2)
    // and accept(2) cannot block the server.
    listener.set_nonblocking(true)?;
    match serve {
        Serve::Once => match accept(&listener, shutdown)? {
            Some(stream) => greet(stream),
            None => Ok(()),
        },
        Serve::Forever => serve_forever(&listener, shutdown),
    }
}

/// Greets each client on its own thread until `shutdown` is triggered.
fn serve_forever(listener: &TcpListener, shutdown: &Shutdown) -> io::Result<()> {
    let mut clients: Vec<JoinHandle<io::Result<()>>> = Vec::new();
    while let Some(stream) = accept(listener, shutdown)? {
        clients.retain(|client| !client.is_finished());
        clients.push(thread::spawn(move || greet(stream)));
    }
    for client in clients {
        // A failure with one client (say, it reset the connection) belongs to
        // that client. It is not a failure of the server.
        let _ = client.join();
    }
    Ok(())
}

/// Waits for the next connection. Returns `None` once `shutdown` is
/// triggered.
fn accept(listener: &TcpListener, shutdown: &Shutdown) -> io::Result<Option<TcpStream>> {
    loop {
        if shutdown.is_triggered() {
            return Ok(None);
        }
        if !wait_for_connection(listener, POLL_INTERVAL)? {
            continue;
        }
        match listener.accept() {
            Ok((stream, _peer)) => {
                // The listener is non-blocking. The connection should block,
                // with timeouts.
                stream.set_nonblocking(false)?;
                return Ok(Some(stream));
            }
            // The client gave up before we accepted, or a signal woke us.
            Err(error) if is_transient(&error) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Errors that lose one connection attempt but leave the listener working.
fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::WouldBlock
            | ErrorKind::Interrupted
            | ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
    )
}

/// Waits up to `timeout` with poll(2) for a connection on `listener`. Returns
/// whether one is waiting.
fn wait_for_connection(listener: &TcpListener, timeout: Duration) -> io::Result<bool> {
    let mut entry = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `entry` is one valid, writable pollfd that outlives the call,
    // and the count passed is 1.
    let ready = unsafe { libc::poll(&raw mut entry, 1, millis) };
    if ready < 0 {
        let error = io::Error::last_os_error();
        return match error.kind() {
            ErrorKind::Interrupted => Ok(false),
            _ => Err(error),
        };
    }
    Ok(ready > 0)
}

/// Serves one connection: writes the greeting, then closes.
fn greet(mut stream: TcpStream) -> io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.write_all(GREETING)?;
    // Send FIN now: it tells the client that nothing follows the line.
    stream.shutdown(Direction::Write)?;
    drain(&mut stream);
    Ok(())
}

/// Reads and discards input until the client closes or [`DRAIN_TIME`]
/// passes.
///
/// If a socket is closed with unread input, the kernel sends a reset (RST)
/// instead of a normal close. The reset can destroy the greeting before the
/// client reads it. The guide's client sends nothing, so this usually reads
/// only the client's FIN. The greeting is already sent, so errors here are
/// ignored.
fn drain(stream: &mut TcpStream) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut scratch = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

/// Runs the guide's TCP client against `addr`.
///
/// It connects, reads one line and writes `Input is: <line>\n` to `out`. The
/// line is written byte for byte, without its `\n`. As in the guide's
/// `read-line`, a `\r` before the `\n` stays in the line. Bytes after the
/// newline are ignored.
///
/// `timeout` covers the whole run: connecting and reading the line.
///
/// # Errors
///
/// When it fails, nothing is written to `out`. The errors are:
///
/// * [`ErrorKind::TimedOut`]: no complete line came within `timeout`.
/// * [`ErrorKind::UnexpectedEof`]: the server closed before a newline.
/// * [`ErrorKind::InvalidData`]: no newline in the first 64 KiB.
/// * Connection errors, such as [`ErrorKind::ConnectionRefused`].
pub fn tcp_client(addr: SocketAddr, out: &mut dyn Write, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, at_least_1ms(timeout))?;
    let line = read_line(&mut stream, deadline)?;
    out.write_all(CLIENT_PREFIX)?;
    out.write_all(&line)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Reads from `stream` until the first `\n`. Returns the bytes before it.
///
/// A single read may return any part of the line, so this keeps reading until
/// the newline arrives.
fn read_line(stream: &mut TcpStream, deadline: Instant) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(&line));
        }
        stream.set_read_timeout(Some(left))?;
        let received = match stream.read(&mut chunk) {
            Ok(0) => return Err(closed_early(&line)),
            Ok(n) => &chunk[..n],
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) if is_timeout(&error) => return Err(timed_out(&line)),
            Err(error) => return Err(error),
        };
        if let Some(end) = received.iter().position(|&byte| byte == b'\n') {
            line.extend_from_slice(&received[..end]);
            return Ok(line);
        }
        line.extend_from_slice(received);
        if line.len() > MAX_LINE {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("no newline in the first {MAX_LINE} bytes"),
            ));
        }
    }
}

/// A read that hit its timeout. std reports this as `WouldBlock` on Unix.
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn timed_out(partial: &[u8]) -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        format!(
            "timed out waiting for a newline after {} bytes: {:?}",
            partial.len(),
            String::from_utf8_lossy(partial)
        ),
    )
}

fn closed_early(partial: &[u8]) -> io::Error {
    io::Error::new(
        ErrorKind::UnexpectedEof,
        format!(
            "connection closed before a newline, after {} bytes: {:?}",
            partial.len(),
            String::from_utf8_lossy(partial)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::sync::mpsc;

    /// Generous: tests never assert speed, only that things finish.
    const PATIENCE: Duration = Duration::from_secs(5);

    type Finished = mpsc::Receiver<(io::Result<()>, Vec<u8>)>;

    fn bind() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        (listener, addr)
    }

    /// Starts `tcp_server` on a thread. Returns its address, its shutdown flag
    /// and a channel that receives its result and output when it returns.
    fn start_server(serve: Serve) -> (SocketAddr, Shutdown, Finished) {
        let (listener, addr) = bind();
        let shutdown = Shutdown::new();
        let flag = shutdown.clone();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            let mut out = Vec::new();
            let result = tcp_server(listener, serve, &mut out, &flag);
            let _ = done.send((result, out));
        });
        (addr, shutdown, finished)
    }

    fn run_client(addr: SocketAddr) -> (io::Result<()>, Vec<u8>) {
        let mut out = Vec::new();
        let result = tcp_client(addr, &mut out, PATIENCE);
        (result, out)
    }

    /// Runs `tcp_client` against a test server that runs `serve` on the
    /// accepted connection.
    fn client_against(
        serve: impl FnOnce(TcpStream) + Send + 'static,
        timeout: Duration,
    ) -> (io::Result<()>, Vec<u8>) {
        let (listener, addr) = bind();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            serve(stream);
        });
        let mut out = Vec::new();
        let result = tcp_client(addr, &mut out, timeout);
        server.join().expect("test server thread");
        (result, out)
    }

    #[rstest]
    #[case::once(Serve::Once)]
    #[case::forever(Serve::Forever)]
    fn server_and_client_print_the_guides_output(#[case] serve: Serve) {
        let (addr, shutdown, finished) = start_server(serve);
        let (result, out) = run_client(addr);
        result.expect("client");
        assert_eq!(out, b"Input is: Hello World!\n");
        if serve == Serve::Forever {
            shutdown.trigger();
        }
        let (result, server_out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(server_out, b"", "the guide's TCP server prints nothing");
    }

    #[test]
    fn server_sends_exactly_the_greeting_then_closes_unprompted() {
        let (addr, _shutdown, finished) = start_server(Serve::Once);
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("read to FIN");
        assert_eq!(received, GREETING);
        drop(stream);
        let (result, _) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
    }

    #[test]
    fn forever_server_serves_two_concurrent_clients() {
        let (addr, shutdown, finished) = start_server(Serve::Forever);
        let clients: Vec<_> = (0..2)
            .map(|_| thread::spawn(move || run_client(addr)))
            .collect();
        for client in clients {
            let (result, out) = client.join().expect("client thread");
            result.expect("client");
            assert_eq!(out, b"Input is: Hello World!\n");
        }
        shutdown.trigger();
        let (result, _) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
    }

    #[test]
    fn forever_server_greets_a_second_client_while_the_first_stays_open() {
        let (addr, shutdown, finished) = start_server(Serve::Forever);
        let first = TcpStream::connect(addr).expect("first client connects");
        let (result, out) = run_client(addr);
        result.expect("second client");
        assert_eq!(out, b"Input is: Hello World!\n");
        drop(first);
        shutdown.trigger();
        let (result, _) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
    }

    #[rstest]
    #[case::forever(Serve::Forever)]
    #[case::once_before_any_client(Serve::Once)]
    fn shutdown_stops_a_waiting_server(#[case] serve: Serve) {
        let (_addr, shutdown, finished) = start_server(serve);
        thread::sleep(Duration::from_millis(30));
        shutdown.trigger();
        let (result, out) = finished.recv_timeout(PATIENCE).expect("server returns");
        result.expect("server");
        assert_eq!(out, b"");
    }

    #[rstest]
    #[case::one_byte_at_a_time(1)]
    #[case::two_bytes_at_a_time(2)]
    #[case::five_bytes_at_a_time(5)]
    fn client_prints_a_line_split_into_many_segments(#[case] piece: usize) {
        let (result, out) = client_against(
            move |mut stream| {
                stream.set_nodelay(true).expect("nodelay");
                for bytes in GREETING.chunks(piece) {
                    stream.write_all(bytes).expect("write a piece");
                    thread::sleep(Duration::from_millis(5));
                }
            },
            PATIENCE,
        );
        result.expect("client");
        assert_eq!(out, b"Input is: Hello World!\n");
    }

    #[test]
    fn client_prints_only_the_first_line() {
        let (result, out) = client_against(
            |mut stream| stream.write_all(b"Hello World!\nbye\n").expect("write"),
            PATIENCE,
        );
        result.expect("client");
        assert_eq!(out, b"Input is: Hello World!\n");
    }

    #[test]
    fn client_keeps_a_carriage_return_like_read_line() {
        let (result, out) = client_against(
            |mut stream| stream.write_all(b"Hello World!\r\n").expect("write"),
            PATIENCE,
        );
        result.expect("client");
        assert_eq!(out, b"Input is: Hello World!\r\n");
    }

    #[test]
    fn client_fails_when_the_server_closes_before_a_newline() {
        let (result, out) = client_against(
            |mut stream| stream.write_all(b"Hello World!").expect("write"),
            PATIENCE,
        );
        let error = result.expect_err("no newline must fail");
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(out, b"");
    }

    #[test]
    fn client_times_out_when_the_server_stays_silent() {
        let (listener, addr) = bind();
        // The connection completes in the kernel's backlog; nobody ever
        // writes to it, and the listener stays open until the client is done.
        let mut out = Vec::new();
        let result = tcp_client(addr, &mut out, Duration::from_millis(100));
        drop(listener);
        let error = result.expect_err("silence must time out");
        assert_eq!(error.kind(), ErrorKind::TimedOut);
        assert_eq!(out, b"");
    }

    #[test]
    fn client_fails_when_nothing_listens() {
        let (listener, addr) = bind();
        drop(listener);
        let (result, out) = run_client(addr);
        assert!(result.is_err());
        assert_eq!(out, b"");
    }
}
