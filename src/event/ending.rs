//! How a program under test ended, as data: what `drive` saw (an exit status, and whether and
//! how conform had to stop the program) comes in; a [`ProgramEnding`] goes out, which each
//! reporter turns into its sentence ([`fmt::Display`]) or, for JSON, into fields.
//!
//! The sentences say what conform saw and no more: a program that exits by itself a moment
//! after SIGTERM did not "ignore" it, and one that needed SIGKILL is only known not to have
//! exited within the grace.

use std::fmt;
use std::time::Duration;

/// How a program's main process ended: the status `wait` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Self::Code(0)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => write!(f, "exited with code {code}"),
            Self::Signal(signal) => match signal_name(*signal) {
                Some(name) => write!(f, "killed by signal {signal} ({name})"),
                None => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// The conventional name of a common signal.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => return None,
    })
}

/// How the program under test ended, as conform saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramEnding {
    /// It exited by itself, before conform stopped it.
    Exited { code: i32 },
    /// A signal ended it before conform stopped it: a crash, an abort, a kill from elsewhere.
    Signaled { signal: i32 },
    /// It was still running when the case ended; conform's SIGTERM ended it.
    StoppedBySigterm { grace: Duration },
    /// It was still running when the case ended; after conform's SIGTERM it ended by itself
    /// (a handler that cleaned up and exited), within the grace.
    ExitedAfterSigterm { exit: Exit, grace: Duration },
    /// It was still running when the case ended and had not ended when the grace after
    /// SIGTERM ran out; conform killed it with SIGKILL.
    KilledAfterGrace { grace: Duration },
    /// The built-in reference, running in-process, was still running; conform told it to stop
    /// (no signal: it is a thread) and it returned with this code.
    ReferenceStopped { code: i32 },
}

impl From<Exit> for ProgramEnding {
    /// A program that ended by itself.
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Code(code) => Self::Exited { code },
            Exit::Signal(signal) => Self::Signaled { signal },
        }
    }
}

impl ProgramEnding {
    /// A stable word for machine-readable reports.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Exited { .. } => "exited",
            Self::Signaled { .. } => "signaled",
            Self::StoppedBySigterm { .. } => "stopped_by_sigterm",
            Self::ExitedAfterSigterm { .. } => "exited_after_sigterm",
            Self::KilledAfterGrace { .. } => "killed_after_grace",
            Self::ReferenceStopped { .. } => "reference_stopped",
        }
    }

    /// The exit status, when the program's own exit gave one.
    pub fn exit(&self) -> Option<Exit> {
        match *self {
            Self::Exited { code } | Self::ReferenceStopped { code } => Some(Exit::Code(code)),
            Self::Signaled { signal } => Some(Exit::Signal(signal)),
            Self::ExitedAfterSigterm { exit, .. } => Some(exit),
            Self::StoppedBySigterm { .. } | Self::KilledAfterGrace { .. } => None,
        }
    }

    /// The grace conform gave after SIGTERM, when it sent one.
    pub fn grace(&self) -> Option<Duration> {
        match *self {
            Self::StoppedBySigterm { grace }
            | Self::ExitedAfterSigterm { grace, .. }
            | Self::KilledAfterGrace { grace } => Some(grace),
            Self::Exited { .. } | Self::Signaled { .. } | Self::ReferenceStopped { .. } => None,
        }
    }
}

/// The sentence every report prints after "program ...:" and in the wire log.
impl fmt::Display for ProgramEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Exited { code } => write!(f, "{}", Exit::Code(code)),
            Self::Signaled { signal } => write!(f, "{}", Exit::Signal(signal)),
            Self::StoppedBySigterm { .. } => {
                f.write_str("was still running; conform stopped it with SIGTERM")
            }
            Self::ExitedAfterSigterm { exit, grace } => {
                let how = match exit {
                    Exit::Code(code) => format!("it exited by itself with code {code}"),
                    Exit::Signal(_) => format!("it was {exit}"),
                };
                write!(
                    f,
                    "was still running; after conform sent SIGTERM {how}, within the grace of {}",
                    Grace(grace)
                )
            }
            Self::KilledAfterGrace { grace } => write!(
                f,
                "was still running and did not exit within the grace of {} after SIGTERM; \
                 conform killed it with SIGKILL",
                Grace(grace)
            ),
            Self::ReferenceStopped { code: 0 } => {
                f.write_str("was still running; conform stopped it (in-process, no signal)")
            }
            Self::ReferenceStopped { code } => write!(
                f,
                "was still running; conform stopped it (in-process, no signal) and it ended \
                 with code {code}"
            ),
        }
    }
}

/// A grace as people say it: `500 ms`, `2 s`, `1500 ms`.
struct Grace(Duration);

impl fmt::Display for Grace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms >= 1000 && ms.is_multiple_of(1000) {
            write!(f, "{} s", ms / 1000)
        } else {
            write!(f, "{ms} ms")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const HALF: Duration = Duration::from_millis(500);
    const TWO: Duration = Duration::from_secs(2);

    #[rstest]
    #[case(Exit::Code(3), "exited with code 3")]
    #[case(Exit::Signal(9), "killed by signal 9 (SIGKILL)")]
    #[case(Exit::Signal(15), "killed by signal 15 (SIGTERM)")]
    #[case(Exit::Signal(40), "killed by signal 40")]
    fn exit_reads_as_a_phrase(#[case] exit: Exit, #[case] text: &str) {
        assert_eq!(exit.to_string(), text);
    }

    #[rstest]
    #[case::exited(ProgramEnding::Exited { code: 3 }, "exited with code 3")]
    #[case::crashed(ProgramEnding::Signaled { signal: 11 }, "killed by signal 11 (SIGSEGV)")]
    #[case::sigterm(
        ProgramEnding::StoppedBySigterm { grace: HALF },
        "was still running; conform stopped it with SIGTERM"
    )]
    #[case::cleaned_up(
        ProgramEnding::ExitedAfterSigterm { exit: Exit::Code(0), grace: TWO },
        "was still running; after conform sent SIGTERM it exited by itself with code 0, \
         within the grace of 2 s"
    )]
    #[case::aborted(
        ProgramEnding::ExitedAfterSigterm { exit: Exit::Signal(6), grace: TWO },
        "was still running; after conform sent SIGTERM it was killed by signal 6 (SIGABRT), \
         within the grace of 2 s"
    )]
    #[case::killed(
        ProgramEnding::KilledAfterGrace { grace: HALF },
        "was still running and did not exit within the grace of 500 ms after SIGTERM; \
         conform killed it with SIGKILL"
    )]
    #[case::reference(
        ProgramEnding::ReferenceStopped { code: 0 },
        "was still running; conform stopped it (in-process, no signal)"
    )]
    #[case::reference_failed(
        ProgramEnding::ReferenceStopped { code: 1 },
        "was still running; conform stopped it (in-process, no signal) and it ended with code 1"
    )]
    fn each_ending_reads_as_its_sentence(#[case] ending: ProgramEnding, #[case] text: &str) {
        assert_eq!(ending.to_string(), text);
    }

    #[rstest]
    #[case(Duration::from_millis(100), "100 ms")]
    #[case(Duration::from_millis(1500), "1500 ms")]
    #[case(Duration::from_secs(2), "2 s")]
    #[case(Duration::ZERO, "0 ms")]
    fn grace_reads_in_plain_units(#[case] grace: Duration, #[case] text: &str) {
        assert_eq!(Grace(grace).to_string(), text);
    }
}
