#!/bin/sh
# The README demo: builds opentlsrpt, starts the daemon on embedded defaults with its spool
# and socket under ./demo, feeds it a realistic day of Postfix TLSRPT datagrams (several
# domains; STS, TLSA and no policy; successes and every failure type) and prints the
# resulting reports as `opentlsrpt-agent report` does, then delivers them to ./demo/outbox
# (deliver_to = file:) as the signed mail and the .json.gz they would be sent as. Needs no
# root once the build dependencies are installed (tests/deps.sh --build), and no DNS: the
# rua of each domain is the record Postfix saw.
#
# tests/demo.sh runs it with OTR_DEMO_BUILD (a built tree: nothing is built) and OTR_DEMO_DIR
# (instead of ./demo).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
if [ -n "${OTR_DEMO_BUILD:-}" ]; then
    build=$OTR_DEMO_BUILD
else
    # Build out of the source tree (build-demo/), unless it is configured in place.
    if [ -f config.status ]; then
        build=$top
    else
        build=$top/build-demo
        [ -f configure ] || autoreconf -fi
        if [ ! -f "$build/Makefile" ]; then
            mkdir -p "$build" && (cd "$build" && "$top/configure" -q)
        fi
    fi
    make -s -C "$build" -j2 opentlsrpt opentlsrpt-agent tests/tools/tlsrpt-send >&2
fi
demo=${OTR_DEMO_DIR:-$top/demo}
rm -rf "$demo"
mkdir -p "$demo"
# Where things live differs from the embedded defaults, and who we are: the defaults derive
# it from the host name, which on a laptop has no domain a report can be submitted from.
cat > "$demo/opentlsrpt.conf" <<CONF
spool_directory = $demo/spool
tlsrpt_socket = $demo/tlsrpt.sock
user = $(id -un)
deliver_to = file:$demo/outbox
organization_name = Example Mail Inc.
contact_info = postmaster@example.com
CONF
"$build/opentlsrpt" -f -c "$demo/opentlsrpt.conf" 2> "$demo/daemon.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
i=0
while [ ! -S "$demo/tlsrpt.sock" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$demo/daemon.log"; exit 1; }; sleep 0.1
done
echo "== feeding 20,000 outcomes for 12 domains, as Postfix 3.10 sends them" >&2
"$build/tests/tools/tlsrpt-send" -s "$demo/tlsrpt.sock" -P 2 -n 10000 -r 20000 -d 12 >&2
# The sample datagrams too: a malformed one is counted and logged, never stored.
"$build/tests/tools/tlsrpt-send" -s "$demo/tlsrpt.sock" -n 6 tests/data/datagrams/*.json \
    tests/data/datagrams/*.bin > /dev/null
kill $pid
wait $pid 2>/dev/null || true
trap - EXIT
grep 'stopping:' "$demo/daemon.log" >&2
day=$(date -u +%Y-%m-%d)
agent() { "$build/opentlsrpt-agent" -c "$demo/opentlsrpt.conf" -u "$(id -un)" "$@"; }
echo "== the reports of $day (opentlsrpt-agent report --day ...)" >&2
agent report --day "$day" --pretty
echo "== delivered to $demo/outbox (opentlsrpt-agent send --day ..., deliver_to = file:)" >&2
agent send --day "$day"
(cd "$demo/outbox" && ls -1 -- *.eml *.json.gz) >&2
