#!/bin/sh
# The report e-mail through a real Postfix: a private instance on 127.0.0.1 delivering to a
# maildir; the stored messages are checked (headers, subject, MIME structure, attachment
# name, gunzipped JSON equal to `report` output and schema-valid) and their DKIM signatures
# verified by python3-dkim with the keys served by a test unbound, for an RSA-2048 and an
# Ed25519 key. A 5xx is a permanent failure, a 4xx or a relay that is down a temporary one;
# STARTTLS and smtps to the relay are verified; SMTP AUTH is used; file delivery writes the
# same message; and `opentlsrpt-agent send` does all this with the rua it finds in DNS.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_postfix.sh"
. "$top_srcdir/tests/lib_agent.sh"
need postfix openssl unbound script
$PY -c 'import dkim, dns.resolver, jsonschema' 2>/dev/null ||
    skip "python3-dkim, python3-dnspython or python3-jsonschema is not installed"
DELIVER="$top_builddir/tests/tools/otr-deliver"
CHECK="$PY $top_srcdir/tests/tools/check_report_mail.py"

# --- DNS: the public keys, computed with openssl, not with our code ---
rsa_p=$(openssl pkey -in "$DATA/dkim/rsa2048.pem" -pubout -outform DER | base64 -w0)
# RFC 8463: the bare 32-byte key, i.e. the tail of the SubjectPublicKeyInfo.
ed_p=$(openssl pkey -in "$DATA/dkim/ed25519.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
rsa_a=$(printf %s "$rsa_p" | cut -c1-200)
rsa_b=$(printf %s "$rsa_p" | cut -c201-)
cat > "$T/zones" <<EOF
  local-zone: "sender.example." static
  local-data: 'rsa._domainkey.sender.example. TXT "v=DKIM1; k=rsa; s=tlsrpt; p=$rsa_a" "$rsa_b"'
  local-data: 'ed._domainkey.sender.example. TXT "v=DKIM1; k=ed25519; s=tlsrpt; p=$ed_p"'
  local-data: '_smtp._tls.example.org. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"'
EOF
start_unbound "$T/zones"

# --- the relay: Postfix on 127.0.0.1, with a certificate for localhost from a test CA ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
    -subj "/CN=opentlsrpt relay test CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$T/relay.key" -out "$T/relay.csr" \
    -subj "/CN=localhost" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' > "$T/relay.ext"
openssl x509 -req -in "$T/relay.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/relay.ext" -out "$T/relay.pem" >/dev/null 2>&1 || fail "relay cert"
start_relay "$T/relay.pem" "$T/relay.key"

# --- outcomes in the spool, through the real daemon ---
write_conf "$T/c.conf" contact_info=tlsrpt@sender.example "smtp_relay=127.0.0.1:$SMTP_PORT" \
    "resolver=$DNS_RESOLVER" \
    dkim_domain=sender.example dkim_selector=rsa "dkim_key_file=$DATA/dkim/rsa2048.pem"
start_daemon "$T/c.conf"
"$SEND" -s "$T/tlsrpt.sock" -n 3 "$DATA"/datagrams/sts-validation-failure.json \
    "$DATA"/datagrams/nopolicy-starttls.json "$DATA"/datagrams/tlsa-success.json > /dev/null
sleep 1.5
stop_daemon
day=$(today)
"$AGENT" -c "$T/c.conf" report --day "$day" --domain example.org > "$T/want.json"
[ -s "$T/want.json" ] || fail "no report for example.org"

maildir=$RELAY_MAILDIR
nmail() { find "$maildir" -type f 2>/dev/null | wc -l; }
# deliver EXIT-WANTED OUTPUT-PATTERN ARGS...: one otr-deliver run, its status and output.
deliver() {
    local want=$1 pat=$2 rc=0
    shift 2
    "$DELIVER" -c "$T/c.conf" -d "$day" -D example.org "$@" > "$T/deliver.out" 2>&1 || rc=$?
    cat "$T/deliver.out"
    [ "$rc" -eq "$want" ] || fail "otr-deliver $* exited $rc, want $want"
    grep -q -- "$pat" "$T/deliver.out" || fail "otr-deliver $*: output lacks \"$pat\""
}
# new_mail N: waits for the Nth stored message and writes the path of one not seen
# before to $T/new (a function in $(...) could not fail the test).
new_mail() {
    wait_for 30 sh -c "[ \$(find '$maildir' -type f | wc -l) -ge $1 ]"
    find "$maildir" -type f | sort > "$T/now"
    comm -13 "$T/seen" "$T/now" | tail -n 1 > "$T/new"
    [ -s "$T/new" ] || fail "no new message"
    mv "$T/now" "$T/seen"
}
: > "$T/seen"

# RSA-2048, then Ed25519: accepted (250), stored, and verified independently.
deliver 0 "^OK: accepted: 250" -m tlsrpt@example.org
new_mail 1
$CHECK "$(cat "$T/new")" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
    tlsrpt@example.org || fail "RSA-signed report"
deliver 0 "^OK: accepted: 250" -m tlsrpt@example.org -o dkim_selector=ed \
    -o "dkim_key_file=$DATA/dkim/ed25519.pem"
new_mail 2
$CHECK "$(cat "$T/new")" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
    tlsrpt@example.org || fail "Ed25519-signed report"
# The Message-ID is the report-id: a resend is recognisably the same report.
[ "$(grep -h '^Message-ID:' "$maildir"/* | sort -u | wc -l)" -eq 1 ] ||
    fail "two sends of one report carry different Message-IDs"

# 5xx: permanent; 4xx and a relay that is down: temporary. Nothing more is stored.
deliver 69 "^PERMFAIL: RCPT TO: 550" -m nosuchuser@example.org
deliver 75 "^TEMPFAIL: RCPT TO: 451" -m later@example.org
down=$(free_port)
deliver 75 "^TEMPFAIL: 127.0.0.1:$down" -m tlsrpt@example.org -o "smtp_relay=127.0.0.1:$down"
# An address from DNS that is not a plain addr-spec never reaches the relay.
deliver 69 "^PERMFAIL: not a plain address" -m 'x@example.org>'
[ "$(nmail)" -eq 2 ] || fail "failed deliveries stored mail"

# STARTTLS: verified against the trust store (here the test CA), refused when untrusted.
# Several sessions: libESMTP with TLS 1.3 used to stall in every other one.
for _ in 1 2 3; do
    SSL_CERT_FILE="$T/ca.pem" deliver 0 "^OK: accepted: 250" -m tlsrpt@example.org \
        -o smtp_tls=starttls -o "smtp_relay=localhost:$SMTP_PORT"
done
SSL_CERT_FILE="$DATA/dkim/rfc8463-test.txt" deliver 75 "not trusted" -m tlsrpt@example.org \
    -o smtp_tls=starttls -o "smtp_relay=localhost:$SMTP_PORT"
grep -q "ehlo=2 starttls=1 mail=1 rcpt=1" "$PF/maillog" || fail "the relay saw no TLS session"
new_mail 5
$CHECK "$(cat "$T/new")" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
    tlsrpt@example.org || fail "report sent over STARTTLS"

# smtps (implicit TLS, through the bridge): TLS 1.3 here, verified, refused when untrusted.
for _ in 1 2; do
    SSL_CERT_FILE="$T/ca.pem" deliver 0 "^OK: accepted: 250" -m tlsrpt@example.org \
        -o smtp_tls=smtps -o "smtp_relay=localhost:$SMTPS_PORT"
done
SSL_CERT_FILE="$DATA/dkim/rfc8463-test.txt" deliver 75 "not trusted" -m tlsrpt@example.org \
    -o smtp_tls=smtps -o "smtp_relay=localhost:$SMTPS_PORT"
grep -q "TLS connection established from localhost\[127.0.0.1\]: TLSv1.3" "$PF/maillog" ||
    fail "the relay saw no TLS 1.3 session on the smtps port"
new_mail 7
$CHECK "$(cat "$T/new")" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
    tlsrpt@example.org || fail "report sent over smtps"

# SMTP AUTH with the password file, at a server that wants it (aiosmtpd: Postfix would need
# a SASL service); a failed AUTH is our problem, so temporary; none at all is refused.
if $PY -c 'import aiosmtpd' 2>/dev/null; then
    AUTH_PORT=$(free_port)
    mkdir -p "$T/auth-mail"
    printf 's3cret pass\n' > "$T/password"
    printf 'wrong\n' > "$T/wrong"
    chmod 0600 "$T/password" "$T/wrong"
    $PY "$top_srcdir/tests/tools/smtp_auth_server.py" "$AUTH_PORT" reporter "$T/password" \
        "$T/auth-mail" > "$T/auth-server.log" 2>&1 &
    AUTH_PID=$!
    at_exit 'kill "$AUTH_PID" 2>/dev/null; wait "$AUTH_PID" 2>/dev/null'
    wait_for 20 grep -q ready "$T/auth-server.log"
    deliver 0 "^OK: accepted: 250" -m tlsrpt@example.org -o "smtp_relay=127.0.0.1:$AUTH_PORT" \
        -o smtp_auth_user=reporter -o "smtp_auth_password_file=$T/password"
    $CHECK "$T/auth-mail/1.eml" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
        tlsrpt@example.org || fail "report sent with SMTP AUTH"
    deliver 75 "^TEMPFAIL: SMTP AUTH as reporter failed" -m tlsrpt@example.org \
        -o "smtp_relay=127.0.0.1:$AUTH_PORT" -o smtp_auth_user=reporter \
        -o "smtp_auth_password_file=$T/wrong"
    deliver 69 "^PERMFAIL: MAIL FROM: 530" -m tlsrpt@example.org -o "smtp_relay=127.0.0.1:$AUTH_PORT"
    [ "$(ls "$T/auth-mail" | wc -l)" -eq 1 ] || fail "mail accepted without AUTH"
else
    echo "SKIP (part): python3-aiosmtpd is not installed, SMTP AUTH not tested"
fi
deliver 1 "smtp_auth_password_file" -m tlsrpt@example.org -o smtp_auth_user=reporter

# Start-up: a key too weak or missing is an error, not an unsigned send; no key is a warning.
deliver 1 "needs 2048" -m tlsrpt@example.org -o "dkim_key_file=$DATA/dkim/rsa1024.pem"
deliver 1 "dkim_key_file: /nonexistent" -m tlsrpt@example.org -o dkim_key_file=/nonexistent
deliver 0 "receivers ignore unsigned reports" -m tlsrpt@example.org -o dkim_domain= \
    -o dkim_selector= -o dkim_key_file=
[ "$(grep -c 'unsigned' "$T/deliver.out")" -eq 1 ] || fail "the unsigned warning is not said once"

# deliver_to = file:DIR: the same signed message and the gzip report, side by side.
deliver 0 "^OK: written to $T/out/" -f "$T/out" -u mailto:tlsrpt@example.org
eml=$(ls "$T"/out/*.eml)
gz=$(ls "$T"/out/*.json.gz)
[ "$(echo "$eml" | wc -l)" -eq 1 ] && [ "$(echo "$gz" | wc -l)" -eq 1 ] || fail "file delivery: $eml $gz"
$CHECK "$eml" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" tlsrpt@example.org ||
    fail "the stored .eml"
gunzip -c "$gz" | $PY -c 'import json,sys; a=json.load(sys.stdin); b=json.load(open(sys.argv[1])); sys.exit(a != b)' \
    "$T/want.json" || fail "the stored .json.gz differs from the report"
deliver 69 "^PERMFAIL: not a usable mailto" -f "$T/out" -u 'mailto:a%0D%0ABcc:x@example.org'

# The agent itself: send finds the rua in DNS and hands the signed report to the relay;
# with deliver_to = file: (and --force, as it was delivered) it stores the same message.
find "$maildir" -type f | sort > "$T/seen" # the unsigned one above is not what we want
"$AGENT" -c "$T/c.conf" send --day "$day" --domain example.org > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; fail "opentlsrpt-agent send"; }
new_mail "$(($(wc -l < "$T/seen") + 1))"
$CHECK "$(cat "$T/new")" "$T/want.json" "$DATA/tlsrpt-report.schema.json" "$DNS_PORT" \
    tlsrpt@example.org || fail "report sent by opentlsrpt-agent send"
"$AGENT" -c "$T/c.conf" -o "deliver_to=file:$T/send-files" send --day "$day" \
    --domain example.org --force > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; fail "opentlsrpt-agent send with deliver_to = file:"; }
$CHECK "$(ls "$T"/send-files/*.eml)" "$T/want.json" "$DATA/tlsrpt-report.schema.json" \
    "$DNS_PORT" tlsrpt@example.org || fail "the .eml written by send"
# A key that cannot be read stops the run before anything is written, for file: too.
if "$AGENT" -c "$T/c.conf" -o "deliver_to=file:$T/nokey-files" -o dkim_key_file=/nonexistent \
    send --day "$day" --domain example.org --force > "$T/send.out" 2>&1; then
    fail "send with an unreadable DKIM key succeeded"
fi
grep -q "dkim_key_file" "$T/send.out" || { cat "$T/send.out"; fail "no word of the DKIM key"; }
[ -z "$(ls -A "$T/nokey-files" 2>/dev/null)" ] || fail "unsigned files written: $(ls "$T/nokey-files")"
pass "RSA and Ed25519 reports stored by Postfix and verified by python3-dkim; 5xx/4xx/down; STARTTLS; smtps; AUTH; file; agent send"
