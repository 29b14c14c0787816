//! The Redis clone's concurrent mode (`fixtures/python/mini_redis.py --threads`) and its
//! `incr-unlocked` defect, driven over plain sockets: the fixtures that sessions of several
//! clients at once are tested against. Each test starts the clone on a free port and stops
//! it when done; the replies asserted are the exact RESP bytes.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::redis::python;
use common::root;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const INCR_A: &[u8] = b"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n";
const GET_A: &[u8] = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";

/// The clone, killed when dropped so that a failing test leaves no process behind.
struct Clone {
    child: Child,
    port: u16,
}

impl Drop for Clone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Clone {
    /// Starts the clone with `args` after its port and waits (bounded) until it listens.
    fn start(args: &[&str]) -> Clone {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new(python())
            .arg("fixtures/python/mini_redis.py")
            .arg(port.to_string())
            .args(args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 starts the clone");
        let clone = Clone { child, port };
        // A probe connection that is served and closed at once: the listener is up.
        for _ in 0..1000 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return clone;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the clone never listened on port {port}");
    }

    /// A new client; reads time out only so that a server that never answers fails the test.
    fn client(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    }
}

/// One RESP reply (simple string, error, integer or bulk string) as text.
fn reply(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            Ok(_) => panic!("closed after {:?}", String::from_utf8_lossy(&line)),
            Err(e) => panic!(
                "no whole reply within 10 s, only {:?}: {e}",
                String::from_utf8_lossy(&line)
            ),
        }
    }
    if line[0] == b'$' && line[1] != b'-' {
        let length: usize = std::str::from_utf8(&line[1..line.len() - 2])
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0u8; length + 2];
        stream.read_exact(&mut body).unwrap();
        line.extend(body);
    }
    String::from_utf8(line).unwrap()
}

/// Sends `request` and reads its reply.
fn ask(stream: &mut TcpStream, request: &[u8]) -> String {
    stream.write_all(request).unwrap();
    reply(stream)
}

/// Two clients, both answered PING (so both are being served), send `INCR a` each before
/// either reads; then the replies in the order sent and the value `GET a` finds.
fn two_incrs_at_once(clone: &Clone) -> (Vec<String>, String) {
    let mut clients = [clone.client(), clone.client()];
    for c in &mut clients {
        assert_eq!(ask(c, PING), "+PONG\r\n");
    }
    for c in &mut clients {
        c.write_all(INCR_A).unwrap();
    }
    let replies = clients.iter_mut().map(reply).collect();
    (replies, ask(&mut clients[0], GET_A))
}

#[test]
fn with_threads_three_clients_are_served_while_all_are_connected() {
    let clone = Clone::start(&["--threads"]);
    let mut clients = [clone.client(), clone.client(), clone.client()];
    // All three stay connected until every one has its answer: served one at a time, the
    // second would wait for the first to leave.
    let replies: Vec<String> = clients.iter_mut().map(|c| ask(c, PING)).collect();
    assert_eq!(replies, ["+PONG\r\n", "+PONG\r\n", "+PONG\r\n"]);
}

#[test]
fn with_threads_two_incrs_at_once_both_count() {
    let clone = Clone::start(&["--threads"]);
    let (mut replies, value) = two_incrs_at_once(&clone);
    replies.sort();
    assert_eq!(replies, [":1\r\n", ":2\r\n"]);
    assert_eq!(value, "$1\r\n2\r\n");
}

#[test]
fn incr_unlocked_loses_an_update_when_two_clients_incr_at_once() {
    let clone = Clone::start(&["--defect", "incr-unlocked"]);
    let (replies, value) = two_incrs_at_once(&clone);
    assert_eq!(replies, [":1\r\n", ":1\r\n"]);
    assert_eq!(value, "$1\r\n1\r\n");
}

#[test]
fn incr_unlocked_counts_right_for_a_client_alone() {
    let clone = Clone::start(&["--defect", "incr-unlocked"]);
    let mut client = clone.client();
    let replies: Vec<String> = (0..3).map(|_| ask(&mut client, INCR_A)).collect();
    assert_eq!(replies, [":1\r\n", ":2\r\n", ":3\r\n"]);
    assert_eq!(ask(&mut client, GET_A), "$1\r\n3\r\n");
}
