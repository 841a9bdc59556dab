#!/bin/sh
# End to end: a private Postfix 3.7 with smtp_tls_policy_maps = socketmap:unix:...:sts
# pointing at the policy service sends to a test MX (another private Postfix with STARTTLS)
# whose certificate does not match the MTA-STS policy. The socket is named relative to the
# queue directory, the form that also works when smtp(8) runs chrooted there. enforce: the mail is deferred and,
# once the mail log is imported, the day's report holds that one session under the STS
# policy, as certificate-host-mismatch; testing: delivered, and the imported session is a
# failure against the policy.
# The Postfix instances live in a network namespace of the test's own; the daemon, nginx
# and unbound run on the host's loopback.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
. "$top_srcdir/tests/e2e/bed.sh"
need postfix postmap sendmail ip script python3

W=$T/www
mkdir -p "$W"
printf 'version: STSv1\nmode: enforce\nmx: mx.enforce.example\nmax_age: 86400\n' > "$W/enforce.txt"
printf 'version: STSv1\nmode: testing\nmx: mx.testing.example\nmax_age: 86400\n' > "$W/testing.txt"
sts_ca
sts_site enforce.example file "$W/enforce.txt"
sts_site testing.example file "$W/testing.txt"
sts_txt enforce.example e1
sts_txt testing.example t1
start_sts_world

# Where a chrooted smtp(8) can reach it: under the sender's queue directory, named in
# main.cf relative to it (as on Debian, /var/spool/postfix/run/opentlsrpt/policy.sock).
SOCK=$T/pf-send/queue/run/opentlsrpt/policy.sock
POLICY_SOCKET="unix:$SOCK"
write_conf "$T/otr.conf" "policy_socket=$POLICY_SOCKET" "resolver=$DNS_RESOLVER" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=5s"
start_daemon "$T/otr.conf"
wait_for 10 test -S "$SOCK"
eventually enforce.example "secure match=mx.enforce.example servername=hostname"
expect testing.example NOTFOUND

# ---- the namespace of tests/e2e/bed.sh: the sender on 127.0.8.1, the MX on 127.0.9.1 ----
bed_netns
printf '127.0.9.1 enforce.example testing.example mx.wrong.example\n' >> "$BED_ETC/hosts"
nsx() { bed_exec "$@"; }

# The MX's certificate is trusted (test CA) but names neither policy's mx.
sts_cert mx mx.wrong.example
chmod 0644 "$T/mx.key"

MX=$T/pf-mx
bed_postfix_base "$MX"
cat >> "$MX/main.cf" <<EOF
myhostname = mx.wrong.example
inet_interfaces = 127.0.9.1
mydestination = enforce.example testing.example
local_transport = discard:
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/mx.pem
smtpd_tls_key_file = $T/mx.key
EOF
bed_postfix_start "$MX"
wait_for 20 nsx bash -c "exec 3<>/dev/tcp/127.0.9.1/25"

SND=$T/pf-send
bed_postfix_base "$SND"
cat >> "$SND/main.cf" <<EOF
myhostname = sender.example
myorigin = sender.example
mydestination =
inet_interfaces = 127.0.8.1
smtp_bind_address = 127.0.8.1
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = may
smtp_tls_CAfile = $T/ca.pem
smtp_tls_loglevel = 1
smtp_tls_policy_maps = socketmap:unix:run/opentlsrpt/policy.sock:sts
EOF
bed_postfix_start "$SND"

send() {
    printf 'Subject: sts test\n\nhello\n' |
        nsx sendmail -C "$SND" -f sender@sender.example "$1" || fail "sendmail $1"
}
send user@enforce.example
wait_for 30 grep -q "to=<user@enforce.example>.*status=deferred" "$SND/maillog"
grep "to=<user@enforce.example>" "$SND/maillog" | grep -q "Server certificate not verified" ||
    fail "enforce: deferred for another reason: $(grep enforce.example "$SND/maillog")"
pass "enforce: deferred (certificate does not match the policy's mx)"
nsx postqueue -c "$SND" -p | grep -q "user@enforce.example" || fail "enforce mail not queued"

# The policy applied today is on record, and the failed session reaches the spool (imported
# before the next delivery, which the same smtp(8) process may make).
grep -q "^enforce.example " "$T/spool/sts/applied/$(today).txt" || fail "no applied policy"
imported=$(wc -l < "$SND/maillog")
"$AGENT" -c "$T/otr.conf" import-log "$SND/maillog" > "$T/import.log" 2>&1 ||
    fail "import-log: $(cat "$T/import.log")"
"$AGENT" -c "$T/otr.conf" report --day "$(today)" --domain enforce.example > "$T/report.json" 2>&1 ||
    fail "report: $(cat "$T/report.json")"
# Exactly the one deferred session (the bed's backoff keeps Postfix from retrying), under
# the policy applied that day; the mail log names the host Postfix connected to
# (enforce.example, routed by the hosts file) and OpenSSL's "hostname mismatch", but not
# the sending address.
python3 - "$T/report.json" <<'EOF' || fail "report for enforce.example: $(cat "$T/report.json")"
import json, sys
want = [{
    "policy": {
        "policy-type": "sts",
        "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.enforce.example",
                          "max_age: 86400"],
        "policy-domain": "enforce.example",
        "mx-host": ["mx.enforce.example"],
    },
    "summary": {"total-successful-session-count": 0, "total-failure-session-count": 1},
    "failure-details": [{
        "result-type": "certificate-host-mismatch",
        "receiving-mx-hostname": "enforce.example",
        "receiving-ip": "127.0.9.1",
        "failed-session-count": 1,
        "failure-reason-code": "X509_V_ERR_HOSTNAME_MISMATCH",
    }],
}]
got = json.load(open(sys.argv[1]))["policies"]
if got != want:
    sys.exit("got %s" % json.dumps(got, indent=1))
EOF
pass "the failed session is in the spool: sts policy of enforce.example, certificate-host-mismatch"

send user@testing.example
wait_for 30 grep -q "to=<user@testing.example>.*status=sent" "$SND/maillog"
pass "testing: delivered"
# Delivered at "may" with a trusted certificate, but to a host the policy's mx does not
# name: the imported session is a failure of the testing policy.
tail -n "+$((imported + 1))" "$SND/maillog" |
    "$AGENT" -c "$T/otr.conf" import-log - > "$T/import2.log" 2>&1 ||
    fail "import-log: $(cat "$T/import2.log")"
"$AGENT" -c "$T/otr.conf" report --day "$(today)" --domain testing.example > "$T/report2.json" 2>&1 ||
    fail "report: $(cat "$T/report2.json")"
python3 - "$T/report2.json" <<'PY' || fail "testing.example: $(cat "$T/report2.json")"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["policies"][0]
assert p["policy"]["policy-type"] == "sts", p
assert "mode: testing" in p["policy"]["policy-string"], p
assert p["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}, p
f = p["failure-details"][0]
assert (f["result-type"], f["failure-reason-code"]) == ("validation-failure", "mx-not-in-sts-policy"), f
PY
pass "testing: the session to a host outside the policy's mx is reported as a failure"
