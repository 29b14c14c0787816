//! Hostile programs and load: conform against programs that ignore SIGTERM, leave helpers
//! holding their port and pipes, flood their output, never listen, listen late or elsewhere,
//! exit at once, never read, never stop sending, or answer ten times; conform interrupted in
//! the middle of all that; and several conform runs at once.
//!
//! Every hostile run is watched from outside: its wall time (asserted only against a generous
//! bound, `budget + SLACK`, so a loaded machine cannot make a test flaky; the budget is the
//! sum of the waits the hostile program forces to run out, and `scripts/hostile-timing`
//! measures how far past it conform really goes), its peak memory, and every process below
//! it, none of which may outlive it.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{fixture, lisp, root, scenario_block};

/// Added to a case's budget before the test calls the run too slow. Generous on purpose: the
/// precise figure (under a second) is `scripts/hostile-timing`'s business.
const SLACK: Duration = Duration::from_secs(10);

/// Peak resident memory allowed to conform, in KiB. Measured with GNU time when installed,
/// which also counts the programs conform started and reaped, so it is an upper bound on
/// conform's own; else conform's `VmHWM` at the last look before it exited.
const MEMORY_LIMIT_KIB: u64 = 100 * 1024;

/// A watched run that takes longer than this has hung: the test kills it and fails.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// How long processes killed by conform may take to vanish once conform has exited.
const VANISH: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// Specs. Each hostile case runs a small spec with explicit deadlines, so its budget is plain.

/// The greeting, with a 2 s deadline on every wait.
const GREET: &str = r#"
timeout: 2s
scenarios:
  - name: server greets with Hello World
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
"#;

/// The greeting, then a second client on the same program (a `should` scenario).
const GREET_TWICE: &str = r#"
timeout: 2s
scenarios:
  - name: server greets with Hello World
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
  - name: server serves a second client
    role: server
    transport: tcp
    level: should
    lifecycle: scenario
    steps:
      - connect: {as: first}
      - expect: {line: "Hello World!", on: first}
      - expect_eof: {on: first}
      - connect: {as: second}
      - expect: {line: "Hello World!", on: second}
"#;

/// conform speaks first (a few bytes), then waits 2 s for a greeting.
const SPEAK_THEN_WAIT: &str = r#"
scenarios:
  - name: server answers a client that speaks first
    role: server
    transport: tcp
    steps:
      - connect
      - send: "Hello?\n"
      - expect: {line: "Hello World!", within: 2s}
"#;

/// After the greeting: EOF expected, or bytes matching a pattern that never comes.
const GREET_THEN_END: &str = r#"
timeout: 2s
scenarios:
  - name: server greets with Hello World
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
  - name: server ends its stream with END
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect: {regex: '(?s).*END'}
"#;

/// The shipped UDP scenarios a duplicating server passes and fails (from specs/udp.yaml).
const REVERSE: &str = r#"
scenarios:
  - name: server reverses 8 bytes
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
  - name: server reverses text bytes
    role: server
    transport: udp
    steps:
      - connect
      - send: "ABCDEFGH"
      - expect: "HGFEDCBA"
  - name: server answers once per datagram
    role: server
    transport: udp
    level: should
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01"}
      - expect_silence: 300ms
"#;

/// The greeting, then conform idles: a run that is certainly still going when interrupted.
const GREET_THEN_IDLE: &str = r#"
scenarios:
  - name: server greets, then conform idles
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!", within: 60s}
      - pause: 60s
"#;

/// conform speaks first (a few bytes), then idles.
const SPEAK_THEN_IDLE: &str = r#"
scenarios:
  - name: server takes a request, then conform idles
    role: server
    transport: tcp
    steps:
      - connect
      - send: "Hello?\n"
      - pause: 60s
"#;

/// The greeting, then conform waits (long) for the server to close.
const GREET_THEN_WAIT_EOF: &str = r#"
scenarios:
  - name: server greets, then closes in its own time
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!", within: 60s}
      - expect_eof: {within: 60s}
