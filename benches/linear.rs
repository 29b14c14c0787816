//! How fast the linearizability check decides, and where its search gets expensive.
//!
//! `cargo bench --bench linear` checks histories of a key-value store (three keys; `set`
//! replies OK, `get` the value or nil, `incr` the new value) for 1, 2, 3, 4, 6 and 8 clients
//! of 4, 8, 16 and 32 commands each. Histories come from a seeded simulation: each client makes
//! its commands one after the other with random pauses and durations, so commands of different
//! clients overlap at random, and every command takes effect at a random instant between its
//! call and its return, which gives the replies (a linearizable history). The same history
//! with one `get` or `incr` reply changed to -1, which no order can give, is the expensive
//! case: the search must rule out every order real time allows.
//!
//! A second table keeps 6 clients of 16 commands and shortens the pauses between a client's
//! commands, so that more commands are in flight at once ("overlap": how many other commands
//! one overlaps, on average): this, not the length of the history, is what the cost grows with.
//!
//! For each size it prints histories checked per second, the mean and the largest number of
//! model steps per history, and how many ran out of the budget of steps. Steps and verdicts
//! depend only on the seed; the rates depend on the machine. Each cell checks up to a number
//! of histories, stopping early once it has spent a number of steps, so the big cells stay
//! short. Set `CONFORM_BENCH_QUICK=1` for fewer histories.

use std::convert::Infallible;
use std::time::Instant;

use conform::input::generate::Rng;
use conform::verdict::linear::{Model, Op, Verdict, check};

const CLIENTS: [usize; 6] = [1, 2, 3, 4, 6, 8];
const COMMANDS: [usize; 4] = [4, 8, 16, 32];
const KEYS: usize = 3;
/// The longest pause between a client's commands (they take 1 to 100 units).
const PAUSE: u64 = 40;
/// Pauses for the table of overlap: from mostly one client at a time to all at once.
const PAUSES: [u64; 5] = [800, 200, 40, 10, 0];
/// Client counts past the grid, to show where the search stops being cheap.
const MORE_CLIENTS: [usize; 4] = [10, 12, 14, 16];
/// Model steps one history may take before it is undecided.
const BUDGET: u64 = 2_000_000;

#[derive(Debug, Clone, Copy)]
enum Cmd {
    Set(usize, i64),
    Get(usize),
    Incr(usize),
}

/// A command and its recorded reply (`None`: OK for a set, nil for a get).
#[derive(Debug, Clone, Copy)]
struct Recorded {
    cmd: Cmd,
    reply: Option<i64>,
}

type Store = [Option<i64>; KEYS];

/// What `cmd` replies in `store`, and the store after it.
fn apply(store: &Store, cmd: Cmd) -> (Option<i64>, Store) {
    let mut next = *store;
    let reply = match cmd {
        Cmd::Set(key, v) => {
            next[key] = Some(v);
            None
        }
        Cmd::Get(key) => store[key],
        Cmd::Incr(key) => {
            let v = store[key].unwrap_or(0) + 1;
            next[key] = Some(v);
            Some(v)
        }
    };
    (reply, next)
}

struct KeyValue<'a>(&'a [Recorded]);

impl Model for KeyValue<'_> {
    type State = Store;
    type Error = Infallible;
    fn step(&mut self, state: &Store, op: usize) -> Result<Option<Store>, Infallible> {
        let (reply, next) = apply(state, self.0[op].cmd);
        Ok((reply == self.0[op].reply).then_some(next))
    }
}

/// The shape of a simulated run: `clients` clients of `per_client` commands each, each
/// command taking 1 to 100 time units and called 0 to `pause` units after the client's
/// previous one returned.
#[derive(Debug, Clone, Copy)]
struct Size {
    clients: usize,
    per_client: usize,
    pause: u64,
}

/// One simulated run, with replies from the order of the instants the commands took effect.
fn simulate(rng: &mut Rng, size: Size) -> (Vec<Op>, Vec<Recorded>) {
    let Size {
        clients,
        per_client,
        pause,
    } = size;
    let mut ops = Vec::new();
    let mut cmds = Vec::new();
    let mut effect = Vec::new();
    for client in 0..clients {
        let mut t = rng.below(50);
        for _ in 0..per_client {
            let call = t + rng.below(pause + 1);
            let ret = call + 1 + rng.below(100);
            effect.push((call + rng.below(ret - call + 1), ops.len()));
            ops.push(Op { client, call, ret });
            let key = rng.below(KEYS as u64) as usize;
            cmds.push(match rng.below(3) {
                0 => Cmd::Set(key, rng.below(4) as i64),
                1 => Cmd::Get(key),
                _ => Cmd::Incr(key),
            });
            t = ret;
        }
    }
    effect.sort_unstable();
    let mut replies = vec![None; ops.len()];
    let mut store = [None; KEYS];
    for (_, i) in effect {
        let (reply, next) = apply(&store, cmds[i]);
        replies[i] = reply;
        store = next;
    }
    let recorded = cmds
        .into_iter()
        .zip(replies)
        .map(|(cmd, reply)| Recorded { cmd, reply })
        .collect();
    (ops, recorded)
}

/// Changes one `get` or `incr` reply to -1; false when there is none to change.
fn corrupt(rng: &mut Rng, recorded: &mut [Recorded]) -> bool {
    let replying: Vec<usize> = (0..recorded.len())
        .filter(|&i| !matches!(recorded[i].cmd, Cmd::Set(..)))
        .collect();
    if replying.is_empty() {
        return false;
    }
    let i = replying[rng.below(replying.len() as u64) as usize];
    recorded[i].reply = Some(-1);
    true
}

