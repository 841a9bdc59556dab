# Agent delivery tests, sourced after tests/lib.sh, tests/lib_dns.sh and (for start_relay)
# tests/lib_postfix.sh: a test CA, a real HTTPS endpoint (tests/tools/https_sink.py), a real
# SMTP relay, and outcomes written for a finished day.
#
#   make_ca                      $T/ca.pem, and $T/srv.pem/$T/srv.key for reports.example
#                                and 127.0.0.1, signed by it; a DKIM key ($DKIM_CONF holds
#                                the settings naming it)
#   start_https [SLOW_SECONDS [PREFIX...]]
#                                starts the endpoint (PREFIX: e.g. ip netns exec NS); sets
#                                HTTPS_PORT; requests land in $T/posts/NNNN.json
#   posts                        prints "PATH CONTENT-TYPE REPORT-ID POLICY-DOMAIN" per
#                                request, after validating each body against the schema
#   put_outcomes DAY < lines     stores libtlsrpt datagrams (one per line) for DAY
#   start_relay CERT KEY         a private Postfix on 127.0.0.1 (needs root): plain and
#                                STARTTLS at $SMTP_PORT, smtps at $SMTPS_PORT, with CERT/KEY;
#                                mail to tlsrpt@example.org lands in $RELAY_MAILDIR, RCPT
#                                later@example.org gets a 451; $PF is its configuration
PY=/usr/bin/python3
OUTCOMES="$top_builddir/tests/tools/otr-outcomes"

make_ca() {
    need openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=opentlsrpt test CA" \
        -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || fail "openssl: CA"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=reports.example" \
        -keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1 || fail "openssl: CSR"
    printf 'subjectAltName=DNS:reports.example,DNS:other.example,IP:127.0.0.1\n' > "$T/san.ext"
    openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
        -days 2 -extfile "$T/san.ext" -out "$T/srv.pem" >/dev/null 2>&1 || fail "openssl: sign"
    # a DKIM key, so that mail set-up is complete and runs stay silent
    openssl genpkey -algorithm ed25519 -out "$T/dkim.pem" >/dev/null 2>&1 || fail "openssl: DKIM key"
    DKIM_CONF="dkim_domain=sender.test dkim_selector=t dkim_key_file=$T/dkim.pem"
}

start_https() {
    need "$PY"
    "$PY" -c "import jsonschema" 2>/dev/null || skip "python3-jsonschema is not installed"
    mkdir -p "$T/posts"
    rm -f "$T/https.port"
    local slow=${1:-30}
    [ $# -eq 0 ] || shift
    "$@" "$PY" "$top_srcdir/tests/tools/https_sink.py" "$T/srv.pem" "$T/srv.key" "$T/posts" \
        "$T/https.port" "$slow" >>"$T/https.log" 2>&1 &
    HTTPS_PID=$!
    at_exit stop_https
    wait_for 10 test -s "$T/https.port"
    HTTPS_PORT=$(cat "$T/https.port")
}

stop_https() {
    if [ -n "${HTTPS_PID:-}" ]; then
        kill -TERM "$HTTPS_PID" 2>/dev/null || true
        wait "$HTTPS_PID" 2>/dev/null || true
    fi
    HTTPS_PID=
}

posts() {
    "$PY" "$top_srcdir/tests/tools/https_bodies.py" "$DATA/tlsrpt-report.schema.json" "$T/posts"
}

put_outcomes() {
    "$OUTCOMES" "$T/spool" "$1" 2>>"$T/outcomes.log" || fail "otr-outcomes"
}

# dgram DOMAIN [FAIL]: one datagram line, an STS success or a validation failure.
dgram() {
    if [ -n "${2:-}" ]; then
        printf '{"dpv":"1","d":"%s","pr":"v=TLSRPTv1;","policies":[{"policy-type":2,"policy-domain":"%s","policy-string":["version: STSv1","mode: enforce","mx: mx.%s","max_age: 86400"],"mx-host":["mx.%s"],"failure-details":[{"c":204,"s":"192.0.2.1","n":"mx.%s","r":"198.51.100.7","f":"X509_V_ERR_CERT_HAS_EXPIRED"}],"t":1,"f":1}]}\n' "$1" "$1" "$1" "$1" "$1"
    else
        printf '{"dpv":"1","d":"%s","pr":"v=TLSRPTv1;","policies":[{"policy-type":2,"policy-domain":"%s","policy-string":["version: STSv1","mode: enforce","mx: mx.%s","max_age: 86400"],"mx-host":["mx.%s"],"t":0,"f":0}]}\n' "$1" "$1" "$1" "$1"
    fi
}

days_ago() { date -u -d "@$(($(date +%s) - $1 * 86400))" +%Y-%m-%d; }

start_relay() {
    SMTP_PORT=$(free_port)
    SMTPS_PORT=$(free_port)
    RELAY_MAILDIR="$T/mail/tlsrpt/new"
    chmod 0644 "$2"
    mkdir -p "$PF"
    echo "later@example.org 451 4.3.0 try again later" > "$PF/access"
    postfix_start relay.example "$SMTP_PORT" "$(postfix_virtual example.org)
smtpd_recipient_restrictions = check_recipient_access texthash:$PF/access,
    permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = may
smtpd_tls_cert_file = $1
smtpd_tls_key_file = $2" "127.0.0.1:$SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes \
-o smtpd_tls_security_level=encrypt -o smtpd_tls_loglevel=1"
}
