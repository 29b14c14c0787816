//! A regex that received bytes are matched against, with the automaton that tells when no
//! match can come any more. A leaf of the model: the matchers and sequences both hold it.
//!
//! In: a pattern from a spec. Out: a compiled [`MatchRegex`], or the reason it is not a regex
//! (a [`ModelError`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use regex::bytes::Regex;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;

use super::common::compile;
use super::error::ModelError;

/// A regex that received bytes are matched against (`regex`, `line_regex`, a `seq` part).
///
/// The regex crate decides matches and captures. Beside it, a lazy DFA of the same pattern
/// follows the bytes one at a time, so that conform can tell when no match can come any
/// more (the bytes so far are a dead prefix) and fail then instead of at the deadline, and
/// where every match ends (a `seq` part takes the longest one the rest of the sequence
/// allows). Cloning is cheap: clones share the compiled forms.
#[derive(Clone)]
pub struct MatchRegex(Arc<Compiled>);

struct Compiled {
    source: String,
    regex: Regex,
    whole: Regex,
    automaton: Option<Automaton>,
}

/// The lazy DFA and the cache it builds its states in; one cache shared by the clones, behind
/// a lock (a caller that finds it taken makes a cache of its own).
pub(crate) struct Automaton {
    pub dfa: DFA,
    pub cache: Mutex<Cache>,
}

impl MatchRegex {
    /// A regex anchored at the start, as `regex:` and `seq` parts are.
    pub fn start(pattern: &str) -> Result<MatchRegex, ModelError> {
        let regex = compile(pattern, false)?;
        let whole = compile(pattern, true)?;
        Ok(MatchRegex::from_parts(pattern, regex, whole))
    }

    /// A regex that must match a whole line's content, as `line_regex:` is.
    pub fn line(pattern: &str) -> Result<MatchRegex, ModelError> {
        let regex = compile(pattern, true)?;
        Ok(MatchRegex::from_parts(pattern, regex.clone(), regex))
    }

    fn from_parts(source: &str, regex: Regex, whole: Regex) -> MatchRegex {
        let automaton = automaton(regex.as_str());
        MatchRegex(Arc::new(Compiled {
            source: source.to_string(),
            regex,
            whole,
            automaton,
        }))
    }

    /// The pattern as the spec wrote it, for messages.
    pub fn source(&self) -> &str {
        &self.0.source
    }

    /// The regex as compiled for matching: anchored at the start (and at the end, for a
    /// line).
    pub fn regex(&self) -> &Regex {
        &self.0.regex
    }

    /// The regex anchored at both ends: for a datagram, which must match whole, and for the
    /// captures of one exact span.
    pub fn whole(&self) -> &Regex {
        &self.0.whole
    }

    /// The lazy DFA, when the pattern is one it can follow.
    pub(crate) fn automaton(&self) -> Option<&Automaton> {
        self.0.automaton.as_ref()
    }
}

impl fmt::Debug for MatchRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchRegex")
            .field(&self.0.regex.as_str())
            .finish()
    }
}

/// The lazy DFA of a compiled pattern, reporting every match end (`MatchKind::All`), built
/// with the regex crate's syntax settings for bytes. `None` when it cannot be built (a
/// pattern too large for it): matching then works as it did without it, waiting for the
/// deadline. A Unicode word boundary (`\b`) makes non-ASCII bytes stop the walk, which
/// likewise falls back to waiting.
fn automaton(compiled: &str) -> Option<Automaton> {
    let dfa = DFA::builder()
        .configure(
            DFA::config()
                .match_kind(regex_automata::MatchKind::All)
                .unicode_word_boundary(true),
        )
        .syntax(syntax::Config::new().utf8(false))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(1 << 20)),
        )
        .build(compiled)
        .ok()?;
    let cache = Mutex::new(dfa.create_cache());
    Some(Automaton { dfa, cache })
}
