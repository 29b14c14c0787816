//! Why one step does not fit where it stands: the scenario's role and transport, the
//! connections open before it, the alternatives beside it.
//!
//! In: what `check_step` found. Out: one [`StepError`]; the caller places it at the step
//! and names the scenario (and command) around it.

use crate::spec::model::{Role, Transport};

/// A step that does not make sense where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// `plays` is the side conform takes, `wanted` the step that opens a connection for it.
    #[error(
        "`{keyword}` does not fit a {role} scenario: conform plays the {plays}, so use `{wanted}`"
    )]
    WrongOpen {
        keyword: &'static str,
        role: Role,
        plays: &'static str,
        wanted: &'static str,
    },
    #[error(
        "UDP has no connections: the client's first datagram arrives with `expect`, and `send` \
         answers whoever sent it"
    )]
    UdpClientOpens,
    #[error("connection `{name}` is already open")]
    AlreadyOpen { name: String },
    #[error("`expect_one_of` needs at least two alternatives")]
    OneOfFew,
    #[error(
        "`{keyword}` cannot be an alternative: use `expect`, `expect_eof`, `expect_reset` or \
         `expect_silence`"
    )]
    NotAnAlternative { keyword: &'static str },
    #[error("`read_chunk` cannot be used in an alternative: read slowly in a plain `expect`")]
    SlowReadAlternative,
    #[error("all alternatives of `expect_one_of` must watch the same connection")]
    OneOfConnections,
    #[error("`{keyword}` is about TCP connections; a UDP scenario can use `expect_silence`")]
    ConnectionsOverUdp { keyword: &'static str },
    #[error("`{keyword}` is about TCP streams; UDP keeps each datagram separate")]
    StreamsOverUdp { keyword: &'static str },
    #[error("`reset` is a TCP fault: a UDP socket has no connection to reset")]
    ResetOverUdp,
    #[error("`read_chunk` and `read_pause` are TCP faults: a datagram is read whole")]
    SlowReadOverUdp,
    /// A `send` fault of the other transport; the message names the fitting ones.
    #[error(
        "`{fault}` is a {} fault and this is a {transport} scenario{}",
        other(*transport),
        fitting(*transport)
    )]
    WrongFault {
        fault: &'static str,
        transport: Transport,
    },
    #[error("`{keyword}` comes before any connection: start with `{first}`")]
    BeforeConnection {
        keyword: &'static str,
        first: &'static str,
    },
    #[error("no connection is named `{on}`: name one with `connect: {{as: {on}}}` first")]
    NoSuchConnection { on: String },
}

impl StepError {
    /// A step is what the spec wrote.
    pub fn exit_code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// The transport whose fault was used in a scenario of `transport`.
fn other(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => "UDP",
        Transport::Udp => "TCP",
    }
}

/// What to use instead, in a scenario of `transport`.
fn fitting(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => {
            ": TCP is a byte stream; use `chunks`/`pause` to split a write, `close: {reset: true}` to abort"
        }
        Transport::Udp => {
            ": a datagram is sent whole; use `truncate`, `duplicate`, `delay` or `drop`"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_of_the_other_transport_names_the_fitting_ones() {
        let tcp = StepError::WrongFault {
            fault: "drop",
            transport: Transport::Tcp,
        };
        assert_eq!(
            tcp.to_string(),
            "`drop` is a UDP fault and this is a tcp scenario: TCP is a byte stream; use \
             `chunks`/`pause` to split a write, `close: {reset: true}` to abort"
        );
        let udp = StepError::WrongFault {
            fault: "chunks",
            transport: Transport::Udp,
        };
        assert_eq!(
            udp.to_string(),
            "`chunks` is a TCP fault and this is a udp scenario: a datagram is sent whole; use \
             `truncate`, `duplicate`, `delay` or `drop`"
        );
        assert_eq!(udp.exit_code(), crate::exit::USAGE);
    }
}
