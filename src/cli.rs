//! The command line: clap types in, validated settings out, then the chosen command runs.
//! Nothing below this module sees clap.

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod matrix;
mod reports;

pub(crate) use reports::{reporters, use_color};

use crate::drive::template;
use crate::exit;
use crate::plan;
use crate::plan::Targets;
use crate::reference::{self, Serve, Shutdown};
use crate::report::Reporter;
use crate::run::{self, options::RunOptions};
use crate::spec::{self, Dur, Lifecycle, Spec};

#[derive(Parser, Debug)]
#[command(
    name = "conform",
    version,
    about = "Check TCP/UDP socket programs against YAML scenario files",
    after_help = exit::HELP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
// Parsed once per process; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run scenarios against the built-in reference, or against your program.
    #[command(after_help = exit::HELP)]
    Run(RunArgs),
    /// Run the same specs against many implementations and report one table.
    #[command(after_help = exit::HELP)]
    Matrix(matrix::MatrixArgs),
    /// Validate spec files without touching the network.
    #[command(after_help = exit::HELP)]
    Check {
        /// Spec files to validate.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
    },
    /// Run one of the guide's four programs, written in Rust.
    Reference(ReferenceArgs),
    /// Print the JSON Schema of the spec format (for editors: see specs/schema.json).
    Schema,
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Spec files to run.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// Server under test: a command template; {port} and {host} are replaced by the address
    /// conform chose (also in $CONFORM_PORT, $CONFORM_HOST). Split like a shell would, but no
    /// shell runs it.
    #[arg(long, value_name = "CMD")]
    server: Option<String>,
    /// Client under test: a command template, as for --server.
    #[arg(long, value_name = "CMD")]
    client: Option<String>,
    /// Test a server that is already running at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "server")]
    connect: Option<String>,
    /// Give every program under test this one port instead of a fresh one per case, for
    /// programs with a port of their own: a server listens there, and conform listens there
    /// for a client. Scenarios run one after another; each case waits until nothing holds it.
    #[arg(long, value_name = "N", conflicts_with = "connect",
          value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Print the scenarios this run would execute (after --filter and --partition); run nothing.
    #[arg(long)]
    list: bool,
    /// Run one share of the selected scenarios, for N parallel CI jobs: `hash:M/N` (by a
    /// stable hash of `file :: name`) or `count:M/N` (the i-th scenario goes to job i mod N).
    #[arg(long, value_name = "KIND:M/N")]
    partition: Option<String>,
    /// Record this run's verdict per scenario to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Compare with a baseline file: failures it records do not fail the run; new ones do.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    shared: SharedArgs,
}

