//! One self-contained HTML page for people: totals, the scenario list, and for every failing
//! or warning case the diagnosis as the terminal shows it, the replay line, the program's end
//! and output, and the wire log. No script, font or style comes from the network: the page
//! reads the same offline, from a CI artifact or attached to a mail.
//!
//! In: [`Event`]s. Out: the page, written once when `RunFinished` arrives (the totals head
//! the page). Passing and skipped scenarios are one table row each.

mod history;
mod matrix;
mod session;

use std::io::{self, Write};
use std::time::Duration;

use super::human::{cases_note, failure_lines, fmt_duration};
use super::{Reporter, wirelog};
use crate::event::{
    Direction, Event, Failure, ScenarioId, Shrinking, Summary, TargetKind, Verdict, Wire,
};
use crate::spec::Level;

/// The page's style sheet, inlined.
const STYLE: &str = include_str!("style.css");

/// Hex rows shown per wire log entry: 256 bytes, the rest is counted.
const WIRE_ROWS: usize = 16;

pub struct Html<W: Write + Send> {
    out: W,
    scenarios: Vec<Finished>,
}

/// A finished scenario, kept until the page is written.
pub(crate) struct Finished {
    pub(crate) id: ScenarioId,
    target: TargetKind,
    pub(crate) verdict: Verdict,
    duration: Duration,
    cases: u64,
    seed: Option<u64>,
    cut_short: Option<crate::event::CutShort>,
    window: Option<usize>,
    clients: Option<usize>,
}

impl<W: Write + Send> Html<W> {
    pub fn new(out: W) -> Self {
        Html {
            out,
            scenarios: Vec::new(),
        }
    }
}

impl<W: Write + Send> Reporter for Html<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { .. } | Event::ScenarioStarted { .. } => {}
            // The verdict sums the steps up; the wire log shows them in detail.
            Event::StepObserved { .. } | Event::Progress { .. } => {}
            Event::ScenarioFinished {
                id,
                target,
                lifecycle: _,
                verdict,
                duration,
                cases,
                seed,
                cut_short,
                window,
                clients,
            } => self.scenarios.push(Finished {
                id: id.clone(),
                target: target.clone(),
                verdict: verdict.clone(),
                duration: *duration,
                cases: *cases,
                seed: *seed,
                cut_short: *cut_short,
                window: *window,
                clients: *clients,
            }),
            Event::RunFinished { summary, duration } => {
                let page = page(&self.scenarios, summary, *duration);
                self.out.write_all(page.as_bytes())?;
                self.out.flush()?;
            }
        }
        Ok(())
    }
}

/// Text made safe for HTML: markup characters as entities, control characters (a program's
/// colour codes, say) in conform's escaped form so they show instead of vanishing.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
            c => out.push(c),
        }
    }
    out
}

/// The class name and the badge text of a verdict: a symbol and a word, so verdicts tell
/// apart without colour.
pub fn badge(verdict: &Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Pass => ("pass", "✓ PASS"),
        Verdict::Fail(_) => ("fail", "✗ FAIL"),
        Verdict::Warn(_) => ("warn", "! WARN"),
        Verdict::Skip(_) => ("skip", "– SKIP"),
    }
}

pub(crate) fn badge_html(verdict: &Verdict) -> String {
    let (class, text) = badge(verdict);
    format!("<span class=\"badge {class}\">{text}</span>")
}

