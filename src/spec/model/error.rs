//! Why a step, matcher, framing or generator as written is not one conform can use.
//!
//! In: what the model's conversions (`TryFrom<Raw...>`) were given. Out: one [`ModelError`];
//! serde carries its message and the loader places it at the file's line and column, so the
//! message is the sentence after `file:line:col:`. A leaf of the model, which every
//! conversion uses: limits a message names (the largest datagram, the longest generated
//! value) come in its fields.

use crate::spec::data::DataError;
use crate::spec::payload::PayloadError;

/// A model value that cannot be built, grouped below by the conversion that says it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// Only the summary of the regex crate's message is shown: its last line.
    #[error("invalid regex `{pattern}`: {}", first_line(&source.to_string()))]
    Regex {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    /// A generator's regex, which is parsed to walk its syntax tree.
    #[error("invalid regex `{pattern}`: {}", first_line(&source.to_string()))]
    RegexSyntax {
        pattern: String,
        #[source]
        source: Box<regex_syntax::Error>,
    },
    /// A generator's regex that parses but does not compile (too large), shown whole.
    #[error("invalid regex `{pattern}`: {source}")]
    RegexBuild {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("give the bytes only one way: `text`, `escaped`, `hex` or `bytes`")]
    TwoPayloads,
    /// `max` is the largest datagram.
    #[error("`length: {length}` is larger than the largest datagram ({max} bytes)")]
    LengthAboveDatagram { length: usize, max: usize },
    #[error("`min` {min} is larger than `max` {max}")]
    MinAboveMax { min: u64, max: u64 },
    #[error("`min` {min} is larger than `max` {max}")]
    SignedMinAboveMax { min: i64, max: i64 },
    #[error(
        "`signed: false` with a negative bound: drop `signed` (a negative `min` or `max` makes \
         the number signed)"
    )]
    UnsignedNegative,
    /// A generator's bound outside its width; `why` is the width's own sentence.
    #[error("`{name}` {why}")]
    BoundMisfit { name: &'static str, why: String },

    // expect_stdout / expect_stderr
    #[error("each entry of `lines` is one line: leave out the `\\n`")]
    OutputLineNewline,
    #[error("output expectations need one of `lines`, `text`, `escaped` or `regex`")]
    OutputNone,
    #[error("give exactly one of `lines`, `text`, `escaped` or `regex`")]
    OutputSeveral,

    // number matchers and generators
    #[error("`min` {min} does not fit in {size} byte(s)")]
    MinTooBig { min: u64, size: u8 },
    #[error("`max` {max} does not fit in {size} byte(s)")]
    MaxTooBig { max: u64, size: u8 },
    #[error("`tolerance` goes with `now: unix` or `now: rfc868`")]
    ToleranceWithoutNow,
    #[error("a number matcher checks one thing: `equals`, a range (`min`, `max`) or `now`")]
    NumberSeveral,
    #[error(
        "`order` is the byte order of a binary number: give `size` too (or leave both out for \
         a number written as decimal text)"
    )]
    OrderWithoutSize,

    // sequence parts
    #[error("`until` needs at least one byte to look for")]
    UntilEmpty,
    #[error(
        "a sequence part is bytes (`text`, `hex`, `var`, ...), `length`, `length_from`, \
         `until`, `regex` or `number`"
    )]
    PartNone,
    #[error("a sequence part matches one thing; split it into several parts")]
    PartSeveral,
    #[error(
        "exact bytes are known already: `capture` goes with `length`, `length_from`, `until` \
         or `number` (or a regex group)"
    )]
    CaptureOfBytes,
    #[error("a regex part captures its named groups: write `(?P<name>...)` instead of `capture`")]
    CaptureOfRegex,

    // expect
    #[error("`seq` needs at least one part")]
    SeqEmpty,
    #[error("`line` is one line: leave out the `\\n`, conform adds it")]
    LineNewline,
    #[error(
        "`expect` needs one of `text`, `escaped`, `hex`, `bytes`, `line`, `line_regex`, \
         `regex`, `length`, `number`, `seq` or `same_as_reference` (or a plain string)"
    )]
    ExpectNone,
    #[error("`expect` takes exactly one matcher; use `expect_one_of` for alternatives")]
    ExpectSeveral,
    #[error("`read_chunk` is a number of bytes: at least 1")]
    ReadChunkZero,
    #[error("`read_pause` is the wait between reads: give `read_chunk` too")]
    ReadPauseAlone,

    // generators
    #[error(
        "a generator is `bytes: {{...}}`, `text: {{...}}`, `number: {{...}}` or `split: {{...}}`"
    )]
    GeneratorNone,
    #[error("a generator is one of `bytes`, `text`, `number` or `split`, not several")]
    GeneratorSeveral,
    #[error("a generator is one of `bytes`, `text`, `number` or `split`")]
    GeneratorKind,
    #[error("`split` needs the bytes to split: `text`, `escaped`, `hex` or `bytes`")]
    SplitNoBytes,
    #[error("`split` needs at least one byte")]
    SplitEmpty,
    #[error("`max_pause` above 10s would make every case slow")]
    MaxPauseTooLong,
    /// `kind` is the generator: `bytes` or `text`.
    #[error("`{kind}` needs `length`, or `max_length` (and `min_length`)")]
    LengthMissing { kind: &'static str },
    #[error("give either `length` or `min_length`/`max_length`, not both")]
    LengthBoth,
    #[error("`min_length` {min} is larger than `max_length` {max}")]
    MinLengthAboveMax { min: usize, max: usize },
    /// `max` is the longest generated value.
    #[error("lengths above {max} bytes (1 MiB) make no sense here")]
    LengthTooLong { max: usize },
    #[error("`chars: {chars}` is not a set of characters")]
    CharsNotASet { chars: String },
    #[error("`chars: {chars}` allows no character at all")]
    CharsEmpty { chars: String },
    #[error(
        "with `regex`, the regex says the length (e.g. `[a-z]{{1,8}}`): drop `length`, \
         `min_length` and `max_length`"
    )]
    RegexWithLength,
    #[error("a `regex` generator longer than 1000 characters is refused")]
    RegexTooLong,
    #[error("`text` needs `chars` (a set of characters) or `regex`")]
    TextNone,
    #[error("`text` takes `chars` or `regex`, not both")]
    TextBoth,

    // framings and same_as_reference
    #[error(
        "unknown framing `{word}`: write `datagram`, `line`, `resp`, or a map with `until`, \
         `length` or `regex`"
    )]
    UnknownFraming { word: String },
    #[error("a framing map has exactly one of `until`, `length` or `regex`")]
    FramingSeveral,
    #[error("`until` is fixed bytes: text, `escaped`, `hex` or `bytes`")]
    UntilComputed,
    #[error("`until` needs at least one byte")]
    FrameUntilEmpty,
    #[error("`length` is between 1 and {max} bytes")]
    FrameLength { max: usize },
    #[error(
        "`may_differ: '{pattern}'` names no group: name the parts that may differ, e.g. \
         `id=(?P<id>[0-9]+)`"
    )]
    MayDifferNoGroup { pattern: String },
    #[error("`tolerance: {tolerance}` is a number of at least 0")]
    ToleranceNegative { tolerance: f64 },

    // send, send_all and their faults
    #[error(
        "`send` needs the bytes: `text`, `escaped`, `hex`, `bytes`, `var`, `reverse`, \
         `concat` or `lisp_vector` (or a plain string)"
    )]
    SendNone,
    #[error("`send_all` writes several payloads at once: give at least two")]
    SendAllFew,
    #[error("`chunks` is a number of bytes per write: at least 1")]
    ChunksZero,
    #[error("`pause` is the wait between chunks: give `chunks` too")]
    PauseWithoutChunks,
    #[error("`duplicate: 0` would send nothing: write `drop: true` for that")]
    DuplicateZero,
    #[error("`duplicate` above 1000 copies makes no sense here")]
    DuplicateTooMany,
    #[error("a dropped datagram is not sent at all: `drop` takes no other fault")]
    DropWithOthers,
    #[error("`truncate` above {max} bytes (the largest datagram) makes no sense")]
    TruncateTooLong { max: usize },
}

/// The summary of a regex crate's message: its diagram spans several lines, the last one
/// says what is wrong.
pub(crate) fn first_line(text: &str) -> String {
    let last = text.lines().last().unwrap_or(text).trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

impl ModelError {
    /// A model value is what the spec wrote: every one of them is the spec's to fix.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_bad_regex_keeps_the_regex_crates_error_as_its_source() {
        let err = super::super::common::compile("a(", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid regex `a(`: unclosed group",
            "only the summary line of the regex crate's diagram"
        );
        assert!(err.source().is_some_and(|s| s.is::<regex::Error>()));
        assert_eq!(err.exit_code(), crate::exit::USAGE);
    }

    #[test]
    fn wrapped_errors_show_their_own_message_and_have_no_source_of_their_own() {
        let err = ModelError::from(PayloadError::NotHex { ch: 'g', at: 1 });
        assert_eq!(err.to_string(), "`g` at offset 1 is not a hex digit");
        assert!(err.source().is_none());
    }
}
