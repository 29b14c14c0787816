//! The wire log of a failing case as JSON: entries in order, each with the fields its kind has.
//!
//! In: a [`WireLog`]. Out: serializable shapes for the `failure.wire` field of an event.

use std::time::Duration;

use serde::Serialize;

use super::{EndingJson, hex, millis};
use crate::event::{Wire, WireLog};
use crate::spec::payload::escape;

/// The case's wire log: entries in order, with what was cut to bound memory.
#[derive(Serialize)]
pub(super) struct WireJson {
    entries: Vec<WireEntryJson>,
    bytes_cut: u64,
    entries_dropped: u64,
}

/// One entry; the fields that do not apply to its `kind` are left out.
#[derive(Serialize)]
struct WireEntryJson {
    at_ms: f64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waited_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ending: Option<EndingJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<&WireLog> for WireJson {
    fn from(log: &WireLog) -> Self {
        WireJson {
            entries: log.entries.iter().map(|e| entry(e.at, &e.what)).collect(),
            bytes_cut: log.bytes_cut,
            entries_dropped: log.entries_dropped,
        }
    }
}

fn entry(at: Duration, what: &Wire) -> WireEntryJson {
    let mut json = WireEntryJson {
        at_ms: millis(at),
        kind: "",
        transport: None,
        direction: None,
        local: None,
        peer: None,
        length: None,
        hex: None,
        text: None,
        waited_ms: None,
        ending: None,
        reason: None,
    };
    let mut ends = |e: &crate::event::Ends| {
        json.local = Some(e.local.to_string());
        json.peer = Some(e.peer.to_string());
    };
    let kind = match what {
        Wire::Connect { ends: e } => {
            ends(e);
            "connect"
        }
        Wire::Accept { ends: e } => {
            ends(e);
            "accept"
        }
        Wire::ConnectFailed { peer, reason } => {
            json.peer = Some(peer.to_string());
            json.reason = Some(reason.clone());
            "connect_failed"
        }
        Wire::Data {
            transport,
            direction,
            ends: e,
            bytes,
            length,
        } => {
            ends(e);
            json.transport = Some(transport.to_string());
            json.direction = Some(direction.word());
            json.length = Some(*length);
            json.hex = Some(hex(bytes));
            json.text = Some(escape(bytes));
            "data"
        }
        Wire::Fin { direction, ends: e } => {
            ends(e);
            json.direction = Some(direction.word());
            "fin"
        }
        Wire::Reset { direction, ends: e } => {
            ends(e);
            json.direction = Some(direction.word());
            "reset"
        }
        Wire::Silence { waited } => {
            json.waited_ms = Some(millis(*waited));
            "silence"
        }
        Wire::ProgramExit { ending } => {
            json.ending = Some(ending.into());
            "exit"
        }
    };
    json.kind = kind;
    json
}
