# The milter behind a real MTA (tests/milter_postfix.sh, tests/milter_sendmail.sh), sourced
# after tests/lib.sh; the MTA listens on 127.0.0.1:$SMTP_PORT and reaches the milter at
# $SOCK; reports are in $IN.
#
#   start_milter [name=value...]   the daemon with the milter role and these settings
#   smtp FILE [SENDER [SWAKS-OPTION...]]
#                                  sends the message to tlsrpt@example.com over SMTP; the
#                                  transcript goes to $T/swaks.out
#   nstored                        the number of reports stored
#   milter_reject_case             milter_action = reject: a malformed report gets our
#                                  550 with the reason, a good one and ordinary mail pass
#                                  (two reports must be stored before, three are after)
#   expect_inbound_tls DOMAINS-JSON CIPHERS-JSON
#                                  stops the daemon (it writes the counters out) and checks
#                                  the summary's inbound TLS counts (inbound_tls_check.py)
start_milter() {
    write_conf "$T/otr.conf" "milter_socket=local:$SOCK" "$@"
    start_daemon "$T/otr.conf"
    wait_for 10 test -S "$SOCK"
}

smtp() {
    local file=$1 from=${2:-reports@sender.example}
    shift $(($# > 1 ? 2 : 1))
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --from "$from" \
        --to tlsrpt@example.com --helo mail.sender.example --data "$file" --timeout 30 \
        "$@" < /dev/null > "$T/swaks.out" 2>&1
}

nstored() { ls "$T/spool/reports" 2>/dev/null | wc -l; }

expect_inbound_tls() {
    stop_daemon
    "$AGENT" -c "$T/otr.conf" summary --since 1d --format json > "$T/summary.json" || fail "summary"
    python3 "$top_srcdir/tests/tools/inbound_tls_check.py" "$T/summary.json" "$1" "$2" ||
        fail "inbound TLS in the summary"
}

milter_reject_case() {
    start_milter milter_action=reject
    if smtp "$IN/invalid-json.eml"; then fail "malformed report accepted with reject"; fi
    grep -q '550 5.6.0 malformed TLS-RPT report: invalid JSON' "$T/swaks.out" ||
        fail "no 5xx with the reason: $(cat "$T/swaks.out")"
    smtp "$IN/nested.eml" || fail "good report refused with reject"
    smtp "$IN/plain.eml" || fail "plain mail refused with reject"
    [ "$(nstored)" -eq 3 ] || fail "nested report not stored"
    stop_daemon
    pass "reject: the malformed report gets our 550, the rest is delivered"
}
