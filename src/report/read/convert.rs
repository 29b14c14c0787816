//! The JSON shapes turned back into events: what serde cannot check alone (hex, addresses,
//! seeds, durations, the fields each `kind` needs) is checked here, and named by its path in
//! the line when it is wrong.
//!
//! In: [`shapes`] values. Out: [`Event`]s equal to the ones the writer was given, except
//! where the format keeps less: durations to the microsecond, and a wire log's start time,
//! which the stream does not carry (it reads back as the epoch).

use std::net::SocketAddr;
use std::time::Duration;

use super::Invalid;
use super::shapes;
use crate::event::{
    CutShort, Direction, Ends, Event, Exit, Failure, Generated, ProgramEnding, ProgramReport,
    ScenarioId, StepRef, Summary, TargetKind, Verdict, Wire, WireEntry, WireLog,
};
use crate::verdict::Mismatch;

pub(super) fn run_started(e: shapes::RunStarted) -> Event {
    Event::RunStarted {
        scenarios: e.scenarios,
        jobs: e.jobs,
    }
}

pub(super) fn scenario_started(e: shapes::ScenarioStarted) -> Event {
    Event::ScenarioStarted { id: id(e.id) }
}

pub(super) fn step_observed(e: shapes::StepObserved) -> Result<Event, Invalid> {
    Ok(Event::StepObserved {
        id: id(e.id),
        step: step(e.step),
        passed: e.passed,
        duration: millis(e.duration_ms, "duration_ms")?,
    })
}

pub(super) fn scenario_finished(e: shapes::ScenarioFinished) -> Result<Event, Invalid> {
    let diagnosis = |word: &str| match e.failure {
        Some(f) => failure(f).map(Box::new),
        None => Err(Invalid::Field {
            field: "failure".into(),
            why: format!("null, but a `{word}` verdict has one"),
        }),
    };
    let verdict = match e.verdict {
        shapes::VerdictWord::Pass => Verdict::Pass,
        shapes::VerdictWord::Fail => Verdict::Fail(diagnosis("fail")?),
        shapes::VerdictWord::Warn => Verdict::Warn(diagnosis("warn")?),
        shapes::VerdictWord::Skip => {
            Verdict::Skip(e.skip_reason.ok_or_else(|| Invalid::Field {
                field: "skip_reason".into(),
                why: "null, but a `skip` verdict has one".into(),
            })?)
        }
    };
    let target = match e.target {
        shapes::Target::Reference => TargetKind::Reference,
        shapes::Target::Program { argv } => TargetKind::Program(argv),
        shapes::Target::Address { address } => TargetKind::Address(address),
    };
    let cut_short = match e.cut_short {
        Some(c) => Some(CutShort {
            planned: c.planned,
            budget: millis(c.budget_ms, "cut_short.budget_ms")?,
        }),
        None => None,
    };
    Ok(Event::ScenarioFinished {
        id: id(e.id),
        target,
        lifecycle: e.lifecycle,
        verdict,
        duration: millis(e.duration_ms, "duration_ms")?,
        cases: e.cases,
        seed: e.seed.map(|s| seed(&s, "seed")).transpose()?,
        cut_short,
        window: e.window,
        clients: e.clients,
    })
}

pub(super) fn run_finished(e: shapes::RunFinished) -> Result<Event, Invalid> {
    Ok(Event::RunFinished {
        summary: Summary {
            passed: e.summary.passed,
            failed: e.summary.failed,
            warned: e.summary.warned,
            skipped: e.summary.skipped,
        },
        duration: millis(e.duration_ms, "duration_ms")?,
    })
}

fn id(id: shapes::Id) -> ScenarioId {
    ScenarioId {
        file: id.file,
        name: id.name,
        role: id.role,
        transport: id.transport,
        level: id.level,
        tags: id.tags,
        implementation: id.implementation,
    }
}

fn step(step: shapes::Step) -> StepRef {
    StepRef {
        index: step.index,
        keyword: keyword(&step.keyword),
        line: step.line,
        column: step.column,
    }
}

/// The `'static` keyword events carry: one of the spec's keywords, or, for a keyword this
/// conform does not know (a newer spec language), the text kept once for the whole process.
fn keyword(text: &str) -> &'static str {
    use std::sync::Mutex;
    static OTHERS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    if let Some(known) = crate::spec::model::STEP_NAMES.iter().find(|k| **k == text) {
        return known;
    }
    let mut others = OTHERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(seen) = others.iter().find(|k| **k == text) {
        return seen;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    others.push(leaked);
    leaked
}

