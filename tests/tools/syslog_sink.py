#!/usr/bin/python3
"""A syslog socket for tests/lib_sendmail.sh: sendmail logs only through syslog(3).

usage: syslog_sink.py SOCKET LOGFILE HOSTNAME
Binds a unix datagram socket at SOCKET (what /dev/log is to the programs logging) and
appends each message to LOGFILE as a classic syslog daemon writes it: "Mmm dd hh:mm:ss
HOSTNAME tag[pid]: text", one line per message, written out at once.
"""
import os
import re
import socket
import sys

sock_path, log_path, host = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(sock_path):
    os.unlink(sock_path)
s.bind(sock_path)
os.chmod(sock_path, 0o666)
# glibc sends "<PRI>Mmm dd hh:mm:ss tag[pid]: text" (no host name).
msg = re.compile(rb"^<\d{1,3}>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (.*)$", re.S)
with open(log_path, "ab", buffering=0) as log:
    while True:
        data = s.recv(65536).rstrip(b"\n\0")
        m = msg.match(data)
        if m is None:
            continue
        text = m.group(2).replace(b"\n", b" ")
        log.write(m.group(1) + b" " + host.encode() + b" " + text + b"\n")
