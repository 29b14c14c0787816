//! JUnit XML for CI dashboards (GitLab, Jenkins, GitHub test-report actions), built with
//! `quick-junit`, the crate cargo-nextest writes its own JUnit reports with.
//!
//! In: [`Event`]s. Out: one XML document, written once when `RunFinished` arrives: a
//! `<testsuite>` per spec file (per implementation and spec file in `conform matrix`, named
//! `implementation: file`), a `<testcase>` per scenario (classname = the suite's name).
//! Nothing is written before then, because the root element carries the totals.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::Reporter;
use super::human::failure_lines;
use crate::event::{Event, Failure, ScenarioId, TargetKind, Verdict};
use crate::spec::Lifecycle;

/// The `name` of the root `<testsuites>` element.
const REPORT_NAME: &str = "conform";

pub struct Junit<W: Write + Send> {
    out: W,
    /// Spec files in the order they were first seen, each with its cases so far.
    suites: Vec<Suite>,
}

struct Suite {
    /// Kept apart from `TestSuite::name` because quick-junit strips control characters from
    /// names, and lookups must use the file name exactly as events spell it.
    file: String,
    cases: Vec<TestCase>,
    /// Sum of the scenarios' durations: scenarios of one file may run interleaved with
    /// others (`--jobs`), so a wall-clock span per file would mean nothing.
    time: Duration,
}

impl<W: Write + Send> Junit<W> {
    pub fn new(out: W) -> Self {
        Junit {
            out,
            suites: Vec::new(),
        }
    }

    fn suite(&mut self, file: &str) -> &mut Suite {
        let index = match self.suites.iter().position(|s| s.file == file) {
            Some(index) => index,
            None => {
                self.suites.push(Suite {
                    file: file.to_owned(),
                    cases: Vec::new(),
                    time: Duration::ZERO,
                });
                self.suites.len() - 1
            }
        };
        &mut self.suites[index]
    }

    fn write_report(&mut self, duration: Duration) -> io::Result<()> {
        let mut report = Report::new(REPORT_NAME);
        report.set_time(duration);
        for suite in std::mem::take(&mut self.suites) {
            let mut test_suite = TestSuite::new(suite.file);
            test_suite.set_time(suite.time);
            test_suite.add_test_cases(suite.cases);
            report.add_test_suite(test_suite);
        }
        // Serialized into memory first so a serializer error never leaves half a document in
        // the file CI will read.
        let mut xml = Vec::new();
        report.serialize(&mut xml).map_err(io::Error::other)?;
        self.out.write_all(&xml)?;
        self.out.flush()
    }
}

impl<W: Write + Send> Reporter for Junit<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { .. } => {}
            // Registering the file here keeps suites in the order scenarios started, which
            // with `--jobs` is closer to spec order than the order they finished in.
            Event::ScenarioStarted { id } => {
                self.suite(&id.suite());
            }
            // JUnit has no notion of steps; the failing step is in the failure text.
            Event::StepObserved { .. } | Event::Progress { .. } => {}
            Event::ScenarioFinished {
                id,
                target,
                lifecycle,
                verdict,
                duration,
                cases,
                seed,
                cut_short: _,
                window: _,
                clients: _,
            } => {
                let case = test_case(id, target, *lifecycle, verdict, *duration, *cases, *seed);
                let suite = self.suite(&id.suite());
                suite.cases.push(case);
                suite.time += *duration;
            }
            Event::RunFinished {
                summary: _,
                duration,
            } => self.write_report(*duration)?,
        }
        Ok(())
    }
}

