//! The history of several clients at once in the HTML report: one table per client, each
//! command a row with its values, its time span as a bar on the axis every client shares,
//! what conform sent and what the program answered; the commands no order could place next
//! marked, and the longest order the model explains below.
//!
//! In: a [`HistoryReport`]. Out: HTML appended to the page.

use std::time::Duration;

use super::esc;
use crate::event::HistoryReport;
use crate::report::session::shown;

/// The timelines.
pub(super) fn timelines(html: &mut String, history: &HistoryReport) {
    let end = crate::report::history::span_of(history);
    let percent = |d: Duration| d.as_secs_f64() / end.as_secs_f64() * 100.0;
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    for (k, commands) in history.clients.iter().enumerate() {
        html.push_str(&format!(
            "<table class=\"session history\" data-client=\"{}\">\n<caption>client {}</caption>\n\
             <thead><tr><th class=\"num\">#</th><th>command</th><th>time</th><th>sent</th><th>program</th></tr></thead>\n<tbody>\n",
            k + 1,
            k + 1
        ));
        for (i, c) in commands.iter().enumerate() {
            let stuck = history
                .stuck
                .iter()
                .any(|s| s.client == k && s.command == i);
            let (class, mark) = if stuck {
                (
                    " class=\"failed\"",
                    " <span class=\"mark\">no order explains this reply</span>",
                )
            } else if c.began.is_none() {
                (
                    " class=\"unreached\"",
                    " <span class=\"mark\">not played</span>",
                )
            } else {
                ("", "")
            };
            let values: Vec<String> = c
                .values
                .iter()
                .map(|(n, v)| format!("{}={}", esc(n), esc(v)))
                .collect();
            let time = match c.began {
                Some(began) => {
                    let until = c.ended.unwrap_or(end);
                    let width = (percent(until) - percent(began)).max(0.5);
                    format!(
                        "<div class=\"bar\"><span style=\"left:{:.1}%;width:{width:.1}%\"></span></div>{}–{} ms",
                        percent(began),
                        ms(began),
                        c.ended.map_or("…".into(), ms)
                    )
                }
                None => "—".into(),
            };
            html.push_str(&format!(
                "<tr{class}><td class=\"num\">{}</td><td><b>{}</b>{mark}<br><code>{}</code></td>\
                 <td class=\"time\">{time}</td><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                i + 1,
                esc(&c.name),
                values.join(" "),
                esc(&shown(&c.sent)),
                esc(&shown(&c.answered)),
            ));
        }
        html.push_str("</tbody>\n</table>\n");
    }
    if history.stuck.is_empty() {
        return;
    }
    let name = |client: usize, command: usize| {
        crate::report::history::command_name(history, client, command)
    };
    let explained: Vec<String> = history
        .explained
        .iter()
        .map(|(c, i)| esc(&name(*c, *i)))
        .collect();
    let stuck: Vec<String> = history
        .stuck
        .iter()
        .map(|s| {
            let expected: Vec<String> = s
                .expected
                .iter()
                .map(|e| format!("<code>\"{}\"</code>", esc(&crate::spec::payload::escape(e))))
                .collect();
            let expects = match expected.len() {
                0 => String::new(),
                _ => format!(" (the model expects {})", expected.join(" then ")),
            };
            format!("{}{expects}", esc(&name(s.client, s.command)))
        })
        .collect();
    html.push_str(&format!(
        "<p class=\"meta order\">longest order the model explains: {}; then none of these can come next: {}</p>\n",
        if explained.is_empty() { "none".into() } else { explained.join(", ") },
        stuck.join("; ")
    ));
}
