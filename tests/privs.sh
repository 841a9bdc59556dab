#!/bin/sh
# Started as root, the daemon creates its socket with the configured owner, group and mode,
# then runs its roles as `user`, writing journals of mode 0640 in a spool it owns.
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges (CI runs as root)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
chmod 755 "$T"
group=$(id -gn nobody)
write_conf "$T/c.conf" "user=nobody" "tlsrpt_socket_group=$group" "tlsrpt_socket_mode=0660"
start_daemon "$T/c.conf"
[ "$(stat -c '%G %a' "$T/tlsrpt.sock")" = "$group 660" ] || fail "socket: $(stat -c '%U %G %a' "$T/tlsrpt.sock")"
child=$(pgrep -P "$DAEMON_PID" | head -n 1)
[ -n "$child" ] || fail "no role process"
[ "$(ps -o user= -p "$child" | tr -d ' ')" = nobody ] || fail "role runs as $(ps -o user= -p "$child")"
[ "$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" = nobody ] || fail "supervisor kept root"
grep Groups: "/proc/$child/status" | grep -qw 0 && fail "root group kept"
"$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q accepted=1 || fail "send"
stop_daemon
jnl=$(ls "$T"/spool/journal/*/tlsrpt.jnl)
[ "$(stat -c '%U %a' "$jnl")" = "nobody 640" ] || fail "journal: $(stat -c '%U %a' "$jnl")"
[ "$(stat -c '%U %a' "$T/spool")" = "nobody 750" ] || fail "spool: $(stat -c '%U %a' "$T/spool")"

# A user that does not exist is a clear start-up error.
write_conf "$T/bad.conf" "user=no-such-user-otr"
if "$OTR" -f -c "$T/bad.conf" 2> "$T/err"; then fail "started with a missing user"; fi
grep -q 'user "no-such-user-otr" does not exist' "$T/err" || { cat "$T/err"; fail "message"; }

# The agent refuses root without -u, and with -u works as that user: what it creates in the
# spool belongs to the user, with explicit modes (journal 0640, lock 0600).
if "$AGENT_BIN" -c "$T/c.conf" config > /dev/null 2> "$T/err"; then fail "agent ran as root without -u"; fi
grep -q 'refusing to run as root: give -u USER' "$T/err" || { cat "$T/err"; fail "agent message"; }
"$AGENT_BIN" -u no-such-user-otr -c "$T/c.conf" config > /dev/null 2> "$T/err" && fail "agent: missing user"
grep -q 'user "no-such-user-otr" does not exist' "$T/err" || { cat "$T/err"; fail "agent user message"; }
chmod 644 "$T/c.conf"
rm -rf "$T"/spool/journal/*
"$AGENT_BIN" -u nobody -c "$T/c.conf" import-log "$DATA/logs/postfix-3.7-rfc3339.log" > "$T/import.out" 2>&1 ||
    { cat "$T/import.out"; fail "agent -u nobody import-log"; }
jnl=$(ls "$T"/spool/journal/*/import.jnl | head -n 1)
[ "$(stat -c '%U %a' "$jnl")" = "nobody 640" ] || fail "agent journal: $(stat -c '%U %a' "$jnl")"
for f in $(find "$T/spool" -newer "$T/c.conf" -type f); do
    case "$(stat -c '%U %a' "$f")" in
    "nobody 600" | "nobody 640") ;;
    *) fail "agent created $f as $(stat -c '%U %a' "$f")" ;;
    esac
done

# The DKIM key, readable by root alone, is loaded before the switch to nobody: run starts
# (nothing is due, the relay is never reached); nobody on its own cannot read the key.
need openssl setpriv
openssl genrsa -out "$T/dkim.key" 2048 2>/dev/null || fail "openssl genrsa"
chmod 600 "$T/dkim.key"
write_conf "$T/d.conf" "user=nobody" "report_from=tlsrpt@sender.test" "dkim_domain=sender.test" \
    "dkim_selector=s1" "dkim_key_file=$T/dkim.key" "smtp_relay=127.0.0.1:1"
chmod 644 "$T/d.conf"
"$AGENT_BIN" -u nobody -c "$T/d.conf" run > "$T/run.out" 2>&1 || { cat "$T/run.out"; fail "agent -u nobody run"; }
[ ! -s "$T/run.out" ] || { cat "$T/run.out"; fail "agent run printed something"; }
if setpriv --reuid=nobody --regid="$group" --clear-groups "$AGENT_BIN" -c "$T/d.conf" run > "$T/run.out" 2>&1; then
    fail "nobody could read the root-only key: the test proves nothing"
fi
grep -q 'dkim_key_file: .*Permission denied' "$T/run.out" || { cat "$T/run.out"; fail "key error"; }
pass "privileges dropped"
