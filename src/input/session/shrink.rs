//! Shrinking a failing session to the simplest one that still fails: commands deleted (long
//! runs first, then single ones), the values of the commands that remain shrunk by the same
//! search as single cases ([`crate::input::shrink::shrink`]), commands replaced by simpler templates
//! (earlier in `commands`), and the scenario's own values shrunk; rounds repeat until one
//! changes nothing.
//!
//! In: the generators of every template, the failing session, a budget and a `probe` that
//! plays one candidate. Out: the simplest failing session found, the probes spent and why the
//! search ended. No I/O: tested with closures in place of programs. A candidate that is not
//! simpler than the best so far ([`super::key`]) never runs, and none runs twice, so the
//! probes depend only on the program's answers: the same seed shrinks the same way anywhere.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::{SessionCase, key};
use crate::input::generate;
use crate::input::shrink::{End, Limits, Probe};
use crate::spec::{Env, Generator, Value};

/// The name a value shared by several commands goes by while it is shrunk.
const SHARED: &str = "shared";

/// What may change in a session.
#[derive(Debug, Clone, Default)]
pub struct Space {
    /// The generators of the scenario's own values that are not pinned.
    pub prelude: BTreeMap<String, Generator>,
    /// Each template's generators, by its position in `commands`.
    pub commands: Vec<BTreeMap<String, Generator>>,
    /// The fewest commands a session has.
    pub min_commands: usize,
    /// The model whose preconditions every candidate must meet: one that does not is
    /// dropped, never played.
    pub model: Option<super::model::Model>,
    /// Templates never put in place of another (the `atomic: false` ones, when several
    /// clients play).
    pub barred: Vec<usize>,
}

/// The result of a search.
#[derive(Debug)]
pub struct Shrunk<F> {
    pub case: SessionCase,
    pub failure: F,
    pub probes: u32,
    pub end: End,
}

/// Shrinks `original`, which failed with `first`.
pub fn shrink<F: Clone>(
    space: &Space,
    original: SessionCase,
    first: F,
    limits: Limits,
    probe: &mut dyn FnMut(&SessionCase) -> Probe<F>,
) -> Shrunk<F> {
    let mut s = Search {
        space,
        best: original.clone(),
        failure: first.clone(),
        seen: HashMap::new(),
        probes: 0,
        limits,
        started: Instant::now(),
        stop: None,
        probe,
    };
    if !limits.reproduced {
        match s.run(&original) {
            Probe::Fail(f) => s.failure = f,
            Probe::Pass => return s.finish(End::NotReproduced),
            Probe::Stop => {
                let end = s.stop.unwrap_or(End::Stopped);
                return s.finish(end);
            }
        }
    } else {
        s.seen.insert(original, Some(first));
    }
    loop {
        let before = s.best.clone();
        s.delete_runs();
        s.shrink_shared();
        s.shrink_values();
        s.simpler_templates();
        if let Some(end) = s.stop {
            return s.finish(end);
        }
        if s.best == before {
            return s.finish(End::Minimal);
        }
    }
}

struct Search<'a, F> {
    space: &'a Space,
    best: SessionCase,
    failure: F,
    /// Every candidate run so far, with its failure if it failed.
    seen: HashMap<SessionCase, Option<F>>,
    probes: u32,
    limits: Limits,
    started: Instant,
    stop: Option<End>,
    probe: &'a mut dyn FnMut(&SessionCase) -> Probe<F>,
}

