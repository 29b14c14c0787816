//! The implementations of `conform matrix`: named programs from `--server NAME=CMD` and
//! `--client NAME=CMD`, or one per directory matched by `--each GLOB`.
//!
//! In: the command line's texts. Out: [`Implementation`]s, each a name with the command
//! templates (split into words) of its server and client, ready to become the targets of a
//! run. Errors ([`MatrixError`]) are one sentence naming the flag.

use std::path::{Path, PathBuf};

use crate::drive::template::{self, TemplateError};

/// Most directories one `--each` may match: a class, not a file system.
const MAX_MATCHES: usize = 10_000;

/// Implementations the command line cannot name. `flag` is `server` or `client`.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error(
        "--{flag} {value}: write NAME=CMD, e.g. --{flag} mine='./prog {{port}}' (a name of \
         letters, digits, `.`, `_`, `-` or `+`)"
    )]
    NotNamed { flag: &'static str, value: String },
    #[error("--{flag} {value}: {source}")]
    Command {
        flag: &'static str,
        value: String,
        #[source]
        source: TemplateError,
    },
    /// A `--each` template.
    #[error("--{flag}: {source}")]
    Template {
        flag: &'static str,
        #[source]
        source: TemplateError,
    },
    #[error("--{flag}: `{name}` is given twice")]
    Twice { flag: &'static str, name: String },
    #[error("--each {glob}: give at most one --server and one --client template")]
    EachTemplates { glob: String },
    #[error("--each {glob}: no directory matches")]
    NoMatch { glob: String },
    #[error("--each {glob}: {}: {source}", dir.display())]
    Absolute {
        glob: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "--each {glob}: two matching directories are named `{name}`; use a pattern that \
         matches each name once"
    )]
    SameName { glob: String, name: String },
    #[error("--each {glob}: more than {MAX_MATCHES} matches; narrow the pattern")]
    TooMany { glob: String },
    #[error("no implementation: give --server NAME=CMD, --client NAME=CMD or --each GLOB")]
    NoImplementation,
}

impl MatrixError {
    /// Every implementation is named on the command line: a name, a template or a pattern
    /// that cannot be used is the command line's fault.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// One implementation under test: a server, a client, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implementation {
    pub name: String,
    pub server: Option<Vec<String>>,
    pub client: Option<Vec<String>>,
}

/// Names are what reports show and what files are named after: keep them plain.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

/// `--server NAME=CMD` and `--client NAME=CMD`; a server and a client with the same name
/// are one implementation. Implementations keep the order their names first appear in.
pub fn named(servers: &[String], clients: &[String]) -> Result<Vec<Implementation>, MatrixError> {
    let mut all: Vec<Implementation> = Vec::new();
    for (flag, values) in [("server", servers), ("client", clients)] {
        for value in values {
            let (name, command) = value
                .split_once('=')
                .filter(|(name, _)| valid_name(name))
                .ok_or_else(|| MatrixError::NotNamed {
                    flag,
                    value: value.clone(),
                })?;
            let words = template::split(command).map_err(|source| MatrixError::Command {
                flag,
                value: value.clone(),
                source,
            })?;
            let index = match all.iter().position(|i| i.name == name) {
                Some(index) => index,
                None => {
                    all.push(Implementation {
                        name: name.to_owned(),
                        server: None,
                        client: None,
                    });
                    all.len() - 1
                }
            };
            let slot = match flag {
                "server" => &mut all[index].server,
                _ => &mut all[index].client,
            };
            if slot.replace(words).is_some() {
                return Err(MatrixError::Twice {
                    flag,
                    name: name.to_owned(),
                });
            }
        }
    }
    Ok(all)
}

/// `--each GLOB`: one implementation per matching directory, named after it, with `{dir}`
/// (its absolute path) and `{name}` filled into the templates.
pub fn each(
    glob: &str,
    server: Option<&str>,
    client: Option<&str>,
) -> Result<Vec<Implementation>, MatrixError> {
    let server =
        server
            .map(template::split)
            .transpose()
            .map_err(|source| MatrixError::Template {
                flag: "server",
                source,
            })?;
    let client =
        client
            .map(template::split)
            .transpose()
            .map_err(|source| MatrixError::Template {
                flag: "client",
                source,
            })?;
    let dirs = directories(glob)?;
    if dirs.is_empty() {
        return Err(MatrixError::NoMatch {
            glob: glob.to_string(),
        });
    }
    let mut all: Vec<Implementation> = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let absolute = std::path::absolute(&dir).map_err(|source| MatrixError::Absolute {
            glob: glob.to_string(),
            dir: dir.clone(),
            source,
        })?;
        let absolute = absolute.to_string_lossy().into_owned();
        if all.iter().any(|i| i.name == name) {
            return Err(MatrixError::SameName {
                glob: glob.to_string(),
                name,
            });
        }
        let fill = |words: &Vec<String>| -> Vec<String> {
            words
                .iter()
                .map(|w| w.replace("{dir}", &absolute).replace("{name}", &name))
                .collect()
        };
        all.push(Implementation {
            server: server.as_ref().map(fill),
            client: client.as_ref().map(fill),
            name,
        });
    }
    Ok(all)
}