"#;

/// One UDP exchange, then conform idles.
const REVERSE_THEN_IDLE: &str = r#"
scenarios:
  - name: server reverses, then conform idles
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "08 07 06 05 04 03 02 01", within: 60s}
      - pause: 60s
"#;

/// conform writes `mib` MiB (one 1 MiB payload, repeated through a YAML alias) to a server,
/// then waits for the greeting; every wait is bounded by `timeout`.
fn big_send_spec(mib: usize, timeout: &str) -> String {
    let payload = "x".repeat(1 << 20);
    let mut steps = format!("      - connect\n      - send: &big {{text: \"{payload}\"}}\n");
    for _ in 1..mib {
        steps.push_str("      - send: *big\n");
    }
    steps.push_str("      - expect: {line: \"Hello World!\"}\n");
    format!(
        "timeout: {timeout}\nscenarios:\n  - name: server takes a large request\n    \
         role: server\n    transport: tcp\n    steps:\n{steps}"
    )
}

// ---------------------------------------------------------------------------------------------
// The process table, read from /proc.

#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: u32,
    ppid: u32,
    /// Clock ticks after boot: with the pid, names a process even if the pid is reused.
    start: u64,
    state: char,
}

fn stat(pid: u32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    Some(Proc {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

fn processes() -> Vec<Proc> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter_map(stat)
                .collect()
        })
        .unwrap_or_default()
}

fn descendants(table: &[Proc], root: u32) -> Vec<Proc> {
    let mut found: Vec<Proc> = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for p in table.iter().filter(|p| p.ppid == parent) {
            if !found.iter().any(|f| f.pid == p.pid) {
                found.push(*p);
                queue.push(p.pid);
            }
        }
    }
    found
}

/// Whether the process that started at `start` still runs (a zombie runs nothing).
fn running(pid: u32, start: u64) -> bool {
    stat(pid).is_some_and(|p| p.start == start && p.state != 'Z' && p.state != 'X')
}

fn signal(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) has no memory effects; a stale pid yields ESRCH at worst.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// `VmHWM` (peak resident set) of a live process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// A watched conform run.

/// GNU time, which reports the peak RSS of the command it runs (Debian package `time`).
const GNU_TIME: &str = "/usr/bin/time";

struct Watched {
    /// conform's exit code (`None`: killed by a signal).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    /// From SIGINT to conform's exit, when the run was interrupted.
    after_interrupt: Option<Duration>,
    /// Peak RSS in KiB as GNU time reports it: conform, and each program it reaped.
    time_rss_kib: Option<u64>,
    /// conform's own peak RSS (`VmHWM`) at the last look before it exited, in KiB.
    hwm_kib: u64,
    /// Everything seen below conform while it ran: (pid, start time).
    seen: HashSet<(u32, u64)>,
}

impl Watched {
    fn context(&self) -> String {
        format!(
            "exit {:?} after {:.2}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            self.wall.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }

    /// The peak memory figure asserted on: GNU time's when it ran, else conform's `VmHWM`.
    fn peak_kib(&self) -> u64 {
        self.time_rss_kib.unwrap_or(self.hwm_kib)
    }
}

/// What the watcher saw at one look, for deciding when to interrupt.
struct Sample {
    /// How long ago a program first appeared below conform.
    program_for: Option<Duration>,
    /// How long ago conform was first seen holding a connected TCP socket or a UDP socket,
    /// i.e. talking to the program rather than waiting for it.
    talking_for: Option<Duration>,
}

/// Decides when to interrupt a run: true means "send SIGINT now".
type Trigger<'a> = &'a mut dyn FnMut(&Sample) -> bool;

fn read_all(mut source: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// Socket inodes among `/proc/PID/fd`, as conform itself reads them.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    conform::proctable::socket_inodes(pid).into_iter().collect()
}

/// Whether `pid` holds a connected TCP socket or any UDP socket (IPv4: everything here
/// is on 127.0.0.1).
fn talking(pid: u32) -> bool {
    let inodes = socket_inodes(pid);
    if inodes.is_empty() {
        return false;
    }
    let rows = |table: &str| -> Vec<(String, u64)> {
        std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                Some((fields.get(3)?.to_string(), fields.get(9)?.parse().ok()?))
            })
            .collect()
    };
    // Any state of a connection, from ESTABLISHED (01) on, but LISTEN (0A) and CLOSE (07).
    let connected = rows("/proc/net/tcp")
        .into_iter()
        .any(|(state, inode)| state != "0A" && state != "07" && inodes.contains(&inode));
    connected
        || rows("/proc/net/udp")
            .into_iter()
            .any(|(_, inode)| inodes.contains(&inode))
}

