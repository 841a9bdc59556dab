#!/bin/bash
# Fleet mode benchmark: a private PostgreSQL (Debian's server, initdb in a temp
# directory as an unprivileged user, unix socket only, default durability settings), then
#  1. shipping rate of one host: a journal of N outcomes written beforehand, shipped by the
#     daemon's ship role; outcomes/s until the database holds them all (goal >= 50,000/s);
#  2. lag at a paced 20,000/s: tlsrpt-send for 20 s into a daemon with the ship role; the
#     ship lag (now - shipped_through) sampled every second: median and max, and the time
#     from the last datagram until everything is in the database;
#  3. building a day from 3 hosts: N outcomes over D domains split over 3 spools
#     (otr-outcomes --bench), shipped by 3 daemons, then `opentlsrpt-agent report --day` in
#     fleet mode, timed with /usr/bin/time -v (goal < 60 s and < 512 MiB).
# usage: bench/fleet.sh   (BUILD: build dir; QUICK=1: small sizes for bench/run --quick;
# N, DOMAINS override part 3's sizes; PARTS="1 2 3" picks parts). Prints "name value unit" lines, the rest as comments.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src}
if [ "${QUICK:-0}" = 1 ]; then
    n=${N:-60000}; domains=${DOMAINS:-1000}; ship_n=60000; paced_secs=3
else
    n=${N:-10000000}; domains=${DOMAINS:-100000}; ship_n=2000000; paced_secs=20
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "# fleet: PostgreSQL is not installed (tests/deps.sh installs it)"; exit 0; }
[ -x /usr/bin/time ] || { echo "# fleet needs /usr/bin/time (Debian package time)"; exit 0; }
make -s -C "$build" opentlsrpt opentlsrpt-agent tests/tools/otr-outcomes tests/tools/tlsrpt-send >/dev/null
W=$(mktemp -d "${BENCH_TMP:-/tmp}/otr-bench-fleet.XXXXXX")
run=()
if [ "$(id -u)" = 0 ]; then chmod 711 "$W"; run=(runuser -u nobody --); fi
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    "${run[@]}" "$pgbin/pg_ctl" -D "$W/pg/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/pg"
[ "$(id -u)" != 0 ] || chown nobody "$W/pg"
"${run[@]}" "$pgbin/initdb" -D "$W/pg/data" -U otr -A trust -E UTF8 >/dev/null
"${run[@]}" "$pgbin/pg_ctl" -D "$W/pg/data" -w -l "$W/pg/server.log" \
    -o "-k $W/pg -c listen_addresses= -c max_wal_size=4GB" start >/dev/null
