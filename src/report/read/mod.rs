//! Event files read back: the JSON Lines that `--format json` and `--report json=PATH` write
//! (schema `conform-events/2`, docs/events.md) turned into the [`Event`]s they were written
//! from, so any reporter can be fed them again (`conform report`).
//!
//! In: a file, or any reader. Out: its events, each with the line it came from; or the first
//! thing that makes it no conform event file, with its line and why: not JSON, another schema
//! version, a missing or malformed field (named by its path, e.g. `failure.step.line`).
//! Events of a kind this conform does not know are skipped, as the schema's versioning asks.

mod convert;
pub mod merge;
mod shapes;
mod shrinking;

use std::io::{BufRead, Read};
use std::path::Path;

use serde::de::DeserializeOwned;

use super::json::SCHEMA;
use crate::event::Event;
use crate::exit;

/// Longest line read: a case's wire log keeps at most 64 KiB of payload (written twice, as
/// hex and as text), so a real event line is far shorter; a longer one is not an event.
const LINE_LIMIT: u64 = 64 << 20;

/// Why an event file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read it: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {why}")]
    Invalid {
        path: String,
        line: usize,
        why: Invalid,
    },
    #[error(
        "{path}: empty: not a conform event file (no `run_started`; a run writes its first \
         event as it starts)"
    )]
    Empty { path: String },
}

impl ReadError {
    /// 3 when the file could not be read, 2 when what it holds is not an event stream.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReadError::Io { .. } => exit::SETUP,
            ReadError::Invalid { .. } | ReadError::Empty { .. } => exit::USAGE,
        }
    }
}

/// What is wrong with one line.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("not JSON ({0}): not a conform event file")]
    NotJson(String),
    #[error("a JSON {0}, not an object: not a conform event")]
    NotObject(&'static str),
    #[error("no `schema` field: not a conform event")]
    NoSchema,
    #[error(
        "schema `{found}`, but this conform reads `{expected}`: the file was written by \
         another version of conform"
    )]
    Schema {
        found: String,
        expected: &'static str,
    },
    #[error("no `event` field: a conform event names its kind")]
    NoEvent,
    /// `why` says which fields need it, when only some kinds of object do.
    #[error("missing field `{field}`{why}")]
    Missing { field: String, why: String },
    #[error("`{field}`: {why}")]
    Field { field: String, why: String },
    #[error("a line longer than {} MiB: not a conform event", LINE_LIMIT >> 20)]
    TooLong,
}

/// One event and the 1-based line it was read from.
#[derive(Debug, Clone)]
pub struct Located {
    pub line: usize,
    pub event: Event,
}

/// The events of one file, named as it was given.
#[derive(Debug, Clone)]
pub struct Stream {
    pub path: String,
    pub events: Vec<Located>,
}

/// Reads an event file.
pub fn read_file(path: &Path) -> Result<Stream, ReadError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        path: name.clone(),
        source,
    })?;
    read(&name, std::io::BufReader::new(file))
}

/// Reads an event stream from `reader`; `path` names it in errors.
pub fn read(path: &str, mut reader: impl BufRead) -> Result<Stream, ReadError> {
    let mut events = Vec::new();
    let mut buffer = Vec::new();
    let mut number = 0;
    let mut lines = 0;
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(LINE_LIMIT + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|source| ReadError::Io {
                path: path.to_owned(),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        let invalid = |why| ReadError::Invalid {
            path: path.to_owned(),
            line: number,
            why,
        };
        if buffer.len() as u64 > LINE_LIMIT {
            return Err(invalid(Invalid::TooLong));
        }
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        if let Some(event) = decode(&buffer).map_err(invalid)? {
            events.push(Located {
                line: number,
                event,
            });
        }
    }
    if lines == 0 {
        return Err(ReadError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(Stream {
        path: path.to_owned(),
        events,
    })
}

/// One line: its event, or `None` for an event kind this conform does not know.
pub fn decode(line: &[u8]) -> Result<Option<Event>, Invalid> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        // serde says "at line 1 column N": within one line, the column is what locates it.
        Invalid::NotJson(format!("{} at column {}", e_kind(&e), e.column()))
    })?;
    let serde_json::Value::Object(object) = &value else {
        return Err(Invalid::NotObject(json_type(&value)));
    };
    match object.get("schema") {
        None => return Err(Invalid::NoSchema),
        Some(serde_json::Value::String(found)) if found == SCHEMA => {}
        Some(found) => {
            return Err(Invalid::Schema {
                found: match found {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                },
                expected: SCHEMA,
            });
        }
    }
    let kind = match object.get("event") {
        Some(serde_json::Value::String(kind)) => kind.clone(),
        Some(other) => {
            return Err(Invalid::Field {
                field: "event".into(),
                why: format!("{other} is not the name of an event"),
            });
        }
        None => return Err(Invalid::NoEvent),
    };
    Ok(Some(match kind.as_str() {
        "run_started" => convert::run_started(shape(value)?),
        "scenario_started" => convert::scenario_started(shape(value)?),
        "step_observed" => convert::step_observed(shape(value)?)?,
        "scenario_finished" => convert::scenario_finished(shape(value)?)?,
        "run_finished" => convert::run_finished(shape(value)?)?,
        _ => return Ok(None),
    }))
}

/// The line as one of the shapes, an error naming the field's path when it is not.
fn shape<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Invalid> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let at = |name: &str| match path.as_str() {
            "." | "" => name.to_owned(),
            parent => format!("{parent}.{name}"),
        };
        match message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            Some(name) => Invalid::Missing {
                field: at(name),
                why: String::new(),
            },
            None => Invalid::Field {
                field: path,
                why: message,
            },
        }
    })
}

/// serde_json's message without its position, which [`decode`] words for one line.
fn e_kind(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
