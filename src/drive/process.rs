//! Running one external program: a `Spawn` (argv, extra environment, capture size) comes in; a
//! `Child` goes out, whose output is captured in bounded buffers and which ends as an `Ending`
//! (how it exited and whether it had to be stopped) with nothing it started left running.
//!
//! Each program leads its own process group so one signal reaches everything it forked. Helpers
//! that leave the group (setsid, double fork) are found by walking `/proc`: conform is a child
//! subreaper, so orphans reparent to it, and every program gets a unique tag in its environment
//! that its descendants inherit, which tells this program's orphans from another's.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::capture::Pipe;
pub use super::capture::{Captured, TAIL_BYTES};
use crate::cleanup;
use crate::proctable::{self, ProcStat, children_of};

/// Environment variable carrying the tag that marks a program's descendants as its own.
pub const TAG_VAR: &str = "CONFORM_PROCESS_TAG";

/// How long `Drop` lets a forgotten program react to SIGTERM.
const DROP_GRACE: Duration = Duration::from_millis(100);

/// Upper bound on the final sweep; it only takes this long if a process refuses to die.
const SWEEP_LIMIT: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawn {
    pub argv: Vec<String>,
    /// Added to conform's own environment.
    pub env: Vec<(String, String)>,
    /// Bytes kept from the start of each of stdout and stderr.
    pub capture_limit: usize,
}

/// Why a program could not be started.
#[derive(Debug)]
pub enum SpawnError {
    NotFound { program: String },
    PermissionDenied { program: String },
    Io { program: String, source: io::Error },
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { program } if program.contains('/') => write!(
                f,
                "cannot run `{program}`: no such file or directory \
                 (is the path right, relative to the current directory?)"
            ),
            Self::NotFound { program } => write!(
                f,
                "cannot run `{program}`: no such program on PATH \
                 (is it installed? a file in the current directory needs ./{program})"
            ),
            Self::PermissionDenied { program } => write!(
                f,
                "cannot run `{program}`: permission denied \
                 (is it an executable file? try chmod +x {program})"
            ),
            Self::Io { program, .. } if program.is_empty() => {
                write!(f, "cannot run an empty command")
            }
            Self::Io { program, source } => {
                write!(f, "cannot run `{program}`: {}", describe(source))
            }
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn describe(error: &io::Error) -> String {
    if error.raw_os_error() == Some(libc::ENOEXEC) {
        return "the file is not in an executable format (does a script lack its #! line?)".into();
    }
    error.to_string()
}

/// How a program's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Self::Code(0)
    }

    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Self::Code(code),
            (None, Some(signal)) => Self::Signal(signal),
            // Only stop/continue statuses have neither, and wait never reports those.
            (None, None) => Self::Code(-1),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => write!(f, "exited with code {code}"),
            Self::Signal(signal) => match signal_name(*signal) {
                Some(name) => write!(f, "killed by signal {signal} ({name})"),
                None => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// The conventional name of a common signal.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => return None,
    })
}

/// Whether conform had to stop the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stopped {
    ByItself,
    /// It ended within the grace period after SIGTERM.
    Terminated,
    /// It was still running after the grace period and got SIGKILL.
    Killed,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ByItself => "ended by itself",
            Self::Terminated => "stopped when conform sent SIGTERM",
            Self::Killed => "ignored SIGTERM and was killed with SIGKILL",
        })
    }
}

/// How a program ended, as `Child::terminate` saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ending {
    pub exit: Exit,
    pub how: Stopped,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.how {
            Stopped::ByItself => write!(f, "{}", self.exit),
            Stopped::Terminated => write!(f, "{} after conform sent SIGTERM", self.exit),
            Stopped::Killed => write!(f, "{} after ignoring SIGTERM", self.exit),
        }
    }
}

/// A running (or finished) program. Dropping it stops it.
pub struct Child {
    inner: std::process::Child,
    pid: u32,
    tag: String,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    exit: Option<Exit>,
    ending: Option<Ending>,
    left_behind: usize,
}

