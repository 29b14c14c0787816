//! How shrinking ended, read back from the stream's `shrinking` word and the sentence beside
//! it: the word names the [`Shrinking`] variant, and the variants that carry a number (the
//! probe budget, the time cap, the step before any input) or a set of passes state it only in
//! the sentence, which is where it is read from.
//!
//! In: `failure.generated.shrinking`, `.shrinking_message` and `.probes`. Out: the
//! [`Shrinking`] whose `message()` is that sentence; `None` for a word this conform does not
//! know. A sentence in other words (a later conform's) still gives the variant, with the
//! nearest numbers the stream has.

use std::time::Duration;

use crate::event::Passes;
use crate::event::Shrinking;

pub(super) fn parse(word: &str, message: &str, probes: u64) -> Option<Shrinking> {
    Some(match word {
        "minimal" => Shrinking::Minimal,
        "locally_minimal" => Shrinking::Local {
            passes: passes(message),
        },
        "any_input" => Shrinking::AnyInput,
        "before_input" => Shrinking::BeforeInput {
            step: number_after(message, "step ").unwrap_or(0),
        },
        "not_reproduced" => Shrinking::NotReproduced,
        "budget" => Shrinking::Budget {
            probes: number_after(message, "the budget of ")
                .or_else(|| u32::try_from(probes).ok())
                .unwrap_or(u32::MAX),
        },
        "time_cap" => Shrinking::TimeCap {
            // A message that names no limit is from another wording: the limit is unknown.
            limit: time_cap(message).unwrap_or(Duration::ZERO),
        },
        "stopped" => Shrinking::Stopped,
        "fixed" => Shrinking::Fixed,
        "replayed" => Shrinking::Replayed {
            replays: number_after(message, "failed in any of ").unwrap_or(0),
        },
        _ => return None,
    })
}

/// The kinds of simplification the sentence lists, each by the words it starts with.
fn passes(message: &str) -> Passes {
    Passes {
        bytes: message.contains("deleting any one byte"),
        regex: message.contains("in the regex"),
        numbers: message.contains("lowering the number"),
        signed: message.contains("moving the signed number"),
        splits: message.contains("removing any one cut"),
    }
}

/// The decimal number right after `marker`.
fn number_after<N: std::str::FromStr>(message: &str, marker: &str) -> Option<N> {
    let (_, rest) = message.split_once(marker)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The limit in "shrinking stopped after 30s (--shrink-time)".
fn time_cap(message: &str) -> Option<Duration> {
    let (_, rest) = message.split_once("stopped after ")?;
    let text = rest.split_whitespace().next()?;
    text.parse::<crate::spec::Dur>().ok().map(|d| d.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Shrinking> {
        let mut all = vec![
            Shrinking::Minimal,
            Shrinking::AnyInput,
            Shrinking::BeforeInput { step: 0 },
            Shrinking::BeforeInput { step: 3 },
            Shrinking::BeforeInput { step: 12 },
            Shrinking::NotReproduced,
            Shrinking::Budget { probes: 1 },
            Shrinking::Budget { probes: 2000 },
            Shrinking::TimeCap {
                limit: Duration::from_millis(1500),
            },
            Shrinking::TimeCap {
                limit: Duration::from_secs(30),
            },
            Shrinking::Stopped,
            Shrinking::Fixed,
            Shrinking::Replayed { replays: 5 },
        ];
        for bits in 0..32u8 {
            all.push(Shrinking::Local {
                passes: Passes {
                    bytes: bits & 1 != 0,
                    regex: bits & 2 != 0,
                    numbers: bits & 4 != 0,
                    splits: bits & 8 != 0,
                    signed: bits & 16 != 0,
                },
            });
        }
        all
    }

    #[test]
    fn every_ending_of_shrinking_reads_back_from_its_word_and_sentence() {
        for shrinking in every_kind() {
            let back = parse(shrinking.word(), &shrinking.message(), 7);
            assert_eq!(back, Some(shrinking), "{}", shrinking.message());
        }
    }

    #[test]
    fn a_sentence_in_other_words_still_gives_the_variant() {
        assert_eq!(
            parse("budget", "the probes ran out", 40),
            Some(Shrinking::Budget { probes: 40 })
        );
        assert_eq!(
            parse("before_input", "failed early", 0),
            Some(Shrinking::BeforeInput { step: 0 })
        );
        assert_eq!(parse("gave_up", "", 0), None);
    }
}
