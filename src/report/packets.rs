//! A wire log as IP packets, for capture files: what a capture on the loopback interface
//! would have shown for the exchange conform recorded at its sockets.
//!
//! In: a [`WireLog`]. Out: [`Packet`]s (raw IPv4 or IPv6, no link layer) with their times.
//! TCP gets what the kernel would have put on the wire around each recorded event: the
//! three-way handshake at a connect or accept, data segments with consistent sequence and
//! acknowledgement numbers, each acknowledged, FIN and its ACK, RST. UDP gets one packet per
//! datagram. Entries that put nothing on the wire (silence, the program's exit, a refused
//! connect whose port conform never learnt) give no packet.

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use etherparse::PacketBuilder;

use crate::event::{Direction, Ends, Wire, WireLog};
use crate::spec::Transport;

/// Payload bytes per TCP segment; loopback's MTU (65536) would allow more, but segments of
/// this size keep every IPv4 and IPv6 packet far below the 65535-byte limit.
const SEGMENT: usize = 32 * 1024;

/// The window every segment advertises; the log does not know the real one.
const WINDOW: u16 = 65_535;

/// Initial sequence numbers: fixed, so a capture of the same exchange is the same file.
/// (Wireshark shows sequence numbers relative to these.)
const ISN_CONFORM: u32 = 1_000_000;
const ISN_PROGRAM: u32 = 2_000_000;

/// One packet of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub time: SystemTime,
    /// The packet as captured: the IP header onwards, possibly cut short.
    pub data: Vec<u8>,
    /// Its length on the wire; more than `data.len()` when the log kept only some bytes.
    pub length: usize,
}

/// Sequence state of one TCP connection: the next sequence number of each side.
struct Conn {
    ends: Ends,
    conform: u32,
    program: u32,
}

/// Which way a packet goes, as addresses.
fn from_to(direction: Direction, ends: &Ends) -> (SocketAddr, SocketAddr) {
    match direction {
        Direction::Sent => (ends.local, ends.peer),
        Direction::Received => (ends.peer, ends.local),
    }
}

#[derive(Clone, Copy, Default)]
struct Flags {
    syn: bool,
    fin: bool,
    rst: bool,
    psh: bool,
    /// The acknowledgement number, when the ACK flag is set.
    ack: Option<u32>,
}

/// Builds one IP packet. `kept` is how many bytes of `payload` the capture holds; the
/// rest stand in as zeros for the length fields and are then cut off, the way a capture with
/// a short snapshot length stores a packet.
fn ip_packet(
    from: SocketAddr,
    to: SocketAddr,
    tcp: Option<(u32, Flags)>,
    payload: &[u8],
    kept: usize,
) -> Option<(Vec<u8>, usize)> {
    let builder = match (from.ip(), to.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        // Mixed families cannot be one packet; a log never has them for one connection.
        _ => return None,
    };
    let mut data = Vec::new();
    let written = match tcp {
        Some((seq, flags)) => {
            let mut b = builder.tcp(from.port(), to.port(), seq, WINDOW);
            if flags.syn {
                b = b.syn();
            }
            if flags.fin {
                b = b.fin();
            }
            if flags.rst {
                b = b.rst();
            }
            if flags.psh {
                b = b.psh();
            }
            if let Some(ack) = flags.ack {
                b = b.ack(ack);
            }
            b.write(&mut data, payload)
        }
        None => builder
            .udp(from.port(), to.port())
            .write(&mut data, payload),
    };
    written.ok()?;
    let length = data.len();
    data.truncate(length - (payload.len() - kept));
    Some((data, length))
}

/// One packet to build: from, to, the TCP sequence number and flags (none for UDP), the
/// payload and how much of it the log kept.
type Segment = (SocketAddr, SocketAddr, Option<(u32, Flags)>, Vec<u8>, usize);

