//! Throughput of generated scenarios, as ratios against baselines run side by side.
//!
//! `cargo bench --bench throughput` builds conform in release mode and measures, against the
//! same persistent external UDP reverse server (`conform reference udp-server --forever`):
//!
//! 1. one request in flight: conform fuzzing a `reverse` scenario vs. a bare Rust
//!    send/receive loop (target: conform reaches at least 85% of the bare loop);
//! 2. per-case restart (`--lifecycle case`) of a one-shot server vs. a bare
//!    spawn / wait-until-bound / exchange / kill cycle of the same program (target: at most
//!    10% slower);
//! 3. memory: conform's peak RSS for 1,000 vs. 1,000,000 cases (target: flat);
//! 4. `--window 64` (requests in flight, replies matched by content): an absolute rate,
//!    target at least 200,000 cases/s, and its ratio to a bare loop keeping 64 requests in
//!    flight (the pipelined ceiling);
//! 5. the bare loop spinning on a non-blocking receive instead of blocking, which shows what
//!    waking a blocked thread costs, and conform's rate as a ratio to it (target: at least
//!    0.75x with `--poll spin`);
//! 6. a TCP connection per case (connect, read the greeting to EOF, close) against a
//!    persistent greeting server: conform vs. the bare loop (target: at least 0.8x).
//!
//! Each measurement alternates baseline and conform runs (A B A B A B) and reports medians,
//! because absolute times drift on a shared machine. Every loop is bounded in count.
//! Set `CONFORM_BENCH_QUICK=1` for a short run.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SPEC: &str = "version: 1
scenarios:
  - name: reverse
    role: server
    transport: udp
    generate:
      payload: {bytes: {length: 8}}
    steps:
      - connect
      - send: {var: payload}
      - expect: {reverse: payload}
";

const TCP_SPEC: &str = "version: 1
scenarios:
  - name: greeting
    role: server
    transport: tcp
    generate:
      unused: {bytes: {length: 1}}
    steps:
      - connect
      - expect: {line: \"Hello World!\"}
      - expect_eof
";

fn conform() -> &'static str {
    env!("CARGO_BIN_EXE_conform")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits (bounded) until `port` shows as a bound UDP socket in /proc/net/udp.
fn wait_bound(port: u16) {
    let needle = format!(":{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        if table.lines().any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| format!("{a} ").ends_with(&needle))
        }) {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!("server on {port} never bound");
}

fn server(port: u16, forever: bool) -> Child {
    let mut cmd = Command::new(conform());
    cmd.args(["reference", "udp-server", "--port", &port.to_string()]);
    if forever {
        cmd.arg("--forever");
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the reference server")
}

/// The bare loop: send 8 pseudo-random bytes, receive, check the reverse.
fn bare_loop(addr: SocketAddr, cases: u64) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = [0u8; 64];
    let start = Instant::now();
    for _ in 0..cases {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let request = x.to_le_bytes();
        socket.send_to(&request, addr).unwrap();
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        let mut expected = request;
        expected.reverse();
        assert_eq!(&buf[..n], &expected);
    }
    cases as f64 / start.elapsed().as_secs_f64()
}

/// The bare loop again, but spinning on a non-blocking receive: no thread goes to sleep.
fn spin_loop(addr: SocketAddr, cases: u64) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = [0u8; 64];
    let start = Instant::now();
    for _ in 0..cases {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let request = x.to_le_bytes();
        socket.send_to(&request, addr).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let n = loop {
            match socket.recv_from(&mut buf) {
                Ok((n, _)) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no reply within 5 s");
                    std::hint::spin_loop();
                }
                Err(e) => panic!("{e}"),
            }
        };
        let mut expected = request;
        expected.reverse();
        assert_eq!(&buf[..n], &expected);
    }
    cases as f64 / start.elapsed().as_secs_f64()
}

/// A bare loop keeping `window` requests in flight, replies checked by content: the
/// pipelined ceiling of the server and the loopback.
fn pipelined_loop(addr: SocketAddr, cases: u64, window: u64) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    let mut waiting = std::collections::HashSet::new();
    let (mut sent, mut done) = (0u64, 0u64);
    let start = Instant::now();
    while done < cases {
        while sent < cases && sent - done < window {
            let request = sent.to_le_bytes();
            socket.send_to(&request, addr).unwrap();
            let mut reply = request;
            reply.reverse();
            waiting.insert(reply);
            sent += 1;
        }
        let (n, _) = socket.recv_from(&mut buf).expect("a reply within 5 s");
        let reply: [u8; 8] = buf[..n].try_into().expect("8 bytes");
        assert!(waiting.remove(&reply), "a reply nobody asked for");
        done += 1;
    }
    cases as f64 / start.elapsed().as_secs_f64()
}

