//! Deciding what runs: each scenario of each spec, against which target, or skipped and why.
//!
//! In: loaded specs and the run's [`Targets`]. Out: a list of [`Planned`] scenarios, in file
//! order, each with its target or the [`Skip`] reason; a [`PlanError`] for a `--filter` or
//! `--partition` that says nothing conform can select by. No I/O.

use std::net::SocketAddr;

use crate::spec::{Role, Scenario, Spec};

/// What one scenario runs against, decided here and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// conform's built-in reference, in-process.
    Reference,
    /// An external program: its command template, split into words.
    Program(Vec<String>),
    /// A server that is already running.
    Address(SocketAddr),
}

/// What the whole run targets, from the command line or the library. With none set, every
/// scenario runs against the reference.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Command template (split into words) of the server under test.
    pub server: Option<Vec<String>>,
    /// Command template of the client under test.
    pub client: Option<Vec<String>>,
    /// A server that is already running.
    pub connect: Option<SocketAddr>,
}

impl Targets {
    pub fn any_external(&self) -> bool {
        self.server.is_some() || self.client.is_some() || self.connect.is_some()
    }
}

/// One scenario and what it will run against, or why it cannot run.
pub struct Planned<'a> {
    pub spec: &'a Spec,
    pub scenario: &'a Scenario,
    pub target: Result<Target, Skip>,
}

/// Why a selected scenario is skipped: not an error, a verdict the report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NoServer,
    NoClient,
    /// It uses `same_as_reference`, and no `--reference` was given.
    NoReference,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skip::NoServer => "a server scenario, and no --server or --connect was given",
            Skip::NoClient => "a client scenario, and no --client was given",
            Skip::NoReference => {
                "it compares with a reference program (`same_as_reference`), and no --reference \
                 was given"
            }
        })
    }
}

/// A `--filter` or `--partition` that cannot be read; `text` is the flag's value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("--filter {text}: a role is `server` or `client`")]
    FilterRole { text: String },
    #[error("--filter {text}: a transport is `tcp` or `udp`")]
    FilterTransport { text: String },
    #[error("--filter {text}: a level is `must` or `should`")]
    FilterLevel { text: String },
    #[error(
        "--filter {text}: filters are name:, tag:, role:, transport:, level:, file:, or plain text"
    )]
    FilterKey { text: String },
    #[error("--partition {text}: write hash:M/N or count:M/N, e.g. hash:1/3")]
    PartitionForm { text: String },
    #[error("--partition {text}: the kind is `hash` or `count`, e.g. hash:1/3")]
    PartitionKind { text: String },
    #[error("--partition {text}: write M/N after the kind, e.g. hash:1/3")]
    PartitionShare { text: String },
    #[error("--partition {text}: M and N are whole numbers, e.g. hash:1/3")]
    PartitionNumbers { text: String },
    #[error("--partition {text}: M/N needs 1 <= M <= N (share M of N jobs)")]
    PartitionRange { text: String },
}

impl PlanError {
    /// Every plan error is a command line that selects nothing conform knows.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

pub fn plan<'a>(specs: &'a [Spec], targets: &Targets, filters: &[Filter]) -> Vec<Planned<'a>> {
    specs
        .iter()
        .flat_map(|spec| {
            spec.file
                .scenarios
                .iter()
                .filter(move |s| filters.iter().all(|f| f.matches(spec, &s.value)))
                .map(move |s| Planned {
                    spec,
                    scenario: &s.value,
                    target: target_for(&s.value, targets),
                })
        })
        .collect()
}

/// One `--filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Name(String),
    Tag(String),
    Role(Role),
    Transport(crate::spec::Transport),
    Level(crate::spec::Level),
    File(String),
    /// Text found in the scenario's name.
    Contains(String),
}

impl std::str::FromStr for Filter {
    type Err = PlanError;
    fn from_str(text: &str) -> Result<Self, PlanError> {
        use crate::spec::{Level, Transport};
        let given = || text.to_string();
        Ok(match text.split_once(':') {
            Some(("name", v)) => Filter::Name(v.to_string()),
            Some(("tag", v)) => Filter::Tag(v.to_string()),
            Some(("file", v)) => Filter::File(v.to_string()),
            Some(("role", "server")) => Filter::Role(Role::Server),
            Some(("role", "client")) => Filter::Role(Role::Client),
            Some(("role", _)) => return Err(PlanError::FilterRole { text: given() }),
            Some(("transport", "tcp")) => Filter::Transport(Transport::Tcp),
            Some(("transport", "udp")) => Filter::Transport(Transport::Udp),
            Some(("transport", _)) => return Err(PlanError::FilterTransport { text: given() }),
            Some(("level", "must")) => Filter::Level(Level::Must),
            Some(("level", "should")) => Filter::Level(Level::Should),
            Some(("level", _)) => return Err(PlanError::FilterLevel { text: given() }),
            Some((key, _)) if key.chars().all(|c| c.is_ascii_lowercase()) && !key.is_empty() => {
                return Err(PlanError::FilterKey { text: given() });
            }
            _ => Filter::Contains(text.to_string()),
        })
    }
}

impl Filter {
    pub fn matches(&self, spec: &Spec, scenario: &Scenario) -> bool {
        match self {
            Filter::Name(name) => scenario.name.value == *name,
            Filter::Tag(tag) => scenario.tags.iter().any(|t| t == tag),
            Filter::Role(role) => scenario.role == *role,
            Filter::Transport(t) => scenario.transport == *t,
            Filter::Level(l) => scenario.level == *l,
            Filter::File(path) => spec.path == *path,
            Filter::Contains(text) => scenario.name.value.contains(text.as_str()),
        }
    }
}

