//! Baselines: a run's verdict per scenario, saved to a file, so a CI gate can accept the
//! failures it already knows about and still fail on new ones.
//!
//! In: finished scenarios (through [`Recorder`], a reporter) and, with `--baseline`, a saved
//! file. Out: the file written by `--write-baseline`, and a [`Comparison`] that decides the
//! exit code; a [`BaselineError`] for a file that cannot be read, used or written. The runner
//! knows nothing of baselines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::event::{Event, Verdict};
use crate::report::Reporter;

/// The format tag of a baseline file.
pub const SCHEMA: &str = "conform-baseline/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recorded {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Recorded {
    pub fn of(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::Pass => Recorded::Pass,
            Verdict::Fail(_) => Recorded::Fail,
            Verdict::Warn(_) => Recorded::Warn,
            Verdict::Skip(_) => Recorded::Skip,
        }
    }
}

/// A baseline file that cannot be read, is not a baseline, or cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("--baseline {}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--baseline {}: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
    #[error("--write-baseline {}: cannot write it: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BaselineError {
    /// A `--baseline` that cannot be used is the command line's fault (the user named the
    /// file); a baseline conform cannot write is conform failing at its job.
    pub fn exit_code(&self) -> i32 {
        match self {
            BaselineError::Read { .. } | BaselineError::Invalid { .. } => crate::exit::USAGE,
            BaselineError::Write { .. } => crate::exit::SETUP,
        }
    }
}

/// Why a text is not a baseline.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a conform baseline (JSON written by --write-baseline): {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("unknown baseline format `{found}`: this conform reads `{SCHEMA}`")]
    Schema { found: String },
}

/// One scenario's verdict in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub file: String,
    pub name: String,
    pub verdict: Recorded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema: String,
    pub scenarios: Vec<Entry>,
}

impl Baseline {
    pub fn new(mut scenarios: Vec<Entry>) -> Self {
        // Sorted, so a baseline file diffs cleanly whatever order `--jobs` finished in.
        scenarios.sort_by(|a, b| (&a.file, &a.name).cmp(&(&b.file, &b.name)));
        Baseline {
            schema: SCHEMA.to_string(),
            scenarios,
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline is plain JSON");
        text.push('\n');
        text
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let baseline: Baseline = serde_json::from_str(text).map_err(ParseError::NotJson)?;
        if baseline.schema != SCHEMA {
            return Err(ParseError::Schema {
                found: baseline.schema,
            });
        }
        Ok(baseline)
    }

    /// Reads the file at `path`; the error says which file and why.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|source| BaselineError::Invalid {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        std::fs::write(path, self.to_json()).map_err(|source| BaselineError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Compares a run with this baseline.
    pub fn compare(&self, run: &[Entry]) -> Comparison {
        let before: BTreeMap<(&str, &str), Recorded> = self
            .scenarios
            .iter()
            .map(|e| ((e.file.as_str(), e.name.as_str()), e.verdict))
            .collect();
        let mut comparison = Comparison::default();
        for entry in run {
            let was = before
                .get(&(entry.file.as_str(), entry.name.as_str()))
                .copied();
            let failed_before = was == Some(Recorded::Fail);
            match entry.verdict {
                Recorded::Fail if failed_before => comparison.known_failures.push(entry.clone()),
                Recorded::Fail => comparison.new_failures.push(entry.clone()),
                Recorded::Pass if failed_before => comparison.now_passing.push(entry.clone()),
                _ => {}
            }
        }
        comparison
    }
}

/// How a run differs from its baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Failed in the baseline and fail now: they do not fail the run.
    pub known_failures: Vec<Entry>,
    /// Fail now and did not fail in the baseline (or were not in it): they fail the run.
    pub new_failures: Vec<Entry>,
    /// Failed in the baseline and pass now: the baseline can be tightened.
    pub now_passing: Vec<Entry>,
}

impl Comparison {
    /// The lines printed after the run, one paragraph per kind.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut section = |title: &str, entries: &[Entry]| {
            if entries.is_empty() {
                return;
            }
            out.push_str(&format!("baseline: {title} ({}):\n", entries.len()));
            for e in entries {
                out.push_str(&format!("  {} :: {}\n", e.file, e.name));
            }
        };
        section("known failures, not failing the run", &self.known_failures);
        section("new failures", &self.new_failures);
        section(
            "now passing: tighten the baseline with --write-baseline",
            &self.now_passing,
        );
        out
    }
}

