//! The linearizability search against a register and a counter: verdicts, the dead end it
//! reports, its budget, model errors, its cost, and properties checked against brute force.

use std::convert::Infallible;

use proptest::prelude::*;

use super::*;

fn op(client: usize, call: u64, ret: u64) -> Op {
    Op { client, call, ret }
}

/// A register holding one number, 0 at first: a write always succeeds, a read returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    Write(i64),
    Read(i64),
}

struct Register(Vec<Reg>);

impl Model for Register {
    type State = i64;
    type Error = Infallible;
    fn step(&mut self, state: &i64, op: usize) -> Result<Option<i64>, Infallible> {
        Ok(match self.0[op] {
            Reg::Write(v) => Some(v),
            Reg::Read(v) => (v == *state).then_some(v),
        })
    }
}

/// A counter, 0 at first: every command is an increment whose recorded reply is the new value.
struct Counter(Vec<i64>);

impl Model for Counter {
    type State = i64;
    type Error = Infallible;
    fn step(&mut self, state: &i64, op: usize) -> Result<Option<i64>, Infallible> {
        Ok((self.0[op] == state + 1).then_some(state + 1))
    }
}

fn run<M: Model<Error = Infallible>>(ops: &[Op], model: &mut M, initial: M::State) -> Checked {
    match check(ops, initial, model, u64::MAX) {
        Ok(checked) => checked,
        Err(never) => match never {},
    }
}

fn register(ops: &[Op], cmds: &[Reg]) -> Verdict {
    run(ops, &mut Register(cmds.to_vec()), 0).verdict
}

fn counter(ops: &[Op], replies: &[i64]) -> Verdict {
    run(ops, &mut Counter(replies.to_vec()), 0).verdict
}

fn linearizable(order: &[usize]) -> Verdict {
    Verdict::Linearizable {
        order: order.to_vec(),
    }
}

fn dead_end(longest: &[usize], stuck: &[usize]) -> Verdict {
    Verdict::NotLinearizable {
        longest: longest.to_vec(),
        stuck: stuck.to_vec(),
    }
}

/// Whether `a` must come before `b`: it returned strictly before `b` was called.
fn precedes(a: &Op, b: &Op) -> bool {
    a.ret.max(a.call) < b.call
}

/// The state after `order`, when real time allows it as a prefix and the model explains every
/// reply in it.
fn replay(ops: &[Op], cmds: &[Reg], order: &[usize]) -> Option<i64> {
    let mut model = Register(cmds.to_vec());
    let mut state = 0;
    for (at, &i) in order.iter().enumerate() {
        let later = |j: &usize| !order[..at].contains(j) && *j != i;
        if (0..ops.len())
            .filter(later)
            .any(|j| precedes(&ops[j], &ops[i]))
        {
            return None;
        }
        state = model.step(&state, i).ok()??;
    }
    Some(state)
}

/// The length of the longest prefix real time and the model allow, and whether a full one
/// exists, by trying every order (small histories only).
fn brute_force(ops: &[Op], cmds: &[Reg]) -> (usize, bool) {
    fn go(ops: &[Op], cmds: &[Reg], order: &mut Vec<usize>, best: &mut usize) {
        *best = (*best).max(order.len());
        for i in 0..ops.len() {
            if order.contains(&i) {
                continue;
            }
            order.push(i);
            if replay(ops, cmds, order).is_some() {
                go(ops, cmds, order, best);
            }
            order.pop();
        }
    }
    let mut best = 0;
    go(ops, cmds, &mut Vec::new(), &mut best);
    (best, best == ops.len())
}

/// The commands real time allows right after `placed`, in the order they were called.
fn candidates(ops: &[Op], placed: &[usize]) -> Vec<usize> {
    let open: Vec<usize> = (0..ops.len()).filter(|i| !placed.contains(i)).collect();
    let mut next: Vec<usize> = open
        .iter()
        .copied()
        .filter(|&i| !open.iter().any(|&j| precedes(&ops[j], &ops[i])))
        .collect();
    next.sort_by_key(|&i| (ops[i].call, i));
    next
}

#[test]
fn a_sequential_register_history_is_linearizable_in_its_order() {
    let ops = [op(0, 0, 1), op(1, 2, 3), op(0, 4, 5), op(1, 6, 7)];
    let cmds = [Reg::Write(3), Reg::Read(3), Reg::Write(4), Reg::Read(4)];
    assert_eq!(register(&ops, &cmds), linearizable(&[0, 1, 2, 3]));
}

