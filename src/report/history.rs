//! The history of several clients at once as people read it: one timeline per client (each
//! command with its values, when it was sent and answered, a bar on a shared time axis, what
//! went each way), then how far the search for an order that explains the replies got.
//!
//! In: a [`Generated`] failure with its [`HistoryReport`]. Out: lines of text without
//! indentation, shared by the human and HTML reports.

use std::time::Duration;

use super::session::shown;
use crate::event::{Generated, HistoryReport, TimedCommand};
use crate::spec::payload::escape;

/// Columns of a timeline bar.
const BAR: usize = 32;

/// The lines that head a failing history: where it was found, what shrinking made of it,
/// each client's timeline and the order the search got to.
pub fn header_lines(g: &Generated, history: &HistoryReport) -> Vec<String> {
    let mut lines = Vec::new();
    let before = super::session::found_after(g);
    lines.push(format!(
        "failing case of several clients at once (case {}, seed {}, {before})",
        g.case, g.seed
    ));
    let commands: usize = history.clients.iter().map(Vec::len).sum();
    let size = format!("{} client(s), {commands} command(s)", history.clients.len());
    match g.shrinking.heading() {
        Some(heading) => {
            let runs = if g.probes == 1 { "probe" } else { "probes" };
            lines.push(format!(
                "{} (after {} {runs}): {size}",
                heading.replace("input", "history"),
                g.probes
            ));
        }
        None => lines.push(format!("the failing history: {size}")),
    }
    lines.push("each command from before its first byte was sent to its last reply read:".into());
    lines.extend(timeline_lines(history));
    lines.extend(order_lines(history));
    lines.push(g.shrinking.message());
    lines
}

/// One block per client: its commands with times, bars and bytes.
pub fn timeline_lines(history: &HistoryReport) -> Vec<String> {
    let end = span_of(history);
    let mut lines = Vec::new();
    for (k, commands) in history.clients.iter().enumerate() {
        lines.push(format!("  client {}:", k + 1));
        for (i, command) in commands.iter().enumerate() {
            let stuck = history
                .stuck
                .iter()
                .any(|s| s.client == k && s.command == i);
            let Some(began) = command.began else {
                lines.push(format!("    {}. {}  (not played)", i + 1, title(command)));
                continue;
            };
            let mark = if stuck {
                "  <- no order explains this reply"
            } else {
                ""
            };
            lines.push(format!(
                "    {}. {}  {}  |{}|{mark}",
                i + 1,
                title(command),
                span(began, command.ended),
                bar(began, command.ended, end),
            ));
            lines.push(format!("         sent:      {}", shown(&command.sent)));
            lines.push(format!("         answered:  {}", shown(&command.answered)));
        }
    }
    lines
}

/// The longest order the search found, and the commands that could not come after it.
fn order_lines(history: &HistoryReport) -> Vec<String> {
    let name = |client: usize, command: usize| command_name(history, client, command);
    let mut lines = Vec::new();
    if history.stuck.is_empty() {
        return lines;
    }
    let explained: Vec<String> = history
        .explained
        .iter()
        .map(|(c, i)| name(*c, *i))
        .collect();
    lines.push(match explained.len() {
        0 => "no command's reply is what the model expects first".to_string(),
        _ => format!("longest order the model explains: {}", explained.join(", ")),
    });
    lines.push("then none of these can come next:".into());
    for stuck in &history.stuck {
        let expected: Vec<String> = stuck
            .expected
            .iter()
            .map(|e| format!("\"{}\"", escape(e)))
            .collect();
        let answered = history
            .clients
            .get(stuck.client)
            .and_then(|c| c.get(stuck.command))
            .map_or(String::new(), |c| shown(&c.answered));
        lines.push(format!(
            "  {}: answered {answered}{}",
            name(stuck.client, stuck.command),
            match expected.len() {
                0 => String::new(),
                _ => format!(", the model expects {} there", expected.join(" then ")),
            }
        ));
    }
    lines
}

/// How long the case's commands took, from the first one's start to the last reply: the
/// length of the time axis every client's bars share.
pub fn span_of(history: &HistoryReport) -> Duration {
    history
        .clients
        .iter()
        .flatten()
        .filter_map(|c| c.ended.or(c.began))
        .max()
        .unwrap_or_default()
        .max(Duration::from_micros(1))
}

/// `client 2 #1 INCR`.
pub fn command_name(history: &HistoryReport, client: usize, command: usize) -> String {
    let title = history
        .clients
        .get(client)
        .and_then(|c| c.get(command))
        .map_or(String::new(), |c| c.name.clone());
    format!("client {} #{} {title}", client + 1, command + 1)
}

/// `INCR key="a"`.
fn title(command: &TimedCommand) -> String {
    super::session::called(&command.name, &command.values)
}

/// `0.12-20.4 ms`.
fn span(began: Duration, ended: Option<Duration>) -> String {
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    match ended {
        Some(end) => format!("{}-{} ms", ms(began), ms(end)),
        None => format!("from {} ms, no reply", ms(began)),
    }
}

/// The command's time on a bar of [`BAR`] columns spanning the whole case.
fn bar(began: Duration, ended: Option<Duration>, end: Duration) -> String {
    let column = |d: Duration| {
        let at = d.as_secs_f64() / end.as_secs_f64() * BAR as f64;
        (at as usize).min(BAR)
    };
    let from = column(began).min(BAR - 1);
    let to = column(ended.unwrap_or(end)).max(from + 1);
    let mut out = String::with_capacity(BAR);
    for i in 0..BAR {
        out.push(if (from..to).contains(&i) { '=' } else { ' ' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kept, Stuck};

    fn incr(began: u64, ended: u64, reply: &[u8]) -> TimedCommand {
        TimedCommand {
            name: "INCR".into(),
            values: vec![("key".into(), "\"a\"".into())],
            sent: Kept {
                bytes: b"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n".to_vec(),
                len: 23,
            },
            answered: Kept {
                bytes: reply.to_vec(),
                len: reply.len(),
            },
            began: Some(Duration::from_millis(began)),
            ended: Some(Duration::from_millis(ended)),
        }
    }

    #[test]
    fn two_overlapping_commands_show_as_overlapping_bars_and_the_stuck_one_is_marked() {
        let history = HistoryReport {
            clients: vec![
                vec![incr(0, 200, b":1\r\n")],
                vec![incr(100, 300, b":1\r\n")],
            ],
            explained: vec![(0, 0)],
            stuck: vec![Stuck {
                client: 1,
                command: 0,
                expected: vec![b":2\r\n".to_vec()],
            }],
            replays: 5,
        };
        let lines = timeline_lines(&history);
        assert_eq!(
            lines[1],
            format!(
                "    1. INCR key=\"a\"  0.00-200.00 ms  |{}{}|",
                "=".repeat(21),
                " ".repeat(11)
            )
        );
        assert!(lines[5].starts_with("    1. INCR key=\"a\"  100.00-300.00 ms  |          ="));
        assert!(lines[5].ends_with("|  <- no order explains this reply"));
        let order = order_lines(&history);
        assert_eq!(
            order,
            vec![
                "longest order the model explains: client 1 #1 INCR",
                "then none of these can come next:",
                "  client 2 #1 INCR: answered \":1\\r\\n\", the model expects \":2\\r\\n\" there",
            ]
        );
    }
}
