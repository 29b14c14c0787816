//! The JSON Schema of the spec format, for editors and CI (`conform schema`).
//!
//! In: the spec types. Most derive `JsonSchema`; the ones whose `Deserialize` is written by
//! hand (steps, generators, fixed values, data, durations) describe here, by hand, exactly
//! what their deserializer accepts. Out: the schema as pretty JSON text.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use super::super::data::{DataFields, TextOrData, VarOrData};
use super::super::duration::Dur;
use super::{
    Close, ExpectExit, File, Fixed, Generator, ListOrMap, On, Open, RawExpect, RawFixed,
    RawGenerator, RawOutput, RawSend, Silence, Step, Wait,
};

/// The schema of a spec file, as the pretty JSON that `conform schema` prints.
pub fn json() -> String {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<File>();
    schema.insert("title".into(), "conform spec".into());
    schema.insert(
        "description".into(),
        "A conform spec file: scenarios that check TCP/UDP socket programs.".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is plain JSON");
    text.push('\n');
    text
}

/// Steps written as a bare keyword: all options at their defaults.
const BARE: &[&str] = &[
    "connect",
    "accept",
    "expect_eof",
    "expect_reset",
    "close",
    "shutdown_write",
    "expect_exit",
];

/// The schema of the value under each step keyword.
fn step_values(generator: &mut SchemaGenerator) -> Vec<(&'static str, Schema)> {
    let or_null = |s: Schema| json_schema!({"anyOf": [{"type": "null"}, s]});
    let open = or_null(generator.subschema_for::<Open>());
    let accept = open.clone();
    let wait = or_null(generator.subschema_for::<Wait>());
    let close = or_null(generator.subschema_for::<Close>());
    let shutdown = or_null(generator.subschema_for::<On>());
    let exit = or_null(generator.subschema_for::<ExpectExit>());
    let string_or = |s: Schema| json_schema!({"anyOf": [{"type": "string"}, s]});
    let send = string_or(generator.subschema_for::<RawSend>());
    let expect = string_or(generator.subschema_for::<RawExpect>());
    let output = string_or(generator.subschema_for::<RawOutput>());
    let send_all = generator.subschema_for::<ListOrMap>();
    let silence = json_schema!({"anyOf": [
        generator.subschema_for::<Dur>(),
        generator.subschema_for::<Silence>(),
    ]});
    vec![
        ("connect", open),
        ("accept", accept),
        ("send", send),
        ("send_all", send_all.clone()),
        ("coalesce", send_all),
        ("expect", expect),
        ("expect_eof", wait.clone()),
        ("expect_reset", wait),
        ("expect_silence", silence),
        (
            "expect_one_of",
            json_schema!({"type": "array", "items": generator.subschema_for::<Step>()}),
        ),
        ("close", close),
        ("shutdown_write", shutdown),
        ("pause", generator.subschema_for::<Dur>()),
        ("expect_exit", exit),
        ("expect_stdout", output.clone()),
        ("expect_stderr", output),
    ]
}

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let properties: Map<String, Value> = step_values(generator)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect();
        json_schema!({
            "description": "One step: a bare keyword (`connect`, `close`, ...) or a map with exactly one keyword.",
            "oneOf": [
                {"type": "string", "enum": BARE},
                {
                    "type": "object",
                    "properties": properties,
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": false,
                },
            ],
        })
    }
}

impl JsonSchema for ListOrMap {
    fn schema_name() -> Cow<'static, str> {
        "SendAll".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<TextOrData>();
        let map = generator.subschema_for::<super::RawSendAll>();
        json_schema!({
            "description": "Several payloads written at once: a list, or a map with `payloads` and `on`.",
            "anyOf": [{"type": "array", "items": item, "minItems": 2}, map],
        })
    }
}

/// The derived schema of `T` with exactly one of its keys required.
fn exactly_one_key<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = T::json_schema(generator);
    schema.insert("minProperties".into(), 1.into());
    schema.insert("maxProperties".into(), 1.into());
    schema
}

impl JsonSchema for Generator {
    fn schema_name() -> Cow<'static, str> {
        "Generator".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        exactly_one_key::<RawGenerator>(generator)
    }
}

impl JsonSchema for Fixed {
    fn schema_name() -> Cow<'static, str> {
        "Fixed".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = RawFixed::json_schema(generator);
        schema.insert("minProperties".into(), 1.into());
        schema
    }
}

/// A data map with exactly one way of giving the bytes, or a plain string.
fn string_or_data(generator: &mut SchemaGenerator, string_means: &str) -> Schema {
    let map = exactly_one_key::<DataFields>(generator);
    json_schema!({"anyOf": [{"type": "string", "description": string_means}, map]})
}

impl JsonSchema for VarOrData {
    fn schema_name() -> Cow<'static, str> {
        "VarOrData".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        string_or_data(generator, "the name of a generated value")
    }
}

impl JsonSchema for TextOrData {
    fn schema_name() -> Cow<'static, str> {
        "TextOrData".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        string_or_data(generator, "literal text")
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A positive duration of at most 1 hour: `200ms`, `2s`, `1.5s`, `1m`.",
            "type": "string",
            "pattern": "^[0-9.]+(ms|s|m|min)$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_keyword_has_a_schema() {
        let mut generator = SchemaGenerator::default();
        let described: Vec<&str> = step_values(&mut generator)
            .iter()
            .map(|(k, _)| *k)
            .collect();
        for name in super::super::STEP_NAMES {
            assert!(
                described.contains(name),
                "step `{name}` is missing from the JSON Schema (src/spec/model/schema.rs)"
            );
        }
        assert_eq!(described.len(), super::super::STEP_NAMES.len());
        for bare in BARE {
            assert!(described.contains(bare), "{bare}");
        }
    }

    #[test]
    fn schema_is_json_with_the_spec_title() {
        let value: Value = serde_json::from_str(&json()).unwrap();
        assert_eq!(value["title"], "conform spec");
        assert_eq!(value["additionalProperties"], false);
    }
}
