//! The program under test, whichever kind it is: an external process, the built-in reference
//! running on a thread, or nothing (a server that was already running).
//!
//! In: a started program. Out: its exit status, its output so far, and a [`ProgramReport`]
//! once it has been stopped.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::process::{Child, Exit, ProgramEnding};
use crate::event::ProgramReport;
use crate::reference::Shutdown;

/// Lines of stderr and stdout shown with a failure.
const TAIL_LINES: usize = 8;

/// How long the report waits for the output of a stopped program to be read to its end. Only
/// reached if a process conform could not find still holds a pipe open.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

pub enum Program {
    External {
        child: Child,
        /// The command as one line, words joined by spaces. Reports take the words from the
        /// child instead, which keeps empty and spaced arguments apart.
        command: String,
    },
    InProcess(InProcess),
    /// Nothing conform started (`--connect`).
    Absent,
}

impl Program {
    /// The exit status, if the program has ended; never blocks.
    pub fn exited(&mut self) -> Option<Exit> {
        match self {
            Program::External { child, .. } => child.try_status(),
            Program::InProcess(p) => p.exit(),
            Program::Absent => None,
        }
    }

    /// Waits for the program to end, until `deadline`.
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<Exit> {
        match self {
            Program::External { child, .. } => child.wait_until(deadline),
            Program::InProcess(p) => {
                let mut pause = Duration::from_millis(1);
                loop {
                    if let Some(exit) = p.exit() {
                        return Some(exit);
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::sleep(pause.min(deadline - now));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
            Program::Absent => None,
        }
    }

    /// What the program wrote on stdout (or stderr) so far, and whether the stream has ended.
    /// Output beyond the capture limit is not kept; `truncated` says so.
    pub fn output(&self, stderr: bool) -> Output {
        match self {
            Program::External { child, .. } => {
                let captured = if stderr {
                    child.stderr()
                } else {
                    child.stdout()
                };
                Output {
                    truncated: captured.truncated(),
                    bytes: captured.head,
                    closed: captured.closed,
                }
            }
            Program::InProcess(p) => {
                let buf = if stderr { &p.stderr } else { &p.stdout };
                Output {
                    bytes: buf.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                    closed: p.exit().is_some(),
                    truncated: false,
                }
            }
            Program::Absent => Output {
                bytes: Vec::new(),
                closed: true,
                truncated: false,
            },
        }
    }

    /// Stops the program (SIGTERM, grace, SIGKILL for a process) and describes how it ended.
    pub fn stop(&mut self, grace: Duration) -> Option<ProgramReport> {
        match self {
            Program::External { child, .. } => {
                let ending = child.terminate(grace);
                // Everything that held the pipes is dead now, but the readers may not have
                // drained the last bytes yet: the tails would miss what it printed last.
                child.wait_output_closed(Instant::now() + OUTPUT_DRAIN);
                Some(ProgramReport {
                    argv: Some(child.argv().to_vec()),
                    ending: Some(ending.into()),
                    stderr_tail: child.stderr().last_lines(TAIL_LINES),
                    stdout_tail: child.stdout().last_lines(TAIL_LINES),
                })
            }
            Program::InProcess(p) => {
                let running = p.exit().is_none();
                let ending = p.stop().map(|exit| match exit {
                    Exit::Code(code) if running => ProgramEnding::ReferenceStopped { code },
                    exit => exit.into(),
                });
                let lines = |buf: &Arc<Mutex<Vec<u8>>>| {
                    let bytes = buf.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    tail_lines(&bytes)
                };
                Some(ProgramReport {
                    argv: None,
                    ending,
                    stderr_tail: lines(&p.stderr),
                    stdout_tail: lines(&p.stdout),
                })
            }
            Program::Absent => None,
        }
    }
}

/// A snapshot of one output stream.
pub struct Output {
    pub bytes: Vec<u8>,
    pub closed: bool,
    pub truncated: bool,
}

fn tail_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(TAIL_LINES);
    lines[from..].iter().map(|l| l.to_string()).collect()
}

/// A reference program on its own thread, with stdout and stderr kept in memory.
pub struct InProcess {
    pub stdout: Arc<Mutex<Vec<u8>>>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
    shutdown: Shutdown,
    status: Arc<Mutex<Option<Exit>>>,
    thread: Option<JoinHandle<()>>,
}

/// A `Write` into a shared buffer, standing in for a reference program's stdout.
pub struct SharedWriter(pub Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl InProcess {
    /// Runs `body` on a thread as if it were a program: `Ok` exits 0, `Err` prints the error
    /// on stderr and exits 1.
    pub fn start<F>(body: F) -> InProcess
    where
        F: FnOnce(&mut dyn Write, &Shutdown) -> std::io::Result<()> + Send + 'static,
    {
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(None));
        let shutdown = Shutdown::new();
        let thread = {
            let (stdout, stderr, status, shutdown) = (
                stdout.clone(),
                stderr.clone(),
                status.clone(),
                shutdown.clone(),
            );
            std::thread::spawn(move || {
                let mut out = SharedWriter(stdout);
                let exit = match body(&mut out, &shutdown) {
                    Ok(()) => Exit::Code(0),
                    Err(e) => {
                        let _ = writeln!(SharedWriter(stderr), "error: {e}");
                        Exit::Code(1)
                    }
                };
                *status.lock().unwrap_or_else(|e| e.into_inner()) = Some(exit);
            })
        };
        InProcess {
            stdout,
            stderr,
            shutdown,
            status,
            thread: Some(thread),
        }
    }

    pub fn exit(&self) -> Option<Exit> {
        *self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the program to stop and waits for its thread; the reference checks the flag at
    /// least every 50 ms and bounds every wait, so this returns promptly.
    pub fn stop(&mut self) -> Option<Exit> {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.exit()
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::process::{self, Spawn};

    const GRACE: Duration = Duration::from_secs(30);

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn a_stopped_program_is_reported_with_its_words_and_how_sigterm_ended_it() {
        let argv: Vec<String> = ["sh", "-c", "exec sleep 1000", ""]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let child = process::spawn(&Spawn {
            argv: argv.clone(),
            env: Vec::new(),
            capture_limit: 100,
        })
        .expect("sh starts");
        let mut program = Program::External {
            child,
            command: argv.join(" "),
        };
        let report = program.stop(GRACE).expect("a report");
        assert_eq!(report.argv, Some(argv));
        assert_eq!(report.command(), "sh -c 'exec sleep 1000' ''");
        assert_eq!(
            report.ending,
            Some(ProgramEnding::StoppedBySigterm { grace: GRACE })
        );
    }

    #[test]
    fn a_reference_still_running_is_reported_as_stopped_in_process() {
        let mut program = Program::InProcess(InProcess::start(|_, stop| {
            while !stop.is_triggered() {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        }));
        let report = program.stop(GRACE).expect("a report");
        assert_eq!(report.argv, None);
        assert_eq!(report.command(), "the built-in reference");
        assert_eq!(
            report.ending,
            Some(ProgramEnding::ReferenceStopped { code: 0 })
        );
    }

    #[test]
    fn a_reference_that_ended_by_itself_is_reported_as_exited() {
        let mut program = Program::InProcess(InProcess::start(|_, _| {
            Err(std::io::Error::other("no peer"))
        }));
        assert_eq!(program.wait_exit(soon()), Some(Exit::Code(1)));
        let report = program.stop(GRACE).expect("a report");
        assert_eq!(report.ending, Some(ProgramEnding::Exited { code: 1 }));
        assert_eq!(report.stderr_tail, ["error: no peer"]);
    }
}
