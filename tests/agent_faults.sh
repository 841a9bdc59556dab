#!/bin/sh
# Faults at the agent's destinations: an SMTP relay that never greets or greets too late, one
# that closes the connection in the middle of DATA (tests/tools/smtp_faulty.py), the DNS
# server down during a run, an HTTPS endpoint that takes the TCP connection but never
# answers, not even the TLS handshake (the real endpoint, stopped with SIGSTOP), a SERVFAIL
# for the domain's TLSRPT record (a validating unbound facing a broken signed zone). Each run
# ends within the configured timeouts and exits 0 (a remote failure is not a run failure),
# the report stays pending, and later runs with the fault gone (the real Postfix relay, the
# real endpoint, unbound, the zone fixed) deliver it exactly once, with the report's own
# report-id.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_postfix.sh"
. "$top_srcdir/tests/lib_agent.sh"

make_ca
start_https
at_exit 'kill -CONT "$HTTPS_PID" 2>/dev/null' # a stopped endpoint would not hear its TERM
start_relay "$T/srv.pem" "$T/srv.key"
U="https://reports.example:$HTTPS_PORT"
cat > "$T/zones" <<ZONES
  local-zone: "example." static
  local-data: 'reports.example. A 127.0.0.1'
  local-data: '_smtp._tls.silent.example. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"'
  local-data: '_smtp._tls.late.example. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"'
  local-data: '_smtp._tls.drop.example. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"'
  local-data: '_smtp._tls.nodns.example. TXT "v=TLSRPTv1; rua=$U/ok"'
  local-data: '_smtp._tls.stopped.example. TXT "v=TLSRPTv1; rua=$U/ok"'
ZONES
dns_tlsrpt_zone servfail.example "$U/ok" > "$T/servfail.zone"
dns_servfail_zone servfail.example "$T/servfail.zone"
start_unbound "$T/zones"

SMTP_TIMEOUT=3
HTTPS_TIMEOUT=3
DNS_TIMEOUT=15 # DNS_DEFAULT_TIMEOUT in common/mail/dns.c: not a setting
D=$(days_ago 1)
T0=$(($(date -u -d "$D" +%s) + 86400 + 10))

# start_faulty MODE: a misbehaving relay; sets FAULTY_PORT, logs to $T/faulty-MODE.log.
start_faulty() {
    local log="$T/faulty-${1%%:*}.log"
    FAULTY_PORT=$(free_port)
    "$PY" "$top_srcdir/tests/tools/smtp_faulty.py" "$FAULTY_PORT" "$1" "$log" 2>>"$T/faulty.err" &
    at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
    wait_for 10 grep -q ready "$log"
}

# report_id DOMAIN: the report-id of DOMAIN's report, as `report` prints it.
report_id() {
    "$AGENT" -c "$T/$1.conf" report --day "$D" --domain "$1" |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["report-id"])'
}

# faulty_run DOMAIN LIMIT ENDPOINT [AGENT-OPTIONS...]: DOMAIN's report, then a run with the
# fault in place (AGENT-OPTIONS): exit 0 within LIMIT seconds, the report pending, with one
# failed attempt at ENDPOINT (none: the attempt never got that far). Runs here and in
# healed_runs are `run $RUN_ARGS`.
faulty_run() {
    local dom=$1 limit=$2 ep=$3 start rc=0
    shift 3
    write_conf "$T/$dom.conf" "spool_directory=$T/spool-$dom" "resolver=$DNS_RESOLVER" \
        "smtp_relay=127.0.0.1:$SMTP_PORT" "smtp_timeout=${SMTP_TIMEOUT}s" \
        "https_ca_file=$T/ca.pem" "https_allow_private=yes" "https_connect_timeout=2s" \
        "https_timeout=${HTTPS_TIMEOUT}s" "send_window=0" $DKIM_CONF
    dgram "$dom" | "$OUTCOMES" "$T/spool-$dom" "$D" 2>>"$T/outcomes.log" || fail "otr-outcomes"
    start=$(date +%s)
    # shellcheck disable=SC2086
    OTR_TEST_NOW=$T0 "$AGENT_TEST" -c "$T/$dom.conf" "$@" -v run ${RUN_ARGS:-} 2>>"$T/agent.log" || rc=$?
    elapsed=$(($(date +%s) - start))
    [ "$rc" = 0 ] || fail "$dom: the run exited $rc; a remote failure is not a run failure"
    [ "$elapsed" -le "$limit" ] || fail "$dom: the run took ${elapsed}s, more than ${limit}s"
    OTR_TEST_NOW=$T0 "$AGENT_TEST" -c "$T/$dom.conf" status --day "$D" > "$T/$dom.status"
    grep -q "^  $dom  pending " "$T/$dom.status" || fail "$dom: not pending: $(cat "$T/$dom.status")"
    if [ "$ep" != none ]; then
        grep -q "^    $ep  pending  attempts 1  ." "$T/$dom.status" ||
            fail "$dom: no failed attempt recorded: $(cat "$T/$dom.status")"
    fi
}