impl<F: Clone> Search<'_, F> {
    fn finish(self, end: End) -> Shrunk<F> {
        Shrunk {
            case: self.best,
            failure: self.failure,
            probes: self.probes,
            end,
        }
    }

    /// The limits, checked before a probe: sets `stop` when one is reached.
    fn within_limits(&mut self) -> bool {
        if self.stop.is_none() {
            if self.probes >= self.limits.probes {
                self.stop = Some(End::Budget);
            } else if self.started.elapsed() >= self.limits.time {
                self.stop = Some(End::TimeCap);
            }
        }
        self.stop.is_none()
    }

    /// Plays a candidate once, or answers from what it did before.
    fn run(&mut self, case: &SessionCase) -> Probe<F> {
        if let Some(known) = self.seen.get(case) {
            return known.clone().map_or(Probe::Pass, Probe::Fail);
        }
        if self.space.model.as_ref().is_some_and(|m| !m.admits(case)) {
            self.seen.insert(case.clone(), None);
            return Probe::Pass;
        }
        if !self.within_limits() {
            return Probe::Stop;
        }
        self.probes += 1;
        let result = (self.probe)(case);
        match &result {
            Probe::Fail(f) => {
                self.seen.insert(case.clone(), Some(f.clone()));
            }
            Probe::Pass => {
                self.seen.insert(case.clone(), None);
            }
            Probe::Stop => self.stop = Some(End::Stopped),
        }
        result
    }

    /// Tries a candidate: true when it is simpler than the best and fails (it becomes the
    /// best).
    fn attempt(&mut self, candidate: SessionCase) -> bool {
        if self.stop.is_some() || key(&candidate) >= key(&self.best) {
            return false;
        }
        match self.run(&candidate) {
            Probe::Fail(f) => {
                self.best = candidate;
                self.failure = f;
                true
            }
            Probe::Pass | Probe::Stop => false,
        }
    }

    /// Deletes runs of commands: the largest power of two first, at positions half a run
    /// apart, down to every single command.
    fn delete_runs(&mut self) {
        let min = self.space.min_commands;
        let mut k = self
            .best
            .calls
            .len()
            .saturating_sub(min)
            .next_power_of_two();
        while k >= 1 && self.stop.is_none() {
            let stride = (k / 2).max(1);
            let mut i = 0;
            loop {
                let n = self.best.calls.len();
                if n < min + k || i + k > n || self.stop.is_some() {
                    break;
                }
                let mut candidate = self.best.clone();
                candidate.calls.drain(i..i + k);
                if !self.attempt(candidate) {
                    i += stride;
                }
            }
            k /= 2;
        }
    }

    /// Shrinks together a value that several commands play (a key a `SET` stored and a `GET`
    /// asks for): shrunk one command at a time, they would stop agreeing, and the failure
    /// with them.
    fn shrink_shared(&mut self) {
        let space = self.space;
        let mut groups: Vec<(Value, Vec<(usize, String)>)> = Vec::new();
        for (i, call) in self.best.calls.iter().enumerate() {
            for (name, value) in &call.env {
                match groups.iter_mut().find(|(v, _)| v == value) {
                    Some((_, places)) => places.push((i, name.clone())),
                    None => groups.push((value.clone(), vec![(i, name.clone())])),
                }
            }
        }
        for (value, places) in groups.into_iter().filter(|(_, p)| p.len() > 1) {
            let generator = |(i, name): &(usize, String)| {
                let command = self.best.calls[*i].command;
                space.commands[command].get(name).cloned()
            };
            let Some(first) = places.first().and_then(generator) else {
                continue;
            };
            let all: Vec<Generator> = places.iter().filter_map(generator).collect();
            let mut generators = BTreeMap::new();
            generators.insert(SHARED.to_string(), first);
            let mut env = Env::new();
            env.insert(SHARED.to_string(), value);
            self.shrink_env(&generators, env, |case, env| {
                let Some(v) = env.get(SHARED) else { return };
                // A value one of the places could not have made is no counterexample: it
                // is left as it was, and the candidate equals the best (which is skipped).
                if !all.iter().all(|g| g.admits(v)) {
                    return;
                }
                for (i, name) in &places {
                    case.calls[*i].env.insert(name.clone(), v.clone());
                }
            });
        }
    }

    /// Shrinks the values of each command in turn, then the scenario's own, with the search
    /// single cases use; the budget is the one of the whole search.
    fn shrink_values(&mut self) {
        let space = self.space;
        for i in 0..self.best.calls.len() {
            let Some(call) = self.best.calls.get(i) else {
                break;
            };
            let generators = &space.commands[call.command];
            let env = call.env.clone();
            self.shrink_env(generators, env, |case, env| case.calls[i].env = env);
        }
        let env = self.best.prelude.clone();
        self.shrink_env(&space.prelude, env, |case, env| case.prelude = env);
    }

    fn shrink_env(
        &mut self,
        generators: &BTreeMap<String, Generator>,
        env: Env,
        place: impl Fn(&mut SessionCase, Env),
    ) {
        if generators.is_empty() || !self.within_limits() {
            return;
        }
        let base = self.best.clone();
        let limits = Limits {
            probes: self.limits.probes - self.probes,
            time: self.limits.time.saturating_sub(self.started.elapsed()),
            reproduced: true,
        };
        let failure = self.failure.clone();
        let mut probe = |candidate: &Env| {
            let mut case = base.clone();
            place(&mut case, candidate.clone());
            self.run(&case)
        };
        let shrunk =
            crate::input::shrink::shrink(generators, env.clone(), failure, limits, &mut probe);
        if shrunk.env != env {
            place(&mut self.best, shrunk.env);
            self.failure = shrunk.failure;
        }
        if shrunk.end == End::Stopped {
            self.stop.get_or_insert(End::Stopped);
        }
        self.within_limits();
    }

    /// Replaces each command by an earlier template, keeping the values the new template
    /// generates under the same name (when it could have made them), the rest at their
    /// simplest.
    fn simpler_templates(&mut self) {
        for i in 0..self.best.calls.len() {
            let current = self.best.calls[i].command;
            for template in 0..current {
                if self.stop.is_some() {
                    return;
                }
                if self.space.barred.contains(&template) {
                    continue;
                }
                let generators = &self.space.commands[template];
                let old = &self.best.calls[i].env;
                let env: Env = generators
                    .iter()
                    .map(|(name, g)| {
                        let value = old
                            .get(name)
                            .filter(|v| g.admits(v))
                            .cloned()
                            .unwrap_or_else(|| generate::simplest(g));
                        (name.clone(), value)
                    })
                    .collect();
                let mut candidate = self.best.clone();
                candidate.calls[i] = super::Call {
                    command: template,
                    env,
                };
                if self.attempt(candidate) {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::session::Call;
    use crate::spec::Value;
    use std::time::Duration;

    /// Templates: 0 `PING` (no values), 1 `SET key value`, 2 `GET key`.
    fn space() -> Space {
        let key = Generator::Text {
            alphabet: b"abc".to_vec(),
            min: 1,
            max: 3,
        };
        let value = Generator::Bytes { min: 0, max: 64 };
        let mut set = BTreeMap::new();
        set.insert("key".to_string(), key.clone());
        set.insert("value".to_string(), value);
        let mut get = BTreeMap::new();
        get.insert("key".to_string(), key);
        Space {
            prelude: BTreeMap::new(),
            commands: vec![BTreeMap::new(), set, get],
            min_commands: 1,
            model: None,
            barred: Vec::new(),
        }
    }

    fn set(key: &[u8], value: &[u8]) -> Call {
        let mut env = Env::new();
        env.insert("key".into(), Value::Bytes(key.to_vec()));
        env.insert("value".into(), Value::Bytes(value.to_vec()));
        Call { command: 1, env }
    }

    fn get(key: &[u8]) -> Call {
        let mut env = Env::new();
        env.insert("key".into(), Value::Bytes(key.to_vec()));
        Call { command: 2, env }
    }

    fn ping() -> Call {
        Call {
            command: 0,
            env: Env::new(),
        }
    }

    fn limits() -> Limits {
        Limits {
            probes: 500,
            time: Duration::from_secs(60),
            reproduced: false,
        }
    }

    fn session(calls: Vec<Call>) -> SessionCase {
        SessionCase {
            prelude: Env::new(),
            calls,
        }
    }

    /// A store whose overwrite keeps the old value's tail: fails when a GET reads a key
    /// that was set twice, the second time to a shorter value.
    fn keeps_tail(case: &SessionCase) -> Probe<()> {
        let mut store: BTreeMap<Vec<u8>, (Vec<u8>, Vec<u8>)> = BTreeMap::new();
        for call in &case.calls {
            let key = call.env.get("key").map(|v| v.bytes().to_vec());
            match (call.command, key) {
                (1, Some(k)) => {
                    let v = call.env["value"].bytes().to_vec();
                    let (_, shown) = store.get(&k).cloned().unwrap_or_default();
                    let mut kept = v.clone();
                    if shown.len() > v.len() {
                        kept.extend_from_slice(&shown[v.len()..]);
                    }
                    store.insert(k, (v, kept));
                }
                (2, Some(k)) => {
                    if let Some((right, shown)) = store.get(&k)
                        && right != shown
                    {
                        return Probe::Fail(());
                    }
                }
                _ => {}
            }
        }
        Probe::Pass
    }

    #[test]
    fn a_long_session_shrinks_to_the_three_commands_that_matter() {
        let original = session(vec![
            ping(),
            set(b"ab", b"hello world"),
            get(b"c"),
            set(b"ca", b"zz"),
            ping(),
            set(b"ab", b"x"),
            set(b"b", b"q"),
            get(b"ab"),
            ping(),
        ]);
        assert!(matches!(keeps_tail(&original), Probe::Fail(())));
        let shrunk = shrink(&space(), original, (), limits(), &mut keeps_tail);
        assert_eq!(shrunk.end, End::Minimal);
        assert_eq!(
            shrunk.case,
            session(vec![set(b"a", b"\0"), set(b"a", b""), get(b"a")])
        );
    }

    #[test]
    fn the_same_failure_shrinks_in_the_same_probes() {
        let run = || {
            let original = session(vec![
                set(b"cc", b"abcdef"),
                ping(),
                set(b"cc", b"a"),
                get(b"cc"),
            ]);
            let shrunk = shrink(&space(), original, (), limits(), &mut keeps_tail);
            (shrunk.case, shrunk.probes)
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_command_is_replaced_by_a_simpler_template() {
        // Fails whenever the session has at least two commands: PING PING is simplest.
        let original = session(vec![get(b"abc"), set(b"b", b"xyz")]);
        let mut two = |case: &SessionCase| {
            if case.calls.len() >= 2 {
                Probe::Fail(())
            } else {
                Probe::Pass
            }
        };
        let shrunk = shrink(&space(), original, (), limits(), &mut two);
        assert_eq!(shrunk.case, session(vec![ping(), ping()]));
        assert_eq!(shrunk.end, End::Minimal);
    }

    #[test]
    fn a_failure_that_passes_alone_is_not_shrunk() {
        let original = session(vec![ping(), get(b"a")]);
        let shrunk = shrink(&space(), original.clone(), (), limits(), &mut |_| {
            Probe::Pass
        });
        assert_eq!(shrunk.end, End::NotReproduced);
        assert_eq!(shrunk.probes, 1);
        assert_eq!(shrunk.case, original);
    }

    #[test]
    fn the_probe_budget_ends_the_search_and_is_never_exceeded() {
        let original = session(vec![ping(); 40]);
        let mut probes = 0;
        let limits = Limits {
            probes: 5,
            ..limits()
        };
        let shrunk = shrink(&space(), original, (), limits, &mut |_| {
            probes += 1;
            Probe::Pass
        });
        // The replay alone passes here, so it ends there; with failures, the budget ends it.
        assert_eq!(shrunk.end, End::NotReproduced);
        let original = session(vec![ping(); 40]);
        let mut counted = 0;
        let shrunk = shrink(&space(), original, (), limits, &mut |c: &SessionCase| {
            counted += 1;
            if c.calls.len() > 20 {
                Probe::Fail(())
            } else {
                Probe::Pass
            }
        });
        assert_eq!(shrunk.end, End::Budget);
        assert_eq!(shrunk.probes, 5);
        assert_eq!(counted, 5);
    }
}
