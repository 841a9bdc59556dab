#!/bin/sh
# One daemon per spool: a second opentlsrpt on the same configuration is
# refused with a message naming the first, which keeps its sockets and keeps working; once
# the first is killed, the lock it left is taken over.
. "$top_srcdir/tests/lib.sh"
write_conf "$T/c.conf" "policy_socket=unix:$T/policy.sock" "milter_socket=local:$T/milter/milter.sock"
start_daemon "$T/c.conf"
wait_for 10 test -S "$T/milter/milter.sock"
wait_for 10 test -S "$T/policy.sock"
first=$DAEMON_PID
inodes() { stat -c %i "$T/tlsrpt.sock" "$T/policy.sock" "$T/milter/milter.sock" | tr '\n' ' '; }
before=$(inodes)

for mode in -f ""; do
    if timeout 30 "$OTR" $mode -c "$T/c.conf" > "$T/second.out" 2>&1; then
        cat "$T/second.out"
        fail "a second instance started (${mode:-daemon mode})"
    fi
    grep -q "opentlsrpt is already running on spool $T/spool (pid $first)" "$T/second.out" ||
        { cat "$T/second.out"; fail "the refusal does not name the first instance"; }
done
[ "$(inodes)" = "$before" ] || fail "the second instance replaced sockets: $before -> $(inodes)"
kill -0 "$first" || fail "the first instance died"
"$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q accepted=1 ||
    fail "the first instance no longer takes datagrams"

# Killed (its role processes get SIGTERM and drain): the next start takes the lock over.
kill -KILL "$first"
wait "$first" 2>/dev/null || true
DAEMON_PID=
: > "$T/daemon.log"
start_daemon "$T/c.conf"
wait_for 40 grep -q started "$T/daemon.log"
[ "$(cat "$T/spool/opentlsrpt.pid")" = "$DAEMON_PID" ] || fail "pid file: $(cat "$T/spool/opentlsrpt.pid")"
"$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q accepted=1 ||
    fail "the new instance takes no datagrams"
stop_daemon
[ ! -e "$T/spool/opentlsrpt.pid" ] || fail "pid file left after a clean stop"
pass "one instance per spool; a killed one's lock is taken over"
