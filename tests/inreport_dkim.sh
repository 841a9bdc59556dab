#!/bin/sh
# DKIM of received reports: messages signed by python3-dkim (an independent signer) with
# keys served by a test unbound are verified by ingest and by the milter (pass, aligned
# with the submitter or not), an altered one fails, an unsigned one is "none".
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
need unbound openssl miltertest
PY=/usr/bin/python3
$PY -c 'import dkim' 2>/dev/null || skip "python3-dkim is not installed"
IN="$DATA/inreports"

{
    echo '  local-zone: "giant.example." static'
    dns_dkim_key tlsrpt._domainkey.giant.example. "k=rsa; s=tlsrpt;" "$DATA/dkim/rsa2048.pem"
    echo '  local-zone: "relay.example." static'
    dns_dkim_key sel._domainkey.relay.example. "k=rsa;" "$DATA/dkim/rsa2048.pem"
} > "$T/zones"
start_unbound "$T/zones"

# sign IN OUT DOMAIN SELECTOR: python3-dkim, relaxed/relaxed, the headers RFC 8460 names.
sign() {
    $PY - "$1" "$2" "$3" "$4" "$DATA/dkim/rsa2048.pem" <<'END_OF_PY' || fail "python3-dkim could not sign"
import dkim, sys
src, dst, domain, sel, key = sys.argv[1:6]
msg = open(src, "rb").read()
sig = dkim.sign(msg, sel.encode(), domain.encode(), open(key, "rb").read(),
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                 b"tls-report-domain", b"tls-report-submitter", b"content-type",
                                 b"mime-version"])
open(dst, "wb").write(sig + msg)
END_OF_PY
}
sign "$IN/google.eml" "$T/signed.eml" giant.example tlsrpt
sign "$IN/microsoft.eml" "$T/other.eml" relay.example sel
# Altered in transit: one byte of the text part changed after signing.
sed 's/aggregate TLS report/aggregate TLS rep0rt/' "$T/signed.eml" > "$T/altered.eml"
cmp -s "$T/signed.eml" "$T/altered.eml" && fail "the alteration changed nothing"

write_conf "$T/otr.conf" "resolver=$DNS_RESOLVER"
"$AGENT" -c "$T/otr.conf" ingest "$T/signed.eml" > "$T/ingest.out" || fail "ingest signed"
grep -q 'dkim=pass (d=giant.example))' "$T/ingest.out" || fail "not verified: $(cat "$T/ingest.out")"
"$AGENT" -c "$T/otr.conf" ingest "$T/other.eml" > "$T/ingest.out" || fail "ingest other"
grep -q 'dkim=pass (d=relay.example), not aligned with the submitter)' "$T/ingest.out" ||
    fail "alignment not checked: $(cat "$T/ingest.out")"
rm -rf "$T/spool/reports"
# A failed signature is a verdict kept with the report, not a failure of ingest.
"$AGENT" -c "$T/otr.conf" ingest "$T/altered.eml" > "$T/ingest.out" 2>&1 ||
    fail "ingest altered: exit $?: $(cat "$T/ingest.out")"
grep -q 'dkim=fail' "$T/ingest.out" || fail "altered message not failed: $(cat "$T/ingest.out")"
rm -rf "$T/spool/reports"
"$AGENT" -c "$T/otr.conf" ingest "$IN/qp.eml" > "$T/ingest.out" || fail "ingest unsigned"
grep -q 'dkim=none)' "$T/ingest.out" || fail "unsigned: $(cat "$T/ingest.out")"
# The result is kept with the report.
grep -q '"dkim":"none"' "$T"/spool/reports/*.json || fail "dkim result not stored"
pass "ingest verifies DKIM and alignment"

# Forwarded as an attachment from another mailbox: the forward itself is unsigned, the
# forwarded report message keeps its own signature, and that is the one verified.
# Byte for byte, as a mail client forwards: any change would break the signature.
{
    printf 'From: postmaster@example.com\nSubject: Fwd: TLS report\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="fwd-b"\n\n--fwd-b\n'
    printf 'Content-Type: text/plain\n\nforwarded from the postmaster mailbox\n\n--fwd-b\n'
    printf 'Content-Type: message/rfc822\nContent-Disposition: attachment\n\n'
    cat "$T/signed.eml"
    printf '\n--fwd-b--\n'
} > "$T/forwarded.eml"
rm -rf "$T/spool/reports"
"$AGENT" -c "$T/otr.conf" ingest "$T/forwarded.eml" > "$T/ingest.out" || fail "forwarded refused"
grep -q 'stored report .* from giant.example (.*dkim=pass (d=giant.example), forwarded)' \
    "$T/ingest.out" || fail "forwarded report's own DKIM not kept: $(cat "$T/ingest.out")"
pass "a forwarded report keeps its own DKIM result"

# The milter, from what the MTA passes (header values and body), verifies the same.
rm -rf "$T/spool/reports"
SOCK="$T/milter/milter.sock"
write_conf "$T/otr.conf" "resolver=$DNS_RESOLVER" "milter_socket=local:$SOCK"
start_daemon "$T/otr.conf"
wait_for 10 test -S "$SOCK"
for f in signed altered forwarded; do
    MILTER_SOCK="local:$SOCK" MSG="$T/$f.eml" miltertest -s "$top_srcdir/tests/milter/send.lua" \
        > "$T/mt.out" 2>&1 || { cat "$T/mt.out"; fail "miltertest $f"; }
    rm -rf "$T/spool/reports"
done
stop_daemon
grep -q 'stored TLS-RPT report from giant.example.*dkim=pass (d=giant.example)$' "$T/daemon.log" ||
    fail "milter did not verify the signature"
grep -q 'stored TLS-RPT report from giant.example.*dkim=fail' "$T/daemon.log" ||
    fail "milter passed an altered message"
grep -q 'stored TLS-RPT report from giant.example.*dkim=pass (d=giant.example), forwarded$' \
    "$T/daemon.log" || fail "milter did not verify a forwarded report's own signature"
pass "the milter verifies DKIM, of a forwarded report too"
