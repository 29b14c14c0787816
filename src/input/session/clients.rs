//! Shrinking a failure of several clients at once: whole clients dropped first (the last
//! first), then each client's session shrunk by the search of single sessions
//! ([`super::shrink::shrink`]) with the other clients' sessions held still; rounds repeat
//! until one changes nothing.
//!
//! In: the [`Space`] of one session, the failing sessions (one per client), a budget and a
//! `probe` that plays one candidate (several times: a concurrency failure need not show on
//! every run, so the probe says `Fail` when any replay failed). Out: the simplest failing
//! sessions found, the probes spent and why the search ended. No I/O: tested with closures.

use std::time::Instant;

use super::SessionCase;
use super::shrink::{Space, shrink};
use crate::input::shrink::{End, Limits, Probe};

/// The result of a search over several clients.
#[derive(Debug)]
pub struct Shrunk<F> {
    pub clients: Vec<SessionCase>,
    pub failure: F,
    pub probes: u32,
    pub end: End,
}

/// Shrinks `original` (one session per client), which failed with `first`. With `sessions`
/// false only whole clients are dropped: the failure came before any command (in the
/// clients' own steps), so no command can matter.
pub fn shrink_clients<F: Clone>(
    space: &Space,
    (original, first): (Vec<SessionCase>, F),
    limits: Limits,
    sessions: bool,
    probe: &mut dyn FnMut(&[SessionCase]) -> Probe<F>,
) -> Shrunk<F> {
    let started = Instant::now();
    let mut best = Best {
        clients: original,
        failure: first,
        probes: 0,
    };
    loop {
        let before = best.clients.clone();
        if let Some(end) = drop_clients(&mut best, limits, started, probe) {
            return best.finish(end);
        }
        for k in (0..best.clients.len()).filter(|_| sessions) {
            if let Some(end) = shrink_one(space, &mut best, k, limits, started, probe) {
                return best.finish(end);
            }
        }
        // Without sessions to shrink, a second round would only replay the same drops.
        if best.clients == before || !sessions {
            return best.finish(End::Local {
                passes: Default::default(),
            });
        }
    }
}

struct Best<F> {
    clients: Vec<SessionCase>,
    failure: F,
    probes: u32,
}

impl<F> Best<F> {
    fn finish(self, end: End) -> Shrunk<F> {
        Shrunk {
            clients: self.clients,
            failure: self.failure,
            probes: self.probes,
            end,
        }
    }
}

/// Why the search must stop before another probe, if it must.
fn spent(probes: u32, limits: Limits, started: Instant) -> Option<End> {
    if probes >= limits.probes {
        return Some(End::Budget);
    }
    (started.elapsed() >= limits.time).then_some(End::TimeCap)
}

/// Tries the failure without each client in turn, the last first; keeps every drop that
/// still fails. One client always stays.
fn drop_clients<F: Clone>(
    best: &mut Best<F>,
    limits: Limits,
    started: Instant,
    probe: &mut dyn FnMut(&[SessionCase]) -> Probe<F>,
) -> Option<End> {
    let mut k = best.clients.len();
    while k > 0 && best.clients.len() > 1 {
        k -= 1;
        if let Some(end) = spent(best.probes, limits, started) {
            return Some(end);
        }
        let mut candidate = best.clients.clone();
        candidate.remove(k);
        best.probes += 1;
        match probe(&candidate) {
            Probe::Fail(f) => {
                best.clients = candidate;
                best.failure = f;
            }
            Probe::Pass => {}
            Probe::Stop => return Some(End::Stopped),
        }
    }
    None
}

