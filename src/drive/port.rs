//! Picking a port for a program under test: an IP address comes in; a port that is free there
//! for both TCP and UDP goes out. With a fixed port (`--port`), a port comes in and conform
//! waits, bounded, until nothing listens there, or says who holds it.
//!
//! Ports come from outside the kernel's ephemeral range, so an outgoing connection of some
//! other program can't grab one between the pick and the program's own bind, and at random, so
//! parallel conform runs rarely collide. A port handed out is not handed out again by this
//! process for a long while, since the program it went to may not have bound it yet.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::os::sockets::{self, Proto};

const ATTEMPTS: usize = 200;

/// How many recently handed-out ports are remembered and never repeated.
const REMEMBERED: usize = 4096;

/// The lowest port picked: below it sit many well-known services.
const LOWEST: u16 = 20000;

/// The kernel's default, used when `/proc` can't tell.
const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// Returns a port free for both TCP and UDP on `ip`, never one this process returned recently.
pub fn pick(ip: IpAddr) -> io::Result<u16> {
    let ranges = candidate_ranges(ephemeral_range());
    let mut rng = XorShift::seeded();
    for _ in 0..ATTEMPTS {
        let port = choose(&ranges, rng.next());
        if !claim(port) {
            continue;
        }
        match check_free(ip, port) {
            Ok(()) => return Ok(port),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => release(port),
            Err(e) => {
                release(port);
                // Any other failure (address not on this machine, no IPv6...) won't go away
                // by trying another port.
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot bind to {ip} to pick a port: {e}"),
                ));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free port on {ip} after {ATTEMPTS} attempts"),
    ))
}

/// Binds and immediately drops both sockets: neither connects, so nothing lingers in
/// TIME_WAIT to block the program's own bind. A port that still has connections in any state
/// (TIME_WAIT from an earlier run, say) counts as taken too: Rust's listener binds with
/// SO_REUSEADDR and would succeed, but a program that binds without it would fail.
fn check_free(ip: IpAddr, port: u16) -> io::Result<()> {
    let addr = SocketAddr::new(ip, port);
    drop(TcpListener::bind(addr)?);
    drop(UdpSocket::bind(addr)?);
    bind_without_reuse(addr)
}

/// Binds a TCP socket the way a plain program does, without SO_REUSEADDR, and closes it:
/// fails with `AddrInUse` while connections on the port linger (TIME_WAIT). Asking the kernel
/// is far cheaper than reading /proc/net/tcp, which walks the whole connection table.
fn bind_without_reuse(addr: SocketAddr) -> io::Result<()> {
    let (family, storage, len) = sockaddr(addr);
    // SAFETY: plain socket calls on a descriptor this function owns and closes; `storage`
    // outlives the bind call and `len` is the size of the address written into it.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let rc = libc::bind(fd, (&raw const storage).cast(), len);
        let result = if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        };
        libc::close(fd);
        result
    }
}

fn sockaddr(addr: SocketAddr) -> (libc::c_int, libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            (
                libc::AF_INET,
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            (
                libc::AF_INET6,
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

/// How long a case waits for a fixed port to be free. The previous case's program is stopped
/// and reaped before the next starts, so its sockets are already gone; waiting longer than this
/// means something else holds the port.
pub const FIXED_PORT_WAIT: Duration = Duration::from_secs(3);

/// A fixed port that something other than conform's programs holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortHeld {
    pub proto: Proto,
    pub port: u16,
    /// Pid and command line of each process seen holding it; empty when none can be seen.
    pub holders: Vec<(u32, String)>,
}

impl fmt::Display for PortHeld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            proto,
            port,
            holders,
        } = self;
        write!(f, "--port {port}: {proto} port {port} is in use ")?;
        if holders.is_empty() {
            write!(
                f,
                "by a process conform cannot see (another user's, or outside this container)"
            )?;
        } else {
            let named: Vec<String> = holders
                .iter()
                .map(|(pid, command)| format!("pid {pid} (`{command}`)"))
                .collect();
            write!(f, "by {}", named.join(", "))?;
        }
        write!(
            f,
            ", which conform did not start; stop it, or run with another --port"
        )
    }
}

impl std::error::Error for PortHeld {}

