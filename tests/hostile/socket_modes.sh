#!/bin/sh
# Socket defaults admit Postfix and no one else: with no socket setting
# but the paths, the datagram, policy and milter sockets are group postfix, mode 0660, and
# a local user outside that group can neither forge outcomes nor reach the policy service
# or the milter; the postfix user can.
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root: the defaults apply when the daemon starts as root"
need setpriv
id postfix >/dev/null 2>&1 || skip "no user postfix (tests/deps.sh installs Postfix)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
chmod 755 "$T"
mkdir -m 755 "$T/run"
write_conf "$T/c.conf" "policy_socket=unix:$T/run/policy.sock" \
    "milter_socket=local:$T/milter/milter.sock"
# write_conf sets nothing else about the sockets: these are the defaults.
grep -q "socket_group\|socket_mode" "$T/c.conf" && fail "write_conf sets socket modes"
start_daemon "$T/c.conf"
wait_for 10 test -S "$T/milter/milter.sock"
wait_for 10 test -S "$T/run/policy.sock"
for s in tlsrpt.sock run/policy.sock milter/milter.sock; do
    [ "$(stat -c '%G %a' "$T/$s")" = "postfix 660" ] || fail "$s: $(stat -c '%U:%G %a' "$T/$s")"
done
[ "$(stat -c '%U:%G %a' "$T/milter")" = "root:postfix 2750" ] || fail "milter dir: $(stat -c '%U:%G %a' "$T/milter")"

as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
as_postfix() { setpriv --reuid=postfix --regid="$(id -g postfix)" --init-groups "$@"; }
# The system python3: root's PATH may name one other users cannot run.
CONNECT="import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"


as_nobody "$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" > "$T/nobody.out" 2>&1 &&
    grep -q accepted=1 "$T/nobody.out" && fail "a local user forged an outcome"
as_postfix "$SEND" -s "$T/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q accepted=1 ||
    fail "postfix cannot send outcomes"
for s in run/policy.sock milter/milter.sock; do
    as_nobody /usr/bin/python3 -c "$CONNECT" "$T/$s" 2>/dev/null && fail "a local user reached $s"
    as_postfix /usr/bin/python3 -c "$CONNECT" "$T/$s" || fail "postfix cannot reach $s"
done
stop_daemon
grep -q 'stopping: received=1 stored=1' "$T/daemon.log" || fail "not exactly postfix's outcome stored"
pass "sockets admit postfix and no one else"