/// With no target given, everything runs against the reference. With a server (or an
/// address) given, server scenarios run against it and client scenarios are skipped; and
/// the other way round.
fn target_for(scenario: &Scenario, targets: &Targets) -> Result<Target, Skip> {
    if !targets.any_external() {
        return Ok(Target::Reference);
    }
    match scenario.role {
        Role::Server => match (&targets.server, targets.connect) {
            (Some(words), _) => Ok(Target::Program(words.clone())),
            (None, Some(addr)) => Ok(Target::Address(addr)),
            (None, None) => Err(Skip::NoServer),
        },
        Role::Client => match &targets.client {
            Some(words) => Ok(Target::Program(words.clone())),
            None => Err(Skip::NoClient),
        },
    }
}

/// Without `--reference`, a scenario that compares with a reference program cannot run: it
/// is skipped, and says why.
pub fn require_reference(planned: &mut [Planned<'_>], reference_given: bool) {
    if reference_given {
        return;
    }
    for p in planned.iter_mut() {
        if p.target.is_ok() && p.scenario.uses_reference() {
            p.target = Err(Skip::NoReference);
        }
    }
}

/// `--partition hash:M/N` or `count:M/N`: this CI job's share of the selected scenarios.
/// The N shares of one selection are disjoint and together hold every scenario once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub kind: PartitionKind,
    /// 1-based: this job's share, `1..=total`.
    pub index: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// A stable hash of `file :: name`: a scenario stays in its share when others are added.
    Hash,
    /// The i-th selected scenario goes to share i mod N: shares differ in size by at most one.
    Count,
}

impl std::str::FromStr for Partition {
    type Err = PlanError;
    fn from_str(text: &str) -> Result<Self, PlanError> {
        let given = || text.to_string();
        let (kind, share) = text
            .split_once(':')
            .ok_or_else(|| PlanError::PartitionForm { text: given() })?;
        let kind = match kind {
            "hash" => PartitionKind::Hash,
            "count" => PartitionKind::Count,
            _ => return Err(PlanError::PartitionKind { text: given() }),
        };
        let (m, n) = share
            .split_once('/')
            .ok_or_else(|| PlanError::PartitionShare { text: given() })?;
        let parse = |v: &str| v.trim().parse::<usize>().ok();
        let (Some(index), Some(total)) = (parse(m), parse(n)) else {
            return Err(PlanError::PartitionNumbers { text: given() });
        };
        if total == 0 || index == 0 || index > total {
            return Err(PlanError::PartitionRange { text: given() });
        }
        Ok(Partition { kind, index, total })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            PartitionKind::Hash => "hash",
            PartitionKind::Count => "count",
        };
        write!(f, "{kind}:{}/{}", self.index, self.total)
    }
}

impl Partition {
    /// Whether the `position`-th (0-based) selected scenario, named `key`, is in this share.
    pub fn keeps(&self, position: usize, key: &str) -> bool {
        let bucket = match self.kind {
            PartitionKind::Hash => (fnv1a(key.as_bytes()) % self.total as u64) as usize,
            PartitionKind::Count => position % self.total,
        };
        bucket == self.index - 1
    }

    /// This share of `planned`, in order.
    pub fn apply<'a>(&self, planned: Vec<Planned<'a>>) -> Vec<Planned<'a>> {
        planned
            .into_iter()
            .enumerate()
            .filter(|(i, p)| self.keeps(*i, &key(p)))
            .map(|(_, p)| p)
            .collect()
    }
}

/// The name a scenario goes by across runs: `file :: name`.
pub fn key(planned: &Planned<'_>) -> String {
    format!("{} :: {}", planned.spec.path, planned.scenario.name.value)
}

/// 64-bit FNV-1a: tiny, and stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shares(kind: PartitionKind, keys: &[String], total: usize) -> Vec<Vec<usize>> {
        (1..=total)
            .map(|index| {
                let p = Partition { kind, index, total };
                (0..keys.len()).filter(|&i| p.keeps(i, &keys[i])).collect()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn partitions_cover_every_scenario_exactly_once(
            keys in proptest::collection::vec("[a-z/.]{1,12} :: [ -~]{0,20}", 0..60),
            total in 1usize..12,
            hash in any::<bool>(),
        ) {
            let kind = if hash { PartitionKind::Hash } else { PartitionKind::Count };
            let mut seen = vec![0u32; keys.len()];
            for share in shares(kind, &keys, total) {
                for i in share {
                    seen[i] += 1;
                }
            }
            prop_assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
        }

        #[test]
        fn count_shares_differ_in_size_by_at_most_one(len in 0usize..100, total in 1usize..12) {
            let keys = vec![String::new(); len];
            let sizes: Vec<usize> = shares(PartitionKind::Count, &keys, total)
                .iter()
                .map(Vec::len)
                .collect();
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            prop_assert!(max - min <= 1, "{sizes:?}");
        }
    }

    #[test]
    fn hash_is_fnv1a() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn parses_valid_partitions_and_refuses_others() {
        assert_eq!(
            "hash:2/3".parse(),
            Ok(Partition {
                kind: PartitionKind::Hash,
                index: 2,
                total: 3
            })
        );
        assert_eq!(
            "count:3/3".parse::<Partition>().unwrap().to_string(),
            "count:3/3"
        );
        for bad in [
            "hash:0/3",
            "hash:4/3",
            "foo:1/2",
            "hash:1",
            "count:a/b",
            "hash:1/0",
            "1/2",
        ] {
            let err = bad.parse::<Partition>().unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE);
            let err = err.to_string();
            assert!(err.starts_with(&format!("--partition {bad}: ")), "{err}");
        }
    }
}
