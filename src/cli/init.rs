//! `conform init FILE`: a commented starter spec for a server or a client over TCP or UDP,
//! whose first scenario passes against the built-in reference and which shows a plain-text
//! request/reply to uncomment.
//!
//! In: a file name, a role and a transport. Out: the new file (never one that exists).

use super::args::{InitArgs, RoleArg, TransportArg};
use super::hints::shell_quote;
use super::{CliError, fail, out};
use crate::exit;

/// The starter text for a role and a transport.
pub(crate) fn starter(role: RoleArg, transport: TransportArg) -> &'static str {
    match (role, transport) {
        (RoleArg::Server, TransportArg::Tcp) => include_str!("init/tcp-server.yaml"),
        (RoleArg::Client, TransportArg::Tcp) => include_str!("init/tcp-client.yaml"),
        (RoleArg::Server, TransportArg::Udp) => include_str!("init/udp-server.yaml"),
        (RoleArg::Client, TransportArg::Udp) => include_str!("init/udp-client.yaml"),
    }
}

pub(crate) fn init_command(args: &InitArgs) -> i32 {
    let path = &args.file;
    let shown = path.display();
    if let Err(source) = super::specs::write_new(path, starter(args.role, args.transport)) {
        let path = path.clone();
        return fail(match source.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::InitExists { path },
            _ => CliError::InitWrite { path, source },
        });
    }
    let (who, flag, program) = match args.role {
        RoleArg::Server => ("server", "--server", "./my-server {port}"),
        RoleArg::Client => ("client", "--client", "./my-client {port}"),
    };
    let transport = match args.transport {
        TransportArg::Tcp => "TCP",
        TransportArg::Udp => "UDP",
    };
    let file = shell_quote(&shown.to_string());
    out!("wrote {shown}: a spec for a {transport} {who}. Next:");
    out!("  conform check {file}");
    out!("  conform run {file}                  # against conform's own {who}");
    out!("  conform run {file} {flag} '{program}'");
    exit::PASS
}