/// A reporter that keeps each finished scenario's verdict; cloning shares the record.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Entry>>>);

impl Recorder {
    pub fn entries(&self) -> Vec<Entry> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Reporter for Recorder {
    fn report(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::ScenarioFinished { id, verdict, .. } => {
                if let Ok(mut entries) = self.0.lock() {
                    entries.push(Entry {
                        file: id.file.clone(),
                        name: id.name.clone(),
                        verdict: Recorded::of(verdict),
                    });
                }
            }
            Event::RunStarted { .. }
            | Event::ScenarioStarted { .. }
            | Event::StepObserved { .. }
            | Event::Progress { .. }
            | Event::RunFinished { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn entry(name: &str, verdict: Recorded) -> Entry {
        Entry {
            file: "specs/udp.yaml".into(),
            name: name.into(),
            verdict,
        }
    }

    #[test]
    fn baseline_round_trips_through_json() {
        let baseline = Baseline::new(vec![entry("b", Recorded::Fail), entry("a", Recorded::Pass)]);
        let text = baseline.to_json();
        assert!(
            text.contains("\"schema\": \"conform-baseline/1\""),
            "{text}"
        );
        assert!(text.find("\"a\"") < text.find("\"b\""), "sorted: {text}");
        assert_eq!(Baseline::parse(&text).unwrap(), baseline);
    }

    #[test]
    fn garbled_or_foreign_files_are_refused() {
        let garbled = Baseline::parse("{").unwrap_err();
        assert!(
            garbled.to_string().starts_with(
                "not a conform baseline (JSON written by --write-baseline): EOF while parsing"
            ),
            "{garbled}"
        );
        assert!(
            garbled
                .source()
                .is_some_and(|s| s.is::<serde_json::Error>())
        );
        let foreign = r#"{"schema":"other/2","scenarios":[]}"#;
        assert_eq!(
            Baseline::parse(foreign).unwrap_err().to_string(),
            "unknown baseline format `other/2`: this conform reads `conform-baseline/1`"
        );
        let bad_verdict = r#"{"schema":"conform-baseline/1","scenarios":[{"file":"f","name":"n","verdict":"meh"}]}"#;
        assert!(Baseline::parse(bad_verdict).is_err());
    }

    #[test]
    fn an_unreadable_baseline_is_a_usage_error_and_an_unwritable_one_a_setup_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let err = Baseline::load(&missing).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        assert!(
            err.to_string().starts_with(&format!(
                "--baseline {}: cannot read it: ",
                missing.display()
            )),
            "{err}"
        );
        assert!(err.source().is_some_and(|s| s.is::<std::io::Error>()));

        let garbled = dir.path().join("garbled.json");
        std::fs::write(&garbled, "{").unwrap();
        let err = Baseline::load(&garbled).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        assert!(err.source().is_some_and(|s| s.is::<ParseError>()));

        let err = Baseline::new(Vec::new())
            .write(&dir.path().join("no/such/dir/b.json"))
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::SETUP);
        assert!(err.to_string().starts_with("--write-baseline "), "{err}");
    }

    #[test]
    fn known_new_and_fixed_failures_are_told_apart() {
        let baseline = Baseline::new(vec![
            entry("still broken", Recorded::Fail),
            entry("fixed", Recorded::Fail),
            entry("regressed", Recorded::Pass),
        ]);
        let now = [
            entry("still broken", Recorded::Fail),
            entry("fixed", Recorded::Pass),
            entry("regressed", Recorded::Fail),
            entry("brand new", Recorded::Fail),
            entry("fine", Recorded::Pass),
        ];
        let c = baseline.compare(&now);
        let names = |v: &[Entry]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&c.known_failures), ["still broken"]);
        assert_eq!(names(&c.new_failures), ["regressed", "brand new"]);
        assert_eq!(names(&c.now_passing), ["fixed"]);
        assert!(
            c.describe()
                .contains("now passing: tighten the baseline with --write-baseline")
        );
    }
}
