#!/bin/sh
# Fleet mode's shared documents on a real PostgreSQL: the MTA-STS policy one host fetched is
# the one every host applies (taken from the fleet's cache, not fetched again), and
# received reports stored on two hosts are kept once, de-duplicated by (organization,
# report-id), and summarised from any host.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_pg.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
need postmap python3
time_limit 120

pg_start
write_conf "$T/admin.conf" "fleet_database=$PG_CONN"
"$AGENT" -c "$T/admin.conf" db init >/dev/null 2>&1 || fail "db init"
mkdir -p "$T/www"
printf 'version: STSv1\nmode: enforce\nmx: mx1.shared.example\nmax_age: 86400\n' > "$T/www/shared.txt"
sts_ca
sts_site shared.example file "$T/www/shared.txt"
sts_txt shared.example shared1
start_sts_world

for h in 1 2; do
    mkdir -p "$T/h$h"
    write_conf "$T/h$h.conf" "spool_directory=$T/h$h/spool" "tlsrpt_socket=$T/h$h/tlsrpt.sock" \
        "policy_socket=unix:$T/h$h/policy.sock" "resolver=$DNS_RESOLVER" \
        "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=4s" \
        "fleet_database=$PG_CONN" "fleet_host=h$h"
    "$OTR" -f -c "$T/h$h.conf" >>"$T/h$h.log" 2>&1 &
    eval "PID$h=$!"
    wait_for 10 test -S "$T/h$h/policy.sock"
done
at_exit 'kill $PID1 $PID2 2>/dev/null; wait $PID1 $PID2 2>/dev/null'

WANT="secure match=mx1.shared.example servername=hostname"
POLICY_SOCKET="unix:$T/h1/policy.sock"
eventually shared.example "$WANT"
grep -q "shared.example: fetched id shared1" "$T/h1.log" || fail "host 1 did not fetch the policy"
[ "$(psql_q "SELECT count(*) FROM otr_doc WHERE area = 'sts/cache' AND key = 'shared.example'")" = 1 ] ||
    fail "the policy is not in the fleet's cache"
[ ! -e "$T/h1/spool/sts/cache/shared.example" ] || fail "the policy went to the local cache"
POLICY_SOCKET="unix:$T/h2/policy.sock"
eventually shared.example "$WANT"
# Host 2 answers from the fleet's cache at once: no fetch of its own.
grep -q "shared.example: fetched" "$T/h2.log" && fail "host 2 fetched the policy again"
pass "one MTA-STS policy for the fleet, fetched once"

IN="$DATA/inreports"
"$AGENT" -c "$T/h1.conf" ingest "$IN/google.eml" > "$T/ingest1.out" 2>&1 || fail "ingest on host 1"
grep -q ": stored report" "$T/ingest1.out" || fail "host 1 did not store: $(cat "$T/ingest1.out")"
"$AGENT" -c "$T/h2.conf" ingest "$IN/google.eml" > "$T/ingest2.out" 2>&1 || fail "ingest on host 2"
grep -q ": duplicate report" "$T/ingest2.out" || fail "host 2 stored it again: $(cat "$T/ingest2.out")"
[ "$(psql_q "SELECT count(*) FROM otr_doc WHERE area = 'reports'")" = 1 ] || fail "not one stored report"
"$AGENT" -c "$T/h2.conf" summary --since 2000-01-01 > "$T/summary.txt" 2>&1 || fail "summary"
"$AGENT" -c "$T/h1.conf" -o fleet_database= summary --since 2000-01-01 > "$T/summary-local.txt" 2>&1 || true
[ -s "$T/summary.txt" ] && ! cmp -s "$T/summary.txt" "$T/summary-local.txt" ||
    fail "summary does not read the fleet's reports"
pass "received reports stored once across hosts, summarised from the database"
