//! Starting what a case runs against, and waiting until it is ready.
//!
//! In: the scenario's role and transport, a [`Target`], the options. Out: a running
//! [`Program`] with the address to talk to (server role) or conform's bound socket (client
//! role); a [`Failure`] when the program never became ready; a [`SetupError`] when conform
//! could not start it at all.
//!
//! Readiness is read from the kernel's socket table: the guide's servers serve exactly one
//! client, so a probe connection or datagram would eat the scenario's. With `--port` every
//! program gets that one port, and each case first waits (bounded) until nothing holds it.

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::time::Instant;

use super::SetupError;
use super::options::RunOptions;
use crate::drive::process::{self, Spawn};
use crate::drive::program::{InProcess, Program};
use crate::drive::ready::{self, Proto, Ready, Watch};
use crate::drive::{port, template};
use crate::event::Failure;
use crate::os::sockets;
use crate::plan::Target;
use crate::reference::{self, Serve};
use crate::spec::{Role, Scenario, Transport};
use crate::verdict::Mismatch;

/// Attempts when the chosen port turns out to be taken by someone else.
const PORT_ATTEMPTS: usize = 3;

// A `Started` is made once per case and taken apart at once: boxing its larger variant would
// only add an allocation to every restart.
#[allow(clippy::large_enum_variant)]
pub enum Started {
    Ready {
        program: Program,
        server: Option<SocketAddr>,
        listener: Option<TcpListener>,
        udp: Option<UdpSocket>,
    },
    NotReady {
        failure: Box<Failure>,
    },
}

pub fn start(
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
) -> Result<Started, SetupError> {
    match (scenario.role, target) {
        (Role::Server, Target::Reference) => reference_server(scenario.transport, opts.ip),
        (Role::Server, Target::Address(addr)) => Ok(Started::Ready {
            program: Program::Absent,
            server: Some(*addr),
            listener: None,
            udp: None,
        }),
        (Role::Server, Target::Program(words)) => external_server(scenario.transport, words, opts),
        (Role::Client, Target::Reference) => reference_client(scenario.transport, opts),
        (Role::Client, Target::Program(words)) => external_client(scenario.transport, words, opts),
        (Role::Client, Target::Address(_)) => Err(SetupError::Target(
            "--connect names a server; a client scenario needs --client".into(),
        )),
    }
}

fn bind_error(addr: SocketAddr, e: std::io::Error) -> SetupError {
    SetupError::Bind { addr, source: e }
}

fn reference_server(transport: Transport, ip: IpAddr) -> Result<Started, SetupError> {
    let any = SocketAddr::new(ip, 0);
    // The reference is a careful server: it keeps serving until the case is over.
    let (program, server) = match transport {
        Transport::Tcp => {
            let listener = TcpListener::bind(any).map_err(|e| bind_error(any, e))?;
            let addr = listener.local_addr().map_err(|e| bind_error(any, e))?;
            let program = InProcess::start(move |out, stop| {
                reference::tcp_server(listener, Serve::Forever, out, stop)
            });
            (program, addr)
        }
        Transport::Udp => {
            let socket = UdpSocket::bind(any).map_err(|e| bind_error(any, e))?;
            let addr = socket.local_addr().map_err(|e| bind_error(any, e))?;
            let program = InProcess::start(move |out, stop| {
                reference::udp_server(socket, Serve::Forever, out, stop)
            });
            (program, addr)
        }
    };
    Ok(Started::Ready {
        program: Program::InProcess(program),
        server: Some(server),
        listener: None,
        udp: None,
    })
}

fn reference_client(transport: Transport, opts: &RunOptions) -> Result<Started, SetupError> {
    let any = SocketAddr::new(opts.ip, 0);
    let timeout = opts.timeout;
    match transport {
        Transport::Tcp => {
            let listener = TcpListener::bind(any).map_err(|e| bind_error(any, e))?;
            let addr = listener.local_addr().map_err(|e| bind_error(any, e))?;
            let program = InProcess::start(move |out, _| reference::tcp_client(addr, out, timeout));
            Ok(Started::Ready {
                program: Program::InProcess(program),
                server: None,
                listener: Some(listener),
                udp: None,
            })
        }
        Transport::Udp => {
            let socket = UdpSocket::bind(any).map_err(|e| bind_error(any, e))?;
            let addr = socket.local_addr().map_err(|e| bind_error(any, e))?;
            let program = InProcess::start(move |out, _| reference::udp_client(addr, out, timeout));
            Ok(Started::Ready {
                program: Program::InProcess(program),
                server: None,
                listener: None,
                udp: Some(socket),
            })
        }
    }
}

