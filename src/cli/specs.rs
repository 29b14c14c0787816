//! Spec arguments: the path of a YAML file, or the name of a spec shipped inside the binary
//! (`udp`, `rfc/time`), so the shipped specs work after `cargo install` from any directory.
//! A path that exists wins. Also `conform specs`, which lists the shipped specs or writes
//! them out, and `conform check`.
//!
//! In: the spec arguments as given. Out: loaded [`Spec`]s, or every error printed and counted.

use std::path::{Path, PathBuf};

use super::{CliError, fail, hints, out};
use crate::exit;
use crate::spec::{self, Spec, SpecError};

// `FILES`: every file under `specs/`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// A spec shipped inside the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shipped {
    /// The path below `specs/` without `.yaml`: `udp`, `rfc/time`.
    pub name: &'static str,
    /// The path below `specs/`: `rfc/time.yaml`.
    pub path: &'static str,
    pub text: &'static str,
}

impl Shipped {
    /// How load errors name it: `udp (shipped)`, so `udp (shipped):12:5` is not taken for a
    /// file in the current directory.
    pub fn label(&self) -> String {
        format!("{} (shipped)", self.name)
    }

    /// The spec, named by its bare name in reports and replay lines (`conform run udp ...`
    /// runs it again from anywhere).
    pub fn load(&self) -> Result<Spec, SpecError> {
        let mut spec = spec::load_str(&self.label(), self.text)?;
        spec.path = self.name.to_string();
        Ok(spec)
    }
}

/// The shipped specs: the guide's first, then those in subdirectories, each group by name.
pub(crate) fn shipped() -> Vec<Shipped> {
    let mut all: Vec<Shipped> = FILES
        .iter()
        .filter_map(|&(path, text)| {
            Some(Shipped {
                name: path.strip_suffix(".yaml")?,
                path,
                text,
            })
        })
        .collect();
    all.sort_by_key(|s| (s.name.contains('/'), s.name));
    all
}

/// The shipped spec an argument names: `udp`, `udp.yaml`, `specs/udp.yaml`, `./specs/rfc/time.yaml`
/// (the last two are what a README run from a clone says).
pub(crate) fn find(arg: &str) -> Option<Shipped> {
    let name = arg.trim_start_matches("./");
    let name = name.strip_prefix("specs/").unwrap_or(name);
    let name = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    shipped().into_iter().find(|s| s.name == name)
}

/// The end of the message for a spec argument that is neither a file nor a shipped name.
pub(super) fn not_shipped(arg: &str) -> String {
    let names: Vec<&str> = shipped().iter().map(|s| s.name).collect();
    let closest = names
        .iter()
        .map(|n| (strsim::jaro_winkler(arg, n), *n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, n)| format!(" (did you mean `{n}`?)"));
    format!(
        "; no shipped spec has that name either{closest}. Shipped specs: {} \
         (`conform specs` describes them)",
        names.join(", ")
    )
}

/// How `load_all` reads its arguments.
pub(crate) struct Loading<'a> {
    /// Say for each argument whether a file or a shipped spec was used.
    pub verbose: bool,
    /// The whole command line, to recognise words of a `--server` command given unquoted.
    pub argv: &'a [String],
}

/// Loads every spec, printing every error (not only the first).
pub(crate) fn load_all(paths: &[PathBuf], how: &Loading<'_>) -> Result<Vec<Spec>, usize> {
    let mut specs = Vec::new();
    let mut failed: Vec<(String, CliError)> = Vec::new();
    for path in paths {
        let arg = path.to_string_lossy().into_owned();
        match load_one(path, &arg, how.verbose) {
            Ok(spec) => specs.push(spec),
            Err(e) => failed.push((arg, e)),
        }
    }
    if failed.is_empty() {
        return Ok(specs);
    }
    let misplaced =
        hints::misplaced_command(how.argv, |word| failed.iter().any(|(arg, _)| arg == word));
    for (arg, message) in &failed {
        if !misplaced.iter().any(|m| m.words.contains(arg)) {
            eprintln!("conform: error: {message}");
        }
    }
    for m in &misplaced {
        eprintln!("conform: error: {m}");
    }
    Err(failed.len())
}

