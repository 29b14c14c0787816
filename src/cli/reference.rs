//! `conform reference`: one of the guide's four programs, standalone, on a given port.

use std::net::{TcpListener, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use super::args::{Program, ReferenceArgs};
use super::{CliError, fail};
use crate::exit;
use crate::reference::{self, Serve, Shutdown};

pub(crate) fn reference_command(args: ReferenceArgs) -> i32 {
    let addr = match (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map(|mut a| a.next())
    {
        Ok(Some(addr)) => addr,
        _ => return fail(CliError::Host { host: args.host }),
    };
    let serve = if args.forever {
        Serve::Forever
    } else {
        Serve::Once
    };
    let stop = Shutdown::new();
    let mut out = std::io::stdout();
    let timeout: Duration = args.timeout.get();
    let result = match args.program {
        Program::TcpServer => {
            TcpListener::bind(addr).and_then(|l| reference::tcp_server(l, serve, &mut out, &stop))
        }
        Program::UdpServer => {
            UdpSocket::bind(addr).and_then(|s| reference::udp_server(s, serve, &mut out, &stop))
        }
        Program::TcpClient => reference::tcp_client(addr, &mut out, timeout),
        Program::UdpClient => reference::udp_client(addr, &mut out, timeout),
    };
    match result {
        Ok(()) => exit::PASS,
        Err(source) => fail(CliError::Reference { addr, source }),
    }
}
