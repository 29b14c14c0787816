//! Many runs' events made one run, as if one conform had run everything: the shares of a run
//! split across CI jobs (`--partition`), or any event files of one suite.
//!
//! In: the [`Stream`]s read from each file, in the order given. Out: one `run_started`, each
//! scenario's events together (`scenario_started`, its steps, `scenario_finished`), one
//! `run_finished`; the totals counted from the verdicts; and warnings for stderr.
//!
//! A scenario is its implementation, file and name. One found in two files (jobs that
//! overlapped) is reported once, from the first, with a warning naming both. The combined
//! `run_started` counts the scenarios reported and sums the inputs' jobs (the jobs ran side
//! by side); `run_finished` takes the longest input's duration.
//!
//! Order is what one big run's order would be. Each file keeps its own order, and the files
//! are interleaved as one run orders its work: implementation by implementation, IPv4 before
//! IPv6, spec file by spec file, and within a file by where a scenario's steps are written.
//! One file therefore comes out in exactly its own order. Scenarios that ran no step anywhere
//! (skipped, or the program never became ready) have no place in their file to go by: they
//! keep their place after what precedes them in their own file.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use super::Stream;
use crate::event::{Event, ScenarioId, Summary};

/// The merged run.
#[derive(Debug)]
pub struct Merged {
    pub events: Vec<Event>,
    /// The verdicts of the scenarios reported, counted.
    pub summary: Summary,
    /// Sentences for stderr: scenarios found twice, runs that did not finish.
    pub warnings: Vec<String>,
}

/// What makes two scenarios the same: implementation, file, name.
type Key = (Option<String>, String, String);

fn key(id: &ScenarioId) -> Key {
    (id.implementation.clone(), id.file.clone(), id.name.clone())
}

/// A finished scenario's events, and when it was read.
struct Scenario {
    id: ScenarioId,
    events: Vec<Event>,
    seen: usize,
}

/// Where a scenario was first read.
struct First {
    stream: usize,
    line: usize,
    verdict: &'static str,
}

#[derive(Default)]
struct Collect {
    /// Each stream's scenarios, in its order.
    chains: Vec<Vec<Scenario>>,
    first: HashMap<Key, First>,
    /// The first line any step of `(file, name)` is written at, over every stream.
    lines: HashMap<(String, String), u64>,
    jobs: usize,
    longest: Option<Duration>,
    seen: usize,
    warnings: Vec<String>,
    /// Scenarios found a second time.
    twice: usize,
    /// Whether a scenario of `conform run` (no implementation) was found twice.
    unnamed_twice: bool,
}

/// Scenarios found twice that get a warning each; the rest are counted in one line (the same
/// file given twice would otherwise print a line per scenario).
const TWICE_SHOWN: usize = 10;

/// Merges the streams into one run.
pub fn merge(streams: &[Stream]) -> Merged {
    let mut collect = Collect::default();
    for index in 0..streams.len() {
        collect.stream(streams, index);
    }
    if collect.twice > TWICE_SHOWN {
        let more = collect.twice - TWICE_SHOWN;
        collect.warnings.push(format!(
            "and {more} more scenario(s) found in two files, each reported once"
        ));
    }
    if collect.unnamed_twice {
        collect.warnings.push(
            "events of `conform run` name no implementation, so the same scenario run \
             against different programs looks the same; `conform matrix` names each \
             implementation"
                .into(),
        );
    }
    let order = collect.order();
    let mut summary = Summary::default();
    let mut events = vec![Event::RunStarted {
        scenarios: order.len(),
        jobs: collect.jobs.max(1),
    }];
    for scenario in order {
        for event in scenario.events {
            if let Event::ScenarioFinished { verdict, .. } = &event {
                summary.add(verdict);
            }
            events.push(event);
        }
    }
    events.push(Event::RunFinished {
        summary,
        duration: collect.longest.unwrap_or_default(),
    });
    Merged {
        events,
        summary,
        warnings: collect.warnings,
    }
}

