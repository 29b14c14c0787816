//! `conform run`: its arguments checked and turned into [`RunOptions`], the scenarios
//! planned (filters, partition), listed or run, and the run's verdicts turned into an exit
//! code (baselines included). Also the options `run` and `matrix` share.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::args::{FormatArg, IpArg, LifecycleArg, RunArgs, SharedArgs};
use super::{CliError, Loading, fail, load_all, out, reporters};
use crate::drive::template;
use crate::exit;
use crate::plan;
use crate::plan::Targets;
use crate::report::Reporter;
use crate::run::{self, options::RunOptions};
use crate::spec::{Dur, Lifecycle};

fn words(flag: &'static str, text: &Option<String>) -> Result<Option<Vec<String>>, CliError> {
    text.as_deref()
        .map(|t| template::split(t).map_err(|source| CliError::Template { flag, source }))
        .transpose()
}

fn resolve(text: &str) -> Result<SocketAddr, CliError> {
    let given = || text.to_string();
    text.to_socket_addrs()
        .map_err(|source| CliError::Connect {
            text: given(),
            source,
        })?
        .next()
        .ok_or_else(|| CliError::ConnectNowhere { text: given() })
}

/// The loopback addresses `--ip` selects, IPv4 first.
fn families(choice: IpArg) -> Vec<IpAddr> {
    let v4 = IpAddr::from([127, 0, 0, 1]);
    let v6 = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    match choice {
        IpArg::V4 => vec![v4],
        IpArg::V6 => vec![v6],
        IpArg::Both => vec![v4, v6],
    }
}

fn options(args: &RunArgs) -> Result<RunOptions, CliError> {
    let targets = Targets {
        server: words("server", &args.server)?,
        client: words("client", &args.client)?,
        connect: args.connect.as_deref().map(resolve).transpose()?,
    };
    if let Some(port) = args.port {
        if args.shared.jobs > 1 {
            let jobs = args.shared.jobs;
            return Err(CliError::PortWithJobs { port, jobs });
        }
        if targets.server.is_none() && targets.client.is_none() {
            return Err(CliError::PortWithoutProgram { port });
        }
    }
    Ok(RunOptions {
        port: args.port,
        ..shared_options(&args.shared, targets)?
    })
}

/// The `--filter` expressions, parsed.
pub(crate) fn filters(args: &SharedArgs) -> Result<Vec<plan::Filter>, plan::PlanError> {
    args.filter.iter().map(|f| f.parse()).collect()
}

/// The `--partition` share, parsed.
pub(crate) fn partition(args: &SharedArgs) -> Result<Option<plan::Partition>, plan::PlanError> {
    args.partition.as_deref().map(str::parse).transpose()
}

/// With `--verbose`, says how the socket table is read and how replies are waited for.
/// Shared by `run` and `matrix`.
pub(crate) fn announce(args: &SharedArgs) {
    if args.verbose {
        eprintln!("conform: {}", crate::os::sockets::source_note());
        eprintln!(
            "conform: waiting for replies: {}",
            crate::drive::poll::choice_for(args.poll.mode()).why
        );
    }
}

/// Whether any report of this run shows wire logs: `--trace`, `--pcap`, and the JSON and
/// HTML formats, on stdout or in a file.
fn wants_wire_log(args: &SharedArgs) -> bool {
    let shows = |format: &str| matches!(format, "json" | "html");
    args.trace
        || args.pcap.is_some()
        || matches!(args.format, FormatArg::Json | FormatArg::Html)
        || args
            .report
            .iter()
            .any(|r| r.split_once('=').is_some_and(|(format, _)| shows(format)))
}

/// The run options of `run` and `matrix`, for the given targets.
pub(crate) fn shared_options(args: &SharedArgs, targets: Targets) -> Result<RunOptions, CliError> {
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
                    .ok_or_else(|| CliError::WithForm { given: w.clone() })
            })
            .collect::<Result<_, _>>()?,
        save_failures: args.save_failures.clone(),
        shrink_time: args.shrink_time.get(),
        shrink_probes: args.shrink_probes,
        budget: args.budget.map(Dur::get),
        window: args.window.map(usize::from),
        clients: args.clients,
        progress: super::reports::shows_progress(),
        ip: families(args.ip)[0],
        families: families(args.ip),
        poll: args.poll.mode(),
        reference: words("reference", &args.reference)?,
        session: args.session.clone(),
        ..RunOptions::default()
    })
}

pub(crate) fn run_command(args: RunArgs, argv: &[String]) -> i32 {
    let opts = match options(&args) {
        Ok(opts) => opts,
        Err(e) => return fail(e),
    };
    let Ok(specs) = load_all(
        &args.specs,
        &Loading {
            verbose: args.shared.verbose,
            argv,
        },
    ) else {
        return exit::USAGE;
    };
    crate::os::cleanup::install();
    announce(&args.shared);
    let filters = match filters(&args.shared) {
        Ok(filters) => filters,
        Err(e) => return fail(e),
    };
    let partition = match partition(&args.shared) {
        Ok(partition) => partition,
        Err(e) => return fail(e),
    };
    let baseline = match args
        .baseline
        .as_deref()
        .map(crate::baseline::Baseline::load)
    {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return fail(e),
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
        return fail(CliError::NoneMatch);
    }
    if planned.iter().all(|p| p.target.is_err()) {
        let first = planned
            .first()
            .and_then(|p| p.target.as_ref().err().copied());
        return fail(CliError::AllSkipped { first });
    }
    let mut reporter = match reporters(&args.shared, None) {
        Ok(reporter) => reporter,
        Err(e) => return fail(e),
    };
    let recorder = crate::baseline::Recorder::default();
    reporter.0.push(Box::new(recorder.clone()));
    let summary = match run::run(&planned, &opts, &mut reporter as &mut dyn Reporter) {
        Ok(summary) => summary,
        Err(e) => return run_failed(e),
    };
    drop(reporter);
    let entries = recorder.entries();
    if let Some(path) = &args.write_baseline
        && let Err(e) = crate::baseline::Baseline::new(entries.clone()).write(path)
    {
        return fail(e);
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

/// The end of a run that could not go on: quietly when stdout was closed under the report
/// (`| head`), else with the error.
pub(crate) fn run_failed(e: run::SetupError) -> i32 {
    match e {
        run::SetupError::Report(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
            super::stdout_failed(io)
        }
        other => fail(other),
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
        out!("{line}");
    }
    if planned.iter().all(|p| p.target.is_err()) {
        return fail(CliError::NothingListed);
    }
    exit::PASS
}