conn="host=$W/pg dbname=postgres user=otr"
q() { "$pgbin/psql" -X -qAt -d "$conn" -c "$1"; }
agent=("$build/opentlsrpt-agent")
[ "$(id -u)" != 0 ] || agent+=(-u root)
conf() { # NAME HOST: a host's configuration
    mkdir -p "$W/$1"
    printf 'spool_directory = %s/%s/spool\ntlsrpt_socket = %s/%s/otr.sock\nuser = %s\nfleet_database = %s\nfleet_host = %s\norganization_name = bench\ncontact_info = tlsrpt@bench.example\n' \
        "$W" "$1" "$W" "$1" "$(id -un)" "$conn" "$2" > "$W/$1.conf"
}
start() { # NAME
    "$build/opentlsrpt" -f -c "$W/$1.conf" 2>>"$W/$1.log" &
    pids+=($!)
}
stop_all() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null || true
    pids=()
}
shipped() { q "SELECT coalesce(sum(shipped), 0) FROM otr_host${1:+ WHERE host = '$1'}"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
conf admin admin
"${agent[@]}" -c "$W/admin.conf" db init >/dev/null 2>&1
today=$(date -u +%Y-%m-%d)
echo "# PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), fsync and synchronous_commit on"

parts=" ${PARTS:-1 2 3} "
if [ "${parts#* 1 }" != "$parts" ]; then
# 1. Shipping rate of one host.
conf ship ship
"$build/tests/tools/otr-outcomes" --bench "$W/ship/spool" "$today" "$ship_n" 1000 2>/dev/null
t0=$(now)
start ship
until [ "$(shipped ship)" -ge "$ship_n" ]; do sleep 0.2; done
t1=$(now)
stop_all
echo "# shipped $ship_n outcomes in $(secs "$t0" "$t1") s (including the daemon's start)"
echo "fleet_ship_rate $(awk -v n="$ship_n" -v s="$(secs "$t0" "$t1")" 'BEGIN { printf "%d", n / s }') outcomes/s"

fi
if [ "${parts#* 2 }" != "$parts" ]; then
# 2. Lag at a paced 20,000/s (2 senders of 10,000/s each).
conf paced paced
start paced
for _ in $(seq 100); do [ -S "$W/paced/otr.sock" ] && break; sleep 0.05; done
per=$((10000 * paced_secs))
"$build/tests/tools/tlsrpt-send" -s "$W/paced/otr.sock" -P 2 -n "$per" -r 10000 -d 1000 > "$W/send.out" &
sender=$!
: > "$W/lag"
while kill -0 "$sender" 2>/dev/null; do
    q "SELECT extract(epoch FROM now())::bigint - shipped_through FROM otr_host WHERE host = 'paced'" >> "$W/lag"
    sleep 1
done
wait "$sender" || true
t0=$(now)
stored=$("$build/tests/tools/otr-outcomes" --scan "$W/paced/spool" "$today" | sed -n 's/^outcomes=\([0-9]*\).*/\1/p')
until [ "$(shipped paced)" -ge "$stored" ]; do sleep 0.1; done
t1=$(now)
stop_all
sort -n "$W/lag" > "$W/lag.sorted"
echo "# paced: $stored outcomes stored in $paced_secs s; lag samples (s): $(tr '\n' ' ' < "$W/lag.sorted")"
echo "fleet_lag_at_20k_median $(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$W/lag.sorted") s"
echo "fleet_lag_at_20k_max $(tail -n 1 "$W/lag.sorted") s"
echo "fleet_drain_after_20k $(secs "$t0" "$t1") s"

fi
[ "${parts#* 3 }" != "$parts" ] || exit 0
# 3. A day of n outcomes from 3 hosts over the domains, shipped, then built.
day=$(date -u -d yesterday +%Y-%m-%d)
q "TRUNCATE otr_outcome, otr_ship, otr_host CASCADE"
per=$((n / 3))
for h in 1 2 3; do
    conf "h$h" "h$h"
    "$build/tests/tools/otr-outcomes" --bench "$W/h$h/spool" "$day" "$per" "$domains" 2>/dev/null
done
t0=$(now)
for h in 1 2 3; do start "h$h"; done
until [ "$(shipped)" -ge $((3 * per)) ]; do sleep 1; done
t1=$(now)
stop_all
echo "# 3 hosts shipped $((3 * per)) outcomes at once in $(secs "$t0" "$t1") s; table $(q "SELECT pg_size_pretty(pg_total_relation_size('otr_outcome'))")"
echo "fleet_ship_rate_3_hosts $(awk -v n=$((3 * per)) -v s="$(secs "$t0" "$t1")" 'BEGIN { printf "%d", n / s }') outcomes/s"
q "VACUUM ANALYZE otr_outcome"
# The limit: the server streaming the day's payloads to a client that keeps nothing.
/usr/bin/time -f "%e" -o "$W/copy.time" "$pgbin/psql" -X -qAt -d "$conn" \
    -c "COPY (SELECT payload FROM otr_outcome WHERE day = '$day') TO STDOUT (FORMAT binary)" > /dev/null
/usr/bin/time -v "${agent[@]}" -c "$W/h1.conf" report --day "$day" > "$W/reports" 2> "$W/time.out"
elapsed=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.out")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.out")
secs=$(echo "$elapsed" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
echo "# fleet report --day: $(grep -c '^{' "$W/reports") reports from $((3 * per)) outcomes over $domains domains"
echo "fleet_build_elapsed $secs s"
echo "fleet_build_rate $(awk -v n=$((3 * per)) -v s="$secs" 'BEGIN { printf "%d", n / s }') outcomes/s"
echo "fleet_build_peak_rss $((rss / 1024)) MiB"
echo "fleet_build_cpu $(awk -v u="$(sed -n 's/.*User time (seconds): //p' "$W/time.out")" -v s="$(sed -n 's/.*System time (seconds): //p' "$W/time.out")" 'BEGIN { printf "%.2f", u + s }') s"
echo "fleet_build_bare_copy $(cat "$W/copy.time") s"
