//! The layering `src/lib.rs` draws holds: a top-level module uses only the modules drawn below
//! it (and the leaves `quote` and `exit`), and no two sibling modules anywhere import each
//! other, directly or round a circle. Read from the sources, so a new `use` that breaks the
//! drawing fails here, naming the two modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// Module path (`run::exec`) -> its source, for every file under `src/`.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Tests may reach anywhere.
                let text = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
                out.insert(parts.join("::"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    let root = common::root().join("src");
    walk(&root, &root, &mut out);
    out
}

/// The modules `source` (module `at`) names through `crate::` or `super::` paths, resolved to
/// the longest known module.
fn uses(at: &str, source: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut paths: Vec<String> = Vec::new();
    let bytes = source.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = source[from..].find(start) {
            let i = from + i;
            from = i + start.len();
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue;
            }
            let path: String = source[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(path);
        }
    }
    for path in paths {
        let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<&str> = at.split("::").filter(|s| !s.is_empty()).collect();
        if segments.first() == Some(&"crate") {
            base.clear();
            segments.remove(0);
        }
        while segments.first() == Some(&"super") {
            base.pop();
            segments.remove(0);
        }
        for n in (1..=segments.len()).rev() {
            let candidate = [&base[..], &segments[..n]].concat().join("::");
            if known.contains(&candidate) {
                found.insert(candidate);
                break;
            }
        }
    }
    found.remove(at);
    found
}

/// The top-level modules in the order `src/lib.rs` draws them.
fn drawn_order() -> Vec<String> {
    let lib = std::fs::read_to_string(common::root().join("src/lib.rs")).unwrap();
    let drawing = lib
        .split("//! ```text")
        .nth(1)
        .unwrap()
        .split("//! ```")
        .next()
        .unwrap();
    drawing
        .lines()
        .filter_map(|l| l.strip_prefix("//!   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn top_level_modules_use_only_the_ones_drawn_below_them() {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let order = drawn_order();
    assert!(
        order.len() >= 10,
        "the drawing in src/lib.rs lists {order:?}"
    );
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    let mut wrong = Vec::new();
    for (module, source) in &modules {
        let from = top(module);
        if from.is_empty() || from == "main" || from == "quote" || from == "exit" {
            continue;
        }
        let Some(rank) = order.iter().position(|o| *o == from) else {
            wrong.push(format!("`{from}` is not in the drawing of src/lib.rs"));
            continue;
        };
        for used in uses(module, source, &known) {
            let to = top(&used);
            if to == from || to == "quote" || to == "exit" {
                continue;
            }
            match order.iter().position(|o| *o == to) {
                Some(r) if r > rank => {}
                _ => wrong.push(format!(
                    "{module} uses {used}, which is not drawn below `{from}`"
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_sibling_modules_import_each_other_round_a_circle() {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    // Edges between siblings: children of the same parent, named by the child each side is in.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, source) in &modules {
        for used in uses(module, source, &known) {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (module.split("::").collect(), used.split("::").collect());
            let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            if common < a.len() && common < b.len() {
                let prefix = a[..common].join("::");
                let sa = format!("{prefix}/{}", a[common]);
                let sb = format!("{prefix}/{}", b[common]);
                edges.entry(sa).or_default().insert(sb);
            }
        }
    }
    for start in edges.keys() {
        // A path back to `start` through siblings is a circle.
        let mut seen = BTreeSet::new();
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    panic!("import circle: {} -> {start}", path.join(" -> "));
                }
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
}
