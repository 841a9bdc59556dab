#!/bin/sh
# The milter behind a real Postfix: a private smtpd on 127.0.0.1 with the milter in
# smtpd_milters receives reports and ordinary mail from swaks over SMTP. Reports are stored
# and delivered (accept), a malformed one is refused with our 5xx (reject), ordinary mail
# is always delivered, and a stopped milter does not stop mail (milter_default_action).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_postfix.sh"
need postfix swaks script
IN="$DATA/inreports"
SOCK="$T/milter/milter.sock"

SMTP_PORT=$(free_port)
[ -n "$SMTP_PORT" ] || fail "no free port"
postfix_start mx.example.com "$SMTP_PORT" "$(postfix_virtual example.com)
smtpd_milters = unix:$SOCK
milter_default_action = accept"

start_milter() {
    write_conf "$T/otr.conf" "milter_socket=local:$SOCK" "$@"
    start_daemon "$T/otr.conf"
    wait_for 10 test -S "$SOCK"
}

# smtp FILE: sends the message over SMTP; the transcript goes to $T/swaks.out.
smtp() {
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --from reports@sender.example \
        --to tlsrpt@example.com --helo mail.sender.example --data "$1" --timeout 30 \
        < /dev/null > "$T/swaks.out" 2>&1
}

maildir="$T/mail/tlsrpt/new"
nmail() { find "$maildir" -type f 2>/dev/null | wc -l; }
nstored() { ls "$T/spool/reports" 2>/dev/null | wc -l; }

start_milter
smtp "$IN/google.eml" || { cat "$T/swaks.out"; fail "google.eml not accepted"; }
smtp "$IN/microsoft.eml" || fail "microsoft.eml not accepted"
smtp "$IN/plain.eml" || fail "plain mail not accepted"
smtp "$IN/bomb.eml" || fail "a malformed report was refused with milter_action=accept"
wait_for 30 sh -c "[ \$(find '$maildir' -type f | wc -l) -ge 4 ]"
[ "$(nstored)" -eq 2 ] || fail "$(nstored) reports stored, want 2"
grep -q 'milter: [0-9A-Za-z]*: stored TLS-RPT report from giant.example' "$T/daemon.log" ||
    fail "no log line with Postfix's queue id"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 > "$T/summary.txt" || fail "summary"
grep -q 'mx2.example.com failed TLS for 2 different reporters' "$T/summary.txt" ||
    fail "summary of reports received over SMTP: $(cat "$T/summary.txt")"
stop_daemon
pass "accept: reports stored and delivered, ordinary mail delivered"

start_milter milter_action=reject
if smtp "$IN/invalid-json.eml"; then fail "malformed report accepted with reject"; fi
grep -q '550 5.6.0 malformed TLS-RPT report: invalid JSON' "$T/swaks.out" ||
    fail "no 5xx with the reason: $(cat "$T/swaks.out")"
smtp "$IN/nested.eml" || fail "good report refused with reject"
smtp "$IN/plain.eml" || fail "plain mail refused with reject"
[ "$(nstored)" -eq 3 ] || fail "nested report not stored"
stop_daemon
pass "reject: the malformed report gets our 550, the rest is delivered"

# The milter is down: Postfix carries on (milter_default_action = accept).
n=$(nmail)
smtp "$IN/qp.eml" || fail "mail refused while the milter is down"
wait_for 30 sh -c "[ \$(find '$maildir' -type f | wc -l) -gt $n ]"
pass "mail flows while the milter is stopped"
