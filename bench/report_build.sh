#!/bin/bash
# Report building benchmark: a synthetic journal of N outcomes (default 10
# million) over D report domains (default 100,000), 5% failures with varied details
# (10 result types, 4 sending IPs, ~1000 receiving IPs, 3 MX hosts per domain, 6 reason
# codes, with and without EHLO), STS/TLSA/no-policy mix, written by tests/tools/otr-outcomes
# --bench; then `opentlsrpt-agent report --day` for that day to /dev/null, timed with
# /usr/bin/time -v: prints elapsed seconds, outcomes/s and peak RSS. Target: < 30 s and
# < 512 MiB on the project's 2-core VM. Nothing passes or fails on speed.
# usage: bench/report_build.sh [BUILD_DIR [N [DOMAINS]]]   (BUILD_DIR, or $BUILD: where the
# agent and tests/tools/otr-outcomes are built; default: the source tree; QUICK=1: 200,000
# outcomes over 2,000 domains, for bench/run --quick). Prints "name value unit" figure
# lines, the rest as comments. Writes to ${BENCH_TMP:-/tmp} and removes what it wrote.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-$src}}
if [ "${QUICK:-0}" = 1 ]; then
    n=${2:-200000}
    domains=${3:-2000}
else
    n=${2:-10000000}
    domains=${3:-100000}
fi
day=2026-11-21
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/otr-bench-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
make -s -C "$build" opentlsrpt-agent tests/tools/otr-outcomes >/dev/null
[ -x /usr/bin/time ] || { echo "# report_build needs /usr/bin/time (Debian package time)"; exit 0; }
agent=("$build/opentlsrpt-agent")
[ "$(id -u)" != 0 ] || agent+=(-u root)
printf 'spool_directory = %s/spool\norganization_name = bench\ncontact_info = tlsrpt@bench.example\n' \
    "$tmp" > "$tmp/c.conf"

echo "# writing $n outcomes over $domains report domains for $day"
start=$(date +%s.%N)
"$build/tests/tools/otr-outcomes" --bench "$tmp/spool" "$day" "$n" "$domains" >&2
end=$(date +%s.%N)
echo "# journal: $(du -sh "$tmp/spool/journal/$day" | cut -f1), written in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"

# The limit: the same journal read, CRC-checked and decoded, nothing aggregated.
# Wall and CPU time of both: on a loaded machine only the CPU ratio means much.
/usr/bin/time -f "%e %U %S" -o "$tmp/scan.time" "$build/tests/tools/otr-outcomes" --scan "$tmp/spool" "$day" > "$tmp/scan.out"
echo "# bare scan: $(cat "$tmp/scan.out")"
read -r scan_secs scan_user scan_sys < "$tmp/scan.time"
echo "# opentlsrpt-agent report --day $day > /dev/null"
cat "$tmp/spool/journal/$day"/*.jnl > /dev/null # page cache: time the parsing, not the disk
/usr/bin/time -v "${agent[@]}" -c "$tmp/c.conf" report --day "$day" > /dev/null 2> "$tmp/time.out"
elapsed=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.out")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.out")
user=$(sed -n 's/.*User time (seconds): //p' "$tmp/time.out")
sys=$(sed -n 's/.*System time (seconds): //p' "$tmp/time.out")
secs=$(echo "$elapsed" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
"${agent[@]}" -v -c "$tmp/c.conf" report --day "$day" 2> "$tmp/verbose" | wc -l > "$tmp/nreports"
echo "# reports: $(cat "$tmp/nreports"); $(tail -1 "$tmp/verbose")"
echo "report_build_elapsed $secs s"
echo "report_build_cpu $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') s"
echo "report_build_rate $(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%d", n / s }') outcomes/s"
echo "report_build_peak_rss $((rss / 1024)) MiB"
echo "report_build_rate_bare_scan $(awk -v n="$n" -v s="$scan_secs" 'BEGIN { printf "%d", n / s }') outcomes/s"
echo "report_build_ratio_to_limit $(awk -v a="$scan_secs" -v b="$secs" 'BEGIN { printf "%.2f", a / b }') x"
echo "report_build_cpu_ratio_to_limit $(awk -v a="$scan_user" -v b="$scan_sys" -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", (a + b) / (u + s) }') x"