impl Collect {
    /// Takes in one stream's events, scenario by scenario.
    fn stream(&mut self, streams: &[Stream], index: usize) {
        let stream = &streams[index];
        let mut chain = Vec::new();
        // The events of scenarios that started and have not finished yet.
        let mut open: HashMap<Key, Vec<Event>> = HashMap::new();
        let (mut started, mut finished) = (0, 0);
        for located in &stream.events {
            let event = &located.event;
            match event {
                Event::RunStarted { jobs, .. } => {
                    started += 1;
                    self.jobs += jobs;
                }
                Event::RunFinished { duration, .. } => {
                    finished += 1;
                    self.longest = self.longest.max(Some(*duration));
                }
                Event::ScenarioStarted { id } => {
                    open.entry(key(id)).or_default().push(event.clone())
                }
                Event::StepObserved { id, step, .. } => {
                    self.line(id, step.line);
                    open.entry(key(id)).or_default().push(event.clone());
                }
                Event::ScenarioFinished { id, verdict, .. } => {
                    let mut events = open.remove(&key(id)).unwrap_or_default();
                    if let crate::event::Verdict::Fail(f) | crate::event::Verdict::Warn(f) = verdict
                        && let Some(step) = &f.step
                    {
                        self.line(id, step.line);
                    }
                    if let Some(first) = self.first.get(&key(id)) {
                        self.twice += 1;
                        if self.twice <= TWICE_SHOWN {
                            let at = (index, located.line);
                            self.warnings
                                .push(twice(streams, first, id, at, verdict.word()));
                        }
                        self.unnamed_twice |= id.implementation.is_none();
                        continue;
                    }
                    self.first.insert(
                        key(id),
                        First {
                            stream: index,
                            line: located.line,
                            verdict: verdict.word(),
                        },
                    );
                    events.push(event.clone());
                    self.seen += 1;
                    chain.push(Scenario {
                        id: id.clone(),
                        events,
                        seen: self.seen,
                    });
                }
                Event::Progress { .. } => {}
            }
        }
        if finished == 0 || finished < started {
            let unfinished = if open.is_empty() {
                String::new()
            } else {
                format!("; {} scenario(s) that started did not finish", open.len())
            };
            self.warnings.push(format!(
                "{}: the run did not finish (no `run_finished`): the {} scenario(s) it \
                 finished are reported{unfinished}",
                stream.path,
                chain.len()
            ));
        }
        self.chains.push(chain);
    }

    fn line(&mut self, id: &ScenarioId, line: u64) {
        let at = self
            .lines
            .entry((id.file.clone(), id.name.clone()))
            .or_insert(line);
        *at = (*at).min(line);
    }

    /// Every stream's scenarios in one order: each stream's own, interleaved as one run
    /// orders its work (see the module's documentation).
    fn order(&mut self) -> Vec<Scenario> {
        let firsts = |of: &dyn Fn(&ScenarioId) -> String| -> Vec<Vec<String>> {
            self.chains
                .iter()
                .map(|chain| chain.iter().map(|s| of(&s.id)).collect())
                .collect()
        };
        let implementations =
            consensus(&firsts(&|id| id.implementation.clone().unwrap_or_default()));
        let files = consensus(&firsts(&|id| id.file.clone()));
        let rank = |s: &Scenario| {
            let implementation = s.id.implementation.as_deref().unwrap_or_default();
            (
                implementations.get(implementation).copied().unwrap_or(0),
                // A run with `--ip both` runs every IPv4 scenario before the IPv6 ones.
                usize::from(s.id.name.ends_with(" [ipv6]")),
                files.get(&s.id.file).copied().unwrap_or(0),
                self.lines
                    .get(&(s.id.file.clone(), s.id.name.clone()))
                    .copied()
                    .unwrap_or(u64::MAX),
                s.seen,
            )
        };
        let mut chains: Vec<VecDeque<_>> = std::mem::take(&mut self.chains)
            .into_iter()
            .map(|chain| chain.into_iter().map(|s| (rank(&s), s)).collect())
            .collect();
        let mut order = Vec::new();
        // Each step takes the head that comes first of all chains' heads.
        while let Some(next) = chains
            .iter()
            .enumerate()
            .filter_map(|(i, chain)| chain.front().map(|(rank, _)| (rank, i)))
            .min()
            .map(|(_, i)| i)
        {
            order.extend(chains[next].pop_front().map(|(_, s)| s));
        }
        order
    }
}

