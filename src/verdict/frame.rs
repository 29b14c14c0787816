//! Where one reply ends in a byte stream, for `same_as_reference`: a line, a RESP value, bytes
//! through a delimiter, a length, or a regex's shortest match. Pure: bytes in, an end out.
//!
//! In: a [`Frame`] and the bytes received so far. Out: [`Framed`]: the reply's length once it
//! is complete, `Incomplete` while more bytes may finish it, or why the bytes cannot be one
//! (a [`RespError`]).

use crate::spec::model::frame::Frame;
use crate::spec::payload::escape;

/// Nesting a RESP reply may have: far beyond any real reply, low enough that a hostile
/// server cannot make conform recurse without bound.
const MAX_DEPTH: usize = 64;

/// Elements a RESP aggregate may declare before conform calls it absurd.
const MAX_ELEMENTS: i64 = 1 << 20;

/// The longest bulk string Redis allows.
const MAX_BULK: i64 = 512 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// The first this many bytes are one reply.
    Complete(usize),
    /// More bytes may complete it.
    Incomplete,
    /// These bytes are not one reply of this framing, whatever comes next.
    Invalid(RespError),
}

/// Why received bytes are no RESP reply. Not an error of conform's: the step that framed them
/// fails with this message, and the run ends with the failure's exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    #[error("the RESP reply nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// `after` holds the two bytes found where CR LF belongs.
    #[error(
        "the RESP bulk string of {length} byte(s) is not followed by CR LF but by \"{}\"",
        escape(after)
    )]
    BulkUnterminated { length: i64, after: Vec<u8> },
    #[error(
        "not a RESP reply: it starts with {}, which is no RESP type (`+ - : $ *` and RESP3's)",
        super::show_byte(*byte)
    )]
    UnknownType { byte: u8 },
    #[error(
        "the RESP `{}` header \"{}\" is not a length",
        char::from(*kind),
        escape(header)
    )]
    BadLength { kind: u8, header: Vec<u8> },
}

impl RespError {
    /// Bytes that are no reply are the program's failure to conform.
    pub fn exit_code(&self) -> i32 {
        crate::exit::FAIL
    }
}

/// Where the first reply in `buf` ends.
pub fn frame_end(frame: &Frame, buf: &[u8]) -> Framed {
    match frame {
        // A datagram is framed by the transport: what arrived is the reply.
        Frame::Datagram => Framed::Complete(buf.len()),
        Frame::Line => match buf.iter().position(|b| *b == b'\n') {
            Some(end) => Framed::Complete(end + 1),
            None => Framed::Incomplete,
        },
        Frame::Until(delim) => match buf.windows(delim.len()).position(|w| w == delim.as_slice()) {
            Some(at) => Framed::Complete(at + delim.len()),
            None => Framed::Incomplete,
        },
        Frame::Length(n) if buf.len() >= *n => Framed::Complete(*n),
        Frame::Length(_) => Framed::Incomplete,
        Frame::Regex(regex) => match regex.shortest_match(buf) {
            Some(end) => Framed::Complete(end),
            None => Framed::Incomplete,
        },
        Frame::Resp => match resp_end(buf, 0, 0) {
            Ok(Some(end)) => Framed::Complete(end),
            Ok(None) => Framed::Incomplete,
            Err(why) => Framed::Invalid(why),
        },
    }
}