/// Shrinks client `k`'s session with the others held still.
fn shrink_one<F: Clone>(
    space: &Space,
    best: &mut Best<F>,
    k: usize,
    limits: Limits,
    started: Instant,
    probe: &mut dyn FnMut(&[SessionCase]) -> Probe<F>,
) -> Option<End> {
    if let Some(end) = spent(best.probes, limits, started) {
        return Some(end);
    }
    let left = Limits {
        probes: limits.probes - best.probes,
        time: limits.time.saturating_sub(started.elapsed()),
        reproduced: true,
    };
    let others = best.clients.clone();
    let shrunk = shrink(
        space,
        best.clients[k].clone(),
        best.failure.clone(),
        left,
        &mut |candidate| {
            let mut all = others.clone();
            all[k] = candidate.clone();
            probe(&all)
        },
    );
    best.probes += shrunk.probes;
    best.clients[k] = shrunk.case;
    best.failure = shrunk.failure;
    match shrunk.end {
        End::Budget | End::TimeCap | End::Stopped => Some(shrunk.end),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::session::Call;
    use crate::spec::Env;
    use std::time::Duration;

    fn session(commands: &[usize]) -> SessionCase {
        SessionCase {
            prelude: Env::new(),
            calls: commands
                .iter()
                .map(|c| Call {
                    command: *c,
                    env: Env::new(),
                })
                .collect(),
        }
    }

    fn limits(probes: u32) -> Limits {
        Limits {
            probes,
            time: Duration::from_secs(60),
            reproduced: true,
        }
    }

    /// Template 1 stands for `INCR`: the failure needs two clients that both play it.
    fn two_incrs(clients: &[SessionCase]) -> Probe<()> {
        let with_incr = clients
            .iter()
            .filter(|c| c.calls.iter().any(|call| call.command == 1))
            .count();
        if with_incr >= 2 {
            Probe::Fail(())
        } else {
            Probe::Pass
        }
    }

    #[test]
    fn a_race_of_two_shrinks_to_two_clients_of_one_command_each() {
        let original = vec![
            session(&[0, 1, 0, 0]),
            session(&[0, 0]),
            session(&[1, 0, 1]),
            session(&[0, 1]),
        ];
        let space = Space {
            commands: vec![Default::default(), Default::default()],
            min_commands: 1,
            barred: vec![0],
            ..Space::default()
        };
        let shrunk = shrink_clients(&space, (original, ()), limits(500), true, &mut two_incrs);
        assert_eq!(shrunk.clients, vec![session(&[1]), session(&[1])]);
        assert!(matches!(shrunk.end, End::Local { .. }), "{:?}", shrunk.end);
    }

    #[test]
    fn a_failure_before_any_command_only_drops_clients() {
        let original = vec![session(&[1, 0]), session(&[1]), session(&[0, 1])];
        let mut probes = Vec::new();
        let shrunk = shrink_clients(
            &Space::default(),
            (original, ()),
            limits(100),
            false,
            &mut |candidate| {
                probes.push(candidate.len());
                two_incrs(candidate)
            },
        );
        // The last client went, then neither other could: one round, the sessions untouched.
        assert_eq!(probes, vec![2, 1, 1]);
        assert_eq!(shrunk.clients, vec![session(&[1, 0]), session(&[1])]);
    }

    #[test]
    fn the_probe_budget_ends_the_search() {
        let original = vec![session(&[1, 1]), session(&[1, 1]), session(&[1])];
        let space = Space {
            commands: vec![Default::default(), Default::default()],
            min_commands: 1,
            ..Space::default()
        };
        let shrunk = shrink_clients(&space, (original, ()), limits(2), true, &mut two_incrs);
        assert_eq!(shrunk.probes, 2);
        assert_eq!(shrunk.end, End::Budget);
        // The last client went first; the second could not go (one INCR client is left).
        assert_eq!(shrunk.clients.len(), 2);
    }

    #[test]
    fn a_stop_ends_the_search_at_once() {
        let original = vec![session(&[1]), session(&[1])];
        let space = Space::default();
        let shrunk = shrink_clients(&space, (original, ()), limits(100), true, &mut |_| {
            Probe::Stop
        });
        assert_eq!(shrunk.end, End::Stopped);
        assert_eq!(shrunk.probes, 1);
    }
}
