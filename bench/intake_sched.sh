#!/bin/bash
# The scheduling profile of the tlsrpt role's receive thread under one flat-out sender
# process at the kernel's default queue (net.unix.max_dgram_qlen 10): `perf sched record`
# around one intake of N datagrams, then, from `perf sched timehist`, how often the receive
# thread ran, how long it waited for a CPU once woken (sch delay), and the CPU time and
# switches of the writer thread. Run it against two builds to compare them (bench/RESULTS.md).
# Needs root (qlen, perf) and perf; prints why and exits 0 without them.
#   bench/intake_sched.sh [OPENTLSRPT_BINARY [N]]   (default: the built tree's, 200000;
#   QUICK=1: 20000)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_build_dir
otr=${1:-$build/opentlsrpt}
n=${2:-200000}
[ "${QUICK:-0}" = 1 ] && n=${2:-20000}
command -v perf >/dev/null || { echo "# intake_sched: no perf here (package linux-perf)"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "# intake_sched: needs root for max_dgram_qlen and perf sched"; exit 0; }
make -s -C "$build" opentlsrpt tests/tools/tlsrpt-send >/dev/null || exit 1
bench_tlsrpt_dir sched 10
bench_otr_start "$otr"
sleep 0.3
# The role process is the daemon's child; its first thread writes, its second receives.
role=$(pgrep -P "$pid" | head -n 1)
mapfile -t tids < <(ls "/proc/$role/task" | sort -n)
writer=${tids[0]} receiver=${tids[1]}
perf sched record -q -o "$W/sched.data" -- \
    "$build/tests/tools/tlsrpt-send" -s "$W/otr.sock" -n "$n" > "$W/send.out" 2> /dev/null
kill "$pid"
wait "$pid" 2> /dev/null
pid=
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$W/send.out")
acc=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$W/send.out")
echo "# $otr: sent $sent, refused by the kernel $((sent - acc)) ($(awk -v s="$sent" -v a="$acc" 'BEGIN { printf "%.2f", 100 * (s - a) / s }')%)"
perf sched timehist --state -i "$W/sched.data" 2> /dev/null > "$W/timehist"
# Columns: time, [cpu], task[tid] or task[tid/pid], wait time, sch delay, run time (ms),
# state at the switch out (R: preempted). What tells the two builds apart is where the
# receive thread is woken: on its own CPU, or on the sender's, where it has to preempt the
# sender before it can drain the queue.
awk -v r="$receiver" -v w="$writer" '
    function is(t) { return index($3, "[" t "]") || index($3, "[" t "/") }
    is(r) { n++; oncpu[$2]++; rrun += $6; if ($5 * 1000 > 30) late++ }
    is(w) { wn++; wrun += $6; if ($NF == "R") wpre++ }
    $3 ~ /^tlsrpt-send\[/ && $NF == "R" { spre++ }
    END {
        for (c in oncpu) if (oncpu[c] > most) most = oncpu[c]
        printf "intake_sched_receiver_runs %d runs\n", n
        printf "intake_sched_receiver_runs_off_its_cpu %d runs\n", n - most
        printf "intake_sched_receiver_woken_late_over_30us %d runs\n", late
        printf "intake_sched_receiver_cpu %.0f ms\n", rrun
        printf "intake_sched_sender_preempted %d times\n", spre
        printf "intake_sched_writer_preempted %d times\n", wpre
        printf "intake_sched_writer_cpu %.0f ms\n", wrun
    }' "$W/timehist"