/// The end of the RESP value starting at `at`: `Ok(None)` while incomplete.
fn resp_end(buf: &[u8], at: usize, depth: usize) -> Result<Option<usize>, RespError> {
    if depth > MAX_DEPTH {
        return Err(RespError::TooDeep);
    }
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some(line_end) = find_crlf(buf, at + 1) else {
        return Ok(None);
    };
    let header = &buf[at + 1..line_end];
    let after = line_end + 2;
    match kind {
        // Simple string, error, integer, null, boolean, double, big number: one line.
        b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => Ok(Some(after)),
        // Bulk string, bulk error, verbatim string: a length, the bytes, CR LF.
        b'$' | b'!' | b'=' => {
            let n = length(kind, header, MAX_BULK)?;
            if n < 0 {
                return Ok(Some(after));
            }
            let end = after + n as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(RespError::BulkUnterminated {
                    length: n,
                    after: buf[end..end + 2].to_vec(),
                });
            }
            Ok(Some(end + 2))
        }
        // Array, set, push, map (a map holds two values per element).
        b'*' | b'~' | b'>' | b'%' => {
            let n = length(kind, header, MAX_ELEMENTS)?;
            let count = if kind == b'%' { n.saturating_mul(2) } else { n };
            let mut next = after;
            for _ in 0..count.max(0) {
                match resp_end(buf, next, depth + 1)? {
                    Some(end) => next = end,
                    None => return Ok(None),
                }
            }
            Ok(Some(next))
        }
        other => Err(RespError::UnknownType { byte: other }),
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// The length in a RESP header: decimal digits, `-1` for a null.
fn length(kind: u8, header: &[u8], max: i64) -> Result<i64, RespError> {
    let text = std::str::from_utf8(header).unwrap_or("");
    match text.parse::<i64>() {
        Ok(n) if (-1..=max).contains(&n) => Ok(n),
        _ => Err(RespError::BadLength {
            kind,
            header: header.to_vec(),
        }),
    }
}

/// The elements of a RESP array, set or push reply, each as its bytes; `None` for any other
/// reply (or one that is not RESP).
pub fn resp_elements(reply: &[u8]) -> Option<Vec<&[u8]>> {
    let kind = *reply.first()?;
    if !matches!(kind, b'*' | b'~' | b'>') {
        return None;
    }
    let line_end = find_crlf(reply, 1)?;
    let n = length(kind, &reply[1..line_end], MAX_ELEMENTS).ok()?;
    let mut next = line_end + 2;
    let mut out = Vec::new();
    for _ in 0..n.max(0) {
        let end = resp_end(reply, next, 1).ok()??;
        out.push(&reply[next..end]);
        next = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(bytes: &[u8]) -> Framed {
        frame_end(&Frame::Resp, bytes)
    }

    #[test]
    fn resp_values_end_where_redis_ends_them() {
        assert_eq!(resp(b"+OK\r\n+PONG\r\n"), Framed::Complete(5));
        assert_eq!(resp(b":-12\r\n"), Framed::Complete(6));
        assert_eq!(resp(b"$5\r\na\r\nbc\r\n"), Framed::Complete(11));
        assert_eq!(resp(b"$-1\r\n"), Framed::Complete(5));
        assert_eq!(resp(b"$0\r\n\r\n"), Framed::Complete(6));
        assert_eq!(resp(b"*2\r\n$1\r\na\r\n:1\r\n"), Framed::Complete(15));
        assert_eq!(resp(b"*-1\r\n"), Framed::Complete(5));
        assert_eq!(resp(b"%1\r\n+a\r\n:1\r\n"), Framed::Complete(12));
        assert_eq!(resp(b"*1\r\n*1\r\n_\r\n"), Framed::Complete(11));
    }

    #[test]
    fn resp_values_wait_for_their_last_byte() {
        for partial in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$5\r\na\r\nb",
            b"$5\r\na\r\nbc\r",
            b"*2\r\n:1\r\n",
        ] {
            assert_eq!(resp(partial), Framed::Incomplete, "{partial:?}");
        }
    }

    #[test]
    fn bytes_that_are_no_resp_are_refused_at_once() {
        let Framed::Invalid(why) = resp(b"OK\r\n") else {
            panic!()
        };
        assert_eq!(why.exit_code(), crate::exit::FAIL);
        let why = why.to_string();
        assert!(why.contains("0x4f 'O'"), "{why}");
        let Framed::Invalid(why) = resp(b"$1\r\nabc\r\n") else {
            panic!()
        };
        assert_eq!(
            why.to_string(),
            "the RESP bulk string of 1 byte(s) is not followed by CR LF but by \"bc\""
        );
        assert!(matches!(resp(b"$x\r\n"), Framed::Invalid(_)));
        assert!(matches!(resp(b"$1\r\nabc\r\n"), Framed::Invalid(_)));
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let deep = b"*1\r\n".repeat(100);
        assert!(matches!(resp(&deep), Framed::Invalid(_)));
    }

    #[test]
    fn lines_delimiters_and_lengths() {
        assert_eq!(frame_end(&Frame::Line, b"ab\ncd"), Framed::Complete(3));
        assert_eq!(frame_end(&Frame::Line, b"ab"), Framed::Incomplete);
        let until = Frame::Until(b".\r\n".to_vec());
        assert_eq!(frame_end(&until, b"a\r\nb\r\n.\r\nz"), Framed::Complete(9));
        assert_eq!(frame_end(&Frame::Length(2), b"abc"), Framed::Complete(2));
    }

    #[test]
    fn array_elements_are_listed() {
        let elements = resp_elements(b"*2\r\n$1\r\na\r\n:1\r\n").unwrap();
        assert_eq!(elements, vec![&b"$1\r\na\r\n"[..], b":1\r\n"]);
        assert_eq!(resp_elements(b"+OK\r\n"), None);
    }
}
