#!/bin/sh
# Metrics with real parts: the daemon (all four roles and metrics_listen) and the agent's
# metrics_textfile, scraped by Debian's prometheus and prometheus-node-exporter on loopback.
# Datagrams, policy lookups, log lines and a report mail go in; the values are read back
# from Prometheus' HTTP API. promtool checks a scrape and the alert rules; a scrape while a
# role is killed still answers, with the counters the dead role had left.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"
need prometheus promtool prometheus-node-exporter curl python3 miltertest unbound
time_limit 150

promtool check rules "$top_srcdir/contrib/prometheus/opentlsrpt.rules.yml" > "$T/rules.out" 2>&1 ||
    fail "promtool check rules: $(cat "$T/rules.out")"

cat > "$T/zones" <<EOF
  local-zone: "example." static
  local-data: '_smtp._tls.vg.example. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@vg.example"'
EOF
start_unbound "$T/zones"
MPORT=$(free_port)
NPORT=$(free_port)
PPORT=$(free_port)
mkdir -p "$T/textfile"
write_conf "$T/c.conf" "policy_socket=unix:$T/policy.sock" "log_follow=$T/mail.log" \
    "milter_socket=local:$T/milter.sock" "resolver=$DNS_RESOLVER" "policy_lookup_timeout=1s" \
    "deliver_to=file:$T/out" "report_from=tlsrpt@sender.test" "send_window=0" \
    "metrics_listen=inet:127.0.0.1:$MPORT" "metrics_textfile=$T/textfile/opentlsrpt.prom"
: > "$T/mail.log"
# -v: the log names each role's process, for the kill below.
"$OTR" -f -v -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 20 test -S "$T/tlsrpt.sock"
wait_for 20 test -S "$T/policy.sock"
wait_for 20 test -S "$T/milter.sock"
wait_for 20 curl -sf "http://127.0.0.1:$MPORT/metrics"

cat > "$T/prom.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ["$top_srcdir/contrib/prometheus/opentlsrpt.rules.yml"]
scrape_configs:
  - job_name: opentlsrpt
    static_configs: [{targets: ["127.0.0.1:$MPORT"]}]
  - job_name: node
    static_configs: [{targets: ["127.0.0.1:$NPORT"]}]
EOF
prometheus-node-exporter --web.listen-address="127.0.0.1:$NPORT" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$T/textfile" >>"$T/node.log" 2>&1 &
NODE_PID=$!
at_exit "kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null"
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom-data" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >>"$T/prometheus.log" 2>&1 &
PROM_PID=$!
at_exit "kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null"

# q QUERY: the value of the first sample Prometheus answers QUERY with ("none": no sample).
q() {
    curl -s --max-time 5 --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" |
        python3 -c 'import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "none")
except Exception:
    print("error")'
}
# expect QUERY VALUE: waits (scrapes are every second) until QUERY gives VALUE.
expect() {
    local end=$(($(date +%s) + 40)) v
    while :; do
        v=$(q "$1")
        [ "$v" = "$2" ] && return 0
        [ "$(date +%s)" -lt "$end" ] || fail "$1 is $v, expected $2"
        sleep 0.5
    done
}
expect 'up{job="opentlsrpt"}' 1
expect 'up{job="node"}' 1

