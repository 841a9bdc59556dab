#!/bin/bash
# Mail log intake benchmark:
#  1. import-log throughput over a synthetic 2 GiB Postfix log (bench/import_log_gen.py:
#     realistic line mix, ~2% TLS-relevant), printed as lines/s (one core: import-log is
#     single-threaded); the file is read once beforehand so the page cache holds it.
#  2. follower lag: the daemon's log role follows a file written at 20,000 lines/s for
#     30 s; once a second a uniquely named TLS session is appended and the time until its
#     outcome is in the spool journal is measured (p50 / p99 / max).
# Prints "name value unit" figure lines (bench/run collects them), the rest as # comments.
# usage: bench/import_log.sh [BUILD_DIR]   (BUILD_DIR, or $BUILD: where opentlsrpt and the
# agent are built; default: the source tree; QUICK=1: a 64 MiB log and 5 s of following).
# Writes to ${BENCH_TMP:-/tmp} and removes what it wrote.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-$src}}
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/otr-bench-log.XXXXXX")
trap 'kill $daemon $unbound 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
daemon=
unbound=
size=${BENCH_LOG_SIZE:-$((2 << 30))}
follow_secs=30
[ "${QUICK:-0}" = 1 ] && { size=$((64 << 20)); follow_secs=5; }
cat > "$tmp/c.conf" <<CONF
spool_directory = $tmp/spool
tlsrpt_socket = $tmp/tlsrpt.sock
user = $(id -un)
log_follow = $tmp/follow.log
CONF

# The Verified sessions' TLSA records are looked up once per MX and day by import-log and
# the follower: a local unbound refuses them all at once, so the benchmark measures the
# parser rather than DNS, and nothing leaves the machine.
if command -v unbound > /dev/null; then
    port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'server:\n  interface: 127.0.0.1\n  port: %s\n  do-daemonize: no\n  chroot: ""\n  username: ""\n  pidfile: ""\n  use-syslog: no\n  do-ip6: no\n  do-tcp: no\n  local-zone: "." refuse\nremote-control:\n  control-enable: no\n' \
        "$port" > "$tmp/unbound.conf"
    unbound -d -c "$tmp/unbound.conf" > "$tmp/unbound.log" 2>&1 &
    unbound=$!
    echo "resolver = 127.0.0.1@$port" >> "$tmp/c.conf"
    for _ in $(seq 50); do grep -q "start of service" "$tmp/unbound.log" && break; sleep 0.1; done
else
    echo "warning: no unbound: TLSA lookups go to the system resolver" >&2
fi

# The agent refuses to run as root unless told which user owns the spool.
agent=("$build/opentlsrpt-agent")
[ "$(id -u)" != 0 ] || agent+=(-u root)

echo "# generating $((size >> 20)) MiB of synthetic Postfix log"
python3 "$src/bench/import_log_gen.py" "$size" > "$tmp/big.log"
lines=$(wc -l < "$tmp/big.log")
cat "$tmp/big.log" > /dev/null
# The limit: the same file's lines found by memchr() over read() buffers (bench/bare_lines.c).
cc -O2 -Wall -o "$tmp/bare_lines" "$src/bench/bare_lines.c"
"$tmp/bare_lines" "$tmp/big.log" > "$tmp/bare.out"
bare_secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$tmp/bare.out")
echo "# bare line scan: $(cat "$tmp/bare.out")"
echo "# import-log ($lines lines)"
# Wall time moves with the machine's load: the CPU time (user + system) is printed too.
/usr/bin/time -f "%e %U %S" -o "$tmp/time" "${agent[@]}" -c "$tmp/c.conf" import-log "$tmp/big.log" \
    > "$tmp/import.out"