/// The packets of a whole log, in order.
pub fn packets(log: &WireLog) -> Vec<Packet> {
    let mut out = Vec::new();
    let mut conns: Vec<Conn> = Vec::new();
    for entry in &log.entries {
        let time = log.started + entry.at;
        let segments = match &entry.what {
            Wire::Connect { ends } => handshake(&mut conns, ends, Direction::Sent),
            // The side that connects sends the SYN.
            Wire::Accept { ends } => handshake(&mut conns, ends, Direction::Received),
            Wire::Data {
                transport: Transport::Udp,
                direction,
                ends,
                bytes,
                length,
            } => {
                let (from, to) = from_to(*direction, ends);
                let mut payload = bytes.clone();
                payload.resize(*length, 0);
                vec![(from, to, None, payload, bytes.len())]
            }
            Wire::Data {
                transport: Transport::Tcp,
                direction,
                ends,
                bytes,
                length,
            } => tcp_data(conn_for(&mut conns, ends), *direction, ends, bytes, *length),
            Wire::Fin { direction, ends } => {
                let conn = conn_for(&mut conns, ends);
                let (from, to) = from_to(*direction, ends);
                let (seq, ack) = conn.advance(*direction, 1);
                let fin = Flags {
                    fin: true,
                    ack: Some(ack),
                    ..Flags::default()
                };
                vec![
                    (from, to, Some((seq, fin)), Vec::new(), 0),
                    acknowledgement(conn, *direction, from, to),
                ]
            }
            Wire::Reset { direction, ends } => {
                let conn = conn_for(&mut conns, ends);
                let (from, to) = from_to(*direction, ends);
                let (seq, ack) = conn.next(*direction);
                let rst = Flags {
                    rst: true,
                    ack: Some(ack),
                    ..Flags::default()
                };
                vec![(from, to, Some((seq, rst)), Vec::new(), 0)]
            }
            Wire::ConnectFailed { .. } | Wire::Silence { .. } | Wire::ProgramExit { .. } => {
                Vec::new()
            }
        };
        for (from, to, tcp, payload, kept) in segments {
            if let Some((data, length)) = ip_packet(from, to, tcp, &payload, kept) {
                out.push(Packet { time, data, length });
            }
        }
    }
    out
}

/// The three packets of a TCP handshake opened by `opener`, and the connection they start.
fn handshake(conns: &mut Vec<Conn>, ends: &Ends, opener: Direction) -> Vec<Segment> {
    let conn = Conn {
        ends: *ends,
        conform: ISN_CONFORM,
        program: ISN_PROGRAM,
    };
    let (a, b) = from_to(opener, ends);
    let (isn_a, isn_b) = match opener {
        Direction::Sent => (conn.conform, conn.program),
        Direction::Received => (conn.program, conn.conform),
    };
    let syn = Flags {
        syn: true,
        ..Flags::default()
    };
    let syn_ack = Flags {
        syn: true,
        ack: Some(isn_a.wrapping_add(1)),
        ..Flags::default()
    };
    let ack = Flags {
        ack: Some(isn_b.wrapping_add(1)),
        ..Flags::default()
    };
    conns.retain(|c| c.ends != *ends);
    conns.push(Conn {
        conform: conn.conform.wrapping_add(1),
        program: conn.program.wrapping_add(1),
        ..conn
    });
    vec![
        (a, b, Some((isn_a, syn)), Vec::new(), 0),
        (b, a, Some((isn_b, syn_ack)), Vec::new(), 0),
        (a, b, Some((isn_a.wrapping_add(1), ack)), Vec::new(), 0),
    ]
}

/// TCP bytes in segments of at most `SEGMENT`, each acknowledged by the receiving kernel.
fn tcp_data(
    conn: &mut Conn,
    direction: Direction,
    ends: &Ends,
    bytes: &[u8],
    length: usize,
) -> Vec<Segment> {
    let (from, to) = from_to(direction, ends);
    let mut payload = bytes.to_vec();
    payload.resize(length, 0);
    let mut out = Vec::new();
    for (index, piece) in payload.chunks(SEGMENT).enumerate() {
        let start = index * SEGMENT;
        let kept = bytes.len().saturating_sub(start).min(piece.len());
        let (seq, ack) = conn.advance(direction, piece.len() as u32);
        let flags = Flags {
            psh: true,
            ack: Some(ack),
            ..Flags::default()
        };
        out.push((from, to, Some((seq, flags)), piece.to_vec(), kept));
        out.push(acknowledgement(conn, direction, from, to));
    }
    out
}

/// The receiving side's acknowledgement of what `direction` sent so far.
fn acknowledgement(conn: &Conn, direction: Direction, from: SocketAddr, to: SocketAddr) -> Segment {
    let (rseq, rack) = conn.next(direction.other());
    let ack_only = Flags {
        ack: Some(rack),
        ..Flags::default()
    };
    (to, from, Some((rseq, ack_only)), Vec::new(), 0)
}

/// The connection between `ends`, made up when the log lost its start (entries dropped).
fn conn_for<'c>(conns: &'c mut Vec<Conn>, ends: &Ends) -> &'c mut Conn {
    match conns.iter().position(|c| c.ends == *ends) {
        Some(i) => &mut conns[i],
        None => {
            conns.push(Conn {
                ends: *ends,
                conform: ISN_CONFORM + 1,
                program: ISN_PROGRAM + 1,
            });
            let last = conns.len() - 1;
            &mut conns[last]
        }
    }
}