/// The warning for a scenario found a second time.
fn twice(
    streams: &[Stream],
    first: &First,
    id: &ScenarioId,
    (stream, line): (usize, usize),
    verdict: &str,
) -> String {
    let there = &streams[first.stream].path;
    let here = &streams[stream].path;
    let verdicts = if first.verdict == verdict {
        String::new()
    } else {
        format!(" ({} in {there}, {verdict} in {here})", first.verdict)
    };
    format!(
        "`{} :: {}` is in both {there}:{} and {here}:{line}: reported once, from \
         {there}{verdicts}",
        id.suite(),
        id.name,
        first.line
    )
}

/// One order of everything in `sequences` that keeps each sequence's order where they agree;
/// where they do not (a cycle), or say nothing, what was seen first comes first. Gives each
/// item its rank.
fn consensus<T: Clone + Eq + Hash>(sequences: &[Vec<T>]) -> HashMap<T, usize> {
    // Each sequence without repeats: its items in the order they first appear in it.
    let sequences: Vec<Vec<T>> = sequences
        .iter()
        .map(|sequence| {
            let mut met = HashSet::new();
            sequence
                .iter()
                .filter(|item| met.insert(*item))
                .cloned()
                .collect()
        })
        .collect();
    let mut seen: HashMap<T, usize> = HashMap::new();
    for item in sequences.iter().flatten() {
        let next = seen.len();
        seen.entry(item.clone()).or_insert(next);
    }
    let positions: Vec<HashMap<&T, usize>> = sequences
        .iter()
        .map(|s| s.iter().enumerate().map(|(i, item)| (item, i)).collect())
        .collect();
    let mut heads = vec![0; sequences.len()];
    let mut rank: HashMap<T, usize> = HashMap::new();
    while rank.len() < seen.len() {
        for (head, sequence) in heads.iter_mut().zip(&sequences) {
            while sequence
                .get(*head)
                .is_some_and(|item| rank.contains_key(item))
            {
                *head += 1;
            }
        }
        let candidates: Vec<&T> = sequences
            .iter()
            .zip(&heads)
            .filter_map(|(sequence, head)| sequence.get(*head))
            .collect();
        // Ready: at the head of every sequence that has it.
        let ready = |item: &&T| {
            positions
                .iter()
                .zip(&heads)
                .all(|(at, head)| at.get(item).is_none_or(|i| i == head))
        };
        let by_seen = |item: &&&T| seen[**item];
        let pick = candidates
            .iter()
            .filter(|item| ready(item))
            .min_by_key(by_seen)
            .or_else(|| candidates.iter().min_by_key(by_seen))
            .map(|item| (*item).clone());
        let Some(pick) = pick else { break };
        let next = rank.len();
        rank.insert(pick, next);
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{StepRef, TargetKind, Verdict};
    use crate::report::read::Located;
    use crate::spec::{Level, Lifecycle, Role, Transport};

    /// A scenario of `implementation` whose first step is written at `line`, as a run reports
    /// it: its step, then its verdict.
    fn scenario(implementation: &str, name: &str, line: u64) -> Vec<Event> {
        let id = ScenarioId {
            file: "specs/tcp.yaml".into(),
            name: name.into(),
            role: Role::Server,
            transport: Transport::Tcp,
            level: Level::Must,
            tags: Vec::new(),
            implementation: Some(implementation.into()),
        };
        vec![
            Event::StepObserved {
                id: id.clone(),
                step: StepRef {
                    index: 1,
                    keyword: "connect",
                    line,
                    column: 9,
                },
                passed: true,
                duration: Duration::ZERO,
            },
            Event::ScenarioFinished {
                id,
                target: TargetKind::Reference,
                lifecycle: Lifecycle::Case,
                verdict: Verdict::Pass,
                duration: Duration::ZERO,
                cases: 1,
                seed: None,
                cut_short: None,
                window: None,
                clients: None,
            },
        ]
    }

    /// A finished run of `scenarios`, `(implementation, name, line)` each, in that order.
    fn stream(path: &str, scenarios: &[(&str, &str, u64)]) -> Stream {
        let mut events = vec![Event::RunStarted {
            scenarios: scenarios.len(),
            jobs: 1,
        }];
        for (implementation, name, line) in scenarios {
            events.extend(scenario(implementation, name, *line));
        }
        events.push(Event::RunFinished {
            summary: Summary::default(),
            duration: Duration::ZERO,
        });
        Stream {
            path: path.into(),
            events: events
                .into_iter()
                .enumerate()
                .map(|(i, event)| Located { line: i + 1, event })
                .collect(),
        }
    }

    fn names(merged: &Merged) -> Vec<String> {
        merged
            .events
            .iter()
            .filter_map(|event| match event {
                Event::ScenarioFinished { id, .. } => Some(format!(
                    "{}/{}",
                    id.implementation.as_deref().unwrap_or("-"),
                    id.name
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn shares_interleave_by_implementation_family_and_line() {
        // One big run: every IPv4 scenario of `a`, its IPv6 ones, then `b`'s.
        let share = |path, scenarios: &[(&'static str, u64)]| {
            let mut all = Vec::new();
            for implementation in ["a", "b"] {
                for family in [" [ipv4]", " [ipv6]"] {
                    for (name, line) in scenarios {
                        all.push((implementation, format!("{name}{family}"), *line));
                    }
                }
            }
            let borrowed: Vec<(&str, &str, u64)> =
                all.iter().map(|(i, n, l)| (*i, n.as_str(), *l)).collect();
            stream(path, &borrowed)
        };
        let merged = merge(&[
            share("1.jsonl", &[("one", 10), ("three", 30)]),
            share("2.jsonl", &[("two", 20)]),
        ]);
        let expected: Vec<String> = ["a", "b"]
            .iter()
            .flat_map(|i| {
                ["ipv4", "ipv6"]
                    .into_iter()
                    .flat_map(move |f| ["one", "two", "three"].map(|n| format!("{i}/{n} [{f}]")))
            })
            .collect();
        assert_eq!(names(&merged), expected);
        assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
        let Some(Event::RunStarted { scenarios, jobs }) = merged.events.first() else {
            panic!("no run_started first");
        };
        assert_eq!((*scenarios, *jobs), (12, 2));
    }

    #[test]
    fn one_stream_keeps_its_own_order_whatever_the_lines() {
        // As `--jobs 2` may finish them: later lines first.
        let scenarios = [("b", "late", 90), ("a", "early", 10), ("b", "early", 10)];
        let merged = merge(&[stream("1.jsonl", &scenarios)]);
        assert_eq!(names(&merged), ["b/late", "a/early", "b/early"]);
    }

    fn ranks(sequences: &[&[&str]]) -> Vec<String> {
        let owned: Vec<Vec<String>> = sequences
            .iter()
            .map(|s| s.iter().map(|x| x.to_string()).collect())
            .collect();
        let rank = consensus(&owned);
        let mut all: Vec<String> = rank.keys().cloned().collect();
        all.sort_by_key(|item| rank[item]);
        all
    }

    #[test]
    fn consensus_keeps_every_sequences_order() {
        // Share 1 has no scenario of a.yaml: b.yaml still comes after it.
        assert_eq!(ranks(&[&["b"], &["a", "b"]]), ["a", "b"]);
        assert_eq!(
            ranks(&[&["a", "c"], &["b", "c"], &["a", "b"]]),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn consensus_breaks_a_cycle_by_what_was_seen_first() {
        assert_eq!(ranks(&[&["x", "y"], &["y", "x"]]), ["x", "y"]);
        assert_eq!(ranks(&[&["p", "p", "q"]]), ["p", "q"]);
    }
}
