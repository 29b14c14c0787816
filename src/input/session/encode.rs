//! Sessions as text: the `--session` form of replay lines (`SET(key=hex:61 value=hex:)
//! GET(key=hex:61)`), the fixed session of a spec's `play:`, and short descriptions of values
//! for transcripts.
//!
//! In: a session scenario and text (or its `play:` list). Out: the [`Call`]s they name, or a
//! [`SessionError`] saying what is wrong. Values are written as `--with` writes them.

use super::{Call, SessionCase};
use crate::input::generate;
use crate::spec::data::{DataError, decode_value};
use crate::spec::payload::escape;
use crate::spec::{Env, Generator, Scenario, Value};

/// The `--session` text of a session's commands.
pub fn encode(scenario: &Scenario, case: &SessionCase) -> String {
    let calls: Vec<String> = case
        .calls
        .iter()
        .map(|call| {
            let values: Vec<String> = call
                .env
                .iter()
                .map(|(name, value)| format!("{name}={}", value.encode()))
                .collect();
            format!(
                "{}({})",
                scenario.commands[call.command].value.name.value,
                values.join(" ")
            )
        })
        .collect();
    calls.join(" ")
}

/// Why a `--session` text names no session of the scenario. `rest` is the text from the
/// call that is wrong to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("`{rest}`: write each command as NAME(VALUE=... ...)")]
    NotACall { rest: String },
    #[error("`{rest}`: the `(` after `{before}` is never closed")]
    Unclosed { rest: String, before: String },
    #[error(
        "no command is named `{name}` in scenario `{scenario}` (its commands: {})",
        known.join(", ")
    )]
    UnknownCommand {
        name: String,
        scenario: String,
        known: Vec<String>,
    },
    #[error("`{pair}` in `{command}`: write VALUE=ENCODED")]
    NotAPair { pair: String, command: String },
    #[error("command `{command}` generates no `{value}`")]
    UnknownValue { command: String, value: String },
    #[error("`{value}` of `{command}`: {source}")]
    Value {
        value: String,
        command: String,
        /// Boxed: the run's errors stay small.
        #[source]
        source: Box<DataError>,
    },
    #[error("`{command}` needs a value for `{value}`")]
    Missing { command: String, value: String },
    #[error("the session names no command")]
    Empty,
}

impl SessionError {
    /// `--session` is the user's text.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// The commands `--session` names, each value decoded and checked against its generator.
pub fn decode(scenario: &Scenario, text: &str) -> Result<Vec<Call>, SessionError> {
    let mut calls = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let open = rest.find('(').ok_or_else(|| SessionError::NotACall {
            rest: rest.to_string(),
        })?;
        let close =
            rest[open..]
                .find(')')
                .map(|c| open + c)
                .ok_or_else(|| SessionError::Unclosed {
                    rest: rest.to_string(),
                    before: rest[..open].to_string(),
                })?;
        let name = rest[..open].trim();
        let Some(index) = scenario
            .commands
            .iter()
            .position(|c| c.value.name.value == name)
        else {
            return Err(SessionError::UnknownCommand {
                name: name.to_string(),
                scenario: scenario.name.value.clone(),
                known: scenario
                    .commands
                    .iter()
                    .map(|c| c.value.name.value.clone())
                    .collect(),
            });
        };
        let command = &scenario.commands[index].value;
        let mut env = Env::new();
        for pair in rest[open + 1..close].split_whitespace() {
            let (value_name, value_text) =
                pair.split_once('=').ok_or_else(|| SessionError::NotAPair {
                    pair: pair.to_string(),
                    command: name.to_string(),
                })?;
            let generator =
                command
                    .generate
                    .get(value_name)
                    .ok_or_else(|| SessionError::UnknownValue {
                        command: name.to_string(),
                        value: value_name.to_string(),
                    })?;
            let value =
                decode_for(&generator.value, value_text).map_err(|source| SessionError::Value {
                    value: value_name.to_string(),
                    command: name.to_string(),
                    source: Box::new(source),
                })?;
            env.insert(value_name.to_string(), value);
        }
        if let Some(missing) = command.generate.keys().find(|k| !env.contains_key(*k)) {
            return Err(SessionError::Missing {
                command: name.to_string(),
                value: missing.clone(),
            });
        }
        calls.push(Call {
            command: index,
            env,
        });
        rest = rest[close + 1..].trim_start();
    }
    if calls.is_empty() {
        return Err(SessionError::Empty);
    }
    Ok(calls)
}

