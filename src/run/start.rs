//! Starting what a case runs against, and waiting until it is ready.
//!
//! In: the scenario's role and transport, a [`Target`], the options. Out: a running
//! [`Program`] with the address to talk to (server role) or conform's bound socket (client
//! role); a [`Failure`] when the program never became ready; a [`SetupError`] when conform
//! could not start it at all.
//!
//! Readiness is read from the kernel's socket tables: the guide's servers serve exactly one
//! client, so a probe connection or datagram would eat the scenario's.

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::time::Instant;

use super::SetupError;
use super::case::Target;
use super::options::RunOptions;
use crate::drive::process::{self, Spawn};
use crate::drive::program::{InProcess, Program};
use crate::drive::ready::{self, Proto, Ready};
use crate::drive::{port, template};
use crate::event::Failure;
use crate::reference::{self, Serve};
use crate::spec::{Role, Scenario, Transport};
use crate::verdict::Mismatch;

/// Attempts when the chosen port turns out to be taken by someone else.
const PORT_ATTEMPTS: usize = 3;

pub enum Started {
    Ready {
        program: Program,
        server: Option<SocketAddr>,
        listener: Option<TcpListener>,
        udp: Option<UdpSocket>,
    },
    NotReady {
        failure: Failure,
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
        (Role::Client, Target::Address(_)) => Err(SetupError::Other(
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
    let proto = match transport {
        Transport::Tcp => Proto::Tcp,
        Transport::Udp => Proto::Udp,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = port::pick(opts.ip).map_err(SetupError::Port)?;
        let (mut program, command) = spawn(words, opts.ip, port, opts)?;
        let Program::External { child, .. } = &mut program else {
            unreachable!("spawn returns an external program")
        };
        let deadline = Instant::now() + opts.ready_timeout;
        let pid = child.pid();
        let ready =
            ready::wait_ready(proto, port, || child.try_status(), deadline).map_err(|e| {
                SetupError::Other(format!("cannot read the kernel's socket tables: {e}"))
            })?;
        let addr = SocketAddr::new(opts.ip, port);
        let ready = match ready {
            // The tables are read by port: a program on [::1] is not ready for 127.0.0.1.
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
                // program's fault, try another port.
                if attempt < PORT_ATTEMPTS && ready::port_seen(port) {
                    program.stop(opts.grace);
                    continue;
                }
                Mismatch::new(format!(
                    "the program {exit} before listening on {proto} {addr}"
                ))
            }
            Ready::TimedOut => {
                let mut pids = vec![pid];
                pids.extend(ready::descendants(pid));
                let elsewhere: Vec<String> = ready::sockets_of(&pids)
                    .into_iter()
                    .map(|(p, a)| format!("{p} {a}"))
                    .collect();
                let m = Mismatch::new(format!(
                    "the program was not listening on {proto} {addr} after {}ms",
                    opts.ready_timeout.as_millis()
                ));
                if elsewhere.is_empty() {
                    m.hint("it opened no listening socket at all; does it use the port it was given ({port} / CONFORM_PORT)?")
                } else {
                    m.hint(format!(
                        "it is listening on {} instead",
                        elsewhere.join(", ")
                    ))
                }
            }
        };
        let report = program.stop(opts.grace);
        let _ = command;
        return Ok(Started::NotReady {
            failure: Failure {
                step: None,
                mismatches: vec![summary],
                program: report,
                generated: None,
                wire: None,
            },
        });
    }
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
        let bound = ready::bound_addrs(proto, addr.port()).unwrap_or_default();
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
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = port::pick(opts.ip).map_err(SetupError::Port)?;
        let addr = SocketAddr::new(opts.ip, port);
        // conform plays the server: it must be listening before the client starts.
        let bound = match transport {
            Transport::Tcp => TcpListener::bind(addr).map(|l| (Some(l), None)),
            Transport::Udp => UdpSocket::bind(addr).map(|s| (None, Some(s))),
        };
        let (listener, udp) = match bound {
            Ok(pair) => pair,
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
