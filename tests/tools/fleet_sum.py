#!/usr/bin/python3
"""Sums RFC 8460 reports (opentlsrpt-agent report output: one JSON report per line) per
report domain and policy: session counts and failure-detail counts by (result type,
sending MTA, receiving MX). Prints the sums as sorted JSON, so that two sets of reports
can be compared: the fleet's merged reports against the sum of each host's own."""
import json
import sys
from collections import Counter

totals = Counter()
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rep = json.loads(line)
            for p in rep["policies"]:
                pol = p["policy"]
                key = "%s|%s" % (pol["policy-type"], pol["policy-domain"])
                totals[key + "|ok"] += p["summary"]["total-successful-session-count"]
                totals[key + "|fail"] += p["summary"]["total-failure-session-count"]
                for d in p.get("failure-details", []):
                    dk = "|".join([key, d["result-type"], d.get("sending-mta-ip", "-"),
                                   d.get("receiving-mx-hostname", "-")])
                    totals[dk] += d["failed-session-count"]
json.dump(dict(sorted(totals.items())), sys.stdout, indent=0, sort_keys=True)
print()
