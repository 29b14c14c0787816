//! The validated settings of one `conform run`, free of any command-line types.

use std::net::{IpAddr, Ipv4Addr};

use crate::plan::Targets;
use std::time::Duration;

use crate::spec::Lifecycle;

/// Default deadline for a wait the spec does not bound itself. Generous on purpose: a correct
/// program on a loaded machine must never be blamed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Twice what daemons take to exit after SIGTERM (memcached up to 1 s, redis-server 0.1 s).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);
/// Longest time spent shrinking one failure, by default: a safety net only, since the probe
/// budget is what normally bounds shrinking (and keeps it the same on every machine).
pub const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(300);
/// Most runs of the program spent shrinking one failure, by default.
pub const DEFAULT_SHRINK_PROBES: u32 = 256;
/// Longest time a generated scenario spends running cases, by default.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120);
/// Cases of a generated scenario when neither the spec nor the command line says.
pub const DEFAULT_CASES: u32 = 256;
/// Bytes of stdout and of stderr kept per program.
pub const DEFAULT_CAPTURE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub targets: Targets,
    /// Overrides every scenario's lifecycle.
    pub lifecycle: Option<Lifecycle>,
    /// Deadline for waits that neither the step, the scenario nor the file bound.
    pub timeout: Duration,
    pub ready_timeout: Duration,
    /// Time between SIGTERM and SIGKILL when stopping a program.
    pub grace: Duration,
    /// `should` failures fail the run.
    pub strict: bool,
    /// Scenarios run at once.
    pub jobs: usize,
    pub capture_limit: usize,
    /// The loopback address programs listen on and connect to, for the case being run.
    pub ip: IpAddr,
    /// The loopback addresses to run every scenario on (`--ip 4|6|both`); with more than
    /// one, each scenario runs once per address and its name says which family.
    pub families: Vec<IpAddr>,
    /// Cases per generated scenario (overrides the spec's `cases`).
    pub cases: Option<u32>,
    /// Seed of the first generated scenario; random when absent.
    pub seed: Option<u64>,
    /// `--with NAME=VALUE`: pinned generated values, as text.
    pub with: Vec<(String, String)>,
    /// Where to write minimal counterexamples as regression specs.
    pub save_failures: Option<std::path::PathBuf>,
    /// Show a progress line for long generated runs (stdout is a terminal).
    pub progress: bool,
    /// Longest time spent shrinking one failure (a safety net).
    pub shrink_time: Duration,
    /// Most runs of the program spent shrinking one failure.
    pub shrink_probes: u32,
    /// Longest time a generated scenario runs cases (overrides the spec's `budget`).
    pub budget: Option<Duration>,
    /// Requests in flight for windowable scenarios (overrides the spec's `window`).
    pub window: Option<usize>,
    /// Sessions played at once for session scenarios (overrides the spec's `clients`).
    pub clients: Option<u32>,
    /// `--port`: the one port every program under test gets (servers listen there, conform
    /// listens there for clients) instead of a fresh one per case. Scenarios then run one at a
    /// time.
    pub port: Option<u16>,
    /// The implementation these options test, in `conform matrix`: named in every event.
    pub implementation: Option<String>,
    /// Keep a wire log of every case, for failures to carry. Off when no report shows it:
    /// recording costs about a microsecond per case, which fuzzing notices.
    pub wire_log: bool,
    /// How UDP replies are waited for: spin briefly before blocking, block, or decide from
    /// the machine's cores and load.
    pub poll: crate::drive::poll::Mode,
    /// `--reference`: the command template of the reference server that `same_as_reference`
    /// steps compare with, split into words.
    pub reference: Option<Vec<String>>,
    /// `--session`: the one session a session scenario plays (a replay line's).
    pub session: Option<String>,
}

impl RunOptions {
    /// These options for one address family: `ip` set, and `families` kept so the run still
    /// knows whether names need a family suffix.
    pub fn for_family(&self, ip: IpAddr) -> RunOptions {
        RunOptions { ip, ..self.clone() }
    }

    /// The suffix that tells the runs of one scenario apart with `--ip both`.
    pub fn family_suffix(&self) -> &'static str {
        match (self.families.len() > 1, self.ip) {
            (false, _) => "",
            (true, IpAddr::V4(_)) => " [ipv4]",
            (true, IpAddr::V6(_)) => " [ipv6]",
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            targets: Targets::default(),
            lifecycle: None,
            timeout: DEFAULT_TIMEOUT,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            grace: DEFAULT_GRACE,
            strict: false,
            jobs: 1,
            capture_limit: DEFAULT_CAPTURE_LIMIT,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            families: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            cases: None,
            seed: None,
            with: Vec::new(),
            save_failures: None,
            progress: false,
            shrink_time: DEFAULT_SHRINK_TIME,
            shrink_probes: DEFAULT_SHRINK_PROBES,
            budget: None,
            window: None,
            clients: None,
            port: None,
            implementation: None,
            wire_log: true,
            poll: crate::drive::poll::Mode::Auto,
            reference: None,
            session: None,
        }
    }
}
