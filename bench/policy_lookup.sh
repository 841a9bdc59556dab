#!/bin/bash
# Benchmark of the MTA-STS policy service: cached lookups over the socketmap from 8
# concurrent clients (bench/policy_lookup_load.c, one connection each like Postfix smtp(8)
# processes), 1000 domains whose policies are in the on-disk cache. Prints requests/s and
# latency percentiles; when Debian's postfix-mta-sts-resolver (mta-sts-daemon) is
# installed, measures it the same way with the same policies in its cache and prints the
# ratio. No network: the resolver setting points at a closed loopback port.
# Prints "name value unit" figure lines (bench/run collects them), the rest as # comments.
#   bench/policy_lookup.sh [--quick] [SECONDS]   (or QUICK=1; BUILD=DIR: where it is built)
set -u
cd "$(dirname "$0")/.."
secs=10
[ "${QUICK:-0}" = 1 ] && secs=3
[ "${1:-}" = "--quick" ] && { secs=3; shift; }
[ -n "${1:-}" ] && secs=$1
clients=8
ndomains=1000

. bench/lib.sh
bench_build_dir
make -s -C "$build" -j2 opentlsrpt >/dev/null || exit 1
W=$(mktemp -d /tmp/otr-bench-policy.XXXXXX)
LOAD=$W/policy_lookup_load
cc -O2 -Wall -pthread -o "$LOAD" bench/policy_lookup_load.c || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT

now=$(date +%s)
mkdir -p "$W/spool/sts/cache"
domains=()
for i in $(seq 1 $ndomains); do
    d="d$i.bench.example"
    domains+=("$d")
    printf 'OTRSTS1\nid bench1\nfetched %s\nexpires %s\n\nversion: STSv1\nmode: enforce\nmx: mx1.%s\nmx: *.%s\nmax_age: 86400\n' \
        "$now" $((now + 86400)) "$d" "$d" > "$W/spool/sts/cache/$d"
done
cat > "$W/otr.conf" <<CONF
spool_directory = $W/spool
tlsrpt_socket =
policy_socket = unix:$W/policy.sock
user = $(id -un)
resolver = 127.0.0.1@9
CONF
"$build/opentlsrpt" -f -c "$W/otr.conf" >"$W/otr.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$W/policy.sock" ] && break; sleep 0.1; done
# Warm: every domain once (loads nothing from the network; the answers come from the cache).
"$LOAD" "unix:$W/policy.sock" sts 1 1 "${domains[@]}" >/dev/null || { cat "$W/otr.log"; exit 1; }
# The limit: a bare epoll server answering every request with one fixed netstring of the
# same size as ours, measured by the same load generator.
cc -O2 -Wall -o "$W/bare_netstring" bench/bare_netstring.c || exit 1
"$W/bare_netstring" "$W/bare.sock" \
    "secure match=mx1.${domains[0]}:.${domains[0]} servername=hostname policy_type=sts" &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$W/bare.sock" ] && break; sleep 0.1; done
if command -v mta-sts-daemon >/dev/null 2>&1 && python3 -c 'import sqlite3' 2>/dev/null; then
    # The same policies, pre-seeded in its sqlite cache, fresh enough (cache_grace) that
    # it answers without looking anything up.
    python3 - "$W/resolver.db" "$now" "${domains[@]}" <<'PY'
import json, sqlite3, sys
db, now, doms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
c = sqlite3.connect(db)
c.execute("create table if not exists sts_policy_cache (domain text, ts integer, pol_id text, pol_body text)")
c.execute("create unique index if not exists sts_policy_domain on sts_policy_cache (domain)")
for d in doms:
    body = {"version": "STSv1", "mode": "enforce", "mx": ["mx1." + d, "*." + d], "max_age": 86400}
    c.execute("insert into sts_policy_cache values (?,?,?,?)", (d, now, "bench1", json.dumps(body)))
c.commit()
PY
    cat > "$W/mta-sts-daemon.yml" <<YML
host: 127.0.0.1
port: 18461
reuse_port: true
shutdown_timeout: 1
cache_grace: 86400
cache:
  type: sqlite
  options:
    filename: "$W/resolver.db"
default_zone:
  strict_testing: false
  timeout: 4
YML
    mta-sts-daemon -c "$W/mta-sts-daemon.yml" >"$W/resolver.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        "$LOAD" inet:127.0.0.1:18461 postfix 0.2 1 "${domains[0]}" >/dev/null 2>&1 && break
        sleep 0.2
    done
    "$LOAD" inet:127.0.0.1:18461 postfix 1 1 "${domains[@]}" >/dev/null
    peer=1
    # Both must give the same (cached) answer, or the comparison means nothing.
    mkdir -p "$W/pf" && echo "compatibility_level = 3.6" > "$W/pf/main.cf"
    echo "# answer, ours:     $(postmap -c "$W/pf" -q "${domains[0]}" "socketmap:unix:$W/policy.sock:sts" 2>&1)"
    echo "# answer, resolver: $(postmap -c "$W/pf" -q "${domains[0]}" socketmap:inet:127.0.0.1:18461:postfix 2>&1)"
else
    peer=0
    echo "# postfix-mta-sts-resolver is not installed: no comparison (apt-get install postfix-mta-sts-resolver)"
fi

# Rounds in alternating order (limit, ours, peer; then the other way round), each the same
# clients and duration; the median round of each is kept, so load elsewhere on the machine
# moves all three alike.
rounds=$([ "$secs" -le 3 ] && echo 1 || echo 3)
measure() { # who round
    case $1 in
    bare) "$LOAD" "unix:$W/bare.sock" sts "$secs" "$clients" "${domains[@]}" ;;
    ours) "$LOAD" "unix:$W/policy.sock" sts "$secs" "$clients" "${domains[@]}" ;;
    peer) "$LOAD" inet:127.0.0.1:18461 postfix "$secs" "$clients" "${domains[@]}" ;;
    esac > "$W/$1.$2" || exit 1
}
order="bare ours"
[ "$peer" = 1 ] && order="$order peer"
for r in $(seq 1 "$rounds"); do
    for who in $order; do measure "$who" "$r"; done
    order=$(echo "$order" | awk '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')
done
med() { # who field: the median over the rounds
    for r in $(seq 1 "$rounds"); do awk -v f="$2" '$1 == f { print $2 }' "$W/$1.$r"; done |
        sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
echo "# $clients clients, ${secs}s a round, $rounds round(s), $ndomains cached domains"
for who in $order; do sed "s/^/# $who: /" "$W/$who.1"; done
ours=$(med ours requests_per_second)
bare=$(med bare requests_per_second)
echo "policy_lookup_rate $ours requests/s"
echo "policy_lookup_p99 $(med ours p99_us) us"
echo "policy_lookup_rate_bare $bare requests/s"
echo "policy_lookup_p99_bare $(med bare p99_us) us"
awk -v a="$ours" -v b="$bare" 'BEGIN { if (b > 0) printf "policy_lookup_ratio_to_limit %.2f x\n", a / b }'
if [ "$peer" = 1 ]; then
    theirs=$(med peer requests_per_second)
    echo "policy_lookup_rate_resolver $theirs requests/s"
    echo "policy_lookup_p99_resolver $(med peer p99_us) us"
    awk -v a="$ours" -v b="$theirs" 'BEGIN { if (b > 0) printf "policy_lookup_ratio_to_resolver %.2f x\n", a / b }'
fi