/// Connect, read the greeting to EOF, close: the bare TCP loop.
fn tcp_loop(addr: SocketAddr, cases: u64) -> f64 {
    use std::io::Read;
    let mut buf = Vec::with_capacity(64);
    let start = Instant::now();
    for _ in 0..cases {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        buf.clear();
        stream.read_to_end(&mut buf).unwrap();
        assert_eq!(buf, b"Hello World!\n");
    }
    cases as f64 / start.elapsed().as_secs_f64()
}

fn conform_run(spec: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(conform())
        .arg("run")
        .arg(spec)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run conform");
    let elapsed = start.elapsed();
    assert!(status.success(), "conform failed: {args:?}");
    elapsed
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn one_in_flight(spec: &Path, rounds: usize, cases: u64) {
    let port = free_port();
    let mut srv = server(port, true);
    wait_bound(port);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let connect = format!("127.0.0.1:{port}");
    let cases_arg = cases.to_string();
    let (mut bare, mut spin, mut ours, mut blocking) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        bare.push(bare_loop(addr, cases));
        spin.push(spin_loop(addr, cases));
        for (poll, rates) in [("spin", &mut ours), ("block", &mut blocking)] {
            let took = conform_run(
                spec,
                &[
                    "--connect",
                    &connect,
                    "--cases",
                    &cases_arg,
                    "--seed",
                    "1",
                    "--poll",
                    poll,
                ],
            );
            rates.push(cases as f64 / took.as_secs_f64());
        }
    }
    let _ = srv.kill();
    let _ = srv.wait();
    let (b, p, c, k) = (median(bare), median(spin), median(ours), median(blocking));
    println!("one request in flight ({cases} cases, median of {rounds}):");
    println!("  bare loop, blocking receive {b:>10.0} cases/s");
    println!(
        "  bare loop, spinning receive {p:>10.0} cases/s   ({:.2}x blocking)",
        p / b
    );
    println!(
        "  conform --poll block        {k:>10.0} cases/s   ({:.2}x blocking loop, target >= 0.85x)",
        k / b
    );
    println!(
        "  conform --poll spin         {c:>10.0} cases/s   ({:.2}x blocking loop, target >= 1.5x)",
        c / b
    );
    println!(
        "  conform --poll spin / spinning loop {:>6.2}x   (target >= 0.75x)",
        c / p
    );
}

/// CPU time of finished children (user + system), from getrusage.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// conform's own CPU against a server that answers every datagram after 1 ms: spinning must
/// not burn a core waiting for a slow server (target: under 10% of a core, every mode).
fn slow_server_cpu(spec: &Path, cases: u64) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = stop.clone();
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                std::thread::sleep(Duration::from_millis(1));
                buf[..n].reverse();
                let _ = socket.send_to(&buf[..n], from);
            }
        }
    });
    let connect = addr.to_string();
    let cases_arg = cases.to_string();
    println!("against a server that answers after 1 ms ({cases} cases):");
    for poll in ["spin", "auto", "block"] {
        let before = children_cpu();
        let took = conform_run(
            spec,
            &[
                "--connect",
                &connect,
                "--cases",
                &cases_arg,
                "--seed",
                "1",
                "--poll",
                poll,
            ],
        );
        let cpu = children_cpu() - before;
        println!(
            "  conform --poll {poll:<5}  {:>5.1}% of a core   (target < 10%)",
            100.0 * cpu.as_secs_f64() / took.as_secs_f64()
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = server.join();
}

fn tcp_per_case(rounds: usize, cases: u64, dir: &Path) {
    let spec = dir.join("greeting.yaml");
    std::fs::write(&spec, TCP_SPEC).unwrap();
    let port = free_port();
    let mut srv = Command::new(conform())
        .args([
            "reference",
            "tcp-server",
            "--forever",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the reference TCP server");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The --forever server serves any number of clients, so a probe connection costs nothing.
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "TCP server never listened");
        std::thread::sleep(Duration::from_millis(5));
    }
    let connect = format!("127.0.0.1:{port}");
    let cases_arg = cases.to_string();
    let (mut bare, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        bare.push(tcp_loop(addr, cases));
        let took = conform_run(
            &spec,
            &["--connect", &connect, "--cases", &cases_arg, "--seed", "1"],
        );
        ours.push(cases as f64 / took.as_secs_f64());
    }
    let _ = srv.kill();
    let _ = srv.wait();
    let (b, c) = (median(bare), median(ours));
    println!("a TCP connection per case ({cases} cases, median of {rounds}):");
    println!("  bare connect/read/close    {b:>10.0} cases/s");
    println!("  conform                    {c:>10.0} cases/s");
    println!(
        "  ratio                      {:>10.2}x   (target >= 0.8x)",
        c / b
    );
}

/// Spawn the one-shot server, wait until bound, one exchange, stop it: the bare cycle.
fn bare_restart(cycles: u64) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    let start = Instant::now();
    for i in 0..cycles {
        let port = free_port();
        let mut child = server(port, false);
        wait_bound(port);
        let request = i.to_le_bytes();
        socket.send_to(&request, ("127.0.0.1", port)).unwrap();
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        assert_eq!(n, 8);
        let _ = child.kill();
        let _ = child.wait();
    }
    cycles as f64 / start.elapsed().as_secs_f64()
}

