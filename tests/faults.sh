#!/bin/sh
# The tlsrpt role against a failing spool, each a real file system fault:
#   full     a 512 KiB tmpfs as the spool, filled up while outcomes arrive: one error, the
#            socket keeps being drained with what could not be stored counted, writing
#            resumes (and says so) once space returns, and every stored record reads back;
#   readonly the journal removed and its directory made read-only (chmod) under the daemon
#            running as nobody: one error, losses counted, a new journal once writable;
#   removed  the journal directory deleted under the running daemon: a new journal is
#            started instead of writing on into the deleted file.
# Accounting is exact in each: what the kernel accepted = received = stored + lost, and
# the report of the day counts exactly what was stored.
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "mounts a tmpfs: needs root (CI runs as root)"
need mount umount python3
D="$DATA/datagrams/tlsa-success.json"

# send N: N datagrams, blocking (nothing refused); prints what the kernel accepted.
send() {
    "$SEND" -b -s "$T/tlsrpt.sock" -n "$1" "$D" > "$T/send.out" || fail "tlsrpt-send"
    sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send.out"
}
# send_until PATTERN: 20 datagrams every half second until the daemon logs PATTERN (the
# end of a write failure needs writes that work for a few seconds); prints the accepted.
send_until() {
    local total=0 end=$(($(date +%s) + 30))
    until grep -q "$1" "$T/daemon.log"; do
        [ "$(date +%s)" -lt "$end" ] || fail "$scenario: timed out waiting for: $1"
        total=$((total + $(send 20)))
        sleep 0.5
    done
    echo "$total"
}
# stat_of NAME: a counter of the last "stopping:" line of the tlsrpt role.
stat_of() { grep 'tlsrpt: stopping:' "$T/daemon.log" | tail -n 1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
# sessions: successful sessions of today's report (the agent reads every journal).
sessions() {
    "$AGENT" -c "$T/c.conf" report --day "$(today)" > "$T/report.json" 2> "$T/report.err" ||
        { cat "$T/report.err"; fail "agent report"; }
    [ ! -s "$T/report.err" ] || { cat "$T/report.err"; fail "the journal does not read back clean"; }
    python3 -c 'import json, sys
print(sum(p["summary"]["total-successful-session-count"] for l in sys.stdin if l.strip()
          for p in json.loads(l)["policies"]))' < "$T/report.json"
}
# check_accounting ACCEPTED: received = accepted, stored = received, written + lost = stored,
# and the spool holds exactly what was written.
check_accounting() {
    local rcv sto wr lost got
    rcv=$(stat_of received) sto=$(stat_of stored) wr=$(stat_of written) lost=$(stat_of lost_on_write)
    [ "$rcv" = "$1" ] || fail "$scenario: kernel accepted $1, daemon received $rcv"
    [ "$sto" = "$rcv" ] || fail "$scenario: received $rcv, stored $sto"
    [ $((wr + lost)) -eq "$sto" ] || fail "$scenario: written $wr + lost $lost != stored $sto"
    got=$(sessions)
    [ "$got" = "$wr" ] || fail "$scenario: written $wr, but the spool holds $got"
    echo "$scenario: accepted $1, written $wr, lost $lost"
    LOST=$lost
}
unmount() { umount "$T/spool" 2>/dev/null || true; }

# --- full
scenario=full
mkdir -p "$T/spool"
mount -t tmpfs -o size=512k,mode=0750 otr-faults "$T/spool" || skip "cannot mount a tmpfs here"
at_exit unmount
write_conf "$T/c.conf"
start_daemon "$T/c.conf"
a1=$(send 200)
sleep 1.5 # let the writer put them on disk before the disk fills
dd if=/dev/zero of="$T/spool/fill" bs=4096 > /dev/null 2>&1 || true
a2=$(send 2000)
wait_for 10 grep -q 'cannot write tlsrpt journal' "$T/daemon.log"
a3=$(send 500)
kill -0 "$DAEMON_PID" || fail "the daemon died on a full disk"
rm -f "$T/spool/fill"
a4=$(send_until 'tlsrpt journal .* written again')
stop_daemon
n=$(grep -c 'cannot write tlsrpt journal' "$T/daemon.log")
[ "$n" -eq 1 ] || { cat "$T/daemon.log"; fail "full: $n errors logged instead of one"; }
check_accounting $((a1 + a2 + a3 + a4))
[ "$LOST" -gt 0 ] || fail "full: nothing was lost: was the disk full at all?"
pass "disk full"

# --- readonly: the journal removed and its directory made read-only at run time; the
# daemon (as nobody, to whom permissions apply) cannot start a new journal until it is
# writable again.
scenario=readonly
umount "$T/spool"
rm -rf "$T/spool" "$T/daemon.log" "$T/tlsrpt.sock"
id nobody > /dev/null 2>&1 || skip "no user nobody"
chmod 755 "$T"
write_conf "$T/c.conf" user=nobody
start_daemon "$T/c.conf"
a1=$(send 100)
sleep 1.5
jdir="$T/spool/journal/$(today)"
chmod 0555 "$jdir"
rm -f "$jdir/tlsrpt.jnl"
a2=$(send 300)
wait_for 10 grep -q 'cannot write tlsrpt journal.*Permission denied' "$T/daemon.log"
kill -0 "$DAEMON_PID" || fail "the daemon died on a read-only spool"
chmod 0750 "$jdir"
a3=$(send_until 'tlsrpt journal .* written again')
stop_daemon
grep -q 'tlsrpt journal of .* was removed; starting a new one' "$T/daemon.log" || fail "removal not noticed"
[ "$(grep -c 'cannot write tlsrpt journal' "$T/daemon.log")" -eq 1 ] || fail "readonly: not logged once"
rcv=$(stat_of received) wr=$(stat_of written) lost=$(stat_of lost_on_write)
[ "$rcv" = $((a1 + a2 + a3)) ] || fail "readonly: accepted $((a1 + a2 + a3)), received $rcv"
[ $((wr + lost)) -eq "$rcv" ] || fail "readonly: written $wr + lost $lost != received $rcv"
[ "$lost" -gt 0 ] || fail "readonly: nothing lost while the directory was read-only"
got=$(sessions)
# The removed journal held the first a1 (and whatever was written into it after the removal,
# before the writer noticed: none, as it checks before each write).
[ "$got" = $((wr - a1)) ] || fail "readonly: written $wr - $a1 removed, but the spool holds $got"
echo "readonly: accepted $rcv, written $wr (of which $a1 removed by hand), lost $lost"
pass "read-only spool"

# --- removed
scenario=removed
rm -rf "$T/spool" "$T/daemon.log" "$T/tlsrpt.sock"
write_conf "$T/c.conf"
start_daemon "$T/c.conf"
a1=$(send 100)
sleep 1.5
rm -rf "$T/spool/journal"
a2=$(send 100)
wait_for 10 grep -q 'tlsrpt journal .* was removed' "$T/daemon.log"
stop_daemon
[ "$(sessions)" = "$a2" ] || fail "removed: $a2 sent after the removal, $(sessions) in the new journal"
pass "journal directory removed"