/// One spec argument: the file when it exists, else the shipped spec of that name.
fn load_one(path: &Path, arg: &str, verbose: bool) -> Result<Spec, CliError> {
    let shipped = find(arg);
    if path.exists() || shipped.is_none() {
        if verbose && path.exists() {
            let also = shipped.map_or(String::new(), |s| {
                format!(
                    " (a shipped spec is named `{}` too; a file that exists wins)",
                    s.name
                )
            });
            eprintln!("conform: {arg}: reading the file{also}");
        }
        return spec::load_file(path).map_err(|source| {
            if path.exists() {
                CliError::Spec(source)
            } else {
                CliError::NoSuchSpec {
                    arg: arg.to_string(),
                    source,
                }
            }
        });
    }
    let shipped = shipped.expect("checked above");
    if verbose {
        eprintln!(
            "conform: {arg}: the spec `{}` shipped with conform (no file of that name here)",
            shipped.name
        );
    }
    Ok(shipped.load()?)
}

/// `conform check`: every spec loaded and validated, nothing run.
pub(crate) fn check_command(paths: &[PathBuf], how: &Loading<'_>) -> i32 {
    let Ok(specs) = load_all(paths, how) else {
        return exit::USAGE;
    };
    for (spec, path) in specs.iter().zip(paths) {
        let count = spec.file.scenarios.len();
        if path.exists() {
            out!("ok: {} ({count} scenario(s))", spec.path);
        } else {
            out!("ok: {} (shipped, {count} scenario(s))", spec.path);
        }
    }
    exit::PASS
}

/// `conform specs`: the shipped specs with their scenario counts and descriptions.
pub(crate) fn list_command() -> i32 {
    let all = shipped();
    let width = all.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
    out!("{:<width$}  SCENARIOS  DESCRIPTION", "NAME");
    for s in &all {
        let (count, description) = match s.load() {
            Ok(spec) => (
                spec.file.scenarios.len().to_string(),
                spec.file.description.unwrap_or_default(),
            ),
            Err(e) => ("?".into(), format!("does not load: {e}")),
        };
        out!("{:<width$}  {count:>9}  {description}", s.name);
    }
    out!();
    out!(
        "Run one with `conform run NAME` or check it with `conform check NAME` (a file of that \
         name in the current directory wins); write them all out with `conform specs --export DIR`."
    );
    exit::PASS
}

/// `conform specs --export DIR`: every file under `specs/` (the schema too, which the specs
/// point editors at), written below DIR. Nothing is overwritten: when any file exists, none
/// is written.
pub(crate) fn export_command(dir: &Path) -> i32 {
    let existing: Vec<String> = FILES
        .iter()
        .map(|(path, _)| dir.join(path))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return fail(CliError::ExportExisting {
            dir: dir.to_path_buf(),
            existing,
        });
    }
    for (path, text) in FILES {
        let target = dir.join(path);
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| write_new(&target, text));
        if let Err(source) = written {
            return fail(CliError::Export {
                path: target,
                source,
            });
        }
        out!("wrote {}", target.display());
    }
    exit::PASS
}

/// Writes a file that must not exist yet (another process may create it meanwhile).
pub(crate) fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_the_forms_a_user_writes() {
        for arg in ["udp", "udp.yaml", "specs/udp.yaml", "./specs/udp.yaml"] {
            assert_eq!(find(arg).map(|s| s.name), Some("udp"), "{arg}");
        }
        assert_eq!(find("rfc/time").map(|s| s.path), Some("rfc/time.yaml"));
        assert_eq!(find("time"), None);
        assert_eq!(find("schema.json"), None);
    }

    #[test]
    fn the_guides_specs_come_first() {
        let names: Vec<&str> = shipped().iter().map(|s| s.name).collect();
        assert_eq!(&names[..3], ["tcp", "udp", "udp-sizes"]);
        assert!(names.contains(&"rfc/time"), "{names:?}");
    }

    #[test]
    fn errors_in_a_shipped_spec_name_it_as_shipped() {
        let bad = Shipped {
            name: "x",
            path: "x.yaml",
            text: "scenarios:\n  - name: a\n    role: sever\n",
        };
        let err = bad.load().unwrap_err().to_string();
        assert!(
            err.starts_with("x (shipped):3:11: unknown variant `sever`"),
            "{err}"
        );
    }

    #[test]
    fn every_shipped_spec_loads() {
        for s in shipped() {
            assert_eq!(
                s.load().map(|spec| spec.path).map_err(|e| e.to_string()),
                Ok(s.name.to_string())
            );
        }
    }

    #[test]
    fn an_unknown_name_lists_the_shipped_ones_and_the_closest() {
        let text = not_shipped("udpp");
        assert!(text.contains("(did you mean `udp`?)"), "{text}");
        assert!(
            text.contains("Shipped specs: tcp, udp, udp-sizes, "),
            "{text}"
        );
    }
}
