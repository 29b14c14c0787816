//! The command line's arguments as clap sees them: every option of `run` and `matrix`, and
//! of the small commands, with their help grouped under headings. Nothing outside `cli` sees
//! these types; `run.rs` turns them into [`crate::run::options::RunOptions`]. Every default
//! is the constant the run options use, written once.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::run::options::{
    DEFAULT_GRACE, DEFAULT_READY_TIMEOUT, DEFAULT_SHRINK_PROBES, DEFAULT_SHRINK_TIME,
    DEFAULT_TIMEOUT,
};
use crate::spec::Dur;
use crate::spec::duration::DurationError;

/// The help headings of `run` and `matrix`, in the order they are shown.
pub(crate) const RUNNING: &str = "Running";
pub(crate) const SELECTING: &str = "Selecting";
pub(crate) const GENERATED: &str = "Generated scenarios";
pub(crate) const REPORTS: &str = "Reports";
pub(crate) const CI: &str = "CI";

/// Below `run -h`: where the rest is.
pub(crate) const RUN_SHORT_AFTER: &str = "\
Quote the whole command: --server 'python3 srv.py {port}'.
`conform run --help` shows every option, examples and the exit codes.";

/// The exit codes of `run` (and `matrix`), as `--help` shows them; lines fit 80 columns. A
/// macro, so `concat!` can put the one text under the examples too.
macro_rules! run_exit_codes {
    () => {
        "\
Exit codes:
  0  every selected scenario passed (warnings allowed unless --strict)
  1  a conformance failure: the program misbehaved, crashed or never became
     ready (with --baseline: a failure the baseline does not record)
  2  the spec or the command line is wrong, or no scenario was selected
  3  conform could not do its job (program not found or not executable, no
     free port, I/O error)
141  stdout was closed before the report was written (`| head`): conform
     stopped its programs and ended quietly"
    };
}

pub(crate) const RUN_EXIT_CODES: &str = run_exit_codes!();

/// Below `run --help`: examples, then the exit codes.
pub(crate) const RUN_LONG_AFTER: &str = concat!(
    "\
Examples:
  # The shipped UDP spec against the built-in reference, from any directory:
  conform run udp
  # Your server, then your client (quote the whole command):
  conform run udp --server 'python3 srv.py {port}'
  conform run tcp --client './client {port}'
  # A server already running, and a program with a port of its own:
  conform run tcp --connect 127.0.0.1:12321
  conform run tcp --server ./srv --port 12321
  # What would run, without running it:
  conform run my.yaml --filter tag:smoke --list
  # More generated cases, then the same ones again:
  conform run udp-sizes --server './srv {port}' --cases 1000 --seed 7
  # In CI: a JUnit file, and only failures the baseline does not record fail:
  conform run my.yaml --server './srv {port}' --report junit=report.xml \\
      --baseline known.json

`conform specs` lists the shipped specs; `conform init my.yaml` writes a
starter spec for your own program.

",
    run_exit_codes!()
);

/// Below `check --help`.
pub(crate) const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0  every SPEC is a valid spec
  2  a SPEC is wrong or cannot be read; every error is printed, with its
     file, line and column
141  stdout was closed before everything was written (`| head`)";

/// Below `init --help`.
pub(crate) const INIT_EXIT_CODES: &str = "\
Exit codes:
  0  FILE was written
  2  FILE exists already: it is never overwritten
  3  FILE cannot be written (no such directory, permission denied)";

/// Below `specs --help`.
pub(crate) const SPECS_EXIT_CODES: &str = "\
Exit codes:
  0  the list was printed, or every file was written
  2  a file to write exists already: nothing is written, nothing overwritten
  3  a file cannot be written
141  stdout was closed before everything was written (`| head`)";

/// Below `conform --help`.
pub(crate) const TOP_AFTER: &str = "\
First steps:
  conform specs                   the specs shipped with conform
  conform run udp                 run one against the built-in reference
  conform init my.yaml            write a starter spec for your program
  conform check my.yaml           validate it
  conform run my.yaml --server './my-server {port}'

