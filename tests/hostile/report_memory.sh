#!/bin/sh
# Report building memory does not follow the number of report domains: a local user who
# floods forged domains into the journal makes the agent read it more often, never hold
# more. The same day built under a small report_memory_max takes several passes, far less
# peak RSS than the same build with no practical limit, and prints the very same reports
# in the same order.
. "$top_srcdir/tests/lib.sh"
need python3
OUTCOMES="$top_builddir/tests/tools/otr-outcomes"
time_limit 120
day=2026-11-21
# ~155,000 report domains, a 43 MB journal: ~50 MiB of aggregates in one pass (with 57,000
# domains the aggregates, since they are kept compactly, came too close to what a process
# holds anyway for the comparison below to mean much under a sanitizer).
"$OUTCOMES" --bench "$T/spool" "$day" 300000 1000000 2>>"$T/outcomes.log" || fail "otr-outcomes"
# Freed memory must go back to the allocator for a sanitizer build's RSS to mean anything.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
export ASAN_OPTIONS

# report CONF OUT: runs report --day, prints the peak RSS of the agent in KiB.
report() {
    python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "ab") as err:
    rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
if rc != 0:
    sys.exit("agent exited with %d" % rc)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$2" "$T/agent.log" "$AGENT" -v -c "$1" report --day "$day"
}
write_conf "$T/one.conf" "report_memory_max=4G"
write_conf "$T/small.conf" "report_memory_max=4M"
one=$(report "$T/one.conf" "$T/one.out") || fail "report (one pass): $(cat "$T/agent.log")"
small=$(report "$T/small.conf" "$T/small.out") || fail "report (4M): $(cat "$T/agent.log")"
echo "peak RSS: $one KiB in one pass, $small KiB under report_memory_max = 4M"
grep "report domain" "$T/agent.log"

n=$(wc -l < "$T/one.out")
[ "$n" -gt 150000 ] || fail "only $n reports"
grep -q ", 1 pass(es)" "$T/agent.log" || fail "4G did not build the day in one pass"
passes=$(sed -n 's/.*report domain(s), \([0-9]*\) pass(es)/\1/p' "$T/agent.log" | tail -1)
[ "$passes" -gt 4 ] || fail "4M built the day in $passes pass(es)"
cmp -s "$T/one.out" "$T/small.out" || fail "the reports differ between one pass and $passes"
[ $((small * 2)) -lt "$one" ] || fail "peak RSS $small KiB in $passes passes, $one KiB in one"
pass "$n reports alike in 1 and $passes passes; peak RSS $((one / 1024)) -> $((small / 1024)) MiB"