/// Waits until no listening TCP socket (or UDP socket) uses `port` on any address, polling
/// the socket table; after `deadline`, says who holds it.
pub fn wait_free(proto: Proto, port: u16, deadline: Instant) -> Result<(), PortHeld> {
    let source = sockets::source();
    let mut pause = Duration::from_millis(1);
    loop {
        // An unreadable table is no reason to refuse: the program's own bind will tell.
        if !sockets::is_bound(source, proto, port).unwrap_or(false) {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(held(proto, port));
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Who holds `port` now, as far as conform can see.
pub fn held(proto: Proto, port: u16) -> PortHeld {
    PortHeld {
        proto,
        port,
        holders: sockets::holders(proto, port),
    }
}

fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| parse_range(&text))
        .unwrap_or(DEFAULT_EPHEMERAL)
}

fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut fields = text.split_whitespace().map(str::parse::<u16>);
    let low = fields.next()?.ok()?;
    let high = fields.next()?.ok()?;
    (low <= high).then_some((low, high))
}

/// Inclusive ranges to pick from: `LOWEST..=65535` minus the ephemeral range. Should that leave
/// too little, fall back to all unprivileged ports minus it, then to all unprivileged ports.
fn candidate_ranges((low, high): (u16, u16)) -> Vec<(u16, u16)> {
    for floor in [LOWEST, 1024] {
        let ranges = outside(floor, low, high);
        if size(&ranges) >= 1000 {
            return ranges;
        }
    }
    vec![(1024, u16::MAX)]
}

fn outside(floor: u16, low: u16, high: u16) -> Vec<(u16, u16)> {
    let mut ranges = Vec::new();
    if low > floor {
        ranges.push((floor, low - 1));
    }
    if high < u16::MAX {
        ranges.push((high.max(floor - 1) + 1, u16::MAX));
    }
    ranges
}

fn size(ranges: &[(u16, u16)]) -> u64 {
    ranges
        .iter()
        .map(|&(a, b)| u64::from(b) - u64::from(a) + 1)
        .sum()
}

/// Maps a random number onto the ranges uniformly.
fn choose(ranges: &[(u16, u16)], random: u64) -> u16 {
    let mut index = random % size(ranges).max(1);
    for &(a, b) in ranges {
        let width = u64::from(b) - u64::from(a) + 1;
        if index < width {
            return a + u16::try_from(index).unwrap_or(0);
        }
        index -= width;
    }
    LOWEST
}

/// Ports handed out recently, in order (to forget the oldest) and as a set (to look up).
struct Recent {
    order: VecDeque<u16>,
    set: HashSet<u16>,
}

static RECENT: Mutex<Option<Recent>> = Mutex::new(None);

fn recent() -> MutexGuard<'static, Option<Recent>> {
    RECENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reserves `port` for this caller; false if it was handed out recently.
fn claim(port: u16) -> bool {
    let mut guard = recent();
    let recent = guard.get_or_insert_with(|| Recent {
        order: VecDeque::new(),
        set: HashSet::new(),
    });
    if !recent.set.insert(port) {
        return false;
    }
    recent.order.push_back(port);
    if recent.order.len() > REMEMBERED
        && let Some(oldest) = recent.order.pop_front()
    {
        recent.set.remove(&oldest);
    }
    true
}

/// Undoes a claim for a port that turned out to be busy, so it may be tried again later.
fn release(port: u16) {
    if let Some(recent) = recent().as_mut()
        && recent.set.remove(&port)
    {
        recent.order.retain(|&p| p != port);
    }
}

/// A tiny xorshift generator; picking ports needs spread, not cryptographic strength.
struct XorShift(u64);

