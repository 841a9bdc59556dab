#!/bin/sh
# The summary's numbers an administrator acts on, from real reports
# (tests/data/realworld-reports) and a few made here: a failure is never rounded away, the
# report count follows --domain, failures without details and totals that disagree are
# issues, two policies of one report are not summed, a report's range, policy and failure
# details are shown, a new failure type is judged against the same reporter's previous
# report, a daily reporter that goes silent is an issue, IDN domains show their U-labels,
# and error lines never land inside output lines. Expectations come from the JSON files.
. "$top_srcdir/tests/lib.sh"
need python3
RW="$DATA/realworld-reports"
write_conf "$T/otr.conf" "retention_days=3660"
ag() { "$AGENT" -c "$T/otr.conf" "$@"; }
# jq-like reads of the report files, in Python: the test's own reading of the numbers.
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1], encoding='utf-8-sig')); $2" "$1"; }

ag ingest "$RW/tlsrpt-digest/tlsrpt_failure.eml" "$RW/issues/dmarc-report-viewer-issue71-contact-null.json" \
    "$RW/tlsrpt-be/report.json" "$RW/sebastka-tlsrpt/microsoft-tlsa-sts.json" "$RW/parsedmarc/mail.ru.json" \
    "$RW/stalwart/rpt02.json" "$RW/sebastka-tlsrpt/synthetic-failures.json" > /dev/null || fail "ingest"
ag summary --since 2019-01-01 --until 2026-12-31 > "$T/all.txt" || fail "summary"