# healed_runs DOMAIN: two later runs with the fault gone; DOMAIN's report is delivered.
healed_runs() {
    # shellcheck disable=SC2086
    OTR_TEST_NOW=$((T0 + 600)) "$AGENT_TEST" -c "$T/$1.conf" run ${RUN_ARGS:-} 2>>"$T/agent.log" ||
        fail "$1: the run after the fault"
    # shellcheck disable=SC2086
    OTR_TEST_NOW=$((T0 + 3600)) "$AGENT_TEST" -c "$T/$1.conf" run ${RUN_ARGS:-} 2>>"$T/agent.log" ||
        fail "$1: the second run after the fault"
    OTR_TEST_NOW=$((T0 + 3600)) "$AGENT_TEST" -c "$T/$1.conf" status --day "$D" |
        grep -q "^  $1  delivered " || fail "$1: not delivered after the fault"
}

# mailed_once DOMAIN: the relay stored DOMAIN's report once, its Message-ID the report-id.
mailed_once() {
    local rid
    rid=$(report_id "$1")
    wait_for 30 grep -rqx "Message-ID: <$rid>" "$RELAY_MAILDIR"
    sleep 1 # a second copy would be in the queue by now
    n=$(grep -rlx "Message-ID: <$rid>" "$RELAY_MAILDIR" | wc -l)
    [ "$n" = 1 ] || fail "$1: the relay stored the report $n times"
}

# posted_once DOMAIN: the endpoint has DOMAIN's report once, with its report-id.
posted_once() {
    local rid
    rid=$(report_id "$1")
    posts | grep " $1\$" > "$T/$1.posts" || fail "$1: never POSTed"
    [ "$(wc -l < "$T/$1.posts")" = 1 ] || fail "$1: POSTed $(wc -l < "$T/$1.posts") times"
    [ "$(cut -d' ' -f3 "$T/$1.posts")" = "$rid" ] ||
        fail "$1: POSTed as $(cut -d' ' -f3 "$T/$1.posts"), want $rid"
}

# a. A tarpit: the greeting never comes, or after the timeout.
start_faulty silent
faulty_run silent.example $((3 * SMTP_TIMEOUT)) mailto:tlsrpt@example.org \
    -o "smtp_relay=127.0.0.1:$FAULTY_PORT"
grep -q connect "$T/faulty-silent.log" || fail "silent: the tarpit was never contacted"
healed_runs silent.example
mailed_once silent.example
pass "a relay that never greets: the run ends after ${SMTP_TIMEOUT}s, the report is sent later"

start_faulty late:$((2 * SMTP_TIMEOUT))
faulty_run late.example $((3 * SMTP_TIMEOUT)) mailto:tlsrpt@example.org \
    -o "smtp_relay=127.0.0.1:$FAULTY_PORT"
healed_runs late.example
mailed_once late.example
pass "a relay that greets too late: the run ends after ${SMTP_TIMEOUT}s, the report is sent later"

# b. The connection closed in the middle of DATA, after the report's headers went out.
start_faulty drop
faulty_run drop.example $((3 * SMTP_TIMEOUT)) mailto:tlsrpt@example.org \
    -o "smtp_relay=127.0.0.1:$FAULTY_PORT"
grep -q "dropped in DATA" "$T/faulty-drop.log" || fail "drop: the relay did not drop the session in DATA"
grep -qx "Message-ID: <$(report_id drop.example)>" "$T/faulty-drop.log" ||
    fail "drop: the cut message is not this report: $(cat "$T/faulty-drop.log")"
healed_runs drop.example
mailed_once drop.example
pass "a relay closing the connection in DATA: pending, then sent once with the same report-id"

# c. No DNS server during the run: a temporary failure, delivered once DNS is back.
faulty_run nodns.example $((3 * DNS_TIMEOUT)) none -o "resolver=127.0.0.1@$(free_port)"
posts | grep -q " nodns.example\$" && fail "nodns: sent without DNS"
healed_runs nodns.example
posted_once nodns.example
pass "DNS down during the run: pending, then sent once"

# d. An endpoint that accepts the TCP connection and never answers, not even the TLS
# handshake: the real one, stopped (the kernel still completes the TCP handshake).
kill -STOP "$HTTPS_PID"
faulty_run stopped.example $((3 * HTTPS_TIMEOUT)) "$U/ok"
kill -CONT "$HTTPS_PID"
healed_runs stopped.example
posted_once stopped.example
pass "an HTTPS endpoint that never answers: the run ends after ${HTTPS_TIMEOUT}s, the report is sent later"

# e. SERVFAIL for the TLSRPT record: temporary, so the report waits (first retry after 5
# minutes, within the 24 hours from the first attempt) instead of being dropped as if the
# domain had no record; once the zone is signed properly again, it goes out once. The
# operator's `run --now`, here the same as the cron's `run` since send_window = 0.
[ "$(dns_rcode _smtp._tls.servfail.example TXT)" = SERVFAIL ] ||
    fail "servfail: unbound answers $(dns_rcode _smtp._tls.servfail.example TXT), not SERVFAIL"
RUN_ARGS=--now
faulty_run servfail.example 10 none
next=$(date -u -d "@$((T0 + 300))" +%Y-%m-%dT%H:%M:%SZ)
grep -qx "  servfail.example  pending  next $next" "$T/servfail.example.status" ||
    fail "servfail: no next attempt at $next: $(cat "$T/servfail.example.status")"
posts | grep -q " servfail.example\$" && fail "servfail: sent although its record could not be read"
dns_heal_zone servfail.example
[ "$(dns_rcode _smtp._tls.servfail.example TXT)" = NOERROR ] || fail "servfail: the zone did not heal"
healed_runs servfail.example
posted_once servfail.example
RUN_ARGS=
pass "SERVFAIL for the TLSRPT record: pending with its next attempt, then sent once"