/// The directories matching a pattern of path components, where a component may use `*`
/// (any run of characters) and `?` (one character). Hidden entries match only a component
/// that starts with `.`. Sorted, so implementations come in a stable order.
fn directories(glob: &str) -> Result<Vec<PathBuf>, MatrixError> {
    let mut current: Vec<PathBuf> = vec![if glob.starts_with('/') {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for component in glob.split('/').filter(|c| !c.is_empty() && *c != ".") {
        let mut next = Vec::new();
        for base in &current {
            if !component.contains(['*', '?']) {
                next.push(base.join(component));
                continue;
            }
            let listing = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            // A directory that cannot be listed has no matches; the result says so.
            let Ok(entries) = std::fs::read_dir(listing) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !component.starts_with('.') {
                    continue;
                }
                if wildcard(component.as_bytes(), name.as_bytes()) {
                    next.push(base.join(&name));
                    if next.len() > MAX_MATCHES {
                        return Err(MatrixError::TooMany {
                            glob: glob.to_string(),
                        });
                    }
                }
            }
        }
        current = next;
    }
    let mut dirs: Vec<PathBuf> = current.into_iter().filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs)
}

/// Whether `text` matches `pattern` with `*` and `?`. Iterative, with one backtrack point,
/// so its time is bounded by the product of the lengths.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_and_a_client_of_one_name_are_one_implementation() {
        let all = named(
            &["a=./srv {port}".into(), "b=./b {port}".into()],
            &["a=./cli {port}".into()],
        )
        .expect("valid");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "a");
        assert_eq!(
            all[0].client.as_deref(),
            Some(&["./cli".into(), "{port}".into()][..])
        );
        assert_eq!(all[1].client, None);
    }

    #[test]
    fn a_missing_or_odd_name_is_refused() {
        assert!(named(&["./srv {port}".into()], &[]).is_err());
        assert!(named(&["my server=./srv".into()], &[]).is_err());
        let twice = named(&["a=./x".into(), "a=./y".into()], &[]).unwrap_err();
        assert_eq!(twice.to_string(), "--server: `a` is given twice");
        assert_eq!(twice.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn a_command_that_cannot_be_split_keeps_the_template_error_as_its_source() {
        use std::error::Error as _;
        let err = named(&[], &["a=./cli | tee log".into()]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--client a=./cli | tee log: the command uses the shell operator `|`"),
            "{err}"
        );
        assert!(err.source().is_some_and(|s| s.is::<TemplateError>()));
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn wildcards_match_like_a_shell() {
        assert!(wildcard(b"*", b"alice"));
        assert!(wildcard(b"a*e", b"alice"));
        assert!(wildcard(b"a?ice", b"alice"));
        assert!(!wildcard(b"b*", b"alice"));
        assert!(wildcard(b"*c*", b"alice"));
        assert!(!wildcard(b"*x*", b"alice"));
    }

    #[test]
    fn each_fills_dir_and_name_into_the_templates() {
        let root = tempfile::tempdir().expect("temp dir");
        for name in ["bob", "alice", ".hidden"] {
            std::fs::create_dir(root.path().join(name)).expect("mkdir");
        }
        std::fs::write(root.path().join("notes.txt"), "").expect("file");
        let glob = format!("{}/*", root.path().display());
        let all =
            each(&glob, Some("python3 {dir}/server.py {port} {name}"), None).expect("matches");
        let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        let words = all[0].server.as_ref().expect("a server");
        assert_eq!(
            words[1],
            format!("{}/alice/server.py", root.path().display())
        );
        assert_eq!(words[3], "alice");
        assert!(each(&format!("{}/zz*", root.path().display()), Some("x"), None).is_err());
    }
}