Each command's --help says more, with its exit codes.";

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// Spec files, or names of shipped specs (see `conform specs`).
    #[arg(required = true, value_name = "SPEC")]
    pub(crate) specs: Vec<PathBuf>,
    /// Your server: a command with {port} in it.
    ///
    /// {port} and {host} are replaced by the address conform chose for the case ({hostport}
    /// gives both; the same values are in $CONFORM_PORT and $CONFORM_HOST). Quote the whole
    /// command. It is split into words like a shell would, but no shell runs it: `$PORT`,
    /// pipes and redirections do not work.
    #[arg(long, value_name = "CMD", help_heading = RUNNING)]
    pub(crate) server: Option<String>,
    /// Your client: a command with {port} in it.
    ///
    /// {port} is the port conform listens on, as for --server.
    #[arg(long, value_name = "CMD", help_heading = RUNNING)]
    pub(crate) client: Option<String>,
    /// A server that is already running at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "server", help_heading = RUNNING)]
    pub(crate) connect: Option<String>,
    /// A fixed port, for programs with a port of their own.
    ///
    /// Every program under test gets this one port instead of a fresh one per case: a server
    /// listens there, and conform listens there for a client. Scenarios run one after
    /// another; each case waits until nothing holds the port.
    #[arg(long, value_name = "N", conflicts_with = "connect", help_heading = RUNNING,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,
    /// Print what would run; run nothing.
    ///
    /// One line per scenario, after --filter and --partition, with the skipped ones marked.
    #[arg(long, help_heading = SELECTING)]
    pub(crate) list: bool,
    #[command(flatten)]
    pub(crate) shared: SharedArgs,
    /// Record this run's verdict per scenario to FILE (JSON).
    #[arg(long, value_name = "FILE", help_heading = CI, hide_short_help = true)]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Fail only on failures FILE does not record.
    ///
    /// FILE is what --write-baseline wrote: the failures it records do not fail the run; new
    /// ones do.
    #[arg(long, value_name = "FILE", help_heading = CI)]
    pub(crate) baseline: Option<PathBuf>,
}

