#!/bin/bash
# One intake point, repeated: REPS runs of the bare recv() loop and of opentlsrpt,
# alternating, each receiving N datagrams (default 200,000) from tests/tools/tlsrpt-send at
# RATE/s (or "flat") from PROCS processes with net.unix.max_dgram_qlen at QLEN; prints one
# line per run, then the medians. For points bench/run measures only 3 times (the bare
# loop's own loss moves a lot between runs). OTR=path compares another opentlsrpt binary
# (e.g. one built from an older commit). Needs root (qlen).
#   bench/intake_point.sh QLEN RATE PROCS REPS [N]
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_build_dir
[ $# -ge 4 ] || { sed -n '2,9p' "$0"; exit 2; }
q=$1 rate=$2 procs=$3 reps=$4 n=${5:-200000}
[ "$(id -u)" = 0 ] || { echo "# intake_point: needs root for max_dgram_qlen"; exit 0; }
make -s -C "$build" opentlsrpt tests/tools/tlsrpt-send > /dev/null || exit 1
mkdir -p "$build/bench"
cc -O2 -Wall -o "$build/bench/bare_recv" bench/bare_recv.c || exit 1
otr=${OTR:-$build/opentlsrpt}
bench_tlsrpt_dir point "$q"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2" | tail -n 1; }

# run WHO: one run; prints "WHO loss=% refused=% hurried=N rate=/s".
run() {
    local who=$1 sock stored hurried=-
    if [ "$who" = opentlsrpt ]; then
        bench_otr_start "$otr"
        sock=$W/otr.sock
    else
        rm -f "$W/bare.sock"
        "$build/bench/bare_recv" "$W/bare.sock" > "$W/bare.out" &
        pid=$!
        sock=$W/bare.sock
        for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    fi
    sleep 0.2
    local rateopt=()
    [ "$rate" != flat ] && rateopt=(-r "$rate")
    "$build/tests/tools/tlsrpt-send" -s "$sock" -P "$procs" -n $((n / procs)) "${rateopt[@]}" > "$W/send.out"
    sleep 0.5
    kill "$pid"
    wait "$pid" 2> /dev/null
    pid=
    if [ "$who" = opentlsrpt ]; then
        stored=$(field stored "$W/otr.log")
        hurried=$(field writer_hurried "$W/otr.log")
    else
        stored=$(cat "$W/bare.out")
    fi
    awk -v w="$who" -v s="$(field sent "$W/send.out")" -v a="$(field accepted "$W/send.out")" \
        -v k="$stored" -v t="$(field seconds "$W/send.out")" -v h="${hurried:--}" \
        'BEGIN { printf "%s loss=%.2f refused=%.2f writer_hurried=%s rate=%.0f\n",
                 w, 100 * (s - k) / s, 100 * (s - a) / s, h, s / t }'
}
for i in $(seq "$reps"); do
    if [ $((i % 2)) = 1 ]; then run bare; run opentlsrpt; else run opentlsrpt; run bare; fi
done | tee "$W/runs"
for who in bare opentlsrpt; do
    sed -n "s/^$who loss=\([0-9.]*\).*/\1/p" "$W/runs" | sort -g |
        awk -v w="$who" '{ v[NR] = $1 } END { printf "# %s: median %.2f%% (%.2f-%.2f), %d runs\n", w, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
