//! conform: checks TCP/UDP socket programs against YAML scenario files.
//!
//! Data flows one way, top to bottom; a module uses only those below it (and the leaves
//! `quote`, `exit`):
//!
//! ```text
//! specs/*.yaml, the command line
//!   cli        arguments -> validated options, then the chosen command    (nothing below sees clap)
//!   api        the library entry point: spec + target -> typed verdicts
//!   matrix     `conform matrix` arguments -> implementations (names, `--each` directories)
//!   baseline   a run's verdicts saved, and compared with the next run (CI gates)
//!   report     events -> human, junit, tap, json, html, pcap, progress; `read` takes JSON back
//!   run        planned scenarios -> events. One executor (`run/exec.rs`) plays every case:
//!              start or reuse the target, play the steps, stop it, say how it ended. Feeders
//!              decide which values it plays: one fixed case, generated cases (`fuzz`), a
//!              window of requests in flight (`window`), sessions with a reference (`converse`)
//!   plan       specs + targets + filters -> what runs against what (partitions too)
//!   input      generated values from a seed, shrinking a failure, sessions, regression specs
//!   drive      all I/O with the program under test: processes, output capture, readiness,
//!              ports, tcp, udp, the window's socket, the wire log
//!   reference  the guide's four programs in Rust (in-process targets, and `conform reference`)
//!   os         the kernel's process and socket tables; cleanup on exit, Ctrl-C and panic
//!   event      the only thing the runner hands to reporters (data), and the `Reporter`
//!              trait they implement
//!   verdict    expectation + bytes received -> pass, pending or mismatch (pure)
//!   spec       text -> validated model with source positions   (no sockets, no processes)
//! ```
//!
//! Glossary: a **spec** is one YAML file; it holds **scenarios**, each a list of **steps**
//! for one role (`server` or `client`: the role the program under test plays) and one
//! transport. A **case** is one run of a scenario. The **target** is what a case runs
//! against: the reference, an external program, or an address. A case ends in a **verdict**.
//! A **generated** scenario declares values that change with every case; a failing case is
//! **shrunk** to the smallest input that still fails. A **session** scenario's case is a
//! sequence of **commands** (templates with values of their own); `same_as_reference` steps
//! compare each reply with what the **reference** program (`--reference`) answered.

pub mod api;
pub mod baseline;
pub mod cli;
pub mod drive;
pub mod event;
pub mod exit;
pub mod input;
pub mod matrix;
pub mod os;
pub mod plan;
pub mod quote;
pub mod reference;
pub mod report;
pub mod run;
pub mod spec;
pub mod verdict;
