#!/usr/bin/python3
"""Reads what https_sink.py recorded: prints one line per request, "PATH CONTENT-TYPE
REPORT-ID POLICY-DOMAIN", after checking that the body is gzip of a report that validates
against the schema given. usage: https_bodies.py SCHEMA DIR [--json N]"""
import base64
import glob
import gzip
import json
import os
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
files = sorted(glob.glob(os.path.join(sys.argv[2], "*.json")))
if len(sys.argv) > 4 and sys.argv[3] == "--json":
    rec = json.load(open(files[int(sys.argv[4]) - 1]))
    sys.stdout.write(gzip.decompress(base64.b64decode(rec["body"])).decode())
    sys.exit(0)
for path in files:
    rec = json.load(open(path))
    report = json.loads(gzip.decompress(base64.b64decode(rec["body"])))
    jsonschema.validate(report, schema)
    ctype = {k.lower(): v for k, v in rec["headers"].items()}.get("content-type", "-")
    print(rec["path"], ctype, report["report-id"], report["policies"][0]["policy"]["policy-domain"])