fn restart(spec: &Path, rounds: usize, cases: u64) {
    let template = format!("{} reference udp-server --port {{port}}", conform());
    let cases_arg = cases.to_string();
    let (mut bare, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        bare.push(bare_restart(cases));
        let took = conform_run(
            spec,
            &[
                "--server",
                &template,
                "--lifecycle",
                "case",
                "--cases",
                &cases_arg,
                "--seed",
                "1",
            ],
        );
        ours.push(cases as f64 / took.as_secs_f64());
    }
    let (b, c) = (median(bare), median(ours));
    println!("per-case restart ({cases} cases, median of {rounds}):");
    println!("  bare spawn/ready/exchange/kill {b:>8.0} cycles/s");
    println!("  conform --lifecycle case       {c:>8.0} cases/s");
    println!(
        "  overhead                       {:>8.1}%   (target <= 10%)",
        100.0 * (b / c - 1.0)
    );
}

/// conform's peak resident memory for a run, in KiB: the child's own `ru_maxrss`, which
/// `wait4` reports for exactly that process however short its run.
fn peak_rss_kib(spec: &Path, connect: &str, cases: u64, extra: &[&str]) -> u64 {
    let child = Command::new(conform())
        .arg("run")
        .arg(spec)
        .args([
            "--connect",
            connect,
            "--cases",
            &cases.to_string(),
            "--seed",
            "1",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("run conform");
    let pid = child.id() as libc::pid_t;
    // SAFETY: wait4 on our own child's pid, with a zeroed rusage it fills in; the Child is
    // not waited for again.
    let usage = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(pid, &mut status, 0, &mut usage);
        usage
    };
    drop(child);
    usage.ru_maxrss as u64
}

fn memory(spec: &Path, small: u64, large: u64) {
    let port = free_port();
    let mut srv = server(port, true);
    wait_bound(port);
    let connect = format!("127.0.0.1:{port}");
    println!("memory (peak RSS):");
    for (mode, extra) in [
        ("one in flight", &[][..]),
        ("--window 64", &["--window", "64"][..]),
    ] {
        let a = peak_rss_kib(spec, &connect, small, extra);
        let b = peak_rss_kib(spec, &connect, large, extra);
        println!("  {mode:<14} {small:>9} cases  {a:>8} KiB");
        println!(
            "  {mode:<14} {large:>9} cases  {b:>8} KiB   (ratio {:.2}, target: flat)",
            b as f64 / a.max(1) as f64
        );
    }
    let _ = srv.kill();
    let _ = srv.wait();
}

/// `--window 64` against the same kind of server: an absolute rate, target 200k cases/s.
fn windowed(spec: &Path, rounds: usize, cases: u64) {
    let port = free_port();
    let mut srv = server(port, true);
    wait_bound(port);
    let connect = format!("127.0.0.1:{port}");
    let cases_arg = cases.to_string();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let (mut ceiling, mut rates) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ceiling.push(pipelined_loop(addr, cases, 64));
        let took = conform_run(
            spec,
            &[
                "--connect",
                &connect,
                "--cases",
                &cases_arg,
                "--seed",
                "1",
                "--window",
                "64",
            ],
        );
        rates.push(cases as f64 / took.as_secs_f64());
    }
    let _ = srv.kill();
    let _ = srv.wait();
    let (top, c) = (median(ceiling), median(rates));
    println!("64 requests in flight ({cases} cases, median of {rounds}):");
    println!("  bare pipelined loop      {top:>10.0} cases/s");
    println!("  conform --window 64      {c:>10.0} cases/s   (target >= 200000)");
    println!("  ratio                    {:>10.2}x", c / top);
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) only checks
    // that this builds and runs briefly.
    let quick = std::env::var_os("CONFORM_BENCH_QUICK").is_some()
        || !std::env::args().any(|a| a == "--bench");
    let dir = std::env::temp_dir().join(format!("conform-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("reverse.yaml");
    std::fs::File::create(&spec)
        .and_then(|mut f| f.write_all(SPEC.as_bytes()))
        .unwrap();
    let (rounds, cases, restarts, big) = if quick {
        (1, 2_000, 20, 20_000)
    } else {
        (3, 50_000, 300, 1_000_000)
    };
    one_in_flight(&spec, rounds, cases);
    windowed(&spec, rounds, cases * 4);
    slow_server_cpu(&spec, if quick { 300 } else { 2_000 });
    tcp_per_case(rounds, cases / 5, &dir);
    restart(&spec, rounds, restarts);
    memory(&spec, 1_000, big);
    let _ = std::fs::remove_dir_all(&dir);
}
