#!/bin/bash
# End to end against a real Postfix 3.7 (the test bed of tests/e2e/bed.sh): in a network
# namespace of its own, a DNSSEC-signed zone served by unbound (MX, A, TLSA, _smtp._tls,
# _mta-sts), nginx serving MTA-STS enforce policies, one Postfix MX listener per certificate
# case, and the sending Postfix at dane/dnssec that also asks the opentlsrpt policy service
# (socketmap) and whose maillog_file the opentlsrpt log follower reads. Known messages go to
# every domain; the reports of the day must then hold exactly the expected sessions per
# domain: policy type, domain, strings and mx, success and failure counts, result types, MX
# names and IPs. Then `opentlsrpt-agent run --now` delivers them, by mail through that same
# Postfix (those sessions are not counted) and to an HTTPS receiver.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_sts.sh"
. "$top_srcdir/tests/lib_agent.sh"
. "$top_srcdir/tests/e2e/bed.sh"
need python3 kdig script postmap
# Issue 4: the whole bed stays under 10 minutes, cleaned up even when it does not.
time_limit 600
bed_netns
bed_certs
# Enforce policies: stsok's MX has a valid certificate, stsbad's names another host;
# daneok's MX also has validated TLSA records, so DANE wins there (RFC 8461 section 2).
bed_sts stsok stsbad daneok
# stsok's reports go to a real TLS server in the namespace, the others' by mail.
sts_cert srv reports.example
start_https 30 ip netns exec "$BED_NS"
# shellcheck disable=SC2034 # read by bed_rua
BED_RUA_stsok="https://reports.example:$HTTPS_PORT/ok"
{ cat "$T/sts.zone"; echo "reports A 127.0.0.1"; } > "$T/extra.zone"
bed_dns "$T/extra.zone"
bed_mx

# The daemon runs in the namespace too: it looks up the TLSA records of DANE sessions'
# MX hosts (their reports' policy strings) through the test resolver, and fetches the
# MTA-STS policies from nginx for its policy service.
POLICY_SOCKET="unix:$T/policy.sock"
write_conf "$T/c.conf" "log_follow=$T/pf-send/maillog" "report_submitter=sender.example" \
    "resolver=127.0.10.1" "dnssec_trust_anchor_file=$T/dns/anchor.ds" \
    "report_from=tlsrpt@sender.example" "smtp_relay=127.0.8.1:25" \
    "policy_socket=$POLICY_SOCKET" "https_ca_file=$T/ca.pem" "https_allow_private=yes" \
    "sts_fetch_timeout=5s" "postfix_tls_level=dane"
# (ip netns exec execs the daemon: $! is the daemon itself, for stop_daemon)
ip netns exec "$BED_NS" "$OTR" -f -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 10 test -S "$T/tlsrpt.sock"
tlsa_ok=$(sed -n 's/^_25._tcp.mx.daneok TLSA //p' "$T/dns/test.zone" | tr a-f A-F)
tlsa_bad=$(sed -n 's/^_25._tcp.mx.danebad TLSA //p' "$T/dns/test.zone" | tr a-f A-F)
[ -n "$tlsa_ok" ] && [ -n "$tlsa_bad" ] || fail "no TLSA records in the test zone"
export tlsa_ok tlsa_bad BED_CASES
# The policies are fetched in the background: mail goes out once they are in the cache.
wait_for 10 test -S "$T/policy.sock"
for c in stsok stsbad; do eventually $c.example "secure match=mx.$c.example servername=hostname"; done
# DANE first: daneok's enforce policy is fetched, but the answer leaves it to Postfix's dane.
q daneok.example >/dev/null
wait_for 15 grep -q "policy: daneok.example: fetched id" "$T/daemon.log"
eventually daneok.example NOTFOUND

# Mandatory TLS for some destinations (as policy maps make it), MTA-STS for the sts cases
# through the policy service; the rest runs at dane (TLSA present: mandatory DANE; absent:
# opportunistic).
BED_POLICY_SOCKET=$POLICY_SOCKET
bed_sender "expired.example secure" "wrongname.example secure" "untrusted.example secure" \
    "selfsigned.example secure" "nostarttls.example encrypt"