fn spawn(
    words: &[String],
    ip: IpAddr,
    port: u16,
    opts: &RunOptions,
) -> Result<(Program, String), SetupError> {
    let host = ip.to_string();
    let argv = template::expand(words, &host, port);
    let command = argv.join(" ");
    let child = process::spawn(&Spawn {
        argv,
        env: vec![
            ("CONFORM_PORT".into(), port.to_string()),
            ("CONFORM_HOST".into(), host),
        ],
        capture_limit: opts.capture_limit,
    })
    .map_err(SetupError::Spawn)?;
    Ok((
        Program::External {
            child,
            command: command.clone(),
        },
        command,
    ))
}

fn external_server(
    transport: Transport,
    words: &[String],
    opts: &RunOptions,
) -> Result<Started, SetupError> {
    let proto = proto_of(transport);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = port_for(proto, opts)?;
        let (mut program, _) = spawn(words, opts.ip, port, opts)?;
        let Program::External { child, .. } = &mut program else {
            unreachable!("spawn returns an external program")
        };
        let deadline = Instant::now() + opts.ready_timeout;
        let pid = child.pid();
        let watch = Watch {
            source: sockets::source(),
            proto,
            port,
            pid: Some(pid),
            deadline,
        };
        let ready =
            ready::wait_ready(&watch, || child.try_status()).map_err(SetupError::SocketTable)?;
        let addr = SocketAddr::new(opts.ip, port);
        let ready = match ready {
            // The table is read by port: a program on [::1] is not ready for 127.0.0.1.
            Ready::Yes => wait_for_family(proto, addr, deadline, || child.try_status()),
            other => other,
        };
        let summary = match ready {
            Ready::Yes => {
                return Ok(Started::Ready {
                    program,
                    server: Some(addr),
                    listener: None,
                    udp: None,
                });
            }
            Ready::Exited(exit) => {
                // Someone else took the port between our check and the program's bind, or
                // left connections on it that a bind without SO_REUSEADDR trips over: not the
                // program's fault, try another port (a fixed port has no other to try).
                let lingering = sockets::port_seen(port);
                if opts.port.is_none() && attempt < PORT_ATTEMPTS && lingering {
                    program.stop(opts.grace);
                    continue;
                }
                let m = Mismatch::new(format!(
                    "the program {exit} before listening on {proto} {addr}"
                ));
                if opts.port.is_some() && lingering {
                    m.hint(format!(
                        "port {port} still has connections from an earlier case (TIME_WAIT); a \
                         program that binds without SO_REUSEADDR cannot use it until they end, \
                         up to a minute later"
                    ))
                } else {
                    m
                }
            }
            Ready::Elsewhere(found) => elsewhere(proto, addr, &found, words, opts),
            Ready::TimedOut => not_listening(proto, addr, pid, words, opts),
        };
        let report = program.stop(opts.grace);
        return Ok(Started::NotReady {
            failure: Box::new(Failure {
                step: None,
                mismatches: vec![summary],
                program: report,
                generated: None,
                wire: None,
            }),
        });
    }
}

/// Why a program that is still running is not ready: where it listens instead, if anywhere.
fn not_listening(
    proto: Proto,
    addr: SocketAddr,
    pid: u32,
    words: &[String],
    opts: &RunOptions,
) -> Mismatch {
    let port = addr.port();
    let mut pids = vec![pid];
    pids.extend(crate::os::proctable::descendants(pid));
    let listening: Vec<SocketAddr> = sockets::sockets_of(sockets::source(), &pids, Some(proto))
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let m = Mismatch::new(format!(
        "the program was not listening on {proto} {addr} after {}ms",
        opts.ready_timeout.as_millis()
    ));
    if listening.is_empty() {
        m.hint(
            "it opened no listening socket at all; does it use the port it was \
             given ({port} / CONFORM_PORT)?",
        )
    } else {
        let places: Vec<String> = listening.iter().map(|a| format!("{proto} {a}")).collect();
        // On its port but another address (say [::1] in an IPv4 run), the port
        // fixes do not apply.
        let fix = if listening.iter().all(|a| a.port() == port) {
            None
        } else {
            elsewhere(proto, addr, &listening, words, opts).hint
        };
        m.hint(format!(
            "it is listening on {} instead{}",
            places.join(", "),
            fix.map_or(String::new(), |fix| format!(". {fix}"))
        ))
    }
}