/// The options `run` and `matrix` share: how to run, what to select, how to report.
#[derive(clap::Args, Debug)]
pub(crate) struct SharedArgs {
    /// Start the program once per case, or once per scenario (overrides the specs).
    #[arg(long, value_enum)]
    lifecycle: Option<LifecycleArg>,
    /// Deadline for every wait the spec does not bound itself.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_dur)]
    timeout: Dur,
    /// How long a server may take to start listening.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_dur)]
    ready_timeout: Dur,
    /// Time between SIGTERM and SIGKILL when stopping a program.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_dur)]
    grace: Dur,
    /// Treat failures of `should` scenarios as failures, not warnings.
    #[arg(long)]
    strict: bool,
    /// Scenarios to run at once, each on its own ports.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Also print a line when each scenario starts, how the socket table is read, and how
    /// conform waits for replies.
    #[arg(short, long)]
    verbose: bool,
    /// How to wait for a reply: spin on the socket for a short, adaptive time before blocking
    /// (faster against fast servers, takes a core), block at once, or auto (spin only with a
    /// core to spare).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["spin", "block", "auto"])]
    poll: String,
    /// Show the wire log of each failing or warning case in the human report: every
    /// connect, write, read, datagram, close and wait, with times and bytes.
    #[arg(long)]
    trace: bool,
    /// Cases per generated scenario (default: the spec's `cases`, else 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    cases: Option<u32>,
    /// Seed for generated scenarios; the same seed gives the same cases. Random by default,
    /// and always printed.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Pin a generated value: NAME=hex:0a0b, NAME=text:abc, NAME=number:42, or NAME=split:CUTS@PAUSES
    /// (as printed in a failure's replay line). Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    with: Vec<String>,
    /// Most runs of the program spent shrinking one failure to a minimal counterexample.
    #[arg(long, value_name = "N", default_value_t = crate::run::options::DEFAULT_SHRINK_PROBES,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    shrink_probes: u32,
    /// Safety net on the time spent shrinking one failure (the probe budget normally ends it
    /// first); when it is hit the report says the input was not proven minimal.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_dur)]
    shrink_time: Dur,
    /// Longest time a generated scenario spends running cases (default: the spec's
    /// `budget`, else 2m); no new case starts after it, and the report says how many ran.
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    budget: Option<Dur>,
    /// Requests kept in flight at once for generated UDP server scenarios of one request and
    /// one computed reply (stateless datagram services); replies are matched by content.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    window: Option<u16>,
    /// Write each minimal counterexample to DIR as a regression spec.
    #[arg(long, value_name = "DIR")]
    save_failures: Option<PathBuf>,
    /// A reference server for `expect: same_as_reference`: a command template, as for
    /// --server. Each case is played on it first, then on the program under test, whose
    /// replies must equal the reference's.
    #[arg(long, value_name = "CMD")]
    reference: Option<String>,
    /// Play exactly this session in session scenarios (`NAME(VALUE=ENC ...) ...`, as a
    /// failure's replay line prints it).
    #[arg(long, value_name = "COMMANDS")]
    session: Option<String>,
    /// Format of the report on stdout.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "junit", "tap", "json", "html"])]
    format: String,
    /// Also write a report to a file, e.g. `junit=report.xml`. Repeatable.
    #[arg(long, value_name = "FORMAT=PATH")]
    report: Vec<String>,
    /// Write a capture file (pcap, for Wireshark or tshark) of each failing or warning case
    /// into DIR, built from the wire log; created if missing.
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Colour the human report: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Select scenarios: `name:EXACT`, `tag:T`, `role:server|client`, `transport:tcp|udp`,
    /// `level:must|should`, `file:PATH`, or text found in the name. Repeatable; all must match.
    #[arg(long, value_name = "EXPR")]
    filter: Vec<String>,
    /// Address family: 4 (127.0.0.1), 6 (::1) or both (every scenario once per family,
    /// named with an ` [ipv4]` / ` [ipv6]` suffix).
    #[arg(long, value_name = "4|6|both", default_value = "4", value_parser = ["4", "6", "both"])]
    ip: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LifecycleArg {
    Case,
    Scenario,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Program {
    TcpServer,
    TcpClient,
    UdpServer,
    UdpClient,
}

#[derive(clap::Args, Debug)]
struct ReferenceArgs {
    /// Which of the guide's programs to run.
    #[arg(value_enum)]
    program: Program,
    /// Port to listen on (servers) or to connect to (clients).
    #[arg(long)]
    port: u16,
    /// Address to listen on or connect to.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Serve any number of clients instead of one (servers only).
    #[arg(long)]
    forever: bool,
    /// How long a client waits for the server's answer.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_dur)]
    timeout: Dur,
}

fn parse_dur(text: &str) -> Result<Dur, String> {
    text.parse()
}

/// Parses the arguments and runs; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Matrix(args) => matrix::matrix_command(args),
        Command::Check { specs } => check_command(&specs),
        Command::Reference(args) => reference_command(args),
        Command::Schema => {
            print!("{}", spec::schema::json());
            exit::PASS
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "conform",
                &mut std::io::stdout(),
            );
            exit::PASS
        }
        Command::Man => match man_page(&mut std::io::stdout()) {
            Ok(()) => exit::PASS,
            Err(e) => error(format!("cannot write the man page: {e}"), exit::SETUP),
        },
    }
}

pub(crate) fn error(message: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("conform: error: {message}");
    code
}

/// Loads every spec, printing every error (not only the first).
pub(crate) fn load_all(paths: &[PathBuf]) -> Result<Vec<Spec>, usize> {
    let mut specs = Vec::new();
    let mut errors = 0;
    for path in paths {
        match spec::load_file(path) {
            Ok(spec) => specs.push(spec),
            Err(e) => {
                eprintln!("conform: error: {e}");
                errors += 1;
            }
        }
    }
    if errors > 0 { Err(errors) } else { Ok(specs) }
}

fn check_command(paths: &[PathBuf]) -> i32 {
    match load_all(paths) {
        Ok(specs) => {
            for spec in &specs {
                println!(
                    "ok: {} ({} scenario(s))",
                    spec.path,
                    spec.file.scenarios.len()
                );
            }
            exit::PASS
        }
        Err(_) => exit::USAGE,
    }
}