# 5. 2 failures in 4,525 sessions are not "100.0% successful".
set -- $(python3 -c "
import gzip,json,sys
d=json.loads(gzip.open(sys.argv[1]).read())
s=d['policies'][0]['summary']; ok,f=s['total-successful-session-count'],s['total-failure-session-count']
print(d['date-range']['start-datetime'][:10], ok+f, f)" "$RW/tlsrpt-digest/gz/tlsrpt_failure.json.gz")
[ "$3" -gt 0 ] || fail "the sample has no failure"
grep -q "^  $1  $2 sessions, $3 failed (99\.9[0-9]*% successful)" "$T/all.txt" ||
    fail "failure rounded away: $(grep "^  $1" "$T/all.txt")"
pass "$3 failures in $2 sessions shown as $(grep -o '(99[.0-9]*% successful)' "$T/all.txt" | head -1)"

# 6. The report count follows --domain.
dom=$(py "$RW/issues/dmarc-report-viewer-issue71-contact-null.json" 'print(d["policies"][0]["policy"]["policy-domain"])')
ag summary --since 2019-01-01 --until 2026-12-31 --domain "$dom" > "$T/dom.txt" || fail "summary --domain"
head -1 "$T/dom.txt" | grep -q "1 report from 1 reporter since 2019-01-01 for $dom\$" ||
    fail "report count ignores --domain: $(head -1 "$T/dom.txt")"
pass "--domain $dom counts its own report only"

# 7. Failed sessions without failure details are an issue.
set -- $(py "$RW/tlsrpt-be/report.json" 's=d["policies"][0]["summary"]; print(s["total-failure-session-count"], s["total-successful-session-count"]+s["total-failure-session-count"])')
grep -q "reported $1 failed sessions of $2 for .* without failure details" "$T/all.txt" ||
    fail "failures without details raise no issue"
grep -q '^No issues found' "$T/all.txt" && fail "No issues found"
pass "$1 of $2 failed without details is an issue"

# 8. Microsoft's tlsa and sts policies of one report describe the same sessions.
set -- $(py "$RW/sebastka-tlsrpt/microsoft-tlsa-sts.json" '
p=d["policies"]; n=[x["summary"]["total-successful-session-count"]+x["summary"]["total-failure-session-count"] for x in p]
assert len(p)==2 and n[0]==n[1], n
print(d["date-range"]["start-datetime"][:10], n[0], p[0]["policy"]["policy-type"], p[1]["policy"]["policy-type"], p[0]["policy"]["policy-domain"])')
grep -A3 "^  $1  " "$T/all.txt" > "$T/ms.txt"
grep -q "^  $1  $2 sessions, 0 failed" "$T/ms.txt" || fail "two policies summed: $(cat "$T/ms.txt")"
grep -q "policy $3: $2 sessions" "$T/ms.txt" || fail "no $3 policy line: $(cat "$T/ms.txt")"
grep -q "policy $4 (mode testing, mx mx.domeneshop.no): $2 sessions" "$T/ms.txt" ||
    fail "no $4 policy line with mode and mx: $(cat "$T/ms.txt")"
pass "tlsa and sts of one report: $2 sessions, each policy shown with its type"

# 9. Totals that disagree with the details are kept and shown.
set -- $(py "$RW/parsedmarc/mail.ru.json" 'p=d["policies"][0]; print(p["summary"]["total-failure-session-count"], sum(f["failed-session-count"] for f in p["failure-details"]))')
[ "$1" != "$2" ] || fail "the sample agrees with itself"
grep -q "reported $1 failed session.* in the summary but $2 in the failure details" "$T/all.txt" ||
    fail "disagreement not shown"
pass "summary $1 vs details $2 shown"

# 10. A report's date range.
set -- $(py "$RW/stalwart/rpt02.json" 'r=d["date-range"]; print(r["start-datetime"][:10], r["end-datetime"][:10], d["report-id"])')
[ "$1" != "$2" ] || fail "the sample covers one day"
grep -q "^  $1 to $2  .*, id $3:" "$T/all.txt" || fail "range $1 to $2 not shown"
pass "range $1 to $2 shown"

# 12. Singular, and IDN domains with their U-labels.
grep -q ' 1 sessions' "$T/all.txt" && fail '"1 sessions"'
grep -q '^xn--gpher-jua.test (göpher.test)$' "$T/all.txt" || fail "no U-label for xn--gpher-jua.test"
pass "1 session; xn--gpher-jua.test (göpher.test)"

# 13. Policy mode and mx, and every failure field the reporter gave.
python3 - "$RW/sebastka-tlsrpt/synthetic-failures.json" "$T/all.txt" <<'PY' || fail "failure fields dropped"
import json, sys
d = json.load(open(sys.argv[1])); text = open(sys.argv[2]).read()
n = 0
for p in d["policies"]:
    for f in p.get("failure-details", []):
        for k in ("sending-mta-ip", "receiving-mx-helo", "additional-information"):
            if f.get(k):
                assert f[k] in text, (k, f[k]); n += 1
assert n >= 3, n
print("ok: %d failure fields shown" % n)
PY

# 14. Per report: id, contact, DKIM; --report prints the stored report.
id=$(python3 -c "import gzip,json,sys; print(json.loads(gzip.open(sys.argv[1]).read())['report-id'])" "$RW/tlsrpt-digest/gz/tlsrpt_failure.json.gz")
grep -q "id $id: .*; contact smtp-tls-reporting@google.com; dkim " "$T/all.txt" || fail "report line"
ag summary --report "$id" > "$T/one.json" || fail "summary --report"
python3 - "$T/one.json" "$RW/tlsrpt-digest/gz/tlsrpt_failure.json.gz" <<'PY' || fail "--report differs from the file"
import gzip, json, sys
got = json.load(open(sys.argv[1])); want = json.loads(gzip.open(sys.argv[2]).read())
assert got["report"]["report-id"] == want["report-id"]
assert [p["summary"] for p in got["report"]["policies"]] == [p["summary"] for p in want["policies"]]
assert "dkim" in got and "received" in got
assert got["as-received"] == want, "the report as received differs from the file"
PY
pass "report $id listed, and shown by --report as received"

# 11 and 15: made reports of one domain, per reporter and day.
mkdir "$T/made"
python3 - "$T/made" <<'PY'
import json, sys
def rep(org, day, ok, fails, tag):
    return {"organization-name": org, "contact-info": "tlsrpt@%s.example" % org.lower(),
            "report-id": "%s-%s" % (tag, day),
            "date-range": {"start-datetime": day + "T00:00:00Z", "end-datetime": day + "T23:59:59Z"},
            "policies": [{"policy": {"policy-type": "sts", "policy-domain": "made.example",
                                     "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.made.example"]},
                          "summary": {"total-successful-session-count": ok,
                                      "total-failure-session-count": sum(c for _, c in fails)},
                          "failure-details": [{"result-type": t, "receiving-mx-hostname": "mx.made.example",
                                               "failed-session-count": c} for t, c in fails]}]}
reports = [
    # Alpha: the same failure on the 1st and 3rd, nothing on the 2nd: not new on the 3rd.
    rep("Alpha", "2026-10-01", 50, [("certificate-expired", 5)], "a"),
    rep("Alpha", "2026-10-03", 50, [("certificate-expired", 5)], "a"),
    # Daily: every day from the 1st to the 4th, then silent.
    *[rep("Daily", "2026-10-0%d" % d, 100, [], "d") for d in range(1, 5)],
    # Late: reports on the 9th, so the domain is not silent as a whole.
    rep("Late", "2026-10-09", 10, [], "l"),
]
for i, r in enumerate(reports):
    json.dump(r, open("%s/%02d.json" % (sys.argv[1], i), "w"))
PY
ag ingest "$T"/made/*.json > /dev/null || fail "ingest made reports"
ag summary --since 2026-10-01 --until 2026-10-10 --domain made.example > "$T/made.txt" || fail "summary made"
grep -q 'new failure type certificate-expired for made.example on 2026-10-03' "$T/made.txt" &&
    fail "a silent day made an old failure new: $(grep 'new failure' "$T/made.txt")"
grep -q 'new failure type certificate-expired for made.example on 2026-10-01' "$T/made.txt" ||
    fail "first failure not new"
pass "new failure type judged against the reporter's previous report"
grep -q 'Daily sent a report for made.example every day until 2026-10-04 and none since' "$T/made.txt" ||
    fail "silent daily reporter not raised: $(sed -n '/Issues/,$p' "$T/made.txt")"
grep -q 'Alpha sent a report .* every day' "$T/made.txt" && fail "Alpha was never daily"
grep -q '^      Daily: 2026-10-01 100% 2026-10-02 100% 2026-10-03 100% 2026-10-04 100%$' "$T/made.txt" ||
    fail "no trend line for Daily"
pass "trend per reporter, and a daily reporter gone silent"

# 12. One file for stdout and stderr: each error line whole, in its place.
for i in $(seq 1 60); do cp "$T/made/00.json" "$T/made/copy$i.json"; done
printf '{"broken":' > "$T/made/copy30b.json"
ag ingest $(ls "$T"/made/copy*.json | sort -V) > "$T/mixed.out" 2>&1 && fail "broken file accepted"
grep -Ev '^[^ ]*copy[0-9b]*\.json: (duplicate|stored) report|error: [^ ]*copy30b\.json: ' "$T/mixed.out" &&
    fail "a line was cut by another"
grep -A1 'copy30\.json:' "$T/mixed.out" | grep -q 'copy30b.json' || fail "error line not in its place"
pass "error lines stay whole and in order"

# Control characters in a report (C1 here: U+009B is a terminal's CSI) never reach the
# output as they are: the parser cleans them, and the renderers escape whatever gets past
# (tests/unit/inreport_test feeds them a report the parser never saw).
ag ingest "$DATA/inreports/control-chars.json" > /dev/null || fail "ingest control-chars.json"
for fmt in text html; do
    ag summary --since 2026-10-01 --until 2026-10-10 --format $fmt > "$T/ctl.$fmt" || fail "summary $fmt"
    python3 - "$T/ctl.$fmt" <<'PY' || fail "$fmt output carries control characters"
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
bad = [c for c in t if (ord(c) < 32 and c not in "\n") or 0x7f <= ord(c) <= 0x9f]
assert not bad, [hex(ord(c)) for c in bad]
assert "Evil" in t and "31mCorp" in t, "the report is missing"
PY
done
pass "no control characters in text and html"
