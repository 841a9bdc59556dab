#!/bin/sh
# The milter behind a real Postfix: a private smtpd on 127.0.0.1 with the milter in
# smtpd_milters receives reports and ordinary mail from swaks over SMTP. Reports are stored
# and delivered (accept), a malformed one is refused with our 5xx (reject), ordinary mail
# is always delivered, and a stopped milter does not stop mail (milter_default_action).
# With record_inbound_tls, the TLS macros Postfix really passes (smtpd with STARTTLS) are
# counted per envelope sender domain, also for a client that sends MAIL after STARTTLS
# without a new EHLO. Queue ids and TLS macros reach the milter whatever main.cf's milter
# macro lists say.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_milter.sh"
. "$top_srcdir/tests/lib_postfix.sh"
need postfix swaks script openssl python3
IN="$DATA/inreports"
SOCK="$T/milter/milter.sock"

SMTP_PORT=$(free_port)
[ -n "$SMTP_PORT" ] || fail "no free port"
mkdir -p "$PF"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PF/mx.key" \
    -out "$PF/mx.pem" -subj "/CN=mx.example.com" -days 2 2>/dev/null || fail "openssl req"
postfix_start mx.example.com "$SMTP_PORT" "$(postfix_virtual example.com)
smtpd_milters = unix:$SOCK
milter_default_action = accept
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF/mx.pem
smtpd_tls_key_file = $PF/mx.key
# Macro lists customized without the macros the milter reads: it asks for them itself.
milter_helo_macros = {cert_subject}
milter_mail_macros = {auth_type}
milter_rcpt_macros = {rcpt_addr}
milter_data_macros =
milter_end_of_header_macros =
milter_end_of_data_macros ="

maildir="$T/mail/tlsrpt/new"
nmail() { find "$maildir" -type f 2>/dev/null | wc -l; }

start_milter
smtp "$IN/google.eml" || { cat "$T/swaks.out"; fail "google.eml not accepted"; }
smtp "$IN/microsoft.eml" || fail "microsoft.eml not accepted"
smtp "$IN/plain.eml" || fail "plain mail not accepted"
smtp "$IN/bomb.eml" || fail "a malformed report was refused with milter_action=accept"
wait_for 30 sh -c "[ \$(find '$maildir' -type f | wc -l) -ge 4 ]"
[ "$(nstored)" -eq 2 ] || fail "$(nstored) reports stored, want 2"
grep -q 'milter: [0-9A-F]\{6,\}: stored TLS-RPT report from giant.example' "$T/daemon.log" ||
    fail "no log line with Postfix's queue id"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 > "$T/summary.txt" || fail "summary"
grep -q 'mx2.example.com failed TLS for 2 different reporters' "$T/summary.txt" ||
    fail "summary of reports received over SMTP: $(cat "$T/summary.txt")"
stop_daemon
pass "accept: reports stored and delivered, ordinary mail delivered"

milter_reject_case

# The milter is down: Postfix carries on (milter_default_action = accept).
n=$(nmail)
smtp "$IN/qp.eml" || fail "mail refused while the milter is down"
wait_for 30 sh -c "[ \$(find '$maildir' -type f | wc -l) -gt $n ]"
pass "mail flows while the milter is stopped"

# record_inbound_tls: what Postfix passes ({tls_version} as "TLSv1.3", {cipher} as OpenSSL
# names it) is counted at MAIL FROM per envelope sender domain; plaintext sessions count as
# messages only.
start_milter record_inbound_tls=yes
# RFC 3207 clients SHOULD send EHLO again after STARTTLS; this one does not, so the only TLS
# macros Postfix has sent before MAIL are the plaintext EHLO's (none).
printf 'MAIL FROM:<x@noehlo.example>\nRCPT TO:<tlsrpt@example.com>\nDATA\nSubject: no EHLO\n\nhi\n.\nQUIT\n' \
    > "$T/noehlo.txt"
timeout 30 openssl s_client -starttls smtp -connect "127.0.0.1:$SMTP_PORT" -crlf -quiet \
    < "$T/noehlo.txt" > "$T/noehlo.out" 2>&1 || true
grep -q '^250 2.0.0 Ok: queued' "$T/noehlo.out" ||
    fail "no mail over TLS without EHLO: $(cat "$T/noehlo.out")"
for args in "tls.example --tls" "tls.example --tls" "plain.example" "plain.example" \
    "Mixed.Example --tls --tls-protocol tlsv1_2" "mixed.example --tls" "mixed.example" \
    "<> --tls"; do
    set -- $args # split on purpose: sender, then swaks options
    from=$1; shift
    case $from in *.*) from=sender@$from ;; esac
    smtp "$IN/plain.eml" "$from" "$@" || { cat "$T/swaks.out"; fail "mail from $from refused"; }
    case " $* " in
        *" --tls "*) grep -q '^=== TLS started' "$T/swaks.out" ||
            fail "no STARTTLS for $from: $(cat "$T/swaks.out")" ;;
    esac
done
expect_inbound_tls '{
    "tls.example": {"messages": 2, "tls": 2, "versions": {"TLSv1.3": 2}},
    "plain.example": {"messages": 2, "tls": 0, "versions": {}},
    "mixed.example": {"messages": 3, "tls": 2, "versions": {"TLSv1.2": 1, "TLSv1.3": 1}},
    "(null sender)": {"messages": 1, "tls": 1, "versions": {"TLSv1.3": 1}},
    "noehlo.example": {"messages": 1, "tls": 1, "versions": {"TLSv1.3": 1}}}' \
    '{"TLS_AES_256_GCM_SHA384": 5, "ECDHE-ECDSA-AES256-GCM-SHA384": 1}'
"$AGENT" -c "$T/otr.conf" summary --since 1d > "$T/summary.txt" || fail "summary"
grep -q '^      mixed.example: 2 of 3 over TLS (66.7%)$' "$T/summary.txt" ||
    fail "inbound TLS in the text summary: $(cat "$T/summary.txt")"
pass "record_inbound_tls: Postfix's TLS macros counted per sender domain"
