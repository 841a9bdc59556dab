#!/bin/sh
# The log role and import-log against a real sendmail 8.17 (tests/lib_sendmail.sh): a
# sending sendmail routes by mailertable (no DNS) to MX hosts on loopback
# (tests/tools/check_smtpd.py --accept) with a good, a wrong-name, an expired and a
# self-signed certificate and one without STARTTLS, each once as opportunistic TLS and once
# with a TLS_Srv or TLS_Rcpt requirement in the access map, and one that answers the TLS
# handshake with plain text; then a queue run retries what was deferred (new sessions) and
# sends three messages over one connection (one session). The daemon follows the live
# log; what it stores, and what import-log finds in the same file, must equal what sendmail
# did, session for session. OTR_CAPTURE=DIR copies the log there (the corpus in
# tests/data/logs/sendmail-8.17-real.log was made so).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
. "$top_srcdir/tests/lib_sendmail.sh"
sm_need
need swaks openssl
time_limit 150

export TZ=UTC # sendmail's syslog timestamps are local time
PORT=$(free_port)
SMTP_PORT=$(free_port)
MX=127.87.$(($$ % 250 + 1))
sts_ca
sts_cert mx-good mx.good.test
sts_cert mx-goodreq mx.good-req.test # VERIFY+CN compares the subject CN only
sts_cert mx-wrongname mx.elsewhere.test
STS_CERT_DAYS=-1 sts_cert mx-expired mx.expired.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/mx-self.key" \
    -out "$T/mx-self.pem" -subj "/CN=mx.selfsigned.test" -days 2 2>/dev/null ||
    fail "self-signed cert"
# domain, MX number, certificate (- for no STARTTLS), access map entry (none when empty)
CASES="good:1:mx-good:
wrongname:2:mx-wrongname:
expired:3:mx-expired:
selfsigned:4:mx-self:
nostarttls:5:-:
good-req:6:mx-goodreq:TLS_Srv:mx.good-req.test VERIFY+CN
wrongname-req:7:mx-wrongname:TLS_Srv:mx.wrongname-req.test VERIFY+CN
expired-req:8:mx-expired:TLS_Srv:mx.expired-req.test VERIFY
selfsigned-req:9:mx-self:TLS_Rcpt:selfsigned-req.test VERIFY
nostarttls-req:10:-:TLS_Srv:mx.nostarttls-req.test VERIFY
broken:11:tlsgarbage:"
mkdir -p "$T/sm-send"
echo "$CASES" | while IFS=: read -r d n cert tag acc; do
    echo "$MX.$n mx.$d.test" >> "$T/hosts.txt"
    echo "$d.test esmtp:[mx.$d.test]" >> "$T/sm-send/mailertable.txt"
    [ -z "$tag" ] || echo "$tag:$acc" >> "$T/sm-send/access.txt"
    if [ "$cert" = - ] || [ "$cert" = tlsgarbage ]; then
        echo "$MX.$n:$PORT:$cert"
    else
        echo "$MX.$n:$PORT:$T/$cert.pem:$T/$cert.key"
    fi >> "$T/listeners.txt"
done
python3 "$top_srcdir/tests/tools/check_smtpd.py" --accept "$T/mx.ready" $(cat "$T/listeners.txt") \
    >> "$T/mx.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 10 test -f "$T/mx.ready"