/// Starts the program in its own process group with stdin empty and both outputs captured.
pub fn spawn(spec: &Spawn) -> Result<Child, SpawnError> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(SpawnError::Io {
            program: String::new(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the command is empty"),
        });
    };
    cleanup::ensure_subreaper();
    let tag = next_tag();
    let inner = Command::new(program)
        .args(args)
        .envs(spec.env.iter().map(|(key, value)| (key, value)))
        .env(TAG_VAR, &tag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| spawn_error(program, e))?;
    let pid = inner.id();
    cleanup::register(raw_pid(pid));
    let mut child = Child {
        inner,
        pid,
        tag,
        stdout: Arc::default(),
        stderr: Arc::default(),
        exit: None,
        ending: None,
        left_behind: 0,
    };
    // On failure dropping `child` stops the program, so nothing is left running.
    child
        .start_readers(spec.capture_limit)
        .map_err(|source| SpawnError::Io {
            program: program.clone(),
            source,
        })?;
    Ok(child)
}

fn spawn_error(program: &str, error: io::Error) -> SpawnError {
    let program = program.to_string();
    match error.kind() {
        // ENOENT for a file that exists means the kernel could not find its interpreter.
        io::ErrorKind::NotFound if program.contains('/') && Path::new(&program).exists() => {
            SpawnError::Io {
                program,
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "the file exists, but the interpreter named on its #! line was not found",
                ),
            }
        }
        io::ErrorKind::NotFound => SpawnError::NotFound { program },
        io::ErrorKind::PermissionDenied => SpawnError::PermissionDenied { program },
        _ => SpawnError::Io {
            program,
            source: error,
        },
    }
}

/// A tag unique to this conform process and this program.
fn next_tag() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Pids from `/proc` and `std` are `u32`; the kernel's never exceed `i32`.
fn raw_pid(pid: u32) -> libc::pid_t {
    i32::try_from(pid).unwrap_or(i32::MAX)
}

/// Sends `signal`, ignoring failure: the target may already be gone, which is the goal.
fn send(pid: u32, signal: i32) {
    // SAFETY: kill has no memory effects; a stale pid at worst yields ESRCH.
    unsafe {
        libc::kill(raw_pid(pid), signal);
    }
}

fn send_group(pgid: i32, signal: i32) {
    // SAFETY: as for `send`; the group id stays ours while any member lives.
    unsafe {
        libc::killpg(pgid, signal);
    }
}

impl Child {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The program leads its own group, so the group id is its pid.
    fn pgid(&self) -> i32 {
        raw_pid(self.pid)
    }

    fn start_readers(&mut self, limit: usize) -> io::Result<()> {
        if let Some(out) = self.inner.stdout.take() {
            start_reader("stdout", self.pid, out, Arc::clone(&self.stdout), limit)?;
        }
        if let Some(err) = self.inner.stderr.take() {
            start_reader("stderr", self.pid, err, Arc::clone(&self.stderr), limit)?;
        }
        Ok(())
    }

