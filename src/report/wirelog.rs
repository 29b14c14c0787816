//! The wire log in words, shared by the terminal (`--trace`) and the HTML report: one line
//! per entry with its time and what happened, and the bytes as escaped text and hex.
//!
//! In: a [`WireLog`] from a failure. Out: plain lines of text; each reporter adds its own
//! layout around them.

use std::time::Duration;

use super::diff;
use crate::event::{Direction, Ends, Wire, WireEntry, WireLog};
use crate::spec::payload::escape;

/// An entry's time from the case's start, aligned: `    1.204 ms`.
pub fn time(at: Duration) -> String {
    format!("{:>9.3} ms", at.as_secs_f64() * 1000.0)
}

/// Which way, between whose addresses: `conform 127.0.0.1:40112 -> program 127.0.0.1:30386`.
fn route(direction: Direction, ends: &Ends) -> String {
    match direction {
        Direction::Sent => format!("conform {} -> program {}", ends.local, ends.peer),
        Direction::Received => format!("program {} -> conform {}", ends.peer, ends.local),
    }
}

/// What one entry says, in one line without its time or bytes.
pub fn headline(what: &Wire) -> String {
    match what {
        Wire::Connect { ends } => format!("connect  {}", route(Direction::Sent, ends)),
        Wire::Accept { ends } => format!("accept   {}", route(Direction::Received, ends)),
        Wire::ConnectFailed { peer, reason } => {
            format!("connect  to program {peer} failed: {reason}")
        }
        Wire::Data {
            transport,
            direction,
            ends,
            bytes,
            length,
        } => {
            let unit = match transport {
                crate::spec::Transport::Tcp => "byte(s)",
                crate::spec::Transport::Udp => "byte datagram",
            };
            let cut = if bytes.len() < *length {
                format!(" (first {} kept)", bytes.len())
            } else {
                String::new()
            };
            format!(
                "{:<8} {length} {unit} {transport}{cut}  {}",
                direction.word(),
                route(*direction, ends)
            )
        }
        Wire::Fin { direction, ends } => match direction {
            Direction::Sent => format!(
                "FIN      conform closed its side  {}",
                route(*direction, ends)
            ),
            Direction::Received => format!(
                "FIN      the program closed its side  {}",
                route(*direction, ends)
            ),
        },
        Wire::Reset { direction, ends } => match direction {
            Direction::Sent => format!(
                "RST      conform reset the connection  {}",
                route(*direction, ends)
            ),
            Direction::Received => format!(
                "RST      the program reset the connection  {}",
                route(*direction, ends)
            ),
        },
        Wire::Silence { waited } => {
            format!("silence  nothing arrived for {} ms", waited.as_millis())
        }
        Wire::ProgramExit { ending } => format!("exit     the program {ending}"),
    }
}

/// The bytes of a data entry as conform's escaped text and up to `rows` hex rows; nothing
/// for other entries.
pub fn bytes_lines(entry: &WireEntry, rows: usize) -> Vec<String> {
    match &entry.what {
        Wire::Data { bytes, .. } if !bytes.is_empty() => {
            let shown = &bytes[..bytes.len().min(rows * 16)];
            let mut lines = vec![format!(
                "\"{}\"{}",
                escape(shown),
                if shown.len() < bytes.len() { "…" } else { "" }
            )];
            lines.extend(diff::hex_rows(bytes, rows));
            lines
        }
        _ => Vec::new(),
    }
}

/// What was left out to bound memory, if anything.
pub fn cut_note(log: &WireLog) -> Option<String> {
    match (log.bytes_cut, log.entries_dropped) {
        (0, 0) => None,
        (bytes, 0) => Some(format!(
            "{bytes} byte(s) not kept: conform keeps the first {} KiB of a case",
            crate::drive::wire::KEPT_BYTES / 1024
        )),
        (_, entries) => Some(format!(
            "{entries} later entr(ies) not recorded: conform records at most {} per case",
            crate::drive::wire::MAX_ENTRIES
        )),
    }
}

/// The whole log for the terminal: a heading, then each entry with its bytes beneath.
pub fn lines(log: &WireLog) -> Vec<String> {
    let mut lines = vec!["wire log (times from the start of the case):".to_string()];
    if log.entries.is_empty() {
        lines.push("  (nothing went over the wire)".into());
    }
    for entry in &log.entries {
        lines.push(format!("  {}  {}", time(entry.at), headline(&entry.what)));
        let pad = " ".repeat(2 + 12 + 2);
        lines.extend(
            bytes_lines(entry, 8)
                .into_iter()
                .map(|l| format!("{pad}{l}")),
        );
    }
    if let Some(note) = cut_note(log) {
        lines.push(format!("  ({note})"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;

    #[test]
    fn a_datagram_shows_route_text_and_hex() {
        let ends = Ends {
            local: "127.0.0.1:4000".parse().expect("address"),
            peer: "127.0.0.1:5000".parse().expect("address"),
        };
        let log = WireLog {
            entries: vec![WireEntry {
                at: Duration::from_micros(1500),
                what: Wire::Data {
                    transport: Transport::Udp,
                    direction: Direction::Received,
                    ends,
                    bytes: b"\x08\x07\n".to_vec(),
                    length: 3,
                },
            }],
            ..WireLog::default()
        };
        let lines = lines(&log);
        assert_eq!(
            lines[1],
            "      1.500 ms  received 3 byte datagram udp  program 127.0.0.1:5000 -> conform 127.0.0.1:4000"
        );
        assert_eq!(lines[2].trim(), r#""\x08\x07\n""#);
        assert_eq!(lines[3].trim(), "000000  08 07 0a");
    }
}
