//! Nothing outlives conform: the process groups of running programs come in through `register`
//! and leave through `unregister`; on SIGINT, SIGTERM, SIGHUP or a panic every group still
//! registered is stopped, and out goes one line on stderr and exit status 128 + signal.
//!
//! Normal runs never get here: `drive::process::Child` stops its own program. This is the net
//! for when conform itself is interrupted or crashes in the middle of a case.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread;
use std::time::{Duration, Instant};

use crate::os::proctable;

/// How long programs get to react to SIGTERM when conform is interrupted.
const INTERRUPT_GRACE: Duration = Duration::from_millis(500);

static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn groups() -> MutexGuard<'static, BTreeSet<i32>> {
    GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records a process group to stop if conform is interrupted.
pub fn register(pgid: i32) {
    // 0 and negative ids would make killpg signal conform's own group or everything.
    if pgid > 0 {
        groups().insert(pgid);
    }
}

/// Forgets a process group once its program has been stopped and reaped.
pub fn unregister(pgid: i32) {
    groups().remove(&pgid);
}

/// The process groups currently registered.
pub fn registered() -> Vec<i32> {
    groups().iter().copied().collect()
}

/// Makes orphaned descendants reparent to conform instead of init, so a program's helpers that
/// escape its process group can still be found and killed. Idempotent.
pub fn ensure_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: PR_SET_CHILD_SUBREAPER only sets a flag on this process. Failure (a kernel
        // older than 3.4) only weakens the search for escaped helpers, so it is ignored.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// Sets up the safety net: subreaper, a thread that stops all programs on SIGINT, SIGTERM or
/// SIGHUP and then exits, and a panic hook that kills them. Idempotent.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        ensure_subreaper();
        if let Err(e) = watch_signals() {
            // A warning, not an error: conform still works, it just can't clean up after ^C.
            let _ = writeln!(
                std::io::stderr(),
                "conform: warning: cannot catch interrupts ({e}); programs may outlive an \
                 interrupted run"
            );
        }
        chain_panic_hook();
    });
}

fn watch_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    thread::Builder::new()
        .name("conform-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                interrupted(signal);
            }
        })?;
    Ok(())
}

/// Set as soon as an interrupt arrives: from then on nothing the programs do is judged or
/// reported (what they do is conform's SIGTERM at work), and conform exits with 128+signal.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether conform is being interrupted.
pub fn is_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Called by the main thread when it finds the run interrupted: the signal thread is stopping
/// the programs and will exit the process; wait for it (bounded), never report a verdict.
pub fn wait_for_interrupt_exit() -> ! {
    let deadline = std::time::Instant::now() + INTERRUPT_GRACE * 4 + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    std::process::exit(130)
}

fn interrupted(signal: i32) -> ! {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let stopped = kill_all(INTERRUPT_GRACE);
    kill_descendants();
    let _ = writeln!(
        std::io::stderr(),
        "conform: interrupted, stopped {stopped} program(s)"
    );
    std::process::exit(128 + signal)
}

fn chain_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // try_lock: the panicking thread might hold the registry, and a hook must not hang.
        let groups = match GROUPS.try_lock() {
            Ok(guard) => guard.clone(),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
            Err(std::sync::TryLockError::WouldBlock) => BTreeSet::new(),
        };
        for pgid in groups {
            signal_group(pgid, libc::SIGKILL);
        }
        previous(info);
    }));
}

/// Stops every registered group: SIGTERM, up to `grace` for them to end, then SIGKILL.
/// Returns how many of them still had a running process.
pub fn kill_all(grace: Duration) -> usize {
    stop_groups(&registered(), grace)
}

/// Stops the given groups as `kill_all` does.
fn stop_groups(pgids: &[i32], grace: Duration) -> usize {
    let running: Vec<i32> = pgids
        .iter()
        .copied()
        .filter(|&pgid| group_running(pgid))
        .collect();
    for &pgid in &running {
        signal_group(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    let mut pause = Duration::from_millis(1);
    while running.iter().any(|&pgid| group_running(pgid)) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    for &pgid in &running {
        signal_group(pgid, libc::SIGKILL);
    }
    running.len()
}

/// Whether any non-zombie process is in the group: a zombie leader nobody reaped yet still
/// makes killpg succeed, so the signal alone can't tell.
fn group_running(pgid: i32) -> bool {
    proctable::processes()
        .iter()
        .any(|p| p.pgrp == pgid && !p.is_zombie())
}

/// Kills everything below conform, including helpers that escaped their group; only done on
/// the way out, when nothing conform started may survive.
fn kill_descendants() {
    for pid in proctable::descendants(std::process::id()) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill has no memory effects.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: killpg has no memory effects; a vanished group yields ESRCH.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Child, Command, Stdio};

    /// A shell leading its own group, with a background sleeper whose pid it prints.
    fn group(script: &str) -> (Child, u32) {
        let mut child = Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn sh");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line).expect("read pid");
        }
        let helper = line.trim().parse().expect("sh printed a pid");
        (child, helper)
    }

    fn pgid(child: &Child) -> i32 {
        i32::try_from(child.id()).expect("pid fits")
    }

    #[test]
    fn registry_remembers_until_unregistered() {
        register(999_999_001);
        assert!(registered().contains(&999_999_001));
        unregister(999_999_001);
        assert!(!registered().contains(&999_999_001));
    }

    #[test]
    fn registry_ignores_ids_that_would_signal_everything() {
        register(0);
        register(-1);
        assert!(!registered().iter().any(|&g| g <= 0));
    }

    // `kill_all` is `stop_groups` over the whole registry; tests call `stop_groups` with their
    // own group so that parallel tests' programs are not stopped too.
    #[test]
    fn stopping_a_group_ends_the_shell_and_its_background_child() {
        let (mut child, helper) = group("sleep 1000 & echo $!; wait");
        let id = pgid(&child);
        register(id);
        let stopped = stop_groups(&[id], Duration::from_secs(10));
        unregister(id);
        let status = child.wait().expect("wait");
        assert_eq!(stopped, 1);
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert!(!proctable::is_alive(helper));
    }

    #[test]
    fn stopping_a_group_kills_what_ignores_sigterm() {
        let (mut child, helper) = group("trap '' TERM; sleep 1000 & echo $!; wait; wait");
        let id = pgid(&child);
        let stopped = stop_groups(&[id], Duration::from_millis(200));
        let status = child.wait().expect("wait");
        assert_eq!(stopped, 1);
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        let deadline = Instant::now() + Duration::from_secs(30);
        while proctable::is_alive(helper) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(!proctable::is_alive(helper));
    }

    #[test]
    fn stopping_groups_that_already_ended_counts_nothing() {
        let mut child = Command::new("true")
            .process_group(0)
            .spawn()
            .expect("spawn true");
        child.wait().expect("wait");
        assert_eq!(stop_groups(&[pgid(&child)], Duration::from_secs(1)), 0);
    }
}
