#!/usr/bin/env python3
"""Synthetic Postfix mail log for bench/import_log.sh: SIZE bytes (default 2 GiB) of a realistic
line mix on stdout, about 2% of lines TLS-relevant (smtp(8) TLS lines and their delivery
lines), the rest what a busy relay logs (postscreen, smtpd, cleanup, qmgr, local, plain
smtp deliveries, warnings). A 64 MiB block is built once and repeated with shifted times.
usage: import_log_gen.py [SIZE_BYTES] > FILE"""
import random, sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 2 << 30
rnd = random.Random(8460)
hosts = ["mx%d.example%d.com" % (i % 3, i) for i in range(500)]
fails = [
    "server certificate verification failed for {h}[{ip}]:25: certificate has expired",
    "certificate verification failed for {h}[{ip}]:25: untrusted issuer /CN=Some CA",
    "server certificate verification failed for {h}[{ip}]:25: num=62:hostname mismatch",
    "certificate verification failed for {h}[{ip}]:25: self-signed certificate",
]
def qid():
    return "%010X" % rnd.getrandbits(40)
def ip():
    return "198.51.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))

def block(nbytes):
    out, n, tls = [], 0, 0
    t = 0
    while n < nbytes:
        t += 1
        ts = "Nov 22 %02d:%02d:%02d mail" % ((t // 3600) % 24, (t // 60) % 60, t % 60)
        r = rnd.random()
        q = qid()
        pid = rnd.randrange(1000, 99999)
        if r < 0.02:
            # a TLS session: 1-2 TLS lines and the delivery line (about 2% of all lines)
            h = rnd.choice(hosts); i = ip(); dom = h.split(".", 1)[1]
            lines = []
            if rnd.random() < 0.1:
                lines.append("%s postfix/smtp[%d]: %s" % (ts, pid, rnd.choice(fails).format(h=h, ip=i)))
                lvl = "Untrusted"; st = "deferred (Server certificate not verified)"
            else:
                lvl = rnd.choice(["Trusted", "Untrusted", "Verified"]); st = "sent (250 2.0.0 Ok: queued as %s)" % qid()
            lines.append("%s postfix/smtp[%d]: %s TLS connection established to %s[%s]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256" % (ts, pid, lvl, h, i))
            lines.append("%s postfix/smtp[%d]: %s: to=<user%d@%s>, relay=%s[%s]:25, delay=0.42, delays=0.1/0.01/0.2/0.11, dsn=2.0.0, status=%s" % (ts, pid, q, rnd.randrange(9999), dom, h, i, st))
            tls += len(lines)
        elif r < 0.25:
            c = ip()
            lines = ["%s postfix/postscreen[%d]: CONNECT from [%s]:%d to [192.0.2.1]:25" % (ts, pid, c, rnd.randrange(1024, 65535)),
                     "%s postfix/postscreen[%d]: PASS OLD [%s]:%d" % (ts, pid, c, rnd.randrange(1024, 65535))]
        elif r < 0.45:
            c = ip()
            lines = ["%s postfix/smtpd[%d]: connect from unknown[%s]" % (ts, pid, c),
                     "%s postfix/smtpd[%d]: Anonymous TLS connection established from unknown[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" % (ts, pid, c),
                     "%s postfix/smtpd[%d]: %s: client=unknown[%s]" % (ts, pid, q, c),
                     "%s postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7" % (ts, pid, c)]
        elif r < 0.65:
            lines = ["%s postfix/cleanup[%d]: %s: message-id=<%s@sender.example>" % (ts, pid, q, qid()),
                     "%s postfix/qmgr[%d]: %s: from=<sender%d@example.org>, size=%d, nrcpt=1 (queue active)" % (ts, pid, q, rnd.randrange(999), rnd.randrange(1000, 99999)),
                     "%s postfix/qmgr[%d]: %s: removed" % (ts, pid, q)]
        elif r < 0.85:
            lines = ["%s postfix/local[%d]: %s: to=<user%d@mail.example>, relay=local, delay=0.03, delays=0.01/0/0/0.02, dsn=2.0.0, status=sent (delivered to mailbox)" % (ts, pid, q, rnd.randrange(999))]
        elif r < 0.95:
            h = rnd.choice(hosts)
            lines = ["%s postfix/smtp[%d]: %s: to=<user%d@%s>, relay=%s[%s]:25, conn_use=2, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 ok)" % (ts, pid, q, rnd.randrange(999), h.split(".", 1)[1], h, ip())]
        else:
            lines = ["%s postfix/smtpd[%d]: warning: hostname %s does not resolve to address %s: Name or service not known" % (ts, pid, rnd.choice(hosts), ip())]
        for l in lines:
            out.append(l)
            n += len(l) + 1
    return "\n".join(out) + "\n", len(out), tls

blk, nlines, ntls = block(min(size, 64 << 20))
data = blk.encode()
sys.stderr.write("block: %d lines, %d TLS-relevant (%.2f%%)\n" % (nlines, ntls, 100.0 * ntls / nlines))
written = 0
w = sys.stdout.buffer
while written + len(data) <= size:
    w.write(data)
    written += len(data)
if written < size:
    cut = data.rfind(b"\n", 0, size - written) + 1
    w.write(data[:cut])
