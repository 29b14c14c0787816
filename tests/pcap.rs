//! `--pcap DIR`: capture files read back by tshark, the consumer they are for. The TCP
//! stream tshark reassembles and the UDP payloads it decodes must be, byte for byte, what
//! went over conform's sockets, over IPv4 and IPv6.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{conform, run_tool, stderr};

/// Longest a run here may take; the cases fail in milliseconds.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// tshark loads its dissectors at every start: seconds, not minutes.
const TSHARK_LIMIT: Duration = Duration::from_secs(120);

/// A TCP exchange with bytes both ways that the reference fails: conform says `ping`, the
/// reference greets and closes, and the spec then wants one more line.
const TCP_SPEC: &str = r#"
scenarios:
  - name: greeting then one line too many
    role: server
    transport: tcp
    steps:
      - connect
      - send: "ping\n"
      - expect: {line: "Hello World!"}
      - expect_eof
      - expect: {line: "more"}
"#;

/// A datagram and its reversal, with a wrong expectation so the case fails.
const UDP_SPEC: &str = r#"
scenarios:
  - name: reversal expected unreversed
    role: server
    transport: udp
    steps:
      - connect
      - send: {hex: "01 02 03 04 05 06 07 08"}
      - expect: {hex: "01 02 03 04 05 06 07 08"}
"#;

/// Runs `spec` against the reference with `--pcap`, and returns the one capture written.
fn capture(dir: &Path, spec: &str, ip: &str) -> PathBuf {
    let spec_path = dir.join("case.yaml");
    std::fs::write(&spec_path, spec).expect("write spec");
    let out = dir.join("pcap");
    let output = conform()
        .args(["run", "--ip", ip, "--pcap"])
        .arg(&out)
        .arg(&spec_path)
        .timeout(RUN_LIMIT)
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("the pcap directory exists")
        .map(|e| e.expect("dir entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].extension().is_some_and(|e| e == "pcap"),
        "{files:?}"
    );
    files[0].clone()
}

fn tshark(args: &[&str]) -> String {
    let output = run_tool("tshark", "tshark", args, TSHARK_LIMIT);
    assert!(
        output.status.success(),
        "tshark {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `follow,tcp,raw` prints the first sender's bytes at the margin and the other side's
/// indented by a tab: returns (first sender's stream, the other's), as hex.
fn follow_tcp(file: &Path) -> (String, String, Vec<String>) {
    let path = file.to_str().expect("UTF-8 path");
    let text = tshark(&["-r", path, "-q", "-z", "follow,tcp,raw,0"]);
    let (mut first, mut second, mut nodes) = (String::new(), String::new(), Vec::new());
    for line in text.lines() {
        if let Some(node) = line
            .strip_prefix("Node 0: ")
            .or(line.strip_prefix("Node 1: "))
        {
            nodes.push(node.trim().to_owned());
        } else if let Some(data) = line.strip_prefix('\t') {
            second.push_str(data.trim());
        } else if !line.is_empty() && line.chars().all(|c| c.is_ascii_hexdigit()) {
            first.push_str(line);
        }
    }
    (first, second, nodes)
}

fn tcp_stream_reassembles_byte_for_byte(ip: &str, loopback: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = capture(dir.path(), TCP_SPEC, ip);
    let (from_conform, from_reference, nodes) = follow_tcp(&file);
    assert_eq!(from_conform, hex(b"ping\n"));
    assert_eq!(from_reference, hex(b"Hello World!\n"));
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(nodes.iter().all(|n| n.starts_with(loopback)), "{nodes:?}");
    // The handshake opens the file and each side's FIN is in it; nothing is malformed.
    let path = file.to_str().expect("UTF-8 path");
    let flags = tshark(&["-r", path, "-T", "fields", "-e", "tcp.flags.str"]);
    let flags: Vec<&str> = flags.lines().map(str::trim).collect();
    assert_eq!(
        &flags[..3],
        ["··········S·", "·······A··S·", "·······A····"]
    );
    assert_eq!(
        flags.iter().filter(|f| f.ends_with('F')).count(),
        2,
        "{flags:?}"
    );
    let problems = tshark(&[
        "-r",
        path,
        "-Y",
        "_ws.malformed || _ws.expert.severity >= warning",
    ]);
    assert_eq!(problems.trim(), "", "tshark found problems");
}

#[test]
fn tcp_capture_reassembles_to_the_exchanged_bytes_over_ipv4() {
    tcp_stream_reassembles_byte_for_byte("4", "127.0.0.1:");
}

#[test]
fn tcp_capture_reassembles_to_the_exchanged_bytes_over_ipv6() {
    tcp_stream_reassembles_byte_for_byte("6", "[::1]:");
}

fn udp_payloads_are_the_datagrams(ip: &str, field: &str, loopback: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = capture(dir.path(), UDP_SPEC, ip);
    let path = file.to_str().expect("UTF-8 path");
    let text = tshark(&[
        "-r",
        path,
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        field,
        "-e",
        "udp.payload",
    ]);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(rows[0], [loopback, "0102030405060708"]);
    assert_eq!(rows[1], [loopback, "0807060504030201"]);
}

#[test]
fn udp_capture_has_each_datagram_as_sent_and_received_over_ipv4() {
    udp_payloads_are_the_datagrams("4", "ip.src", "127.0.0.1");
}

#[test]
fn udp_capture_has_each_datagram_as_sent_and_received_over_ipv6() {
    udp_payloads_are_the_datagrams("6", "ipv6.src", "::1");
}