/// The options `run` and `matrix` share: how to run, what to select, how to report.
#[derive(clap::Args, Debug)]
pub(crate) struct SharedArgs {
    /// Start the program once per case, or once per scenario (overrides the specs).
    #[arg(long, value_enum, help_heading = RUNNING, hide_short_help = true)]
    pub(crate) lifecycle: Option<LifecycleArg>,
    /// Deadline for every wait the spec does not bound itself.
    #[arg(long, value_name = "DURATION", default_value_t = Dur(DEFAULT_TIMEOUT),
          value_parser = parse_dur, help_heading = RUNNING, hide_short_help = true)]
    pub(crate) timeout: Dur,
    /// How long a server may take to start listening.
    #[arg(long, value_name = "DURATION", default_value_t = Dur(DEFAULT_READY_TIMEOUT),
          value_parser = parse_dur, help_heading = RUNNING, hide_short_help = true)]
    pub(crate) ready_timeout: Dur,
    /// Time between SIGTERM and SIGKILL when stopping a program.
    #[arg(long, value_name = "DURATION", default_value_t = Dur(DEFAULT_GRACE),
          value_parser = parse_dur, help_heading = RUNNING, hide_short_help = true)]
    pub(crate) grace: Dur,
    /// Scenarios run at once, each on its own ports.
    #[arg(short, long, value_name = "N", default_value_t = 1, help_heading = RUNNING,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) jobs: u16,
    /// How to wait for a reply: spin, block, or auto.
    ///
    /// spin: on the socket for a short, adaptive time before blocking (faster against fast
    /// servers, takes a core); block: at once; auto: spin only with a core to spare.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = PollArg::Auto,
          help_heading = RUNNING, hide_short_help = true)]
    pub(crate) poll: PollArg,
    /// Address family: 4 (127.0.0.1), 6 (::1) or both.
    ///
    /// With both, every scenario runs once per family, named with an ` [ipv4]` / ` [ipv6]`
    /// suffix.
    #[arg(long, value_name = "FAMILY", value_enum, default_value_t = IpArg::V4,
          help_heading = RUNNING, hide_short_help = true)]
    pub(crate) ip: IpArg,
    /// Select scenarios: `tag:T`, `name:EXACT`, text, ...
    ///
    /// One of `name:EXACT`, `tag:T`, `role:server|client`, `transport:tcp|udp`,
    /// `level:must|should`, `file:PATH`, or text found in the name. Repeatable; all must
    /// match.
    #[arg(long, value_name = "EXPR", help_heading = SELECTING)]
    pub(crate) filter: Vec<String>,
    /// Cases per generated scenario.
    ///
    /// The default is the spec's `cases`, else 256.
    #[arg(long, value_name = "N", help_heading = GENERATED,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub(crate) cases: Option<u32>,
    /// Seed of the generated cases.
    ///
    /// The same seed gives the same cases on every machine. Random by default, and always
    /// printed.
    #[arg(long, value_name = "N", help_heading = GENERATED)]
    pub(crate) seed: Option<u64>,
    /// Pin a generated value, as replay lines do.
    ///
    /// NAME=hex:0a0b, NAME=text:abc, NAME=number:42, or NAME=split:CUTS@PAUSES, as a
    /// failure's replay line prints it. Repeatable.
    #[arg(long, value_name = "NAME=VALUE", help_heading = GENERATED)]
    pub(crate) with: Vec<String>,
    /// Most runs of the program spent shrinking one failure to a minimal counterexample.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SHRINK_PROBES,
          help_heading = GENERATED, hide_short_help = true,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) shrink_probes: u32,
    /// Safety net on the time spent shrinking one failure.
    ///
    /// The probe budget normally ends shrinking first; when this limit is hit, the report
    /// says the input was not proven minimal.
    #[arg(long, value_name = "DURATION", default_value_t = Dur(DEFAULT_SHRINK_TIME),
          value_parser = parse_dur, help_heading = GENERATED, hide_short_help = true)]
    pub(crate) shrink_time: Dur,
    /// Longest time a generated scenario runs cases (default: the spec's `budget`, else 2m).
    ///
    /// No new case starts after it, and the report says how many ran.
    #[arg(long, value_name = "DURATION", value_parser = parse_dur, help_heading = GENERATED,
          hide_short_help = true)]
    pub(crate) budget: Option<Dur>,
    /// Requests in flight at once, for stateless UDP services.
    ///
    /// For generated UDP server scenarios of one request and one computed reply; replies are
    /// matched to requests by content.
    #[arg(long, value_name = "N", help_heading = GENERATED, hide_short_help = true,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub(crate) window: Option<u16>,
    /// Sessions played at once on separate connections, for session scenarios (overrides
    /// the spec's `clients`).
    ///
    /// With a model, the replies of all clients must be explained by one order of their
    /// commands that respects when each was sent and answered (linearizability).
    #[arg(long, value_name = "N", help_heading = GENERATED, hide_short_help = true,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) clients: Option<u32>,
    /// Write each minimal counterexample to DIR as a regression spec.
    #[arg(long, value_name = "DIR", help_heading = GENERATED, hide_short_help = true)]
    pub(crate) save_failures: Option<PathBuf>,
    /// A reference server for `expect: same_as_reference`: a command template, as for
    /// --server. Each case is played on it and on the program under test, whose replies must
    /// equal the reference's.
    #[arg(long, value_name = "CMD", help_heading = RUNNING, hide_short_help = true)]
    pub(crate) reference: Option<String>,
    /// Play exactly this session in session scenarios (`NAME(VALUE=ENC ...) ...`, as a
    /// failure's replay line prints it).
    #[arg(long, value_name = "COMMANDS", help_heading = GENERATED, hide_short_help = true)]
    pub(crate) session: Option<String>,
    /// The report on stdout.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = FormatArg::Human,
          help_heading = REPORTS)]
    pub(crate) format: FormatArg,
    /// Also write a report file, e.g. junit=report.xml.
    #[arg(long, value_name = "FORMAT=PATH", help_heading = REPORTS)]
    pub(crate) report: Vec<String>,
    /// Write a capture file (pcap) of each failing or warning case into DIR.
    ///
    /// For Wireshark or tshark, built from the wire log; DIR is created if missing.
    #[arg(long, value_name = "DIR", help_heading = REPORTS, hide_short_help = true)]
    pub(crate) pcap: Option<PathBuf>,
    /// Colour the human report.
    ///
    /// auto: when stdout is a terminal and NO_COLOR is not set.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto,
          help_heading = REPORTS, hide_short_help = true)]
    pub(crate) color: ColorArg,
    /// Say more: specs read, scenarios started, waits.
    ///
    /// Say for each SPEC whether a file or a shipped spec was read, print a line when each
    /// scenario starts and each skipped scenario on its own line, and say how the socket
    /// table is read and how conform waits for replies.
    #[arg(short, long, help_heading = REPORTS)]
    pub(crate) verbose: bool,
    /// Show the wire log of failing cases.
    ///
    /// Under each failing or warning case in the human report: every connect, write, read,
    /// datagram, close and wait, with times and bytes.
    #[arg(long, help_heading = REPORTS)]
    pub(crate) trace: bool,
    /// Failures of `should` scenarios fail the run.
    #[arg(long, help_heading = CI)]
    pub(crate) strict: bool,
    /// Run one share of the scenarios: `hash:M/N` or `count:M/N`.
    ///
    /// For N parallel CI jobs, which together run everything once (in `matrix`, each share
    /// runs against every implementation): `hash:M/N` shares by a
    /// stable hash of `file :: name`, `count:M/N` gives the i-th scenario to job i mod N.
    #[arg(long, value_name = "KIND:M/N", help_heading = CI, hide_short_help = true)]
    pub(crate) partition: Option<String>,
}

