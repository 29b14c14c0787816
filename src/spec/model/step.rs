//! Steps: what a scenario does and expects, one keyword each, with their options decoded
//! (payloads to bytes, regexes compiled, faults checked against each other).
//!
//! In: YAML through serde; a step is a bare keyword or a map with exactly one keyword.
//! Out: [`Step`] values with everything that can be checked without a network checked.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

pub use super::common::MAX_DATAGRAM;
use super::error::ModelError;
use super::expect::{Expect, RawExpect};
use super::output::{ExpectOutput, RawOutput};
use crate::spec::data::{Data, DataFields, TextOrData};
use crate::spec::duration::Dur;

/// One thing conform does or expects, in order.
#[derive(Debug)]
pub enum Step {
    /// Open a connection (TCP) or a socket (UDP) to the server under test.
    Connect(Open),
    /// Wait for the client under test to connect (TCP).
    Accept(Open),
    /// Send bytes (TCP) or one datagram (UDP).
    Send(Send),
    /// Write several messages in one write (TCP), so the peer gets them coalesced.
    SendAll(SendAll),
    /// Expect bytes (TCP) or one datagram (UDP).
    Expect(Expect),
    /// Expect the peer to close its side (TCP FIN) with nothing more sent.
    ExpectEof(Wait),
    /// Expect the peer to reset the connection.
    ExpectReset(Wait),
    /// Expect nothing to arrive for a while.
    ExpectSilence(Silence),
    /// Expect any one of several outcomes, tried together.
    ExpectOneOf(Vec<Spanned<Step>>),
    /// Close conform's side of a connection or socket (with `reset`, abortively: RST).
    Close(Close),
    /// Shut down conform's write side (TCP half-close: the peer reads EOF) and keep reading.
    ShutdownWrite(On),
    /// Do nothing for a while.
    Pause(Dur),
    /// Expect the program under test to exit with a status.
    ExpectExit(ExpectExit),
    /// Expect what the program printed on stdout.
    ExpectStdout(ExpectOutput),
    /// Expect what the program printed on stderr.
    ExpectStderr(ExpectOutput),
}

/// Every step keyword, for messages and for "did you mean".
pub const STEP_NAMES: &[&str] = &[
    "connect",
    "accept",
    "send",
    "send_all",
    "coalesce",
    "expect",
    "expect_eof",
    "expect_reset",
    "expect_silence",
    "expect_one_of",
    "close",
    "shutdown_write",
    "pause",
    "expect_exit",
    "expect_stdout",
    "expect_stderr",
];

impl Step {
    pub fn keyword(&self) -> &'static str {
        match self {
            Step::Connect(_) => "connect",
            Step::Accept(_) => "accept",
            Step::Send(_) => "send",
            Step::SendAll(_) => "send_all",
            Step::Expect(_) => "expect",
            Step::ExpectEof(_) => "expect_eof",
            Step::ExpectReset(_) => "expect_reset",
            Step::ExpectSilence(_) => "expect_silence",
            Step::ExpectOneOf(_) => "expect_one_of",
            Step::Close(_) => "close",
            Step::ShutdownWrite(_) => "shutdown_write",
            Step::Pause(_) => "pause",
            Step::ExpectExit(_) => "expect_exit",
            Step::ExpectStdout(_) => "expect_stdout",
            Step::ExpectStderr(_) => "expect_stderr",
        }
    }

    /// Whether this step only observes the peer (and so may be an `expect_one_of` branch).
    pub fn is_network_expectation(&self) -> bool {
        matches!(
            self,
            Step::Expect(_) | Step::ExpectEof(_) | Step::ExpectReset(_) | Step::ExpectSilence(_)
        )
    }

    /// The connection this step names with `on:`, if any.
    pub fn on(&self) -> Option<&str> {
        match self {
            Step::Send(s) => s.on.as_deref(),
            Step::Expect(e) => e.on.as_deref(),
            Step::ExpectEof(w) | Step::ExpectReset(w) => w.on.as_deref(),
            Step::ExpectSilence(s) => s.on.as_deref(),
            Step::SendAll(s) => s.on.as_deref(),
            Step::Close(c) => c.on.as_deref(),
            Step::ShutdownWrite(o) => o.on.as_deref(),
            _ => None,
        }
    }
}

/// `connect` / `accept`: optionally name the connection (default `main`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Open {
    #[serde(default, rename = "as")]
    pub name: Option<String>,
    #[serde(default)]
    pub within: Option<Dur>,
}

/// Selects a connection by name; the most recent one when absent.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct On {
    #[serde(default)]
    pub on: Option<String>,
}

/// `close` / `close: {reset: true, on: NAME}`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    #[serde(default)]
    pub on: Option<String>,
    /// Close abortively (SO_LINGER 0): the peer sees RST instead of FIN.
    #[serde(default)]
    pub reset: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    #[serde(default)]
    pub within: Option<Dur>,
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    #[serde(rename = "for")]
    pub duration: Dur,
    #[serde(default)]
    pub on: Option<String>,
}

