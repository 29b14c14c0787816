#!/usr/bin/env python3
"""specs/examples/redis-model.yaml written as a Hypothesis stateful test, to compare the two.

Usage: python3 benches/redis_model_machine.py PORT

The same job as the spec: a RuleBasedStateMachine plays GET, EXISTS, STRLEN, DEL, INCR, SET
and APPEND (values with CR, LF, NUL and 0xFF), SET of integers at the 32- and 64-bit edges,
SET of values around 1, 4, 16 and 64 KiB, and SET and GET in one write, against a Redis-like
server already listening on 127.0.0.1:PORT, and asserts that every reply is, byte for byte,
the one a model predicts: a dict from key to the bytes the server holds. The server lives on
across examples, so each example has keys of its own (a random prefix before a, b, c, aa, ...,
cc): what one example leaves behind, or a defect leaves wrong, never meets the next, and a
failing example fails the same way when Hypothesis replays it. Exits 0 when 200 examples of
up to 12 steps pass; otherwise Hypothesis prints the shrunk failing example and the script
exits 1.
"""
import contextlib
import re
import socket
import sys
import uuid

from hypothesis import settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

PORT = int(sys.argv[1])
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
OK = b"+OK\r\n"
NOT_INTEGER = b"-ERR value is not an integer or out of range\r\n"
OVERFLOW = b"-ERR increment or decrement would overflow\r\n"
ALL_KEYS = b"a b c aa ab ac ba bb bc ca cb cc".split()

KEYS = st.sampled_from(ALL_KEYS)
VALUES = st.lists(st.sampled_from(b"abc\r\n\x00\xff"), max_size=12).map(bytes)
NUMBERS = st.from_regex(
    rb"-?(0|1|21474836(4[5-9]|5[0-1])|42949672(9[4-9])|922337203685477580[5-9])|00|-0",
    fullmatch=True)


def around(size):
    """Values of size-6 to size+6 bytes: a short pattern repeated, because Hypothesis cannot
    draw more than a few KiB of bytes for one example."""
    return st.tuples(st.binary(min_size=1, max_size=32), st.integers(size - 6, size + 6)).map(
        lambda p: (p[0] * p[1])[:p[1]])


LONG_VALUES = st.one_of([around(n) for n in (1024, 4096, 16384, 65536)])


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def bulk(value):
    return b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)


def integer(n):
    return b":%d\r\n" % n


def redis_integer(value):
    """The value as Redis's INCR reads it: decimal, no leading zero or '+', no '-0', 64 bits."""
    if not re.fullmatch(rb"0|-?[1-9][0-9]*", value):
        return None
    n = int(value)
    return n if I64_MIN <= n <= I64_MAX else None


class RedisModel(RuleBasedStateMachine):
    # Keys that commands stored to, drawn again half the time, so that a GET asks for a key
    # a SET stored.
    stored = Bundle("stored")
    key = stored | KEYS

    def __init__(self):
        super().__init__()
        self.conn = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        self.buf = b""
        self.prefix = uuid.uuid4().hex[:8].encode() + b":"
        self.model = {}

    def teardown(self):
        # Tidy up on a real server; neither the reply nor a connection already lost matters.
        with contextlib.suppress(OSError):
            self.conn.sendall(command(b"DEL", *[self.prefix + k for k in ALL_KEYS]))
        self.conn.close()

    def on(self, name, key, *args):
        """The request `name key args...`, on this example's own copy of key."""
        return command(name, self.prefix + key, *args)

    def read_reply(self):
        """One simple string, error, integer or bulk string, as the bytes received."""
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                size = end + 2
                if self.buf.startswith(b"$") and int(self.buf[1:end]) >= 0:
                    size += int(self.buf[1:end]) + 2
                if len(self.buf) >= size:
                    reply, self.buf = self.buf[:size], self.buf[size:]
                    return reply
            chunk = self.conn.recv(65536)
            if not chunk:
                reply, self.buf = self.buf, b""
                return reply
            self.buf += chunk

    def play(self, request, *replies):
        """Sends request and asserts the replies that follow, in order."""
        self.conn.sendall(request)
        for expected in replies:
            got = self.read_reply()
            assert got == expected, f"{request[:80]!r}: expected {expected!r}, got {got[:80]!r}"

    @rule(key=key)
    def get(self, key):
        self.play(self.on(b"GET", key), bulk(self.model.get(key)))

    @rule(key=key)
    def exists(self, key):
        self.play(self.on(b"EXISTS", key), integer(int(key in self.model)))

    @rule(key=key)
    def strlen(self, key):
        self.play(self.on(b"STRLEN", key), integer(len(self.model.get(key, b""))))

    @rule(key=key)
    def delete(self, key):
        self.play(self.on(b"DEL", key), integer(int(key in self.model)))
        self.model.pop(key, None)

    @rule(target=stored, key=key)
    def incr(self, key):
        n = redis_integer(self.model.get(key, b"0"))
        if n is None:
            self.play(self.on(b"INCR", key), NOT_INTEGER)
        elif n == I64_MAX:
            self.play(self.on(b"INCR", key), OVERFLOW)
        else:
            self.play(self.on(b"INCR", key), integer(n + 1))
            self.model[key] = b"%d" % (n + 1)
        return key

    @rule(target=stored, key=key, value=VALUES)
    def set(self, key, value):
        return self.store(key, value)

    @rule(target=stored, key=key, value=NUMBERS)
    def set_number(self, key, value):
        return self.store(key, value)

    @rule(target=stored, key=key, value=LONG_VALUES)
    def set_long(self, key, value):
        return self.store(key, value)

    def store(self, key, value):
        self.play(self.on(b"SET", key, value), OK)
        self.model[key] = value
        return key

    @rule(target=stored, key=key, value=VALUES)
    def append(self, key, value):
        self.model[key] = self.model.get(key, b"") + value
        self.play(self.on(b"APPEND", key, value), integer(len(self.model[key])))
        return key

    @rule(target=stored, key=key, value=VALUES)
    def set_get_in_one_write(self, key, value):
        # EXISTS goes after SET's reply: a server that serves only the first command of a
        # read answers EXISTS where GET's reply belongs, which shows at once, not at a timeout.
        self.play(self.on(b"SET", key, value) + self.on(b"GET", key), OK)
        self.play(self.on(b"EXISTS", key), bulk(value), integer(1))
        self.model[key] = value
        return key


run_state_machine_as_test(RedisModel, settings=settings(
    max_examples=200, stateful_step_count=12, deadline=None, database=None))
print("200 examples passed")
