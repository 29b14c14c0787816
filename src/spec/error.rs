//! Load errors: one paragraph naming the file, line and column, with the offending source line
//! under a line-number gutter and, for a misspelt key, the closest valid one.

use std::fmt;

/// Characters of the offending line kept, and shown around the column.
const MAX_LINE: usize = 10_000;
const SHOWN: usize = 160;

/// A spec that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub path: String,
    /// 1-based; 0 when the position is unknown (e.g. the file cannot be read).
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The source line the error points at, when there is one.
    pub source_line: Option<String>,
}

impl SpecError {
    /// A spec that cannot be used, or cannot be read, is the user's to fix.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }

    pub fn new(path: &str, line: u64, column: u64, message: impl Into<String>) -> Self {
        SpecError {
            path: path.to_string(),
            line,
            column,
            message: message.into(),
            source_line: None,
        }
    }

    /// Attaches the source line at `self.line` from the file's text.
    pub fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            // YAML breaks lines at CR LF, LF and a lone CR alike.
            let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
            self.source_line = normalized
                .lines()
                .nth(self.line as usize - 1)
                .map(|l| l.chars().take(MAX_LINE).collect());
        }
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.path, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )?;
        if let Some(source) = &self.source_line {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_at = (self.column.max(1) - 1) as usize;
            // A long line is shown as a window around the column, so the caret stays under it.
            let start = caret_at.saturating_sub(SHOWN / 2).min(caret_at);
            let start = if caret_at < SHOWN * 3 / 4 { 0 } else { start };
            let (lead, lead_marker) = if start > 0 { ("…", " ") } else { ("", "") };
            let shown: String = source.chars().skip(start).take(SHOWN).collect();
            let marker: String = source
                .chars()
                .skip(start)
                .take(caret_at - start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{gutter} | {lead}{shown}\n{pad} | {lead_marker}{marker}^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Appends "did you mean `x`?" to serde's unknown-field and unknown-variant messages.
pub fn suggest(message: &str) -> String {
    let Some(unknown) = backticked_after(message, "unknown field `")
        .or_else(|| backticked_after(message, "unknown variant `"))
    else {
        return message.to_string();
    };
    let expected = message
        .split_once("expected")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    // Candidates come as "one of a, b, c" (serde-saphyr) or "one of `a`, `b`" (serde).
    let expected = expected.trim_start().trim_start_matches("one of").trim();
    let best = expected
        .split(',')
        .map(|candidate| candidate.trim().trim_matches('`'))
        .filter(|candidate| !candidate.is_empty())
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, candidate)) => format!("{message}; did you mean `{candidate}`?"),
        None => message.to_string(),
    }
}

fn backticked_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')?;
    Some(&message[start..start + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_field() {
        let msg = suggest("unknown field `stpes`, expected one of `name`, `steps`, `role`");
        assert!(msg.ends_with("did you mean `steps`?"), "{msg}");
    }

    #[test]
    fn suggests_from_an_unquoted_list() {
        let msg = suggest("unknown variant `conect`, expected one of connect, accept, send");
        assert!(msg.ends_with("did you mean `connect`?"), "{msg}");
    }

    #[test]
    fn does_not_suggest_a_far_field() {
        let msg = suggest("unknown field `zzz`, expected one of `name`, `steps`");
        assert!(!msg.contains("did you mean"), "{msg}");
    }

    #[test]
    fn renders_gutter_and_caret() {
        let err = SpecError::new("a.yaml", 2, 3, "bad").with_source("x: 1\n  y: 2\n");
        assert_eq!(err.to_string(), "a.yaml:2:3: bad\n  |\n2 |   y: 2\n  |   ^");
    }
}