sed "s/^/# /" "$tmp/import.out"
python3 - "$lines" "$tmp/time" "$bare_secs" <<'PY'
import sys
lines = int(sys.argv[1])
bare = float(sys.argv[3])
wall, user, system = map(float, open(sys.argv[2]).read().split()[-3:])
print("# import-log: %d lines in %.2f s wall = %.0f lines/s; %.2f s CPU (user %.2f + sys %.2f) = %.0f lines per CPU second"
      % (lines, wall, lines / wall, user + system, user, system, lines / (user + system)))
print("import_log_rate %.0f lines/s" % (lines / wall))
print("import_log_rate_per_cpu_second %.0f lines/s" % (lines / max(user + system, 0.001)))
print("import_log_rate_bare_scan %.0f lines/s" % (lines / max(bare, 0.000001)))
print("import_log_ratio_to_limit %.3f x" % (max(bare, 0.000001) / wall))
PY
rm -f "$tmp/big.log"

echo "# follower lag at 20,000 lines/s for $follow_secs s"
rm -rf "$tmp/spool"
: > "$tmp/follow.log"
"$build/opentlsrpt" -f -c "$tmp/c.conf" 2> "$tmp/daemon.log" &
daemon=$!
sleep 1
python3 "$src/bench/import_log_gen.py" $((64 << 20)) > "$tmp/feed.log" 2>/dev/null
python3 - "$tmp/feed.log" "$tmp/follow.log" "$tmp/spool" "$follow_secs" <<'PY'
import glob, os, sys, threading, time
feed = open(sys.argv[1], "rb").read().split(b"\n")
out = open(sys.argv[2], "ab", buffering=0)
spool = sys.argv[3]
rate, secs, tick = 20000, int(sys.argv[4]), 0.01
sent = {}            # marker domain -> time written
found = {}
stop = False
def watch():
    pos = {}
    buf = b""
    while not stop or len(found) < len(sent):
        for j in glob.glob(spool + "/journal/*/log.jnl"):
            with open(j, "rb") as f:
                f.seek(pos.get(j, 0))
                data = f.read()
                pos[j] = pos.get(j, 0) + len(data)
            now = time.time()
            for d in list(sent):
                if d not in found and d.encode() in data:
                    found[d] = now
        if stop and time.time() > stop + 5:
            break
        time.sleep(0.005)
w = threading.Thread(target=watch); w.start()
i = 0
total = 0
t0 = time.time()
for s in range(int(secs / tick)):
    n = int(rate * tick)
    chunk = feed[i:i + n]; i += n
    if i + n >= len(feed): i = 0
    data = b"\n".join(chunk) + b"\n"
    total += len(chunk)
    if s % int(1 / tick) == 0:
        d = "lag%d.example" % s
        ts = time.strftime("%b %d %H:%M:%S", time.localtime())
        data += ("%s mail postfix/smtp[7]: Trusted TLS connection established to mx.%s[192.0.2.7]:25: TLSv1.3 with cipher X\n"
                 "%s mail postfix/smtp[7]: 1B2C3D4E5F: to=<a@%s>, relay=mx.%s[192.0.2.7]:25, delay=1, dsn=2.0.0, status=sent (250 ok)\n"
                 % (ts, d, ts, d, d)).encode()
        sent[d] = None
        out.write(data)
        sent[d] = time.time()
    else:
        out.write(data)
    delay = t0 + (s + 1) * tick - time.time()
    if delay > 0: time.sleep(delay)
elapsed = time.time() - t0
stop = time.time()
w.join()
lags = sorted(found[d] - sent[d] for d in found)
print("# follower: %d lines in %.1f s (%.0f lines/s); %d/%d markers stored" % (total, elapsed, total / elapsed, len(found), len(sent)))
if lags:
    print("follower_lag_p50 %.3f s" % lags[len(lags) // 2])
    print("follower_lag_p99 %.3f s" % lags[min(len(lags) - 1, int(len(lags) * 0.99))])
    print("follower_lag_max %.3f s" % lags[-1])
PY
kill -TERM $daemon; wait $daemon 2>/dev/null || true
daemon=
grep 'log: stopping' "$tmp/daemon.log" | sed 's/^/# /' || true
