#!/bin/sh
# Command-line behaviour: -n prints the effective settings, configuration errors name the
# file and line, overrides, usage errors.
. "$top_srcdir/tests/lib.sh"

write_conf "$T/c.conf" "retention_days=9"
"$OTR" -n -c "$T/c.conf" > "$T/n.out" || fail "-n on a good file"
grep -qx 'retention_days = 9' "$T/n.out" || fail "-n does not show retention_days = 9"
grep -qx 'send_window = 14400s' "$T/n.out" || fail "-n does not show the default send_window"
"$AGENT" -c "$T/c.conf" config > "$T/a.out" || fail "agent config"
cmp -s "$T/n.out" "$T/a.out" || fail "the daemon and the agent see different settings"
"$AGENT" -c "$T/c.conf" config -n > "$T/set.out"
grep -qx 'retention_days = 9' "$T/set.out" || fail "config -n misses a set value"
! grep -q '^send_window' "$T/set.out" || fail "config -n shows a default"
"$AGENT" -c "$T/c.conf" -o retention_days=3 config | grep -qx 'retention_days = 3' || fail "-o"

# -n warns about settings that together cannot report failed MTA-STS fetches.
"$OTR" -n -c "$T/c.conf" 2> "$T/nw.err" >/dev/null || fail "-n failed"
[ -s "$T/nw.err" ] && fail "-n warned about the defaults: $(cat "$T/nw.err")"
"$OTR" -n -c "$T/c.conf" -o policy_socket=unix:$T/p.sock -o tlsrpt_socket= 2> "$T/nw.err" >/dev/null ||
    fail "-n failed with a warning"
grep -q 'neither tlsrpt_socket nor log_follow' "$T/nw.err" || fail "no warning without a role seeing sessions"
"$OTR" -n -c "$T/c.conf" -o policy_socket=unix:$T/p.sock -o postfix_tls_level=none 2> "$T/nw.err" >/dev/null
grep -q 'postfix_tls_level = none' "$T/nw.err" || fail "no warning at postfix_tls_level = none"

printf 'spool_directory = /tmp\nretention_days = forever\n' > "$T/bad.conf"
if "$OTR" -n -c "$T/bad.conf" 2> "$T/err"; then fail "bad value accepted"; fi
grep -q "bad.conf, line 2: bad value \"forever\" for retention_days" "$T/err" || { cat "$T/err"; fail "error does not name file and line"; }
printf '\n\nmystery = 1\n' > "$T/bad2.conf"
if "$AGENT" -c "$T/bad2.conf" config 2> "$T/err"; then fail "unknown setting accepted"; fi
grep -q 'bad2.conf, line 3: unknown setting "mystery"' "$T/err" || { cat "$T/err"; fail "unknown setting message"; }
if "$OTR" -n -c "$T/missing.conf" 2> "$T/err"; then fail "missing -c file accepted"; fi
grep -q "cannot read configuration file $T/missing.conf" "$T/err" || fail "missing file message"

if "$AGENT" -c "$T/c.conf" report 2>/dev/null; then fail "report without --day"; fi
if "$AGENT" -c "$T/c.conf" report --day 2026-02-30 2> "$T/err"; then fail "bad day accepted"; fi
grep -q 'expected a date' "$T/err" || fail "bad day message"
if "$AGENT" -c "$T/c.conf" frobnicate 2>/dev/null; then fail "unknown command accepted"; fi
# A subcommand's options may follow its operands (GNU getopt order): the operand is then
# judged, where a parser stopping at it would print the usage.
if "$AGENT" -c "$T/c.conf" policy 'bad domain!' --fetch 2> "$T/err"; then fail "policy: bad domain accepted"; fi
grep -q '"bad domain!" is not a domain name' "$T/err" || { cat "$T/err"; fail "policy: --fetch after the domain"; }
if "$AGENT" -c "$T/c.conf" check 'bad domain!' --format json 2> "$T/err"; then fail "check: bad domain accepted"; fi
grep -q '"bad domain!" is not a domain name' "$T/err" || { cat "$T/err"; fail "check: --format after the domain"; }
if "$AGENT" -c "$T/c.conf" check -- --format 2> "$T/err"; then fail "check: -- did not end the options"; fi
grep -q '"--format" is not a domain name' "$T/err" || { cat "$T/err"; fail "check: -- does not end the options"; }
if "$OTR" -x 2>/dev/null; then fail "unknown option accepted"; fi

# No role enabled: a clear refusal, not a silent idle daemon.
write_conf "$T/none.conf" "tlsrpt_socket="
if "$OTR" -f -c "$T/none.conf" 2> "$T/err"; then fail "started with no role"; fi
grep -q 'no role is enabled' "$T/err" || fail "no-role message"

# SIGHUP with a broken file keeps the running configuration; a good one is applied.
start_daemon "$T/c.conf"
cp "$T/c.conf" "$T/c.good"
echo "retention_days = never" >> "$T/c.conf"
kill -HUP "$DAEMON_PID"
wait_for 5 grep -q 'keeping the running one' "$T/daemon.log"
kill -0 "$DAEMON_PID" || fail "daemon died on a bad reload"
cp "$T/c.good" "$T/c.conf"
kill -HUP "$DAEMON_PID"
wait_for 5 grep -q 'reloading configuration' "$T/daemon.log"
wait_for 5 test -S "$T/tlsrpt.sock"
"$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q 'accepted=1' || fail "not accepting after reload"
stop_daemon
grep -q 'stored=1 ' "$T/daemon.log" || fail "outcome after reload not stored"
pass "command line"