/// Runs conform with `args`, looking at the process table every 10 ms; with `measure`, under
/// GNU time (when installed) for its peak memory. Panics, after killing everything it saw,
/// if the run hangs; panics if anything conform started outlives it.
fn watch(
    args: &[String],
    env: &[(&str, &Path)],
    measure: bool,
    mut trigger: Option<Trigger>,
) -> Watched {
    let conform = env!("CARGO_BIN_EXE_conform");
    let dir = tempfile::tempdir().expect("temp dir");
    let time_out = dir.path().join("time");
    // GNU time forks conform from a small process, so the peak it reports is conform's and
    // its programs', not this test process's (a child's maxrss starts at its parent's RSS).
    let timed = measure && Path::new(GNU_TIME).exists();
    let mut cmd = if timed {
        let mut cmd = Command::new(GNU_TIME);
        cmd.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&time_out)
            .arg(conform);
        cmd
    } else {
        Command::new(conform)
    };
    cmd.current_dir(root())
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("conform starts");
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let mut conform_pid = (!timed).then_some(child.id());
    let mut seen = HashSet::new();
    let mut first_program: Option<Instant> = None;
    let mut first_talk: Option<Instant> = None;
    let mut interrupted: Option<Instant> = None;
    let mut hwm_kib = 0;
    let status = loop {
        let table = processes();
        if conform_pid.is_none() {
            conform_pid = table.iter().find(|p| p.ppid == child.id()).map(|p| p.pid);
        }
        if let Some(pid) = conform_pid {
            let below = descendants(&table, pid);
            if first_program.is_none() && !below.is_empty() {
                first_program = Some(Instant::now());
            }
            seen.extend(below.iter().map(|p| (p.pid, p.start)));
            hwm_kib = vm_hwm_kib(pid).unwrap_or(hwm_kib);
            if let Some(trigger) = trigger.as_mut()
                && interrupted.is_none()
            {
                if first_talk.is_none() && talking(pid) {
                    first_talk = Some(Instant::now());
                }
                let sample = Sample {
                    program_for: first_program.map(|t| t.elapsed()),
                    talking_for: first_talk.map(|t| t.elapsed()),
                };
                if trigger(&sample) {
                    signal(pid, libc::SIGINT);
                    interrupted = Some(Instant::now());
                }
            }
        }
        if let Some(status) = child.try_wait().expect("wait for conform") {
            break status;
        }
        if start.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(pid) = conform_pid {
                signal(pid, libc::SIGKILL);
            }
            for &(p, s) in &seen {
                if running(p, s) {
                    signal(p, libc::SIGKILL);
                }
            }
            panic!("conform {args:?} hung: still running after {HANG_LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let exited = Instant::now();
    let collect = |rx: mpsc::Receiver<String>, name: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                format!("<conform's {name} stayed open after it exited: something holds it>")
            })
    };
    // GNU time writes "Command exited with non-zero status N" first when there is one.
    let time_rss_kib = timed
        .then(|| std::fs::read_to_string(&time_out).ok())
        .flatten()
        .and_then(|text| text.lines().last()?.trim().parse().ok());
    let watched = Watched {
        code: status.code(),
        stdout: collect(stdout, "stdout"),
        stderr: collect(stderr, "stderr"),
        wall: exited - start,
        after_interrupt: interrupted.map(|t| exited - t),
        time_rss_kib,
        hwm_kib,
        seen,
    };
    if timed {
        assert!(
            watched.time_rss_kib.is_some(),
            "GNU time reported nothing\n{}",
            watched.context()
        );
    }
    assert_nothing_left(&watched.seen, &watched.context());
    watched
}

