#!/bin/sh
# A local user holding 1,000 idle connections to the policy service does not keep Postfix's
# own socketmap client (postmap -q, a key answered at once) from an answer: one peer holds at
# most half the places, and when all are taken the longest idle connection makes room. The
# socket is made world-writable here, as an inet socket or a loose mode would be. The time
# postmap took is printed, not asserted (bench/RESULTS.md keeps it).
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to run the holder as another user"
need postmap setpriv
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
id nobody >/dev/null 2>&1 || skip "no user nobody"
chmod 755 "$T"
write_conf "$T/c.conf" "policy_socket=unix:$T/policy.sock" "policy_socket_mode=0666" \
    "resolver=127.0.0.1@9" "policy_lookup_timeout=1s"
start_daemon "$T/c.conf"
wait_for 10 test -S "$T/policy.sock"
mkdir -p "$T/pfq"
printf 'compatibility_level = 3.6\n' > "$T/pfq/main.cf"

# lookup LABEL: one postmap -q of a key the service answers at once (NOTFOUND); fails the
# test unless that answer came, and prints how long it took.
lookup() {
    local status=0 start end
    start=$(date +%s.%N)
    timeout 60 postmap -c "$T/pfq" -q .example.com "socketmap:unix:$T/policy.sock:sts" \
        > "$T/q.out" 2> "$T/q.err" || status=$?
    end=$(date +%s.%N)
    echo "# postmap -q answered in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') s $1"
    [ ! -s "$T/q.err" ] || { cat "$T/q.err"; fail "postmap's lookup failed $1"; }
    [ "$status" -eq 1 ] && [ ! -s "$T/q.out" ] || fail "postmap: status $status, $(cat "$T/q.out")"
}
lookup "(alone; the first postmap run)"
lookup "(alone)"

# The holder: 1,000 connections that never send a byte, kept until it is killed.
cat > "$T/hold.py" <<'PY'
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (1200, max(1200, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
held, busy = [], 0
for i in range(1000):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    for attempt in range(200):  # the backlog is full until the service accepts
        try:
            s.connect(sys.argv[1])
            held.append(s)
            break
        except BlockingIOError:
            busy += 1
            time.sleep(0.01)
    else:
        break  # the service takes no more: hold what we have
print("holding %d (backlog full %d times)" % (len(held), busy), flush=True)
time.sleep(600)
PY
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups /usr/bin/python3 "$T/hold.py" \
    "$T/policy.sock" > "$T/hold.out" 2>&1 &
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
wait_for 60 grep -q holding "$T/hold.out"
cat "$T/hold.out"

lookup "beside 1000 idle connections"
kill "$HOLDER" 2>/dev/null
stop_daemon
grep -q 'policy: uid [0-9]* holds 512 connections, the most one peer may' "$T/daemon.log" ||
    fail "the holder was not capped"

pass "1000 idle connections do not keep postmap from an answer"