fn failure(f: shapes::Failure) -> Result<Failure, Invalid> {
    let mismatches = f
        .mismatches
        .into_iter()
        .enumerate()
        .map(|(i, m)| mismatch(m, &format!("failure.mismatches[{i}]")))
        .collect::<Result<_, _>>()?;
    let program = match f.program {
        Some(p) => Some(ProgramReport {
            argv: p.argv,
            ending: p
                .ending
                .map(|e| ending(e, "failure.program.ending"))
                .transpose()?,
            stderr_tail: p.stderr_tail,
            stdout_tail: p.stdout_tail,
        }),
        None => None,
    };
    let session = f.session.map(session).transpose()?;
    let mut generated = f.generated.map(generated).transpose()?;
    if let (Some(g), Some(session)) = (generated.as_mut(), session) {
        g.session = Some(Box::new(session));
    }
    let history = f.history.map(history).transpose()?;
    if let (Some(g), Some(history)) = (generated.as_mut(), history) {
        g.history = Some(Box::new(history));
    }
    Ok(Failure {
        step: f.step.map(step),
        mismatches,
        program,
        generated,
        wire: f.wire.map(wire).transpose()?,
    })
}

fn mismatch(m: shapes::Mismatch, path: &str) -> Result<Mismatch, Invalid> {
    Ok(Mismatch {
        summary: m.summary,
        expected: m
            .expected_hex
            .map(|h| hex(&h, &format!("{path}.expected_hex")))
            .transpose()?,
        actual: m
            .actual_hex
            .map(|h| hex(&h, &format!("{path}.actual_hex")))
            .transpose()?,
        hint: m.hint,
    })
}

fn generated(g: shapes::Generated) -> Result<Generated, Invalid> {
    let path = "failure.generated";
    let pairs = |values: Vec<shapes::Value>| {
        values
            .into_iter()
            .map(|v| (v.name, v.description))
            .collect()
    };
    let shrinking = super::shrinking::parse(&g.shrinking, &g.shrinking_message, g.probes)
        .ok_or_else(|| Invalid::Field {
            field: format!("{path}.shrinking"),
            why: format!(
                "`{}` is not a way shrinking ends that this conform knows",
                g.shrinking
            ),
        })?;
    Ok(Generated {
        seed: seed(&g.seed, &format!("{path}.seed"))?,
        case: g.case,
        elapsed: millis(g.elapsed_ms, &format!("{path}.elapsed_ms"))?,
        original: pairs(g.original),
        minimal: pairs(g.minimal),
        probes: g.probes,
        shrinking,
        replay: g.replay,
        // The stream keeps the full line only; a merged report shows it as it is.
        replay_short: None,
        saved: g.saved,
        session: None,
        history: None,
    })
}

/// Bytes kept for a report, read back from their hex.
fn kept(k: shapes::Kept, field: String) -> Result<crate::event::Kept, Invalid> {
    Ok(crate::event::Kept {
        bytes: hex(&k.hex, &field)?,
        len: k.length,
    })
}

/// A failure's minimal session. The stream carries its commands; the names of the first
/// failing session and the reference's command line are not in it.
fn session(commands: Vec<shapes::Command>) -> Result<crate::event::SessionReport, Invalid> {
    let mut report = crate::event::SessionReport::default();
    for (i, c) in commands.into_iter().enumerate() {
        let path = format!("failure.session[{i}]");
        if c.failed {
            report.failed_at = Some(i + 1);
        }
        report.commands.push(crate::event::CommandReport {
            name: c.name,
            values: c
                .values
                .into_iter()
                .map(|v| (v.name, v.description))
                .collect(),
            sent: kept(c.sent, format!("{path}.sent.hex"))?,
            answered: c
                .answered
                .map(|k| kept(k, format!("{path}.answered.hex")))
                .transpose()?,
            reference: c
                .reference
                .map(|k| kept(k, format!("{path}.reference.hex")))
                .transpose()?,
        });
    }
    Ok(report)
}

