//! One synthetic run touching every verdict and every part of a failure, and a way to feed
//! it to a reporter: the reporters' tests use it with no sockets and no programs.
//!
//! In: nothing. Out: [`sample_run`]'s events, and [`render`]: what a reporter writes for them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use conform::event::{
    Direction, Ends, Event, Failure, Generated, ProgramEnding, ProgramReport, ScenarioId,
    Shrinking, StepRef, Summary, TargetKind, Verdict, Wire, WireEntry, WireLog,
};
use conform::report::Reporter;
use conform::spec::{Level, Lifecycle, Role, Transport};
use conform::verdict::Mismatch;

fn id(file: &str, name: &str, role: Role, transport: Transport, level: Level) -> ScenarioId {
    ScenarioId {
        file: file.into(),
        name: name.into(),
        role,
        transport,
        level,
        tags: Vec::new(),
        implementation: None,
    }
}

fn step(index: usize, keyword: &'static str, line: u64, column: u64) -> StepRef {
    StepRef {
        index,
        keyword,
        line,
        column,
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// The first failure's program: still running at the end of the case, ended by SIGTERM.
fn stopped() -> ProgramEnding {
    ProgramEnding::StoppedBySigterm {
        grace: Duration::from_secs(2),
    }
}

fn finished(id: ScenarioId, target: TargetKind, verdict: Verdict, ms: u64) -> Event {
    Event::ScenarioFinished {
        id,
        target,
        lifecycle: Lifecycle::Case,
        verdict,
        duration: Duration::from_millis(ms),
        cases: 1,
        seed: None,
        cut_short: None,
        window: None,
        clients: None,
    }
}

/// One run that touches every verdict and every part of a failure: a wrong byte with a
/// program's stderr, a warning with alternatives and binary bytes, a skip, a generated
/// scenario with a seed and tags, a program that never listened (no step), and names full of
/// characters each format must escape.
pub fn sample_run() -> Vec<Event> {
    use Level::{Must, Should};
    use Role::{Client, Server};
    use Transport::{Tcp, Udp};

    let tcp = "specs/tcp.yaml";
    let udp = "specs/udp.yaml";
    let greets = id(tcp, "server greets with Hello World", Server, Tcp, Must);
    let odd = id(
        tcp,
        r#"server answers #1 & <more> "quoted" \ back"#,
        Server,
        Tcp,
        Must,
    );
    let two = id(
        tcp,
        "server serves two clients at once",
        Server,
        Tcp,
        Should,
    );
    let client = id(tcp, "client prints the greeting", Client, Tcp, Must);
    let mut reverses = id(udp, "server reverses 8 bytes", Server, Udp, Must);
    reverses.tags = vec!["guide".into(), "fuzz".into()];
    let text = id(udp, "server reverses text bytes", Server, Udp, Must);
    let any = id(udp, "server reverses any datagram", Server, Udp, Must);

    let wrong_byte = Failure {
        step: Some(step(2, "expect", 16, 9)),
        mismatches: vec![
            Mismatch::new("the line differs at byte 11: expected 0x21 '!', got 0x3f '?'")
                .bytes(b"Hello World!\n", b"Hello World?\n"),
        ],
        program: Some(ProgramReport {
            argv: Some(words(&["python3", "my_server.py", "30386", "--log", ""])),
            ending: Some(stopped()),
            stderr_tail: vec![
                "Traceback (most recent call last):".into(),
                "ValueError: <bad> & \"worse\" it's \u{1b}[31mred\u{1b}[0m".into(),
            ],
            stdout_tail: Vec::new(),
        }),
        generated: None,
        wire: Some(greeting_wire_log()),
    };
    let alternatives = Failure {
        step: Some(step(5, "expect_one_of", 21, 9)),
        mismatches: vec![
            Mismatch::new("expected the peer to close its side; it sent 3 more bytes")
                .bytes(b"", b"\x00\xff\n"),
            Mismatch::new("expected silence for 200 ms; 3 bytes arrived after 4 ms")
                .hint("a server that serves one client and exits cannot do this"),
        ],
        program: None,
        generated: None,
        wire: None,
    };
    let never_listened = Failure {
        step: None,
        mismatches: vec![
            Mismatch::new("the program did not bind udp port 30500 within 10000 ms")
                .hint("it opened no socket at all; does it use the port it was given?"),
        ],
        program: Some(ProgramReport {
            argv: Some(words(&["./srv", "30500"])),
            ending: Some(ProgramEnding::Exited { code: 1 }),
            stderr_tail: vec!["bind: Address already in use".into()],
            stdout_tail: vec!["starting".into()],
        }),
        generated: None,
        wire: None,
    };
    let seed = 12_345_678_901_234_567_890;
    let shrunk = Failure {
        step: Some(step(3, "expect", 30, 9)),
        mismatches: vec![
            Mismatch::new("the datagram differs at byte 0: expected 0x02, got 0x01")
                .bytes(b"\x02\x01", b"\x01\x02"),
        ],
        program: None,
        generated: Some(Generated {
            seed,
            case: 3,
            elapsed: Duration::from_millis(410),
            original: vec![("payload".into(), "9 bytes: 07 00 ff 10 22 01 02 03 04".into())],
            minimal: vec![("payload".into(), "2 bytes: 01 02".into())],
            probes: 12,
            shrinking: Shrinking::Minimal,
            replay: "conform run specs/udp.yaml --server './srv {port}' --only 'server reverses any datagram' --seed 12345678901234567890".into(),
            replay_short: None,
            saved: Some("specs/regressions/udp-reverses.yaml".into()),
            session: None,
            history: None,
        }),
        wire: None,
    };

    let observed = |id: &ScenarioId, index, passed, ms| Event::StepObserved {
        id: id.clone(),
        step: step(index, "connect", 14, 9),
        passed,
        duration: Duration::from_millis(ms),
    };
    let program = |argv: &[&str]| TargetKind::Program(words(argv));
    vec![
        Event::RunStarted {
            scenarios: 7,
            jobs: 1,
        },
        Event::ScenarioStarted { id: greets.clone() },
        observed(&greets, 1, true, 2),
        finished(greets, TargetKind::Reference, Verdict::Pass, 190),
        Event::ScenarioStarted { id: odd.clone() },
        finished(
            odd,
            program(&["python3", "my_server.py", "{port}", "--log", ""]),
            Verdict::Fail(Box::new(wrong_byte)),
            1234,
        ),
        Event::ScenarioStarted { id: two.clone() },
        finished(
            two,
            TargetKind::Reference,
            Verdict::Warn(Box::new(alternatives)),
            215,
        ),
        // Skipped scenarios never start: the runner reports them finished at once, with no
        // case run.
        Event::ScenarioFinished {
            id: client,
            target: TargetKind::Reference,
            lifecycle: Lifecycle::Case,
            verdict: Verdict::Skip("a client scenario, and only --server was given".into()),
            duration: Duration::ZERO,
            cases: 0,
            seed: None,
            cut_short: None,
            window: None,
            clients: None,
        },
        Event::ScenarioStarted {
            id: reverses.clone(),
        },
        Event::ScenarioFinished {
            id: reverses,
            target: TargetKind::Address("127.0.0.1:12321".into()),
            lifecycle: Lifecycle::Scenario,
            verdict: Verdict::Pass,
            duration: Duration::from_micros(48_500),
            cases: 64,
            seed: Some(seed),
            cut_short: None,
            window: None,
            clients: None,
        },
        Event::ScenarioStarted { id: text.clone() },
        finished(
            text,
            program(&["./srv", "{port}"]),
            Verdict::Fail(Box::new(never_listened)),
            10_012,
        ),
        Event::ScenarioStarted { id: any.clone() },
        Event::ScenarioFinished {
            id: any,
            target: program(&["./srv", "{port}"]),
            lifecycle: Lifecycle::Case,
            verdict: Verdict::Fail(Box::new(shrunk)),
            duration: Duration::from_millis(2_500),
            cases: 3,
            seed: Some(seed),
            cut_short: None,
            window: None,
            clients: None,
        },
        Event::RunFinished {
            summary: Summary {
                passed: 2,
                failed: 3,
                warned: 1,
                skipped: 1,
            },
            duration: Duration::from_millis(14_404),
        },
    ]
}

/// The wire log of the wrong greeting: connect, the line in two reads, a FIN each way, and
/// the program stopped.
fn greeting_wire_log() -> WireLog {
    let ends = Ends {
        local: "127.0.0.1:40112".parse().expect("address"),
        peer: "127.0.0.1:30386".parse().expect("address"),
    };
    let at = |us| Duration::from_micros(us);
    let entry = |us, what| WireEntry { at: at(us), what };
    let received = |bytes: &[u8]| Wire::Data {
        transport: Transport::Tcp,
        direction: Direction::Received,
        ends,
        bytes: bytes.to_vec(),
        length: bytes.len(),
    };
    WireLog {
        entries: vec![
            entry(512, Wire::Connect { ends }),
            entry(1_204, received(b"Hello ")),
            entry(1_730, received(b"World?\n")),
            entry(
                5_002_000,
                Wire::Silence {
                    waited: Duration::from_secs(5),
                },
            ),
            entry(
                5_002_100,
                Wire::Fin {
                    direction: Direction::Sent,
                    ends,
                },
            ),
            entry(5_804_000, Wire::ProgramExit { ending: stopped() }),
        ],
        // 2026-12-02 05:30:00 UTC, so the capture's times are the same on every run.
        started: std::time::UNIX_EPOCH + Duration::from_secs(1_796_189_400),
        bytes_cut: 0,
        entries_dropped: 0,
    }
}

/// A writer the test keeps a handle on after giving it to a reporter, which owns its writer.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The text a reporter writes for the sample run.
pub fn render<R: Reporter>(make: impl FnOnce(Shared) -> R) -> String {
    let out = Shared::default();
    let mut reporter = make(out.clone());
    for event in sample_run() {
        reporter.report(&event).expect("writing to memory");
    }
    let bytes = out.0.lock().expect("not poisoned").clone();
    String::from_utf8(bytes).expect("reports are UTF-8")
}