#[derive(Default)]
struct Cell {
    histories: u64,
    steps: u64,
    max: u64,
    undecided: u64,
    /// Verdicts that contradict how the history was made: must stay 0.
    wrong: u64,
    seconds: f64,
}

impl Cell {
    fn show(&self) -> String {
        if self.histories == 0 {
            return format!("{:>10} {:>9} {:>9} {:>5}", "-", "-", "-", "-");
        }
        format!(
            "{:>10.0} {:>9.0} {:>9} {:>5}",
            self.histories as f64 / self.seconds.max(1e-9),
            self.steps as f64 / self.histories as f64,
            self.max,
            self.undecided
        )
    }
}

/// How many other commands a command overlaps, on average.
fn overlap(ops: &[Op]) -> f64 {
    let pairs = ops
        .iter()
        .enumerate()
        .flat_map(|(i, a)| ops[i + 1..].iter().map(move |b| (a, b)))
        .filter(|(a, b)| a.ret >= b.call && b.ret >= a.call)
        .count();
    2.0 * pairs as f64 / ops.len().max(1) as f64
}

/// Checks up to `histories` histories of one size, stopping once `spend` steps are spent.
/// Returns the linearizable ones' cell, the corrupted ones' and the mean overlap.
fn measure(size: Size, histories: u64, spend: u64) -> (Cell, Cell, f64) {
    let seed = size.clients * 100 + size.per_client + 10_000 * size.pause as usize;
    let mut rng = Rng::new(seed as u64);
    let (mut good, mut bad) = (Cell::default(), Cell::default());
    let mut overlaps = 0.0;
    for _ in 0..histories {
        if good.steps + bad.steps >= spend {
            break;
        }
        let (ops, mut recorded) = simulate(&mut rng, size);
        overlaps += overlap(&ops);
        tally(&mut good, &ops, &recorded, true);
        if corrupt(&mut rng, &mut recorded) {
            tally(&mut bad, &ops, &recorded, false);
        }
    }
    let overlap = overlaps / good.histories.max(1) as f64;
    (good, bad, overlap)
}

fn tally(cell: &mut Cell, ops: &[Op], recorded: &[Recorded], linearizable: bool) {
    let started = Instant::now();
    let checked = check(ops, [None; KEYS], &mut KeyValue(recorded), BUDGET);
    cell.seconds += started.elapsed().as_secs_f64();
    let checked = checked.unwrap_or_else(|never| match never {});
    cell.histories += 1;
    cell.steps += checked.steps;
    cell.max = cell.max.max(checked.steps);
    match checked.verdict {
        Verdict::Undecided { .. } => cell.undecided += 1,
        Verdict::Linearizable { .. } if !linearizable => cell.wrong += 1,
        Verdict::NotLinearizable { .. } if linearizable => cell.wrong += 1,
        _ => {}
    }
}

fn main() {
    let quick = std::env::var_os("CONFORM_BENCH_QUICK").is_some();
    let (histories, spend) = if quick {
        (20, 2_000_000)
    } else {
        (200, 20_000_000)
    };
    println!(
        "Linearizability of key-value histories: up to {histories} per size, until \
         {spend} steps are spent; budget {BUDGET} steps per history"
    );
    println!(
        "{:>7} {:>5}  {:^35}  {:^35}",
        "clients", "cmds", "linearizable", "one reply corrupted"
    );
    let head = format!("{:>10} {:>9} {:>9} {:>5}", "hist/s", "mean", "max", "undec");
    println!("{:>7} {:>5}  {head}  {head}", "", "each");
    let mut wrong = 0;
    for clients in CLIENTS {
        for per_client in COMMANDS {
            let size = Size {
                clients,
                per_client,
                pause: PAUSE,
            };
            let (good, bad, _) = measure(size, histories, spend);
            wrong += good.wrong + bad.wrong;
            println!(
                "{clients:>7} {per_client:>5}  {}  {}",
                good.show(),
                bad.show()
            );
        }
    }
    println!(
        "\nThe same for 6 clients of 16 commands, with shorter pauses between a client's \
         commands:\nmore of them in flight at once"
    );
    println!(
        "{:>7} {:>7}  {:^35}  {:^35}",
        "pause", "overlap", "linearizable", "one reply corrupted"
    );
    println!("{:>7} {:>7}  {head}  {head}", "", "");
    for pause in PAUSES {
        let size = Size {
            clients: 6,
            per_client: 16,
            pause,
        };
        let (good, bad, overlap) = measure(size, histories, spend);
        wrong += good.wrong + bad.wrong;
        println!(
            "{:>7} {overlap:>7.1}  {}  {}",
            format!("0-{pause}"),
            good.show(),
            bad.show()
        );
    }
    println!("\nMore clients than the table above, 16 commands each, pauses of 0-{PAUSE} as there");
    println!("{:>7} {:>7}  {head}  {head}", "clients", "overlap");
    for clients in MORE_CLIENTS {
        let size = Size {
            clients,
            per_client: 16,
            pause: PAUSE,
        };
        let (good, bad, overlap) = measure(size, histories, spend);
        wrong += good.wrong + bad.wrong;
        println!(
            "{clients:>7} {overlap:>7.1}  {}  {}",
            good.show(),
            bad.show()
        );
    }
    if wrong > 0 {
        println!("\n{wrong} verdict(s) contradict how their history was made");
        std::process::exit(1);
    }
}
