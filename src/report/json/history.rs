//! The history of several clients at once as JSON, for `failure.history`: each client's
//! commands with their times and bytes, the longest order the model explains and the commands
//! that could not come next.
//!
//! In: a [`HistoryReport`]. Out: serializable shapes. Clients and commands are 1-based, as
//! the human report numbers them.

use serde::Serialize;

use super::{KeptJson, Value, hex, millis, values};
use crate::event::HistoryReport;
use crate::spec::payload::escape;

#[derive(Serialize)]
pub(super) struct HistoryJson<'a> {
    /// One entry per client: its commands in the order it played them.
    clients: Vec<Vec<TimedJson<'a>>>,
    /// The longest order of commands whose replies the model explains.
    explained: Vec<AtJson>,
    /// The commands that could have come next by real time, none of whose replies the
    /// model explains there, with the replies it expected.
    stuck: Vec<StuckJson>,
    /// Runs of each candidate while shrinking.
    replays: u32,
}

#[derive(Serialize)]
struct TimedJson<'a> {
    index: usize,
    name: &'a str,
    values: Vec<Value<'a>>,
    sent: KeptJson,
    answered: KeptJson,
    /// From the case's first command to before this one's first byte; absent when it was
    /// not played.
    began_ms: Option<f64>,
    /// To its last reply read; absent when it got none.
    ended_ms: Option<f64>,
}

#[derive(Serialize)]
struct AtJson {
    client: usize,
    command: usize,
}

#[derive(Serialize)]
struct StuckJson {
    client: usize,
    command: usize,
    expected: Vec<BytesJson>,
}

#[derive(Serialize)]
struct BytesJson {
    hex: String,
    text: String,
}

impl<'a> From<&'a HistoryReport> for HistoryJson<'a> {
    fn from(h: &'a HistoryReport) -> Self {
        HistoryJson {
            clients: h
                .clients
                .iter()
                .map(|commands| {
                    commands
                        .iter()
                        .enumerate()
                        .map(|(i, c)| TimedJson {
                            index: i + 1,
                            name: &c.name,
                            values: values(&c.values),
                            sent: KeptJson::from(&c.sent),
                            answered: KeptJson::from(&c.answered),
                            began_ms: c.began.map(millis),
                            ended_ms: c.ended.map(millis),
                        })
                        .collect()
                })
                .collect(),
            explained: h
                .explained
                .iter()
                .map(|(client, command)| AtJson {
                    client: client + 1,
                    command: command + 1,
                })
                .collect(),
            stuck: h
                .stuck
                .iter()
                .map(|s| StuckJson {
                    client: s.client + 1,
                    command: s.command + 1,
                    expected: s
                        .expected
                        .iter()
                        .map(|e| BytesJson {
                            hex: hex(e),
                            text: escape(e),
                        })
                        .collect(),
                })
                .collect(),
            replays: h.replays,
        }
    }
}
