#!/usr/bin/python3
"""Ingests each file given, one at a time into an empty report store, and checks what was
stored against the file itself: the expectations are read from the report JSON with
Python's own email, gzip, zipfile and json modules (an implementation independent of the
agent's), never written down by hand.

usage: check_realworld.py AGENT CONF STORE_DIR REFUSED_NAME FILE...
A file whose name ends in REFUSED_NAME must be refused; every other one accepted.
Prints one line per file; exits 1 on the first mismatch."""
import datetime
import email
import email.policy
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile


def payload_json(data):
    """The report JSON of a payload: gzip, zip or plain, a UTF-8 BOM allowed."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = z.read(z.namelist()[0])
    return json.loads(data.decode("utf-8-sig"))


def message_json(msg):
    """The report of a message: the first part that parses as a report, looking into
    forwarded messages too."""
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            for inner in part.get_payload():
                found = message_json(inner)
                if found is not None:
                    return found
            continue
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = part.get_filename() or ""
        if not (ctype.startswith("application/tlsrpt") or
                name.endswith((".json", ".gz", ".zip"))):
            continue
        try:
            return payload_json(part.get_payload(decode=True))
        except (ValueError, OSError, zipfile.BadZipFile):
            continue
    return None


def expected(path):
    data = open(path, "rb").read()
    if path.endswith(".eml"):
        return message_json(email.message_from_bytes(data, policy=email.policy.compat32))
    return payload_json(data)


def instant(s):
    s = s.strip().replace("z", "Z")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    t = datetime.datetime.fromisoformat(s)
    if t.tzinfo is None:  # older Microsoft reports: no zone means UTC
        t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())


def host(s):
    return s.strip().lower().rstrip(".") if isinstance(s, str) and s.strip() else None


def text(s):
    return s.strip() if isinstance(s, str) and s.strip() else None


def count(v):
    return int(v) if isinstance(v, (int, float, str)) and str(v).strip() else 0


def compare(path, want, got):
    """Raises AssertionError naming the first difference."""
    where = os.path.basename(path)
    if "report-id" in want and text(want["report-id"]):
        assert got["report-id"] == text(want["report-id"]), (where, "report-id", got["report-id"])
    else:
        assert got["report-id"].startswith("content-"), (where, "derived id", got["report-id"])
    assert got.get("organization-name") == text(want.get("organization-name")), (where, "org")
    assert got.get("contact-info") == text(want.get("contact-info")), (where, "contact")
    dr = got["date-range"]
    assert instant(dr["start-datetime"]) == instant(want["date-range"]["start-datetime"]), \
        (where, "start", dr)
    end = instant(want["date-range"]["end-datetime"])
    if end % 86400 == 0:  # next day's 00:00:00Z: the last second covered is stored
        end -= 1
    assert instant(dr["end-datetime"]) == end, (where, "end", dr)
    wp = [p for p in want["policies"] if isinstance(p, dict)]
    gp = got["policies"]
    assert len(gp) == len(wp), (where, "policies", len(gp), len(wp))
    for w, g in zip(wp, gp):
        # The store leaves out what is at its default: no type is "unknown", no count 0.
        wpol, gpol = w.get("policy", {}), g.get("policy", {})
        assert gpol.get("policy-type", "unknown") == \
            (w["policy"].get("policy-type") or "unknown").lower(), (where, "policy-type", gpol)
        assert gpol.get("policy-domain") == host(wpol.get("policy-domain")), (where, "domain")
        ws, gs = w.get("summary", {}), g.get("summary", {})
        for k in ("total-successful-session-count", "total-failure-session-count"):
            assert gs.get(k, 0) == count(ws.get(k, 0)), (where, k, gs.get(k), ws.get(k))
        wf = [f for f in w.get("failure-details", []) if isinstance(f, dict)]
        gf = g.get("failure-details", [])
        assert len(gf) == len(wf), (where, "failure-details", len(gf), len(wf))
        for a, b in zip(wf, gf):
            assert b.get("result-type", "unknown") == a["result-type"].lower(), (where, b)
            assert b.get("failed-session-count", 0) == count(a.get("failed-session-count", 0)), \
                (where, b)
            assert b.get("sending-mta-ip") == text(a.get("sending-mta-ip")), (where, b)
            assert b.get("receiving-ip") == text(a.get("receiving-ip")), (where, b)
            assert b.get("receiving-mx-hostname") == host(a.get("receiving-mx-hostname")), \
                (where, b)
    return sum(g.get("summary", {}).get("total-failure-session-count", 0) +
               g.get("summary", {}).get("total-successful-session-count", 0) for g in gp)


def main():
    agent, conf, store, refused_name = sys.argv[1:5]
    accepted = refused = 0
    for path in sys.argv[5:]:
        shutil.rmtree(store, ignore_errors=True)
        run = subprocess.run([agent, "-c", conf, "ingest", path], capture_output=True,
                             text=True)
        if path.endswith(refused_name):
            assert run.returncode != 0, (path, "accepted", run.stdout)
            assert "not a TLS-RPT report" in run.stderr, (path, run.stderr)
            refused += 1
            print("refused %s" % path)
            continue
        assert run.returncode == 0, (path, run.stdout, run.stderr)
        assert ": stored report " in run.stdout, (path, run.stdout)
        files = os.listdir(store)
        assert len(files) == 1, (path, files)
        stored = json.load(open(os.path.join(store, files[0])))
        want = expected(path)
        assert want is not None, (path, "the test found no report in it")
        sessions = compare(path, want, stored["report"])
        accepted += 1
        print("ok %s: %d policies, %d sessions, dkim=%s" %
              (path, len(stored["report"]["policies"]), sessions, stored.get("dkim")))
    print("%d accepted, %d refused" % (accepted, refused))


if __name__ == "__main__":
    main()
