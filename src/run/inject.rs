//! Deterministic fault injection when conform plays the peer: how one `send` step's bytes
//! become writes (TCP) or datagrams (UDP), given the step's [`SendFaults`].
//!
//! In: the bytes of a step (already cut in pieces when a `split` value says so) and its
//! faults. Out: the writes to make, in order, each with the pause before it; for UDP, the
//! datagrams to send and from which socket. Everything depends only on positions, never on
//! chance, so a failure replays exactly.

use std::time::Duration;

use crate::spec::SendFaults;

/// One write (TCP) or datagram (UDP), and how long to wait before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub bytes: Vec<u8>,
    pub pause_before: Duration,
    /// UDP: send it from a fresh socket on another port.
    pub from_other_port: bool,
}

/// The writes of a TCP `send`: each piece cut into `chunks`-byte writes, `pause` between
/// them (a piece's own pause stays before its first chunk).
pub fn tcp_writes(pieces: Vec<(Vec<u8>, Duration)>, faults: &SendFaults) -> Vec<Write> {
    let Some(size) = faults.chunks else {
        return pieces
            .into_iter()
            .map(|(bytes, pause_before)| Write {
                bytes,
                pause_before,
                from_other_port: false,
            })
            .collect();
    };
    let between = faults.pause.map_or(Duration::ZERO, |d| d.get());
    let mut writes = Vec::new();
    for (piece, pause) in pieces {
        for (index, chunk) in piece.chunks(size.max(1)).enumerate() {
            writes.push(Write {
                bytes: chunk.to_vec(),
                pause_before: if index == 0 { pause } else { between },
                from_other_port: false,
            });
        }
    }
    writes
}

/// The datagrams of a UDP `send`: none when dropped, else the (truncated) bytes `duplicate`
/// times, the first after `delay`.
pub fn udp_datagrams(bytes: Vec<u8>, faults: &SendFaults) -> Vec<Write> {
    if faults.drop {
        return Vec::new();
    }
    let mut bytes = bytes;
    if let Some(keep) = faults.truncate {
        bytes.truncate(keep);
    }
    let delay = faults.delay.map_or(Duration::ZERO, |d| d.get());
    (0..faults.duplicate.unwrap_or(1))
        .map(|copy| Write {
            bytes: bytes.clone(),
            pause_before: if copy == 0 { delay } else { Duration::ZERO },
            from_other_port: faults.from_other_port,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Dur;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn dur(text: &str) -> Option<Dur> {
        Some(text.parse().unwrap())
    }

    fn bytes_of(writes: &[Write]) -> Vec<&[u8]> {
        writes.iter().map(|w| w.bytes.as_slice()).collect()
    }

    #[test]
    fn tcp_without_chunks_writes_each_piece_once() {
        let writes = tcp_writes(vec![(b"Hello".to_vec(), ms(0))], &SendFaults::default());
        assert_eq!(bytes_of(&writes), [b"Hello"]);
    }

    #[test]
    fn tcp_chunks_cut_every_piece_with_pauses_between() {
        let faults = SendFaults {
            chunks: Some(2),
            pause: dur("20ms"),
            ..SendFaults::default()
        };
        let writes = tcp_writes(
            vec![(b"abcde".to_vec(), ms(0)), (b"fg".to_vec(), ms(7))],
            &faults,
        );
        assert_eq!(
            bytes_of(&writes),
            [&b"ab"[..], b"cd", b"e", b"fg"],
            "a piece is never merged with the next"
        );
        let pauses: Vec<_> = writes.iter().map(|w| w.pause_before).collect();
        assert_eq!(pauses, [ms(0), ms(20), ms(20), ms(7)]);
    }

    #[test]
    fn udp_drop_sends_nothing() {
        let faults = SendFaults {
            drop: true,
            ..SendFaults::default()
        };
        assert!(udp_datagrams(vec![1, 2, 3], &faults).is_empty());
    }

    #[test]
    fn udp_duplicate_truncate_and_delay_combine() {
        let faults = SendFaults {
            duplicate: Some(3),
            truncate: Some(2),
            delay: dur("50ms"),
            from_other_port: true,
            ..SendFaults::default()
        };
        let datagrams = udp_datagrams(vec![1, 2, 3, 4], &faults);
        assert_eq!(bytes_of(&datagrams), [&[1u8, 2][..], &[1, 2], &[1, 2]]);
        assert_eq!(datagrams[0].pause_before, ms(50));
        assert_eq!(datagrams[1].pause_before, ms(0));
        assert!(datagrams.iter().all(|d| d.from_other_port));
    }

    #[test]
    fn udp_truncate_longer_than_the_datagram_keeps_it_whole() {
        let faults = SendFaults {
            truncate: Some(100),
            ..SendFaults::default()
        };
        assert_eq!(
            bytes_of(&udp_datagrams(vec![9; 8], &faults)),
            [&[9u8; 8][..]]
        );
    }
}
