#!/bin/sh
# Fleet mode on a real PostgreSQL: three daemons as three hosts (own spools, own sockets)
# ship what they take in; the database stopped and restarted mid-run loses nothing and
# stores nothing twice; the merged report of a day equals the sum of the three single-host
# reports; a silent host holds a day back until fleet_max_lag; agents racing on run (one
# SIGKILLed) deliver each report exactly once.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_pg.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"
time_limit 240
need "$PY"

pg_start
write_conf "$T/admin.conf" "fleet_database=$PG_CONN"
"$AGENT" -c "$T/admin.conf" db init >/dev/null 2>&1 || fail "db init"
make_ca
start_https
cat > "$T/zones" <<ZONES
  local-zone: "example." static
  local-data: 'reports.example. A 127.0.0.1'
ZONES
for d in a b c d e; do
    echo "  local-data: '_smtp._tls.$d.example. TXT \"v=TLSRPTv1; rua=https://reports.example:\$HTTPS_PORT/ok\"'" >> "$T/zones"
done
sed -i "s/\\\$HTTPS_PORT/$HTTPS_PORT/" "$T/zones"
start_unbound "$T/zones"

# host N: its configuration, spool and datagram socket; the daemon logs to $T/hN.log.
host_conf() {
    mkdir -p "$T/h$1"
    write_conf "$T/h$1.conf" "spool_directory=$T/h$1/spool" "tlsrpt_socket=$T/h$1/tlsrpt.sock" \
        "fleet_database=$PG_CONN" "fleet_host=h$1" "resolver=$DNS_RESOLVER" \
        "https_ca_file=$T/ca.pem" "https_allow_private=yes" "send_window=0" $DKIM_CONF
}
start_host() {
    "$OTR" -f -c "$T/h$1.conf" >>"$T/h$1.log" 2>&1 &
    eval "HOST_PID_$1=$!"
    at_exit "stop_host $1"
    wait_for 10 test -S "$T/h$1/tlsrpt.sock"
}
stop_host() {
    local pid
    eval "pid=\${HOST_PID_$1:-}"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    eval "HOST_PID_$1="
}
local_count() { "$OUTCOMES" --scan "$T/h$1/spool" "$2" | sed -n 's/^outcomes=\([0-9]*\).*/\1/p'; }
db_count() { psql_q "SELECT count(*) FROM otr_outcome WHERE host = 'h$1' AND day = '$2'"; }
shipped() { [ "$(db_count "$1" "$2")" = "$(local_count "$1" "$2")" ]; }

for h in 1 2 3; do host_conf $h; start_host $h; done
DAY=$(today)
# Live intake on all three; the database goes down in the middle and comes back.
for h in 1 2 3; do "$SEND" -s "$T/h$h/tlsrpt.sock" -n 1500 -d 40 -S $h >/dev/null; done
pg_stop
for h in 1 2 3; do "$SEND" -s "$T/h$h/tlsrpt.sock" -n 1500 -d 40 -S $((h + 10)) >/dev/null; done
sleep 2
pg_start
for h in 1 2 3; do wait_for 60 shipped $h "$DAY"; done
grep -q "outcomes stay in the local journals" "$T/h1.log" || fail "the database outage was not logged"
grep -q "reachable again" "$T/h1.log" || fail "the database's return was not logged"
for h in 1 2 3; do
    n=$(local_count $h "$DAY")
    [ "$n" -gt 1000 ] || fail "host $h took in only $n outcomes"
done
[ "$(psql_q "SELECT count(*) FROM otr_host")" = 3 ] || fail "the three hosts did not register"
pass "3 hosts shipped $(psql_q "SELECT count(*) FROM otr_outcome") outcomes through a database restart, none lost or twice"

# The merged report equals the sum of the single-host reports of the same input.
"$AGENT" -c "$T/h1.conf" report --day "$DAY" > "$T/merged.json" 2>>"$T/agent.log" || fail "fleet report"
for h in 1 2 3; do
    "$AGENT" -c "$T/h$h.conf" -o fleet_database= report --day "$DAY" > "$T/single$h.json" 2>>"$T/agent.log" ||
        fail "host $h report"
