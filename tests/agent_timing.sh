#!/bin/sh
# Delivery timing, with the clock set through OTR_TEST_NOW: an unfinished day is not sent,
# first attempts are spread over send_window by a stable offset, failures back off from
# 5 minutes and are given up 24 hours after the first attempt.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"

make_ca
start_https
U="https://reports.example:$HTTPS_PORT"
{
    echo "  local-zone: \"example.\" static"
    echo "  local-data: 'reports.example. A 127.0.0.1'"
    echo "  local-data: '_smtp._tls.fail.example. TXT \"v=TLSRPTv1; rua=$U/fail\"'"
    for i in 1 2 3 4 5 6 7 8; do
        echo "  local-data: '_smtp._tls.d$i.example. TXT \"v=TLSRPTv1; rua=$U/ok\"'"
    done
} > "$T/zones"
start_unbound "$T/zones"
write_conf "$T/a.conf" "resolver=$DNS_RESOLVER" "https_ca_file=$T/ca.pem" \
    "https_allow_private=yes" "send_window=20h" $DKIM_CONF
D=$(days_ago 3)
END=$(($(date -u -d "$D" +%s) + 86400))
for i in 1 2 3 4 5 6 7 8; do dgram d$i.example; done | put_outcomes "$D"
at() { t=$1; shift; OTR_TEST_NOW=$t "$AGENT_TEST" -c "$T/a.conf" "$@"; }
nposts() { ls "$T/posts" | wc -l; }

# Before the day ends, run leaves it alone.
at $((END - 1)) run || fail "run before the end of the day"
[ "$(nposts)" = 0 ] || fail "an unfinished day was sent"
[ ! -e "$T/spool/state/$D.state" ] || fail "an unfinished day got a state"

# Right after midnight nothing is due yet (offsets are spread over 20 hours); the offsets
# are stable: a second run plans the same times.
at $((END + 1)) run || fail "run at 00:00:01"
at $((END + 1)) status --day "$D" | sed -n 's/^  \(d[0-9].example\)  pending  next \(.*\)/\1 \2/p' > "$T/due1"
at $((END + 2)) run || fail "second run"
at $((END + 2)) status --day "$D" | sed -n 's/^  \(d[0-9].example\)  pending  next \(.*\)/\1 \2/p' > "$T/due2"
[ "$(wc -l < "$T/due1")" = 8 ] || fail "not 8 pending domains: $(cat "$T/due1")"
cmp -s "$T/due1" "$T/due2" || fail "the planned times changed between runs"
[ "$(cut -d' ' -f2 "$T/due1" | sort -u | wc -l)" -ge 4 ] || fail "first attempts are not spread: $(cat "$T/due1")"
[ "$(nposts)" = 0 ] || fail "a report went out before its time"

# At each domain's time, exactly that domain goes out.
first=$(cut -d' ' -f2 "$T/due1" | sort | head -1)
tfirst=$(date -u -d "$first" +%s)
[ "$tfirst" -ge "$END" ] && [ "$tfirst" -lt $((END + 72000)) ] || fail "due time $first outside the window"
ndue=$(grep -c " $first\$" "$T/due1")
at $((tfirst - 1)) run
[ "$(nposts)" = 0 ] || fail "sent one second early"
at "$tfirst" run
[ "$(nposts)" = "$ndue" ] || fail "at $first: $(nposts) reports, want $ndue"
at $((END + 72000)) run
[ "$(nposts)" = 8 ] || fail "after the window: $(nposts) reports, want 8"
pass "unfinished day, spread and stable first attempts"

# Back-off and giving up, for a report whose only endpoint answers 500 (send_window 0).
write_conf "$T/b.conf" "spool_directory=$T/spool2" "resolver=$DNS_RESOLVER" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "send_window=0" $DKIM_CONF
dgram fail.example | "$OUTCOMES" "$T/spool2" "$D" 2>>"$T/outcomes.log"
bt() { t=$1; shift; OTR_TEST_NOW=$t "$AGENT_TEST" -c "$T/b.conf" "$@"; }
T0=$((END + 10))
base=$(nposts)
expect_posts() { [ "$(nposts)" = $((base + $1)) ] || fail "$2: $(($(nposts) - base)) attempts, want $1"; }
bt $T0 run; expect_posts 1 "first run"
bt $((T0 + 299)) run; expect_posts 1 "retry before 5 minutes"
bt $((T0 + 300)) run; expect_posts 2 "retry at 5 minutes"
bt $((T0 + 899)) run; expect_posts 2 "retry before 10 more minutes"
bt $((T0 + 900)) run; expect_posts 3 "retry at 10 more minutes"
bt $((T0 + 2100)) run; expect_posts 4 "retry at 20 more minutes"
bt $((T0 + 86399)) run; expect_posts 5 "a later retry"
bt $((T0 + 86400)) run 2> "$T/giveup.err"; expect_posts 6 "the last attempt at 24 hours"
grep -q "fail.example: report for $D given up" "$T/giveup.err" || fail "giving up is not said: $(cat "$T/giveup.err")"
bt $((T0 + 90000)) run; expect_posts 6 "an attempt after giving up"
bt $((T0 + 90000)) status --day "$D" | grep -q "^$D  domains 1  pending 0  delivered 0  failed 1 " ||
    fail "status after giving up: $(bt $((T0 + 90000)) status --day "$D")"
pass "back-off from 5 minutes, given up after 24 hours"