/// Fails if anything seen below conform still runs (after a short bounded wait, since a
/// process killed just before conform exited may take a moment to go); kills it first.
fn assert_nothing_left(seen: &HashSet<(u32, u64)>, context: &str) {
    let deadline = Instant::now() + VANISH;
    let mut left: Vec<(u32, u64)> = seen.iter().copied().collect();
    loop {
        left.retain(|&(pid, start)| running(pid, start));
        if left.is_empty() || Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    for &(pid, _) in &left {
        signal(pid, libc::SIGKILL);
    }
    assert!(
        left.is_empty(),
        "processes outlived conform: {:?}\n{context}",
        left.iter().map(|p| p.0).collect::<Vec<_>>()
    );
}

/// A Rust fixture: the cargo example if `cargo test` built it, or else built once with
/// rustc (as fixtures/README.md describes), because `cargo test --test hostile` builds no
/// examples.
fn rust_fixture(name: &str) -> String {
    let exe = std::env::current_exe().expect("test executable path");
    let example = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("examples").join(name));
    if example.as_ref().is_some_and(|p| p.exists()) {
        return fixture(&format!("rust/{name}"));
    }
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    assert_eq!(
        name, "tcp_server_never_binds",
        "only this one is built here"
    );
    let out = BUILT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let status = Command::new("rustc")
            .args(["--edition", "2024", "-O", "-o"])
            .arg(&out)
            .arg(root().join(format!("fixtures/rust/{name}.rs")))
            .status()
            .expect("rustc runs");
        assert!(status.success(), "rustc could not build {name}");
        out
    });
    format!("{} {{port}}", out.display())
}

/// Runs `spec` (YAML text) against the server `command`, with `args`; checks the run ended within
/// `budget + SLACK`, with bounded memory and nothing left behind; prints the timing.
fn hostile(
    name: &str,
    command: &str,
    spec: &str,
    args: &[&str],
    env: &[(&str, &Path)],
    budget: Duration,
) -> Watched {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&path, spec).expect("write spec");
    let mut argv = vec![
        "run".to_string(),
        path.to_string_lossy().into_owned(),
        "--server".into(),
        command.into(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let run = watch(&argv, env, true, None);
    let method = if run.time_rss_kib.is_some() {
        "GNU time: conform and the programs it reaped"
    } else {
        "VmHWM of conform at its last look"
    };
    eprintln!(
        "hostile-timing {name}: budget {:.2}s, took {:.2}s, overshoot {:+.2}s, \
         peak RSS {} KiB ({method}; conform alone at its last look: {} KiB)",
        budget.as_secs_f64(),
        run.wall.as_secs_f64(),
        run.wall.as_secs_f64() - budget.as_secs_f64(),
        run.peak_kib(),
        run.hwm_kib
    );
    assert!(
        run.wall < budget + SLACK,
        "{name}: no verdict within {budget:?} + {SLACK:?}\n{}",
        run.context()
    );
    assert!(
        run.peak_kib() < MEMORY_LIMIT_KIB,
        "{name}: peak RSS {} KiB ({method}) is over {} KiB\n{}",
        run.peak_kib(),
        MEMORY_LIMIT_KIB,
        run.context()
    );
    run
}

/// Asserts the scenario's block starts with `verdict` and says each of `says`.
fn says(run: &Watched, scenario: &str, verdict: &str, says: &[&str]) {
    let block = scenario_block(&run.stdout, scenario);
    assert!(
        block.starts_with(verdict),
        "expected {verdict} for `{scenario}`:\n{block}\n\n{}",
        run.context()
    );
    for text in says {
        assert!(block.contains(text), "`{text}` not in:\n{block}");
    }
}

fn pids_in(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("pid=")?.parse().ok())
        .collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ---------------------------------------------------------------------------------------------
// Hostile programs.

#[test]
fn server_that_ignores_sigterm_and_forks_is_killed_after_its_ready_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let run = hostile(
        "ignore_term_forks",
        &fixture("shell/ignore_term_forks.sh"),
        GREET,
        &["--ready-timeout", "2s", "--grace", "200ms"],
        &[("PIDFILE", &pidfile)],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "was not listening on TCP 127.0.0.1:",
            "after 2000ms",
            "did not exit within the grace of 200 ms after SIGTERM; conform killed it with SIGKILL",
        ],
    );
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 2, "the fixture wrote its pids");
    for pid in pids {
        assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
    }
}

