//! What each key of a spec accepts, for messages about a value of the wrong shape: the
//! parser only knows it wanted "string scalar" or "mapping start"; the author wants to read
//! "`regex` takes a regex in a string, e.g. ...".
//!
//! In: the spec's text and the position of the bad value. Out: the key it belongs to and a
//! description of the shapes that key allows.

/// The shapes a key allows, in words with an example; `None` for a key not listed.
pub(super) fn takes(key: &str) -> Option<&'static str> {
    Some(match key {
        // The file and its scenarios.
        "version" => "the number 1",
        "scenarios" => {
            "a list of scenarios, each a map with `name`, `role`, `transport` and `steps`"
        }
        "name" | "description" => "text",
        "role" => {
            "`server` (your program is the server: conform connects to it) or `client` (your \
             program connects to conform)"
        }
        "transport" => "`tcp` or `udp`",
        "level" => "`must` or `should`",
        "lifecycle" => "`case` or `scenario`",
        "tags" => "a list of words, e.g. `tags: [guide, smoke]`",
        "steps" => "a list of steps, e.g. `steps: [connect, {expect: {line: hi}}, expect_eof]`",
        "generate" => {
            "a map of names to generators, e.g. `generate: {payload: {bytes: {length: 8}}}`"
        }
        "with" => "a map of generated names to fixed values, e.g. `with: {payload: {hex: \"01\"}}`",
        // Steps.
        "connect" | "accept" => "nothing, or a map such as `{as: NAME, within: 2s}`",
        "expect_eof" | "expect_reset" => "nothing, or a map such as `{within: 2s, on: NAME}`",
        "close" => "nothing, or a map such as `{reset: true, on: NAME}`",
        "shutdown_write" => "nothing, or a map such as `{on: NAME}`",
        "expect_exit" => "nothing (exit status 0), or a map such as `{code: 1, within: 2s}`",
        "send" => {
            "text (`send: \"PING\\n\"`) or a map of bytes such as `{hex: \"01 02\"}`, \
             `{var: NAME}` or `{decimal: NAME}`"
        }
        "expect" => {
            "text (`expect: \"PONG\\n\"`) or a map with one matcher such as `{line: PONG}`, \
             `{regex: \"^OK\"}`, `{length: 8}` or `{hex: \"01 02\"}`"
        }
        "expect_stdout" | "expect_stderr" => {
            "text (`expect_stdout: \"done\\n\"`) or a map such as `{lines: [done]}` or \
             `{regex: \"^done$\"}`"
        }
        "send_all" | "coalesce" => {
            "a list of payloads (`[\"a\\n\", \"b\\n\"]`), or a map with `payloads` and `on`"
        }
        "payloads" => "a list of payloads, e.g. `[\"a\\n\", {hex: \"00\"}]`",
        "expect_one_of" => {
            "a list of at least two expectations, e.g. `[{expect: {line: a}}, expect_eof]`"
        }
        "expect_silence" => "a duration such as `200ms`, or a map such as `{for: 200ms, on: NAME}`",
        // Bytes.
        "text" => {
            "text (`text: \"PING\\n\"`), or in `generate` a map such as `{chars: a-z, length: 8}`"
        }
        "escaped" => "text with escapes, e.g. `escaped: \"a\\\\x00b\"`",
        "hex" => "hex digits in a string, e.g. `hex: \"01 02 ff\"`",
        "bytes" => {
            "a list of byte values (`bytes: [1, 2, 255]`), or in `generate` a map such as \
             `{length: 8}` or `{min_length: 0, max_length: 64}`"
        }
        "var" => "the name of a generated or captured value, e.g. `var: payload`",
        "reverse" | "lisp_vector" => {
            "the name of a value (`reverse: payload`) or a map of bytes such as `{hex: \"01 02\"}`"
        }
        "concat" => "a list of parts, e.g. `concat: [\"id=\", {decimal: n}, \"\\n\"]`",
        "decimal" | "hex_text" => "a number, the name of a value, or `{length_of: NAME}`",
        "binary" => "a map such as `{of: NAME, size: 2, order: big}`",
        "until" => "text (`until: \"\\r\\n\"`) or a map of bytes such as `{hex: \"00\"}`",
        // Matchers.
        "line" => {
            "text, e.g. `line: PONG`, or computed bytes such as `{decimal: n}` or \
             `{concat: [\"id=\", {var: n}]}`"
        }
        "line_regex" => {
            "a regex in a string (`line_regex: \"PO+NG\"`), or one built with `{concat: [...]}` \
             whose computed parts match as they are"
        }
        "regex" => "a regex in a string, e.g. `regex: \"^OK \\\\d+\"`",
        "lines" => "a list of lines, e.g. `lines: [Sending data, {lisp_vector: reply}]`",
        "seq" => "a list of parts, e.g. `seq: [\"$\", {until: \"\\r\\n\", capture: n}]`",
        "number" => {
            "a map: in `expect` e.g. `{size: 4, equals: 42}`, `{size: 2, min: 1, max: 9}` or \
             `{size: 4, now: unix}`; in `generate` e.g. `{min: 1, max: 100}` (written as decimal \
             text) or `{size: 2}` (binary)"
        }
        "size" => "1, 2, 4 or 8 (bytes)",
        "order" => "`big` (network byte order) or `little`",
        "now" => "`unix` or `rfc868`",
        "capture" | "as" | "on" | "length_of" | "length_from" => "a name, e.g. `reply`",
        "split" => "a map such as `{text: \"Hello\\n\", max_pieces: 4, max_pause: 20ms}`",
        "chars" => "the inside of a regex bracket, e.g. `chars: a-z0-9`",
        "cuts" => "a list of offsets, e.g. `cuts: [1, 3]`",
        "pauses" => "a list of durations, e.g. `pauses: [20ms, 0ms]`",
        "code" | "length" | "min" | "max" | "equals" | "chunks" | "duplicate" | "truncate"
        | "cases" | "window" | "read_chunk" | "max_pieces" | "min_length" | "max_length" => {
            "a whole number"
        }
        "within" | "timeout" | "pause" | "for" | "delay" | "read_pause" | "tolerance"
        | "budget" | "max_pause" => "a duration such as `200ms` or `2s`",
        "drop" | "from_other_port" | "reset" => "`true` or `false`",
        _ => return None,
    })
}

