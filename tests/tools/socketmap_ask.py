#!/usr/bin/env python3
"""Asks a socketmap server (Postfix's protocol: netstrings "LEN:NAME KEY,") what Postfix's
smtp(8) would, on one connection, and prints each answer's text on a line of its own.

usage: socketmap_ask.py SOCKET NAME KEY...
Exits 1 when the server closes the connection or sends something that is not a netstring.
"""
import socket
import sys


def read_netstring(s, buf):
    while b":" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("closed before an answer")
        buf += chunk
    head, _, rest = buf.partition(b":")
    if not head.isdigit() or len(head) > 6:
        sys.exit("not a netstring: %r" % buf[:40])
    n = int(head)
    while len(rest) < n + 1:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("closed inside an answer")
        rest += chunk
    if rest[n:n + 1] != b",":
        sys.exit("netstring without its comma: %r" % rest[:n + 1])
    return rest[:n].decode("utf-8", "replace"), rest[n + 1:]


def main():
    path, name, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    buf = b""
    for key in keys:
        q = ("%s %s" % (name, key)).encode()
        s.sendall(b"%d:%s," % (len(q), q))
        answer, buf = read_netstring(s, buf)
        print(answer)


if __name__ == "__main__":
    main()
