//! The typed spec model: what a scenario file says, after decoding and before any I/O.
//!
//! In: YAML, through serde (see `load.rs`). Out: [`File`] with [`Scenario`]s whose steps
//! carry their source positions, payloads already decoded to bytes and regexes compiled.
//! Everything that can be checked without a network is checked here or in `validate.rs`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;

use serde_saphyr::Spanned;

use super::duration::Dur;

/// The [`DataFields`] of a raw step form that spells its bytes with the same keys (`send`,
/// `expect`); a macro because serde's `flatten` cannot be combined with rejecting unknown keys.
/// Declares a raw step form whose map also spells bytes with the keys of [`DataFields`]:
/// those fields first, then the form's own. One list of the data keys for every form.
macro_rules! with_data_fields {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            text: Option<String>,
            escaped: Option<String>,
            hex: Option<String>,
            bytes: Option<Vec<u8>>,
            var: Option<String>,
            reverse: Option<crate::spec::data::VarOrData>,
            concat: Option<Vec<crate::spec::data::TextOrData>>,
            lisp_vector: Option<crate::spec::data::VarOrData>,
            decimal: Option<crate::spec::model::number::NumExpr>,
            hex_text: Option<crate::spec::model::number::NumExpr>,
            binary: Option<crate::spec::model::number::RawBinary>,
            #[schemars(with = "Option<String>")]
            expr: Option<serde_saphyr::Spanned<String>>,
            $($(#[$fmeta])* $field: $ty),*
        }
    };
}

#[macro_export]
macro_rules! data_fields {
    ($raw:ident) => {
        DataFields {
            text: $raw.text,
            escaped: $raw.escaped,
            hex: $raw.hex,
            bytes: $raw.bytes,
            var: $raw.var,
            reverse: $raw.reverse,
            concat: $raw.concat,
            lisp_vector: $raw.lisp_vector,
            decimal: $raw.decimal,
            hex_text: $raw.hex_text,
            binary: $raw.binary,
            expr: $raw.expr,
        }
    };
}

mod common;
mod error;
mod expect;
pub mod frame;
mod generator;
pub mod number;
mod output;
mod regex;
pub mod schema;
pub mod seq;
pub mod session;
mod step;

pub use expect::*;
pub use generator::*;
use generator::{RawFixed, RawGenerator};
pub use output::*;
pub use step::*;
// The raw forms are what the JSON Schema describes.
use step::{ListOrMap, RawSend, RawSendAll};

/// A loaded, validated spec file.
#[derive(Debug)]
pub struct Spec {
    /// The path as the user gave it, for messages.
    pub path: String,
    /// The file's text, for snippets and for regression specs cut from it.
    pub source: String,
    pub file: File,
}

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
    /// Command templates: each case is a session of commands played in order, after `steps`.
    #[serde(default)]
    #[schemars(with = "Vec<crate::spec::model::session::Command>")]
    pub commands: Vec<Spanned<crate::spec::model::session::Command>>,
    /// How many commands one session plays.
    #[serde(default)]
    #[schemars(with = "Option<crate::spec::model::session::SessionSettings>")]
    pub session: Option<Spanned<crate::spec::model::session::SessionSettings>>,
    /// A fixed session: the scenario plays these commands, with these values, once (this is
    /// how a saved session replays).
    #[serde(default)]
    #[schemars(with = "Option<Vec<crate::spec::model::session::PlayCall>>")]
    pub play: Option<Vec<Spanned<crate::spec::model::session::PlayCall>>>,
    /// A model of the server's state that commands update and compute replies from.
    #[serde(default)]
    #[schemars(with = "Option<crate::spec::model::session::ModelSettings>")]
    pub model: Option<Spanned<crate::spec::model::session::ModelSettings>>,
    /// Sessions played at once on separate connections to one server (default 1); with a
    /// model, their history must be linearizable.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub clients: Option<Spanned<u32>>,
}

impl Scenario {
    /// Whether the scenario generates values (and so runs many cases).
    pub fn is_generated(&self) -> bool {
        !self.generate.is_empty()
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
