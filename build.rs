//! Embeds every file under `specs/` in the binary, so `conform run udp` works after
//! `cargo install` with no checkout around.
//!
//! In: the `specs/` tree. Out: `$OUT_DIR/shipped.rs`, a table of `(relative path, contents)`
//! sorted by path, that `src/cli/shipped.rs` includes. Walking the directory (instead of a
//! hand-written list) is what keeps a new spec from being left out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let specs = root.join("specs");
    // A directory here makes cargo watch every file below it, added ones included.
    println!("cargo:rerun-if-changed=specs");
    let mut files = Vec::new();
    walk(&specs, &mut files);
    files.sort();
    let mut table = String::from(
        "/// Every file under `specs/`, by its path below `specs/` (`/`-separated), sorted.\n\
         pub static FILES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let relative = file
            .strip_prefix(&specs)
            .expect("walked below specs/")
            .components()
            .map(|c| c.as_os_str().to_str().expect("spec paths are UTF-8"))
            .collect::<Vec<_>>()
            .join("/");
        let absolute = file.to_str().expect("spec paths are UTF-8");
        writeln!(table, "    ({relative:?}, include_str!({absolute:?})),").expect("to a string");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("shipped.rs"), table).expect("OUT_DIR is writable");
}

/// Every regular file below `dir`; hidden files (editor swap files, `.gitkeep`) are left out.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a readable directory entry");
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
