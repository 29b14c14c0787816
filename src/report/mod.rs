//! Reporters: each turns [`Event`]s into one output format. None of them runs anything.

pub mod diff;
pub mod history;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod matrix;
pub mod packets;
pub mod pcap;
pub mod progress;
pub mod read;
pub mod session;
pub mod tap;
pub mod wirelog;

use crate::event::Event;

pub use crate::event::Reporter;

/// The output formats, by their command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Junit,
    Tap,
    Json,
    Html,
}

/// A reporter that cannot be made from what the command line asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("unknown format `{name}`: use human, junit, tap, json or html")]
    UnknownFormat { name: String },
}

impl ReportError {
    /// A format is named on the command line.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;
    fn from_str(text: &str) -> Result<Self, ReportError> {
        match text {
            "human" => Ok(Format::Human),
            "junit" => Ok(Format::Junit),
            "tap" => Ok(Format::Tap),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            other => Err(ReportError::UnknownFormat {
                name: other.to_string(),
            }),
        }
    }
}

/// How the human report looks; the other formats ignore it.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanStyle {
    pub color: bool,
    pub verbose: bool,
    /// Show the wire log of failing and warning cases (`--trace`).
    pub trace: bool,
}

/// A reporter of `format` writing to `out`.
pub fn reporter(
    format: Format,
    out: Box<dyn std::io::Write + Send>,
    style: HumanStyle,
) -> Box<dyn Reporter> {
    match format {
        Format::Human => {
            let mut human = human::Human::new(out);
            human.color = style.color;
            human.verbose = style.verbose;
            human.trace = style.trace;
            Box::new(human)
        }
        Format::Junit => Box::new(junit::Junit::new(out)),
        Format::Tap => Box::new(tap::Tap::new(out)),
        Format::Json => Box::new(json::Json::new(out)),
        Format::Html => Box::new(html::Html::new(out)),
    }
}

/// Several reporters fed the same events, e.g. the human report on stdout and a JUnit file.
pub struct Fanout(pub Vec<Box<dyn Reporter>>);

impl Reporter for Fanout {
    fn report(&mut self, event: &Event) -> std::io::Result<()> {
        for reporter in &mut self.0 {
            reporter.report(event)?;
        }
        Ok(())
    }
}

/// A duration as reports print it: milliseconds under a second, else seconds.
pub fn fmt_duration(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}
