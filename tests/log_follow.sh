#!/bin/sh
# The log follower (role "log") against a mail log written piecewise from the real Postfix
# 3.7 capture: a line split across writes, rotation by rename (with a late line written to
# the old file), truncation, restarts (also with a rotation while stopped), and stdin.
# After each step the stored sessions equal what import-log finds in the same stream read
# in one go: nothing skipped, nothing counted twice.
. "$top_srcdir/tests/lib.sh"
need python3
SRC="$DATA/logs/postfix-3.7-rfc3339.log"
DAY=2026-11-22
sed -n '1,40p' "$SRC" > "$T/p1"
sed -n '41,50p' "$SRC" > "$T/p2a"
sed -n '51,95p' "$SRC" > "$T/p2b"
cp "$SRC" "$T/p3"
cp "$SRC" "$T/p4"
# Sessions nest in the edge cases (one process's session spans another's): stopping after
# line 7 leaves one open while a later one is complete.
sed 's/^Nov 22 \(..:..:..\) /2026-11-22T\1Z /' "$DATA/logs/postfix-edge.log" > "$T/edge"
sed -n '1,7p' "$T/edge" > "$T/p5a"
sed -n '8,$p' "$T/edge" > "$T/p5b"

# sessions CONF: the sessions counted in the day's reports of CONF's spool.
sessions() {
    "$AGENT" -c "$1" report --day "$DAY" | python3 -c '
import json, sys
print(sum(p["summary"]["total-successful-session-count"] + p["summary"]["total-failure-session-count"]
          for l in sys.stdin for p in json.loads(l)["policies"]))'
}
# ref PARTS...: sessions import-log finds in the concatenation of PARTS (a fresh spool each:
# it runs in a command substitution's subshell).
ref() {
    local r
    r=$(mktemp -d "$T/ref.XXXXXX")
    write_conf "$r/c.conf"
    sed -i "s|^spool_directory = .*|spool_directory = $r/spool|" "$r/c.conf"
    (cd "$T" && cat "$@") | "$AGENT" -c "$r/c.conf" import-log - > /dev/null
    sessions "$r/c.conf"
}
has_sessions() { [ "$(sessions "$T/c.conf")" -eq "$1" ]; }

# TLSA lookups of the DANE sessions go nowhere (a closed local port, never the internet);
# each takes the resolver timeout (5 s), and a loaded CI machine adds to it: hence waits
# of 90 s (a passing run takes a few seconds).
write_conf "$T/c.conf" "log_follow=$T/mail.log" "resolver=127.0.0.1@9"
start_daemon "$T/c.conf"

# 1: the file appears after the start; a line arrives in two writes.
head -c 3000 "$T/p1" > "$T/mail.log"
sleep 0.3
tail -c +3001 "$T/p1" >> "$T/mail.log"
want=$(ref p1)
wait_for 90 has_sessions "$want"
pass "new file, split line: $want sessions"

# 2: rotation by rename; the writer finishes in the old file before opening the new one.
mv "$T/mail.log" "$T/mail.log.1"
cat "$T/p2a" >> "$T/mail.log.1"
cat "$T/p2b" > "$T/mail.log"
want=$(ref p1 p2a p2b)
wait_for 90 has_sessions "$want"
pass "rotation by rename: $want sessions"

# 3: lines written while the daemon is down are read after its restart, once.
stop_daemon
cat "$T/p3" >> "$T/mail.log"
start_daemon "$T/c.conf"
want=$(ref p1 p2a p2b p3)
wait_for 90 has_sessions "$want"
pass "restart: $want sessions"

# 4: truncation in place (copytruncate).
: > "$T/mail.log"
sleep 1
cat "$T/p4" >> "$T/mail.log"
want=$(ref p1 p2a p2b p3 p4)
wait_for 90 has_sessions "$want"
pass "truncation: $want sessions"

# 5: stopped in the middle of sessions, rotated while down: the rest of mail.log.1 first,
# then the new file; the sessions straddling the rotation are still joined.
cat "$T/p5a" >> "$T/mail.log"
wait_for 90 has_sessions "$(ref p1 p2a p2b p3 p4 p5a)"
sleep 1.5 # the position is saved once a second
stop_daemon
mv "$T/mail.log" "$T/mail.log.1"
cat "$T/p5b" > "$T/mail.log"
start_daemon "$T/c.conf"
want=$(ref p1 p2a p2b p3 p4 p5a p5b)
wait_for 90 has_sessions "$want"
sleep 1
has_sessions "$want" || fail "more sessions than the stream holds: $(sessions "$T/c.conf") > $want"
stop_daemon
grep -q 'log: resuming in .*mail.log.1' "$T/daemon.log" || fail "did not resume in mail.log.1"
# The sessions open at the stop were re-read from their first line, and what had been
# stored from the lines re-read was not stored again.
tail -n 20 "$T/daemon.log" | grep -q 'log: stopping: .* replayed=[1-9]' || fail "nothing was replayed"
pass "rotation while stopped: $want sessions"

# 6: the same stream through standard input (log_follow = -).
write_conf "$T/pipe.conf" "log_follow=-" "resolver=127.0.0.1@9"
sed -i -e "s|^spool_directory = .*|spool_directory = $T/pipe|" \
    -e "s|^tlsrpt_socket = .*|tlsrpt_socket = $T/pipe.sock|" "$T/pipe.conf"
(cd "$T" && cat p1 p2a p2b p3 p4 p5a p5b) | "$OTR" -f -c "$T/pipe.conf" >> "$T/pipe.log" 2>&1 &
PIPE_PID=$!
at_exit "kill $PIPE_PID 2>/dev/null"
n=0
until [ "$(sessions "$T/pipe.conf")" -eq "$want" ]; do
    n=$((n + 1)); [ "$n" -lt 300 ] || fail "stdin: $(sessions "$T/pipe.conf") sessions, want $want"
    sleep 0.1
done
kill -TERM "$PIPE_PID"; wait "$PIPE_PID" 2>/dev/null || true
pass "stdin: $want sessions"
