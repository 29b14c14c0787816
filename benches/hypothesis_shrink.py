"""Hypothesis against the same servers as `cargo bench --bench shrink`, for comparison.

Usage: python3 benches/hypothesis_shrink.py SHAPE SEED

SHAPE is one of `eight-byte-buffer`, `wraps-at-2-31`, `splits-on-crlf`, `regex`. Starts the
shape's fixture on a free port, runs a Hypothesis test with the generator conform's spec
uses and the same exchange, and prints one JSON line: the calls made after the first
failing one (Hypothesis's shrinking; its final replay of the minimal example is not
counted), and the minimal example as hex. Prints `{"error": ...}` when Hypothesis is not
installed or found no failure.
"""
import json
import socket
import subprocess
import sys
import time

try:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
except ImportError:
    print(json.dumps({"error": "hypothesis is not installed"}))
    sys.exit(0)

SHAPE, SEED = sys.argv[1], int(sys.argv[2])
FIXTURES = {
    "eight-byte-buffer": "fixtures/python/udp_server_forever_8_byte_buffer.py",
    "wraps-at-2-31": "fixtures/python/tcp_server_incr_wraps_at_2_31.py",
    "splits-on-crlf": "fixtures/python/tcp_server_splits_on_crlf.py",
    "regex": "fixtures/python/tcp_server_splits_on_crlf.py",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
server = subprocess.Popen(
    [sys.executable, FIXTURES[SHAPE], str(PORT)],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)


def udp_reverse_fails(payload):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        s.sendto(payload, ("127.0.0.1", PORT))
        try:
            reply = s.recv(65535)
        except socket.timeout:
            return True
    return reply != payload[::-1]


class Resp:
    """One RESP connection, reading replies by their lengths."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=1)
        self.reader = self.sock.makefile("rb")

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def reply(self):
        line = self.reader.readline()
        if line.startswith(b"$") and line[1:-2].isdigit():
            return line + self.reader.read(int(line[1:-2]) + 2)
        return line

    def close(self):
        self.reader.close()
        self.sock.close()


def resp_fails(steps):
    conn = Resp()
    try:
        for args, expected in steps:
            conn.command(*args)
            if conn.reply() != expected:
                return True
        return False
    except OSError:
        return True
    finally:
        conn.close()


def counter_fails(start):
    text = b"%d" % start
    return resp_fails(
        [
            ((b"SET", b"counter", text), b"+OK\r\n"),
            ((b"INCR", b"counter"), b":%d\r\n" % (start + 1)),
            ((b"DECR", b"counter"), b":%s\r\n" % text),
        ]
    )


def value_fails(value, key=b"key"):
    return resp_fails(
        [
            ((b"SET", key, value), b"+OK\r\n"),
            ((b"GET", key), b"$%d\r\n%s\r\n" % (len(value), value)),
        ]
    )


SHAPES = {
    "eight-byte-buffer": (st.binary(max_size=1472), udp_reverse_fails),
    "wraps-at-2-31": (st.integers(0, 2**63 - 2), counter_fails),
    "splits-on-crlf": (st.binary(min_size=1001, max_size=2000), value_fails),
    "regex": (
        st.from_regex(rb"abc|x?", fullmatch=True),
        lambda w: value_fails(w + b"\r\n", b"line"),
    ),
}
strategy, fails = SHAPES[SHAPE]
calls = {"n": 0, "first": None, "last": None}


@settings(
    max_examples=1000,
    database=None,
    deadline=None,
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)
@seed(SEED)
@given(strategy)
def test(x):
    calls["n"] += 1
    calls["last"] = x
    failed = fails(x)
    if failed and calls["first"] is None:
        calls["first"] = calls["n"]
    assert not failed


def main():
    # Wait until the server answers (it binds within a few hundred milliseconds).
    for _ in range(100):
        try:
            if SHAPE == "eight-byte-buffer":
                udp_reverse_fails(b"\0" * 8)
            else:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        test()
    except AssertionError:
        pass
    finally:
        server.kill()
    if calls["first"] is None:
        print(json.dumps({"error": "no failure found"}))
        return
    last = calls["last"]
    minimal = last.to_bytes(8, "big").hex() if isinstance(last, int) else last.hex()
    # Calls after the first failure, less the final replay of the minimal example.
    print(json.dumps({"probes": calls["n"] - calls["first"] - 1, "minimal": minimal}))


main()
