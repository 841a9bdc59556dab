#!/bin/sh
# SIGKILL the whole daemon while it ingests, restart it: nothing written before the kill is
# lost, the journal reads back with no corrupt record, and a torn tail written by hand is
# skipped with one warning.
. "$top_srcdir/tests/lib.sh"
need python3
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"

write_conf "$T/c.conf"
start_daemon "$T/c.conf"
day=$(today)

# Phase 1: recorded outcomes, all on disk before the kill (written within 1 s).
"$SEND" -s "$T/tlsrpt.sock" -P 2 -n 1500 -r 10000 -d 200 -S 1 -R "$T/rec1" > "$T/send1.out"
sleep 1.5

# Phase 2: a flood of one known datagram (domain example.net); kill -9 parent and role
# child in the middle of it.
"$SEND" -s "$T/tlsrpt.sock" -P 2 -n 10000 -r 20000 "$DATA/datagrams/nopolicy-starttls.json" > "$T/send2.out" &
SENDER=$!
sleep 0.5
pkill -KILL -P "$DAEMON_PID" || true
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
wait "$SENDER" || true
accepted2=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send2.out")
case $accepted2 in '' | *[!0-9]*) fail "phase 2: no accepted count from the sender ($(cat "$T/send2.out"))" ;; esac
[ "$accepted2" -gt 0 ] || fail "phase 2: the kernel accepted nothing before the kill"

# Restart (the stale socket is replaced) and record phase 3.
start_daemon "$T/c.conf"
"$SEND" -s "$T/tlsrpt.sock" -P 2 -n 1500 -r 10000 -d 200 -S 3 -R "$T/rec3" > "$T/send3.out"
stop_daemon

"$AGENT" -c "$T/c.conf" report --day "$day" > "$T/all.jsonl" 2> "$T/read.err"
if grep -q "corrupt" "$T/read.err"; then cat "$T/read.err"; fail "corrupt records after the kill"; fi
# Phases 1 and 3 exactly; phase 2 at most what the kernel accepted.
grep -v '\.example\.net\.otr-' "$T/all.jsonl" | python3 "$top_srcdir/tests/tools/check_reports.py" \
    "$T/rec[13].*" "$DATA/tlsrpt-report.schema.json" > "$T/check.out" \
    || { cat "$T/check.out"; fail "outcomes lost or changed across the kill"; }
# Every example.net session of the day, 0 when there is no such report.
net=$(python3 -c 'import json,sys
n = 0
for l in sys.stdin:
    r = json.loads(l)
    if ".example.net.otr-" in r["report-id"]:
        n += sum(p["summary"]["total-failure-session-count"] for p in r["policies"])
print(n)' < "$T/all.jsonl") || fail "reading the phase 2 report"
[ "$net" -le "$accepted2" ] || fail "more example.net outcomes ($net) than accepted ($accepted2)"
echo "phase 2: kernel accepted $accepted2, stored $net before the kill"

# A torn tail written by hand: one warning, every record before it kept.
jnl="$T/spool/journal/$day/tlsrpt.jnl"
head -c 40 "$jnl" >> "$jnl"
"$AGENT" -c "$T/c.conf" report --day "$day" > "$T/torn.jsonl" 2> "$T/torn.err"
cmp -s "$T/all.jsonl" "$T/torn.jsonl" || fail "a torn tail changed the reports"
[ "$(grep -c 'incomplete record at the end' "$T/torn.err")" -eq 1 ] || { cat "$T/torn.err"; fail "torn tail not reported exactly once"; }

# The restarted writer cuts the torn tail instead of appending after it.
start_daemon "$T/c.conf"
"$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" > /dev/null
stop_daemon
grep -q 'removed an incomplete record of 40 bytes' "$T/daemon.log" || fail "torn tail not cut on restart"
"$AGENT" -c "$T/c.conf" report --day "$day" > /dev/null 2> "$T/after.err"
[ ! -s "$T/after.err" ] || { cat "$T/after.err"; fail "journal not clean after the repair"; }
pass "kill, restart and torn tail"
