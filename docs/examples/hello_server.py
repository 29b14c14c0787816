#!/usr/bin/env python3
"""The tutorial's example service: a line-based text protocol over TCP (docs/tutorial.md).

usage: python3 docs/examples/hello_server.py [--cut-names] PORT

Every request and every reply is one line ended by LF:

    HELLO <name>   ->  HI <name>
    LEN <text>     ->  the number of bytes in <text>, in decimal
    TICKET         ->  TICKET <n>, a new number each time
    CHECK <n>      ->  VALID if this server handed out ticket <n>, else INVALID
    QUIT           ->  BYE, and the server closes the connection
    anything else  ->  ERROR unknown command

It listens on 127.0.0.1:PORT and serves any number of clients, each on its own thread,
until it is stopped (and, as a safety net for test runs, exits by itself after 5 minutes).
With --cut-names it has a bug on purpose: it keeps only the first 16 bytes of a name, as a
program that copies names into a fixed buffer would.
"""
import signal
import socketserver
import sys
import threading

NAME_LIMIT = 16


class Tickets:
    """The numbers handed out so far, shared by every connection."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = set()
        self.next = 1000

    def new(self):
        with self.lock:
            self.next += 7
            self.issued.add(self.next)
            return self.next

    def valid(self, text):
        with self.lock:
            return text.isdigit() and int(text) in self.issued


def answer(line, cut_names, tickets):
    """The reply to one request line (without its LF), or None to close the connection."""
    command, _, argument = line.partition(b" ")
    if command == b"HELLO":
        name = argument[:NAME_LIMIT] if cut_names else argument
        return b"HI " + name
    if command == b"LEN":
        return str(len(argument)).encode()
    if line == b"TICKET":
        return b"TICKET %d" % tickets.new()
    if command == b"CHECK":
        return b"VALID" if tickets.valid(argument.decode("latin-1")) else b"INVALID"
    if line == b"QUIT":
        return None
    return b"ERROR unknown command"


def main():
    args = sys.argv[1:]
    cut_names = "--cut-names" in args
    args = [a for a in args if a != "--cut-names"]
    if len(args) != 1 or not args[0].isdigit():
        print("usage: hello_server.py [--cut-names] PORT", file=sys.stderr)
        sys.exit(2)
    signal.alarm(300)
    tickets = Tickets()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                reply = answer(line.rstrip(b"\n"), cut_names, tickets)
                if reply is None:
                    self.wfile.write(b"BYE\n")
                    return
                self.wfile.write(reply + b"\n")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", int(args[0])), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
