//! How conform waits for a reply: by blocking in the kernel, or by spinning on a
//! non-blocking socket for a short, adaptive time first.
//!
//! In: the run's choice (`--poll spin|block|auto`), the number of cores and the load, and,
//! per socket, how long recent replies took. Out: whether to spin and for how long before the
//! usual blocking wait with its deadline. One request in flight is bound by the time it takes
//! the kernel to wake a blocked thread; a thread that spins for the reply skips that, and is
//! about three times faster against a fast server on this kind of machine. Spinning takes a
//! core, so `auto` spins only when there is a core to spare, and each socket stops spinning
//! for a while when replies keep coming after its spin window (a slow server), so conform's
//! own CPU stays low. What a thread learns of reply times carries over from one case's
//! socket to the next.

use std::sync::OnceLock;
use std::time::Duration;

/// The user's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    Spin,
    Block,
    #[default]
    Auto,
}

/// A `--poll` value that names no [`Mode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: --poll is spin, block or auto")]
pub struct UnknownMode {
    pub text: String,
}

impl UnknownMode {
    /// `--poll` is the user's choice.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

impl std::str::FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(text: &str) -> Result<Mode, UnknownMode> {
        match text {
            "spin" => Ok(Mode::Spin),
            "block" => Ok(Mode::Block),
            "auto" => Ok(Mode::Auto),
            other => Err(UnknownMode {
                text: other.to_string(),
            }),
        }
    }
}

/// What `auto` decides, and why, for `--verbose`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub spin: bool,
    pub why: String,
}

/// `auto` spins only with a core to spare: at least two cores, and a load average at least
/// one core below their number (the program under test needs one to answer).
pub fn decide(mode: Mode, cores: usize, load: Option<f64>) -> Choice {
    match mode {
        Mode::Spin => Choice {
            spin: true,
            why: "spin (asked with --poll spin)".into(),
        },
        Mode::Block => Choice {
            spin: false,
            why: "block (asked with --poll block)".into(),
        },
        Mode::Auto if cores < 2 => Choice {
            spin: false,
            why: format!("block: auto, and this machine has {cores} core"),
        },
        Mode::Auto => match load {
            Some(load) if load > cores as f64 - 1.0 => Choice {
                spin: false,
                why: format!(
                    "block: auto, and the load ({load:.2}) leaves no core to spare of {cores}"
                ),
            },
            Some(load) => Choice {
                spin: true,
                why: format!("spin: auto, {cores} cores and a load of {load:.2}"),
            },
            None => Choice {
                spin: false,
                why: "block: auto, and the load average cannot be read".into(),
            },
        },
    }
}

static CHOICES: [OnceLock<Choice>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// The decision for `mode`, made once per process (the first time it is asked): `auto` reads
/// the load average then, not at every case.
pub fn choice_for(mode: Mode) -> &'static Choice {
    let slot = match mode {
        Mode::Spin => 0,
        Mode::Block => 1,
        Mode::Auto => 2,
    };
    CHOICES[slot].get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        decide(mode, cores, load_average())
    })
}

