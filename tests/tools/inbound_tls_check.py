#!/usr/bin/python3
"""Checks record_inbound_tls counters in `opentlsrpt-agent summary --format json` output,
for tests/milter_postfix.sh and tests/milter_sendmail.sh.

usage: inbound_tls_check.py SUMMARY.json DOMAINS-JSON CIPHERS-JSON
DOMAINS-JSON maps each sender domain to {"messages": N, "tls": N, "versions": {V: N}},
CIPHERS-JSON each cipher to its count; the days of the summary are added up (one day, or
two if the test ran across midnight UTC). Exits 1, saying what differs, unless both equal.
"""
import json
import sys

days = json.load(open(sys.argv[1]))["inbound-tls"]
domains, ciphers = {}, {}
for d in days.values():
    for name, c in d["domains"].items():
        have = domains.setdefault(name, {"messages": 0, "tls": 0, "versions": {}})
        have["messages"] += c["messages"]
        have["tls"] += c.get("tls", 0)
        for v, n in c.get("versions", {}).items():
            have["versions"][v] = have["versions"].get(v, 0) + n
    for name, n in d.get("ciphers", {}).items():
        ciphers[name] = ciphers.get(name, 0) + n
bad = 0
for what, got, want in (("domains", domains, json.loads(sys.argv[2])),
                        ("ciphers", ciphers, json.loads(sys.argv[3]))):
    if got != want:
        print("%s:\n  want %s\n  got  %s" % (what, want, got))
        bad = 1
sys.exit(bad)
