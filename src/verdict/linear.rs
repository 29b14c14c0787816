//! Linearizability of a concurrent history: is there one order of the commands, consistent
//! with real time, in which a model explains every recorded reply? Pure: no sockets, no clocks.
//!
//! In: the commands ([`Op`]: client, call and return times), the model's initial state, a
//! [`Model`] that judges one command's reply in one state, and a budget of model steps. Out:
//! [`Checked`]: a [`Verdict`] (an order that explains the history; or the deepest order found
//! and the commands none of which can follow it; or undecided within the budget) and the
//! number of model steps taken.
//!
//! The search is the one Porcupine implements (`checker.go`) after Lowe's "Testing for
//! linearizability", the just-in-time linearization of Wing & Gong:
//!
//! - Every command gives two entries, its call and its return, in one list sorted by time.
//!   Walking the list from its head, the calls met before the first return are exactly the
//!   commands that may come next: none of them was called after a command that is still
//!   waiting had returned.
//! - The search tries those calls in list order. When the model explains one, its two entries
//!   are lifted out of the (doubly linked) list, the command and the state before it go on a
//!   stack, and the walk starts again at the head. When the walk reaches a return, no
//!   remaining candidate works here: the top of the stack is put back (entries relinked where
//!   they were, the state restored) and the walk goes on after it.
//! - A memo holds every (set of commands placed, state) already reached. Two orders of the same
//!   commands that end in the same state have the same futures, so the second is not explored:
//!   this is what keeps the search polynomial in the length of a history whose concurrency is
//!   bounded (a client's commands follow each other), instead of exponential.
//!
//! Times: a command A comes before B in every accepted order only when A returned strictly
//! before B was called (`A.ret < B.call`). Equal times mean the two overlapped, so either
//! order is tried: a clock that cannot tell two instants apart never makes a correct server
//! fail. (In the sorted list, calls come before returns at the same instant, as in Porcupine.)
//! A command with `ret < call` is taken as returning when it was called.
//!
//! Iterative (the stack is a `Vec`, not the call stack), deterministic (ties in time are
//! broken by command index, candidates are tried in list order, and the memo is only asked
//! whether it holds a key, never iterated), and its memory is the memo: one entry per model
//! step that succeeded, so at most `budget` entries, plus O(commands) for the list and stack.

use std::collections::HashSet;
use std::hash::Hash;

/// One command of a history: which client, and when it was called and returned, in any
/// monotonic unit (nanoseconds since the case began). `call <= ret`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub client: usize,
    pub call: u64,
    pub ret: u64,
}

/// What the search needs of a model: whether an op's recorded reply is explained in a state,
/// and the state after it.
pub trait Model {
    type State: Clone + Eq + Hash;
    type Error;
    /// `Ok(Some(next))` when op `op`'s recorded reply is what the model allows in `state`
    /// (and `next` is the state after it); `Ok(None)` when it is not; `Err` when the model
    /// itself fails (an expression error): the search stops and returns it.
    fn step(&mut self, state: &Self::State, op: usize) -> Result<Option<Self::State>, Self::Error>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Some order explains every reply: one such order (indices into `ops`).
    Linearizable { order: Vec<usize> },
    /// No order does. `longest`: the longest order of ops found that explains their replies
    /// (the first one the search reached at that depth); `stuck`: the ops that could have come
    /// next after `longest` by real time, none of whose replies the model explains in the
    /// state `longest` leads to, in the order they were called ("after these, none of these").
    NotLinearizable {
        longest: Vec<usize>,
        stuck: Vec<usize>,
    },
    /// The search needed more than `budget` steps (a step = one `Model::step` call) to
    /// decide; `steps` is the budget, all of it spent.
    Undecided { steps: u64 },
}

/// The verdict and what it cost: the number of `Model::step` calls made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    pub steps: u64,
}

/// Searches for an order of `ops` that is consistent with real time and in which `model`,
/// starting from `initial`, explains every reply. At most `budget` calls of `Model::step` are
/// made; a model error stops the search and is returned as it is.
pub fn check<M: Model>(
    ops: &[Op],
    initial: M::State,
    model: &mut M,
    budget: u64,
) -> Result<Checked, M::Error> {
    Search::new(ops, initial, budget).run(model)
}

/// The list's two sentinels: node 0 is the head, node `2n + 1` the tail, so every entry has
/// a predecessor and a successor and relinking needs no special case.
const HEAD: usize = 0;