fn test_case(
    id: &ScenarioId,
    target: &TargetKind,
    lifecycle: Lifecycle,
    verdict: &Verdict,
    duration: Duration,
    cases: u64,
    seed: Option<u64>,
) -> TestCase {
    let status = match verdict {
        Verdict::Pass | Verdict::Warn(_) => TestCaseStatus::success(),
        Verdict::Fail(failure) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(headline(failure))
                // `type` is where JUnit puts an exception class; the step keyword is the
                // closest thing conform has, and lets dashboards group failures by kind.
                .set_type(failure.step.as_ref().map_or("startup", |s| s.keyword))
                .set_description(diagnosis(&id.file, target, failure));
            status
        }
        Verdict::Skip(reason) => {
            let mut status = TestCaseStatus::skipped();
            // Jenkins shows the `message` attribute; GitLab shows the element's text.
            status.set_message(reason.as_str()).set_description(reason);
            status
        }
    };
    let mut case = TestCase::new(id.name.as_str(), status);
    // The file as classname groups a file's scenarios everywhere. Jenkins splits classnames
    // at the last `.` into package and class, so it shows `specs/tcp` / `yaml`: still
    // grouped, if oddly labelled.
    case.set_classname(id.suite()).set_time(duration);

    // A warning is a `should`-level failure that does not fail the run, so the test case must
    // count as passed: a <failure> or <error> would turn every dashboard red. Of the places a
    // passing case can carry text, <system-err> is the one that gets shown: Jenkins' JUnit
    // plugin shows it as "Standard Error" on the case's page, passed cases included. GitLab
    // and most GitHub report actions show text only for failed cases, whichever element holds
    // it, and properties are kept as metadata that next to nothing displays. The `verdict`
    // property below is for tools that want to find warnings.
    if let Verdict::Warn(failure) = verdict {
        case.set_system_err(format!(
            "warning: {}\n(a `should` scenario: reported as a warning; --strict makes it fail)\n{}",
            headline(failure),
            diagnosis(&id.file, target, failure)
        ));
    }

    let verdict_word = match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail(_) => "fail",
        Verdict::Warn(_) => "warn",
        Verdict::Skip(_) => "skip",
    };
    let mut properties = vec![
        Property::new("verdict", verdict_word),
        Property::new("role", id.role.to_string()),
        Property::new("transport", id.transport.to_string()),
        Property::new("level", id.level.to_string()),
        Property::new("lifecycle", lifecycle.to_string()),
        Property::new("tags", id.tags.join(",")),
        Property::new("target", target.to_string()),
        Property::new("cases", cases.to_string()),
    ];
    if let Some(seed) = seed {
        properties.push(Property::new("seed", seed.to_string()));
    }
    // The command line that reruns the minimal failing case of a generated scenario: the
    // one thing worth copying out of a dashboard.
    if let Verdict::Fail(failure) | Verdict::Warn(failure) = verdict
        && let Some(generated) = &failure.generated
    {
        properties.push(Property::new("replay", generated.replay.as_str()));
    }
    case.add_properties(properties);
    case
}

/// One line for the `message` attribute: what a dashboard shows next to the test's name.
fn headline(failure: &Failure) -> String {
    if let Some(first) = failure.mismatches.first() {
        return first.summary.clone();
    }
    match failure.program.as_ref().and_then(|p| p.ending.as_ref()) {
        Some(ending) => format!("program {ending}"),
        None => "scenario failed".to_owned(),
    }
}

/// The full account a person reads when opening the case: the same lines as the human
/// report, escaped text and hex dump included.
fn diagnosis(file: &str, target: &TargetKind, failure: &Failure) -> String {
    let mut text = format!("against: {target}\n");
    for line in failure_lines(file, failure) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProgramEnding, ProgramReport};

    #[test]
    fn headline_falls_back_to_how_the_program_ended() {
        let failure = Failure {
            step: None,
            mismatches: Vec::new(),
            program: Some(ProgramReport {
                argv: Some(vec!["./srv".into(), "1".into()]),
                ending: Some(ProgramEnding::Exited { code: 3 }),
                ..ProgramReport::default()
            }),
            generated: None,
            wire: None,
        };
        assert_eq!(headline(&failure), "program exited with code 3");
    }

    #[test]
    fn nothing_is_written_before_the_run_finishes() {
        let mut out = Vec::new();
        let mut junit = Junit::new(&mut out);
        junit
            .report(&Event::RunStarted {
                scenarios: 1,
                jobs: 1,
            })
            .expect("in-memory write");
        drop(junit);
        assert!(out.is_empty());
    }
}
