//! Judging what a peer sent against what a step expects. Pure: no sockets, no clocks.
//!
//! In: an [`Expectation`], the bytes received so far, whether the peer closed or reset, and
//! how long conform has waited. Out: [`Progress`]: keep waiting, pass (consuming some bytes),
//! or fail with a [`Mismatch`] that says exactly which byte was wrong.

use std::net::SocketAddr;
use std::time::Duration;

use crate::spec::payload::escape;
use crate::spec::{Matcher, OutputMatcher};

pub mod frame;
pub mod hint;
pub mod linear;
mod regex;
pub mod same;
mod scan;
pub mod seq;

use seq::{SeqOutcome, judge_number, match_seq, match_whole};

/// Bytes a single expectation may buffer before giving up: a line or a match longer than
/// this is a failure, not a reason to use unbounded memory.
pub const MAX_BUFFER: usize = 1 << 20;

/// What conform waits for on a connection or socket.
#[derive(Debug, Clone)]
pub enum Expectation {
    Data(Matcher),
    Eof,
    Reset,
    Silence(Duration),
}

/// What is known of the peer's sending side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Open,
    /// The peer closed its side (FIN): no more bytes will come.
    Closed,
    /// The peer reset the connection.
    Reset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Pending,
    /// Satisfied; the first `consumed` bytes of the buffer belong to this step.
    Pass {
        consumed: usize,
    },
    Fail(Mismatch),
}

/// A precise account of a failed expectation: a sentence, and the bytes on both sides when
/// bytes are what differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub summary: String,
    pub expected: Option<Vec<u8>>,
    pub actual: Option<Vec<u8>>,
    pub hint: Option<String>,
}

impl Mismatch {
    pub fn new(summary: impl Into<String>) -> Self {
        Mismatch {
            summary: summary.into(),
            expected: None,
            actual: None,
            hint: None,
        }
    }

