//! Hints that explain a common cause behind a mismatch, for the runner to attach where it sees
//! the cause.
//!
//! In: what a step received. Out: a hint, or nothing. Pure.

/// The hint for a program whose stdout was empty when a step wanted some: it may have printed
/// into a buffer that a pipe (unlike a terminal) does not flush at each line.
pub fn buffering(stdout: &[u8]) -> Option<&'static str> {
    stdout.is_empty().then_some(
        "the program printed nothing on stdout. If it does print, the lines may still be in its \
         buffer: a program whose stdout is a pipe, not a terminal, often keeps what it prints \
         until it exits, and a program that conform stops never writes it. Flush after each \
         line: `python3 -u` or `print(..., flush=True)`; C and C++ `setvbuf(stdout, NULL, \
         _IOLBF, 0)` or `fflush(stdout)`; Ruby `$stdout.sync = true`; Perl `$| = 1`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_output_gets_the_buffering_hint() {
        assert!(buffering(b"").is_some_and(|h| h.contains("python3 -u")));
        assert_eq!(buffering(b"#(1 2)\n"), None);
    }
}
