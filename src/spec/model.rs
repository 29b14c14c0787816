//! The typed spec model: what a scenario file says, after decoding and before any I/O.
//!
//! In: YAML, through serde (see `load.rs`). Out: [`File`] with [`Scenario`]s whose steps
//! carry their source positions, payloads already decoded to bytes and regexes compiled.
//! Everything that can be checked without a network is checked here or in `validate.rs`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_saphyr::Spanned;

use super::duration::Dur;

pub mod schema;
mod step;

use step::one_payload;
pub use step::*;
// The raw forms are what the JSON Schema describes.
use step::{ListOrMap, RawExpect, RawOutput, RawSend, RawSendAll};

/// One spec file as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Format version; only `1` exists.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub version: Option<Spanned<u32>>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default deadline for every wait in this file.
    #[serde(default)]
    pub timeout: Option<Dur>,
    #[schemars(with = "Vec<Scenario>")]
    pub scenarios: Vec<Spanned<Scenario>>,
}

/// One named exchange with the program under test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The role the program under test plays.
    pub role: Role,
    pub transport: Transport,
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Default deadline for every wait in this scenario.
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Values generated afresh for every case; steps use them by name.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Generator>")]
    pub generate: BTreeMap<String, Spanned<Generator>>,
    /// How many cases a generated scenario runs by default.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub cases: Option<Spanned<u32>>,
    /// Longest time a generated scenario spends running cases (shrinking a failure has its
    /// own budget, counted in probes): when it runs out, no new case starts and the report
    /// says how many ran.
    #[serde(default)]
    #[schemars(with = "Option<Dur>")]
    pub budget: Option<Spanned<Dur>>,
    /// Requests kept in flight at once (UDP servers without state only; replies are matched
    /// to requests by content). 1, the default, is one request at a time.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub window: Option<Spanned<u32>>,
    /// Fixed values for the generated ones: the scenario runs once, with these (this is how a
    /// saved counterexample replays).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Fixed>")]
    pub with: BTreeMap<String, Spanned<Fixed>>,
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
}

impl Scenario {
    /// Whether the scenario generates values (and so runs many cases).
    pub fn is_generated(&self) -> bool {
        !self.generate.is_empty()
    }
}

/// How one value is generated.
#[derive(Debug, Clone)]
pub enum Generator {
    /// Bytes of a length in `min..=max`, biased toward values that break programs.
    Bytes { min: usize, max: usize },
    /// Fixed bytes written in generated pieces with generated pauses.
    Split {
        data: Vec<u8>,
        max_pieces: usize,
        max_pause: std::time::Duration,
    },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawGenerator {
    bytes: Option<RawBytesGen>,
    split: Option<RawSplitGen>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawBytesGen {
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSplitGen {
    text: Option<String>,
    escaped: Option<String>,
    hex: Option<String>,
    bytes: Option<Vec<u8>>,
    max_pieces: Option<usize>,
    max_pause: Option<Dur>,
}

impl<'de> Deserialize<'de> for Generator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawGenerator::deserialize(deserializer)?;
        raw.try_into().map_err(de::Error::custom)
    }
}

impl TryFrom<RawGenerator> for Generator {
    type Error = String;
    fn try_from(raw: RawGenerator) -> Result<Self, String> {
        match (raw.bytes, raw.split) {
            (Some(b), None) => {
                let (min, max) = match (b.length, b.min_length, b.max_length) {
                    (Some(n), None, None) => (n, n),
                    (None, min, Some(max)) => (min.unwrap_or(0), max),
                    (None, _, None) => {
                        return Err(
                            "`bytes` needs `length`, or `max_length` (and `min_length`)".into()
                        );
                    }
                    _ => {
                        return Err(
                            "give either `length` or `min_length`/`max_length`, not both".into(),
                        );
                    }
                };
                if min > max {
                    return Err(format!(
                        "`min_length` {min} is larger than `max_length` {max}"
                    ));
                }
                if max > MAX_DATAGRAM {
                    return Err(format!(
                        "lengths above {MAX_DATAGRAM} bytes (the largest datagram) make no sense here"
                    ));
                }
                Ok(Generator::Bytes { min, max })
            }
            (None, Some(s)) => {
                let data = one_payload(s.text, s.escaped, s.hex, s.bytes)?.ok_or(
                    "`split` needs the bytes to split: `text`, `escaped`, `hex` or `bytes`",
                )?;
                if data.is_empty() {
                    return Err("`split` needs at least one byte".into());
                }
                let max_pieces = s.max_pieces.unwrap_or(data.len()).clamp(1, data.len());
                let max_pause = s
                    .max_pause
                    .map_or(std::time::Duration::from_millis(50), Dur::get);
                if max_pause > std::time::Duration::from_secs(10) {
                    return Err("`max_pause` above 10s would make every case slow".into());
                }
                Ok(Generator::Split {
                    data,
                    max_pieces,
                    max_pause,
                })
            }
            (None, None) => Err("a generator is `bytes: {...}` or `split: {...}`".into()),
            (Some(_), Some(_)) => Err("a generator is either `bytes` or `split`, not both".into()),
        }
    }
}

/// A fixed value for a generated one (see [`Scenario::with`]).
#[derive(Debug, Clone)]
pub enum Fixed {
    Bytes(Vec<u8>),
    /// Offsets where writes start, and the pause before each.
    Split {
        cuts: Vec<usize>,
        pauses: Vec<std::time::Duration>,
    },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    text: Option<String>,
    escaped: Option<String>,
    hex: Option<String>,
    bytes: Option<Vec<u8>>,
    cuts: Option<Vec<usize>>,
    pauses: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for Fixed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawFixed::deserialize(deserializer)?;
        let payload =
            one_payload(raw.text, raw.escaped, raw.hex, raw.bytes).map_err(de::Error::custom)?;
        match (payload, raw.cuts, raw.pauses) {
            (Some(b), None, None) => Ok(Fixed::Bytes(b)),
            (None, Some(cuts), pauses) => Ok(Fixed::Split {
                cuts,
                pauses: pauses
                    .unwrap_or_default()
                    .iter()
                    .map(|p| super::data::parse_pause(p))
                    .collect::<Result<_, _>>()
                    .map_err(de::Error::custom)?,
            }),
            _ => Err(de::Error::custom(
                "a fixed value is bytes (`hex`, `text`, ...) or, for a `split` value, `cuts` and `pauses`",
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Server,
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Tcp,
    Udp,
}

/// `must`: the guide requires it. `should`: a careful implementation does it; a failure is a
/// warning unless the run is `--strict`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Must,
    Should,
}

/// How often the program under test is started: once per case (programs that serve one client
/// and exit, like the guide's), or once per scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    #[default]
    Case,
    Scenario,
}

macro_rules! display_names {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $name),* })
            }
        }
    };
}
display_names!(Role { Server => "server", Client => "client" });
display_names!(Transport { Tcp => "tcp", Udp => "udp" });
display_names!(Level { Must => "must", Should => "should" });
display_names!(Lifecycle { Case => "case", Scenario => "scenario" });
