#!/usr/bin/env python3
"""The Redis session hunt written as a Hypothesis stateful test, for `cargo bench --bench session`.

Usage: python3 benches/redis_machine.py DEFECT SEED

The same job as specs/examples/redis-session.yaml: a RuleBasedStateMachine plays SET, GET,
DEL, EXISTS, INCR, APPEND, STRLEN (values with CR LF, NUL and 0xFF, lengths around buffer
sizes, integers at the 32- and 64-bit edges, SET and GET in one write) against the clone
(fixtures/python/mini_redis.py --defect DEFECT) and against redis-server, and asserts that
every reply is the same. Both servers are started afresh for every example, as conform
starts them for every session. Prints one JSON line: the seconds to the first failing
example, the whole run's seconds, and the steps of the shrunk example.
"""
import json
import os
import socket
import subprocess
import sys
import time

from hypothesis import HealthCheck, settings, seed, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, rule,
                                 run_state_machine_as_test)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFECT, SEED = sys.argv[1], int(sys.argv[2])
FIRST_FAILURE = None
LAST_STEPS = []
STEPS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, port):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.001)
    proc.kill()
    raise RuntimeError("server did not start")


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(conn, buf):
    """One RESP reply from conn, with what was left over."""
    while True:
        end = resp_end(buf, 0)
        if end is not None:
            return buf[:end], buf[end:]
        chunk = conn.recv(65536)
        if not chunk:
            return buf, b""
        buf += chunk


def resp_end(buf, at):
    line = buf.find(b"\r\n", at)
    if line < 0:
        return None
    kind, header = buf[at:at + 1], buf[at + 1:line]
    if kind in (b"+", b"-", b":"):
        return line + 2
    if kind == b"$":
        n = int(header)
        return line + 2 if n < 0 else (line + 4 + n if len(buf) >= line + 4 + n else None)
    if kind == b"*":
        nxt = line + 2
        for _ in range(max(int(header), 0)):
            nxt = resp_end(buf, nxt)
            if nxt is None:
                return None
        return nxt
    return len(buf)


KEYS = st.text(alphabet="abc", min_size=1, max_size=2).map(str.encode)
VALUES = st.binary(max_size=12).map(lambda b: bytes(x % 5 for x in b).translate(bytes.maketrans(b"\x00\x01\x02\x03\x04", b"a\r\n\x00\xff")))
NUMBERS = st.from_regex(rb"\A-?(0|1|21474836(4[5-9]|5[0-1])|42949672(9[4-9])|922337203685477580[5-9])\Z|\A00\Z|\A-0\Z")
LONG = st.sampled_from([1024, 4096, 16384, 65536]).flatmap(
    lambda n: st.integers(n - 6, n + 6).map(lambda m: b"v" * m))


class Session(RuleBasedStateMachine):
    keys = Bundle("keys")

    def __init__(self):
        super().__init__()
        STEPS.clear()
        self.procs, self.conns, self.bufs = [], [], []
        for argv in (["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                     [sys.executable, os.path.join(ROOT, "fixtures/python/mini_redis.py"), "{port}", "--defect", DEFECT]):
            port = free_port()
            proc, conn = start([a.replace("{port}", str(port)) for a in argv], port)
            self.procs.append(proc)
            self.conns.append(conn)
            self.bufs.append(b"")

    def teardown(self):
        for c in self.conns:
            c.close()
        for p in self.procs:
            p.kill()
            p.wait()

    def ask(self, data, replies=1, new_command=True):
        if new_command:
            STEPS.append(data)
        for c in self.conns:
            c.sendall(data)
        for _ in range(replies):
            got = []
            for i, c in enumerate(self.conns):
                reply, self.bufs[i] = read_reply(c, self.bufs[i])
                got.append(reply)
            if got[0] != got[1]:
                global FIRST_FAILURE, LAST_STEPS
                if FIRST_FAILURE is None:
                    FIRST_FAILURE = time.perf_counter()
                LAST_STEPS = list(STEPS)
            assert got[0] == got[1], got

    @initialize()
    def connect(self):
        pass

    @rule(target=keys, key=KEYS)
    def fresh_key(self, key):
        return key

    @rule(key=keys)
    def get(self, key):
        self.ask(command(b"GET", key))

    @rule(key=keys)
    def exists(self, key):
        self.ask(command(b"EXISTS", key))

    @rule(key=keys)
    def strlen(self, key):
        self.ask(command(b"STRLEN", key))

    @rule(key=keys)
    def delete(self, key):
        self.ask(command(b"DEL", key))

    @rule(key=keys)
    def incr(self, key):
        self.ask(command(b"INCR", key))

    @rule(key=keys, value=VALUES)
    def set(self, key, value):
        self.ask(command(b"SET", key, value))

    @rule(key=keys, value=VALUES)
    def append(self, key, value):
        self.ask(command(b"APPEND", key, value))

    @rule(key=keys, number=NUMBERS)
    def set_number(self, key, number):
        self.ask(command(b"SET", key, number))

    @rule(key=keys, value=LONG)
    def set_long(self, key, value):
        self.ask(command(b"SET", key, value))

    @rule(key=keys, value=VALUES)
    def set_get_in_one_write(self, key, value):
        self.ask(command(b"SET", key, value) + command(b"GET", key), replies=1)
        self.ask(command(b"EXISTS", key), replies=2, new_command=False)


SETTINGS = settings(
    max_examples=200, stateful_step_count=12, deadline=None, database=None,
    suppress_health_check=list(HealthCheck), print_blob=False)

started = time.perf_counter()
failed = False
try:
    run_state_machine_as_test(seed(SEED)(Session), settings=SETTINGS)
except AssertionError:
    failed = True
ended = time.perf_counter()
print(json.dumps({
    "defect": DEFECT,
    "found": failed,
    "first_failure_s": None if FIRST_FAILURE is None else FIRST_FAILURE - started,
    "total_s": ended - started,
    "shrunk_commands": len(LAST_STEPS) if failed else None,
}))