# Datagrams: a paced stream and the samples (two of them bad).
"$SEND" -s "$T/tlsrpt.sock" -b -n 200 -d 20 > "$T/send.out" || fail "send"
"$SEND" -s "$T/tlsrpt.sock" -b -n 6 "$DATA"/datagrams/*.json "$DATA"/datagrams/*.bin > "$T/send2.out" ||
    fail "send"
acc=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send.out")
acc2=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send2.out")
[ "$acc2" -eq 6 ] || fail "samples: $(cat "$T/send2.out")"
# Policy lookups: every name is NXDOMAIN, so each answer is NOTFOUND.
python3 "$top_srcdir/tests/tools/socketmap_ask.py" "$T/policy.sock" sts unknown.example \
    unknown.example other.example bad..name > "$T/answers" || fail "policy lookups"
[ "$(grep -cxE 'NOTFOUND ?' "$T/answers")" -eq 4 ] || fail "policy lookups: $(cat "$T/answers")"
# A log of 60 lines.
sed -n '1,60p' "$DATA/logs/postfix-3.7-rfc3339.log" >> "$T/mail.log"
# A report mail about yesterday (the agent's textfile shows the last finished day).
Y=$(days_ago 1)
sed "s/2026-11-21/$Y/g" "$DATA/inreports/json-plain.eml" > "$T/report.eml"
MILTER_SOCK="local:$T/milter.sock" MSG="$T/report.eml" \
    miltertest -s "$top_srcdir/tests/milter/send.lua" > "$T/mt.out" 2>&1 || fail "miltertest: $(cat "$T/mt.out")"

expect 'opentlsrpt_datagrams_received_total' $((acc + 6))
expect 'opentlsrpt_datagrams_stored_total' $((acc + 4))
expect 'opentlsrpt_journal_records_written_total{role="tlsrpt"}' $((acc + 4))
expect 'opentlsrpt_datagrams_malformed_total{reason="not-json"}' 1
expect 'opentlsrpt_datagrams_malformed_total{reason="bad-version"}' 1
expect 'sum(opentlsrpt_datagrams_dropped_total)' 0
expect 'opentlsrpt_datagram_queue_length' 0
expect 'opentlsrpt_policy_lookups_total{answer="notfound"}' 4
expect 'opentlsrpt_policy_lookup_duration_seconds_count' 4
expect 'opentlsrpt_log_lines_read_total' 60
expect 'opentlsrpt_log_follow_lag_bytes' 0
expect 'opentlsrpt_milter_messages_total' 1
expect 'opentlsrpt_milter_reports_total{result="stored"}' 1
expect 'opentlsrpt_build_info{roles="tlsrpt,milter,policy,log"}' 1
expect 'count(opentlsrpt_role_up == 1)' 5
[ "$(q 'opentlsrpt_log_sessions_total')" -gt 0 ] || fail "no log sessions counted"
[ "$(q 'opentlsrpt_journal_fsync_duration_seconds_count{role="tlsrpt"}')" -gt 0 ] ||
    fail "no fsync timed"
[ "$(q 'opentlsrpt_milter_resident_memory_bytes')" -gt 0 ] || fail "milter memory not shown"

curl -sf "http://127.0.0.1:$MPORT/metrics" > "$T/scrape.txt" || fail "scrape"
promtool check metrics < "$T/scrape.txt" > "$T/lint.out" 2>&1 || fail "promtool check metrics: $(cat "$T/lint.out")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")" = 405 ] ||
    fail "POST not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nothing")" = 404 ] ||
    fail "unknown path not 404"

# The agent: yesterday's outcomes for vg.example (delivered to file:) and nr.example (no
# TLSRPT record), then the textfile, through node_exporter.
{ dgram vg.example; dgram vg.example fail; dgram nr.example; } | put_outcomes "$Y"
"$AGENT" -c "$T/c.conf" run --now || fail "agent run"
promtool check metrics < "$T/textfile/opentlsrpt.prom" > "$T/lint2.out" 2>&1 ||
    fail "promtool check metrics (textfile): $(cat "$T/lint2.out")"
expect "opentlsrpt_agent_reports{day=\"$Y\",method=\"mailto\",status=\"delivered\"}" 1
expect "opentlsrpt_agent_reports{day=\"$Y\",method=\"none\",status=\"no_record\"}" 1
expect 'opentlsrpt_agent_last_run_success' 1
expect 'opentlsrpt_received_sessions{domain="example.net",result="success"}' 50
expect 'opentlsrpt_received_sessions{domain="example.net",result="failure"}' 4
expect 'opentlsrpt_received_reports' 1
[ "$(q 'opentlsrpt_agent_delivery_delay_max_seconds')" != none ] || fail "no delivery delay"
# Every query of the Grafana dashboard is PromQL Prometheus accepts.
python3 - "$top_srcdir/contrib/grafana/opentlsrpt-dashboard.json" "$PPORT" <<'PY' || fail "dashboard queries"
import json, sys, urllib.parse, urllib.request
def exprs(panels):
    for p in panels:
        yield from exprs(p.get("panels", []))
        for t in p.get("targets", []):
            yield t["expr"]
n = 0
for e in exprs(json.load(open(sys.argv[1]))["panels"]):
    q = urllib.parse.urlencode({"query": e.replace("$instance", ".*")})
    r = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], q)))
    assert r["status"] == "success", (e, r)
    n += 1
assert n >= 20, n
PY

# Kill the tlsrpt role: a scrape while it is down answers, its counters kept.
pid=$(sed -n 's/.*tlsrpt: started process \([0-9]*\).*/\1/p' "$T/daemon.log" | tail -n 1)
[ -n "$pid" ] || fail "tlsrpt role's process not found in the log"
kill -KILL "$pid"
wait_for 10 grep -q "tlsrpt: process $pid killed by signal 9" "$T/daemon.log"
curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" > "$T/scrape2.txt" || fail "no scrape while a role restarts"
grep -qx "opentlsrpt_datagrams_received_total $((acc + 6))" "$T/scrape2.txt" ||
    fail "counters lost with the role: $(grep received_total "$T/scrape2.txt")"
