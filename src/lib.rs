//! conform: checks TCP/UDP socket programs against YAML scenario files.
//!
//! Data flows one way:
//!
//! ```text
//! specs/*.yaml
//!   spec       text -> validated model with source positions   (no sockets, no processes)
//!   plan       model + targets + filters -> what runs against what (partitions too)
//!   matrix     `conform matrix` arguments -> implementations (names, `--each` directories)
//!   generate   a scenario's generated values for one case, from a seed
//!   shrink     a failing input -> the simplest one that still fails (values only, no I/O)
//!   session    sessions of commands: generated with bundles, shrunk whole, written as text
//!   run        one scenario -> start the target, play the steps (or many generated
//!              cases, shrinking a failure), stop it
//!   drive      all I/O: processes, output capture, readiness, ports, tcp, udp
//!   verdict    expectation + bytes received -> pass, pending or mismatch (pure)
//!   event      the only thing the runner hands to reporters
//!   report     human, junit, tap, json, html, pcap: each a consumer of events
//!   reference  the guide's four programs in Rust
//!   baseline   a run's verdicts saved, and compared with the next run (CI gates)
//!   api        the library entry point: spec + target -> typed verdicts
//!   cleanup    nothing outlives conform: process groups killed on exit, Ctrl-C, panic
//!   proctable  the kernel's process table: parents, groups, descendants, socket inodes
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
pub mod cleanup;
pub mod cli;
pub mod drive;
pub mod event;
pub mod exit;
pub mod generate;
pub mod matrix;
pub mod plan;
pub mod proctable;
pub mod quote;
pub mod reference;
pub mod report;
pub mod run;
pub mod session;
pub mod shrink;
pub mod spec;
pub mod verdict;