/// Makes this thread's exchanges wait as `mode` decides: the run's options say how, so a
/// library caller chooses it like the command line does.
pub fn configure(mode: Mode) {
    let spin = choice_for(mode).spin;
    SPINNER.with(|s| s.borrow_mut().spin = spin);
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The shortest and longest spin window.
const MIN_SPIN: Duration = Duration::from_micros(20);
const MAX_SPIN: Duration = Duration::from_micros(400);
/// Replies that come after the window, in a row, before a socket rests from spinning.
const MISSES_BEFORE_REST: u32 = 4;
/// Receives a resting socket makes without spinning.
const REST: u32 = 64;

thread_local! {
    /// The spinning state of this thread's exchanges. It outlives sockets: a case often opens
    /// a socket, waits for one reply and closes it, so what was learnt about the server's
    /// reply time must carry over to the next case's socket. Each `--jobs` worker talks to
    /// its own program, and has its own state.
    static SPINNER: std::cell::RefCell<Spinner> = std::cell::RefCell::new(Spinner::default());
}

/// How long this thread should spin for its next reply (see [`Spinner::window`]).
pub fn window() -> Duration {
    SPINNER.with(|s| s.borrow_mut().window())
}

/// Records a reply time for this thread (see [`Spinner::replied`]).
pub fn replied(took: Duration, hit: bool) {
    SPINNER.with(|s| s.borrow_mut().replied(took, hit));
}

/// A spinning state: how long replies take, and whether spinning rests.
#[derive(Debug, Clone)]
pub struct Spinner {
    /// Whether this thread spins at all (the run's choice, see [`configure`]).
    pub spin: bool,
    /// A moving average of reply times, in nanoseconds.
    average: u64,
    misses: u32,
    resting: u32,
}

impl Default for Spinner {
    fn default() -> Self {
        Spinner {
            spin: choice_for(Mode::Auto).spin,
            average: 50_000,
            misses: 0,
            resting: 0,
        }
    }
}

impl Spinner {
    /// How long to spin before blocking: zero when blocking is the choice or the socket
    /// rests; otherwise a few times the recent reply time, within bounds.
    pub fn window(&mut self) -> Duration {
        if !self.spin {
            return Duration::ZERO;
        }
        if self.resting > 0 {
            self.resting -= 1;
            return Duration::ZERO;
        }
        Duration::from_nanos(self.average.saturating_mul(3)).clamp(MIN_SPIN, MAX_SPIN)
    }

    /// A reply arrived after `took`, during the spin (`hit`) or after it.
    pub fn replied(&mut self, took: Duration, hit: bool) {
        let took = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        self.average = self.average - self.average / 8 + took / 8;
        if hit {
            self.misses = 0;
        } else {
            self.misses += 1;
            if self.misses >= MISSES_BEFORE_REST {
                self.misses = 0;
                self.resting = REST;
            }
        }
    }

    /// Whether this socket is resting from spinning now.
    pub fn is_resting(&self) -> bool {
        self.resting > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_blocks_on_one_core() {
        assert!(!decide(Mode::Auto, 1, Some(0.0)).spin);
        assert!(decide(Mode::Auto, 1, Some(0.0)).why.contains("1 core"));
    }

    #[test]
    fn auto_blocks_when_the_load_leaves_no_core_to_spare() {
        assert!(!decide(Mode::Auto, 2, Some(1.5)).spin);
        assert!(decide(Mode::Auto, 2, Some(0.4)).spin);
        assert!(!decide(Mode::Auto, 4, None).spin);
    }

    #[test]
    fn an_explicit_choice_is_honoured_whatever_the_machine() {
        assert!(decide(Mode::Spin, 1, Some(9.0)).spin);
        assert!(!decide(Mode::Block, 64, Some(0.0)).spin);
    }

    #[test]
    fn a_socket_that_keeps_missing_rests_then_tries_again() {
        let mut s = Spinner::default();
        for _ in 0..MISSES_BEFORE_REST {
            s.replied(Duration::from_millis(1), false);
        }
        assert!(s.is_resting());
        for _ in 0..REST {
            s.resting = s.resting.saturating_sub(1);
        }
        assert!(!s.is_resting());
    }

    #[test]
    fn the_average_follows_reply_times() {
        let mut s = Spinner::default();
        for _ in 0..64 {
            s.replied(Duration::from_micros(10), true);
        }
        assert!(s.average < 12_000, "{}", s.average);
        for _ in 0..64 {
            s.replied(Duration::from_micros(300), true);
        }
        assert!(s.average > 250_000, "{}", s.average);
    }

    #[test]
    fn modes_parse_and_refuse_other_words() {
        assert_eq!("spin".parse::<Mode>(), Ok(Mode::Spin));
        let err = "fast".parse::<Mode>().unwrap_err();
        assert_eq!(err.to_string(), "`fast`: --poll is spin, block or auto");
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }
}
