#!/bin/bash
# Cost of the metrics: intake loss and daemon CPU at a paced 20,000 datagrams/s, without
# metrics_listen and with it and a scrape every second, in the same run, alternating which
# goes first; medians of the repetitions. CPU is the whole daemon: supervisor, the tlsrpt
# role and, when on, the metrics process serving the scrapes.
# Prints "name value unit" figure lines (bench/run collects them), the rest as # comments.
#   bench/metrics.sh [--quick] [REPS]   (or QUICK=1; BUILD=DIR: where it is built)
set -u
cd "$(dirname "$0")/.."
reps=5 secs=10
[ "${QUICK:-0}" = 1 ] && { reps=1 secs=3; }
[ "${1:-}" = "--quick" ] && { reps=1 secs=3; shift; }
[ -n "${1:-}" ] && reps=$1

. bench/lib.sh
bench_build_dir
make -s -C "$build" -j2 opentlsrpt tests/tools/tlsrpt-send >/dev/null || exit 1
OTR=$build/opentlsrpt
SEND=$build/tests/tools/tlsrpt-send
W=$(mktemp -d /tmp/otr-bench-metrics.XXXXXX)
QLEN_FILE=/proc/sys/net/unix/max_dgram_qlen
orig_qlen=$(cat "$QLEN_FILE" 2>/dev/null || echo unknown)
pid= scraper=
cleanup() {
    [ -n "$scraper" ] && kill "$scraper" 2>/dev/null
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    [ "$orig_qlen" != unknown ] && echo "$orig_qlen" > "$QLEN_FILE" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
# The kernel queue as a site following the README has it (contrib/sysctl.d): the subject
# here is the daemon, not a 10-datagram queue.
echo 1024 > "$QLEN_FILE" 2>/dev/null || echo "# cannot raise net.unix.max_dgram_qlen (not root?): measuring at $orig_qlen"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
tree_ticks() { # the daemon and its role processes
    local t=0 p
    for p in "$pid" $(pgrep -P "$pid"); do t=$((t + $(ticks "$p"))); done
    echo "$t"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2"; }

# run on|off: prints "loss% cpu% scrapes"
run() {
    local mode=$1
    rm -rf "$W/spool" "$W/otr.log"
    {
        echo "spool_directory = $W/spool"
        echo "tlsrpt_socket = $W/otr.sock"
        echo "user = $(id -un)"
        [ "$mode" = on ] && echo "metrics_listen = inet:127.0.0.1:$port"
    } > "$W/c.conf"
    "$OTR" -f -c "$W/c.conf" 2> "$W/otr.log" &
    pid=$!
    for _ in $(seq 100); do [ -S "$W/otr.sock" ] && break; sleep 0.05; done
    sleep 0.3 # every role started
    : > "$W/scrapes"
    if [ "$mode" = on ]; then
        # Prometheus' way: one request a second, a new connection each time.
        (while :; do curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port/metrics" >> "$W/scrapes"; sleep 1; done) &
        scraper=$!
    fi
    local c0 c1 t0 t1
    c0=$(tree_ticks); t0=$(date +%s.%N)
    "$SEND" -s "$W/otr.sock" -P 2 -n $((10000 * secs)) -r 20000 > "$W/send.out"
    c1=$(tree_ticks); t1=$(date +%s.%N)
    if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null; scraper=; fi
    kill "$pid"; wait "$pid" 2>/dev/null; pid=
    local sent stored
    sent=$(field sent "$W/send.out")
    stored=$(sed -n 's/.*tlsrpt: stopping: .* stored=\([0-9]*\).*/\1/p' "$W/otr.log")
    awk -v s="$sent" -v k="${stored:-0}" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" \
        -v n="$(grep -c '^200$' "$W/scrapes")" \
        'BEGIN { printf "%.3f %.1f %d\n", 100 * (s - k) / s, 100 * c / hz / (b - a), n }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
off_loss=() off_cpu=() on_loss=() on_cpu=() scrapes=0
for i in $(seq "$reps"); do
    if [ $((i % 2)) = 1 ]; then order="off on"; else order="on off"; fi
    for m in $order; do
        read -r loss cpu n < <(run "$m")
        echo "# run $i metrics $m: loss $loss% cpu $cpu% scrapes $n"
        if [ "$m" = on ]; then on_loss+=("$loss") on_cpu+=("$cpu"); scrapes=$((scrapes + n)); else off_loss+=("$loss") off_cpu+=("$cpu"); fi
    done
done
lo=$(median "${off_loss[@]}") ln=$(median "${on_loss[@]}")
co=$(median "${off_cpu[@]}") cn=$(median "${on_cpu[@]}")
echo "metrics_cpu_ratio_to_without $(awk -v a="$cn" -v b="$co" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') x"
echo "intake_loss_at_20k_metrics_off $lo %"
echo "intake_loss_at_20k_metrics_on $ln %"
echo "daemon_cpu_at_20k_metrics_off $co %_of_one_core"
echo "daemon_cpu_at_20k_metrics_on $cn %_of_one_core"
echo "# $reps run(s) of ${secs} s each way, $scrapes successful scrapes in all"
