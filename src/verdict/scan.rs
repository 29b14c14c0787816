//! Following a regex through the bytes received so far, one byte at a time. Pure.
//!
//! In: a [`MatchRegex`] and bytes. Out: a [`Scan`]: the length of every prefix that matches,
//! and whether a longer match can still come (or from which byte none can), or `None` when
//! the lazy DFA cannot tell, and callers then judge as if nothing were known yet.

use std::collections::HashMap;

use regex_automata::Anchored;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::start;

use crate::spec::MatchRegex;

/// What the bytes received so far say about a regex anchored at their start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The lengths of the prefixes that match, shortest first.
    pub ends: Vec<usize>,
    pub rest: Rest,
}

/// Whether more bytes could give a match longer than every one in [`Scan::ends`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// No: no match contains the byte at this index (the bytes up to it are a dead prefix).
    DeadAt(usize),
    /// No, though every byte received fits: nothing longer than the longest end can match.
    Closed,
    /// Yes: a match may end after the last byte received.
    Open,
}

/// Follows `regex` through `bytes`. `None` when the DFA gives up: the pattern has a Unicode
/// word boundary and met a non-ASCII byte, or its cache filled and was cleared during the
/// walk (the state ids held here would then be stale).
pub fn scan(regex: &MatchRegex, bytes: &[u8]) -> Option<Scan> {
    let automaton = regex.automaton()?;
    // A caller on another thread holds the shared cache: build states in one of our own
    // rather than wait.
    let mut own;
    let mut guard = automaton.cache.try_lock().ok();
    let cache: &mut Cache = match guard.as_deref_mut() {
        Some(cache) => cache,
        None => {
            own = automaton.dfa.create_cache();
            &mut own
        }
    };
    let mut walk = Walk {
        dfa: &automaton.dfa,
        clears: cache.clear_count(),
        cache,
        alive: HashMap::new(),
    };
    let found = walk.run(bytes);
    (walk.cache.clear_count() == walk.clears).then_some(found?)
}

/// Index of the first byte no match of `regex` can contain, when no prefix of `bytes`
/// matches and the bytes already settle that none ever will.
pub fn dead_byte(regex: &MatchRegex, bytes: &[u8]) -> Option<usize> {
    match scan(regex, bytes)? {
        Scan {
            ends,
            rest: Rest::DeadAt(at),
        } if ends.is_empty() => Some(at),
        _ => None,
    }
}

struct Walk<'a> {
    dfa: &'a DFA,
    cache: &'a mut Cache,
    clears: usize,
    /// Whether a match-flagged state still holds threads, by state: asked once per state.
    alive: HashMap<LazyStateID, bool>,
}

