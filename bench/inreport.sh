#!/bin/bash
# Received reports benchmark: N synthetic reports (default 3,000: 10 reporters x
# 3 domains x 100 days, 20 policies each, every fifth with failure details) written as
# .json.gz by python3, then `opentlsrpt-agent ingest` of them all (parse, normalize, store
# atomically), `summary --format html` over the whole store, and `ingest` of the 64 MiB
# gzip bomb sample (refused at the max_report_size cap). Timed with /usr/bin/time -v:
# prints "name value unit" figure lines, the rest as comments. Nothing passes or fails on
# speed.
# usage: bench/inreport.sh [BUILD_DIR [N]]   (BUILD_DIR, or $BUILD: where the agent is
# built; default: the source tree; QUICK=1: 300 reports). Writes to ${BENCH_TMP:-/tmp} and
# removes what it wrote.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-$src}}
n=${2:-3000}
[ "${QUICK:-0}" = 1 ] && n=${2:-300}
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/otr-bench-inreport.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
make -s -C "$build" opentlsrpt-agent >/dev/null
[ -x /usr/bin/time ] || { echo "# inreport needs /usr/bin/time (Debian package time)"; exit 0; }
agent=("$build/opentlsrpt-agent")
[ "$(id -u)" != 0 ] || agent+=(-u root)
printf 'spool_directory = %s/spool\nretention_days = 3660\n' "$tmp" > "$tmp/c.conf"
agent+=(-c "$tmp/c.conf")

python3 - "$tmp/in" "$n" <<'END_OF_PY'
import gzip, json, os, sys, datetime
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
types = ["certificate-expired", "certificate-host-mismatch", "starttls-not-supported",
         "validation-failure", "sts-policy-fetch-error"]
start = datetime.date(2026, 1, 1)
for i in range(n):
    rep, dom, day = i % 10, (i // 10) % 3, i // 30
    d = (start + datetime.timedelta(days=day)).isoformat()
    pols = []
    for p in range(20):
        pol = {"policy": {"policy-type": "sts", "policy-domain": "d%d.example" % dom,
                          "policy-string": ["version: STSv1", "mode: enforce", "mx: mx%d.d%d.example" % (p, dom),
                                            "max_age: 86400"], "mx-host": ["mx%d.d%d.example" % (p, dom)]},
               "summary": {"total-successful-session-count": 1000 + p, "total-failure-session-count": p % 5}}
        if p % 5:
            pol["failure-details"] = [{"result-type": types[(p + rep) % 5], "sending-mta-ip": "192.0.2.%d" % rep,
                                       "receiving-mx-hostname": "mx%d.d%d.example" % (p, dom),
                                       "receiving-ip": "198.51.100.%d" % p, "failed-session-count": p % 5}]
        pols.append(pol)
    r = {"organization-name": "Reporter %d" % rep, "contact-info": "tlsrpt@r%d.example" % rep,
         "report-id": "bench-%d" % i,
         "date-range": {"start-datetime": d + "T00:00:00Z", "end-datetime": d + "T23:59:59Z"},
         "policies": pols}
    with open(os.path.join(out, "r%05d.json.gz" % i), "wb") as f:
        f.write(gzip.compress(json.dumps(r).encode(), mtime=0))
END_OF_PY

timed() { # name command...: runs it under /usr/bin/time -v, sets secs and rss_kb
    /usr/bin/time -v -o "$tmp/time" "$@" > "$tmp/out" 2>&1 || true
    secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
}
echo "# $n reports of 20 policies, $(du -sk "$tmp/in" | cut -f1) KiB gzip'ed"
timed "${agent[@]}" ingest "$tmp"/in/*.json.gz
stored=$(grep -c ': stored report' "$tmp/out" || true)
echo "inreport_ingest_reports $stored reports"
echo "inreport_ingest_elapsed $secs s"
echo "inreport_ingest_rate $(awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }') reports/s"
echo "inreport_ingest_rss $((rss_kb / 1024)) MiB"
timed "${agent[@]}" summary --since 2026-01-01 --format html --output "$tmp/s.html"
echo "inreport_summary_elapsed $secs s"
echo "inreport_summary_rss $((rss_kb / 1024)) MiB"
echo "inreport_summary_html $(( $(stat -c %s "$tmp/s.html") / 1024 )) KiB"
timed "${agent[@]}" ingest "$src/tests/data/inreports/bomb.eml"
grep -q 'max_report_size' "$tmp/out" || echo "# the gzip bomb was not refused: $(cat "$tmp/out")"
echo "inreport_bomb_elapsed $secs s"
echo "inreport_bomb_rss $((rss_kb / 1024)) MiB"