    /// The exit status if the program has ended, without waiting.
    pub fn try_status(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            // An error means someone else reaped our child, which nothing in conform does;
            // treat it as still unknown and let `terminate` settle it.
            if let Ok(Some(status)) = self.inner.try_wait() {
                self.exit = Some(Exit::from_status(status));
            }
        }
        self.exit
    }

    /// Waits for the program to end, at most until `deadline`.
    pub fn wait_until(&mut self, deadline: Instant) -> Option<Exit> {
        // Short first pauses catch quick programs; the cap keeps waking cheap.
        let mut pause = Duration::from_micros(100);
        loop {
            if let Some(exit) = self.try_status() {
                return Some(exit);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// What the program has written to stdout so far.
    pub fn stdout(&self) -> Captured {
        self.stdout.lock().clone()
    }

    /// What the program has written to stderr so far.
    pub fn stderr(&self) -> Captured {
        self.stderr.lock().clone()
    }

    /// Waits until `done` holds for stdout, stdout closes, or `deadline`; returns a snapshot.
    pub fn wait_stdout(&self, deadline: Instant, done: impl FnMut(&Captured) -> bool) -> Captured {
        self.stdout.wait(deadline, done, Captured::clone)
    }

    /// Waits until both stdout and stderr reached end of file; false if `deadline` came first.
    ///
    /// A program's output is only complete once this holds: it may exit before its last bytes
    /// were read, and a background helper may hold the pipes open after it exits.
    pub fn wait_output_closed(&self, deadline: Instant) -> bool {
        let closed = |pipe: &Pipe| pipe.wait(deadline, |_| false, |c| c.closed);
        closed(&self.stdout) && closed(&self.stderr)
    }

    /// How many other processes of this program were still running when it ended or was
    /// stopped, and had to be killed by conform (known once `terminate` has run).
    pub fn left_behind(&self) -> usize {
        self.left_behind
    }

    /// Stops the program if it is still running and kills everything it started.
    ///
    /// SIGTERM goes to the whole group; after `grace` (output keeps being drained meanwhile)
    /// the program gets SIGKILL. Then every remaining process of the program, in the group or
    /// escaped from it, is killed and reaped. Calling it again returns the same `Ending`.
    pub fn terminate(&mut self, grace: Duration) -> Ending {
        if let Some(ending) = self.ending {
            return ending;
        }
        // Collected before signalling: once the program dies its children reparent and can no
        // longer be found through it.
        let before = self.suspects();
        let (exit, how) = self.stop(grace);
        self.left_behind = self.sweep(before);
        cleanup::unregister(self.pgid());
        let ending = Ending { exit, how };
        self.ending = Some(ending);
        ending
    }

    fn stop(&mut self, grace: Duration) -> (Exit, Stopped) {
        if let Some(exit) = self.try_status() {
            return (exit, Stopped::ByItself);
        }
        send_group(self.pgid(), libc::SIGTERM);
        if let Some(exit) = self.wait_until(Instant::now() + grace) {
            return (exit, Stopped::Terminated);
        }
        // Only the program itself here; the sweep kills the rest of the group right after,
        // having first counted what was left behind.
        send(self.pid, libc::SIGKILL);
        let exit = match self.inner.wait() {
            Ok(status) => Exit::from_status(status),
            // See `try_status`: the status is lost, but SIGKILL is what ended it.
            Err(_) => Exit::Signal(libc::SIGKILL),
        };
        self.exit = Some(exit);
        (exit, Stopped::Killed)
    }

    /// Live processes that belong to this program, other than the program itself.
    fn suspects(&self) -> Vec<ProcStat> {
        // The common case, a program that started nothing, is answered from two short
        // children lists instead of a walk over every process on the machine, which would
        // cost more than the rest of a restart.
        if self.started_nothing() {
            return Vec::new();
        }
        let table = proctable::processes();
        let mut found = Vec::new();
        // Until the program is reaped its pid can't be reused, so walking from it is safe.
        if self.exit.is_none() {
            found.extend(proctable::descendants_in(&table, self.pid));
        }
        let pgid = self.pgid();
        found.extend(
            table
                .iter()
                .filter(|p| p.pgrp == pgid && p.pid != self.pid)
                .copied(),
        );
        let ours = proctable::descendants_in(&table, std::process::id());
        found.extend(
            ours.into_iter()
                .filter(|p| p.pid != self.pid && has_tag(p.pid, &self.tag)),
        );
        found.retain(|p| !p.is_zombie());
        found
    }

    /// Whether the program has no children and nothing has been orphaned to conform that is
    /// not one of the programs it started. `false` when the kernel does not say.
    fn started_nothing(&self) -> bool {
        let own = if self.exit.is_none() {
            match children_of(self.pid) {
                Some(children) => children,
                None => return false,
            }
        } else {
            Vec::new()
        };
        let Some(adopted) = children_of(std::process::id()) else {
            return false;
        };
        let programs = cleanup::registered();
        own.is_empty()
            && adopted.iter().all(|&pid| {
                pid == self.pid || i32::try_from(pid).is_ok_and(|p| programs.contains(&p))
            })
    }

    /// Kills and reaps every remaining process of the program; returns how many were running.
    fn sweep(&mut self, before: Vec<ProcStat>) -> usize {
        let mut known: HashMap<u32, u64> = HashMap::new();
        for p in before.into_iter().chain(self.suspects()) {
            known.insert(p.pid, p.start_time);
        }
        let left_behind = known
            .iter()
            .filter(|&(&pid, &start)| still_same(pid, start).is_some_and(|p| !p.is_zombie()))
            .count();
        send_group(self.pgid(), libc::SIGKILL);
        let deadline = Instant::now() + SWEEP_LIMIT;
        let mut pause = Duration::from_millis(1);
        loop {
            // Rescan: a process may have forked between the last look and its SIGKILL.
            for p in self.suspects() {
                known.entry(p.pid).or_insert(p.start_time);
            }
            known.retain(|&pid, &mut start| !settle(pid, start));
            let now = Instant::now();
            if known.is_empty() || now >= deadline {
                return left_behind;
            }
            thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

fn start_reader(
    name: &str,
    pid: u32,
    source: impl Read + Send + 'static,
    pipe: Arc<Pipe>,
    limit: usize,
) -> io::Result<()> {
    thread::Builder::new()
        .name(format!("{name}-of-{pid}"))
        .spawn(move || pipe.drain(source, limit))
        .map(drop)
}

/// Whether `/proc/PID/environ` carries this program's tag.
fn has_tag(pid: u32, tag: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let wanted = format!("{TAG_VAR}={tag}");
    environ
        .split(|&b| b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

/// The process `pid` if it is still the one that started at `start` (pids get reused).
fn still_same(pid: u32, start: u64) -> Option<ProcStat> {
    proctable::stat(pid).filter(|p| p.start_time == start)
}

/// Moves one process towards gone: kills it if it runs, reaps it if it is our zombie.
/// Returns true once it no longer exists.
fn settle(pid: u32, start: u64) -> bool {
    let Some(process) = still_same(pid, start) else {
        return true;
    };
    let mut status = 0;
    // SAFETY: waitpid on one specific pid, never -1, so no other child's status is taken.
    let reaped = unsafe { libc::waitpid(raw_pid(pid), &mut status, libc::WNOHANG) };
    if reaped == raw_pid(pid) {
        return true;
    }
    // Not reaped: either still running (kill it) or a zombie whose parent is dying and that
    // will reparent to us shortly.
    if !process.is_zombie() {
        send(pid, libc::SIGKILL);
    }
    false
}

impl Drop for Child {
    fn drop(&mut self) {
        self.terminate(DROP_GRACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::os::unix::fs::PermissionsExt;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn sh(script: &str) -> Child {
        spawn(&Spawn {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
            capture_limit: 1 << 20,
        })
        .expect("sh starts")
    }

    /// Reads the first `n` pids a script prints, one per line.
    fn printed_pids(child: &Child, n: usize) -> Vec<u32> {
        let out = child.wait_stdout(soon(), |c| {
            c.head.iter().filter(|&&b| b == b'\n').count() >= n
        });
        String::from_utf8_lossy(&out.head)
            .lines()
            .take(n)
            .map(|line| line.trim().parse().expect("a pid line"))
            .collect()
    }

    /// True once the pid is gone entirely: not running and not a zombie waiting to be reaped.
    fn gone(pid: u32) -> bool {
        // SAFETY: signal 0 only checks for existence.
        let result = unsafe { libc::kill(raw_pid(pid), 0) };
        result == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }

    #[test]
    fn captures_stdout_and_stderr_separately() {
        let mut child = sh("echo out; echo err >&2");
        assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
        assert!(child.wait_output_closed(soon()));
        assert_eq!(child.stdout().bytes(), Some(&b"out\n"[..]));
        assert_eq!(child.stderr().bytes(), Some(&b"err\n"[..]));
    }

    #[test]
    fn passes_extra_environment() {
        let mut child = spawn(&Spawn {
            argv: vec!["sh".into(), "-c".into(), "echo \"$GREETING\"".into()],
            env: vec![("GREETING".into(), "hello".into())],
            capture_limit: 100,
        })
        .expect("sh starts");
        child.wait_until(soon());
        assert!(child.wait_output_closed(soon()));
        assert_eq!(child.stdout().bytes(), Some(&b"hello\n"[..]));
    }

    #[test]
    fn stdin_is_empty() {
        let mut child = sh("cat; echo done");
        assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
        assert!(child.wait_output_closed(soon()));
        assert_eq!(child.stdout().bytes(), Some(&b"done\n"[..]));
    }

    #[test]
    fn huge_output_is_counted_but_kept_bounded() {
        let mut child = spawn(&Spawn {
            argv: vec![
                "head".into(),
                "-c".into(),
                "50000000".into(),
                "/dev/zero".into(),
            ],
            env: Vec::new(),
            capture_limit: 1000,
        })
        .expect("head starts");
        assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
        assert!(child.wait_output_closed(soon()));
        let out = child.stdout();
        assert_eq!(out.total, 50_000_000);
        assert_eq!(out.head.len(), 1000);
        assert_eq!(out.tail.len(), TAIL_BYTES);
        assert!(out.truncated());
        assert_eq!(out.bytes(), None);
        assert_eq!(out.omitted(), 50_000_000 - 1000 - TAIL_BYTES as u64);
    }

    #[rstest]
    #[case::success("exit 0", Exit::Code(0))]
    #[case::failure("exit 3", Exit::Code(3))]
    #[case::killed("kill -9 $$", Exit::Signal(libc::SIGKILL))]
    #[case::segfault("kill -SEGV $$", Exit::Signal(libc::SIGSEGV))]
    fn reports_how_the_program_exited(#[case] script: &str, #[case] expected: Exit) {
        let mut child = sh(script);
        assert_eq!(child.wait_until(soon()), Some(expected));
        let ending = child.terminate(Duration::from_secs(5));
        assert_eq!(
            ending,
            Ending {
                exit: expected,
                how: Stopped::ByItself
            }
        );
    }

    #[rstest]
    #[case(Exit::Code(3), "exited with code 3")]
    #[case(Exit::Signal(9), "killed by signal 9 (SIGKILL)")]
    #[case(Exit::Signal(15), "killed by signal 15 (SIGTERM)")]
    #[case(Exit::Signal(40), "killed by signal 40")]
    fn exit_reads_as_a_phrase(#[case] exit: Exit, #[case] text: &str) {
        assert_eq!(exit.to_string(), text);
    }

    #[test]
    fn wait_until_gives_up_at_the_deadline() {
        let mut child = sh("exec sleep 1000");
        let deadline = Instant::now() + Duration::from_millis(50);
        assert_eq!(child.wait_until(deadline), None);
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn sigterm_stops_a_cooperative_program() {
        let mut child = sh("exec sleep 1000");
        let ending = child.terminate(Duration::from_secs(30));
        assert_eq!(ending.how, Stopped::Terminated);
        assert_eq!(ending.exit, Exit::Signal(libc::SIGTERM));
        assert_eq!(child.terminate(Duration::ZERO), ending);
    }

    #[test]
    fn program_ignoring_sigterm_is_killed() {
        let mut child = sh("trap '' TERM; echo $$; while :; do sleep 1; done");
        let pid = printed_pids(&child, 1)[0];
        let ending = child.terminate(Duration::from_millis(200));
        assert_eq!(ending.how, Stopped::Killed);
        assert_eq!(ending.exit, Exit::Signal(libc::SIGKILL));
        assert!(gone(pid));
        assert!(child.wait_output_closed(soon()));
    }

    #[test]
    fn background_child_ignoring_sigterm_is_killed_too() {
        // The helper prints its pid only once its trap is set, so SIGTERM cannot reach it
        // before it ignores SIGTERM (with `echo $!` it could, and nothing was left behind).
        let mut child = sh("sh -c 'trap \"\" TERM; echo $$; while :; do sleep 1; done' & wait");
        let leader = child.pid();
        let helper = printed_pids(&child, 1)[0];
        let ending = child.terminate(Duration::from_secs(5));
        assert_eq!(ending.how, Stopped::Terminated);
        // The helper, and its `sleep 1` when caught between two.
        assert!(child.left_behind() >= 1);
        assert!(gone(leader) && gone(helper));
    }

    #[test]
    fn helper_escaped_with_setsid_is_killed() {
        let mut child = sh("setsid sh -c 'echo $$; exec sleep 1000' & wait");
        let helper = printed_pids(&child, 1)[0];
        child.terminate(Duration::from_secs(5));
        assert!(gone(helper));
        assert!(child.wait_output_closed(soon()));
    }

    #[test]
    fn orphaned_helpers_of_a_finished_program_are_killed() {
        // The subshell exits at once, so both helpers are orphans by the time conform looks:
        // only the environment tag still ties them to this program.
        let mut child = sh("(setsid sh -c 'echo $$; exec sleep 1000' &); \
             (sh -c 'echo $$; exec sleep 1000' &)");
        let helpers = printed_pids(&child, 2);
        assert_eq!(child.wait_until(soon()), Some(Exit::Code(0)));
        let ending = child.terminate(Duration::from_secs(5));
        assert_eq!(ending.how, Stopped::ByItself);
        assert_eq!(child.left_behind(), 2);
        assert!(helpers.iter().all(|&pid| gone(pid)), "{helpers:?} survived");
    }

    #[test]
    fn dropping_a_child_stops_its_program() {
        let child = sh("echo $$; exec sleep 1000");
        let pid = printed_pids(&child, 1)[0];
        drop(child);
        assert!(gone(pid));
    }

    #[test]
    fn terminate_unregisters_the_group() {
        let mut child = sh("exec sleep 1000");
        let pgid = raw_pid(child.pid());
        assert!(cleanup::registered().contains(&pgid));
        child.terminate(Duration::from_secs(5));
        assert!(!cleanup::registered().contains(&pgid));
    }

    #[test]
    fn missing_program_is_not_found() {
        for program in ["./no-such-program-here", "no-such-program-on-path"] {
            let error = spawn(&Spawn {
                argv: vec![program.into()],
                env: Vec::new(),
                capture_limit: 0,
            })
            .err();
            assert!(
                matches!(&error, Some(SpawnError::NotFound { program: p }) if p == program),
                "{program}"
            );
        }
    }

    #[test]
    fn not_found_message_hints_at_the_path() {
        let error = SpawnError::NotFound {
            program: "./my-server".into(),
        };
        assert_eq!(
            error.to_string(),
            "cannot run `./my-server`: no such file or directory \
             (is the path right, relative to the current directory?)"
        );
    }

    #[test]
    fn non_executable_file_is_permission_denied() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let path = file.path().to_string_lossy().into_owned();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let error = spawn(&Spawn {
            argv: vec![path.clone()],
            env: Vec::new(),
            capture_limit: 0,
        })
        .err();
        assert!(
            matches!(&error, Some(SpawnError::PermissionDenied { program }) if *program == path)
        );
    }

    #[test]
    fn script_with_missing_interpreter_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("script");
        std::fs::write(&path, "#!/no/such/interpreter\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let error = spawn(&Spawn {
            argv: vec![path.to_string_lossy().into_owned()],
            env: Vec::new(),
            capture_limit: 0,
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("interpreter"), "{error}");
    }

    #[test]
    fn empty_argv_is_an_error() {
        let error = spawn(&Spawn {
            argv: Vec::new(),
            env: Vec::new(),
            capture_limit: 0,
        })
        .err()
        .map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("cannot run an empty command"));
    }
}
