#!/bin/sh
# summary --format csv and jsonl: received reports in parsedmarc's SMTP TLS field names, so
# tools built for parsedmarc take them. The expected rows are made here from the report
# files the way parsedmarc makes them (parsed_smtp_tls_reports_to_csv_rows: a row per
# policy, then a row per failure detail) and compared with what the agent wrote; --domain
# and --since/--until select; quoting, formulas and control characters are safe.
. "$top_srcdir/tests/lib.sh"
need python3
RW="$DATA/realworld-reports"
write_conf "$T/otr.conf" "retention_days=3660"
files="$RW/parsedmarc/mail.ru.json $RW/parsedmarc/smtp_tls.json $RW/stalwart/rpt03.json
$RW/sebastka-tlsrpt/microsoft-tlsa-sts.json $RW/sebastka-tlsrpt/synthetic-failures.json
$RW/dmarc-report-viewer/no_ip_and_mx.json $RW/tlsrpt-be/report-2.json"
# formula.json: an organization-name that a spreadsheet would take for a formula.
"$AGENT" -c "$T/otr.conf" ingest $files "$DATA/inreports/formula.json" > /dev/null || fail "ingest"
"$AGENT" -c "$T/otr.conf" summary --since 2019-01-01 --until 2026-12-31 --format csv \
    --output "$T/all.csv" || fail "csv"
"$AGENT" -c "$T/otr.conf" summary --since 2019-01-01 --until 2026-12-31 --format jsonl > "$T/all.jsonl" ||
    fail "jsonl"
"$AGENT" -c "$T/otr.conf" summary --since 2019-01-01 --until 2026-12-31 --format jsonl \
    --domain example.com > "$T/dom.jsonl" || fail "jsonl --domain"
"$AGENT" -c "$T/otr.conf" summary --since 2026-01-01 --until 2026-12-31 --format csv > "$T/2026.csv" ||
    fail "csv --since"
python3 - "$T" $files <<'PY' || fail "export differs from parsedmarc's rows"
import csv, datetime, json, sys
t, files = sys.argv[1], sys.argv[2:]
FIELDS = ["organization_name", "begin_date", "end_date", "report_id", "result_type",
          "successful_session_count", "failed_session_count", "policy_domain", "policy_type",
          "policy_strings", "mx_host_patterns", "sending_mta_ip", "receiving_ip",
          "receiving_mx_hostname", "receiving_mx_helo", "additional_info_uri",
          "failure_reason_code"]
def day(s):
    s = s.replace("Z", "+00:00")
    d = datetime.datetime.fromisoformat(s)
    return (d if d.tzinfo else d.replace(tzinfo=datetime.timezone.utc)).strftime("%Y-%m-%d")
def parsedmarc(r):
    """Keys of parsedmarc's rows (begin day, report_id, policy_type, result_type, counts)."""
    rows = []
    for p in r["policies"]:
        pol = p["policy"]
        rows.append((day(r["date-range"]["start-datetime"]), r["report-id"], pol["policy-type"], "",
                     str(p["summary"].get("total-successful-session-count", 0)),
                     str(p["summary"].get("total-failure-session-count", 0)),
                     (pol.get("policy-domain") or "").lower()))
        for f in p.get("failure-details", []):
            rows.append((day(r["date-range"]["start-datetime"]), r["report-id"], pol["policy-type"],
                         f["result-type"], "", str(f["failed-session-count"]),
                         (pol.get("policy-domain") or "").lower()))
    return rows
reports = [json.load(open(f)) for f in files]
want = sorted(row for r in reports for row in parsedmarc(r))
rd = csv.DictReader(open(t + "/all.csv", newline=""))
assert rd.fieldnames == FIELDS, rd.fieldnames
rows = list(rd)
got = sorted((x["begin_date"][:10], x["report_id"], x["policy_type"], x["result_type"],
              x["successful_session_count"], x["failed_session_count"], x["policy_domain"])
             for x in rows if x["report_id"] != "formula-1")
assert got == want, (set(got) ^ set(want))
# Failure fields in the columns parsedmarc names.
syn = [x for x in rows if x["report_id"] == "synthetic-1" and x["result_type"]]
src = [f for p in json.load(open([f for f in files if "synthetic" in f][0]))["policies"]
       for f in p.get("failure-details", [])]
for f in src:
    assert any(x["sending_mta_ip"] == f.get("sending-mta-ip", "") and
               x["receiving_mx_helo"] == f.get("receiving-mx-helo", "") and
               x["additional_info_uri"] == f.get("additional-information", "") and
               x["failure_reason_code"] == f.get("failure-reason-code", "") for x in syn), f
# A formula is defused, the comma and quotes survive the quoting.
fx = [x for x in rows if x["report_id"] == "formula-1"][0]
assert fx["organization_name"] == "'=HYPERLINK(\"http://x\",\"a, b\")", fx["organization_name"]
# JSON Lines: a report per line, parsedmarc's nesting.
lines = [json.loads(l) for l in open(t + "/all.jsonl")]
assert len(lines) == len(reports) + 1
by_id = {l["report_id"]: l for l in lines}
for r in reports:
    l = by_id[r["report-id"]]
    assert l["organization_name"] == r["organization-name"]
    assert [(p["policy_type"], p["successful_session_count"], p["failed_session_count"],
             len(p.get("failure_details", []))) for p in l["policies"]] == \
           [(p["policy"]["policy-type"], p["summary"].get("total-successful-session-count", 0),
             p["summary"].get("total-failure-session-count", 0), len(p.get("failure-details", [])))
            for p in r["policies"]]
dom = [json.loads(l) for l in open(t + "/dom.jsonl")]
assert dom and all(p["policy_domain"] == "example.com" for l in dom for p in l["policies"])
assert len(dom) == sum(1 for r in reports if any(p["policy"].get("policy-domain") == "example.com"
                                                 for p in r["policies"]))
recent = list(csv.DictReader(open(t + "/2026.csv", newline="")))
assert recent and all(x["begin_date"] >= "2026-01-01" for x in recent)
print("ok: %d csv rows, %d json lines as parsedmarc's" % (len(rows), len(lines)))
PY
pass "csv and jsonl exports in parsedmarc's field names"