fn page(scenarios: &[Finished], summary: &Summary, duration: Duration) -> String {
    // Suites are spec files, or `implementation: file` in a matrix.
    let suites: Vec<String> = scenarios.iter().fold(Vec::new(), |mut all, s| {
        if !all.contains(&s.id.suite()) {
            all.push(s.id.suite());
        }
        all
    });
    let mut files: Vec<&str> = Vec::new();
    for s in scenarios {
        if !files.contains(&s.id.file.as_str()) {
            files.push(&s.id.file);
        }
    }
    let outcome = if summary.failed > 0 {
        format!("✗ FAIL: {} scenario(s) failed", summary.failed)
    } else {
        "✓ PASS: no scenario failed".to_owned()
    };
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>conform: {} passed, {} failed, {} warned, {} skipped</title>\n",
        summary.passed, summary.failed, summary.warned, summary.skipped
    ));
    html.push_str(&format!(
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    html.push_str("<h1>conform report</h1>\n");
    html.push_str(&format!(
        "<p class=\"sub\">{} scenario(s) from {} · {}</p>\n",
        scenarios.len(),
        esc(&files.join(", ")),
        fmt_duration(duration)
    ));
    html.push_str("<div class=\"totals\">\n");
    for (class, count, word) in [
        ("pass", summary.passed, "passed"),
        ("fail", summary.failed, "failed"),
        ("warn", summary.warned, "warned"),
        ("skip", summary.skipped, "skipped"),
    ] {
        html.push_str(&format!(
            "<div class=\"total {class}\"><b>{count}</b>{word}</div>\n"
        ));
    }
    html.push_str("</div>\n");
    html.push_str(&format!("<p class=\"outcome\">{}</p>\n", esc(&outcome)));
    if scenarios.iter().any(|s| s.id.implementation.is_some()) {
        matrix::table(&mut html, scenarios);
    }
    scenario_table(&mut html, scenarios, &suites);
    let troubled: Vec<(usize, &Finished)> = scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.verdict, Verdict::Fail(_) | Verdict::Warn(_)))
        .collect();
    if !troubled.is_empty() {
        html.push_str("<h2>Failures and warnings</h2>\n");
        for (index, scenario) in troubled {
            case_section(&mut html, index, scenario);
        }
    }
    html.push_str(&format!(
        "<footer>Written by conform {}. This page is self-contained: it loads nothing from \
         the network.</footer>\n",
        env!("CARGO_PKG_VERSION")
    ));
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// The scenario list: one row per scenario under a row per spec file; failures and warnings
/// link to their section.
fn scenario_table(html: &mut String, scenarios: &[Finished], suites: &[String]) {
    html.push_str("<h2>Scenarios</h2>\n<table class=\"scenarios\">\n");
    html.push_str(
        "<thead><tr><th>Verdict</th><th>Scenario</th><th>Role</th><th class=\"num\">Time</th></tr></thead>\n<tbody>\n",
    );
    for suite in suites {
        html.push_str(&format!(
            "<tr class=\"file\"><td colspan=\"4\">{}</td></tr>\n",
            esc(suite)
        ));
        for (index, s) in scenarios
            .iter()
            .enumerate()
            .filter(|(_, s)| s.id.suite() == *suite)
        {
            let name = match s.verdict {
                Verdict::Fail(_) | Verdict::Warn(_) => {
                    format!("<a href=\"#case-{index}\">{}</a>", esc(&s.id.name))
                }
                Verdict::Pass | Verdict::Skip(_) => esc(&s.id.name),
            };
            let level = match s.id.level {
                Level::Should => "<span class=\"tag\">should</span>",
                Level::Must => "",
            };
            let why = match &s.verdict {
                Verdict::Skip(reason) => format!("<div class=\"why\">{}</div>", esc(reason)),
                Verdict::Fail(f) | Verdict::Warn(f) => match f.mismatches.first() {
                    Some(m) => format!("<div class=\"why\">{}</div>", esc(&m.summary)),
                    None => String::new(),
                },
                Verdict::Pass => String::new(),
            };
            let generated = cases_note(s.cases, s.seed, s.cut_short, (s.window, s.clients))
                .map_or(String::new(), |note| {
                    format!("<div class=\"why\">{}</div>", esc(&note))
                });
            html.push_str(&format!(
                "<tr><td>{}</td><td>{name}{level}{why}</td><td>{} · {}</td><td class=\"num\">{}{generated}</td></tr>\n",
                badge_html(&s.verdict),
                s.id.role,
                s.id.transport,
                fmt_duration(s.duration),
            ));
        }
    }
    html.push_str("</tbody>\n</table>\n");
}

