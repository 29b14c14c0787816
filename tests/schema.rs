//! The JSON Schema of the spec format: `conform schema` matches the committed
//! `specs/schema.json`, and the schema and the loader agree on shipped and broken specs.

mod common;

use common::{conform, root, stdout};
use serde_json::Value;

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("specs/schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("YAML the loader reads is plain data")
}

/// Every spec under `specs/`, in subdirectories too (`specs/rfc`, `specs/examples`).
fn shipped_specs() -> Vec<std::path::PathBuf> {
    let mut specs = Vec::new();
    let mut dirs = vec![root().join("specs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                specs.push(path);
            }
        }
    }
    specs.sort();
    assert!(specs.len() >= 9, "{specs:?}");
    specs
}

#[test]
fn committed_schema_is_what_conform_schema_prints() {
    let output = conform().arg("schema").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("specs/schema.json")).unwrap();
    assert!(
        stdout(&output) == committed,
        "specs/schema.json is out of date with the spec types; regenerate it with\n\n    \
         cargo run -- schema > specs/schema.json\n"
    );
}

#[test]
fn every_shipped_spec_names_the_schema_and_validates_against_it() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    for path in shipped_specs() {
        let text = std::fs::read_to_string(&path).unwrap();
        // The relative path from the spec's folder to specs/schema.json.
        let depth = path
            .strip_prefix(root().join("specs"))
            .map_or(0, |p| p.components().count() - 1);
        let relative = if depth == 0 {
            "./schema.json".to_string()
        } else {
            format!("{}schema.json", "../".repeat(depth))
        };
        assert!(
            text.starts_with(&format!("# yaml-language-server: $schema={relative}\n")),
            "{} should start with the yaml-language-server schema line ($schema={relative})",
            path.display()
        );
        conform::spec::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let errors: Vec<String> = validator
            .iter_errors(&yaml_to_json(&text))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

const HEAD: &str = "scenarios:\n  - name: x\n    role: server\n    transport: tcp\n";

#[rstest::rstest]
#[case::unknown_scenario_key(format!("{HEAD}    stpes: [connect]\n    steps: [connect]\n"))]
#[case::unknown_top_level_key(format!("version: 1\nscenaros: []\n{HEAD}    steps: [connect]\n"))]
#[case::bad_bare_step(format!("{HEAD}    steps: [connct]\n"))]
#[case::bad_step_keyword(format!("{HEAD}    steps:\n      - sned: hi\n"))]
#[case::two_keywords_in_one_step(format!("{HEAD}    steps:\n      - send: hi\n        expect: ho\n"))]
#[case::unknown_option(format!("{HEAD}    steps:\n      - expect: {{line: hi, whithin: 2s}}\n"))]
#[case::unitless_duration(format!("{HEAD}    timeout: 5\n    steps: [connect]\n"))]
#[case::bad_role(format!("scenarios:\n  - name: x\n    role: peer\n    transport: tcp\n    steps: [connect]\n"))]
#[case::unknown_data_key(format!("{HEAD}    steps:\n      - send: {{reverse: {{hxe: \"01\"}}}}\n"))]
fn invalid_specs_are_refused_by_loader_and_schema(#[case] text: String) {
    assert!(
        conform::spec::load_str("bad.yaml", &text).is_err(),
        "the loader accepted:\n{text}"
    );
    let validator = jsonschema::validator_for(&schema()).unwrap();
    assert!(
        !validator.is_valid(&yaml_to_json(&text)),
        "the schema accepted:\n{text}"
    );
}

#[test]
fn a_minimal_valid_spec_is_accepted_by_both() {
    let text = format!(
        "{HEAD}    timeout: 1.5s\n    steps:\n      - connect\n      - send: {{hex: \"01\"}}\n      \
         - expect: {{line: hi, within: 200ms}}\n      - expect_silence: 100ms\n      - close\n"
    );
    conform::spec::load_str("ok.yaml", &text).unwrap();
    let validator = jsonschema::validator_for(&schema()).unwrap();
    assert!(validator.is_valid(&yaml_to_json(&text)));
}