impl Conn {
    /// The sequence number of the next segment from `direction`'s sender, and the
    /// acknowledgement number it carries.
    fn next(&self, direction: Direction) -> (u32, u32) {
        match direction {
            Direction::Sent => (self.conform, self.program),
            Direction::Received => (self.program, self.conform),
        }
    }

    /// Like [`next`](Self::next), then moves the sender's sequence on by `length`.
    fn advance(&mut self, direction: Direction, length: u32) -> (u32, u32) {
        let now = self.next(direction);
        match direction {
            Direction::Sent => self.conform = self.conform.wrapping_add(length),
            Direction::Received => self.program = self.program.wrapping_add(length),
        }
        now
    }
}

impl Direction {
    fn other(self) -> Direction {
        match self {
            Direction::Sent => Direction::Received,
            Direction::Received => Direction::Sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::WireEntry;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use std::time::Duration;

    fn ends(local: &str, peer: &str) -> Ends {
        Ends {
            local: local.parse().expect("address"),
            peer: peer.parse().expect("address"),
        }
    }

    fn log(entries: Vec<Wire>) -> WireLog {
        WireLog {
            entries: entries
                .into_iter()
                .enumerate()
                .map(|(i, what)| WireEntry {
                    at: Duration::from_millis(i as u64),
                    what,
                })
                .collect(),
            ..WireLog::default()
        }
    }

    /// Source port, seq, ack, SYN, FIN, RST and payload of one TCP packet.
    type Summary = (u16, u32, u32, bool, bool, bool, Vec<u8>);

    fn tcp_summary(packets: &[Packet]) -> Vec<Summary> {
        packets
            .iter()
            .map(|p| {
                let sliced = SlicedPacket::from_ip(&p.data).expect("parses");
                match sliced.transport {
                    Some(TransportSlice::Tcp(t)) => (
                        t.source_port(),
                        t.sequence_number(),
                        t.acknowledgment_number(),
                        t.syn(),
                        t.fin(),
                        t.rst(),
                        t.payload().to_vec(),
                    ),
                    _ => panic!("not TCP"),
                }
            })
            .collect()
    }

    #[test]
    fn a_tcp_exchange_has_a_handshake_and_consistent_numbers() {
        let e = ends("127.0.0.1:40000", "127.0.0.1:30000");
        let data = |direction, bytes: &[u8]| Wire::Data {
            transport: Transport::Tcp,
            direction,
            ends: e,
            bytes: bytes.to_vec(),
            length: bytes.len(),
        };
        let packets = packets(&log(vec![
            Wire::Connect { ends: e },
            data(Direction::Received, b"Hi\n"),
            Wire::Fin {
                direction: Direction::Received,
                ends: e,
            },
            Wire::Fin {
                direction: Direction::Sent,
                ends: e,
            },
        ]));
        let (c, p) = (ISN_CONFORM, ISN_PROGRAM);
        assert_eq!(
            tcp_summary(&packets),
            vec![
                (40000, c, 0, true, false, false, vec![]),
                (30000, p, c + 1, true, false, false, vec![]),
                (40000, c + 1, p + 1, false, false, false, vec![]),
                (30000, p + 1, c + 1, false, false, false, b"Hi\n".to_vec()),
                (40000, c + 1, p + 4, false, false, false, vec![]),
                (30000, p + 4, c + 1, false, true, false, vec![]),
                (40000, c + 1, p + 5, false, false, false, vec![]),
                (40000, c + 1, p + 5, false, true, false, vec![]),
                (30000, p + 5, c + 2, false, false, false, vec![]),
            ]
        );
    }

    #[test]
    fn a_cut_datagram_keeps_its_length_on_the_wire() {
        let e = ends("[::1]:40000", "[::1]:30000");
        let packets = packets(&log(vec![Wire::Data {
            transport: Transport::Udp,
            direction: Direction::Sent,
            ends: e,
            bytes: b"ab".to_vec(),
            length: 10,
        }]));
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].length, 40 + 8 + 10);
        assert_eq!(packets[0].data.len(), 40 + 8 + 2);
        let sliced = SlicedPacket::from_ip(&packets[0].data);
        // A cut packet need not parse in full; its IPv6 header must.
        if let Ok(sliced) = sliced {
            assert!(matches!(sliced.net, Some(NetSlice::Ipv6(_))));
        }
    }
}
