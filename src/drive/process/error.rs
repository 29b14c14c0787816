//! Why a program could not be started: the `io::Error` of a failed spawn comes in; a
//! [`SpawnError`] goes out whose message names the likely cause (a wrong path, a missing `#!`
//! interpreter, a file that is not executable).

use std::fmt;
use std::io;
use std::path::Path;

/// Why a program could not be started.
#[derive(Debug)]
pub enum SpawnError {
    NotFound { program: String },
    PermissionDenied { program: String },
    Io { program: String, source: io::Error },
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { program } if program.contains('/') => write!(
                f,
                "cannot run `{program}`: no such file or directory \
                 (is the path right, relative to the current directory?)"
            ),
            Self::NotFound { program } => write!(
                f,
                "cannot run `{program}`: no such program on PATH \
                 (is it installed? a file in the current directory needs ./{program})"
            ),
            Self::PermissionDenied { program } => write!(
                f,
                "cannot run `{program}`: permission denied \
                 (is it an executable file? try chmod +x {program})"
            ),
            Self::Io { program, .. } if program.is_empty() => {
                write!(f, "cannot run an empty command")
            }
            Self::Io { program, source } => {
                write!(f, "cannot run `{program}`: {}", describe(source))
            }
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn describe(error: &io::Error) -> String {
    if error.raw_os_error() == Some(libc::ENOEXEC) {
        return "the file is not in an executable format (does a script lack its #! line?)".into();
    }
    error.to_string()
}

pub(super) fn spawn_error(program: &str, error: io::Error) -> SpawnError {
    let program = program.to_string();
    match error.kind() {
        // ENOENT for a file that exists means the kernel could not find its interpreter.
        io::ErrorKind::NotFound if program.contains('/') && Path::new(&program).exists() => {
            SpawnError::Io {
                program,
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "the file exists, but the interpreter named on its #! line was not found",
                ),
            }
        }
        io::ErrorKind::NotFound => SpawnError::NotFound { program },
        io::ErrorKind::PermissionDenied => SpawnError::PermissionDenied { program },
        _ => SpawnError::Io {
            program,
            source: error,
        },
    }
}
