//! A failing session in the HTML report: the minimal session as a table, one row per command
//! with its values, what conform sent, what the reference and the program answered, the
//! failing command marked and the commands after it greyed.
//!
//! In: a [`SessionReport`]. Out: HTML appended to the page.

use super::esc;
use crate::event::{Kept, SessionReport};
use crate::report::session::shown;

/// The transcript table.
pub(super) fn table(html: &mut String, session: &SessionReport) {
    let reference = session.commands.iter().any(|c| c.reference.is_some());
    html.push_str("<table class=\"session\">\n<thead><tr><th class=\"num\">#</th><th>command</th><th>sent</th>");
    if reference {
        html.push_str("<th>reference</th>");
    }
    html.push_str("<th>program</th></tr></thead>\n<tbody>\n");
    for (i, command) in session.commands.iter().enumerate() {
        let number = i + 1;
        let (class, mark) = match session.failed_at {
            Some(f) if f == number => (
                " class=\"failed\"",
                " <span class=\"mark\">fails here</span>",
            ),
            Some(f) if number > f => (
                " class=\"unreached\"",
                " <span class=\"mark\">not reached</span>",
            ),
            _ => ("", ""),
        };
        let values: Vec<String> = command
            .values
            .iter()
            .map(|(n, v)| format!("{}={}", esc(n), esc(v)))
            .collect();
        html.push_str(&format!(
            "<tr{class}><td class=\"num\">{number}</td><td><b>{}</b>{mark}<br><code>{}</code></td><td>{}</td>",
            esc(&command.name),
            values.join(" "),
            cell(Some(&command.sent)),
        ));
        if reference {
            html.push_str(&format!("<td>{}</td>", cell(command.reference.as_ref())));
        }
        html.push_str(&format!(
            "<td>{}</td></tr>\n",
            cell(command.answered.as_ref())
        ));
    }
    html.push_str("</tbody>\n</table>\n");
    if let Some(command) = &session.reference {
        html.push_str(&format!(
            "<p class=\"meta\">compared with the reference <code>{}</code></p>\n",
            esc(command)
        ));
    }
}

fn cell(kept: Option<&Kept>) -> String {
    match kept {
        Some(kept) => format!("<code>{}</code>", esc(&shown(kept))),
        None => "<span class=\"note\">—</span>".into(),
    }
}
