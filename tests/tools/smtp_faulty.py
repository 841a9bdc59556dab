#!/usr/bin/python3
"""A misbehaving SMTP relay for tests/agent_faults.sh, on 127.0.0.1:PORT.

usage: smtp_faulty.py PORT MODE LOG
MODE silent:  accepts the connection and never says a word (a tarpit).
     late:N:  greets only after N seconds, then behaves like drop.
     drop:    a normal dialogue up to DATA; closes the connection once it has read the
              message's headers and a little of its body, before the final dot.
LOG gets "ready" once listening, then per connection "connect", the "Message-ID: ..."
header it saw, and "dropped in DATA" or "client closed".
"""
import socket
import sys
import threading
import time

PORT, MODE, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def session(conn):
    log("connect")
    f = conn.makefile("rwb", buffering=0)
    try:
        if MODE == "silent":
            while conn.recv(4096):  # until the client gives up
                pass
            log("client closed")
            return
        if MODE.startswith("late:"):
            time.sleep(float(MODE[5:]))
        f.write(b"220 faulty.example ESMTP\r\n")
        body = 0
        in_data = False
        while True:
            line = f.readline(4096)
            if not line:
                log("client closed")
                return
            if in_data:
                if line.lower().startswith(b"message-id:"):
                    log(line.decode("ascii", "replace").strip())
                if body or line in (b"\r\n", b"\n"):
                    body += len(line)
                if body > 200:
                    log("dropped in DATA")
                    return
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                f.write(b"250-faulty.example\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                f.write(b"354 go ahead\r\n")
                in_data = True
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                return
            else:
                f.write(b"250 ok\r\n")
    except OSError:
        log("client closed")
    finally:
        conn.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", PORT))
    srv.listen(16)
    log("ready")
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