done
"$PY" "$top_srcdir/tests/tools/fleet_sum.py" "$T/merged.json" > "$T/sum-merged"
"$PY" "$top_srcdir/tests/tools/fleet_sum.py" "$T/single1.json" "$T/single2.json" "$T/single3.json" > "$T/sum-single"
cmp -s "$T/sum-merged" "$T/sum-single" || { diff "$T/sum-merged" "$T/sum-single" | head; fail "merged report differs from the sum"; }
# One report per report domain, each naming the sending MTAs of all hosts.
[ "$(grep -c '^{' "$T/merged.json")" -lt "$(cat "$T"/single*.json | grep -c '^{')" ] || fail "the merged reports are not one per domain"
pass "merged report = sum of the 3 single-host reports"

# A finished day, shipped by h1..h3; a fourth host registered but silent holds it back.
D=$(days_ago 1)
for h in 1 2 3; do
    for d in a b c d e; do dgram $d.example; dgram $d.example fail; done |
        "$OUTCOMES" "$T/h$h/spool" "$D" 2>>"$T/outcomes.log" || fail "otr-outcomes"
done
for h in 1 2 3; do wait_for 30 shipped $h "$D"; done
psql_q "INSERT INTO otr_host (host, shipped_through) VALUES ('h4', 0)"
"$AGENT" -v -c "$T/h1.conf" -o fleet_max_lag=2d run > "$T/run0.out" 2>&1 || fail "run with a silent host"
grep -q "waiting for host(s) h4" "$T/run0.out" || fail "the silent host was not named: $(cat "$T/run0.out")"
[ "$(ls "$T/posts" | wc -l)" = 0 ] || fail "a day was sent before every host shipped it"

# Racing agents, fleet_max_lag passed: each report exactly once, whatever gets killed.
set +e
OTR_TEST_KILL_AT=after-state "$AGENT_TEST" -c "$T/h1.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 &
a1=$!
"$AGENT" -c "$T/h2.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 &
a2=$!
"$AGENT" -c "$T/h3.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 &
a3=$!
wait $a1; s1=$?
wait $a2; s2=$?
wait $a3; s3=$?
set -e
[ "$s2" = 0 ] && [ "$s3" = 0 ] || fail "racing agents failed ($s2, $s3)"
[ "$s1" = 0 ] || [ "$s1" = 137 ] || fail "agent 1 exited $s1"
for h in 1 2 3; do "$AGENT" -c "$T/h$h.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 || fail "rerun on h$h"; done
posts > "$T/posts.txt"
[ "$(wc -l < "$T/posts.txt")" = 5 ] || { cat "$T/posts.txt"; fail "$(wc -l < "$T/posts.txt") reports delivered for 5 domains"; }
[ "$(awk '{print $4}' "$T/posts.txt" | sort -u | wc -l)" = 5 ] || fail "a domain was delivered twice"
grep -q "h4" "$T/agent.log" || fail "the late host was not named when the day was built anyway"
"$AGENT" -c "$T/h2.conf" status --day "$D" > "$T/status.out" 2>&1 || fail "status"
grep -q "not shipped by host(s) h4" "$T/status.out" || fail "status does not name the silent host: $(cat "$T/status.out")"
pass "racing agents (agent 1 exit $s1): 5 reports, each once; silent host named"

# Two agents racing on another day, one SIGKILLed before it sends: still each report once.
D2=$(days_ago 2)
for h in 1 2; do
    for d in a b c; do dgram $d.example; done | "$OUTCOMES" "$T/h$h/spool" "$D2" 2>>"$T/outcomes.log" ||
        fail "otr-outcomes"
done
for h in 1 2; do wait_for 30 shipped $h "$D2"; done
rm -f "$T/posts"/*.json
set +e
OTR_TEST_KILL_AT=before-send "$AGENT" -c "$T/h1.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 &
a1=$!
"$AGENT" -c "$T/h2.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1
s2=$?
wait $a1
s1=$?
set -e
[ "$s2" = 0 ] || fail "agent 2 failed ($s2)"
for h in 1 2; do "$AGENT" -c "$T/h$h.conf" -o fleet_max_lag=0 run >>"$T/agent.log" 2>&1 || fail "rerun on h$h"; done
posts > "$T/posts2.txt"
[ "$(wc -l < "$T/posts2.txt")" = 3 ] || { cat "$T/posts2.txt"; fail "$(wc -l < "$T/posts2.txt") reports delivered for 3 domains"; }
[ "$(awk '{print $4}' "$T/posts2.txt" | sort -u | wc -l)" = 3 ] || fail "a domain was delivered twice"
pass "two racing agents (agent 1 exit $s1): 3 reports, each once"
