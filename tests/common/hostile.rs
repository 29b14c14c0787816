//! What the hostile tests (tests/hostile_*.rs) share: a watched conform run and the checks
//! made on every one, the process table they read from /proc, and the specs more than one of
//! them uses.
//!
//! In: conform's arguments (or a spec's YAML text and a server command). Out: a [`Watched`]
//! run, with its exit code, output, wall time, peak memory and every process seen below
//! conform, none of which may outlive it. Its wall time is asserted only against a generous
//! bound, `budget + SLACK`, so a loaded machine cannot make a test flaky: the budget is the
//! sum of the waits the hostile program forces to run out, and `scripts/hostile-timing`
//! measures how far past it conform really goes.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{fixture, root, scenario_block};

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
// Specs used by more than one theme. Each hostile case runs a small spec with explicit
// deadlines, so its budget is plain.

/// The greeting, with a 2 s deadline on every wait.
pub const GREET: &str = r#"
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
pub const GREET_TWICE: &str = r#"
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
pub const SPEAK_THEN_WAIT: &str = r#"
scenarios:
  - name: server answers a client that speaks first
    role: server
    transport: tcp
    steps:
      - connect
      - send: "Hello?\n"
      - expect: {line: "Hello World!", within: 2s}
"#;

/// conform writes `mib` MiB (one 1 MiB payload, repeated through a YAML alias) to a server,
/// then waits for the greeting; every wait is bounded by `timeout`.
pub fn big_send_spec(mib: usize, timeout: &str) -> String {
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
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    /// Clock ticks after boot: with the pid, names a process even if the pid is reused.
    pub start: u64,
    pub state: char,
}

pub fn stat(pid: u32) -> Option<Proc> {
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

pub fn signal(pid: u32, sig: i32) {
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

pub struct Watched {
    /// conform's exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// From SIGINT to conform's exit, when the run was interrupted.
    pub after_interrupt: Option<Duration>,
    /// Peak RSS in KiB as GNU time reports it: conform, and each program it reaped.
    pub time_rss_kib: Option<u64>,
    /// conform's own peak RSS (`VmHWM`) at the last look before it exited, in KiB.
    pub hwm_kib: u64,
    /// Everything seen below conform while it ran: (pid, start time).
    pub seen: HashSet<(u32, u64)>,
}

impl Watched {
    pub fn context(&self) -> String {
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
pub struct Sample {
    /// How long ago a program first appeared below conform.
    pub program_for: Option<Duration>,
    /// How long ago conform was first seen holding a connected TCP socket or a UDP socket,
    /// i.e. talking to the program rather than waiting for it.
    pub talking_for: Option<Duration>,
}

/// Decides when to interrupt a run: true means "send SIGINT now".
pub type Trigger<'a> = &'a mut dyn FnMut(&Sample) -> bool;

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
    conform::os::proctable::socket_inodes(pid)
        .into_iter()
        .collect()
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

/// The command that runs conform with `args` and `env`, from the repository root, its output
/// piped; under GNU time, writing its figure to `time_out`, when that is given.
fn conform_command(args: &[String], env: &[(&str, &Path)], time_out: Option<&Path>) -> Command {
    let conform = env!("CARGO_BIN_EXE_conform");
    // GNU time forks conform from a small process, so the peak it reports is conform's and
    // its programs', not this test process's (a child's maxrss starts at its parent's RSS).
    let mut cmd = match time_out {
        Some(time_out) => {
            let mut cmd = Command::new(GNU_TIME);
            cmd.args(["-f", "%M", "-o"]).arg(time_out).arg(conform);
            cmd
        }
        None => Command::new(conform),
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
    cmd
}

/// Kills a hung run: the direct child (GNU time or conform), conform, and everything seen
/// below it that still runs.
fn kill_everything(child: &mut Child, conform_pid: Option<u32>, seen: &HashSet<(u32, u64)>) {
    let _ = child.kill();
    let _ = child.wait();
    if let Some(pid) = conform_pid {
        signal(pid, libc::SIGKILL);
    }
    for &(pid, start) in seen {
        if running(pid, start) {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// Runs conform with `args`, looking at the process table every 10 ms; with `measure`, under
/// GNU time (when installed) for its peak memory. Panics, after killing everything it saw,
/// if the run hangs; panics if anything conform started outlives it.
pub fn watch(
    args: &[String],
    env: &[(&str, &Path)],
    measure: bool,
    mut trigger: Option<Trigger>,
) -> Watched {
    let dir = tempfile::tempdir().expect("temp dir");
    let time_out = dir.path().join("time");
    let timed = measure && Path::new(GNU_TIME).exists();
    let start = Instant::now();
    let mut child = conform_command(args, env, timed.then_some(&time_out))
        .spawn()
        .expect("conform starts");
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
            kill_everything(&mut child, conform_pid, &seen);
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
/// rustc (as fixtures/README.md describes), because `cargo test --test hostile_readiness`
/// builds no examples.
pub fn rust_fixture(name: &str) -> String {
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
pub fn hostile(
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
pub fn says(run: &Watched, scenario: &str, verdict: &str, says: &[&str]) {
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

pub fn pids_in(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("pid=")?.parse().ok())
        .collect()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