impl XorShift {
    /// Seeded from the clock, the pid and a counter, so two calls in the same nanosecond or
    /// two processes started together still differ.
    fn seeded() -> Self {
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let seed = nanos
            ^ (u64::from(std::process::id()) << 32)
            ^ call.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self(splitmix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Spreads nearby seeds (consecutive nanoseconds) far apart before xorshift sees them.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn a_port_with_a_connection_in_time_wait_is_not_free() {
        use std::net::{TcpListener, TcpStream};
        // The side that closes first keeps the connection in TIME_WAIT: here the listener's.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(server);
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(client);
        drop(listener);
        // Binding works (SO_REUSEADDR), yet a program binding without it would fail.
        let err = check_free(LOOPBACK, port).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    }

    #[test]
    fn a_free_fixed_port_is_free_at_once() {
        let port = pick(LOOPBACK).expect("a free port");
        // A deadline already past: the port must be found free on the first look.
        assert_eq!(wait_free(Proto::Tcp, port, Instant::now()), Ok(()));
    }

    #[test]
    fn a_held_fixed_port_names_this_process_as_its_holder() {
        let listener = TcpListener::bind((LOOPBACK, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = wait_free(Proto::Tcp, port, Instant::now()).unwrap_err();
        assert_eq!((held.proto, held.port), (Proto::Tcp, port));
        let own = std::process::id();
        assert!(held.holders.iter().any(|(pid, _)| *pid == own), "{held}");
        let text = held.to_string();
        assert!(text.contains(&format!("pid {own} (`")), "{text}");
        assert!(text.contains("another --port"), "{text}");
    }

    #[test]
    fn an_invisible_holder_is_said_to_be_invisible() {
        let held = PortHeld {
            proto: Proto::Udp,
            port: 9,
            holders: Vec::new(),
        };
        assert!(held.to_string().contains("cannot see"), "{held}");
    }

    #[test]
    fn hundred_picks_are_all_distinct() {
        let ports: Vec<u16> = (0..100)
            .map(|_| pick(LOOPBACK).expect("a free port"))
            .collect();
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    #[test]
    fn picked_port_is_bindable_for_tcp_and_udp() {
        let port = pick(LOOPBACK).expect("a free port");
        let tcp = TcpListener::bind((LOOPBACK, port));
        let udp = UdpSocket::bind((LOOPBACK, port));
        assert!(tcp.is_ok() && udp.is_ok(), "port {port} was not free");
    }

    #[test]
    fn picked_port_is_outside_the_ephemeral_range() {
        let (low, high) = ephemeral_range();
        let port = pick(LOOPBACK).expect("a free port");
        assert!(!(low..=high).contains(&port), "{port} is ephemeral");
    }

    #[test]
    fn ipv6_loopback_gets_a_port_when_available() {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        if TcpListener::bind((v6, 0)).is_err() {
            eprintln!("skipping: ::1 is not available on this machine");
            return;
        }
        let port = pick(v6).expect("a free port");
        assert!(TcpListener::bind((v6, port)).is_ok());
    }

    #[test]
    fn unusable_address_fails_at_once_with_the_address_named() {
        // TEST-NET-1 is never assigned to a local interface.
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let error = pick(ip).expect_err("cannot bind there");
        assert!(error.to_string().contains("192.0.2.1"), "{error}");
    }

    #[rstest]
    #[case::linux_default((32768, 60999), vec![(20000, 32767), (61000, 65535)])]
    #[case::range_starting_low((10000, 65535), vec![(1024, 9999)])]
    #[case::range_ending_low((1024, 20000), vec![(20001, 65535)])]
    #[case::everything_ephemeral((1024, 65535), vec![(1024, 65535)])]
    fn candidates_avoid_the_ephemeral_range(
        #[case] ephemeral: (u16, u16),
        #[case] expected: Vec<(u16, u16)>,
    ) {
        assert_eq!(candidate_ranges(ephemeral), expected);
    }

    #[rstest]
    #[case::tabs("32768\t60999\n", Some((32768, 60999)))]
    #[case::reversed("5 4", None)]
    #[case::garbage("x y", None)]
    fn ephemeral_range_file_is_parsed(#[case] text: &str, #[case] expected: Option<(u16, u16)>) {
        assert_eq!(parse_range(text), expected);
    }

    #[test]
    fn choose_covers_both_ends_of_every_range() {
        let ranges = [(10, 11), (20, 20)];
        let picked: Vec<u16> = (0..3).map(|i| choose(&ranges, i)).collect();
        assert_eq!(picked, vec![10, 11, 20]);
        assert_eq!(choose(&ranges, 3), 10);
    }

    #[test]
    fn a_claimed_port_is_not_claimed_again_until_released() {
        let port = 1;
        assert!(claim(port));
        assert!(!claim(port));
        release(port);
        assert!(claim(port));
        release(port);
    }
}
