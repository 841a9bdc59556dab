#!/bin/sh
# SIGKILL the policy, log and milter roles together 50 times while each has work coming
# in (tests/faults_kill.sh does the same for the tlsrpt role): the supervisor restarts
# each every time, and
#   policy: every query gets a whole, right answer or a clean close (EOF before any byte of
#           the answer, which Postfix retries); no cache file is ever corrupt;
#   log:    every session of the followed file is in the spool exactly once;
#   milter: every report that got its "continue" at end of message is stored exactly once.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
need pgrep python3 miltertest
KILLS=50
NDOM=6
DAY=2026-11-22 # the day of the sessions in the Postfix capture

# Policies that are fetched again every few seconds (half their max_age), so that cache
# files are being rewritten while the kills land.
W=$T/www
mkdir -p "$W"
sts_ca
for i in $(seq 1 $NDOM); do
    printf 'version: STSv1\nmode: enforce\nmx: mx.pk%s.example\nmax_age: 10\n' "$i" > "$W/pk$i.txt"
    sts_site "pk$i.example" file "$W/pk$i.txt"
    sts_txt "pk$i.example" "pk$i"
done
start_sts_world

write_conf "$T/c.conf" "policy_socket=unix:$T/policy.sock" "log_follow=$T/mail.log" \
    "milter_socket=local:$T/milter.sock" "resolver=$DNS_RESOLVER" "https_ca_file=$T/ca.pem" \
    "https_allow_private=yes" "sts_fetch_timeout=4s" "policy_lookup_timeout=1s"
sed -i 's|^tlsrpt_socket = .*|tlsrpt_socket =|' "$T/c.conf"
: > "$T/mail.log"
"$OTR" -f -c "$T/c.conf" >> "$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 10 test -S "$T/policy.sock"
wait_for 10 test -S "$T/milter.sock"

# ---- load ----
# policy: 4 clients, each asking on one connection until the answer is missing, then on a
# new one. Counts answers and clean closes; anything else is a failure.
cat > "$T/policy_client.py" <<'EOF'
import os, socket, sys, time
sock, ndom, stop, me = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
counts = {"answers": 0, "closes": 0, "ok": 0}
def bad(why):
    print("BAD", why, counts, flush=True)
    sys.exit(1)
def ask(s, dom):
    q = b"sts " + dom.encode()
    s.sendall(b"%d:%s," % (len(q), q))
    got = b""
    while True:
        try:
            b = s.recv(4096)
        except ConnectionResetError:
            b = b""
        if not b:
            if got:
                bad("partial answer %r for %s" % (got, dom))
            return None
        got += b
        if b":" in got:
            n, rest = got.split(b":", 1)
            if not n.isdigit() or int(n) > 10000:
                bad("malformed answer %r" % got)
            if len(rest) > int(n):
                if rest[int(n):] != b"," or len(rest) != int(n) + 1:
                    bad("malformed answer %r" % got)
                return rest[:int(n)]
i = 0
while not os.path.exists(stop):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(sock)
        while not os.path.exists(stop):
            dom = "pk%d.example" % (i % ndom + 1)
            i += 1
            try:
                a = ask(s, dom)
            except (BrokenPipeError, ConnectionResetError):
                a = None
            except socket.timeout:
                bad("no answer for %s within 20s" % dom)
            if a is None:
                counts["closes"] += 1
                break
            counts["answers"] += 1
            want = ("OK secure match=mx.%s servername=hostname" % dom).encode()
            if a == want:
                counts["ok"] += 1
            elif a != b"NOTFOUND ":
                bad("wrong answer %r for %s" % (a, dom))
            time.sleep(0.01)
    finally:
        s.close()
print("client %s: %d answers (%d with the policy), %d clean closes" %
      (me, counts["answers"], counts["ok"], counts["closes"]), flush=True)
EOF
PCLIENTS=""
for c in 1 2 3 4; do
    python3 "$T/policy_client.py" "$T/policy.sock" "$NDOM" "$T/stop" "$c" > "$T/policy$c.out" 2>&1 &
    PCLIENTS="$PCLIENTS $!"
