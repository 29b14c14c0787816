//! The progress line of long generated scenarios, drawn on a terminal's stderr.
//!
//! In: [`Event::Progress`] events (sent only when the run shows progress) and the end of each
//! scenario. Out: one line on the writer it was given, redrawn in place and cleared when the
//! scenario ends, so the report that follows starts on a clean line.

use std::io::{self, Write};
use std::time::Instant;

use super::Reporter;
use crate::event::{Event, Tick};

pub struct ProgressLine<W: Write + Send> {
    out: W,
    /// When each scenario's first case was reported, for its rate.
    started: Vec<(String, Instant)>,
    drawn: bool,
}

impl<W: Write + Send> ProgressLine<W> {
    pub fn new(out: W) -> Self {
        ProgressLine {
            out,
            started: Vec::new(),
            drawn: false,
        }
    }

    fn clear(&mut self) -> io::Result<()> {
        if self.drawn {
            self.drawn = false;
            write!(self.out, "\r\x1b[2K")?;
            self.out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write + Send> Reporter for ProgressLine<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::ScenarioStarted { id } => {
                self.started.push((id.name.clone(), Instant::now()));
                Ok(())
            }
            Event::Progress { id, tick } => {
                let began = self
                    .started
                    .iter()
                    .find(|(name, _)| *name == id.name)
                    .map_or_else(Instant::now, |(_, at)| *at);
                match tick {
                    Tick::Case { done, planned, .. } => {
                        let rate = *done as f64 / began.elapsed().as_secs_f64().max(1e-9);
                        write!(
                            self.out,
                            "\r\x1b[2K{}: case {done} of {planned}, {rate:.0} cases/s",
                            id.name
                        )?;
                    }
                    Tick::Probe { done, size } => write!(
                        self.out,
                        "\r\x1b[2K{}: failed; shrinking, probe {done} (an input of size {size})",
                        id.name
                    )?,
                }
                self.drawn = true;
                self.out.flush()
            }
            Event::ScenarioFinished { id, .. } => {
                self.started.retain(|(name, _)| *name != id.name);
                self.clear()
            }
            Event::RunFinished { .. } => self.clear(),
            Event::RunStarted { .. } | Event::StepObserved { .. } => Ok(()),
        }
    }
}