fn case_section(html: &mut String, index: usize, s: &Finished) {
    let (Verdict::Fail(failure) | Verdict::Warn(failure)) = &s.verdict else {
        return;
    };
    let (class, _) = badge(&s.verdict);
    html.push_str(&format!(
        "<section class=\"case {class}\" id=\"case-{index}\">\n<h2>{} {} :: {}</h2>\n",
        badge_html(&s.verdict),
        esc(&s.id.suite()),
        esc(&s.id.name)
    ));
    let generated = cases_note(s.cases, s.seed, s.cut_short, (s.window, s.clients))
        .map_or(String::new(), |note| format!(" · {}", esc(&note)));
    html.push_str(&format!(
        "<p class=\"meta\">against {} · {} · {} over {} · {}{generated}</p>\n",
        esc(&s.target.to_string()),
        s.id.level,
        s.id.role,
        s.id.transport,
        fmt_duration(s.duration)
    ));
    if matches!(s.verdict, Verdict::Warn(_)) {
        html.push_str(
            "<p class=\"note\">A <code>should</code> scenario: reported as a warning; \
             <code>--strict</code> makes it fail.</p>\n",
        );
    }
    html.push_str("<h3>Diagnosis</h3>\n<pre>");
    html.push_str(&esc(&failure_lines(&s.id.file, failure).join("\n")));
    html.push_str("</pre>\n");
    if let Some(g) = &failure.generated {
        // What shrinking ended with, or the failing input itself when it was not shrunk.
        let (title, shown) = match g.shrinking {
            Shrinking::Minimal => ("Minimal counterexample", &g.minimal),
            Shrinking::Local { .. } => ("Locally minimal counterexample", &g.minimal),
            Shrinking::AnyInput => ("Simplest input (fails for any input)", &g.minimal),
            Shrinking::Budget { .. }
            | Shrinking::TimeCap { .. }
            | Shrinking::Stopped
            | Shrinking::Replayed { .. } => ("Smallest failing input found", &g.minimal),
            Shrinking::BeforeInput { .. }
            | Shrinking::NotReproduced
            | Shrinking::Fixed
            | Shrinking::ReferenceFailed => ("Failing input", &g.original),
        };
        if let Some(history) = &g.history {
            html.push_str(&format!(
                "<h3>{}: one timeline per client</h3>\n",
                esc(&title
                    .replace("counterexample", "history")
                    .replace("input", "history"))
            ));
            history::timelines(html, history);
            html.push_str(&format!(
                "<p class=\"meta\">{}</p>\n",
                esc(&g.shrinking.message())
            ));
        }
        match &g.session {
            _ if g.history.is_some() => {}
            Some(transcript) => {
                let title = title
                    .replace("counterexample", "session")
                    .replace("input", "session");
                html.push_str(&format!("<h3>{title}</h3>\n"));
                session::table(html, transcript);
                html.push_str(&format!(
                    "<p class=\"meta\">{}</p>\n",
                    esc(&g.shrinking.message())
                ));
            }
            None => {
                html.push_str(&format!("<h3>{title}</h3>\n<pre>"));
                let values: Vec<String> = shown.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                html.push_str(&esc(&values.join("\n")));
                html.push_str(&format!(
                    "</pre>\n<p class=\"meta\">{}</p>\n",
                    esc(&g.shrinking.message())
                ));
            }
        }
        html.push_str("<h3>Replay it</h3>\n<pre class=\"replay\">");
        html.push_str(&esc(&g.replay));
        html.push_str("</pre>\n");
    }
    wire_table(html, failure);
    html.push_str("</section>\n");
}

/// The wire log as a table: time, direction, what happened, and the bytes.
fn wire_table(html: &mut String, failure: &Failure) {
    html.push_str("<h3>Wire log</h3>\n");
    let Some(log) = &failure.wire else {
        html.push_str("<p class=\"note\">No case ran: the program never became ready.</p>\n");
        return;
    };
    if log.entries.is_empty() {
        html.push_str("<p class=\"note\">Nothing went over the wire.</p>\n");
        return;
    }
    html.push_str("<table class=\"wire\">\n<thead><tr><th class=\"num\">Time</th><th>Way</th><th>Event and bytes</th></tr></thead>\n<tbody>\n");
    for entry in &log.entries {
        let direction = match &entry.what {
            Wire::Data { direction, .. }
            | Wire::Fin { direction, .. }
            | Wire::Reset { direction, .. } => Some(*direction),
            Wire::Connect { .. } => Some(Direction::Sent),
            Wire::Accept { .. } => Some(Direction::Received),
            Wire::ConnectFailed { .. } | Wire::Silence { .. } | Wire::ProgramExit { .. } => None,
        };
        let way = match direction {
            Some(Direction::Sent) => "<span class=\"sent\">→ to program</span>",
            Some(Direction::Received) => "<span class=\"received\">← from program</span>",
            None => "<span class=\"other\">·</span>",
        };
        let bytes = wirelog::bytes_lines(entry, WIRE_ROWS);
        let bytes = if bytes.is_empty() {
            String::new()
        } else {
            format!("<pre>{}</pre>", esc(&bytes.join("\n")))
        };
        html.push_str(&format!(
            "<tr><td class=\"time\">{}</td><td class=\"dir\">{way}</td><td><span class=\"mono\">{}</span>{bytes}</td></tr>\n",
            esc(wirelog::time(entry.at).trim()),
            esc(&wirelog::headline(&entry.what)),
        ));
    }
    html.push_str("</tbody>\n</table>\n");
    if let Some(note) = wirelog::cut_note(log) {
        html.push_str(&format!("<p class=\"note\">{}</p>\n", esc(&note)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            esc("<a href='x'>&\"\u{1b}[31m\n"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\x1b[31m\n"
        );
    }
}