done
at_exit "touch $T/stop; wait $PCLIENTS 2>/dev/null"

# log: the Postfix capture appended again and again, a few lines per write, each copy a
# minute after the one before (identical times would make the recipient lines of one copy
# repeat those of the previous one, which the parser counts once). Without the line that
# marks the report mail of opentlsrpt itself (message-id ...otr-...@): the parser remembers
# those queue ids for two days, longer than any saved position reaches back, so a restart
# between that line and the mail's delivery counts the delivery as a session (one more,
# with a kill or without). A known limit of the resume position, not of the kill recovery.
python3 - "$DATA/logs/postfix-3.7-rfc3339.log" "$T/mail.log" "$T/stop" <<'EOF' &
import os, sys, time
text = "".join(l for l in open(sys.argv[1]) if ".otr-" not in l)
n = 0
while not os.path.exists(sys.argv[3]):  # whole copies only: no session is left half-written
    lines = text.replace("T22:43:", "T%02d:%02d:" % (10 + n // 60, n % 60)).splitlines(True)
    n += 1
    for i in range(0, len(lines), 7):
        with open(sys.argv[2], "a") as f:
            f.write("".join(lines[i:i + 7]))
        time.sleep(0.05)
EOF
LOGGER=$!
at_exit "touch $T/stop; wait $LOGGER 2>/dev/null"

# milter: one report after the other, each with its own report-id; the reply letter of
# each (x: miltertest failed, i.e. the milter went away mid-message) goes to milter.out.
(
    n=0
    while [ ! -e "$T/stop" ]; do
        n=$((n + 1))
        sed "s/plain-2026-11-21/kill-$n/g" "$DATA/inreports/json-plain.eml" > "$T/m.eml"
        if MILTER_SOCK="local:$T/milter.sock" MSG="$T/m.eml" TLS=1 \
            miltertest -s "$top_srcdir/tests/milter/send.lua" > "$T/mt.out" 2>&1; then
            echo "$n $(sed -n 's/^reply=\(.\).*/\1/p' "$T/mt.out")" >> "$T/milter.out"
        else
            echo "$n x" >> "$T/milter.out"
        fi
    done
) &
MILTERS=$!
at_exit "touch $T/stop; wait $MILTERS 2>/dev/null"

# The log role stores twice what it wrote between its first write to a day's journal and
# the save of its position right after (see role_log.c); the kills start once that is past.
marked() { [ "$(wc -w < "$T/spool/log-follow.state")" -eq 6 ]; }
wait_for 20 marked

# ---- the kills ----
roles() { pgrep -P "$DAEMON_PID" | sort; }
all_up() { [ "$(roles | wc -l)" -eq 3 ]; }
all_new() { all_up && [ -z "$(roles | comm -12 - "$T/killed")" ]; }
start=$(date +%s)
i=0
while [ "$i" -lt "$KILLS" ]; do
    wait_for 15 all_up
    sleep 0.3 # let them take in some load
    roles > "$T/killed"
    # shellcheck disable=SC2046
    kill -KILL $(cat "$T/killed")
    wait_for 15 all_new
    i=$((i + 1))
done
echo "$KILLS kills of each role in $(($(date +%s) - start))s"
sleep 2 # some load for the last ones
touch "$T/stop"
for p in $PCLIENTS; do wait "$p" || fail "a policy client failed: $(grep -h BAD "$T"/policy*.out)"; done
wait "$LOGGER" || fail "the log writer failed"
wait "$MILTERS" || fail "the milter client loop failed"
cat "$T"/policy*.out

for r in policy log milter; do
    k=$(grep -c "$r: process [0-9]* killed by signal 9" "$T/daemon.log" || true)
    [ "$k" -eq "$KILLS" ] || fail "$r: $k kills logged, $KILLS made"
done

# policy: the role came back and answers from its cache; no cache file is corrupt.
for d in $(seq 1 $NDOM); do
    a=$(python3 "$top_srcdir/tests/tools/socketmap_ask.py" "$T/policy.sock" sts "pk$d.example") ||
        fail "pk$d.example: no answer after the kills"
    [ "$a" = "OK secure match=mx.pk$d.example servername=hostname" ] || fail "pk$d.example after the kills: $a"
done
# The policies were fetched (and their cache files rewritten) while the kills went on.
fetches=$(grep -c 'policy: pk[0-9]*\.example: fetched id' "$T/daemon.log" || true)
echo "policy: $fetches fetches (each rewrites a cache file)"
[ "$fetches" -gt "$NDOM" ] || fail "policy: only $fetches fetches: the cache was not rewritten under the kills"
! grep -q 'corrupt cache file' "$T/daemon.log" || fail "$(grep 'corrupt cache file' "$T/daemon.log" | head -n 3)"
for d in $(seq 1 $NDOM); do
    "$AGENT" -c "$T/c.conf" policy "pk$d.example" > "$T/pol.out" 2>&1 || fail "agent policy pk$d.example: $(cat "$T/pol.out")"
    grep -q "mx.pk$d.example" "$T/pol.out" || fail "pk$d.example not cached: $(cat "$T/pol.out")"
done
pass "policy: every query answered whole or cleanly closed, cache intact"

# log: the sessions stored are those import-log finds in the whole file, each once.
sessions() {
    "$AGENT" -c "$1" report --day "$DAY" 2> "$T/report.err" | python3 -c '
import json, sys
print(sum(p["summary"]["total-successful-session-count"] + p["summary"]["total-failure-session-count"]
          for l in sys.stdin for p in json.loads(l)["policies"]))'
}
mkdir "$T/ref"
write_conf "$T/ref/c.conf"
sed -i "s|^spool_directory = .*|spool_directory = $T/ref/spool|" "$T/ref/c.conf"
"$AGENT" -c "$T/ref/c.conf" import-log "$T/mail.log" > /dev/null || fail "import-log"
want=$(sessions "$T/ref/c.conf")
[ "$want" -gt 0 ] || fail "log: import-log finds no session in the log written"
settled() { [ "$(sessions "$T/c.conf")" -ge "$want" ]; }
wait_for 30 settled
sleep 1.5
stop_daemon
got=$(sessions "$T/c.conf")
[ ! -s "$T/report.err" ] || fail "corrupt or torn records in the journal: $(cat "$T/report.err")"
echo "log: $(wc -l < "$T/mail.log") lines, $want sessions in them, $got stored"
[ "$got" -ge "$want" ] || fail "log: $got sessions stored, $want in the file: some were lost"
[ "$got" -eq "$want" ] || fail "log: $got sessions stored, $want in the file: some twice"
pass "log: every session stored exactly once"

# milter: every report answered "continue" is stored, once; no report is stored twice.
python3 - "$T/milter.out" "$T/spool/reports" <<'EOF' || fail "milter: see above"
import json, os, sys
replies = dict(l.split() for l in open(sys.argv[1]))
stored = {}
for f in os.listdir(sys.argv[2]):
    if f.endswith(".json"):
        rid = json.load(open(os.path.join(sys.argv[2], f)))["key"]["report-id"]
        stored[rid] = stored.get(rid, 0) + 1
ok = [n for n, r in replies.items() if r == "c"]
missing = [n for n in ok if stored.get("kill-" + n, 0) != 1]
twice = [r for r, c in stored.items() if c != 1]
print("milter: %d reports sent, %d continued, %d failed with the milter, %d stored"
      % (len(replies), len(ok), sum(r == "x" for r in replies.values()), len(stored)))
other = [n for n, r in replies.items() if r not in "cx"]
if not ok:
    print("milter: no report was continued: nothing was tested")
    sys.exit(1)
if missing or twice or other:
    print("not stored once:", missing, "stored twice:", twice, "other replies:", other)
    sys.exit(1)
EOF
pass "milter: every continued report stored exactly once"
