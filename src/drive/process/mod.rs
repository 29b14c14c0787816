//! Running one external program: a `Spawn` (argv, extra environment, capture size) comes in; a
//! `Child` goes out, whose output is captured in bounded buffers and which ends as an `Ending`
//! (how it exited and whether it had to be stopped) with nothing it started left running.
//!
//! Each program leads its own process group so one signal reaches everything it forked. Helpers
//! that leave the group (setsid, double fork) are found by walking `/proc`: conform is a child
//! subreaper, so orphans reparent to it, and every program gets a unique tag in its environment
//! that its descendants inherit, which tells this program's orphans from another's.
//!
//! Starting and watching a program is here; the stop sequence is in `stop`, exit statuses and
//! endings in `ending`, spawn errors in `error`.

mod ending;
mod error;
mod pidfd;
mod stop;
#[cfg(test)]
mod tests;

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::capture::Pipe;
pub use super::capture::{Captured, TAIL_BYTES};
use crate::os::cleanup;
use ending::exit_of;
pub use ending::{Ending, Exit, ProgramEnding, Stopped};
pub use error::SpawnError;
use error::spawn_error;

/// Environment variable carrying the tag that marks a program's descendants as its own.
pub const TAG_VAR: &str = "CONFORM_PROCESS_TAG";

/// How long `Drop` lets a forgotten program react to SIGTERM.
const DROP_GRACE: Duration = Duration::from_millis(100);

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawn {
    pub argv: Vec<String>,
    /// Added to conform's own environment.
    pub env: Vec<(String, String)>,
    /// Bytes kept from the start of each of stdout and stderr.
    pub capture_limit: usize,
}

/// A running (or finished) program. Dropping it stops it.
pub struct Child {
    inner: std::process::Child,
    argv: Vec<String>,
    pid: u32,
    tag: String,
    stdout: Arc<Pipe>,
    stderr: Arc<Pipe>,
    exit: Option<Exit>,
    ending: Option<Ending>,
    left_behind: usize,
    /// Readable once the program exits, where the kernel has pidfds.
    pidfd: Option<pidfd::PidFd>,
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
        argv: spec.argv.clone(),
        pid,
        tag,
        stdout: Arc::default(),
        stderr: Arc::default(),
        exit: None,
        ending: None,
        left_behind: 0,
        pidfd: pidfd::PidFd::open(pid),
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

    /// The command as it was run, one word per argument.
    pub fn argv(&self) -> &[String] {
        &self.argv
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
                self.exit = Some(exit_of(status));
            }
        }
        self.exit
    }

    /// Waits for the program to end, at most until `deadline`.
    pub fn wait_until(&mut self, deadline: Instant) -> Option<Exit> {
        // Without a pidfd: short first pauses catch quick programs; the cap keeps waking cheap.
        let mut pause = Duration::from_micros(100);
        loop {
            if let Some(exit) = self.try_status() {
                return Some(exit);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            match &self.pidfd {
                // Bounded slices, so a missed wake-up costs at most one slice.
                Some(fd) => {
                    fd.wait((deadline - now).min(Duration::from_millis(50)));
                }
                None => {
                    thread::sleep(pause.min(deadline - now));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
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

impl Drop for Child {
    fn drop(&mut self) {
        self.terminate(DROP_GRACE);
    }
}
