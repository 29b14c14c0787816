//! What waiting for a server costs conform, netlink sock_diag side by side with `/proc/net`.
//!
//! `cargo bench --bench readiness` measures, with each way of reading the socket table:
//!
//! 1. one readiness check (is anything listening on this TCP port yet?), the mean of many
//!    (target: under 0.1 ms through sock_diag);
//! 2. conform's own CPU time (user + system, from getrusage) while `drive::ready::wait_ready`
//!    waits 2 s for a server that listens late, as a share of one core (target: at most 5 %);
//!
//! first with the machine's table as it is, then with 12,000 more TCP connections in TIME_WAIT,
//! made here on loopback (the client side closes first, so each leaves one TIME_WAIT entry and
//! no open descriptor). The kernel drops those entries by itself 60 s later; nothing else is
//! left behind. Every loop is bounded in count. Set `CONFORM_BENCH_QUICK=1` for a short run.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conform::drive::ready::{self, Ready, Watch};
use conform::os::sockets::{self, Proto, Source, Wanted};

/// The kernel's number for TIME_WAIT.
const TCP_TIME_WAIT: u8 = 6;

struct Figures {
    check: Duration,
    cpu_share: f64,
}

/// CPU time (user + system) this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given; an all-zero rusage is a valid value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn unused_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Mean time of one "is anything listening on the port yet?" look, while nothing is.
fn check_cost(source: Source, looks: u32) -> Duration {
    let port = unused_port();
    let start = Instant::now();
    for _ in 0..looks {
        let bound = sockets::is_bound(source, Proto::Tcp, port).expect("socket table");
        assert!(!bound, "port {port} was taken during the benchmark");
    }
    start.elapsed() / looks
}

/// conform's CPU share while it waits `late` for a server that then listens.
fn cpu_while_waiting(source: Source, late: Duration) -> f64 {
    let port = unused_port();
    // A real child to watch, as when conform waits for a program: its descriptors and children
    // are looked at every 50 ms.
    let mut program = Command::new("sleep")
        .arg("60")
        .stdout(Stdio::null())
        .spawn()
        .expect("start sleep");
    let server = std::thread::spawn(move || {
        std::thread::sleep(late);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the late server binds")
    });
    let watch = Watch {
        source,
        proto: Proto::Tcp,
        port,
        pid: Some(program.id()),
        deadline: Instant::now() + late + Duration::from_secs(30),
    };
    let (cpu, wall) = (cpu_time(), Instant::now());
    let ready = ready::wait_ready(&watch, || None).expect("socket table");
    let (cpu, wall) = (cpu_time() - cpu, wall.elapsed());
    let _ = program.kill();
    let _ = program.wait();
    drop(server.join().expect("server thread"));
    assert_eq!(ready, Ready::Yes);
    cpu.as_secs_f64() / wall.as_secs_f64()
}

fn measure(source: Source, looks: u32, late: Duration) -> Figures {
    Figures {
        check: check_cost(source, looks),
        cpu_share: cpu_while_waiting(source, late),
    }
}

/// Leaves `count` connections in TIME_WAIT on loopback; returns how many the kernel now holds.
fn make_time_wait(count: usize) -> usize {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = listener.local_addr().expect("addr");
    for _ in 0..count {
        let Ok(client) = TcpStream::connect(addr) else {
            // Out of ephemeral ports: what was made is what there is.
            break;
        };
        let (server, _) = listener.accept().expect("accept");
        // The side that closes first keeps the TIME_WAIT entry: the client's, here.
        drop(client);
        drop(server);
    }
    time_wait_count()
}

fn time_wait_count() -> usize {
    Source::SockDiag
        .list(Proto::Tcp, Wanted::Any, None)
        .or_else(|_| Source::ProcNet.list(Proto::Tcp, Wanted::Any, None))
        .map(|all| all.iter().filter(|s| s.state == TCP_TIME_WAIT).count())
        .unwrap_or(0)
}

fn report(table: &str, netlink: Option<&Figures>, proc: &Figures) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("{table}:");
    if let Some(n) = netlink {
        println!(
            "  one readiness check   sock_diag {:>9.1} us   /proc/net {:>9.1} us   ratio {:>6.1}x",
            us(n.check),
            us(proc.check),
            us(proc.check) / us(n.check).max(1e-3)
        );
        println!(
            "  CPU while waiting     sock_diag {:>8.2} %    /proc/net {:>8.2} %    ratio {:>6.1}x",
            n.cpu_share * 100.0,
            proc.cpu_share * 100.0,
            proc.cpu_share / n.cpu_share.max(1e-6)
        );
    } else {
        println!(
            "  one readiness check   /proc/net {:>9.1} us",
            us(proc.check)
        );
        println!(
            "  CPU while waiting     /proc/net {:>8.2} %",
            proc.cpu_share * 100.0
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) only checks
    // that this builds and runs briefly.
    let quick = std::env::var_os("CONFORM_BENCH_QUICK").is_some()
        || !std::env::args().any(|a| a == "--bench");
    let (looks, late, time_wait) = if quick {
        (200, Duration::from_millis(500), 2_000)
    } else {
        (2_000, Duration::from_secs(2), 12_000)
    };
    println!("conform: {}", sockets::source_note());
    let netlink = sockets::source() == Source::SockDiag;
    println!(
        "waiting {:.1} s for a late server; {looks} checks per figure; {} TIME_WAIT before",
        late.as_secs_f64(),
        time_wait_count()
    );
    let run = |source| measure(source, looks, late);
    let empty = (netlink.then(|| run(Source::SockDiag)), run(Source::ProcNet));
    report("table as found", empty.0.as_ref(), &empty.1);
    let made = make_time_wait(time_wait);
    let busy = (netlink.then(|| run(Source::SockDiag)), run(Source::ProcNet));
    report(
        &format!("with {made} TIME_WAIT connections"),
        busy.0.as_ref(),
        &busy.1,
    );
    println!("(the TIME_WAIT entries made here expire by themselves within 60 s)");
}
