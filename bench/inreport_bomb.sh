#!/bin/bash
# Memory amplification of received reports, in the worst case known: a
# ~14 KB mail whose gzip payload inflates to just under max_report_size (10 MiB) of
# `{},{},...` in one failure-details array ("bomb"), and a valid near-limit report ("near":
# ~8 MiB of JSON, 36,000 failure details, within every limit, so it is parsed and stored):
# each through `ingest`, then 8 distinct copies of each played at once through one milter
# process (miltertest, 8 connections, default milter_memory_max), then `summary` of what
# was stored. Prints "name value unit" figure lines, the rest as # comments; nothing passes or
# fails on these figures (the bound asked for is 64 MiB + 2 x decoded size and 2 s CPU per
# report). Peak RSS of ingest/summary from /usr/bin/time -v; of the milter from its
# VmHWM, and its CPU from /proc/PID/stat.
# The *_ratio_to_limit figures are the bound divided by what was measured (>= 1: within it):
# per report 64 MiB + 2 x its decoded size of RSS (ingest) and 2 s of CPU.
# usage: bench/inreport_bomb.sh [BUILD_DIR]   (BUILD_DIR, or $BUILD: where the programs are
# built; default the source tree). CONCURRENT=n (default 8; QUICK=1: 2); LIMIT_MB=m runs
# the programs under `ulimit -v` m MiB (to keep a shared machine alive when measuring the
# unbounded code of before).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-$src}}
conc=${CONCURRENT:-8}
[ "${QUICK:-0}" = 1 ] && conc=${CONCURRENT:-2}
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/otr-bench-bomb.XXXXXX")
dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
make -s -C "$build" opentlsrpt opentlsrpt-agent >/dev/null
[ -x /usr/bin/time ] || { echo "# needs /usr/bin/time (Debian package time)"; exit 0; }
command -v miltertest >/dev/null || { echo "# needs miltertest"; exit 0; }
user=$(id -un)
cat > "$tmp/c.conf" <<EOF
spool_directory = $tmp/spool
retention_days = 3660
user = $user
tlsrpt_socket =
milter_socket = local:$tmp/m/milter.sock
EOF
agent=("$build/opentlsrpt-agent" -c "$tmp/c.conf")
[ "$(id -u)" != 0 ] || agent+=(-u root)

# bomb.eml (ingest) and c0..cN.eml (milter): gzip of ~10 MiB of `{},` in one array.
python3 - "$tmp" "$conc" <<'END_OF_PY'
import base64, gzip, sys
out, n = sys.argv[1], int(sys.argv[2])
limit = 10 * 1024 * 1024
def mail(rid):
    head = ('{"organization-name":"Bomb","date-range":{"start-datetime":"2026-11-20T00:00:00Z",'
            '"end-datetime":"2026-11-20T23:59:59Z"},"contact-info":"tlsrpt@bomb.example",'
            '"report-id":"%s","policies":[{"policy":{"policy-type":"sts","policy-domain":'
            '"example.com"},"summary":{"total-successful-session-count":1,'
            '"total-failure-session-count":1},"failure-details":[' % rid)
    tail = ']}]}'
    k = (limit - 64 - len(head) - len(tail)) // 3
    js = (head + '{},' * k + '{}' + tail).encode()
    b = base64.encodebytes(gzip.compress(js, 9, mtime=0)).decode()
    return len(js), ("From: tlsrpt@bomb.example\r\nTo: tlsrpt@example.com\r\n"
        "Subject: Report Domain: example.com Submitter: bomb.example Report-ID: <%s>\r\n"
        "TLS-Report-Domain: example.com\r\nTLS-Report-Submitter: bomb.example\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip; name=\"r.json.gz\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n" % (rid, b))
size, m = mail("bomb-single")
open(out + "/bomb.eml", "w").write(m)
open(out + "/bomb.decoded", "w").write(str(size))
for i in range(n):
    open("%s/bomb%d.eml" % (out, i), "w").write(mail("bomb-%d" % i)[1])
def near(rid):
    items = ['{"result-type":"certificate-expired","additional-information":"%06d %s"}'
             % (i, "x" * 160) for i in range(36000)]
    js = ('{"organization-name":"Near","date-range":{"start-datetime":"2026-11-20T00:00:00Z",'
          '"end-datetime":"2026-11-20T23:59:59Z"},"contact-info":"tlsrpt@near.example",'
          '"report-id":"%s","policies":[{"policy":{"policy-type":"sts","policy-domain":'
          '"example.com"},"summary":{"total-successful-session-count":1,'
          '"total-failure-session-count":36000},"failure-details":[' % rid
          + ",".join(items) + "]}]}").encode()
    b = base64.encodebytes(gzip.compress(js, 6, mtime=0)).decode()
    return len(js), ("From: tlsrpt@near.example\r\nTo: tlsrpt@example.com\r\nSubject: r\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n" % b)
