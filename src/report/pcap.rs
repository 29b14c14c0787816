//! `--pcap DIR`: one capture file per failing or warning case, for Wireshark and tshark.
//!
//! In: [`Event`]s; only finished scenarios whose failure carries a wire log matter. Out: a
//! classic pcap file (link type RAW: packets start at the IP header, so IPv4 and IPv6 share
//! one file format) per such scenario in DIR, named after the spec file and the scenario.
//! The packets come from the wire log (see `packets.rs`): no capture privileges are needed,
//! and the file shows what conform saw at its sockets.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

use super::Reporter;
use super::packets::packets;
use crate::event::{Event, ScenarioId, Verdict, WireLog};

/// Longest file name stem, well below every file system's limit.
const MAX_STEM: usize = 120;

pub struct Pcap {
    dir: PathBuf,
    /// Stems already used in this run, so two scenarios never share a file.
    used: HashSet<String>,
}

impl Pcap {
    /// Writes into `dir`, which must exist.
    pub fn new(dir: &Path) -> Self {
        Pcap {
            dir: dir.to_path_buf(),
            used: HashSet::new(),
        }
    }

    /// `tcp--server-greets-with-Hello-World.pcap` for `specs/tcp.yaml :: server greets ...`,
    /// prefixed with `mine--` for implementation `mine` in a matrix.
    fn path_for(&mut self, id: &ScenarioId) -> PathBuf {
        let file = Path::new(&id.file)
            .file_stem()
            .map_or_else(|| "spec".into(), |s| s.to_string_lossy().into_owned());
        // `safe` leaves only ASCII, so any byte index is a character boundary.
        let mut stem = format!("{}--{}", safe(&file), safe(&id.name));
        if let Some(implementation) = &id.implementation {
            stem = format!("{}--{stem}", safe(implementation));
        }
        stem.truncate(MAX_STEM);
        let mut unique = stem.clone();
        let mut n = 2;
        while !self.used.insert(unique.clone()) {
            unique = format!("{stem}-{n}");
            n += 1;
        }
        self.dir.join(format!("{unique}.pcap"))
    }
}

/// Letters, digits, `.`, `_` and `-` kept; every run of anything else becomes one `-`.
fn safe(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Writes the capture of one log to `path`.
pub fn write_capture(path: &Path, log: &WireLog) -> io::Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let header = PcapHeader {
        datalink: DataLink::RAW,
        snaplen: 65_535,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(file, header).map_err(io::Error::other)?;
    for packet in packets(log) {
        let since_epoch = packet.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let length = u32::try_from(packet.length).unwrap_or(u32::MAX);
        writer
            .write_packet(&PcapPacket::new(since_epoch, length, &packet.data))
            .map_err(io::Error::other)?;
    }
    let mut file = writer.into_writer();
    io::Write::flush(&mut file)
}

impl Reporter for Pcap {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::ScenarioFinished { id, verdict, .. } => match verdict {
                Verdict::Fail(failure) | Verdict::Warn(failure) => {
                    if let Some(log) = &failure.wire {
                        let path = self.path_for(id);
                        write_capture(&path, log).map_err(|e| {
                            io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                        })?;
                    }
                }
                Verdict::Pass | Verdict::Skip(_) => {}
            },
            Event::RunStarted { .. }
            | Event::ScenarioStarted { .. }
            | Event::StepObserved { .. }
            | Event::Progress { .. }
            | Event::RunFinished { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_unique() {
        let mut pcap = Pcap::new(Path::new("/tmp/x"));
        let id = ScenarioId {
            file: "specs/tcp.yaml".into(),
            name: "server greets: \"Hello\" / World [ipv6]".into(),
            role: crate::spec::Role::Server,
            transport: crate::spec::Transport::Tcp,
            level: crate::spec::Level::Must,
            tags: Vec::new(),
            implementation: None,
        };
        assert_eq!(
            pcap.path_for(&id),
            Path::new("/tmp/x/tcp--server-greets-Hello-World-ipv6.pcap")
        );
        assert_eq!(
            pcap.path_for(&id),
            Path::new("/tmp/x/tcp--server-greets-Hello-World-ipv6-2.pcap")
        );
        let mine = ScenarioId {
            implementation: Some("mine".into()),
            ..id
        };
        assert_eq!(
            pcap.path_for(&mine),
            Path::new("/tmp/x/mine--tcp--server-greets-Hello-World-ipv6.pcap")
        );
    }
}
