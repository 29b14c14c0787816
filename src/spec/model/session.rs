//! Sessions as a spec writes them: a scenario's `commands` (templates, each with its own
//! generated values and steps), how many commands one session plays (`session:`), and a fixed
//! session that replays exactly (`play:`, as `--save-failures` writes it).
//!
//! In: YAML through serde. Out: [`Command`], [`SessionSettings`] and [`PlayCall`]; the checks
//! that need the whole scenario are in `validate/session.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::{Expected, Fixed, Generator, Scenario, Step};

/// Commands a session plays at most when `session:` does not say.
pub const DEFAULT_MAX_COMMANDS: u32 = 10;

/// One command template: what conform sends and expects, with values of its own.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Unique in the scenario; letters, digits and `_ . : -` (replay lines name it).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// How often it is chosen, relative to the other commands (default 1).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub weight: Option<Spanned<u32>>,
    /// Values generated afresh every time the command is played.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Generator>")]
    pub generate: BTreeMap<String, Spanned<Generator>>,
    /// `VALUE: BUNDLE`: the value is drawn, most of the time, from the values earlier
    /// commands of the same session put in that bundle, and is put there itself.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub bundles: BTreeMap<String, Spanned<String>>,
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
    /// `VALUE: EXPR`: the value is drawn, most of the time, from what the expression gives
    /// in the model's state (a list, or a map's keys), e.g. `key: 'state.keys()'` for a key
    /// the model holds; its generator makes it when the expression gives nothing it admits.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub from_state: BTreeMap<String, Spanned<Code>>,
    /// A precondition over `state` and the command's values: the command is played only
    /// when it holds.
    #[serde(default)]
    pub when: Option<Code>,
    /// The model's state after the command, computed from `state` and the command's values.
    #[serde(default)]
    pub update: Option<Code>,
    /// `false` for a command whose requests another client's may come between (several
    /// requests in one command): it is played only when one client runs.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub atomic: Option<Spanned<bool>>,
}

/// `model:`: the model's initial state.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// An expression giving the state before the first command, e.g. `#{}` (an empty map).
    pub initial: Code,
    /// Where one reply ends (`line`, `resp`, or a map with `until`, `length` or `regex`):
    /// needed with several clients, whose replies are read before the order that explains
    /// them is known.
    #[serde(default)]
    #[schemars(with = "Option<FrameSchema>")]
    pub frame: Option<super::frame::RawFrame>,
    /// A generated value (e.g. `key`) such that commands of different values never affect
    /// each other: with several clients, the commands of each value are checked as a history
    /// of their own, which keeps the check cheap however many clients run.
    #[serde(default)]
    pub partition: Option<String>,
}

/// The schema of a framing, for `model.frame`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum FrameSchema {
    /// `line` or `resp` (`datagram` is UDP's framing and needs no saying).
    Word(String),
    Map {
        until: Option<String>,
        length: Option<usize>,
        regex: Option<String>,
    },
}

/// An expression of the spec, compiled when it loads.
#[derive(Debug, Clone)]
pub struct Code(pub crate::spec::expr::Expr);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = Spanned::<String>::deserialize(deserializer)?;
        crate::spec::data::compile_spanned(&source)
            .map(Code)
            .map_err(de::Error::custom)
    }
}

impl JsonSchema for Code {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An expression of the embedded language (Rhai).",
            "type": "string",
        })
    }
}

impl Command {
    pub fn weight(&self) -> u32 {
        self.weight.as_ref().map_or(1, |w| w.value)
    }

    /// Whether another client's requests cannot come between this command's.
    pub fn atomic(&self) -> bool {
        self.atomic.as_ref().is_none_or(|a| a.value)
    }
}

/// `session:`: how long the generated sessions are.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Most commands one session plays (default 10).
    #[serde(default)]
    pub max_commands: Option<u32>,
    /// Fewest commands one session plays (default 1).
    #[serde(default)]
    pub min_commands: Option<u32>,
}

impl SessionSettings {
    pub fn bounds(&self) -> (u32, u32) {
        let max = self.max_commands.unwrap_or(DEFAULT_MAX_COMMANDS);
        (self.min_commands.unwrap_or(1).min(max), max)
    }
}

/// One command of a fixed session: its name and the values it plays with.
#[derive(Debug)]
pub struct PlayCall {
    pub name: String,
    pub values: BTreeMap<String, Spanned<Fixed>>,
}

impl<'de> Deserialize<'de> for PlayCall {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PlayCall;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command name, or `NAME: {VALUE: FIXED, ...}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlayCall, E> {
                Ok(PlayCall {
                    name: v.to_string(),
                    values: BTreeMap::new(),
                })
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<PlayCall, M::Error> {
                let name: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("a played command needs its name"))?;
                let values: Option<BTreeMap<String, Spanned<Fixed>>> = map.next_value()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "one command per entry, but this one also names `{extra}`: start a new entry with `- `"
                    )));
                }
                Ok(PlayCall {
                    name,
                    values: values.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl JsonSchema for PlayCall {
    fn schema_name() -> Cow<'static, str> {
        "PlayedCommand".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let fixed = generator.subschema_for::<Fixed>();
        json_schema!({
            "description": "One command of a fixed session: its name, or `NAME: {VALUE: FIXED, ...}`.",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": {
                        "anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": fixed}],
                    },
                },
            ],
        })
    }
}

impl Scenario {
    /// Whether the scenario plays sessions of commands.
    pub fn is_session(&self) -> bool {
        !self.commands.is_empty()
    }

    /// Whether the scenario runs many cases: generated values, or sessions.
    pub fn runs_many(&self) -> bool {
        self.is_generated() || self.is_session()
    }

    /// Whether any step, the commands' included, compares with a reference program.
    pub fn uses_reference(&self) -> bool {
        self.steps
            .iter()
            .chain(self.commands.iter().flat_map(|c| c.value.steps.iter()))
            .any(|s| same_as_reference(&s.value).is_some())
    }

    /// The fewest and most commands of one session.
    pub fn session_bounds(&self) -> (u32, u32) {
        self.session
            .as_ref()
            .map_or((1, DEFAULT_MAX_COMMANDS), |s| s.value.bounds())
    }
}

/// The `same_as_reference` of a step, if it is one.
pub fn same_as_reference(step: &Step) -> Option<&super::frame::SameAs> {
    match step {
        Step::Expect(expect) => match &expect.matcher {
            Expected::SameAsReference(same) => Some(same),
            _ => None,
        },
        _ => None,
    }
}
