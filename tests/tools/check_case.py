#!/usr/bin/env python3
"""Judges one `opentlsrpt-agent check` case of tests/data/check/verdicts against the text and
JSON outputs the case's runs wrote (tests/check.sh runs them).

usage: check_case.py CASE TEXT JSON SCHEMA EXIT-STATUS-OF-THE-TEXT-RUN EXIT-STATUS-OF-THE-JSON-RUN

A case file holds one assertion a line ('#' starts a comment):
  domain D            the domain checked (check.sh reads it)
  args ARGS...        more options of the check (check.sh reads it)
  global ARGS...      options before "check" (check.sh reads it)
  needs postfix       run only where a private Postfix could be started (check.sh reads it)
  exit N              both runs exit with N, and the JSON says so
  step STEP VERDICTS [HOST]
                      the verdicts of STEP (for HOST), comma-separated in order; "-": none
  summary TEXT        "sts-policy sts-action types... / dane-policy dane-action types..."
  order STEPS...      the steps of the JSON, in this order
  text REGEX          the text output matches REGEX (Python, multi-line: ^ and $ per line)
  error TEXT          the JSON's error names TEXT
Prints every failed assertion; exits 1 when there was one, 2 on a malformed case.
"""
import json
import re
import sys

import jsonschema


def main():
    case, text_path, json_path, schema_path, text_rc, json_rc = sys.argv[1:7]
    text = open(text_path, encoding="utf-8", errors="replace").read()
    doc = json.load(open(json_path))
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    failures = []
    asserted = 0

    def want(ok, what):
        nonlocal asserted
        asserted += 1
        if not ok:
            failures.append(what)

    for n, line in enumerate(open(case), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if key in ("domain", "args", "global", "needs"):
            continue
        if key == "exit":
            want(text_rc == rest, "exit %s, want %s" % (text_rc, rest))
            want(json_rc == rest, "--format json: exit %s, want %s" % (json_rc, rest))
            want(doc.get("exit") == int(rest), "JSON exit %s, want %s" % (doc.get("exit"), rest))
        elif key == "step":
            parts = rest.split(" ")
            if len(parts) not in (2, 3):
                sys.exit("%s:%d: step STEP VERDICTS [HOST]" % (case, n))
            step, verdicts, host = parts[0], parts[1], parts[2] if len(parts) == 3 else None
            got = ",".join(s["verdict"] for s in doc["steps"]
                           if s["step"] == step and (host is None or s.get("host") == host))
            want(got == ("" if verdicts == "-" else verdicts),
                 "%s%s: got [%s], want [%s]" % (step, " (%s)" % host if host else "", got, verdicts))
        elif key == "summary":
            s = doc.get("summary", {})
            got = " / ".join(" ".join([s[k]["policy"], s[k]["action"]] + s[k]["result-types"])
                             for k in ("sts", "dane")) if s else "(none)"
            want(got == rest, "summary [%s], want [%s]" % (got, rest))
        elif key == "order":
            got = " ".join(s["step"] for s in doc["steps"])
            want(got == rest, "step order: %s" % got)
        elif key == "text":
            want(re.search(rest, text, re.M) is not None, "text output does not match /%s/" % rest)
        elif key == "error":
            want(rest in doc.get("error", ""), "JSON error %r does not name %r" % (doc.get("error"), rest))
        else:
            sys.exit("%s:%d: unknown assertion %r" % (case, n, key))
    if asserted == 0:
        sys.exit("%s: asserts nothing" % case)
    for f in failures:
        print("%s: %s" % (case, f))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
