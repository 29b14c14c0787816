//! Judging what several clients saw at once: the history of their commands (when each was
//! sent and answered, and its replies) passes when some order of the commands that respects
//! those times explains every reply by the model (linearizability).
//!
//! In: the scenario, its model, each client's session and its run ([`Played::timed`]). Out:
//! [`Judged`]: explained, or the longest order found and the commands none of whose replies
//! the model explains after it (with what it expected), for the report. The search itself is
//! `verdict::linear`; this module says what one step of it means for a spec: a command's
//! precondition holds in the state, each of its `expect` steps, computed in that state,
//! matches the reply it read, and the state after it is its `update`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::script::{Played, Timed};
use super::steps::unix_now;
use crate::event::{Failure, HistoryReport, Kept, Stuck, TimedCommand};
use crate::input::session::model::Model;
use crate::input::session::{Call, SessionCase, encode};
use crate::spec::expr::{ExprError, Val};
use crate::spec::{Env, Expect, Matcher, Scenario, Step, Transport};
use crate::verdict::linear::{self, Op, Verdict};
use crate::verdict::{Expectation, Mismatch, PeerState, Progress};

/// Steps of the search at most, by default: far beyond what a dozen clients of a dozen
/// commands need (see docs/models.md), and deterministic, unlike a time limit.
pub const SEARCH_STEPS: u64 = 1_000_000;

/// One command of the history.
#[derive(Clone, Copy)]
struct Entry<'a> {
    client: usize,
    index: usize,
    prelude: &'a Env,
    call: &'a Call,
    timed: &'a Timed,
}

/// A command by (client, command), both 0-based.
pub type At = (usize, usize);

/// What the history came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Explained,
    /// No order explains the replies: the longest explained order, as (client, command)
    /// pairs, and the commands that could have come next, each with the replies the model
    /// expected of it there.
    Unexplained {
        explained: Vec<At>,
        stuck: Vec<(At, Vec<Vec<u8>>)>,
    },
    /// The search took more steps than it may.
    Undecided {
        steps: u64,
    },
}

/// Judges the history of `sessions`, played as `played` (one run per client, every command
/// of which ended).
pub fn judge(
    scenario: &Scenario,
    model: &Model,
    sessions: &[SessionCase],
    played: &[Played],
    budget: u64,
) -> Result<Judged, ExprError> {
    let entries: Vec<Entry<'_>> =
        sessions
            .iter()
            .zip(played)
            .enumerate()
            .flat_map(|(client, (session, run))| {
                session.calls.iter().zip(&run.timed).enumerate().map(
                    move |(index, (call, timed))| Entry {
                        client,
                        index,
                        prelude: &session.prelude,
                        call,
                        timed,
                    },
                )
            })
            .collect();
    let origin = entries
        .iter()
        .map(|e| e.timed.began)
        .min()
        .unwrap_or_else(Instant::now);
    let partition = scenario
        .model
        .as_ref()
        .and_then(|m| m.value.partition.as_deref());
    let initial = model.initial().map_err(|e| match e {
        crate::input::session::model::ModelError::Initial(e) => e,
        other => ExprError {
            message: other.to_string(),
            at: None,
        },
    })?;
    let mut left = budget;
    for group in partitions(entries, partition) {
        let start = (&initial, origin);
        let (judged, steps) = judge_group(scenario, model, &group, start, left)?;
        left = left.saturating_sub(steps);
        match judged {
            Judged::Explained => {}
            Judged::Undecided { .. } => return Ok(Judged::Undecided { steps: budget }),
            unexplained => return Ok(unexplained),
        }
    }
    Ok(Judged::Explained)
}

