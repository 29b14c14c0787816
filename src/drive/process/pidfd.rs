//! A process file descriptor (Linux 5.3 and later): the kernel makes it readable the moment
//! the process exits, so waiting for an exit is one `poll(2)` that returns right then instead
//! of a sleep loop that notices it up to a pause later.
//!
//! In: a pid of conform's own child. Out: a [`PidFd`] to wait on, or `None` where the kernel
//! has no `pidfd_open`, in which case callers poll as before.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

pub struct PidFd(OwnedFd);

impl PidFd {
    /// A descriptor for `pid`, which must be conform's unreaped child (so the pid cannot have
    /// been reused).
    pub fn open(pid: u32) -> Option<PidFd> {
        let pid = libc::pid_t::try_from(pid).ok()?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; it
        // touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nothing else.
        Some(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Waits at most `timeout` for the process to exit; true once it has.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut fds = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for an open descriptor, and its count is 1.
        unsafe { libc::poll(&mut fds, 1, ms) > 0 }
    }
}
