//! A failing session as people read it: the first failing session in a line, then the
//! minimal one as a numbered transcript (each command with its values, what conform sent,
//! what the reference and the program answered, the failing command marked).
//!
//! In: a [`Generated`] failure with its [`SessionReport`]. Out: lines of text without
//! indentation, shared by the human and HTML reports.

use crate::event::{Generated, Kept, SessionReport};
use crate::spec::payload::escape;

/// Bytes of one direction shown per command; the rest is counted.
const SHOWN: usize = 96;

/// The lines that head a failing session: the first failing session, the minimal one as a
/// transcript, and what shrinking made of it.
pub fn header_lines(g: &Generated, session: &SessionReport) -> Vec<String> {
    let mut lines = Vec::new();
    let before = found_after(g);
    lines.push(format!(
        "failing session (case {}, seed {}, {before}): {}",
        g.case,
        g.seed,
        commands(&session.original)
    ));
    lines.extend(g.original.iter().map(|(n, v)| format!("  {n} = {v}")));
    if let Some(reference) = &session.reference {
        lines.push(format!("compared with the reference `{reference}`"));
    }
    let heading = g.shrinking.heading().map(|h| h.replace("input", "session"));
    match heading {
        Some(heading) => {
            let runs = if g.probes == 1 { "probe" } else { "probes" };
            lines.push(format!(
                "{heading} (after {} {runs}): {}",
                g.probes,
                count(session.commands.len())
            ));
        }
        None => lines.push("the failing session:".into()),
    }
    lines.extend(g.minimal.iter().map(|(n, v)| format!("  {n} = {v}")));
    lines.extend(transcript_lines(session));
    lines.push(g.shrinking.message());
    if let Some(heading) = g.shrinking.heading() {
        lines.push(format!("with the {}:", heading.replace("input", "session")));
    }
    lines
}

/// When the first failing case came: "the first case", or "after 91 passing cases in 37 s".
pub fn found_after(g: &Generated) -> String {
    match g.case {
        1 => "the first case".to_string(),
        n => format!(
            "after {} passing cases in {}",
            n - 1,
            super::fmt_duration(g.elapsed)
        ),
    }
}

/// "3 commands: SET SET GET".
fn commands(names: &[String]) -> String {
    match names.len() {
        0 => "no command".into(),
        n if n <= 24 => format!("{}: {}", count(n), names.join(" ")),
        n => format!("{}: {} …", count(n), names[..24].join(" ")),
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 command".into()
    } else {
        format!("{n} commands")
    }
}

/// A command with its values: `SET key="a" value=""`.
pub fn called(name: &str, values: &[(String, String)]) -> String {
    let mut out = name.to_string();
    for (n, v) in values {
        out.push_str(&format!(" {n}={v}"));
    }
    out
}

/// The minimal session, command by command.
pub fn transcript_lines(session: &SessionReport) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, command) in session.commands.iter().enumerate() {
        let number = i + 1;
        let reached = session.failed_at.is_none_or(|f| number <= f);
        let mark = match session.failed_at {
            Some(f) if f == number => "   <- fails here",
            _ if !reached => "   (not reached: the session failed before it)",
            _ => "",
        };
        lines.push(format!(
            "  {number}. {}{mark}",
            called(&command.name, &command.values)
        ));
        if !reached {
            continue;
        }
        lines.push(format!("       sent:      {}", shown(&command.sent)));
        if let Some(reference) = &command.reference {
            lines.push(format!("       reference: {}", shown(reference)));
        }
        match &command.answered {
            Some(answered) => lines.push(format!("       program:   {}", shown(answered))),
            None => lines
                .push("       program:   (not judged: the reference failed this session)".into()),
        }
    }
    lines
}

/// Bytes as escaped text, the first few only.
pub fn shown(kept: &Kept) -> String {
    if kept.len == 0 {
        return "(nothing)".into();
    }
    let cut = kept.bytes.len().min(SHOWN);
    let more = if cut < kept.len {
        format!("… ({} bytes)", kept.len)
    } else {
        String::new()
    };
    format!("\"{}\"{more}", escape(&kept.bytes[..cut]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CommandReport;

    fn kept(bytes: &[u8]) -> Kept {
        Kept {
            bytes: bytes.to_vec(),
            len: bytes.len(),
        }
    }

    #[test]
    fn a_transcript_numbers_the_commands_and_marks_the_failing_one() {
        let session = SessionReport {
            original: vec!["SET".into(), "GET".into()],
            commands: vec![
                CommandReport {
                    name: "SET".into(),
                    values: vec![("key".into(), "\"a\"".into())],
                    sent: kept(b"SET a\r\n"),
                    answered: Some(kept(b"+OK\r\n")),
                    reference: Some(kept(b"+OK\r\n")),
                },
                CommandReport {
                    name: "GET".into(),
                    values: vec![("key".into(), "\"a\"".into())],
                    sent: kept(b"GET a\r\n"),
                    answered: Some(kept(b"")),
                    reference: Some(kept(b"$1\r\nx\r\n")),
                },
            ],
            failed_at: Some(2),
            reference: Some("redis-server".into()),
        };
        assert_eq!(
            transcript_lines(&session),
            vec![
                "  1. SET key=\"a\"",
                "       sent:      \"SET a\\r\\n\"",
                "       reference: \"+OK\\r\\n\"",
                "       program:   \"+OK\\r\\n\"",
                "  2. GET key=\"a\"   <- fails here",
                "       sent:      \"GET a\\r\\n\"",
                "       reference: \"$1\\r\\nx\\r\\n\"",
                "       program:   (nothing)",
            ]
        );
    }

    #[test]
    fn long_bytes_are_cut_and_counted() {
        let long = Kept {
            bytes: vec![b'a'; 4096],
            len: 70_000,
        };
        let text = shown(&long);
        assert!(text.ends_with("\"… (70000 bytes)"), "{text}");
        assert_eq!(text.matches('a').count(), SHOWN);
    }
}