/// The commands grouped by the value `partition` names (in the order each value first
/// appears): commands of different values never affect each other, so each group is a
/// history of its own (linearizability is local). Without a partition, one group.
fn partitions<'a>(entries: Vec<Entry<'a>>, partition: Option<&str>) -> Vec<Vec<Entry<'a>>> {
    let Some(name) = partition else {
        return vec![entries];
    };
    let mut groups: Vec<(Option<&crate::spec::Value>, Vec<Entry<'a>>)> = Vec::new();
    for entry in entries {
        let key = entry.call.env.get(name);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(entry),
            None => groups.push((key, vec![entry])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Judges one history; also says how many steps the search took.
fn judge_group(
    scenario: &Scenario,
    model: &Model,
    entries: &[Entry<'_>],
    (initial, origin): (&Val, Instant),
    budget: u64,
) -> Result<(Judged, u64), ExprError> {
    let nanos = |at: Instant| at.saturating_duration_since(origin).as_nanos() as u64;
    let ops: Vec<Op> = entries
        .iter()
        .map(|e| Op {
            client: e.client,
            call: nanos(e.timed.began),
            // Every command of a judged history ended; one that did not failed the case.
            ret: e.timed.ended.map_or(u64::MAX, nanos),
        })
        .collect();
    let mut judge = Judge {
        scenario,
        model,
        entries,
    };
    let checked = linear::check(&ops, initial.clone(), &mut judge, budget)?;
    let judged = match checked.verdict {
        Verdict::Linearizable { .. } => Judged::Explained,
        Verdict::Undecided { steps } => Judged::Undecided { steps },
        Verdict::NotLinearizable { longest, stuck } => {
            // The state the longest order leaves, to say what each stuck command expected.
            let mut state = initial.clone();
            for &op in &longest {
                let e = &entries[op];
                state = model.next(e.prelude, e.call, &state)?;
            }
            let at = |op: usize| (entries[op].client, entries[op].index);
            Judged::Unexplained {
                explained: longest.iter().map(|&op| at(op)).collect(),
                stuck: stuck
                    .iter()
                    .map(|&op| (at(op), judge.expected(op, &state)))
                    .collect(),
            }
        }
    };
    Ok((judged, checked.steps))
}

struct Judge<'a> {
    scenario: &'a Scenario,
    model: &'a Model,
    entries: &'a [Entry<'a>],
}

impl Judge<'_> {
    fn expects(&self, op: usize) -> impl Iterator<Item = &Expect> {
        let command = self.entries[op].call.command;
        self.scenario.commands[command]
            .value
            .steps
            .iter()
            .filter_map(|s| match &s.value {
                Step::Expect(expect) => Some(expect),
                _ => None,
            })
    }

    /// The replies the model expects of `op` in `state`, where they are bytes.
    fn expected(&self, op: usize, state: &Val) -> Vec<Vec<u8>> {
        let e = &self.entries[op];
        let env = Model::scope(e.prelude, e.call, state);
        self.expects(op)
            .filter_map(
                |expect| match expect.matcher.resolve(&env, unix_now()).as_ref() {
                    Matcher::Bytes(bytes) => Some(bytes.clone()),
                    _ => None,
                },
            )
            .collect()
    }
}

impl linear::Model for Judge<'_> {
    type State = Val;
    type Error = ExprError;

    fn step(&mut self, state: &Val, op: usize) -> Result<Option<Val>, ExprError> {
        let e = &self.entries[op];
        if !self.model.allows(e.prelude, e.call, state)? {
            return Ok(None);
        }
        let env = Model::scope(e.prelude, e.call, state);
        let mut replies = e.timed.replies.iter();
        for expect in self.expects(op) {
            let Some(reply) = replies.next() else {
                return Ok(None);
            };
            let matcher = expect.matcher.resolve(&env, unix_now());
            if !whole(self.scenario.transport, &matcher, reply) {
                return Ok(None);
            }
        }
        self.model.next(e.prelude, e.call, state).map(Some)
    }
}

/// Whether `reply`, all of it, is what `matcher` wants.
fn whole(transport: Transport, matcher: &Matcher, reply: &[u8]) -> bool {
    match transport {
        Transport::Udp => {
            let from = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            crate::verdict::judge_datagram(matcher, reply, from, None).is_ok()
        }
        Transport::Tcp => matches!(
            crate::verdict::judge_stream(
                &Expectation::Data(matcher.clone()),
                reply,
                PeerState::Closed,
                Duration::ZERO,
                Duration::ZERO,
            ),
            Progress::Pass { consumed } if consumed == reply.len()
        ),
    }
}

