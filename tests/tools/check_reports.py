#!/usr/bin/env python3
"""Independent oracle for the intake tests: aggregates the datagrams the kernel accepted
(JSON lines, as tlsrpt-send --record wrote them) the way RFC 8460 asks, and compares the
result with `opentlsrpt-agent report` output (JSON lines on stdin). Every report must also
validate against the strict schema. Exits 1 and says what differs."""
import collections
import glob
import json
import re
import sys

import jsonschema

NAMES = {201: "starttls-not-supported", 202: "certificate-host-mismatch",
         203: "certificate-not-trusted", 204: "certificate-expired", 205: "validation-failure",
         301: "sts-policy-fetch-error", 302: "sts-policy-invalid", 303: "sts-webpki-invalid",
         304: "tlsa-invalid", 305: "dnssec-invalid", 306: "dane-required"}
TYPES = {1: "tlsa", 2: "sts", 9: "no-policy-found"}
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean(s):
    """No C0 or C1 control character reaches a report: each becomes a space."""
    return CONTROLS.sub(" ", s) if isinstance(s, str) else s


def helo(h):
    """The name the MX announced: the first word of the EHLO reply's first line, after its
    reply code, when that word is a host name or an address literal; else absent."""
    if not h:
        return None
    line = re.split(r"[\r\n]", h, maxsplit=1)[0]
    line = re.sub(r"^[0-9]{3}[- ]", "", line).strip()
    word = line.split()[0] if line.split() else ""
    if re.fullmatch(r"\[[0-9.]+\]|\[IPv6:[0-9A-Fa-f:.]+\]", word):
        return word
    word = word.rstrip(".").lower()
    label = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
    return word if re.fullmatch(r"%s(\.%s)*" % (label, label), word) and len(word) <= 253 else None


def expected(record_glob):
    want = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, collections.Counter()]))
    n = 0
    for path in sorted(glob.glob(record_glob)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                n += 1
                for p in d["policies"]:
                    key = (TYPES[p["policy-type"]], p.get("policy-domain", d["d"]),
                           tuple(map(clean, p.get("policy-string", []))),
                           tuple(p.get("mx-host", [])))
                    agg = want[d["d"]][key]
                    if p.get("f", 1 if p.get("failure-details") else 0):
                        agg[1] += 1
                        for fd in p.get("failure-details", []):
                            agg[2][(NAMES[fd["c"]], fd.get("s"), fd.get("n"), helo(fd.get("h")),
                                    fd.get("r"), clean(fd.get("a")), clean(fd.get("f")))] += 1
                    else:
                        agg[0] += 1
    return want, n


def actual(lines, schema):
    got = {}
    for line in lines:
        r = json.loads(line)
        jsonschema.validate(r, schema)
        dom = r["report-id"].split(".", 1)[1].rsplit(".otr-", 1)[0]
        pols = {}
        for p in r["policies"]:
            pol = p["policy"]
            key = (pol["policy-type"], pol["policy-domain"], tuple(pol.get("policy-string", [])),
                   tuple(pol.get("mx-host", [])))
            det = collections.Counter()
            for fd in p.get("failure-details", []):
                det[(fd["result-type"], fd.get("sending-mta-ip"), fd.get("receiving-mx-hostname"),
                     fd.get("receiving-mx-helo"), fd.get("receiving-ip"),
                     fd.get("additional-information"), fd.get("failure-reason-code"))] += fd["failed-session-count"]
            assert key not in pols, "policy listed twice in %s: %r" % (dom, key)
            pols[key] = [p["summary"]["total-successful-session-count"],
                         p["summary"]["total-failure-session-count"], det]
        got[dom] = pols
    return got


def main():
    record_glob, schema_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    want, n = expected(record_glob)
    lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
    got = actual(lines, schema)
    errors = 0
    for dom in sorted(set(want) | set(got)):
        w = {k: v for k, v in want.get(dom, {}).items()}
        g = got.get(dom, {})
        if set(w) != set(g):
            print("%s: policies differ: want %r got %r" % (dom, sorted(w), sorted(g)))
            errors += 1
            continue
        for k in w:
            if w[k][0] != g[k][0] or w[k][1] != g[k][1] or dict(w[k][2]) != dict(g[k][2]):
                print("%s %r: want %r got %r" % (dom, k, w[k], g[k]))
                errors += 1
    print("%d datagrams, %d report domains, %d differences" % (n, len(want), errors))
    sys.exit(1 if errors else 0)


main()