fn proto_of(transport: Transport) -> Proto {
    match transport {
        Transport::Tcp => Proto::Tcp,
        Transport::Udp => Proto::Udp,
    }
}

/// The port for the next program: `--port` once nothing holds it, else a fresh free one.
fn port_for(proto: Proto, opts: &RunOptions) -> Result<u16, SetupError> {
    match opts.port {
        Some(fixed) => {
            port::wait_free(proto, fixed, Instant::now() + port::FIXED_PORT_WAIT)
                .map_err(SetupError::PortHeld)?;
            Ok(fixed)
        }
        None => port::pick(opts.ip).map_err(SetupError::Port),
    }
}

/// The failure of a program that listens, but not on the port it was given: where it listens,
/// why that likely is, and the two ways to fix it.
fn elsewhere(
    proto: Proto,
    addr: SocketAddr,
    found: &[SocketAddr],
    words: &[String],
    opts: &RunOptions,
) -> Mismatch {
    let listed: Vec<String> = found.iter().map(|a| format!("{proto} {a}")).collect();
    let own = found.first().map_or(addr.port(), SocketAddr::port);
    let summary = format!(
        "the program is listening on {} instead of {proto} {addr}, the port conform gave it",
        listed.join(", ")
    );
    let why = if template::passes_port(words) {
        String::new()
    } else {
        "the command has no {port} or {hostport}, so unless the program reads CONFORM_PORT it \
         cannot know the port conform chose and likely uses a fixed port of its own. "
            .to_string()
    };
    let fix = if opts.port.is_some() {
        format!(
            "{why}Either make it listen on the port it is given ({{port}} in the command, or \
             CONFORM_PORT), or run with --port {own}"
        )
    } else {
        format!(
            "{why}Either pass it the port conform chooses ({{port}} in the command, or read \
             CONFORM_PORT), or run with --port {own} to use its own port"
        )
    };
    Mismatch::new(summary).hint(fix)
}

/// Whether a socket bound to `bound` accepts traffic for `wanted`: the same address, the
/// wildcard of its family, or the IPv6 wildcard (dual-stack unless the program said otherwise).
fn reaches(bound: SocketAddr, wanted: SocketAddr) -> bool {
    bound.ip() == wanted.ip()
        || bound.ip().is_unspecified() && (bound.is_ipv6() || wanted.is_ipv4())
}

/// After the port shows up in the tables, waits until a socket that serves `addr`'s family
/// does (a program may bind one family after the other), the program exits, or the deadline.
fn wait_for_family(
    proto: Proto,
    addr: SocketAddr,
    deadline: Instant,
    mut exited: impl FnMut() -> Option<process::Exit>,
) -> Ready {
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        let bound = sockets::bound_addrs(proto, addr.port()).unwrap_or_default();
        if bound.is_empty() || bound.iter().any(|b| reaches(*b, addr)) {
            return Ready::Yes;
        }
        if let Some(exit) = exited() {
            return Ready::Exited(exit);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ready::TimedOut;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(std::time::Duration::from_millis(25));
    }
}

fn external_client(
    transport: Transport,
    words: &[String],
    opts: &RunOptions,
) -> Result<Started, SetupError> {
    let proto = proto_of(transport);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = port_for(proto, opts)?;
        let addr = SocketAddr::new(opts.ip, port);
        // conform plays the server: it must be listening before the client starts.
        let bound = match transport {
            Transport::Tcp => TcpListener::bind(addr).map(|l| (Some(l), None)),
            Transport::Udp => UdpSocket::bind(addr).map(|s| (None, Some(s))),
        };
        let (listener, udp) = match bound {
            Ok(pair) => pair,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && opts.port.is_some() => {
                // Taken between the check and our bind: name whoever holds it now.
                return Err(SetupError::PortHeld(port::held(proto, port)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < PORT_ATTEMPTS => {
                continue;
            }
            Err(e) => return Err(bind_error(addr, e)),
        };
        let (program, _) = spawn(words, opts.ip, port, opts)?;
        return Ok(Started::Ready {
            program,
            server: None,
            listener,
            udp,
        });
    }
}