/// `--format`: the report on stdout.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    /// For people: a line per scenario, details under failures.
    Human,
    /// JUnit XML, for CI servers.
    Junit,
    /// TAP 13.
    Tap,
    /// One JSON event per line (see docs/events.md).
    Json,
    /// One self-contained page.
    Html,
}

impl FormatArg {
    pub(crate) fn format(self) -> crate::report::Format {
        use crate::report::Format;
        match self {
            FormatArg::Human => Format::Human,
            FormatArg::Junit => Format::Junit,
            FormatArg::Tap => Format::Tap,
            FormatArg::Json => Format::Json,
            FormatArg::Html => Format::Html,
        }
    }
}

/// `--color`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColorArg {
    Auto,
    Always,
    Never,
}

/// `--poll`; how it is applied is the runner's business.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollArg {
    Spin,
    Block,
    Auto,
}

impl PollArg {
    pub(crate) fn mode(self) -> crate::drive::poll::Mode {
        use crate::drive::poll::Mode;
        match self {
            PollArg::Spin => Mode::Spin,
            PollArg::Block => Mode::Block,
            PollArg::Auto => Mode::Auto,
        }
    }
}

/// `--ip`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IpArg {
    #[value(name = "4")]
    V4,
    #[value(name = "6")]
    V6,
    Both,
}

/// `--lifecycle`.
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
    #[arg(long, value_name = "DURATION", default_value_t = Dur(DEFAULT_TIMEOUT),
          value_parser = parse_dur)]
    pub(crate) timeout: Dur,
}

pub(crate) fn parse_dur(text: &str) -> Result<Dur, DurationError> {
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

/// Below `report --help`.
pub(crate) const REPORT_AFTER: &str = "\
Examples:
  # Each CI job runs one share and writes its events:
  conform matrix tcp --each 'submissions/*' --server '{dir}/srv {port}' \\
      --partition hash:3/20 --report json=events-3.jsonl
  # One job then merges them into one page and one JUnit file:
  conform report events-*.jsonl --report html=class.html \\
      --report junit=class.xml

Exit codes:
  0  no merged scenario failed (warnings allowed, as the runs allowed them)
  1  a conformance failure in one of the runs
  2  the command line is wrong, or a FILE is not a conform event file (its
     line and why are printed)
  3  a FILE cannot be read, or a report cannot be written
141  stdout was closed before the report was written (`| head`)";

#[derive(clap::Args, Debug)]
pub(crate) struct ReportArgs {
    /// Event files written by `--format json` or `--report json=PATH` (JSON Lines).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// The report on stdout.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = FormatArg::Human)]
    pub(crate) format: FormatArg,
    /// Also write a report file, e.g. junit=report.xml (json=PATH: the merged events).
    #[arg(long, value_name = "FORMAT=PATH")]
    pub(crate) report: Vec<String>,
    /// Colour the human report.
    ///
    /// auto: when stdout is a terminal and NO_COLOR is not set.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    pub(crate) color: ColorArg,
    /// List skipped scenarios one by one, and the scenarios as they started.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Show the wire log of failing cases in the human report.
    #[arg(long)]
    pub(crate) trace: bool,
}
