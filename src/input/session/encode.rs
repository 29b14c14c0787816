//! Sessions as text: the `--session` form of replay lines (`SET(key=hex:61 value=hex:)
//! GET(key=hex:61)`), the fixed session of a spec's `play:`, and short descriptions of values
//! for transcripts.
//!
//! In: a session scenario and text (or its `play:` list). Out: the [`Call`]s they name, or a
//! message saying what is wrong. Values are written as `--with` writes them.

use super::{Call, SessionCase};
use crate::input::generate;
use crate::spec::data::decode_value;
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

/// The commands `--session` names, each value decoded and checked against its generator.
pub fn decode(scenario: &Scenario, text: &str) -> Result<Vec<Call>, String> {
    let mut calls = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or_else(|| format!("`{rest}`: write each command as NAME(VALUE=... ...)"))?;
        let close = rest[open..].find(')').map(|c| open + c).ok_or_else(|| {
            format!(
                "`{rest}`: the `(` after `{}` is never closed",
                &rest[..open]
            )
        })?;
        let name = rest[..open].trim();
        let Some(index) = scenario
            .commands
            .iter()
            .position(|c| c.value.name.value == name)
        else {
            let known: Vec<&str> = scenario
                .commands
                .iter()
                .map(|c| c.value.name.value.as_str())
                .collect();
            return Err(format!(
                "no command is named `{name}` in scenario `{}` (its commands: {})",
                scenario.name.value,
                known.join(", ")
            ));
        };
        let command = &scenario.commands[index].value;
        let mut env = Env::new();
        for pair in rest[open + 1..close].split_whitespace() {
            let (value_name, value_text) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` in `{name}`: write VALUE=ENCODED"))?;
            let generator = command
                .generate
                .get(value_name)
                .ok_or_else(|| format!("command `{name}` generates no `{value_name}`"))?;
            let value = decode_for(&generator.value, value_text)
                .map_err(|e| format!("`{value_name}` of `{name}`: {e}"))?;
            env.insert(value_name.to_string(), value);
        }
        if let Some(missing) = command.generate.keys().find(|k| !env.contains_key(*k)) {
            return Err(format!("`{name}` needs a value for `{missing}`"));
        }
        calls.push(Call {
            command: index,
            env,
        });
        rest = rest[close + 1..].trim_start();
    }
    if calls.is_empty() {
        return Err("the session names no command".into());
    }
    Ok(calls)
}

fn decode_for(generator: &Generator, text: &str) -> Result<Value, String> {
    let (base, width) = match generator {
        Generator::Split { data, .. } => (Some(data.as_slice()), None),
        Generator::Number { width, .. } | Generator::Signed { width, .. } => (None, Some(*width)),
        _ => (None, None),
    };
    let value = decode_value(text, base, width)?;
    if !generator.admits(&value) {
        return Err(format!(
            "`{text}` is not a value its generator makes (check its length, characters or range)"
        ));
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
        let err = decode(scenario, "GET(key=hex:61)").unwrap_err();
        assert!(
            err.contains("no command is named `GET`") && err.contains("PING, SET"),
            "{err}"
        );
        let err = decode(scenario, "SET(key=hex:41 num=number:1)").unwrap_err();
        assert!(err.contains("`key` of `SET`"), "{err}");
        let err = decode(scenario, "SET(key=hex:61)").unwrap_err();
        assert!(err.contains("needs a value for `num`"), "{err}");
        assert!(decode(scenario, "SET(key=hex:61").is_err());
    }
}
