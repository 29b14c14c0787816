//! All I/O with the program under test: processes, readiness, ports, TCP and UDP.

pub mod capture;
pub mod poll;
pub mod port;
pub mod process;
pub mod program;
pub mod ready;
pub mod tcp;
pub mod template;
pub mod udp;
pub mod window;
pub mod wire;