expect 'opentlsrpt_role_restarts_total{role="tlsrpt"}' 1
expect 'opentlsrpt_role_up{role="tlsrpt"}' 1
expect 'min_over_time(up{job="opentlsrpt"}[1h])' 1
"$SEND" -s "$T/tlsrpt.sock" -b -n 10 > /dev/null || fail "send after the restart"
expect 'opentlsrpt_datagrams_stored_total' $((acc + 14))
# A second daemon whose journal reaches journal_max_size: what it refuses is counted as
# dropped (journal_full), no more and no less than the writer refused.
stop_daemon
MPORT2=$(free_port)
mkdir -p "$T/j"
printf "%s\n" "spool_directory = $T/j/spool" "tlsrpt_socket = $T/j/tlsrpt.sock" "user = $(id -un)" \
    "journal_max_size = 1M" "metrics_listen = inet:127.0.0.1:$MPORT2" > "$T/j.conf"
"$OTR" -f -c "$T/j.conf" >>"$T/daemon2.log" 2>&1 &
DAEMON_PID=$!
wait_for 20 test -S "$T/j/tlsrpt.sock"
"$SEND" -s "$T/j/tlsrpt.sock" -b -n 10000 > "$T/send3.out" || fail "send"
acc3=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$T/send3.out")
sleep 1.5
curl -sf "http://127.0.0.1:$MPORT2/metrics" > "$T/scrape3.txt" || fail "scrape of the second daemon"
v() { grep -F "$1 " "$T/scrape3.txt" | sed -n 's/.* \([0-9]*\)$/\1/p'; }
full=$(v 'opentlsrpt_datagrams_dropped_total{reason="journal_full"}')
[ "${full:-0}" -gt 0 ] || fail "nothing counted as journal_full: $(grep dropped "$T/scrape3.txt")"
[ "$full" = "$(v 'opentlsrpt_journal_records_dropped_total{role="tlsrpt"}')" ] ||
    fail "journal_full differs from the journal's count"
[ $(($(v opentlsrpt_datagrams_stored_total) + full)) -eq "$acc3" ] ||
    fail "stored + journal_full != accepted ($acc3): $(grep -e stored_total -e dropped "$T/scrape3.txt")"
pass "daemon and agent metrics in Prometheus; scrape through a role's restart; journal_full counted"