/// The key whose value is at `line`:`column` (1-based): a `key:` that starts there (the error
/// is about that entry's value), the last `key:` before the column on that line, or, for a
/// block list (the column is at its first `-`), the key ending the line it belongs to. `None`
/// for an item of a list: what the key takes is then not what the item should be.
pub(super) fn key_at(text: &str, line: u64, column: u64) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let source = *lines.get(index)?;
    let at = usize::try_from(column).ok()?.checked_sub(1)?;
    let before: String = source.chars().take(at).collect();
    let here: String = source.chars().skip(at).collect();
    if let Some((key, _)) = here.split_once(':')
        && !key.is_empty()
        && key.chars().all(is_key_char)
    {
        return Some(key.to_string());
    }
    if let Some(head) = before.trim_end().strip_suffix(':') {
        return key_ending(head);
    }
    if before.trim().is_empty() && here.starts_with('-') {
        return key_above(&lines[..index], source);
    }
    None
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The key at the end of `head` (the text before a `:`).
fn key_ending(head: &str) -> Option<String> {
    let key: String = head
        .chars()
        .rev()
        .take_while(|c| is_key_char(*c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

/// The key a block list belongs to: the nearest line above, less indented (or as indented,
/// for a list not indented under its key), that ends with `key:`.
fn key_above(above: &[&str], source: &str) -> Option<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mine = indent(source);
    for line in above.iter().rev() {
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let theirs = indent(line);
        if theirs < mine || (theirs == mine && !content.starts_with('-')) {
            return key_ending(content.strip_suffix(':')?);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_of_a_value_in_flow_and_block_style() {
        let text = "steps:\n  - expect: {line: [a]}\n  - send: 5\n  - expect:\n      regex:\n        - a\n  - tags: [a, {b: 1}]\n  - 5\n";
        assert_eq!(key_at(text, 2, 20).as_deref(), Some("line"));
        assert_eq!(key_at(text, 3, 5).as_deref(), Some("send"));
        assert_eq!(key_at(text, 6, 9).as_deref(), Some("regex"));
        // Items of a list are not what the list's key takes.
        assert_eq!(key_at(text, 7, 15), None);
        assert_eq!(key_at(text, 8, 5), None);
        assert_eq!(key_at(text, 10, 1), None);
    }

    #[test]
    fn every_step_keyword_says_what_it_takes() {
        for step in crate::spec::STEP_NAMES {
            assert!(takes(step).is_some(), "{step}");
        }
    }
}
