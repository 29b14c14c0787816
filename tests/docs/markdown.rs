//! Links, headings and spec blocks of markdown documents.

/// The relative links of a markdown text: `[text](target)` and `![alt](target)`, without
/// those to the web or to an anchor of the same page.
pub fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = &rest[..end];
            if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:")
            {
                found.push(target.to_string());
            }
            rest = &rest[end..];
        }
    }
    found
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

pub fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    text.lines()
        .filter(|line| {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            !in_code && line.starts_with('#')
        })
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

/// The ```` ```yaml ```` blocks of a document that are whole specs, or lists of scenarios
/// (given a `scenarios:` key here), with the line each starts on. Blocks of steps alone, and
/// CI files, are left out.
pub fn spec_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        if line.trim() != "```yaml" {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, line)| line)
            .take_while(|line| !line.starts_with("```"))
            .collect();
        let body = body.join("\n") + "\n";
        if body.lines().any(|line| line.starts_with("scenarios:")) {
            blocks.push((at + 2, body));
        } else if body.trim_start().starts_with("- name:") {
            blocks.push((at + 2, format!("scenarios:\n{body}")));
        }
    }
    blocks
}
