#!/bin/sh
# Received reports without an MTA: `ingest` stores the samples of tests/data/inreports
# (duplicates once), refuses the broken ones, and `summary` explains them in plain words,
# finds the issues, renders JSON and HTML, and `--alerts` reports each issue only once.
. "$top_srcdir/tests/lib.sh"
IN="$DATA/inreports"
write_conf "$T/otr.conf" "retention_days=3660"

"$AGENT" -c "$T/otr.conf" ingest "$IN/google.eml" "$IN/google-prev.eml" "$IN/microsoft.eml" \
    "$IN/microsoft-tz.eml" "$IN/json-plain.eml" "$IN/nested.eml" "$IN/empty-strings.eml" \
    "$IN/null-contact.eml" "$IN/qp.eml" >"$T/ingest.out" || fail "ingest of good samples failed"
[ "$(grep -c ': stored report' "$T/ingest.out")" -eq 9 ] || fail "not 9 stored: $(cat "$T/ingest.out")"
[ "$(ls "$T/spool/reports" | wc -l)" -eq 9 ] || fail "not 9 files in the store"
# The same reports as bare JSON / gzip files are recognized as duplicates.
"$AGENT" -c "$T/otr.conf" ingest "$IN/report.json" "$IN/report.json.gz" >"$T/dup.out" ||
    fail "ingest of json files failed"
[ "$(grep -c ': duplicate report' "$T/dup.out")" -eq 2 ] || fail "duplicates not detected"
[ "$(ls "$T/spool/reports" | wc -l)" -eq 9 ] || fail "a duplicate was stored"
# Broken reports and ordinary mail are refused with the reason, nothing stored.
for f in bomb truncated-gzip invalid-json plain; do
    if "$AGENT" -c "$T/otr.conf" ingest "$IN/$f.eml" 2>"$T/err.out"; then fail "$f.eml accepted"; fi
done
grep -q 'not a TLS-RPT report' "$T/err.out" || fail "plain mail not explained"
[ "$(ls "$T/spool/reports" | wc -l)" -eq 9 ] || fail "broken input stored"
# File names come from a hash, never from the report.
ls "$T/spool/reports" | grep -Evq '^2026-11-2[01]-[0-9a-f]{16}\.json$' && fail "odd store file name"
pass "ingest stores, de-duplicates and refuses"

"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 >"$T/summary.txt" || fail "summary failed"
grep -q 'mx2.example.com (198.51.100.25) served an expired certificate to Giant Mail Inc.: 37 sessions failed on 2026-11-21' \
    "$T/summary.txt" || fail "expired certificate not explained"
grep -q 'fix: renew the certificate on mx2.example.com' "$T/summary.txt" || fail "no fix given"
grep -q 'new failure type certificate-expired for example.com on 2026-11-21 (not in the previous report of Giant Mail Inc., for 2026-11-20)' \
    "$T/summary.txt" || fail "new failure type not detected"
grep -q 'mx2.example.com failed TLS for 2 different reporters' "$T/summary.txt" ||
    fail "MX failing for several reporters not detected"
grep -q 'senders could not use the MTA-STS policy of example.org' "$T/summary.txt" ||
    fail "unfetchable STS policy not detected"
grep -q 'example.net is in testing mode and 4 sessions failed' "$T/summary.txt" ||
    fail "testing mode failures not detected"
grep -q 'Nested Mailer could not fetch the MTA-STS policy of example.org: 17 sessions' "$T/summary.txt" ||
    fail "nested report missing"
pass "summary explains failures and finds issues"

"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --domain EXAMPLE.com --format json >"$T/s.json" ||
    fail "json summary failed"
python3 - "$T/s.json" <<'PY' || fail "json summary wrong"
import json, sys
s = json.load(open(sys.argv[1]))
assert [d["domain"] for d in s["domains"]] == ["example.com"], s["domains"]
days = {d["day"]: d for d in s["domains"][0]["days"]}
assert days["2026-11-21"]["failed"] == 50 and days["2026-11-20"]["failed"] == 0
assert any(f["result-type"] == "certificate-expired" and f["failed-session-count"] == 37
           for f in days["2026-11-21"]["failures"])
assert {i["kind"] for i in s["issues"]} >= {"new-failure", "mx-several-reporters"}
PY
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --format html --output "$T/s.html" ||
    fail "html summary failed"
grep -q '<svg' "$T/s.html" || fail "no chart in the html"
grep -qi '<script' "$T/s.html" && fail "html has a script"
pass "json and html formats"

# A success rate drop: a day with many failures after a clean one.
cat >"$T/drop.json" <<'J'
{"organization-name":"Giant Mail Inc.","contact-info":"smtp-tls-reporting@giant.example",
 "report-id":"drop-1","date-range":{"start-datetime":"2026-11-22T00:00:00Z","end-datetime":"2026-11-22T23:59:59Z"},
 "policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com"},
  "summary":{"total-successful-session-count":4000,"total-failure-session-count":1000},
  "failure-details":[{"result-type":"certificate-expired","receiving-mx-hostname":"mx2.example.com",
   "receiving-ip":"198.51.100.25","failed-session-count":1000}]}]}
J
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --until 2026-11-23 --alerts >"$T/alerts1.out" && fail "first --alerts exited 0"
[ -s "$T/alerts1.out" ] || fail "first --alerts printed nothing"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --until 2026-11-23 --alerts >"$T/alerts2.out" ||
    fail "second --alerts found new issues: $(cat "$T/alerts2.out")"
[ -s "$T/alerts2.out" ] && fail "second --alerts printed old issues"
"$AGENT" -c "$T/otr.conf" ingest "$T/drop.json" >/dev/null || fail "ingest drop.json"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --until 2026-11-23 --alerts >"$T/alerts3.out" && fail "new issue not alerted"
grep -q 'success rate of example.com dropped from 99.2% on 2026-11-21 to 80.0% on 2026-11-22' \
    "$T/alerts3.out" || fail "rate drop not alerted: $(cat "$T/alerts3.out")"
[ "$(wc -l <"$T/alerts3.out")" -eq 1 ] || fail "old issues alerted again: $(cat "$T/alerts3.out")"
pass "--alerts prints only new issues"
