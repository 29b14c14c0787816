//! Byte payloads as spec authors write them, decoded once at load time.
//!
//! In: one of `text` (UTF-8 as written), `escaped` (C-style `\n \r \t \0 \\ \xHH`), `hex`
//! (pairs of hex digits, whitespace and `:` ignored) or `bytes` (a list of 0..=255).
//! Out: the bytes, or a [`PayloadError`] saying which character is wrong and where in the value.

/// Why a `hex` or `escaped` value is not bytes; offsets count bytes from the value's start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("hex digit at offset {at} has no partner: write bytes as pairs like `0a`")]
    HexUnpaired { at: usize },
    #[error("`{ch}` at offset {at} is not a hex digit")]
    NotHex { ch: char, at: usize },
    #[error("lone `\\` at the end (offset {at}): write `\\\\`")]
    LoneBackslash { at: usize },
    #[error("`\\x` at offset {at} needs two hex digits, like `\\x0a`")]
    ShortHexEscape { at: usize },
    #[error("unknown escape `\\{escape}` at offset {at}: use \\n \\r \\t \\0 \\\\ or \\xHH")]
    UnknownEscape { escape: char, at: usize },
}

/// Decodes `hex: "01 02 ff"` into bytes.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, PayloadError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut pending: Option<(usize, u8)> = None;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() || ch == ':' || ch == '_' {
            if let Some((at, _)) = pending {
                return Err(PayloadError::HexUnpaired { at });
            }
            continue;
        }
        let digit = ch
            .to_digit(16)
            .ok_or(PayloadError::NotHex { ch, at: index })? as u8;
        pending = match pending {
            None => Some((index, digit)),
            Some((_, high)) => {
                out.push(high << 4 | digit);
                None
            }
        };
    }
    match pending {
        Some((at, _)) => Err(PayloadError::HexUnpaired { at }),
        None => Ok(out),
    }
}

/// Decodes `escaped: 'Hello\x00\n'` into bytes. Anything that is not an escape stands for its
/// UTF-8 encoding.
pub fn decode_escaped(text: &str) -> Result<Vec<u8>, PayloadError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((index, ch)) = chars.next() {
        if ch != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let escape = chars
            .next()
            .ok_or(PayloadError::LoneBackslash { at: index })?;
        match escape.1 {
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            '0' => out.push(0),
            '\\' => out.push(b'\\'),
            '"' => out.push(b'"'),
            '\'' => out.push(b'\''),
            'x' => {
                let hi = chars.next().and_then(|(_, c)| c.to_digit(16));
                let lo = chars.next().and_then(|(_, c)| c.to_digit(16));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4 | lo) as u8),
                    _ => return Err(PayloadError::ShortHexEscape { at: index }),
                }
            }
            other => {
                return Err(PayloadError::UnknownEscape {
                    escape: other,
                    at: index,
                });
            }
        }
    }
    Ok(out)
}

/// Renders bytes the way [`decode_escaped`] reads them, so a report can be pasted into a spec.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("0102 ff", vec![1, 2, 0xff])]
    #[case("de:ad:BE:EF", vec![0xde, 0xad, 0xbe, 0xef])]
    #[case("", vec![])]
    fn hex_decodes(#[case] text: &str, #[case] bytes: Vec<u8>) {
        assert_eq!(decode_hex(text), Ok(bytes));
    }

    #[rstest]
    #[case("0g", "`g` at offset 1 is not a hex digit")]
    #[case("012", "offset 2 has no partner")]
    #[case("0 12", "offset 0 has no partner")]
    fn bad_hex_says_where(#[case] text: &str, #[case] says: &str) {
        let err = decode_hex(text).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }

    #[rstest]
    #[case(r"Hello\n", b"Hello\n".to_vec())]
    #[case(r"\x00\xff\\", vec![0, 0xff, b'\\'])]
    #[case("é", "é".as_bytes().to_vec())]
    fn escapes_decode(#[case] text: &str, #[case] bytes: Vec<u8>) {
        assert_eq!(decode_escaped(text), Ok(bytes));
    }

    #[rstest]
    #[case(r"\q", "unknown escape `\\q`")]
    #[case(r"\x4", "needs two hex digits")]
    #[case("abc\\", "lone")]
    fn bad_escapes_say_why(#[case] text: &str, #[case] says: &str) {
        let err = decode_escaped(text).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }

    proptest! {
        #[test]
        fn escape_then_decode_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode_escaped(&escape(&bytes)), Ok(bytes));
        }

        #[test]
        fn decoders_never_panic(text in "\\PC{0,40}") {
            let _ = decode_hex(&text);
            let _ = decode_escaped(&text);
        }
    }
}