/// The entries of a history as a doubly linked list over arrays: node `1..=2n` is the i-th
/// entry in time order.
struct Entries {
    /// The command each node belongs to (sentinels: unused).
    op: Vec<usize>,
    /// For a call node, its return node; `None` for returns and the sentinels.
    ret: Vec<Option<usize>>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl Entries {
    fn new(ops: &[Op]) -> Entries {
        // (time, 0 for a call / 1 for a return, command): calls before returns at the same
        // instant (equal times overlap), and the command index makes the order total, so
        // the same history always gives the same list.
        let mut sorted: Vec<(u64, u8, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            sorted.push((op.call, 0, i));
            sorted.push((op.ret.max(op.call), 1, i));
        }
        sorted.sort_unstable();
        let nodes = sorted.len() + 2;
        let mut op = vec![0; nodes];
        let mut ret = vec![None; nodes];
        let mut ret_node = vec![0; ops.len()];
        for (k, &(_, kind, i)) in sorted.iter().enumerate() {
            op[k + 1] = i;
            if kind == 1 {
                ret_node[i] = k + 1;
            }
        }
        for (k, &(_, kind, i)) in sorted.iter().enumerate() {
            if kind == 0 {
                ret[k + 1] = Some(ret_node[i]);
            }
        }
        Entries {
            op,
            ret,
            next: (1..=nodes).collect(),
            prev: (0..nodes).map(|k| k.saturating_sub(1)).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.next[HEAD] == self.op.len() - 1
    }

    fn unlink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn relink(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = node;
        self.prev[n] = node;
    }

    /// Takes a call and its return out of the list; they keep their own links, so
    /// [`Entries::unlift`] puts them back, as long as lifts are undone last first.
    fn lift(&mut self, call: usize, ret: usize) {
        self.unlink(call);
        self.unlink(ret);
    }

    fn unlift(&mut self, call: usize, ret: usize) {
        self.relink(ret);
        self.relink(call);
    }

    /// The commands whose calls come before `stop` in the list, in list order.
    fn calls_before(&self, stop: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut node = self.next[HEAD];
        while node != stop {
            out.push(self.op[node]);
            node = self.next[node];
        }
        out
    }
}

/// The set of commands placed so far, as bits.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Placed(Vec<u64>);

impl Placed {
    fn new(n: usize) -> Placed {
        Placed(vec![0; n.div_ceil(64)])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// One command on the stack: its two nodes and the state before it.
struct Placement<S> {
    call: usize,
    ret: usize,
    before: S,
}

/// One search in progress: the list, the stack of placements, the memo.
struct Search<S> {
    entries: Entries,
    placed: Placed,
    stack: Vec<Placement<S>>,
    memo: HashSet<(Placed, S)>,
    state: S,
    steps: u64,
    budget: u64,
    /// The deepest dead end so far: the order that led to it and the candidates there.
    deepest: Option<(Vec<usize>, Vec<usize>)>,
}

impl<S: Clone + Eq + Hash> Search<S> {
    fn new(ops: &[Op], initial: S, budget: u64) -> Search<S> {
        Search {
            entries: Entries::new(ops),
            placed: Placed::new(ops.len()),
            stack: Vec::with_capacity(ops.len()),
            memo: HashSet::new(),
            state: initial,
            steps: 0,
            budget,
            deepest: None,
        }
    }

    fn order(&self) -> Vec<usize> {
        self.stack.iter().map(|p| self.entries.op[p.call]).collect()
    }

    fn verdict(&self, verdict: Verdict) -> Checked {
        Checked {
            verdict,
            steps: self.steps,
        }
    }

    fn run<M: Model<State = S>>(mut self, model: &mut M) -> Result<Checked, M::Error> {
        let mut node = self.entries.next[HEAD];
        // Each pass either tries one call (a model step, at most `budget` of them), moves past
        // one call, or undoes one placement; a placement needs a step, so the loop is bounded.
        while !self.entries.is_empty() {
            if let Some(ret) = self.entries.ret[node] {
                if self.steps == self.budget {
                    return Ok(self.verdict(Verdict::Undecided { steps: self.steps }));
                }
                self.steps += 1;
                let op = self.entries.op[node];
                node = match model.step(&self.state, op)? {
                    Some(next) => self.place(node, ret, op, next),
                    None => self.entries.next[node],
                };
            } else {
                // A return before any workable call: the command it ends cannot be put off
                // any longer, and it cannot go here either.
                self.note_dead_end(node);
                let Some(Placement { call, ret, before }) = self.stack.pop() else {
                    let (longest, stuck) = self.deepest.take().unwrap_or_default();
                    return Ok(self.verdict(Verdict::NotLinearizable { longest, stuck }));
                };
                self.entries.unlift(call, ret);
                self.placed.clear(self.entries.op[call]);
                self.state = before;
                node = self.entries.next[call];
            }
        }
        Ok(self.verdict(Verdict::Linearizable {
            order: self.order(),
        }))
    }

    /// Places `op` (its call node `call`, return node `ret`), which the model explained with
    /// state `next` after it, unless that set of commands has already reached that state.
    /// Returns the node to look at next.
    fn place(&mut self, call: usize, ret: usize, op: usize, next: S) -> usize {
        self.placed.set(op);
        if !self.memo.insert((self.placed.clone(), next.clone())) {
            self.placed.clear(op);
            return self.entries.next[call];
        }
        let before = std::mem::replace(&mut self.state, next);
        self.stack.push(Placement { call, ret, before });
        self.entries.lift(call, ret);
        self.entries.next[HEAD]
    }

    /// Keeps the dead end at `ret` when it is deeper than any before. At the first dead end of
    /// a new greatest depth, every candidate was refused by the model itself, not by the memo:
    /// a memo hit would mean this depth plus one had been reached before, and every depth
    /// reached ends in a dead end at least that deep.
    fn note_dead_end(&mut self, ret: usize) {
        let depth = self.stack.len();
        if self
            .deepest
            .as_ref()
            .is_none_or(|(longest, _)| depth > longest.len())
        {
            self.deepest = Some((self.order(), self.entries.calls_before(ret)));
        }
    }
}

#[cfg(test)]
#[path = "linear_tests.rs"]
mod tests;
