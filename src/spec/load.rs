//! Reading a spec file: bytes in, a validated [`Spec`] or a located [`SpecError`] out.
//!
//! The YAML parser runs with tight budgets (depth, aliases, nodes) so a hostile file fails
//! fast instead of exhausting memory.

use std::path::Path;

use super::error::{SpecError, suggest};
use super::model::{File, Spec};
use super::validate;

mod shapes;

/// Parser budgets: far above any real spec (the shipped ones use a few hundred nodes), low
/// enough that an alias bomb is refused in milliseconds.
const MAX_NODES: usize = 20_000;
const MAX_ALIASES: usize = 256;
const MAX_DEPTH: usize = 32;

/// Spec files larger than this are refused before parsing.
const MAX_BYTES: usize = 4 << 20;

/// Reads and validates the spec at `path`.
pub fn load_file(path: &Path) -> Result<Spec, SpecError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ if path.is_dir() => "is a directory, not a spec file".to_string(),
            _ => e.to_string(),
        };
        SpecError::new(&name, 0, 0, format!("cannot read spec: {why}"))
    })?;
    load_bytes(&name, &bytes)
}

/// Validates spec text given directly (for tests and library users).
pub fn load_str(name: &str, text: &str) -> Result<Spec, SpecError> {
    load_bytes(name, text.as_bytes())
}

fn load_bytes(name: &str, bytes: &[u8]) -> Result<Spec, SpecError> {
    if bytes.len() > MAX_BYTES {
        return Err(SpecError::new(
            name,
            0,
            0,
            format!(
                "spec is {} bytes, more than the limit of {MAX_BYTES}: is this really a spec file?",
                bytes.len()
            ),
        ));
    }
    let text = as_text(name, bytes)?;
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(SpecError::new(
            name,
            1,
            1,
            "empty spec: it needs a `scenarios:` list",
        ));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_anchors: 256,
            max_nodes: MAX_NODES,
            max_events: 200_000,
            max_documents: 1,
        },
        with_snippet: false,
    };
    let file: File = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| yaml_error(name, text, &e))?;
    let spec = Spec {
        path: name.to_string(),
        source: text.to_string(),
        file,
    };
    validate::check(&spec).map_err(|e| e.with_source(text))?;
    Ok(spec)
}

fn as_text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, SpecError> {
    let bad_at = match std::str::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            None => return Ok(text),
            Some(at) => at,
        },
        Err(e) => e.valid_up_to(),
    };
    let before = &bytes[..bad_at];
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let column = (bad_at
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)) as u64
        + 1;
    Err(SpecError::new(
        name,
        line,
        column,
        "not a text file: a spec is UTF-8 YAML, but this byte is binary",
    ))
}

fn yaml_error(name: &str, text: &str, error: &serde_saphyr::Error) -> SpecError {
    let error = error.without_snippet();
    let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let (line, column, message) = expression_at(text, line, column, error.to_string());
    let message = clean_message(&message);
    let message = in_plain_words(
        &message,
        token_at(text, line, column),
        shapes::key_at(text, line, column),
    );
    SpecError::new(name, line, column, suggest(&message)).with_source(text)
}

/// Where an expression's error is in the file, when the message marks one: the expression's
/// own line and column, counted from where its text starts (after an opening quote, or on
/// the lines of a block scalar).
fn expression_at(text: &str, line: u64, column: u64, message: String) -> (u64, u64, String) {
    let (open, close) = super::data::EXPR_MARK;
    let Some((before, rest)) = message.split_once(open) else {
        return (line, column, message);
    };
    let Some((at, after)) = rest.split_once(close) else {
        return (line, column, message);
    };
    let numbers: Vec<u64> = at.split(':').filter_map(|n| n.parse().ok()).collect();
    let [l, c, inner_line, inner_col] = numbers[..] else {
        return (line, column, message);
    };
    let quoted = text
        .lines()
        .nth(l.saturating_sub(1) as usize)
        .and_then(|s| s.chars().nth(c.saturating_sub(1) as usize))
        .is_some_and(|ch| ch == '\'' || ch == '"');
    // A block scalar's position is its first line of text, whose indentation the lines
    // after it share.
    let (line, column) = if quoted && inner_line == 1 {
        (l, c + inner_col)
    } else {
        (l + inner_line - 1, c + inner_col - 1)
    };
    (line, column, format!("{before}{after}"))
}

