#!/bin/sh
# The milter behind a real sendmail 8.17 (tests/lib_sendmail.sh): a receiving sendmail on
# 127.0.0.1 with README's INPUT_MAIL_FILTER line (only the socket path changed) relays
# example.com by mailertable to an SMTP sink that keeps what it gets. Reports are stored
# once and delivered (accept), a malformed one is refused with our 5xx (reject), a stored
# one is dropped (discard); ordinary mail arrives byte for byte as sent. With
# record_inbound_tls, sendmail's {tls_version} and {cipher} are counted. A milter restart
# while sendmail runs loses nothing: sendmail defers mail while the milter is down (F=T) and
# takes it, scanned, once it is back.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_milter.sh"
. "$top_srcdir/tests/lib_sendmail.sh"
sm_need
need swaks openssl
time_limit 150
IN="$DATA/inreports"
SOCK="$T/milter/milter.sock"
export TZ=UTC

SMTP_PORT=$(free_port)
SINK_PORT=$(free_port)
mkdir -p "$T/sink" "$T/sm-rcv"
python3 "$top_srcdir/tests/tools/check_smtpd.py" --store "$T/sink" "$T/sink.ready" \
    "127.0.0.1:$SINK_PORT:-" >> "$T/sink.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 10 test -f "$T/sink.ready"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/mx.key" \
    -out "$T/mx.pem" -subj "/CN=mx.example.com" -days 2 2>/dev/null || fail "openssl req"
chmod 600 "$T/mx.key" # sendmail refuses a key others can read
filter=$(sm_readme "Receiving reports" '^INPUT_MAIL_FILTER\(' | sed "s|/run/opentlsrpt/milter/milter.sock|$SOCK|")
echo "example.com esmtp:[sink.test]" > "$T/sm-rcv/mailertable.txt"
sm_hosts "127.0.0.1 sink.test"
sm_start rcv mx.example.com "$SMTP_PORT" "define(\`confSERVER_CERT', \`$T/mx.pem')dnl
define(\`confSERVER_KEY', \`$T/mx.key')dnl
define(\`confCACERT_PATH', \`$T')dnl
define(\`confCACERT', \`$T/mx.pem')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
FEATURE(\`mailertable', \`hash $T/sm-rcv/mailertable')dnl
RELAY_DOMAIN(\`example.com')dnl
FEATURE(\`accept_unresolvable_domains')dnl
MAILER(\`smtp')dnl
$filter"
nmail() { find "$T/sink" -name '*.eml' | wc -l; }
# delivered_as FILE: the latest message in the sink is FILE as sent (after sendmail's own
# Received: header), byte for byte.
delivered_as() {
    local got
    got="$T/sink/$(nmail).eml"
    python3 - "$1" "$got" <<'PY'
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
got = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
# sendmail puts its Received: header (folded over several lines) first.
while got.startswith(b"Received:"):
    got = got.split(b"\n", 1)[1]
    while got[:1] in (b" ", b"\t"):
        got = got.split(b"\n", 1)[1]
# swaks ends the data with CRLF . CRLF after the file's own last newline.
sys.exit(0 if got.rstrip(b"\n") == sent.rstrip(b"\n") else 1)
PY
}

start_milter
smtp "$IN/google.eml" || { cat "$T/swaks.out"; fail "google.eml not accepted"; }
smtp "$IN/microsoft.eml" || fail "microsoft.eml not accepted"
smtp "$IN/plain.eml" || fail "plain mail not accepted"
wait_for 30 sh -c "[ \$(find '$T/sink' -name '*.eml' | wc -l) -ge 3 ]"
delivered_as "$IN/plain.eml" || fail "ordinary mail was changed on its way"
smtp "$IN/bomb.eml" || fail "a malformed report was refused with milter_action=accept"
wait_for 30 sh -c "[ \$(find '$T/sink' -name '*.eml' | wc -l) -ge 4 ]"
[ "$(nstored)" -eq 2 ] || fail "$(nstored) reports stored, want 2"
grep -q 'milter: [0-9A-Za-z]\{14\}: stored TLS-RPT report from' "$T/daemon.log" ||
    fail "no log line with sendmail's queue id: $(cat "$T/daemon.log")"
stop_daemon
pass "accept: reports stored once and delivered, ordinary mail delivered untouched"

milter_reject_case

start_milter milter_action=discard
n=$(nmail)
smtp "$IN/json-plain.eml" || fail "report refused with discard"
smtp "$IN/mixed-ordinary.eml" || fail "ordinary multipart mail refused with discard"
wait_for 30 sh -c "[ \$(find '$T/sink' -name '*.eml' | wc -l) -gt $n ]"
sleep 1
[ "$(nmail)" -eq $((n + 1)) ] || fail "discard: $(($(nmail) - n)) messages delivered, want 1"
delivered_as "$IN/mixed-ordinary.eml" || fail "discard: the delivered message is not the ordinary one"
[ "$(nstored)" -eq 4 ] || fail "discarded report not stored"
stop_daemon
pass "discard: the report is stored and dropped, ordinary mail delivered"

# The milter is down: sendmail defers (F=T), so no report passes unscanned; after the
# restart the retried message is taken and stored.
n=$(nmail)
if smtp "$IN/google-prev.eml"; then fail "mail taken while the milter was down"; fi
grep -q '^<\*\* *4[0-9][0-9]' "$T/swaks.out" || fail "no 4xx while down: $(cat "$T/swaks.out")"
sleep 1
[ "$(nmail)" -eq "$n" ] || fail "a message was delivered unscanned while the milter was down"
start_milter
smtp "$IN/google-prev.eml" || fail "report refused after the restart"
[ "$(nstored)" -eq 5 ] || fail "the retried report was not stored"
wait_for 30 sh -c "[ \$(find '$T/sink' -name '*.eml' | wc -l) -gt $n ]"
pass "milter restart while sendmail runs: deferred while down, stored once back"

# record_inbound_tls: sendmail's {tls_version} ("TLSv1.3") and {cipher} (OpenSSL's name) at
# MAIL FROM, per envelope sender domain; plaintext sessions count as messages only.
stop_daemon
start_milter record_inbound_tls=yes
for args in "tls.example --tls" "tls.example --tls" "plain.example" \
    "mixed.example --tls --tls-protocol tlsv1_2" "mixed.example"; do
    set -- $args # split on purpose: sender, then swaks options
    from=sender@$1; shift
    smtp "$IN/plain.eml" "$from" "$@" || { cat "$T/swaks.out"; fail "mail from $from refused"; }
done
expect_inbound_tls '{
    "tls.example": {"messages": 2, "tls": 2, "versions": {"TLSv1.3": 2}},
    "plain.example": {"messages": 1, "tls": 0, "versions": {}},
    "mixed.example": {"messages": 2, "tls": 1, "versions": {"TLSv1.2": 1}}}' \
    '{"TLS_AES_256_GCM_SHA384": 2, "ECDHE-ECDSA-AES256-GCM-SHA384": 1}'
pass "record_inbound_tls: sendmail's {tls_version} and {cipher} counted per sender domain"