fn words(flag: &str, text: &Option<String>) -> Result<Option<Vec<String>>, String> {
    text.as_deref()
        .map(|t| template::split(t).map_err(|e| format!("--{flag}: {e}")))
        .transpose()
}

fn resolve(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|e| format!("--connect {text}: not an address like 127.0.0.1:12321 ({e})"))?
        .next()
        .ok_or_else(|| format!("--connect {text}: the name resolves to no address"))
}

/// The loopback addresses `--ip` selects, IPv4 first.
fn families(choice: &str) -> Vec<IpAddr> {
    let v4 = IpAddr::from([127, 0, 0, 1]);
    let v6 = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    match choice {
        "6" => vec![v6],
        "both" => vec![v4, v6],
        _ => vec![v4],
    }
}

fn options(args: &RunArgs) -> Result<RunOptions, String> {
    let targets = Targets {
        server: words("server", &args.server)?,
        client: words("client", &args.client)?,
        connect: args.connect.as_deref().map(resolve).transpose()?,
    };
    if let Some(port) = args.port {
        if args.shared.jobs > 1 {
            return Err(format!(
                "--port {port} gives every program the same port, so scenarios must run one at \
                 a time: drop --jobs {} (or use --jobs 1)",
                args.shared.jobs
            ));
        }
        if targets.server.is_none() && targets.client.is_none() {
            return Err(format!(
                "--port {port} is the port of a program under test: use it with --server or \
                 --client (the built-in reference always runs on free ports)"
            ));
        }
    }
    Ok(RunOptions {
        port: args.port,
        ..shared_options(&args.shared, targets)?
    })
}

/// The `--filter` expressions, parsed.
pub(crate) fn filters(args: &SharedArgs) -> Result<Vec<plan::Filter>, String> {
    args.filter.iter().map(|f| f.parse()).collect()
}

/// Settles how replies are waited for and, with `--verbose`, says how the socket table is
/// read and how replies are waited for. Shared by `run` and `matrix`.
pub(crate) fn announce(args: &SharedArgs) {
    if args.verbose {
        eprintln!("conform: {}", crate::drive::sockets::source_note());
        eprintln!(
            "conform: waiting for replies: {}",
            crate::drive::poll::choice_for(args.poll.parse().unwrap_or_default()).why
        );
    }
}

/// Whether any report of this run shows wire logs: `--trace`, `--pcap`, and the JSON and
/// HTML formats, on stdout or in a file.
fn wants_wire_log(args: &SharedArgs) -> bool {
    let shows = |format: &str| matches!(format, "json" | "html");
    args.trace
        || args.pcap.is_some()
        || shows(&args.format)
        || args
            .report
            .iter()
            .any(|r| r.split_once('=').is_some_and(|(format, _)| shows(format)))
}

/// The run options of `run` and `matrix`, for the given targets.
pub(crate) fn shared_options(args: &SharedArgs, targets: Targets) -> Result<RunOptions, String> {
    Ok(RunOptions {
        wire_log: wants_wire_log(args),
        targets,
        lifecycle: args.lifecycle.map(|l| match l {
            LifecycleArg::Case => Lifecycle::Case,
            LifecycleArg::Scenario => Lifecycle::Scenario,
        }),
        timeout: args.timeout.get(),
        ready_timeout: args.ready_timeout.get(),
        grace: args.grace.get(),
        strict: args.strict,
        jobs: usize::from(args.jobs),
        cases: args.cases,
        seed: args.seed,
        with: args
            .with
            .iter()
            .map(|w| {
                w.split_once('=')
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .ok_or_else(|| format!("--with {w}: write NAME=VALUE"))
            })
            .collect::<Result<_, _>>()?,
        save_failures: args.save_failures.clone(),
        shrink_time: args.shrink_time.get(),
        shrink_probes: args.shrink_probes,
        budget: args.budget.map(Dur::get),
        window: args.window.map(usize::from),
        progress: reports::shows_progress(),
        ip: families(&args.ip)[0],
        families: families(&args.ip),
        poll: args.poll.parse().unwrap_or_default(),
        reference: words("reference", &args.reference)?,
        session: args.session.clone(),
        ..RunOptions::default()
    })
}