#[test]
fn a_sequential_counter_history_is_linearizable_in_its_order() {
    let ops = [op(0, 0, 10), op(1, 11, 20), op(2, 21, 30)];
    let checked = run(&ops, &mut Counter(vec![1, 2, 3]), 0);
    assert_eq!(checked.verdict, linearizable(&[0, 1, 2]));
    assert_eq!(checked.steps, 3, "one step per command, nothing to undo");
}

#[test]
fn two_overlapping_increments_both_returning_1_are_not_linearizable() {
    let ops = [op(0, 0, 10), op(1, 5, 15)];
    let checked = run(&ops, &mut Counter(vec![1, 1]), 0);
    assert_eq!(checked.verdict, dead_end(&[0], &[1]));
    // 0 then 1 (refused), 1 then 0 (refused): four steps.
    assert_eq!(checked.steps, 4);
}

#[test]
fn a_read_of_a_value_written_only_after_the_read_returned_is_not_linearizable() {
    let cmds = [Reg::Read(1), Reg::Write(1)];
    let after = [op(0, 0, 10), op(1, 20, 30)];
    assert_eq!(register(&after, &cmds), dead_end(&[], &[0]));
    // Had the write begun before the read returned, it could have come first.
    let during = [op(0, 0, 10), op(1, 5, 30)];
    assert_eq!(register(&during, &cmds), linearizable(&[1, 0]));
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable() {
    let ops = [op(0, 0, 10), op(1, 20, 30)];
    let cmds = [Reg::Write(1), Reg::Read(0)];
    assert_eq!(register(&ops, &cmds), dead_end(&[0], &[1]));
}

#[test]
fn overlapping_commands_that_only_work_in_the_later_order_pass() {
    // The write is called first, but the read, overlapping it, saw the old value.
    let ops = [op(0, 0, 10), op(1, 5, 15)];
    let cmds = [Reg::Write(1), Reg::Read(0)];
    assert_eq!(register(&ops, &cmds), linearizable(&[1, 0]));
    // Two increments: the one called second got 1.
    assert_eq!(counter(&ops, &[2, 1]), linearizable(&[1, 0]));
}

#[test]
fn the_dead_end_names_the_deepest_order_and_every_command_that_could_follow() {
    // After the write of 1, neither overlapping read (of 2, of 3) is explained.
    let ops = [op(0, 0, 5), op(1, 10, 20), op(2, 12, 20)];
    let cmds = [Reg::Write(1), Reg::Read(2), Reg::Read(3)];
    assert_eq!(register(&ops, &cmds), dead_end(&[0], &[1, 2]));
    // The deepest order is found on the second path tried: 0 cannot go first, 1 then 0 can,
    // and nothing gives 5 after two increments.
    let ops = [op(0, 0, 10), op(1, 0, 10), op(2, 20, 30)];
    assert_eq!(counter(&ops, &[2, 1, 5]), dead_end(&[1, 0], &[2]));
}

#[test]
fn equal_times_overlap_and_either_order_is_tried() {
    let cmds = [Reg::Write(1), Reg::Read(0)];
    // The write returned at the very instant the read was called: the read may come first.
    let touching = [op(0, 0, 10), op(1, 10, 20)];
    assert_eq!(register(&touching, &cmds), linearizable(&[1, 0]));
    // One time unit apart, it may not.
    let apart = [op(0, 0, 10), op(1, 11, 20)];
    assert_eq!(register(&apart, &cmds), dead_end(&[0], &[1]));
}

#[test]
fn commands_that_return_when_they_are_called_are_points_in_time() {
    let cmds = [Reg::Write(1), Reg::Read(0)];
    let same_instant = [op(0, 5, 5), op(1, 5, 5)];
    assert_eq!(register(&same_instant, &cmds), linearizable(&[1, 0]));
    let one_after = [op(0, 5, 5), op(1, 6, 6)];
    assert_eq!(register(&one_after, &cmds), dead_end(&[0], &[1]));
    let read_new = [Reg::Write(1), Reg::Read(1)];
    assert_eq!(register(&one_after, &read_new), linearizable(&[0, 1]));
}

#[test]
fn a_return_recorded_before_its_call_counts_as_returning_at_the_call() {
    // Command 1 "returned" at 3 but was called at 8: taken as [8, 8], after the write ended.
    let ops = [op(0, 0, 5), op(1, 8, 3)];
    let cmds = [Reg::Write(1), Reg::Read(0)];
    assert_eq!(register(&ops, &cmds), dead_end(&[0], &[1]));
}

#[test]
fn an_empty_history_is_linearizable_without_a_step() {
    let checked = check(&[], 0, &mut Counter(vec![]), 0);
    let checked = checked.unwrap_or_else(|never| match never {});
    assert_eq!(checked.verdict, linearizable(&[]));
    assert_eq!(checked.steps, 0);
}

#[test]
fn the_budget_stops_the_search_at_exactly_that_many_steps() {
    let ops = [op(0, 0, 10), op(1, 0, 10), op(2, 0, 10), op(0, 20, 30)];
    let replies = [1, 2, 3, 9];
    let full = run(&ops, &mut Counter(replies.to_vec()), 0);
    assert_eq!(full.verdict, dead_end(&[0, 1, 2], &[3]));
    assert!(full.steps > 3, "{}", full.steps);
    for budget in 0..full.steps {
        let cut = check(&ops, 0, &mut Counter(replies.to_vec()), budget).unwrap();
        assert_eq!(cut.verdict, Verdict::Undecided { steps: budget });
        assert_eq!(cut.steps, budget);
    }
    let enough = check(&ops, 0, &mut Counter(replies.to_vec()), full.steps).unwrap();
    assert_eq!(enough, full);
}

/// A counter whose `fails_at`-th step (from 1) is an error.
struct Failing {
    calls: u64,
    fails_at: u64,
}

impl Model for Failing {
    type State = i64;
    type Error = String;
    fn step(&mut self, state: &i64, _op: usize) -> Result<Option<i64>, String> {
        self.calls += 1;
        if self.calls == self.fails_at {
            return Err(format!("step {} failed", self.calls));
        }
        Ok(Some(state + 1))
    }
}

#[test]
fn a_model_error_stops_the_search_and_is_returned() {
    let ops = [op(0, 0, 10), op(1, 0, 10), op(2, 0, 10)];
    let mut model = Failing {
        calls: 0,
        fails_at: 2,
    };
    assert_eq!(
        check(&ops, 0, &mut model, u64::MAX),
        Err("step 2 failed".to_string())
    );
    assert_eq!(model.calls, 2, "no step after the error");
}

/// Three clients, each making 12 commands one after the other; every command overlaps the
/// other clients' neighbouring ones.
fn three_clients() -> (Vec<Op>, Vec<Reg>) {
    let mut ops = Vec::new();
    let mut cmds = Vec::new();
    for k in 0..12u64 {
        for c in 0..3u64 {
            let call = 100 * k + 30 * c;
            ops.push(op(c as usize, call, call + 95));
            cmds.push(Reg::Write(c as i64 + 1));
        }
    }
    (ops, cmds)
}

/// For every set of commands real time allows as a prefix (each client's placed commands are
/// a prefix of its own, as its commands do not overlap), given as how many of each client's
/// are placed: how many orders lead to it.
fn prefixes(ops: &[Op], per_client: usize, clients: usize) -> Vec<(Vec<usize>, u128)> {
    let base = per_client + 1;
    let sets = base.pow(clients as u32);
    let digits = |s: usize| -> Vec<usize> {
        (0..clients)
            .map(|c| s / base.pow(c as u32) % base)
            .collect()
    };
    let mut ways = vec![0u128; sets];
    ways[0] = 1;
    // Sets in increasing order of size, so every set is complete before it is extended.
    let mut by_size: Vec<usize> = (0..sets).collect();
    by_size.sort_by_key(|&s| digits(s).iter().sum::<usize>());
    for s in by_size {
        let done = digits(s);
        let placed: Vec<usize> = (0..ops.len())
            .filter(|&i| i / clients < done[i % clients])
            .collect();
        for i in candidates(ops, &placed) {
            ways[s + base.pow((i % clients) as u32)] += ways[s];
        }
    }
    (0..sets).map(|s| (digits(s), ways[s])).collect()
}

#[test]
fn three_clients_of_twelve_commands_take_a_bounded_number_of_steps() {
    let (ops, mut cmds) = three_clients();
    // The memo expands each (placed set, state) once. A placed set is a prefix of each
    // client's commands (13 ^ 3 sets), the state is one of 0..=3, and each expansion tries at
    // most one command per client. Past the bound the search stops undecided.
    let bound = 3 * 13u64.pow(3) * 4;
    // Client 0's last command reads a value nobody wrote, so no order works and the search
    // must rule out every placement of the others' writes.
    cmds[33] = Reg::Read(9);
    let checked = check(&ops, 0, &mut Register(cmds.clone()), bound).unwrap();
    let Verdict::NotLinearizable { longest, stuck } = &checked.verdict else {
        panic!("{:?}", checked.verdict);
    };
    assert_eq!(longest.len(), 35, "every write, then the read");
    assert_eq!(stuck, &[33]);
    println!("{} steps, bound {bound}", checked.steps);
    // Without the memo, the search would place commands once for every prefix real time
    // allows that leaves out the read (each is explained: only the read is refused).
    let without_memo: u128 = prefixes(&ops, 12, 3)
        .iter()
        .filter(|(done, _)| done[0] < 12)
        .map(|(_, ways)| ways)
        .sum();
    println!("{without_memo} prefixes without the memo");
    assert!(
        without_memo > 1000 * u128::from(bound),
        "{without_memo} prefixes"
    );
    // The same bound holds when it succeeds (the read now returns what client 2 wrote).
    cmds[33] = Reg::Read(3);
    let checked = check(&ops, 0, &mut Register(cmds), bound).unwrap();
    assert!(matches!(checked.verdict, Verdict::Linearizable { .. }));
}

#[test]
fn the_same_history_gives_the_same_answer_at_the_same_cost() {
    let (ops, mut cmds) = three_clients();
    cmds[20] = Reg::Read(2);
    let first = run(&ops, &mut Register(cmds.clone()), 0);
    for _ in 0..3 {
        assert_eq!(run(&ops, &mut Register(cmds.clone()), 0), first);
    }
}

/// A sequential run of a counter (command `i` at [10i, 10i + 5], replying i + 1) with every
/// call moved earlier and every return later by up to `widen` units.
fn widened(widen: &[(u64, u64)]) -> Vec<Op> {
    widen
        .iter()
        .enumerate()
        .map(|(i, &(early, late))| {
            let (call, ret) = (10 * i as u64, 10 * i as u64 + 5);
            op(i % 3, call.saturating_sub(early), ret + late)
        })
        .collect()
}

proptest! {
    /// Widening only takes constraints away, so the sequential order still works; a reply no
    /// order can give (0, or more than there were increments) always fails.
    #[test]
    fn a_widened_sequential_counter_run_passes_until_one_reply_is_impossible(
        widen in proptest::collection::vec((0u64..40, 0u64..40), 1..14),
        at in any::<proptest::sample::Index>(),
        bad in 0i64..4,
    ) {
        let ops = widened(&widen);
        let n = ops.len();
        let mut replies: Vec<i64> = (1..=n as i64).collect();
        let checked = run(&ops, &mut Counter(replies.clone()), 0);
        let Verdict::Linearizable { order } = checked.verdict else {
            return Err(TestCaseError::fail(format!("{:?}", checked.verdict)));
        };
        // The order given explains the run: real time allows it and it counts up.
        let mut sorted = order.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        for (at, &i) in order.iter().enumerate() {
            prop_assert_eq!(replies[i], at as i64 + 1);
            prop_assert!(order[at + 1..].iter().all(|&j| !precedes(&ops[j], &ops[i])));
        }
        replies[at.index(n)] = if bad == 0 { 0 } else { n as i64 + bad };
        let checked = run(&ops, &mut Counter(replies), 0);
        let failed = matches!(checked.verdict, Verdict::NotLinearizable { .. });
        prop_assert!(failed, "{:?}", checked.verdict);
    }

    /// On small random register histories the search agrees with trying every order: same
    /// verdict, a valid order, a longest order as long as the longest possible, and exactly
    /// the commands real time allows next, each refused there.
    #[test]
    fn small_register_histories_agree_with_brute_force(
        raw in proptest::collection::vec((0u64..12, 0u64..6, any::<bool>(), 0i64..3), 0..7),
    ) {
        let ops: Vec<Op> = raw.iter().map(|&(call, len, _, _)| op(0, call, call + len)).collect();
        let cmds: Vec<Reg> = raw
            .iter()
            .map(|&(_, _, write, v)| if write { Reg::Write(v) } else { Reg::Read(v) })
            .collect();
        let (deepest, possible) = brute_force(&ops, &cmds);
        match register(&ops, &cmds) {
            Verdict::Linearizable { order } => {
                prop_assert!(possible);
                prop_assert_eq!(order.len(), ops.len());
                prop_assert!(replay(&ops, &cmds, &order).is_some());
            }
            Verdict::NotLinearizable { longest, stuck } => {
                prop_assert!(!possible);
                prop_assert_eq!(longest.len(), deepest);
                let state = replay(&ops, &cmds, &longest);
                prop_assert!(state.is_some());
                prop_assert_eq!(&stuck, &candidates(&ops, &longest));
                for &i in &stuck {
                    let mut model = Register(cmds.clone());
                    prop_assert_eq!(model.step(&state.unwrap_or(0), i), Ok(None));
                }
            }
            Verdict::Undecided { .. } => prop_assert!(false, "no budget was set"),
        }
    }
}