/// The YAML token that starts at `line`:`column` (1-based), for "found `...`": a scalar up
/// to the next separator, or a whole flow list or map.
fn token_at(text: &str, line: u64, column: u64) -> Option<String> {
    let source = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let rest: Vec<char> = source
        .chars()
        .skip(usize::try_from(column).ok()?.checked_sub(1)?)
        .collect();
    let token: String = match rest.first() {
        Some('[' | '{') => {
            let mut depth = 0;
            let end = rest.iter().position(|c| {
                match c {
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            });
            rest[..end.map_or(rest.len(), |e| e + 1)].iter().collect()
        }
        _ => rest
            .iter()
            .take_while(|c| !matches!(c, ',' | ']' | '}' | '#'))
            .collect(),
    };
    let token = token.trim();
    let shown: String = token.chars().take(40).collect();
    let shown = if shown.len() < token.len() {
        format!("{shown}…")
    } else {
        shown
    };
    (!shown.is_empty()).then_some(shown)
}

/// Rewrites the parser's and serde's wording for wrong types into what a spec author knows:
/// what the key at the error takes (`key`, when it is known), and what was found instead.
fn in_plain_words(message: &str, found: Option<String>, key: Option<String>) -> String {
    let wrong_shape = matches!(
        message,
        "expected sequence start" | "expected mapping start" | "expected string scalar"
    ) || message.starts_with("invalid u")
        || message.starts_with("invalid i")
        || message.starts_with("invalid type: ")
        || message.starts_with("externally tagged enum");
    let serde_found = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "));
    if wrong_shape
        && let Some(key) = key
        && let Some(takes) = shapes::takes(&key)
    {
        let what = match serde_found {
            Some((what, _)) => Some(plain_kind(what)),
            // A block list shows as its first item; say what it is instead.
            None if found.as_deref().is_some_and(|t| t.starts_with("- ")) => {
                Some("a list".to_string())
            }
            None => found.map(|t| format!("`{t}`")),
        };
        let what = what.map_or(String::new(), |w| format!("; found {w}"));
        return format!("`{key}` takes {takes}{what}");
    }
    if let Some((what, expected)) = serde_found {
        return format!("expected {expected}, found {}", plain_kind(what));
    }
    let found = found.map_or(String::new(), |t| format!(", found `{t}`"));
    match message {
        "expected sequence start" => {
            format!("expected a list (a YAML sequence: `[a, b]` or `- ` items) here{found}")
        }
        "expected mapping start" => {
            format!("expected a map (a YAML mapping: `key: value`) here{found}")
        }
        "expected string scalar" => format!("expected text here{found}"),
        m if m.starts_with("invalid u") || m.starts_with("invalid i") => {
            format!("expected a whole number here{found}")
        }
        m => m.to_string(),
    }
}

/// serde's name for what it found (`integer `5``, `sequence`), in a spec author's words.
fn plain_kind(what: &str) -> String {
    let simple = [
        ("unit value", "an empty value"),
        ("sequence", "a list"),
        ("map", "a map"),
    ];
    if let Some((_, plain)) = simple.iter().find(|(serde, _)| *serde == what) {
        return (*plain).to_string();
    }
    for (serde, plain) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("string ", "the text "),
        ("boolean ", "the boolean "),
    ] {
        if let Some(value) = what.strip_prefix(serde) {
            return format!("{plain}{value}");
        }
    }
    what.to_string()
}

/// serde-saphyr appends " at line L column C" to its messages; the location is shown once,
/// in front, like a compiler's.
fn clean_message(message: &str) -> String {
    let mut text = message.trim();
    if let Some(at) = text.rfind(" at line ")
        && text[at + 9..]
            .split(" column ")
            .map(|n| n.trim_end_matches(','))
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        text = &text[..at];
    }
    // Say what the parser's internal names mean for a spec author.
    if text.contains("Documents {") {
        return "a spec file holds one YAML document: remove the second `---`".into();
    }
    if text.starts_with("budget breached") {
        // Aliases and merge keys that multiply nodes (or a truly huge file) end here.
        return format!(
            "the spec is too large once its aliases are expanded (limit: {MAX_NODES} YAML \
             nodes, {MAX_ALIASES} aliases, depth {MAX_DEPTH}); is an anchor used recursively?"
        );
    }
    text.trim_end_matches(" set DuplicateKeyPolicy in Options if acceptable")
        .trim_end_matches(',')
        .to_string()
}