sm_hosts "$(cat "$T/hosts.txt")"
# README's sendmail section, line for line: LogLevel, the daemon's settings, its group.
loglevel=$(sm_readme sendmail "^define\(\`confLOG_LEVEL'")
follow=$(sm_readme sendmail '^log_follow = /var/log/mail.log$')
format=$(sm_readme sendmail '^log_format = sendmail$')
sm_readme sendmail '^adduser opentlsrpt adm$' > /dev/null
sm_start send sender.test "$SMTP_PORT" "$loglevel
define(\`confCACERT_PATH', \`$T')dnl
define(\`confCACERT', \`$T/ca.pem')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $PORT')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $T/sm-send/access')dnl
FEATURE(\`mailertable', \`hash $T/sm-send/mailertable')dnl
MAILER(\`smtp')dnl"

# The log role follows sendmail's live log from its start, as an unprivileged user that
# reads it through its group (rsyslog's mode 0640: README's adduser ... adm).
id nobody > /dev/null 2>&1 || skip "no user nobody"
chmod 755 "$T"
chgrp "$(id -gn nobody)" "$SM_LOG"
chmod 640 "$SM_LOG"
write_conf "$T/c.conf" "resolver=127.0.0.1@9"
sed -i "s/^user = .*/user = nobody/" "$T/c.conf"
printf '%s\n' "$(echo "$follow" | sed "s|/var/log/mail.log|$SM_LOG|")" "$format" >> "$T/c.conf"
start_daemon "$T/c.conf"
wait_for 10 grep -q 'log: ' "$T/daemon.log"

# One message per case, and our own report mail (its session is not counted).
ncases=0
for d in $(echo "$CASES" | cut -d: -f1); do
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --from a@sender.test --to "u@$d.test" \
        --timeout 10 > "$T/swaks.out" 2>&1 || { cat "$T/swaks.out"; fail "mail to $d refused"; }
    ncases=$((ncases + 1))
done
swaks --server 127.0.0.1 --port "$SMTP_PORT" --from tlsrpt@sender.test --to tlsrpt@good.test \
    --header "Message-Id: <20261122.good.test.otr-0a1b2c3d@sender.test>" --timeout 10 \
    > "$T/swaks.out" 2>&1 || { cat "$T/swaks.out"; fail "report mail refused"; }
ncases=$((ncases + 1))
delivered() { [ "$(grep -c ': to=.*, stat=\(Sent\|Deferred\)' "$SM_LOG")" -ge "$ncases" ]; }
wait_for 60 delivered
# A queue run: three messages queued for good.test go over one connection (one handshake),
# and each deferred message is tried again (a new session each).
for i in 1 2 3; do
    printf 'Subject: queued %s

hi
' "$i" |
        sm_run "$SM_BIN" -C "$T/sm-send/sendmail.cf" -odq -f a@sender.test "q$i@good.test" ||
        fail "sendmail -odq"
done
ncases=$((ncases + 3 + 5))
sm_run "$SM_BIN" -C "$T/sm-send/sendmail.cf" -q || fail "sendmail -q"
wait_for 60 delivered
grep -q 'STARTTLS=client, relay=mx.good.test., version=TLSv1.[23], verify=OK' "$SM_LOG" ||
    fail "no verified session to mx.good.test: $(grep STARTTLS "$SM_LOG")"

# report CONF: the policies of today's reports of CONF's spool, as sorted tuples.
report() {
    "$AGENT" -c "$1" report --day "$(today)" | python3 -c '
import json, sys
for line in sys.stdin:
    for p in json.loads(line)["policies"]:
        fd = sorted((f["result-type"], f.get("receiving-mx-hostname"), f.get("receiving-ip"),
                     f.get("failure-reason-code"), f["failed-session-count"])
                    for f in p.get("failure-details", []))
        print(p["policy"]["policy-type"], p["policy"]["policy-domain"],
              p["summary"]["total-successful-session-count"],
              p["summary"]["total-failure-session-count"], fd)' | sort
}
# What sendmail did: its chain check alone passes a certificate for another name (verify=OK)
# unless VERIFY+CN asks; expired and self-signed certificates fail it (verify=FAIL, the
# reason in verifymsg=) and are used anyway without a requirement; a plaintext session
# leaves no trace unless TLS was required; a failed handshake defers the mail (sendmail's
# default tls_server ruleset), with or without a requirement. The queue run tried each
# deferred message once more, and sent good.test's three over one connection.
# fails DOMAIN RESULT MX-NUMBER CODE [SESSIONS]
fails() { echo "no-policy-found $1 0 ${5:-1} [('$2', 'mx.$1', '$MX.$3', '$4', ${5:-1})]"; }
{
    echo "no-policy-found good.test 2 0 []"
    echo "no-policy-found wrongname.test 1 0 []"
    fails expired.test certificate-expired 3 X509_V_ERR_CERT_HAS_EXPIRED
    fails selfsigned.test certificate-not-trusted 4 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    echo "no-policy-found good-req.test 1 0 []"
    fails wrongname-req.test certificate-host-mismatch 7 X509_V_ERR_HOSTNAME_MISMATCH 2
    fails expired-req.test certificate-expired 8 X509_V_ERR_CERT_HAS_EXPIRED 2
    fails selfsigned-req.test certificate-not-trusted 9 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT 2
    fails nostarttls-req.test starttls-not-supported 10 starttls-not-offered 2
    fails broken.test validation-failure 11 tls-handshake-failure 2
} | sort > "$T/want"
same() { report "$1" > "$T/got" && cmp -s "$T/want" "$T/got"; }
if ! (wait_for 60 same "$T/c.conf"); then
    diff "$T/want" "$T/got"
    fail "the log role's sessions differ from what sendmail did"
fi
pass "log role: sendmail's live log, session for session"

write_conf "$T/imp.conf" "spool_directory=$T/imp-spool"
"$AGENT" -c "$T/imp.conf" import-log --format sendmail "$SM_LOG" > "$T/import.out" ||
    fail "import-log failed"
grep -q "outcomes=16 .*own_reports=1 unmatched=0\$" "$T/import.out" ||
    fail "import-log counts: $(cat "$T/import.out")"
same "$T/imp.conf" || { diff "$T/want" "$T/got"; fail "import-log differs from what sendmail did"; }
pass "import-log --format sendmail: the same sessions"

if [ -n "${OTR_CAPTURE:-}" ]; then
    cp "$SM_LOG" "$OTR_CAPTURE/sendmail-8.17-real.log"
    echo "wrote $OTR_CAPTURE/sendmail-8.17-real.log"
fi