# Every delivery its own connection, so each message is exactly one handshake.
bed_exec postconf -c "$T/pf-send" -e smtp_connection_cache_on_demand=no
bed_exec postfix -c "$T/pf-send" reload >/dev/null 2>&1

for c in $BED_CASES; do
    bed_send a@sender.example "u1@$c.example" "first $c"
    bed_send a@sender.example "u2@$c.example" "second $c"
done
# Two recipients, one message: one session.
printf 'From: a@sender.example\nSubject: two\n\nhi\n' |
    bed_exec sendmail -C "$T/pf-send" -f a@sender.example x@daneok.example y@daneok.example
sleep 2
bed_settle 120
grep -q 'to=<u1@stsok.example>.*status=sent' "$T/pf-send/maillog" || fail "stsok: mail not delivered"
grep 'to=<u1@stsbad.example>.*status=deferred' "$T/pf-send/maillog" |
    grep -q "Server certificate not verified" || fail "stsbad: mail not deferred for the certificate"
pass "MTA-STS enforce through the policy service: delivered, and deferred on a wrong MX name"

expect_reports() {
    "$AGENT" -c "$T/c.conf" report --day "$(today)" > "$T/report.jsonl" || return 1
    python3 - "$T/report.jsonl" "$1" <<'PY'
import json, os, sys
got = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    dom = r["report-id"].split(".", 1)[1].rsplit(".otr-", 1)[0]
    for p in r["policies"]:
        pol = p["policy"]
        fd = sorted((f["result-type"], f.get("receiving-mx-hostname"), f.get("receiving-ip"),
                     f.get("failure-reason-code"), f["failed-session-count"])
                    for f in p.get("failure-details", []))
        got.setdefault(dom, []).append((pol["policy-type"], pol["policy-domain"],
            pol.get("policy-string", []), pol.get("mx-host", []),
            p["summary"]["total-successful-session-count"],
            p["summary"]["total-failure-session-count"], fd))
def fail(case, rt, code):
    return [("no-policy-found", case + ".example", [], [], 0, 2,
             [(rt, "mx.%s.example" % case, ip[case], code, 2)])]
ip = {c: "127.0.9.%d" % (i + 1) for i, c in enumerate(
    os.environ["BED_CASES"].split())}
def sts(case):
    return ["version: STSv1", "mode: enforce", "mx: mx.%s.example" % case, "max_age: 86400"]
want = {
 "good.example": [("no-policy-found", "good.example", [], [], 2, 0, [])],
 "daneok.example": [("tlsa", "mx.daneok.example", [os.environ["tlsa_ok"]], [], 3, 0, [])],
 "danebad.example": [("tlsa", "mx.danebad.example", [os.environ["tlsa_bad"]], [], 0, 2,
     [("tlsa-invalid", "mx.danebad.example", ip["danebad"], "X509_V_ERR_DANE_NO_MATCH", 2)])],
 "expired.example": fail("expired", "certificate-expired", "X509_V_ERR_CERT_HAS_EXPIRED"),
 "wrongname.example": fail("wrongname", "certificate-host-mismatch", "X509_V_ERR_HOSTNAME_MISMATCH"),
 "untrusted.example": fail("untrusted", "certificate-not-trusted", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
 "selfsigned.example": fail("selfsigned", "certificate-not-trusted", "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"),
 "nostarttls.example": fail("nostarttls", "starttls-not-supported", "starttls-not-offered"),
 "stsok.example": [("sts", "stsok.example", sts("stsok"), ["mx.stsok.example"], 2, 0, [])],
 "stsbad.example": [("sts", "stsbad.example", sts("stsbad"), ["mx.stsbad.example"], 0, 2,
     [("certificate-host-mismatch", "mx.stsbad.example", ip["stsbad"], "X509_V_ERR_HOSTNAME_MISMATCH", 2)])],
}
bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        if sys.argv[2] == "show":
            print("domain %s:\n  want %s\n  got  %s" % (k, want.get(k), got.get(k)))
        bad = 1
sys.exit(bad)
PY
}
# The follower writes within a second; allow for a slow machine.
n=0
until expect_reports quiet; do
    n=$((n + 1))
    [ "$n" -lt 200 ] || { expect_reports show; fail "reports differ"; }
    sleep 0.1
done
pass "reports of $(today): exact per domain"

# Our own report mail, as the agent sends it (Message-ID <report-id>, report_id() in
# common/spool/report.c), to every domain's rua through the same Postfix: delivered where TLS
# works, deferred where it does not, and its sessions are not counted.
day=$(today)
for c in $BED_CASES; do
    bed_send tlsrpt@sender.example "tlsrpt@$c.example" "Report Domain: $c.example" \
        "<${day//-/}.$c.example.otr-0a1b2c3d@sender.example>"
done
sleep 2
bed_settle 120
grep -q 'to=<tlsrpt@good.example>.*status=sent' "$T/pf-send/maillog" || fail "report to good.example not delivered"
grep -q 'to=<tlsrpt@expired.example>.*status=deferred' "$T/pf-send/maillog" ||
    fail "report to expired.example not tried"
sleep 1.5
expect_reports show || fail "the report mail was counted"
pass "report mail sessions not counted"

# The cron job delivers the day's reports once the day is over (OTR_TEST_NOW: just after
# midnight; --now: without the send window), discovering each domain's rua in the test
# zone: by mail through the same Postfix (its smtpd on 127.0.8.1), which the MXes accept
# where TLS works, and stsok's to the HTTPS receiver.
bed_exec postconf -c "$T/pf-send" -e "mynetworks = 127.0.0.0/8"
echo "127.0.8.1:25 inet n - n - - smtpd" >> "$T/pf-send/master.cf"
bed_exec postfix -c "$T/pf-send" reload >/dev/null 2>&1
wait_for 20 bed_exec bash -c "exec 3<>/dev/tcp/127.0.8.1/25"
tomorrow=$(($(date -u -d "$day 00:00 UTC + 1 day" +%s) + 60))
bed_exec env OTR_TEST_NOW=$tomorrow "$AGENT_TEST" -c "$T/c.conf" run --now > "$T/run.out" 2>&1 ||
    { cat "$T/run.out"; fail "the agent could not send the reports"; }
OTR_TEST_NOW=$tomorrow "$AGENT_TEST" -c "$T/c.conf" status --day "$day" > "$T/status.out" 2>&1
grep -q "^$day  domains 10  pending 0  delivered 10 " "$T/status.out" ||
    fail "not every report was accepted: $(cat "$T/status.out")"
posts > "$T/posts.out" || fail "an HTTPS body is not a valid gzip'ed report"
if [ "$(wc -l < "$T/posts.out")" != 1 ] ||
    ! grep -qx "/ok application/tlsrpt+gzip ${day//-/}\.stsok\.example\.otr-[0-9a-f]*@sender\.example stsok\.example" "$T/posts.out"; then
    fail "want one POST, of stsok.example's report: $(cat "$T/posts.out")"
fi
"$PY" "$top_srcdir/tests/tools/https_bodies.py" "$DATA/tlsrpt-report.schema.json" "$T/posts" \
    --json 1 > "$T/body.json"
"$AGENT" -c "$T/c.conf" report --day "$day" --domain stsok.example > "$T/stsok.json"
# (report ends its output with a newline, the body does not)
[ "$(cat "$T/body.json")" = "$(cat "$T/stsok.json")" ] || fail "the POSTed body differs from report --domain output"
pass "stsok.example's report POSTed over HTTPS, equal to report output"
sleep 2
bed_settle 120
# Each mail domain's report was tried once (after the one of the previous step); only the
# MXes with working TLS accept it.
for c in $BED_CASES; do
    [ "$c" = stsok ] && continue
    [ "$(grep -c "to=<tlsrpt@$c.example>.*status=" "$T/pf-send/maillog")" = 2 ] ||
        fail "the agent's report for $c.example was not tried once: $(grep "to=<tlsrpt@$c.example>" "$T/pf-send/maillog")"
done
for c in good daneok; do
    grep -q "to=<tlsrpt@$c.example>.*status=sent" "$T/pf-mx/maillog" ||
        fail "the report for $c.example did not reach its MX"
done
sleep 1.5
expect_reports show || fail "the agent's report mail was counted"
stop_daemon
# 10 report mails above, 9 from the agent (stsok's went over HTTPS)
grep -q 'log: stopping: .* own_reports=19 ' "$T/daemon.log" ||
    fail "not 19 own report sessions: $(grep 'log: stopping' "$T/daemon.log")"
pass "reports sent by the agent through Postfix, their sessions not counted"