fn run_command(args: RunArgs) -> i32 {
    let opts = match options(&args) {
        Ok(opts) => opts,
        Err(message) => return error(message, exit::USAGE),
    };
    let Ok(specs) = load_all(&args.specs) else {
        return exit::USAGE;
    };
    crate::cleanup::install();
    announce(&args.shared);
    let filters = match filters(&args.shared) {
        Ok(filters) => filters,
        Err(message) => return error(message, exit::USAGE),
    };
    let partition = match args.partition.as_deref().map(str::parse::<plan::Partition>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(message)) => return error(message, exit::USAGE),
    };
    let baseline = match args
        .baseline
        .as_deref()
        .map(crate::baseline::Baseline::load)
    {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(message)) => return error(message, exit::USAGE),
    };
    let mut planned = plan::plan(&specs, &opts.targets, &filters);
    plan::require_reference(&mut planned, opts.reference.is_some());
    let selected = planned.len();
    if let Some(partition) = partition {
        planned = partition.apply(planned);
        if planned.is_empty() && selected > 0 {
            // More CI jobs than scenarios is not an error: this job has nothing to do.
            eprintln!(
                "conform: --partition {partition}: this share has none of the {selected} selected scenario(s)"
            );
            return exit::PASS;
        }
    }
    if args.list {
        return list_command(&planned);
    }
    if planned.is_empty() {
        return error(
            "no scenario selected: no scenario matches every --filter",
            exit::USAGE,
        );
    }
    if planned.iter().all(|p| p.target.is_err()) {
        let why = planned
            .first()
            .and_then(|p| p.target.as_ref().err())
            .map_or("the specs have no scenarios".to_string(), |r| {
                format!("every scenario was skipped ({r})")
            });
        return error(format!("no scenario selected: {why}"), exit::USAGE);
    }
    let mut reporter = match reporters(&args.shared, None) {
        Ok(reporter) => reporter,
        Err((message, code)) => return error(message, code),
    };
    let recorder = crate::baseline::Recorder::default();
    reporter.0.push(Box::new(recorder.clone()));
    let summary = match run::run(&planned, &opts, &mut reporter as &mut dyn Reporter) {
        Ok(summary) => summary,
        Err(e) => {
            let code = e.exit_code();
            return error(e, code);
        }
    };
    drop(reporter);
    let entries = recorder.entries();
    if let Some(path) = &args.write_baseline
        && let Err(message) = crate::baseline::Baseline::new(entries.clone()).write(path)
    {
        return error(message, exit::SETUP);
    }
    match baseline {
        Some(baseline) => {
            let comparison = baseline.compare(&entries);
            eprint!("{}", comparison.describe());
            if comparison.new_failures.is_empty() {
                exit::PASS
            } else {
                exit::FAIL
            }
        }
        None if summary.failed > 0 => exit::FAIL,
        None => exit::PASS,
    }
}

/// `run --list`: one line per selected scenario, skipped ones marked with why.
fn list_command(planned: &[plan::Planned<'_>]) -> i32 {
    for p in planned {
        let s = p.scenario;
        let mut line = format!("{}  [{} {} {}]", plan::key(p), s.role, s.transport, s.level);
        if let Err(reason) = &p.target {
            line.push_str(&format!("  (skipped: {reason})"));
        }
        println!("{line}");
    }
    if planned.iter().all(|p| p.target.is_err()) {
        return error(
            "no scenario selected: nothing would run (see the list)",
            exit::USAGE,
        );
    }
    exit::PASS
}

/// The man page: the top-level page, then the options of each subcommand.
fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands() {
        let name = format!("conform {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let page = clap_mangen::Man::new(sub.clone().bin_name(name));
        page.render_synopsis_section(out)?;
        page.render_description_section(out)?;
        page.render_options_section(out)?;
    }
    Ok(())
}

fn reference_command(args: ReferenceArgs) -> i32 {
    let addr = match (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map(|mut a| a.next())
    {
        Ok(Some(addr)) => addr,
        _ => return error(format!("--host {}: not an address", args.host), exit::USAGE),
    };
    let serve = if args.forever {
        Serve::Forever
    } else {
        Serve::Once
    };
    let stop = Shutdown::new();
    let mut out = std::io::stdout();
    let timeout: Duration = args.timeout.get();
    let result = match args.program {
        Program::TcpServer => {
            TcpListener::bind(addr).and_then(|l| reference::tcp_server(l, serve, &mut out, &stop))
        }
        Program::UdpServer => {
            UdpSocket::bind(addr).and_then(|s| reference::udp_server(s, serve, &mut out, &stop))
        }
        Program::TcpClient => reference::tcp_client(addr, &mut out, timeout),
        Program::UdpClient => reference::udp_client(addr, &mut out, timeout),
    };
    match result {
        Ok(()) => exit::PASS,
        Err(e) => error(format!("{addr}: {e}"), exit::FAIL),
    }
}