/// The failure of a history no order explains: the first command that could not come next,
/// its reply against what the model expected there.
pub fn failure(
    scenario: &Scenario,
    sessions: &[SessionCase],
    played: &[Played],
    judged: &Judged,
) -> Failure {
    let Judged::Unexplained { explained, stuck } = judged else {
        return Failure::default();
    };
    let clients = sessions.len();
    let name = |(c, i): (usize, usize)| {
        let command = sessions[c].calls[i].command;
        scenario.commands[command].value.name.value.clone()
    };
    let mut summary = format!(
        "no order of the {} command(s) of {clients} client(s) explains their replies (the history \
         is not linearizable): ",
        sessions.iter().map(|s| s.calls.len()).sum::<usize>()
    );
    summary.push_str(&match explained.len() {
        0 => "no command can come first".to_string(),
        n => format!("after {n} command(s) in the order the model explains"),
    });
    let Some(((c, i), expected)) = stuck.first() else {
        return Failure {
            mismatches: vec![Mismatch::new(summary)],
            ..Failure::default()
        };
    };
    let replies = &played[*c].timed[*i].replies;
    // The reply that differs from what the model expected there, if one does.
    let (want, got) = expected
        .iter()
        .zip(replies)
        .find(|(want, got)| want != got)
        .map_or(
            (None, replies.first().cloned().unwrap_or_default()),
            |(w, g)| (Some(w.clone()), g.clone()),
        );
    summary.push_str(&format!(
        ", {} of client {}'s command {} `{}` the model does not expect there",
        if stuck.len() > 1 {
            format!("nor any of {} others, and the reply", stuck.len() - 1)
        } else {
            "the reply".into()
        },
        c + 1,
        i + 1,
        name((*c, *i))
    ));
    let mut mismatch = Mismatch::new(summary);
    if let Some(want) = want {
        mismatch = mismatch.bytes(&want, &got);
    }
    let command = &scenario.commands[sessions[*c].calls[*i].command].value;
    let step = command
        .steps
        .iter()
        .enumerate()
        .find(|(_, s)| matches!(s.value, Step::Expect(_)))
        .map(|(index, s)| super::steps::step_ref(index, s));
    Failure {
        step,
        mismatches: vec![mismatch],
        program: None,
        generated: None,
        // The caller gives the case's wire log: no client's failure carried it.
        wire: None,
    }
}

/// Each client's timeline, and how far the search got, for reports.
pub fn report(
    scenario: &Scenario,
    sessions: &[SessionCase],
    played: &[Played],
    judged: Option<&Judged>,
    replays: u32,
) -> HistoryReport {
    let origin = played
        .iter()
        .flat_map(|p| p.timed.iter().map(|t| t.began))
        .min();
    let since = |at: Instant| origin.map_or(Duration::ZERO, |o| at.saturating_duration_since(o));
    let clients = sessions
        .iter()
        .zip(played)
        .map(|(session, run)| {
            session
                .calls
                .iter()
                .enumerate()
                .map(|(i, call)| {
                    let x = run.exchanges.get(i + 1).cloned().unwrap_or_default();
                    let timed = run.timed.get(i);
                    TimedCommand {
                        name: scenario.commands[call.command].value.name.value.clone(),
                        values: call
                            .env
                            .iter()
                            .map(|(k, v)| (k.clone(), encode::compact(v)))
                            .collect(),
                        sent: Kept {
                            bytes: x.sent,
                            len: x.sent_len,
                        },
                        answered: Kept {
                            bytes: x.received,
                            len: x.received_len,
                        },
                        began: timed.map(|t| since(t.began)),
                        ended: timed.and_then(|t| t.ended).map(since),
                    }
                })
                .collect()
        })
        .collect();
    let (explained, stuck) = match judged {
        Some(Judged::Unexplained { explained, stuck }) => (
            explained.clone(),
            stuck
                .iter()
                .map(|((client, command), expected)| Stuck {
                    client: *client,
                    command: *command,
                    expected: expected.clone(),
                })
                .collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    HistoryReport {
        clients,
        explained,
        stuck,
        replays,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_grouped_by_their_partition_value_in_order_of_first_appearance() {
        let now = Instant::now();
        let timed = Timed {
            began: now,
            ended: Some(now),
            replies: Vec::new(),
        };
        let calls: Vec<Call> = ["a", "b", "a", "c", "b"]
            .iter()
            .map(|key| {
                let mut env = Env::new();
                env.insert(
                    "key".into(),
                    crate::spec::Value::Bytes(key.as_bytes().to_vec()),
                );
                Call { command: 0, env }
            })
            .collect();
        let prelude = Env::new();
        let entries: Vec<Entry<'_>> = calls
            .iter()
            .enumerate()
            .map(|(index, call)| Entry {
                client: index % 2,
                index,
                prelude: &prelude,
                call,
                timed: &timed,
            })
            .collect();
        let indices = |groups: Vec<Vec<Entry<'_>>>| -> Vec<Vec<usize>> {
            groups
                .iter()
                .map(|g| g.iter().map(|e| e.index).collect())
                .collect()
        };
        assert_eq!(
            indices(partitions(entries.clone(), Some("key"))),
            vec![vec![0, 2], vec![1, 4], vec![3]]
        );
        assert_eq!(
            indices(partitions(entries, None)),
            vec![vec![0, 1, 2, 3, 4]]
        );
    }
}
