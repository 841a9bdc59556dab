#!/bin/sh
# The real daemon on a temporary socket, datagrams from several processes exactly as
# libtlsrpt sends them (a socket per datagram, MSG_DONTWAIT): every datagram the kernel
# accepted is in the journal and in the report output, counts exact, reports schema-valid.
. "$top_srcdir/tests/lib.sh"
need python3
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"

write_conf "$T/c.conf"
start_daemon "$T/c.conf"

# Paced so that the default kernel queue (10 datagrams) is not the subject here; loss under
# load is measured by the benchmarks. Four processes, 1,000 domains, every failure type.
"$SEND" -s "$T/tlsrpt.sock" -P 4 -n 2500 -r 20000 -d 300 -S 7 -R "$T/rec" > "$T/send.out"
cat "$T/send.out"
accepted=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send.out")
[ "$accepted" -gt 0 ] || fail "the kernel accepted nothing"

# The sample datagrams, bad ones included: bad input is counted, never stored.
"$SEND" -s "$T/tlsrpt.sock" -n 6 "$DATA"/datagrams/*.json "$DATA"/datagrams/*.bin > /dev/null

# Written within 1 s: look without stopping the daemon first.
sleep 1.5
day=$(today)
"$AGENT" -c "$T/c.conf" report --day "$day" > "$T/report.jsonl"
# Expected: the synthetic datagrams plus the good samples.
# (the invalid UTF-8 one as it must be stored: each bad sequence replaced by U+FFFD)
python3 - "$DATA"/datagrams/tlsa-success.json "$DATA"/datagrams/nopolicy-starttls.json \
    "$DATA"/datagrams/sts-validation-failure.json "$DATA"/datagrams/sts-expired-invalid-utf8.json \
    > "$T/rec.samples" <<'PY'
import sys
for p in sys.argv[1:]:
    print(open(p, "rb").read().decode("utf-8", errors="replace"))
PY
python3 "$top_srcdir/tests/tools/check_reports.py" "$T/rec.*" "$DATA/tlsrpt-report.schema.json" \
    < "$T/report.jsonl" > "$T/check.out" || { cat "$T/check.out"; fail "reports differ from the datagrams"; }
cat "$T/check.out"

# The invalid-UTF-8 sample is stored repaired, not dropped; its EHLO text ("mx2 \xff\xfe
# greets") is reduced to the name the MX announced.
grep -q '"receiving-mx-helo":"mx2","receiving-ip":"198.51.100.8"' "$T/report.jsonl" ||
    fail "repaired datagram not in the report with its announced name"

# --domain selects one report; an unknown day yields none.
n=$("$AGENT" -c "$T/c.conf" report --day "$day" --domain D7.Example. | wc -l)
[ "$n" -eq 1 ] || fail "--domain gave $n reports"
[ -z "$("$AGENT" -c "$T/c.conf" report --day 2000-01-01)" ] || fail "reports for an empty day"

stop_daemon
grep -q 'not_json=1 ' "$T/daemon.log" || fail "bad datagrams not counted"
grep -q 'bad_version=1' "$T/daemon.log" || fail "bad version not counted"
# Stopping flushed everything: the stored count equals what was accepted.
stored=$(sed -n 's/.*stored=\([0-9]*\).*/\1/p' "$T/daemon.log")
[ "$stored" -eq $((accepted + 4)) ] || fail "stored $stored, accepted $accepted + 4 good samples"
pass "accepted=$accepted stored=$stored"