with_data_fields! {
    /// `send`: the bytes, spelt one way (see [`DataFields`]), and the connection.
    #[derive(Debug, Default, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RawSend {
        on: Option<String>,
        chunks: Option<usize>,
        pause: Option<Dur>,
        drop: Option<bool>,
        duplicate: Option<u32>,
        delay: Option<Dur>,
        truncate: Option<usize>,
        from_other_port: Option<bool>,
    }
}

/// `send`: the bytes to write, on which connection, and the faults to inject.
#[derive(Debug)]
pub struct Send {
    pub data: Data,
    pub on: Option<String>,
    pub faults: SendFaults,
}

/// Deterministic faults conform injects when it sends. Each applies to one transport;
/// `validate.rs` rejects the ones that do not fit the scenario's.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SendFaults {
    /// TCP: write in chunks of this many bytes.
    pub chunks: Option<usize>,
    /// TCP: wait this long between chunks.
    pub pause: Option<Dur>,
    /// UDP: do not send the datagram at all.
    pub drop: bool,
    /// UDP: send the datagram this many times.
    pub duplicate: Option<u32>,
    /// UDP: wait this long before sending.
    pub delay: Option<Dur>,
    /// UDP: send only the first this many bytes.
    pub truncate: Option<usize>,
    /// UDP: send from a fresh socket on another port, not the one the peer talked to.
    pub from_other_port: bool,
}

impl SendFaults {
    /// The TCP-only faults that are set, by their YAML names.
    pub fn tcp_only(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.chunks.is_some() {
            set.push("chunks");
        }
        if self.pause.is_some() {
            set.push("pause");
        }
        set
    }

    /// The UDP-only faults that are set, by their YAML names.
    pub fn udp_only(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.drop {
            set.push("drop");
        }
        if self.duplicate.is_some() {
            set.push("duplicate");
        }
        if self.delay.is_some() {
            set.push("delay");
        }
        if self.truncate.is_some() {
            set.push("truncate");
        }
        if self.from_other_port {
            set.push("from_other_port");
        }
        set
    }

    fn check(&self) -> Result<(), ModelError> {
        if self.chunks == Some(0) {
            return Err(ModelError::ChunksZero);
        }
        if self.pause.is_some() && self.chunks.is_none() {
            return Err(ModelError::PauseWithoutChunks);
        }
        if self.duplicate == Some(0) {
            return Err(ModelError::DuplicateZero);
        }
        if self.duplicate.is_some_and(|n| n > 1000) {
            return Err(ModelError::DuplicateTooMany);
        }
        if self.drop && self.udp_only().len() > 1 {
            return Err(ModelError::DropWithOthers);
        }
        if self.truncate.is_some_and(|n| n > MAX_DATAGRAM) {
            return Err(ModelError::TruncateTooLong { max: MAX_DATAGRAM });
        }
        Ok(())
    }
}

/// `send_all: [PAYLOAD, ...]` (or `coalesce`): several messages written in one write.
#[derive(Debug)]
pub struct SendAll {
    pub payloads: Vec<Data>,
    pub on: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSendAll {
    payloads: Vec<TextOrData>,
    #[serde(default)]
    on: Option<String>,
}

/// `send_all` as a plain list, or as a map with `payloads` and `on`.
pub(super) enum ListOrMap {
    List(Vec<TextOrData>),
    Map(RawSendAll),
}

impl<'de> Deserialize<'de> for ListOrMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListOrMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of payloads, or a map with `payloads` and `on`")
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<ListOrMap, S::Error> {
                Vec::<TextOrData>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(ListOrMap::List)
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<ListOrMap, M::Error> {
                RawSendAll::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ListOrMap::Map)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl TryFrom<ListOrMap> for SendAll {
    type Error = ModelError;
    fn try_from(raw: ListOrMap) -> Result<Self, ModelError> {
        let (payloads, on) = match raw {
            ListOrMap::List(list) => (list, None),
            ListOrMap::Map(map) => (map.payloads, map.on),
        };
        if payloads.len() < 2 {
            return Err(ModelError::SendAllFew);
        }
        Ok(SendAll {
            payloads: payloads.into_iter().map(|p| p.0).collect(),
            on,
        })
    }
}

impl TryFrom<RawSend> for Send {
    type Error = ModelError;
    fn try_from(raw: RawSend) -> Result<Self, ModelError> {
        let fields = data_fields!(raw);
        let data = fields.into_data()?.ok_or(ModelError::SendNone)?;
        let faults = SendFaults {
            chunks: raw.chunks,
            pause: raw.pause,
            drop: raw.drop.unwrap_or(false),
            duplicate: raw.duplicate,
            delay: raw.delay,
            truncate: raw.truncate,
            from_other_port: raw.from_other_port.unwrap_or(false),
        };
        faults.check()?;
        Ok(Send {
            data,
            on: raw.on,
            faults,
        })
    }
}

/// `expect_exit`: the status the program must end with (default 0).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectExit {
    #[serde(default)]
    pub code: Option<i32>,
    #[serde(default)]
    pub within: Option<Dur>,
}

/// Deserializes a step value that may be a plain string (`send: "hi"`) or a map.
fn string_or_map<'de, R, T, A>(map: &mut A, from_str: fn(String) -> R) -> Result<T, A::Error>
where
    R: Deserialize<'de> + TryInto<T, Error = ModelError>,
    A: MapAccess<'de>,
{
    let raw: StringOr<R> = map.next_value()?;
    let raw = match raw {
        StringOr::Str(s) => from_str(s),
        StringOr::Map(r) => r,
    };
    raw.try_into().map_err(de::Error::custom)
}

/// A value written either as a plain string or as a map; kept private to this module.
enum StringOr<R> {
    Str(String),
    Map(R),
}

impl<'de, R: Deserialize<'de>> Deserialize<'de> for StringOr<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<R>(std::marker::PhantomData<R>);
        impl<'de, R: Deserialize<'de>> Visitor<'de> for V<R> {
            type Value = StringOr<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOr::Str(v.to_string()))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                R::deserialize(de::value::MapAccessDeserializer::new(map)).map(StringOr::Map)
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