impl Walk<'_> {
    fn run(&mut self, bytes: &[u8]) -> Option<Scan> {
        let config = start::Config::new().anchored(Anchored::Yes);
        let mut sid = self.dfa.start_state(self.cache, &config).ok()?;
        let mut ends = Vec::new();
        for (at, &byte) in bytes.iter().enumerate() {
            sid = self.next(sid, byte)?;
            if sid.is_quit() {
                return None;
            }
            if sid.is_dead() {
                return Some(Scan {
                    ends,
                    rest: Rest::DeadAt(at),
                });
            }
            // The DFA reports a match one byte late: this state says the first `at` bytes
            // match. It may hold nothing else, and then no match contains this byte.
            if sid.is_match() {
                ends.push(at);
                if !self.alive(sid)? {
                    return Some(Scan {
                        ends,
                        rest: Rest::DeadAt(at),
                    });
                }
            }
        }
        if self.dfa.next_eoi_state(self.cache, sid).ok()?.is_match() {
            ends.push(bytes.len());
        }
        let rest = if self.extends(sid)? {
            Rest::Open
        } else {
            Rest::Closed
        };
        Some(Scan { ends, rest })
    }

    fn next(&mut self, sid: LazyStateID, byte: u8) -> Option<LazyStateID> {
        let next = self.dfa.next_state(self.cache, sid, byte).ok()?;
        (self.cache.clear_count() == self.clears).then_some(next)
    }

    /// Whether a state still holds threads of the NFA: some match can end at its position or
    /// later. Only a match-flagged state can hold none without being the dead state.
    fn alive(&mut self, sid: LazyStateID) -> Option<bool> {
        if sid.is_dead() {
            return Some(false);
        }
        if !sid.is_match() {
            return Some(true);
        }
        if let Some(known) = self.alive.get(&sid) {
            return Some(*known);
        }
        let mut alive = self.dfa.next_eoi_state(self.cache, sid).ok()?.is_match();
        for byte in self.representatives() {
            if alive {
                break;
            }
            let next = self.next(sid, byte)?;
            // A quit byte hides what follows: count it as alive, so nothing fails on it.
            alive = next.is_quit() || !next.is_dead();
        }
        self.alive.insert(sid, alive);
        Some(alive)
    }

    /// Whether a match can end after the position of `sid`, given at least one more byte.
    fn extends(&mut self, sid: LazyStateID) -> Option<bool> {
        for byte in self.representatives() {
            let next = self.next(sid, byte)?;
            if next.is_quit() || self.alive(next)? {
                return Some(true);
            }
        }
        Some(false)
    }

    /// One byte of each class the DFA distinguishes.
    fn representatives(&self) -> Vec<u8> {
        self.dfa
            .byte_classes()
            .representatives(0..=255)
            .filter_map(|unit| unit.as_u8())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn start(pattern: &str) -> MatchRegex {
        MatchRegex::start(pattern).unwrap()
    }

    fn scanned(pattern: &str, bytes: &str) -> Scan {
        scan(&start(pattern), bytes.as_bytes()).expect("the DFA can follow this pattern")
    }

    #[rstest]
    #[case::number_then_crlf(":[0-9]+\r\n", ":-5\r\n", vec![], Rest::DeadAt(1))]
    #[case::a_viable_prefix(":[0-9]+\r\n", ":12", vec![], Rest::Open)]
    #[case::complete_and_nothing_longer(":[0-9]+\r\n", ":12\r\n", vec![5], Rest::Closed)]
    #[case::complete_then_more_bytes(":[0-9]+\r\n", ":12\r\n+OK", vec![5], Rest::DeadAt(5))]
    #[case::every_end_of_a_number("[1-9][0-9]*", "10\r\n", vec![1, 2], Rest::DeadAt(2))]
    #[case::a_number_that_may_go_on("[1-9][0-9]*", "10", vec![1, 2], Rest::Open)]
    #[case::a_first_digit_that_cannot_start("[1-9][0-9]*", "0", vec![], Rest::DeadAt(0))]
    #[case::an_empty_match_then_more("a*", "aab", vec![0, 1, 2], Rest::DeadAt(2))]
    #[case::nothing_received_yet("ab", "", vec![], Rest::Open)]
    #[case::an_alternative_that_ends_early("ab|abcd", "abc", vec![2], Rest::Open)]
    #[case::an_alternative_that_ended("ab|abcd", "abx", vec![2], Rest::DeadAt(2))]
    #[case::never_dies("(?s).*", "anything\n", (0..=9).collect(), Rest::Open)]
    #[case::unicode_classes_byte_by_byte(r"\w+!", "é", vec![], Rest::Open)]
    #[case::a_code_point_that_is_no_word_character(r"\w+!", "\u{e9}\u{a0}", vec![], Rest::DeadAt(3))]
    fn what_the_bytes_so_far_say(
        #[case] pattern: &str,
        #[case] bytes: &str,
        #[case] ends: Vec<usize>,
        #[case] rest: Rest,
    ) {
        assert_eq!(scanned(pattern, bytes), Scan { ends, rest });
    }

    #[rstest]
    #[case::line_content_that_went_wrong(r"\d+ OK", "42 NO", Some(3))]
    #[case::line_content_so_far_right(r"\d+ OK", "42 O", None)]
    #[case::line_content_too_long(r"ab", "abc", Some(2))]
    #[case::a_carriage_return_the_line_has_no_room_for(r"\d+ OK", "42 OK\r", Some(5))]
    fn a_line_regex_dies_inside_the_line(
        #[case] pattern: &str,
        #[case] content: &str,
        #[case] dead: Option<usize>,
    ) {
        let line = MatchRegex::line(pattern).unwrap();
        assert_eq!(dead_byte(&line, content.as_bytes()), dead);
    }

    #[test]
    fn a_dead_byte_is_only_reported_when_no_prefix_matched() {
        assert_eq!(dead_byte(&start("ab"), b"abc"), None);
        assert_eq!(dead_byte(&start("ab"), b"ax"), Some(1));
    }

    #[test]
    fn a_unicode_word_boundary_on_non_ascii_bytes_cannot_be_followed() {
        let regex = start(r"\bword\b");
        assert_eq!(scan(&regex, "wörd".as_bytes()), None);
        assert_eq!(dead_byte(&regex, b"wax"), Some(1));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_followed_like_the_regex_crate_matches_them() {
        let regex = start(r"(?-u:\xff)+!");
        assert_eq!(
            scan(&regex, b"\xff\xff!").unwrap(),
            Scan {
                ends: vec![3],
                rest: Rest::Closed
            }
        );
        assert_eq!(dead_byte(&regex, b"\xff\xfe"), Some(1));
    }
}
