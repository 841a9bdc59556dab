#!/bin/sh
# End to end: a private Postfix 3.7 with smtp_tls_policy_maps = socketmap:unix:...:sts
# pointing at the policy service sends to a test MX (another private Postfix with STARTTLS)
# whose certificate does not match the MTA-STS policy. The socket is named relative to the
# queue directory, the form that also works when smtp(8) runs chrooted there. enforce: the mail is deferred and,
# once the mail log is imported, the spool holds the failed session; testing: delivered.
# The Postfix instances live in a network namespace of the test's own; the daemon, nginx
# and unbound run on the host's loopback.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
need postfix postmap sendmail ip script

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

# ---- the namespace: the sender on 127.0.8.1, the MX on 127.0.9.1 ----
NS="otr-sts-$$"
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (needs CAP_SYS_ADMIN)"
at_exit "ns_remove"
ns_remove() {
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "/etc/netns/$NS"
}
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip addr add 127.0.8.1/32 dev lo
nsx ip addr add 127.0.9.1/32 dev lo
mkdir -p "/etc/netns/$NS"
cp -a /etc/postfix "/etc/netns/$NS/postfix"
printf 'compatibility_level = 3.6\nalternate_config_directories = %s %s\n' \
    "$T/pf-send" "$T/pf-mx" > "/etc/netns/$NS/postfix/main.cf"
printf '127.0.0.1 localhost\n127.0.9.1 enforce.example testing.example mx.wrong.example\n' \
    > "/etc/netns/$NS/hosts"
chmod 0755 "$T" # Postfix daemons run as postfix and reach files under $T

# The MX's certificate is trusted (test CA) but names neither policy's mx.
sts_cert mx mx.wrong.example
chmod 0644 "$T/mx.key"

pf_base() {
    local dir=$1
    mkdir -p "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    cat > "$dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
maillog_file_prefixes = $T
maillog_file = $dir/maillog
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
EOF
    # Debian chroots most daemons into the queue directory; these instances do not.
    awk '/^[a-z].*(inet|unix|fifo|pass|unix-dgram)[ \t]/ { $5 = "n" } { print }' \
        /etc/postfix/master.cf > "$dir/master.cf"
}
pf_start() {
    nsx script -qc "postfix -c $1 start" /dev/null >/dev/null ||
        { cat "$1/maillog" 2>/dev/null; fail "postfix -c $1 did not start"; }
    at_exit "nsx postfix -c $1 stop >/dev/null 2>&1"
}

MX=$T/pf-mx
pf_base "$MX"
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
pf_start "$MX"
wait_for 20 nsx bash -c "exec 3<>/dev/tcp/127.0.9.1/25"

SND=$T/pf-send
pf_base "$SND"
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
pf_start "$SND"

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
"$AGENT" -c "$T/otr.conf" import-log "$SND/maillog" > "$T/import.log" 2>&1 ||
    fail "import-log: $(cat "$T/import.log")"
"$AGENT" -c "$T/otr.conf" report --day "$(today)" --domain enforce.example > "$T/report.json" 2>&1 ||
    fail "report: $(cat "$T/report.json")"
grep -q '"failed-session-count": *[1-9]' "$T/report.json" ||
    fail "no failed session for enforce.example: $(cat "$T/report.json")"
pass "the failed session is in the spool"

send user@testing.example
wait_for 30 grep -q "to=<user@testing.example>.*status=sent" "$SND/maillog"
pass "testing: delivered"