/// The timelines of several clients, back to 0-based positions.
fn history(h: shapes::History) -> Result<crate::event::HistoryReport, Invalid> {
    let at = |one_based: usize| one_based.saturating_sub(1);
    let mut clients = Vec::with_capacity(h.clients.len());
    for (k, commands) in h.clients.into_iter().enumerate() {
        let mut timeline = Vec::with_capacity(commands.len());
        for (i, c) in commands.into_iter().enumerate() {
            let path = format!("failure.history.clients[{k}][{i}]");
            timeline.push(crate::event::TimedCommand {
                name: c.name,
                values: c
                    .values
                    .into_iter()
                    .map(|v| (v.name, v.description))
                    .collect(),
                sent: kept(c.sent, format!("{path}.sent.hex"))?,
                answered: kept(c.answered, format!("{path}.answered.hex"))?,
                began: c
                    .began_ms
                    .map(|ms| millis(ms, &format!("{path}.began_ms")))
                    .transpose()?,
                ended: c
                    .ended_ms
                    .map(|ms| millis(ms, &format!("{path}.ended_ms")))
                    .transpose()?,
            });
        }
        clients.push(timeline);
    }
    let mut stuck = Vec::with_capacity(h.stuck.len());
    for (n, s) in h.stuck.into_iter().enumerate() {
        let expected = s
            .expected
            .iter()
            .enumerate()
            .map(|(j, e)| {
                hex(
                    &e.hex,
                    &format!("failure.history.stuck[{n}].expected[{j}].hex"),
                )
            })
            .collect::<Result<_, _>>()?;
        stuck.push(crate::event::Stuck {
            client: at(s.client),
            command: at(s.command),
            expected,
        });
    }
    Ok(crate::event::HistoryReport {
        clients,
        explained: h
            .explained
            .iter()
            .map(|a| (at(a.client), at(a.command)))
            .collect(),
        stuck,
        replays: h.replays,
    })
}

fn wire(w: shapes::Wire) -> Result<WireLog, Invalid> {
    let entries = w
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| wire_entry(e, &format!("failure.wire.entries[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(WireLog {
        started: std::time::UNIX_EPOCH,
        entries,
        bytes_cut: w.bytes_cut,
        entries_dropped: w.entries_dropped,
    })
}

fn wire_entry(e: shapes::WireEntry, path: &str) -> Result<WireEntry, Invalid> {
    let at = |name: &str| format!("{path}.{name}");
    let entry = Entry { e: &e, path };
    let what = match e.kind.as_str() {
        "connect" => Wire::Connect {
            ends: entry.ends()?,
        },
        "accept" => Wire::Accept {
            ends: entry.ends()?,
        },
        "connect_failed" => Wire::ConnectFailed {
            peer: entry.addr(&e.peer, "peer")?,
            reason: entry.need(e.reason.clone(), "reason")?,
        },
        "data" => Wire::Data {
            transport: entry.need(e.transport, "transport")?,
            direction: entry.direction()?,
            ends: entry.ends()?,
            bytes: hex(&entry.need(e.hex.clone(), "hex")?, &at("hex"))?,
            length: entry.need(e.length, "length")?,
        },
        "fin" => Wire::Fin {
            direction: entry.direction()?,
            ends: entry.ends()?,
        },
        "reset" => Wire::Reset {
            direction: entry.direction()?,
            ends: entry.ends()?,
        },
        "silence" => Wire::Silence {
            waited: millis(entry.need(e.waited_ms, "waited_ms")?, &at("waited_ms"))?,
        },
        "exit" => Wire::ProgramExit {
            ending: ending(entry.need(e.ending.clone(), "ending")?, &at("ending"))?,
        },
        other => {
            return Err(Invalid::Field {
                field: at("kind"),
                why: format!(
                    "`{other}` is not a kind of wire log entry this conform knows (connect, \
                     accept, connect_failed, data, fin, reset, silence, exit)"
                ),
            });
        }
    };
    Ok(WireEntry {
        at: millis(e.at_ms, &at("at_ms"))?,
        what,
    })
}

/// One wire log entry being read: the fields its kind needs, each named by its path when it
/// is missing or wrong.
struct Entry<'e> {
    e: &'e shapes::WireEntry,
    path: &'e str,
}

impl Entry<'_> {
    fn need<T>(&self, value: Option<T>, name: &str) -> Result<T, Invalid> {
        value.ok_or_else(|| Invalid::Missing {
            field: format!("{}.{name}", self.path),
            why: format!(" (a `{}` entry has it)", self.e.kind),
        })
    }

    fn addr(&self, text: &Option<String>, name: &str) -> Result<SocketAddr, Invalid> {
        let text = self.need(text.as_deref(), name)?;
        text.parse().map_err(|_| Invalid::Field {
            field: format!("{}.{name}", self.path),
            why: format!("`{text}` is not an address:port"),
        })
    }

    fn ends(&self) -> Result<Ends, Invalid> {
        Ok(Ends {
            local: self.addr(&self.e.local, "local")?,
            peer: self.addr(&self.e.peer, "peer")?,
        })
    }

    fn direction(&self) -> Result<Direction, Invalid> {
        match self.need(self.e.direction.as_deref(), "direction")? {
            "sent" => Ok(Direction::Sent),
            "received" => Ok(Direction::Received),
            other => Err(Invalid::Field {
                field: format!("{}.direction", self.path),
                why: format!("`{other}` is not `sent` or `received`"),
            }),
        }
    }
}

