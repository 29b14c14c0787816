//! The command line's arguments as clap sees them: every option of `run` and `matrix`, and
//! of the small commands. Nothing outside `cli` sees these types; `run.rs` turns them into
//! [`crate::run::options::RunOptions`].

use std::path::PathBuf;

use clap::ValueEnum;

use crate::spec::Dur;

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// Spec files to run.
    #[arg(required = true, value_name = "SPEC")]
    pub(crate) specs: Vec<PathBuf>,
    /// Server under test: a command template; {port} and {host} are replaced by the address
    /// conform chose (also in $CONFORM_PORT, $CONFORM_HOST). Split like a shell would, but no
    /// shell runs it.
    #[arg(long, value_name = "CMD")]
    pub(crate) server: Option<String>,
    /// Client under test: a command template, as for --server.
    #[arg(long, value_name = "CMD")]
    pub(crate) client: Option<String>,
    /// Test a server that is already running at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "server")]
    pub(crate) connect: Option<String>,
    /// Give every program under test this one port instead of a fresh one per case, for
    /// programs with a port of their own: a server listens there, and conform listens there
    /// for a client. Scenarios run one after another; each case waits until nothing holds it.
    #[arg(long, value_name = "N", conflicts_with = "connect",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,
    /// Print the scenarios this run would execute (after --filter and --partition); run nothing.
    #[arg(long)]
    pub(crate) list: bool,
    /// Run one share of the selected scenarios, for N parallel CI jobs: `hash:M/N` (by a
    /// stable hash of `file :: name`) or `count:M/N` (the i-th scenario goes to job i mod N).
    #[arg(long, value_name = "KIND:M/N")]
    pub(crate) partition: Option<String>,
    /// Record this run's verdict per scenario to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Compare with a baseline file: failures it records do not fail the run; new ones do.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) shared: SharedArgs,
}

/// The options `run` and `matrix` share: how to run, what to select, how to report.
#[derive(clap::Args, Debug)]
pub(crate) struct SharedArgs {
    /// Start the program once per case, or once per scenario (overrides the specs).
    #[arg(long, value_enum)]
    pub(crate) lifecycle: Option<LifecycleArg>,
    /// Deadline for every wait the spec does not bound itself.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_dur)]
    pub(crate) timeout: Dur,
    /// How long a server may take to start listening.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_dur)]
    pub(crate) ready_timeout: Dur,
    /// Time between SIGTERM and SIGKILL when stopping a program.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_dur)]
    pub(crate) grace: Dur,
    /// Treat failures of `should` scenarios as failures, not warnings.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Scenarios to run at once, each on its own ports.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) jobs: u16,
    /// Also print a line when each scenario starts, how the socket table is read, and how
    /// conform waits for replies.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// How to wait for a reply: spin on the socket for a short, adaptive time before blocking
    /// (faster against fast servers, takes a core), block at once, or auto (spin only with a
    /// core to spare).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["spin", "block", "auto"])]
    pub(crate) poll: String,
    /// Show the wire log of each failing or warning case in the human report: every
    /// connect, write, read, datagram, close and wait, with times and bytes.
    #[arg(long)]
    pub(crate) trace: bool,
    /// Cases per generated scenario (default: the spec's `cases`, else 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub(crate) cases: Option<u32>,
    /// Seed for generated scenarios; the same seed gives the same cases. Random by default,
    /// and always printed.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Pin a generated value: NAME=hex:0a0b, NAME=text:abc, NAME=number:42, or NAME=split:CUTS@PAUSES
    /// (as printed in a failure's replay line). Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) with: Vec<String>,
    /// Most runs of the program spent shrinking one failure to a minimal counterexample.
    #[arg(long, value_name = "N", default_value_t = crate::run::options::DEFAULT_SHRINK_PROBES,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) shrink_probes: u32,
    /// Safety net on the time spent shrinking one failure (the probe budget normally ends it
    /// first); when it is hit the report says the input was not proven minimal.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_dur)]
    pub(crate) shrink_time: Dur,
    /// Longest time a generated scenario spends running cases (default: the spec's
    /// `budget`, else 2m); no new case starts after it, and the report says how many ran.
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    pub(crate) budget: Option<Dur>,
    /// Requests kept in flight at once for generated UDP server scenarios of one request and
    /// one computed reply (stateless datagram services); replies are matched by content.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub(crate) window: Option<u16>,
    /// Write each minimal counterexample to DIR as a regression spec.
    #[arg(long, value_name = "DIR")]
    pub(crate) save_failures: Option<PathBuf>,
    /// Format of the report on stdout.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "junit", "tap", "json", "html"])]
    pub(crate) format: String,
    /// Also write a report to a file, e.g. `junit=report.xml`. Repeatable.
    #[arg(long, value_name = "FORMAT=PATH")]
    pub(crate) report: Vec<String>,
    /// Write a capture file (pcap, for Wireshark or tshark) of each failing or warning case
    /// into DIR, built from the wire log; created if missing.
    #[arg(long, value_name = "DIR")]
    pub(crate) pcap: Option<PathBuf>,
    /// Colour the human report: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub(crate) color: String,
    /// Select scenarios: `name:EXACT`, `tag:T`, `role:server|client`, `transport:tcp|udp`,
    /// `level:must|should`, `file:PATH`, or text found in the name. Repeatable; all must match.
    #[arg(long, value_name = "EXPR")]
    pub(crate) filter: Vec<String>,
    /// Address family: 4 (127.0.0.1), 6 (::1) or both (every scenario once per family,
    /// named with an ` [ipv4]` / ` [ipv6]` suffix).
    #[arg(long, value_name = "4|6|both", default_value = "4", value_parser = ["4", "6", "both"])]
    pub(crate) ip: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum LifecycleArg {
    Case,
    Scenario,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum Program {
    TcpServer,
    TcpClient,
    UdpServer,
    UdpClient,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ReferenceArgs {
    /// Which of the guide's programs to run.
    #[arg(value_enum)]
    pub(crate) program: Program,
    /// Port to listen on (servers) or to connect to (clients).
    #[arg(long)]
    pub(crate) port: u16,
    /// Address to listen on or connect to.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Serve any number of clients instead of one (servers only).
    #[arg(long)]
    pub(crate) forever: bool,
    /// How long a client waits for the server's answer.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_dur)]
    pub(crate) timeout: Dur,
}

pub(crate) fn parse_dur(text: &str) -> Result<Dur, String> {
    text.parse()
}

/// The role of the program under test, for `conform init`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoleArg {
    Server,
    Client,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportArg {
    Tcp,
    Udp,
}

#[derive(clap::Args, Debug)]
pub(crate) struct InitArgs {
    /// The spec file to write; an existing file is never overwritten.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The role your program plays: a server (conform connects to it) or a client.
    #[arg(long, value_enum, default_value_t = RoleArg::Server)]
    pub(crate) role: RoleArg,
    #[arg(long, value_enum, default_value_t = TransportArg::Tcp)]
    pub(crate) transport: TransportArg,
}
