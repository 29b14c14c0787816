//! The stop sequence: a running (or finished) [`Child`] and a grace period come in; the
//! program's [`Ending`] goes out, with every process it started killed and reaped.
//!
//! SIGTERM goes to the whole group, the program gets the grace to end (its output is still
//! drained meanwhile), then SIGKILL. Processes that escaped the group are found through
//! `/proc`: by descent, by group, and by the tag in their environment.

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use super::{Child, Ending, Exit, Stopped, TAG_VAR, exit_of, raw_pid, send, send_group};
use crate::os::cleanup;
use crate::os::proctable::{self, ProcStat, children_of};

/// Upper bound on the final sweep; it only takes this long if a process refuses to die.
const SWEEP_LIMIT: Duration = Duration::from_secs(5);

impl Child {
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
            return (exit, Stopped::Terminated { grace });
        }
        // Only the program itself here; the sweep kills the rest of the group right after,
        // having first counted what was left behind.
        send(self.pid, libc::SIGKILL);
        let exit = match self.inner.wait() {
            Ok(status) => exit_of(status),
            // See `try_status`: the status is lost, but SIGKILL is what ended it.
            Err(_) => Exit::Signal(libc::SIGKILL),
        };
        self.exit = Some(exit);
        (exit, Stopped::Killed { grace })
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