fn decode_for(generator: &Generator, text: &str) -> Result<Value, DataError> {
    let (base, width) = match generator {
        Generator::Split { data, .. } => (Some(data.as_slice()), None),
        Generator::Number { width, .. } | Generator::Signed { width, .. } => (None, Some(*width)),
        _ => (None, None),
    };
    let value = decode_value(text, base, width)?;
    if !generator.admits(&value) {
        return Err(DataError::NotMade {
            text: text.to_string(),
        });
    }
    Ok(value)
}

/// The fixed session of the scenario's `play:`, if it has one. The loader has checked that
/// every entry fits its command.
pub fn played(scenario: &Scenario) -> Option<Vec<Call>> {
    let play = scenario.play.as_ref()?;
    let calls = play
        .iter()
        .filter_map(|entry| {
            let index = scenario
                .commands
                .iter()
                .position(|c| c.value.name.value == entry.value.name)?;
            let command = &scenario.commands[index].value;
            let env = command
                .generate
                .iter()
                .filter_map(|(name, g)| {
                    let fixed = entry.value.values.get(name)?;
                    let value = generate::fixed_value(&g.value, &fixed.value).ok()?;
                    Some((name.clone(), value))
                })
                .collect();
            Some(Call {
                command: index,
                env,
            })
        })
        .collect();
    Some(calls)
}

/// Bytes of a value shown in a transcript before it is cut.
const SHOWN: usize = 48;

/// A value in a few characters: text in quotes, a number as itself.
pub fn compact(value: &Value) -> String {
    match value {
        Value::Bytes(b) if b.len() > SHOWN => {
            format!("\"{}\"… ({} bytes)", escape(&b[..SHOWN]), b.len())
        }
        Value::Bytes(b) => format!("\"{}\"", escape(b)),
        Value::Number { value, width } => width.int(*value).to_string(),
        Value::Split { .. } | Value::Model(_) => value.describe(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "scenarios:
  - name: kv
    role: server
    transport: tcp
    steps:
      - connect
    commands:
      - name: PING
        steps:
          - send: \"PING\\n\"
      - name: SET
        generate:
          key: {text: {chars: 'a-z', min_length: 1, max_length: 6}}
          num: {number: {size: 4, max: 1000}}
        steps:
          - send: {concat: [\"SET \", {var: key}, \" \", {decimal: num}, \"\\n\"]}
";

    #[test]
    fn sessions_round_trip_through_their_text() {
        let spec = crate::spec::load_str("kv.yaml", SPEC).unwrap();
        let scenario = &spec.file.scenarios[0].value;
        let text = "SET(key=hex:6162 num=number:7) PING()";
        let calls = decode(scenario, text).unwrap();
        assert_eq!(calls.len(), 2);
        let case = SessionCase {
            prelude: Env::new(),
            calls,
        };
        assert_eq!(
            encode(scenario, &case),
            "SET(key=hex:6162 num=number:7) PING()"
        );
    }

    #[test]
    fn bad_sessions_say_what_is_wrong() {
        let spec = crate::spec::load_str("kv.yaml", SPEC).unwrap();
        let scenario = &spec.file.scenarios[0].value;
        let err = decode(scenario, "GET(key=hex:61)").unwrap_err().to_string();
        assert!(
            err.contains("no command is named `GET`") && err.contains("PING, SET"),
            "{err}"
        );
        let err = decode(scenario, "SET(key=hex:41 num=number:1)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`key` of `SET`: `hex:41` is not a value its generator makes (check its length, \
             characters or range)"
        );
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        assert!(std::error::Error::source(&err).is_some());
        let err = decode(scenario, "SET(key=hex:61)").unwrap_err().to_string();
        assert!(err.contains("needs a value for `num`"), "{err}");
        assert_eq!(
            decode(scenario, "SET(key=hex:61").unwrap_err(),
            SessionError::Unclosed {
                rest: "SET(key=hex:61".into(),
                before: "SET".into()
            }
        );
    }
}