    pub fn bytes(mut self, expected: &[u8], actual: &[u8]) -> Self {
        self.expected = Some(expected.to_vec());
        self.actual = Some(actual.to_vec());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Index of the first byte where `a` and `b` differ, or where the shorter one ends.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// Describes an expectation in a few words, for messages.
pub fn describe(expectation: &Expectation) -> String {
    match expectation {
        Expectation::Data(m) => describe_matcher(m),
        Expectation::Eof => "the peer to close the connection".into(),
        Expectation::Reset => "the peer to reset the connection".into(),
        Expectation::Silence(d) => format!("silence for {}ms", d.as_millis()),
    }
}

pub fn describe_matcher(matcher: &Matcher) -> String {
    match matcher {
        // Long expectations are shown in full by the diff below the summary, not here.
        Matcher::Bytes(b) if b.len() > 64 => {
            format!("{} byte(s) \"{}\"…", b.len(), escape(&b[..48]))
        }
        Matcher::Bytes(b) => format!("{} byte(s) \"{}\"", b.len(), escape(b)),
        Matcher::Line(l) => format!("the line \"{}\\n\"", escape(l)),
        Matcher::LineRegex(r) => format!("a line matching /{}/", r.source()),
        Matcher::Regex(r) => format!("bytes matching /{}/", r.source()),
        Matcher::Length(n) => format!("{n} byte(s)"),
        Matcher::Number(range) => range.describe(),
        Matcher::Seq(parts) => format!("a sequence of {} part(s)", parts.len()),
        Matcher::Frame(frame) => frame.describe(),
    }
}

/// Judges a TCP byte stream: `buf` holds every byte received and not yet consumed.
pub fn judge_stream(
    expectation: &Expectation,
    buf: &[u8],
    peer: PeerState,
    waited: Duration,
    within: Duration,
) -> Progress {
    let timed_out = waited >= within;
    let secs = fmt_secs(within);
    match expectation {
        Expectation::Data(matcher) => judge_data(matcher, buf, peer, timed_out, &secs),
        Expectation::Eof => {
            if !buf.is_empty() {
                return Progress::Fail(
                    Mismatch::new(format!(
                        "expected the connection to close, but {} more byte(s) arrived",
                        buf.len()
                    ))
                    .bytes(b"", buf),
                );
            }
            match peer {
                PeerState::Closed => Progress::Pass { consumed: 0 },
                PeerState::Reset => Progress::Fail(Mismatch::new(
                    "expected an orderly close (FIN), but the connection was reset (RST)",
                )),
                PeerState::Open if timed_out => Progress::Fail(Mismatch::new(format!(
                    "expected the connection to close, but it was still open after {secs}"
                ))),
                PeerState::Open => Progress::Pending,
            }
        }
        Expectation::Reset => match peer {
            PeerState::Reset => Progress::Pass { consumed: 0 },
            _ if !buf.is_empty() => Progress::Fail(
                Mismatch::new(format!(
                    "expected a reset, but {} byte(s) arrived",
                    buf.len()
                ))
                .bytes(b"", buf),
            ),
            PeerState::Closed => Progress::Fail(Mismatch::new(
                "expected a reset (RST), but the connection was closed normally (FIN)",
            )),
            PeerState::Open if timed_out => Progress::Fail(Mismatch::new(format!(
                "expected a reset, but the connection was still open after {secs}"
            ))),
            PeerState::Open => Progress::Pending,
        },
        Expectation::Silence(quiet) => {
            if !buf.is_empty() {
                return Progress::Fail(
                    Mismatch::new(format!(
                        "expected silence for {}, but {} byte(s) arrived",
                        fmt_secs(*quiet),
                        buf.len()
                    ))
                    .bytes(b"", buf),
                );
            }
            match peer {
                PeerState::Closed => Progress::Fail(Mismatch::new(format!(
                    "expected silence for {}, but the peer closed the connection",
                    fmt_secs(*quiet)
                ))),
                PeerState::Reset => Progress::Fail(Mismatch::new(format!(
                    "expected silence for {}, but the peer reset the connection",
                    fmt_secs(*quiet)
                ))),
                PeerState::Open if waited >= *quiet => Progress::Pass { consumed: 0 },
                PeerState::Open => Progress::Pending,
            }
        }
    }
}

fn judge_data(
    matcher: &Matcher,
    buf: &[u8],
    peer: PeerState,
    timed_out: bool,
    secs: &str,
) -> Progress {
    // Decide as soon as the bytes settle it, so a wrong answer fails without a timeout.
    let early = match matcher {
        Matcher::Bytes(expected) => judge_exact(expected, buf),
        Matcher::Line(expected) => judge_line(expected, buf),
        Matcher::LineRegex(regex) => regex::judge_line_regex(matcher, regex, buf),
        Matcher::Regex(regex) => regex::judge_regex(matcher, regex, buf),
        Matcher::Length(n) if buf.len() >= *n => Progress::Pass { consumed: *n },
        Matcher::Length(_) => Progress::Pending,
        Matcher::Number(range) => {
            let size = usize::from(range.width.size);
            if buf.len() < size {
                Progress::Pending
            } else {
                match judge_number(range, range.width.decode(&buf[..size])) {
                    Ok(()) => Progress::Pass { consumed: size },
                    Err(m) => Progress::Fail(m),
                }
            }
        }
        // Parts that wait for more (a delimiter, a regex that may go on) are decided when
        // the peer closes or the deadline passes, below.
        Matcher::Seq(parts) => {
            let complete = peer != PeerState::Open || timed_out;
            match match_seq(parts, buf, complete) {
                SeqOutcome::Match { consumed, .. } => Progress::Pass { consumed },
                SeqOutcome::Pending => Progress::Pending,
                // Nothing arrived at all: the general message below says so.
                SeqOutcome::Fail(_) if complete && buf.is_empty() => Progress::Pending,
                SeqOutcome::Fail(m) => Progress::Fail(m),
            }
        }
        Matcher::Frame(frame) => match frame::frame_end(frame, buf) {
            frame::Framed::Complete(end) => Progress::Pass { consumed: end },
            frame::Framed::Incomplete => Progress::Pending,
            frame::Framed::Invalid(why) => Progress::Fail(
                Mismatch::new(why.to_string()).bytes(b"", &buf[..buf.len().min(256)]),
            ),
        },
    };
    if early != Progress::Pending {
        return early;
    }
    if buf.len() >= MAX_BUFFER {
        return Progress::Fail(
            Mismatch::new(format!(
                "expected {}, but {} bytes arrived without a match",
                describe_matcher(matcher),
                buf.len()
            ))
            .bytes(b"", &buf[..256]),
        );
    }
    let what = describe_matcher(matcher);
    let n = buf.len();
    let summary = match (peer, n) {
        (PeerState::Open, _) if !timed_out => return Progress::Pending,
        (PeerState::Open, 0) => format!("expected {what}, but nothing arrived within {secs}"),
        (PeerState::Open, _) => format!(
            "expected {what}, but only {n} byte(s) arrived and then nothing more within {secs}"
        ),
        (PeerState::Closed, 0) => {
            format!("expected {what}, but the peer closed the connection without sending anything")
        }
        (PeerState::Closed, _) => {
            format!("expected {what}, but the peer closed the connection after {n} byte(s)")
        }
        (PeerState::Reset, 0) => {
            format!("expected {what}, but the peer reset the connection before sending anything")
        }
        (PeerState::Reset, _) => {
            format!("expected {what}, but the peer reset the connection after {n} byte(s)")
        }
    };
    let expected = match matcher {
        Matcher::Bytes(b) => Some(b.clone()),
        Matcher::Line(l) => Some([l.as_slice(), b"\n"].concat()),
        _ => None,
    };
    let mut mismatch = Mismatch::new(summary);
    mismatch.actual = Some(buf.to_vec());
    mismatch.expected = expected.clone().or(Some(Vec::new()));
    if let (Matcher::Line(line), false) = (matcher, buf.is_empty())
        && buf == line.as_slice()
    {
        mismatch = mismatch.hint("the line is right but its newline (\\n) never came");
    }
    Progress::Fail(mismatch)
}

fn judge_exact(expected: &[u8], buf: &[u8]) -> Progress {
    let seen = &buf[..buf.len().min(expected.len())];
    match first_difference(expected, seen) {
        Some(at) if at < seen.len() => Progress::Fail(
            Mismatch::new(format!(
                "byte {at} differs: expected {}, got {}",
                show_byte(expected[at]),
                show_byte(seen[at])
            ))
            .bytes(expected, &buf[..buf.len().min(expected.len().max(at + 16))]),
        ),
        Some(_) => Progress::Pending,
        None => Progress::Pass {
            consumed: expected.len(),
        },
    }
}

fn judge_line(expected: &[u8], buf: &[u8]) -> Progress {
    let want = [expected, b"\n"].concat();
    let newline = buf.iter().position(|b| *b == b'\n');
    let line = &buf[..newline.map_or(buf.len(), |n| n + 1)];
    match first_difference(&want, line) {
        None => Progress::Pass {
            consumed: want.len(),
        },
        Some(at) if at < line.len() => {
            let mut mismatch = Mismatch::new(format!(
                "the line differs at byte {at}: expected {}, got {}",
                show_byte(want[at]),
                show_byte(line[at])
            ))
            .bytes(&want, line);
            if want[at] == b'\n' && line[at] == b'\r' && line[..at] == *expected {
                mismatch = mismatch.hint(
                    "the line ends with CRLF (\\r\\n); the protocol ends lines with LF (\\n) alone",
                );
            }
            Progress::Fail(mismatch)
        }
        Some(_) => Progress::Pending,
    }
}

pub(crate) fn show_byte(byte: u8) -> String {
    format!("0x{byte:02x} '{}'", escape(&[byte]))
}

fn fmt_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Judges one datagram that arrived from `from`, when it should have come from `want_from`.
pub fn judge_datagram(
    matcher: &Matcher,
    datagram: &[u8],
    from: SocketAddr,
    want_from: Option<SocketAddr>,
) -> Result<(), Mismatch> {
    if let Some(want) = want_from
        && want != from
    {
        return Err(Mismatch::new(format!(
            "the reply came from {from}, not from {want}, the address conform sent to"
        ))
        .bytes(b"", datagram)
        .hint(
            "reply from the socket that received the request, so the client's filter accepts it",
        ));
    }
    let what = describe_matcher(matcher);
    match matcher {
        Matcher::Number(range) if datagram.len() == usize::from(range.width.size) => {
            return judge_number(range, range.width.decode(datagram));
        }
        Matcher::Regex(regex) | Matcher::LineRegex(regex) => {
            return regex::judge_regex_datagram(matcher, regex, datagram);
        }
        Matcher::Seq(parts) => {
            return match match_whole(parts, datagram) {
                SeqOutcome::Match { .. } => Ok(()),
                SeqOutcome::Fail(m) => Err(m),
                SeqOutcome::Pending => {
                    Err(Mismatch::new("the datagram ended inside the sequence")
                        .bytes(b"", datagram))
                }
            };
        }
        _ => {}
    }
    let ok = match matcher {
        Matcher::Bytes(expected) => expected == datagram,
        Matcher::Line(line) => datagram == [line.as_slice(), b"\n"].concat(),
        Matcher::Length(n) => datagram.len() == *n,
        // A datagram is one reply; what it holds is compared afterwards.
        Matcher::Frame(_) => true,
        Matcher::Regex(_) | Matcher::LineRegex(_) | Matcher::Number(_) | Matcher::Seq(_) => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match matcher {
        Matcher::Bytes(b) => b.clone(),
        Matcher::Line(l) => [l.as_slice(), b"\n"].concat(),
        _ => Vec::new(),
    };
    let summary = match (matcher, first_difference(&expected, datagram)) {
        (Matcher::Bytes(_) | Matcher::Line(_), Some(at)) if expected.len() == datagram.len() => {
            format!(
                "the datagram differs at byte {at}: expected {}, got {}",
                show_byte(expected[at]),
                show_byte(datagram[at])
            )
        }
        (Matcher::Bytes(_) | Matcher::Line(_) | Matcher::Length(_) | Matcher::Number(_), _) => {
            format!(
                "expected a datagram of {}, but got {} byte(s)",
                what,
                datagram.len()
            )
        }
        _ => format!("expected a datagram of {what}, but it did not match"),
    };
    Err(Mismatch::new(summary).bytes(&expected, datagram))
}

/// Judges what a program printed. `closed` says whether the stream has ended (no more output
/// can come); until then only a positive regex match can decide early.
pub fn judge_output(matcher: &OutputMatcher, output: &[u8], closed: bool) -> Progress {
    let expected = match matcher {
        OutputMatcher::Regex(regex) => {
            return if regex.is_match(output) {
                Progress::Pass { consumed: 0 }
            } else if closed {
                Progress::Fail(
                    Mismatch::new(format!(
                        "expected output matching /{}/, but it did not match",
                        regex.as_str()
                    ))
                    .bytes(b"", output),
                )
            } else {
                Progress::Pending
            };
        }
        OutputMatcher::Lines(lines) => lines
            .iter()
            .flat_map(|l| [l.as_bytes(), b"\n"].concat())
            .collect(),
        OutputMatcher::Exact(bytes) => bytes.clone(),
    };
    match first_difference(&expected, output) {
        None if closed => Progress::Pass { consumed: 0 },
        // Output so far is a correct prefix: more may still come.
        None => Progress::Pending,
        Some(at) if at == output.len() && !closed => Progress::Pending,
        Some(at) => {
            let line = 1 + output[..at.min(output.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            let summary = if at >= output.len() {
                format!("the output ended early, at line {line} (byte {at})")
            } else if at >= expected.len() {
                format!("the output has extra bytes from line {line} (byte {at})")
            } else {
                format!(
                    "the output differs at line {line} (byte {at}): expected {}, got {}",
                    show_byte(expected[at]),
                    show_byte(output[at])
                )
            };
            Progress::Fail(Mismatch::new(summary).bytes(&expected, output))
        }
    }
}
