//! What conform asks of the operating system about processes and sockets, beside running them:
//! the kernel's process table, cleaning up everything conform started (on exit, Ctrl-C and a
//! panic), and the socket table (netlink sock_diag, or /proc/net).
//!
//! In: pids, ports, protocols. Out: processes, sockets, and the guarantee that nothing conform
//! started outlives it. No spec, no verdict: `drive` and `run` build on these.

pub mod cleanup;
pub mod proctable;
pub mod sockets;
