//! Bounded capture of a program's stdout or stderr: the first bytes up to a limit, the last
//! 64 KiB, and the total count, however much the program writes.
//!
//! In: bytes from a reader thread draining one pipe. Out: [`Captured`] snapshots, and waits
//! for more output or for the stream to close.

use std::io::{self, Read};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Bytes always kept from the end of a stream, for "last lines" in reports.
pub const TAIL_BYTES: usize = 64 * 1024;

/// What a program wrote to one stream: the first bytes up to the capture limit, the last
/// `TAIL_BYTES` bytes, and how many there were in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub total: u64,
    /// The stream reached end of file: nothing more will arrive.
    pub closed: bool,
}

impl Captured {
    /// The complete output, or `None` when it was longer than the capture limit.
    pub fn bytes(&self) -> Option<&[u8]> {
        (!self.truncated()).then_some(self.head.as_slice())
    }

    pub fn truncated(&self) -> bool {
        self.total > self.head.len() as u64
    }

    /// The part of `tail` that comes after `head`, so head + gap + this never repeats bytes.
    pub fn tail_after_head(&self) -> &[u8] {
        let tail_start = self.total - self.tail.len() as u64;
        let overlap = (self.head.len() as u64).saturating_sub(tail_start);
        let overlap = usize::try_from(overlap).unwrap_or(usize::MAX);
        &self.tail[overlap.min(self.tail.len())..]
    }

    /// Bytes kept in neither `head` nor `tail`.
    pub fn omitted(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail_after_head().len() as u64
    }

    /// The last `n` lines, decoded leniently; a line cut off by the tail's start is left out.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.tail);
        let mut text: &str = &text;
        if self.total > self.tail.len() as u64
            && let Some(newline) = text.find('\n')
        {
            text = &text[newline + 1..];
        }
        let lines: Vec<&str> = text.lines().collect();
        let skip = lines.len().saturating_sub(n);
        lines[skip..].iter().map(|line| line.to_string()).collect()
    }

    pub(super) fn push(&mut self, limit: usize, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        let room = limit.saturating_sub(self.head.len());
        let kept = &chunk[..room.min(chunk.len())];
        if !kept.is_empty() {
            reserve_within(&mut self.head, kept.len(), limit);
            self.head.extend_from_slice(kept);
        }
        self.push_tail(chunk);
    }

    fn push_tail(&mut self, chunk: &[u8]) {
        if chunk.len() >= TAIL_BYTES {
            self.tail.clear();
            reserve_within(&mut self.tail, TAIL_BYTES, TAIL_BYTES);
            self.tail
                .extend_from_slice(&chunk[chunk.len() - TAIL_BYTES..]);
            return;
        }
        let excess = (self.tail.len() + chunk.len()).saturating_sub(TAIL_BYTES);
        self.tail.drain(..excess);
        reserve_within(&mut self.tail, chunk.len(), TAIL_BYTES);
        self.tail.extend_from_slice(chunk);
    }
}

/// Grows like `Vec` does (doubling) but never past `bound`, so a buffer's allocation stays
/// within its limit instead of up to twice it.
fn reserve_within(buffer: &mut Vec<u8>, additional: usize, bound: usize) {
    let needed = buffer.len() + additional;
    if needed <= buffer.capacity() {
        return;
    }
    let target = (buffer.capacity() * 2).min(bound).max(needed);
    buffer.reserve_exact(target - buffer.len());
}

/// One stream's capture, shared between its reader thread and the `Child`.
#[derive(Default)]
pub(super) struct Pipe {
    captured: Mutex<Captured>,
    changed: Condvar,
}

impl Pipe {
    pub(super) fn lock(&self) -> MutexGuard<'_, Captured> {
        self.captured
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `done` holds, the stream closes, or `deadline`, then reports through `out`.
    pub(super) fn wait<T>(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&Captured) -> bool,
        out: impl FnOnce(&Captured) -> T,
    ) -> T {
        let mut guard = self.lock();
        loop {
            let now = Instant::now();
            if guard.closed || done(&guard) || now >= deadline {
                return out(&guard);
            }
            guard = match self.changed.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Reads until end of file, discarding past the limit, so the program never blocks on a
    /// full pipe however much it writes.
    pub(super) fn drain(&self, mut source: impl Read, limit: usize) {
        let mut buffer = vec![0u8; TAIL_BYTES];
        loop {
            match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    self.lock().push(limit, &buffer[..n]);
                    self.changed.notify_all();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn capture_never_allocates_past_its_limits() {
        let mut captured = Captured::default();
        let chunk = vec![7u8; 10_000];
        for _ in 0..1000 {
            captured.push(12_345, &chunk);
        }
        assert_eq!(captured.total, 10_000_000);
        assert!(captured.head.capacity() <= 12_345);
        assert!(captured.tail.capacity() <= TAIL_BYTES);
    }

    #[test]
    fn short_output_is_not_repeated_between_head_and_tail() {
        let mut captured = Captured::default();
        captured.push(4, b"abcdef");
        assert_eq!(captured.head, b"abcd");
        assert_eq!(captured.tail, b"abcdef");
        assert_eq!(captured.tail_after_head(), b"ef");
        assert_eq!(captured.omitted(), 0);
    }

    #[rstest]
    #[case::whole_output(b"a\nb\nc\n".to_vec(), 2, &["b", "c"])]
    #[case::no_final_newline(b"a\nb".to_vec(), 5, &["a", "b"])]
    #[case::crlf(b"a\r\nb\r\n".to_vec(), 1, &["b"])]
    #[case::invalid_utf8(b"ok\n\xff\n".to_vec(), 1, &["\u{fffd}"])]
    fn last_lines_come_from_the_tail(
        #[case] output: Vec<u8>,
        #[case] n: usize,
        #[case] expected: &[&str],
    ) {
        let mut captured = Captured::default();
        captured.push(0, &output);
        assert_eq!(captured.last_lines(n), expected);
    }

    #[test]
    fn last_lines_drop_the_line_cut_by_the_tail() {
        let mut captured = Captured::default();
        let mut output = vec![b'x'; TAIL_BYTES];
        output.extend_from_slice(b"\nlast\n");
        captured.push(0, &output);
        assert_eq!(captured.last_lines(10), ["last"]);
    }
}
