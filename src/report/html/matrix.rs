//! The matrix of the HTML report (`conform matrix`): one row per implementation, one column
//! per scenario, each cell a verdict badge; failures and warnings link to their section.
//!
//! In: the finished scenarios the page holds, in the order they finished. Out: HTML.

use super::{Finished, badge_html, esc};
use crate::event::Verdict;

/// Appends the matrix and the legend of its numbered columns to `html`.
pub(super) fn table(html: &mut String, scenarios: &[Finished]) {
    let mut rows: Vec<&str> = Vec::new();
    let mut columns: Vec<(&str, &str)> = Vec::new();
    for s in scenarios {
        let row = s.id.implementation.as_deref().unwrap_or("-");
        if !rows.contains(&row) {
            rows.push(row);
        }
        let column = (s.id.file.as_str(), s.id.name.as_str());
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    html.push_str("<h2>Matrix</h2>\n<table class=\"matrix\">\n<thead><tr><th>Implementation</th>");
    for (n, (file, name)) in columns.iter().enumerate() {
        html.push_str(&format!(
            "<th title=\"{} :: {}\">{}</th>",
            esc(file),
            esc(name),
            n + 1
        ));
    }
    html.push_str("<th class=\"num\">Failed</th></tr></thead>\n<tbody>\n");
    for row in &rows {
        html.push_str(&format!("<tr><td><b>{}</b></td>", esc(row)));
        let mut failed = 0;
        for column in &columns {
            let found = scenarios.iter().enumerate().find(|(_, s)| {
                s.id.implementation.as_deref().unwrap_or("-") == *row
                    && (s.id.file.as_str(), s.id.name.as_str()) == *column
            });
            let cell = match found {
                Some((index, s)) => match s.verdict {
                    Verdict::Fail(_) | Verdict::Warn(_) => {
                        failed += usize::from(matches!(s.verdict, Verdict::Fail(_)));
                        format!("<a href=\"#case-{index}\">{}</a>", badge_html(&s.verdict))
                    }
                    Verdict::Pass | Verdict::Skip(_) => badge_html(&s.verdict),
                },
                None => "·".to_owned(),
            };
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str(&format!("<td class=\"num\">{failed}</td></tr>\n"));
    }
    html.push_str("</tbody>\n</table>\n<ol class=\"legend\">\n");
    for (file, name) in &columns {
        html.push_str(&format!("<li>{} :: {}</li>\n", esc(file), esc(name)));
    }
    html.push_str("</ol>\n");
}