#[test]
fn grandchildren_holding_the_port_and_pipes_after_the_server_exits_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    // Passes the greeting; the second client is connected by the kernel (a grandchild holds
    // the listening socket) but nobody greets it: a warning after its 2 s deadline.
    let run = hostile(
        "grandchildren_hold",
        &fixture("python/tcp_server_grandchildren_hold.py"),
        GREET_TWICE,
        &[],
        &[("PIDFILE", &pidfile)],
        secs(2),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
    says(
        &run,
        "server serves a second client",
        "WARN",
        &[
            "step 5 `expect`",
            "nothing arrived within 2s",
            "exited with code 0",
        ],
    );
    // Two runs of the program, each with two grandchildren (one setsid'd): six pids.
    let pids = pids_in(&pidfile);
    assert_eq!(pids.len(), 6, "{pids:?}");
    for pid in pids {
        assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
    }
}

#[test]
fn flooding_stdout_with_50_mib_keeps_conform_memory_bounded_and_passes() {
    let run = hostile(
        "flood_stdout",
        &fixture("python/flood_stdout.py"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn flooding_stderr_with_50_mib_keeps_conform_memory_bounded_and_passes() {
    let run = hostile(
        "flood_stderr",
        &fixture("python/flood_stderr.py"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn flooded_stderr_in_a_failure_report_is_cut_to_its_last_lines() {
    // The fixture serves one client, so the second-client scenario warns and its report
    // shows the program's stderr: the last lines of 50 MiB, not all of it.
    let run = hostile(
        "flood_stderr_report",
        &fixture("python/flood_stderr.py"),
        GREET_TWICE,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    let block = scenario_block(&run.stdout, "server serves a second client");
    assert!(block.contains("last stderr lines:"), "{block}");
    // 8 lines of about 1 KiB each, not 50 MiB.
    assert!(run.stdout.len() < 64 * 1024, "{} bytes", run.stdout.len());
}

#[test]
fn server_that_never_listens_fails_at_its_ready_timeout() {
    let run = hostile(
        "never_binds",
        &rust_fixture("tcp_server_never_binds"),
        GREET,
        &["--ready-timeout", "2s"],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "was not listening on TCP 127.0.0.1:",
            "after 2000ms",
            "opened no listening socket",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn server_that_listens_after_3s_passes_with_the_default_ready_timeout() {
    let run = hostile(
        "binds_late",
        &fixture("python/tcp_server_binds_late.py"),
        GREET,
        &[],
        &[],
        secs(3),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server greets with Hello World", "PASS", &[]);
}

#[test]
fn server_that_listens_after_3s_fails_a_1s_ready_timeout_as_not_listening() {
    let run = hostile(
        "binds_late_ready_1s",
        &fixture("python/tcp_server_binds_late.py"),
        GREET,
        &["--ready-timeout", "1s"],
        &[],
        secs(1),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program was not listening on TCP 127.0.0.1:",
            "after 1000ms",
            "opened no listening socket",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn server_on_the_wrong_port_fails_as_soon_as_it_listens_naming_that_port() {
    // A ready timeout far beyond the run's limit: only the early "listens elsewhere" path can
    // produce this verdict within it.
    let run = hostile(
        "wrong_port",
        &fixture("shell/tcp_server_wrong_port.sh"),
        GREET,
        &["--ready-timeout", "10m"],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program is listening on TCP 127.0.0.1:",
            "instead of TCP 127.0.0.1:",
            "or run with --port ",
        ],
    );
}

#[test]
fn server_that_exits_at_once_fails_without_waiting_for_any_deadline() {
    let run = hostile(
        "exits_at_once",
        &fixture("shell/tcp_server_exit3.sh"),
        GREET,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "the program exited with code 3 before listening on TCP 127.0.0.1:",
            "simulated startup failure",
        ],
    );
}

#[test]
fn server_that_accepts_and_never_reads_fails_at_the_expect_deadline() {
    let run = hostile(
        "never_reads",
        &fixture("python/tcp_server_never_reads.py"),
        SPEAK_THEN_WAIT,
        &[],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server answers a client that speaks first",
        "FAIL",
        &[
            "step 3 `expect`",
            "but nothing arrived within 2s",
            "was still running; conform stopped it with SIGTERM",
        ],
    );
}

#[test]
fn sending_to_a_server_that_never_reads_is_bounded_by_the_step_deadline() {
    // 16 MiB cannot fit in the kernel's buffers (a 4 KiB receive buffer, send buffers of at
    // most 4 MiB by default), so conform's write blocks.
    let run = hostile(
        "never_reads_big_send",
        &fixture("python/tcp_server_never_reads.py"),
        &big_send_spec(16, "2s"),
        &[],
        &[],
        secs(2),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(&run, "server takes a large request", "FAIL", &["`send`"]);
}

#[test]
fn endless_sender_fails_expect_eof_at_once_and_memory_stays_bounded() {
    let run = hostile(
        "endless",
        &fixture("python/tcp_server_endless.py"),
        GREET_THEN_END,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(
        &run,
        "server greets with Hello World",
        "FAIL",
        &[
            "step 3 `expect_eof`",
            "expected the connection to close, but",
            "more byte(s) arrived",
            r#"received: "more data more data"#,
        ],
    );
    // A pattern that never comes: conform stops at its buffer limit instead of reading on.
    says(
        &run,
        "server ends its stream with END",
        "FAIL",
        &["step 3 `expect`", "bytes arrived without a match"],
    );
}

#[test]
fn udp_server_answering_ten_times_passes_must_scenarios_and_warns_once_per_datagram() {
    let run = hostile(
        "ten_replies",
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    says(&run, "server reverses 8 bytes", "PASS", &[]);
    says(&run, "server reverses text bytes", "PASS", &[]);
    says(
        &run,
        "server answers once per datagram",
        "WARN",
        &[
            "step 4 `expect_silence`",
            "expected silence for 300ms, but a 8-byte datagram arrived",
        ],
    );
    assert!(
        run.stdout.contains("2 passed, 0 failed"),
        "{}",
        run.context()
    );
}

#[test]
fn udp_server_answering_ten_times_fails_once_per_datagram_with_strict() {
    let run = hostile(
        "ten_replies_strict",
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE,
        &["--strict"],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(1), "{}", run.context());
    says(&run, "server reverses 8 bytes", "PASS", &[]);
    says(&run, "server answers once per datagram", "FAIL", &[]);
}

#[test]
fn output_of_a_server_that_exited_is_judged_without_waiting_for_its_helpers() {
    let spec = r#"
scenarios:
  - name: server prints nothing
    role: server
    transport: tcp
    steps:
      - connect
      - expect: {line: "Hello World!"}
      - expect_eof
      - expect_exit: {code: 0, within: 20s}
      - expect_stdout: {text: "", within: 20s}
"#;
    let run = hostile(
        "grandchildren_hold_stdout",
        &fixture("python/tcp_server_grandchildren_hold.py"),
        spec,
        &[],
        &[],
        secs(0),
    );
    assert_eq!(run.code, Some(0), "{}", run.context());
    // The verdict is right either way; what is wrong is that it takes the full 20 s.
    assert!(
        run.wall < secs(10),
        "took {:.2}s although the program had exited\n{}",
        run.wall.as_secs_f64(),
        run.context()
    );
}

// ---------------------------------------------------------------------------------------------
// conform interrupted while a hostile program runs.

/// When to interrupt a run.
#[derive(Clone, Copy)]
enum When {
    /// This long after conform started talking to the program (a connected TCP socket or a
    /// UDP socket): the specs used with it are then in a `pause`, and only the program's own
    /// behaviour is in play.
    Talking(Duration),
    /// This long after the program appeared: conform may still be waiting on it, for
    /// readiness or on a socket.
    Started(Duration),
}

/// Interrupts conform mid-run `attempts` times; each time it must exit 130 promptly, say
/// "interrupted", report no verdict for the interrupted scenario, and leave nothing behind
/// (checked by `watch`), including every pid the fixture wrote to `pidfile`.
fn interrupt_mid_run(
    command: &str,
    spec: &str,
    args: &[&str],
    pidfile: Option<&Path>,
    when: When,
    attempts: usize,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    let mut argv = vec![
        "run".to_string(),
        path.to_string_lossy().into_owned(),
        "--server".into(),
        command.into(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let env: Vec<(&str, &Path)> = pidfile.map(|p| ("PIDFILE", p)).into_iter().collect();
    let mut wrong = Vec::new();
    for attempt in 1..=attempts {
        let mut trigger = |s: &Sample| match when {
            // The fallback only keeps a broken test from idling through the 60 s pause.
            When::Talking(d) => {
                s.talking_for.is_some_and(|t| t >= d)
                    || s.program_for.is_some_and(|t| t >= secs(30))
            }
            When::Started(d) => s.program_for.is_some_and(|t| t >= d),
        };
        let run = watch(&argv, &env, false, Some(&mut trigger));
        let after = run.after_interrupt;
        assert!(after.is_some(), "never interrupted\n{}", run.context());
        assert!(
            after.is_some_and(|a| a < secs(10)),
            "took {after:?} to exit after SIGINT\n{}",
            run.context()
        );
        assert!(!run.seen.is_empty(), "no program ran\n{}", run.context());
        let verdict = run
            .stdout
            .lines()
            .any(|l| ["PASS", "FAIL", "WARN"].iter().any(|v| l.starts_with(v)));
        if run.code != Some(130) || !run.stderr.contains("interrupted") || verdict {
            wrong.push(format!("attempt {attempt}: {}", run.context()));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {attempts} interrupted run(s) did not end with exit 130, `interrupted` and \
         no verdict:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    if let Some(pidfile) = pidfile {
        let pids = pids_in(pidfile);
        assert!(!pids.is_empty(), "the fixture wrote no pids");
        for pid in pids {
            assert!(stat(pid).is_none_or(|p| p.state == 'Z'), "{pid} survived");
        }
    }
}

#[test]
fn sigint_while_setsid_grandchildren_hold_the_port_stops_them_all_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    interrupt_mid_run(
        &fixture("python/tcp_server_grandchildren_hold.py"),
        GREET_THEN_IDLE,
        &[],
        Some(&pidfile),
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_holds_a_connection_it_never_reads_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        SPEAK_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_is_blocked_sending_forever_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_endless.py"),
        GREET_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_udp_server_answers_ten_times_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/udp_server_ten_replies.py"),
        REVERSE_THEN_IDLE,
        &[],
        None,
        When::Talking(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_waiting_on_a_server_that_shuts_down_gracefully_exits_130_without_a_verdict() {
    interrupt_mid_run(
        &fixture("python/tcp_server_graceful_term.py"),
        GREET_THEN_WAIT_EOF,
        &[],
        None,
        When::Talking(Duration::from_millis(500)),
        10,
    );
}

#[test]
fn sigint_while_waiting_for_a_reply_from_a_server_that_never_reads_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        &SPEAK_THEN_WAIT.replace("within: 2s", "within: 60s"),
        &[],
        None,
        When::Talking(secs(1)),
        10,
    );
}

#[test]
fn sigint_while_conform_is_blocked_sending_to_a_server_that_never_reads_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_never_reads.py"),
        &big_send_spec(16, "60s"),
        &[],
        None,
        When::Talking(secs(1)),
        10,
    );
}

#[test]
fn sigint_while_waiting_for_a_late_listener_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/tcp_server_binds_late.py"),
        GREET_THEN_IDLE,
        &["--ready-timeout", "60s"],
        None,
        When::Started(secs(1)),
        1,
    );
}

#[test]
fn sigint_while_a_server_floods_stderr_stops_it_and_exits_130() {
    interrupt_mid_run(
        &fixture("python/flood_stderr.py"),
        GREET_THEN_IDLE,
        &[],
        None,
        When::Started(Duration::from_millis(100)),
        1,
    );
}

// ---------------------------------------------------------------------------------------------
// Load: several conform processes at once, each picking its own ports.

/// Starts every command at once and collects their outputs, each within `limit`.
fn all_at_once(runs: Vec<Vec<String>>, limit: Duration) -> Vec<Output> {
    let children: Vec<(u32, mpsc::Receiver<std::io::Result<Output>>)> = runs
        .iter()
        .map(|args| {
            let child: Child = Command::new(env!("CARGO_BIN_EXE_conform"))
                .current_dir(root())
                .args(args)
                .env_remove("NO_COLOR")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("conform starts");
            let pid = child.id();
            let (tx, rx) = mpsc::channel();
            thread::spawn(move || {
                let _ = tx.send(child.wait_with_output());
            });
            (pid, rx)
        })
        .collect();
    let deadline = Instant::now() + limit;
    let mut outputs = Vec::new();
    let mut hung = Vec::new();
    for (pid, rx) in &children {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(output) => outputs.push(output.expect("conform ran")),
            Err(_) => hung.push(*pid),
        }
    }
    for &pid in &hung {
        // SIGINT lets conform stop its own programs on the way out.
        signal(pid, libc::SIGINT);
    }
    assert!(
        hung.is_empty(),
        "conform runs {hung:?} still going after {limit:?}"
    );
    outputs
}

fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn eight_conform_runs_at_once_against_the_reference_all_pass() {
    let runs = (0..8)
        .map(|_| words(&["run", "specs/tcp.yaml", "specs/udp.yaml"]))
        .collect();
    for output in all_at_once(runs, secs(120)) {
        let report = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert!(report.contains(" 0 failed, 0 skipped"), "{report}");
        assert!(!report.contains("WARN"), "{report}");
    }
}

#[test]
fn four_conform_runs_at_once_against_the_lisp_servers_all_pass() {
    let tcp = lisp("tcp", "server");
    let udp = lisp("udp", "server");
    // Each generated scenario starts SBCL once per case: a few cases keep this affordable.
    let runs = [("tcp", &tcp), ("udp", &udp), ("tcp", &tcp), ("udp", &udp)]
        .iter()
        .map(|(proto, server)| {
            let spec = format!("specs/{proto}.yaml");
            words(&["run", &spec, "--server", server, "--cases", "5"])
        })
        .collect();
    for output in all_at_once(runs, secs(240)) {
        let report = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert!(report.contains(" 0 failed,"), "{report}");
        assert!(!report.contains("FAIL"), "{report}");
    }
}
