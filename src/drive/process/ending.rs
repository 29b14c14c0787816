//! How a program's main process ended: the status `wait` gives comes in; an [`Exit`] (a code
//! or a signal) goes out, and with it an [`Ending`] that also says whether conform had to stop
//! the program, which becomes the [`ProgramEnding`] reports describe.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

pub use crate::event::{Exit, ProgramEnding};

/// The exit of a status `wait` returned.
pub(super) fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        // Only stop/continue statuses have neither, and wait never reports those.
        (None, None) => Exit::Code(-1),
    }
}

/// Whether conform had to stop the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stopped {
    ByItself,
    /// It ended within the grace period after SIGTERM.
    Terminated {
        grace: Duration,
    },
    /// It was still running when the grace period after SIGTERM ran out and got SIGKILL.
    Killed {
        grace: Duration,
    },
}

/// How a program ended, as `Child::terminate` saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ending {
    pub exit: Exit,
    pub how: Stopped,
}

impl From<Ending> for ProgramEnding {
    fn from(ending: Ending) -> Self {
        match (ending.how, ending.exit) {
            (Stopped::ByItself, exit) => exit.into(),
            (Stopped::Terminated { grace }, Exit::Signal(libc::SIGTERM)) => {
                ProgramEnding::StoppedBySigterm { grace }
            }
            (Stopped::Terminated { grace }, exit) => {
                ProgramEnding::ExitedAfterSigterm { exit, grace }
            }
            (Stopped::Killed { grace }, Exit::Signal(libc::SIGKILL)) => {
                ProgramEnding::KilledAfterGrace { grace }
            }
            // It ended by itself in the instant between the grace running out and SIGKILL
            // (the status shows it was not the SIGKILL): it did exit after SIGTERM.
            (Stopped::Killed { grace }, exit) => ProgramEnding::ExitedAfterSigterm { exit, grace },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const GRACE: Duration = Duration::from_millis(500);

    #[rstest]
    #[case::by_itself(Stopped::ByItself, Exit::Code(3), ProgramEnding::Exited { code: 3 })]
    #[case::crashed(
        Stopped::ByItself,
        Exit::Signal(libc::SIGSEGV),
        ProgramEnding::Signaled { signal: libc::SIGSEGV }
    )]
    #[case::sigterm_ended_it(
        Stopped::Terminated { grace: GRACE },
        Exit::Signal(libc::SIGTERM),
        ProgramEnding::StoppedBySigterm { grace: GRACE }
    )]
    #[case::it_exited_after_sigterm(
        Stopped::Terminated { grace: GRACE },
        Exit::Code(0),
        ProgramEnding::ExitedAfterSigterm { exit: Exit::Code(0), grace: GRACE }
    )]
    #[case::sigkill_ended_it(
        Stopped::Killed { grace: GRACE },
        Exit::Signal(libc::SIGKILL),
        ProgramEnding::KilledAfterGrace { grace: GRACE }
    )]
    #[case::it_exited_just_before_sigkill(
        Stopped::Killed { grace: GRACE },
        Exit::Code(0),
        ProgramEnding::ExitedAfterSigterm { exit: Exit::Code(0), grace: GRACE }
    )]
    fn an_ending_says_who_ended_the_program(
        #[case] how: Stopped,
        #[case] exit: Exit,
        #[case] expected: ProgramEnding,
    ) {
        assert_eq!(ProgramEnding::from(Ending { exit, how }), expected);
    }
}