fn text_send(text: String) -> RawSend {
    RawSend {
        text: Some(text),
        ..RawSend::default()
    }
}

fn text_expect(text: String) -> RawExpect {
    if text == "same_as_reference" {
        return RawExpect::same_as_reference();
    }
    RawExpect::text(text)
}

fn text_output(text: String) -> RawOutput {
    RawOutput::text(text)
}

/// `expect_silence: 200ms` or `expect_silence: {for: 200ms, on: b}`.
enum RawSilence {
    Short(Dur),
    Long(Silence),
}

impl<'de> Deserialize<'de> for RawSilence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSilence;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `200ms`, or a map with `for` and `on`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSilence, E> {
                v.parse().map(RawSilence::Short).map_err(E::custom)
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawSilence, M::Error> {
                Silence::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawSilence::Long)
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = Step;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a step such as `connect`, `send: ...` or `expect: ...`")
            }

            // A bare keyword is a step with all options at their defaults.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Step, E> {
                Ok(match v {
                    "connect" => Step::Connect(Open::default()),
                    "accept" => Step::Accept(Open::default()),
                    "expect_eof" => Step::ExpectEof(Wait::default()),
                    "expect_reset" => Step::ExpectReset(Wait::default()),
                    "close" => Step::Close(Close::default()),
                    "shutdown_write" => Step::ShutdownWrite(On::default()),
                    "expect_exit" => Step::ExpectExit(ExpectExit::default()),
                    other if STEP_NAMES.contains(&other) => {
                        return Err(E::custom(format!(
                            "`{other}` needs a value, e.g. `{other}: ...`"
                        )));
                    }
                    other => return Err(E::unknown_variant(other, STEP_NAMES)),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("a step needs a keyword such as `send`"))?;
                let step = match key.as_str() {
                    "connect" => {
                        Step::Connect(map.next_value::<Option<Open>>()?.unwrap_or_default())
                    }
                    "accept" => Step::Accept(map.next_value::<Option<Open>>()?.unwrap_or_default()),
                    "send" => Step::Send(string_or_map(&mut map, text_send)?),
                    "send_all" | "coalesce" => Step::SendAll(
                        map.next_value::<ListOrMap>()?
                            .try_into()
                            .map_err(de::Error::custom)?,
                    ),
                    "expect" => Step::Expect(string_or_map(&mut map, text_expect)?),
                    "expect_eof" => {
                        Step::ExpectEof(map.next_value::<Option<Wait>>()?.unwrap_or_default())
                    }
                    "expect_reset" => {
                        Step::ExpectReset(map.next_value::<Option<Wait>>()?.unwrap_or_default())
                    }
                    "expect_silence" => match map.next_value::<RawSilence>()? {
                        RawSilence::Short(duration) => {
                            Step::ExpectSilence(Silence { duration, on: None })
                        }
                        RawSilence::Long(silence) => Step::ExpectSilence(silence),
                    },
                    "expect_one_of" => Step::ExpectOneOf(map.next_value()?),
                    "close" => Step::Close(map.next_value::<Option<Close>>()?.unwrap_or_default()),
                    "shutdown_write" => {
                        Step::ShutdownWrite(map.next_value::<Option<On>>()?.unwrap_or_default())
                    }
                    "pause" => Step::Pause(map.next_value()?),
                    "expect_exit" => Step::ExpectExit(
                        map.next_value::<Option<ExpectExit>>()?.unwrap_or_default(),
                    ),
                    "expect_stdout" => Step::ExpectStdout(string_or_map(&mut map, text_output)?),
                    "expect_stderr" => Step::ExpectStderr(string_or_map(&mut map, text_output)?),
                    other => return Err(de::Error::unknown_variant(other, STEP_NAMES)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a step has one keyword, but this one also has `{extra}`: \
                         indent options under the keyword, or start a new step with `- `"
                    )));
                }
                Ok(step)
            }
        }
        deserializer.deserialize_any(StepVisitor)
    }
}