size, m = near("near-single")
open(out + "/near.eml", "w").write(m)
open(out + "/near.decoded", "w").write(str(size))
for i in range(n):
    open("%s/near%d.eml" % (out, i), "w").write(near("near-%d" % i)[1])
END_OF_PY
echo "# worst case: $(stat -c %s "$tmp/bomb.eml") byte mail, $(cat "$tmp/bomb.decoded") bytes of JSON once inflated"
echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

timed() { # command...: runs it under /usr/bin/time -v, sets cpu (s) and rss_kb
    /usr/bin/time -v -o "$tmp/time" "$@" > "$tmp/out" 2>&1 || true
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$tmp/time")
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
}
stored_kb() { du -sk "$tmp/spool/reports" 2>/dev/null | cut -f1 || echo 0; }
summary_figures() { # NAME: summary of what is stored, then the store is emptied
    timed "${agent[@]}" summary --since 2026-11-01
    echo "$1_rss $((rss_kb / 1024)) MiB"
    echo "$1_cpu $cpu s"
    rm -rf "$tmp/spool/reports"
}

echo "# near-limit: $(stat -c %s "$tmp/near.eml") byte mail, $(cat "$tmp/near.decoded") bytes of JSON"

for kind in bomb near; do
    (
        [ -n "${LIMIT_MB:-}" ] && ulimit -v $((LIMIT_MB * 1024))
        timed "${agent[@]}" ingest "$tmp/$kind.eml"
        echo "$cpu $rss_kb" > "$tmp/ingest.fig"
    )
    read -r cpu rss_kb < "$tmp/ingest.fig"
    echo "# ingest $kind: $(tr '\n' ' ' < "$tmp/out" | cut -c1-200)"
    decoded=$(cat "$tmp/$kind.decoded")
    echo "inreport_${kind}_ingest_rss $((rss_kb / 1024)) MiB"
    echo "inreport_${kind}_ingest_cpu $cpu s"
    awk -v r="$rss_kb" -v d="$decoded" -v c="$cpu" -v k="$kind" 'BEGIN {
        printf "inreport_%s_rss_ratio_to_limit %.2f x\n", k, (64 * 1024 + 2 * d / 1024) / r
        printf "inreport_%s_cpu_ratio_to_limit %.2f x\n", k, 2 / (c > 0.01 ? c : 0.01) }'
    echo "inreport_${kind}_stored $(stored_kb) KiB"
    summary_figures "inreport_${kind}_summary"
done

# miltertest's default reply timeout (10 s) is shorter than the unbounded parser takes.
printf 'mt.set_timeout(600)\ndofile("%s")\n' "$src/tests/milter/send.lua" > "$tmp/send.lua"
ticks() { awk '{ print $14 + $15 }' "/proc/$mpid/stat"; }
# The milter: one process per kind (its peak RSS is its own), conc connections at once.
for kind in bomb near; do
    (
        [ -n "${LIMIT_MB:-}" ] && ulimit -v $((LIMIT_MB * 1024))
        exec "$build/opentlsrpt" -f -c "$tmp/c.conf" > "$tmp/daemon.log" 2>&1
    ) &
    dpid=$!
    for _ in $(seq 1 100); do [ -S "$tmp/m/milter.sock" ] && break; sleep 0.1; done
    mpid=
    for _ in $(seq 1 50); do
        mpid=$(pgrep -P "$dpid" | head -1 || true) # the only role: milter
        [ -n "$mpid" ] && break
        sleep 0.1
    done
    t0=$(ticks)
    mts=()
    for i in $(seq 0 $((conc - 1))); do
        MILTER_SOCK="local:$tmp/m/milter.sock" MSG="$tmp/$kind$i.eml" RCPT="<tlsrpt@example.com>" \
            miltertest -s "$tmp/send.lua" > "$tmp/mt$i.out" 2>&1 &
        mts+=($!)
    done
    wait "${mts[@]}" || true
    t1=$(ticks)
    hwm=$(sed -n 's/^VmHWM:[ \t]*\([0-9]*\) kB/\1/p' "/proc/$mpid/status")
    echo "# milter $kind replies: $(cat "$tmp"/mt*.out | sed -n 's/^reply=//p' | sort | uniq -c | tr '\n' ' ')"
    grep -h -v '^reply=' "$tmp"/mt*.out | sort | uniq -c | sed 's/^/# miltertest: /' | head -3
    echo "# milter log: $(grep -c 'stored TLS-RPT' "$tmp/daemon.log" || true) stored; $(grep -v 'stored TLS-RPT' "$tmp/daemon.log" | grep milter: | sed 's/.*milter: [^ ]* //' | sort | uniq -c | head -5 | tr '\n' ' ')"
    echo "inreport_${kind}_milter${conc}_peak_rss $((hwm / 1024)) MiB"
    echo "inreport_${kind}_milter${conc}_cpu $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s"
    echo "inreport_${kind}_milter${conc}_stored $(stored_kb) KiB"
    summary_figures "inreport_${kind}_summary${conc}"
    kill "$dpid" && wait "$dpid" 2>/dev/null
    dpid=
done
