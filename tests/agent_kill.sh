#!/bin/sh
# Killing the agent (SIGKILL, via OTR_TEST_KILL_AT) never loses a pending report, and sends
# one twice only when the kill fell between the endpoint's acceptance and the state write
# (after-state: the acceptance is in the state's log, replayed by the next run); the resend
# carries the same report-id. A failed attempt is durable at once (after-failure): its
# back-off and the first attempt that starts the 24-hour window survive the kill.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"

make_ca
start_https
cat > "$T/zones" <<ZONES
  local-zone: "example." static
  local-data: 'reports.example. A 127.0.0.1'
  local-data: '_smtp._tls.a.example. TXT "v=TLSRPTv1; rua=https://reports.example:$HTTPS_PORT/ok"'
  local-data: '_smtp._tls.f.example. TXT "v=TLSRPTv1; rua=https://reports.example:$HTTPS_PORT/fail"'
ZONES
start_unbound "$T/zones"
D=$(days_ago 1)
# kill_conf NAME SPOOL: the configuration of one case.
kill_conf() {
    write_conf "$T/$1.conf" "spool_directory=$2" "resolver=$DNS_RESOLVER" \
        "https_ca_file=$T/ca.pem" "https_allow_private=yes" "send_window=0" $DKIM_CONF
}

# kill_case POINT WANT_AFTER_KILL WANT_AFTER_RERUN
kill_case() {
    local point=$1 want1=$2 want2=$3 spool="$T/spool-$1"
    rm -f "$T/posts"/*.json
    kill_conf "$point" "$spool"
    dgram a.example | "$OUTCOMES" "$spool" "$D" 2>>"$T/outcomes.log" || fail "otr-outcomes"
    set +e
    OTR_TEST_KILL_AT=$point "$AGENT_TEST" -c "$T/$point.conf" run 2>>"$T/agent.log"
    status=$?
    set -e
    [ "$status" = 137 ] || fail "$point: the agent was not killed (exit $status)"
    [ "$(ls "$T/posts" | wc -l)" = "$want1" ] || fail "$point: $(ls "$T/posts" | wc -l) POST(s) before the rerun, want $want1"
    "$AGENT" -c "$T/$point.conf" run 2>>"$T/agent.log" || fail "$point: rerun"
    "$AGENT" -c "$T/$point.conf" run 2>>"$T/agent.log" || fail "$point: third run"
    [ "$(ls "$T/posts" | wc -l)" = "$want2" ] || fail "$point: $(ls "$T/posts" | wc -l) POST(s) after the reruns, want $want2"
    [ "$(posts | cut -d' ' -f3 | sort -u | wc -l)" = 1 ] || fail "$point: the report-id changed: $(posts)"
    "$AGENT" -c "$T/$point.conf" status --day "$D" | grep -q "^  a.example  delivered" ||
        fail "$point: not delivered in the end: $("$AGENT" -c "$T/$point.conf" status --day "$D")"
    # the acceptance log is folded into the state by the next complete run
    [ ! -e "$spool/state/$D.accepted" ] || fail "$point: the acceptance log was not folded in"
    pass "killed $point: $want1 then $want2 POST(s)"
}

kill_case before-send 0 1
kill_case after-accept 1 2
kill_case after-state 1 1

# Killed right after each of two failed attempts (HTTP 500), then run again: the back-off
# is kept, and the report is given up 24 hours after the first attempt, not the last start.
rm -f "$T/posts"/*.json
kill_conf fail "$T/spool-fail"
dgram f.example | "$OUTCOMES" "$T/spool-fail" "$D" 2>>"$T/outcomes.log" || fail "otr-outcomes"
T0=$(($(date -u -d "$D" +%s) + 86400 + 10))
F() { t=$1; shift; OTR_TEST_NOW=$t "$AGENT_TEST" -c "$T/fail.conf" "$@"; }
nposts() { ls "$T/posts" | wc -l; }
for t in $T0 $((T0 + 300)); do
    set +e
    OTR_TEST_KILL_AT=after-failure F $t run 2>>"$T/agent.log"
    status=$?
    set -e
    [ "$status" = 137 ] || fail "after-failure at $t: the agent was not killed (exit $status)"
done
[ "$(nposts)" = 2 ] || fail "after-failure: $(nposts) POST(s), want 2"
F $((T0 + 301)) status --day "$D" | grep -q "/fail  pending  attempts 2  HTTP 500" ||
    fail "after-failure: the attempts were lost: $(F $((T0 + 301)) status --day "$D")"
F $((T0 + 899)) run 2>>"$T/agent.log" || fail "after-failure: run within the back-off"
[ "$(nposts)" = 2 ] || fail "after-failure: the back-off was lost (sent again before 10 minutes)"
F $((T0 + 86400)) run 2> "$T/giveup.err" || fail "after-failure: run at 24 hours"
grep -q "f.example: report for $D given up" "$T/giveup.err" ||
    fail "after-failure: not given up 24 hours after the first attempt: $(cat "$T/giveup.err")"
[ "$(nposts)" = 3 ] || fail "after-failure: $(nposts) POST(s) in the end, want 3"
pass "killed after-failure twice: attempts, back-off and the 24-hour window kept"
