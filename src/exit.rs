//! Exit codes, in one place. The README and `conform --help` list the same.

/// Every selected scenario passed (warnings allowed unless `--strict`).
pub const PASS: i32 = 0;
/// At least one conformance failure: the implementation misbehaved.
pub const FAIL: i32 = 1;
/// The spec or the command line is wrong, or no scenario was selected.
pub const USAGE: i32 = 2;
/// conform could not do its job: program not found, no free port, I/O error.
pub const SETUP: i32 = 3;
/// stdout was closed before conform was done (`conform run ... | head`): conform stopped its
/// programs and ended quietly, with the status a shell shows for a writer ended by SIGPIPE.
pub const CLOSED: i32 = 141;

pub const HELP: &str = "\
Exit codes:
  0  every selected scenario passed
  1  at least one conformance failure (the implementation misbehaved, crashed or never became ready)
  2  the spec or the command line is wrong, or no scenario was selected
  3  conform could not do its job (program not found or not executable, no free port, I/O error)";
