//! What the step, expect and output parsers share: how bytes are given in YAML, how regexes
//! are compiled, and the largest datagram. Nearly a leaf: of the model it uses only its
//! error type.

use regex::bytes::Regex;

use super::error::ModelError;
use crate::spec::payload::{decode_escaped, decode_hex};

/// The largest datagram payload over IPv4, and so the largest thing worth expecting at once.
pub const MAX_DATAGRAM: usize = 65_507;

pub(crate) fn compile(pattern: &str, whole: bool) -> Result<Regex, ModelError> {
    let anchored = if whole {
        format!("^(?:{pattern})$")
    } else {
        format!("^(?:{pattern})")
    };
    regex::bytes::RegexBuilder::new(&anchored)
        .size_limit(1 << 20)
        .build()
        .map_err(|source| ModelError::Regex {
            pattern: pattern.to_string(),
            source,
        })
}

pub(crate) fn one_payload(
    text: Option<String>,
    escaped: Option<String>,
    hex: Option<String>,
    bytes: Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, ModelError> {
    let given = [
        text.is_some(),
        escaped.is_some(),
        hex.is_some(),
        bytes.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ModelError::TwoPayloads);
    }
    if let Some(text) = text {
        return Ok(Some(text.into_bytes()));
    }
    if let Some(escaped) = escaped {
        return Ok(Some(decode_escaped(&escaped)?));
    }
    if let Some(hex) = hex {
        return Ok(Some(decode_hex(&hex)?));
    }
    Ok(bytes)
}