/// How a program ended, from its `kind` and the fields that kind has.
fn ending(e: shapes::Ending, path: &str) -> Result<ProgramEnding, Invalid> {
    let missing = |name: &str| Invalid::Missing {
        field: format!("{path}.{name}"),
        why: format!(" (a `{}` ending has it)", e.kind),
    };
    let code = || e.code.ok_or_else(|| missing("code"));
    let signal = || e.signal.ok_or_else(|| missing("signal"));
    let grace = || match e.grace_ms {
        Some(ms) => millis(ms, &format!("{path}.grace_ms")),
        None => Err(missing("grace_ms")),
    };
    Ok(match e.kind.as_str() {
        "exited" => ProgramEnding::Exited { code: code()? },
        "signaled" => ProgramEnding::Signaled { signal: signal()? },
        "stopped_by_sigterm" => ProgramEnding::StoppedBySigterm { grace: grace()? },
        "exited_after_sigterm" => ProgramEnding::ExitedAfterSigterm {
            exit: match (e.code, e.signal) {
                (Some(code), _) => Exit::Code(code),
                (None, Some(signal)) => Exit::Signal(signal),
                (None, None) => return Err(missing("code")),
            },
            grace: grace()?,
        },
        "killed_after_grace" => ProgramEnding::KilledAfterGrace { grace: grace()? },
        "reference_stopped" => ProgramEnding::ReferenceStopped { code: code()? },
        other => {
            return Err(Invalid::Field {
                field: format!("{path}.kind"),
                why: format!(
                    "`{other}` is not a kind of ending this conform knows (exited, signaled, \
                     stopped_by_sigterm, exited_after_sigterm, killed_after_grace, \
                     reference_stopped)"
                ),
            });
        }
    })
}

/// Milliseconds as the writer puts them (a number, to the microsecond) back into a duration.
fn millis(ms: f64, field: &str) -> Result<Duration, Invalid> {
    let micros = (ms * 1000.0).round();
    if micros.is_finite() && micros >= 0.0 && micros < u64::MAX as f64 {
        Ok(Duration::from_micros(micros as u64))
    } else {
        Err(Invalid::Field {
            field: field.into(),
            why: format!("{ms} is not a duration in milliseconds"),
        })
    }
}

/// A seed: a decimal string, because the writer keeps all 64 bits that way.
fn seed(text: &str, field: &str) -> Result<u64, Invalid> {
    text.parse().map_err(|_| Invalid::Field {
        field: field.into(),
        why: format!("`{text}` is not a seed (a decimal number of at most 64 bits)"),
    })
}

fn hex(text: &str, field: &str) -> Result<Vec<u8>, Invalid> {
    let bad = || Invalid::Field {
        field: field.into(),
        why: format!("`{}` is not hex (pairs of 0-9 a-f)", elide(text)),
    };
    // Digits only: `from_str_radix` alone would take a sign, `+1`.
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// A long value in an error message: its first 40 characters.
fn elide(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_reads_back_and_refuses_odd_or_foreign_text() {
        assert_eq!(hex("48690aff", "h").ok(), Some(b"Hi\n\xff".to_vec()));
        assert_eq!(hex("", "h").ok(), Some(Vec::new()));
        for bad in ["4", "zz", "4g", "+1"] {
            assert!(hex(bad, "h").is_err(), "{bad}");
        }
    }

    #[test]
    fn milliseconds_read_back_to_the_microsecond() {
        assert_eq!(millis(0.288, "d").ok(), Some(Duration::from_micros(288)));
        assert_eq!(
            millis(14404.0, "d").ok(),
            Some(Duration::from_millis(14_404))
        );
        assert!(millis(-1.0, "d").is_err());
    }

    #[test]
    fn unknown_keywords_are_kept_once() {
        assert_eq!(keyword("expect"), "expect");
        let first = keyword("expect_a_future_thing");
        let second = keyword("expect_a_future_thing");
        assert_eq!(first, "expect_a_future_thing");
        assert!(std::ptr::eq(first, second));
    }
}
