//! Reporters: each turns [`Event`]s into one output format. None of them runs anything.

pub mod diff;
pub mod human;

use crate::event::Event;

/// A consumer of run events.
pub trait Reporter: Send {
    fn report(&mut self, event: &Event) -> std::io::Result<()>;
}
