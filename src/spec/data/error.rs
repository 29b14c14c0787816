//! Why a value cannot be built: a `--with` or `--session` value as text, a data map of a
//! spec, a split value's cuts and pauses, or a fixed value that does not fit its generator.
//!
//! In: what [`super::decode_value`], [`super::DataFields::into_data`] and
//! [`super::split_value`] were given. Out: one [`DataError`], whose message is the sentence
//! shown after the spec position or the flag that gave the value.

use crate::spec::duration::DurationError;
use crate::spec::expr::ExprError;
use crate::spec::payload::PayloadError;

/// A value that cannot be built from what was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("`number:` only fits a value generated with `number`")]
    NumberNeedsNumber,
    /// The text after `number:`, as written.
    #[error("`{text}` is not a number")]
    NotANumber { text: String },
    /// A number outside its width's range, in the width's own words.
    #[error("{0}")]
    Misfit(String),
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("`split:` only fits a value generated with `split`")]
    SplitNeedsSplit,
    #[error("`{text}` is not an offset")]
    NotAnOffset { text: String },
    #[error(transparent)]
    Pause(#[from] DurationError),
    #[error("`{text}`: write `hex:...`, `text:...`, `number:N` or `split:CUTS@PAUSES`")]
    UnknownForm { text: String },
    /// `len` is the length of the data the cuts split.
    #[error("cuts must be increasing offsets inside the {len} bytes (1..{len})")]
    Cuts { len: usize },
    #[error("{cuts} cut(s) need {cuts} pause(s), one per cut")]
    Pauses { cuts: usize },
    #[error("`size: {size}`: a number is 1, 2, 4 or 8 bytes")]
    Size { size: u8 },
    #[error(
        "give the bytes only one way: `text`, `escaped`, `hex`, `bytes`, `var`, `reverse`, \
         `concat`, `lisp_vector`, `decimal`, `hex_text`, `binary` or `expr`"
    )]
    SeveralWays,
    /// An `expr` that does not compile: `line` and `column` are the scalar's in the file,
    /// `at` the line and column inside the expression. The message is marked (see
    /// [`super::EXPR_MARK`]) so the loader can place the error.
    #[error(
        "{}{line}:{column}:{}:{}{}expression error: {source}",
        super::EXPR_MARK.0,
        at.0,
        at.1,
        super::EXPR_MARK.1
    )]
    Expr {
        line: u64,
        column: u64,
        at: (usize, usize),
        #[source]
        source: ExprError,
    },
    /// A `--session` value its generator would never make.
    #[error("`{text}` is not a value its generator makes (check its length, characters or range)")]
    NotMade { text: String },
    /// A spec's `with:` value of another kind than its generator makes.
    #[error("the fixed value does not fit its generator")]
    Unfit,
    /// A `play:` value of another kind than its command's generator makes.
    #[error(
        "the value does not fit its generator (bytes for `bytes` and `text`, a `number` for \
         `number`, cuts and pauses for `split`)"
    )]
    UnfitKind,
}

impl DataError {
    /// A value is what the user wrote, in a spec or on the command line.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_expression_error_is_marked_for_the_loader_and_kept_as_the_source() {
        let source = serde_saphyr::from_str::<serde_saphyr::Spanned<String>>("'1 +'").unwrap();
        let err = super::super::compile_spanned(&source).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("[[expression at 1:1:1:4]] expression error: "),
            "{err}"
        );
        assert!(err.source().is_some_and(|s| s.is::<ExprError>()));
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn a_wrapped_payload_error_reads_as_itself() {
        let err = super::super::decode_value("hex:0g", None, None).unwrap_err();
        assert_eq!(
            err,
            DataError::Payload(PayloadError::NotHex { ch: 'g', at: 1 })
        );
        assert_eq!(err.to_string(), "`g` at offset 1 is not a hex digit");
    }
}
