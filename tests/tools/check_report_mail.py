#!/usr/bin/python3
"""Checks one stored report e-mail against RFC 8460 and the expected report.

usage: check_report_mail.py MESSAGE REPORT.json SCHEMA.json DNS_PORT TO

MESSAGE is the message as delivered (a maildir file or a .eml); REPORT.json the report the
agent prints for that day and domain. The DKIM signature is checked by python3-dkim, an
independent implementation, with the key record fetched from the test's unbound on
127.0.0.1:DNS_PORT. Prints what it checked; exits 1 on the first mismatch.
"""
import calendar
import email
import email.policy
import gzip
import json
import re
import sys

import dkim
import dns.resolver
import jsonschema


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def main():
    path, report_path, schema_path, port, to = sys.argv[1:6]
    raw = open(path, "rb").read()
    want = json.load(open(report_path))
    schema = json.load(open(schema_path))
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    rid = want["report-id"]
    sub = msg["TLS-Report-Submitter"]
    dom = msg["TLS-Report-Domain"]
    if sub != want["contact-info"].split("@")[-1]:
        fail("TLS-Report-Submitter %r is not the domain of contact-info" % sub)
    expect = {
        "To": to,
        "Subject": "Report Domain: %s Submitter: %s Report-ID: <%s>" % (dom, sub, rid),
        "Message-ID": "<%s>" % rid,
        "TLS-Required": "No",
        "MIME-Version": "1.0",
        "From": "tlsrpt-noreply@%s" % sub,
    }
    for name, value in expect.items():
        got = str(msg[name])
        if got != value:
            fail("%s: got %r, want %r" % (name, got, value))
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != "tlsrpt":
        fail("top level is %s report-type=%s" % (msg.get_content_type(), msg.get_param("report-type")))
    if msg["Date"] is None or msg["Date"].datetime is None:
        fail("no valid Date")
    parts = list(msg.iter_parts())
    if [p.get_content_type() for p in parts] != ["text/plain", "application/tlsrpt+gzip"]:
        fail("parts: %s" % [p.get_content_type() for p in parts])
    text = parts[0].get_content()
    if dom not in text or "Successful TLS sessions:" not in text:
        fail("the text part does not say what the report covers")
    att = parts[1]
    if att["Content-Transfer-Encoding"] != "base64":
        fail("attachment not base64")
    body = att.get_payload(decode=False)
    for line in body.splitlines():
        if len(line) > 76:
            fail("base64 line of %d characters" % len(line))
    day = want["date-range"]["start-datetime"][:10]
    begin = calendar.timegm(tuple(int(x) for x in day.split("-")) + (0, 0, 0))
    fname = att.get_filename()
    m = re.fullmatch(r"([^!]+)!([^!]+)!(\d+)!(\d+)!([A-Za-z0-9]+)\.json\.gz", fname or "")
    if not m or m.group(1) != sub or m.group(2) != dom or int(m.group(3)) != begin or \
            int(m.group(4)) != begin + 86399:
        fail("attachment name %r" % fname)
    report = json.loads(gzip.decompress(att.get_payload(decode=True)))
    if report != want:
        fail("attached report differs from `report` output:\n%s\n%s" % (report, want))
    jsonschema.validate(report, schema)

    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = int(port)

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        ans = res.resolve(name, "TXT", lifetime=timeout)
        return b"".join(b"".join(r.strings) for r in ans)

    tags = dict(t.strip().split("=", 1) for t in
                msg["DKIM-Signature"].replace("\r\n", "").split(";") if "=" in t)
    signed = [h.strip().lower() for h in tags["h"].split(":")]
    for h in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type",
              "tls-report-domain", "tls-report-submitter"):
        if h not in signed:
            fail("%s not signed" % h)
    if "l" in tags or tags["c"].strip() != "relaxed/relaxed":
        fail("unexpected l= or c=")
    # RFC 8460 receivers: strict TLSRPT verification (key record with s=tlsrpt, no l=).
    if not dkim.verify(raw, dnsfunc=dnsfunc, tlsrpt="strict"):
        fail("python3-dkim (tlsrpt=strict) does not accept the signature")
    print("ok: %s a=%s d=%s s=%s, %s, %d policies" % (
        path.split("/")[-1], tags["a"].strip(), tags["d"].strip(), tags["s"].strip(), fname,
        len(report["policies"])))


if __name__ == "__main__":
    main()
