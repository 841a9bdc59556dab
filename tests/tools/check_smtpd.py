#!/usr/bin/python3
"""A minimal SMTP server with STARTTLS for tests/check.sh: one thread per listener.

usage: check_smtpd.py [--accept | --store DIR] READY-FILE LISTENER...
LISTENER is IP:PORT:CHAIN:KEY (STARTTLS with the PEM chain and key), IP:PORT:- (no
STARTTLS), IP:PORT:silent (accepts connections and never says a word) or
IP:PORT:tlssilent (offers STARTTLS, accepts it, then never answers the TLS handshake) or
IP:PORT:tlsgarbage (offers STARTTLS, accepts it, answers the handshake with plain text
and closes). It greets, answers EHLO (again after TLS), STARTTLS and QUIT; it refuses
MAIL/RCPT/DATA, so nothing can ever be delivered; with --accept (tests/log_sendmail.sh's MX
hosts) it takes every message and drops it, with --store DIR it keeps each as DIR/N.eml, as
received (tests/milter_sendmail.sh). It writes READY-FILE once every listener is
bound.
"""
import os
import socket
import ssl
import sys
import threading

ACCEPT = False
STORE = None
stored = [0]
store_lock = threading.Lock()


def session(conn, ctx):
    if ctx == "silent":
        conn.recv(1024)
        return
    f = conn.makefile("rwb", buffering=0)

    def say(text):
        f.write(text.encode() + b"\r\n")

    say("220 mx.check.example ESMTP test")
    tls = False
    while True:
        line = f.readline(1024)
        if not line:
            return
        cmd = line.strip().split(b" ")[0].upper()
        sys.stderr.write(cmd.decode(errors="replace") + "\n")
        sys.stderr.flush()
        if cmd in (b"EHLO", b"HELO"):
            offer = ctx is not None and not tls
            say("250-mx.check.example")
            say("250-PIPELINING")
            if offer:
                say("250-STARTTLS")
            say("250 8BITMIME")
        elif cmd == b"STARTTLS" and ctx == "tlsgarbage":
            say("220 2.0.0 ready to start TLS")
            conn.recv(4096)
            say("this is not TLS")
            return
        elif cmd == b"STARTTLS" and ctx == "tlssilent":
            say("220 2.0.0 ready to start TLS")
            while conn.recv(4096):
                pass
            return
        elif cmd == b"STARTTLS" and ctx is not None and not tls:
            say("220 2.0.0 ready to start TLS")
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return
            f = conn.makefile("rwb", buffering=0)
            tls = True
        elif ACCEPT and cmd in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            say("250 2.0.0 ok")
        elif ACCEPT and cmd == b"DATA":
            say("354 go ahead")
            msg = []
            while True:
                data = f.readline(65536)
                if not data:
                    return
                if data in (b".\r\n", b".\n"):
                    break
                msg.append(data[1:] if data.startswith(b"..") else data)
            if STORE is None:
                say("250 2.0.0 ok: dropped")
                continue
            with store_lock:
                stored[0] += 1
                name = "%s/%d.eml" % (STORE, stored[0])
            with open(name + ".tmp", "wb") as out:
                out.write(b"".join(msg))
            os.rename(name + ".tmp", name)
            say("250 2.0.0 ok: stored")
        elif cmd == b"QUIT":
            say("221 2.0.0 bye")
            return
        else:
            say("502 5.5.1 this test server accepts no mail")


def serve(sock, ctx):
    while True:
        conn, _ = sock.accept()
        conn.settimeout(30)

        def run(c=conn):
            try:
                session(c, ctx)
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()

        threading.Thread(target=run, daemon=True).start()


def main():
    global ACCEPT, STORE
    args = sys.argv[1:]
    if args and args[0] == "--accept":
        ACCEPT = True
        args = args[1:]
    elif args and args[0] == "--store":
        ACCEPT = True
        STORE = args[1]
        args = args[2:]
    ready, specs = args[0], args[1:]
    threads = []
    for spec in specs:
        ip, port, chain, *rest = spec.split(":")
        ctx = None
        if chain in ("silent", "tlssilent", "tlsgarbage"):
            ctx = chain
        elif chain != "-":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(chain, rest[0])
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, int(port)))
        s.listen(16)
        t = threading.Thread(target=serve, args=(s, ctx), daemon=True)
        t.start()
        threads.append(t)
    with open(ready, "w") as r:
        r.write("ready\n")
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
