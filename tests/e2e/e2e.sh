#!/bin/bash
# End to end against a real Postfix 3.7 (issue 4's test bed, tests/e2e/bed.sh): in a network
# namespace of its own, a DNSSEC-signed zone served by unbound (MX, A, TLSA, _smtp._tls), one
# Postfix MX listener per certificate case, and the sending Postfix at dane/dnssec whose
# maillog_file the opentlsrpt log follower reads. Known messages go to every domain; the
# reports of the day must then hold exactly the expected sessions per domain: policy type
# and domain, success and failure counts, result types, MX names and IPs. Then the agent
# delivers the reports through that same Postfix, and those sessions are not counted.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/bed.sh"
need python3 kdig script
bed_netns
bed_certs
bed_dns
bed_mx

# The daemon runs in the namespace too: it looks up the TLSA records of DANE sessions'
# MX hosts (their reports' policy strings) through the test resolver.
write_conf "$T/c.conf" "log_follow=$T/pf-send/maillog" "report_submitter=sender.example" \
    "resolver=127.0.10.1" "dnssec_trust_anchor_file=$T/dns/anchor.ds" \
    "report_from=tlsrpt@sender.example" "smtp_relay=127.0.8.1:25"
# (ip netns exec execs the daemon: $! is the daemon itself, for stop_daemon)
ip netns exec "$BED_NS" "$OTR" -f -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 10 test -S "$T/tlsrpt.sock"
tlsa_ok=$(sed -n 's/^_25._tcp.mx.daneok TLSA //p' "$T/dns/test.zone" | tr a-f A-F)
tlsa_bad=$(sed -n 's/^_25._tcp.mx.danebad TLSA //p' "$T/dns/test.zone" | tr a-f A-F)
[ -n "$tlsa_ok" ] && [ -n "$tlsa_bad" ] || fail "no TLSA records in the test zone"
export tlsa_ok tlsa_bad

# Mandatory TLS for some destinations (as policy maps or an MTA-STS service would make it);
# the rest runs at dane (TLSA present: mandatory DANE; absent: opportunistic).
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
            pol.get("policy-string", []), p["summary"]["total-successful-session-count"],
            p["summary"]["total-failure-session-count"], fd))
def fail(case, rt, code):
    return [("no-policy-found", case + ".example", [], 0, 2,
             [(rt, "mx.%s.example" % case, ip[case], code, 2)])]
ip = {c: "127.0.9.%d" % (i + 1) for i, c in enumerate(
    "good expired wrongname untrusted selfsigned nostarttls daneok danebad".split())}
want = {
 "good.example": [("no-policy-found", "good.example", [], 2, 0, [])],
 "daneok.example": [("tlsa", "mx.daneok.example", [os.environ["tlsa_ok"]], 3, 0, [])],
 "danebad.example": [("tlsa", "mx.danebad.example", [os.environ["tlsa_bad"]], 0, 2,
     [("tlsa-invalid", "mx.danebad.example", ip["danebad"], "X509_V_ERR_DANE_NO_MATCH", 2)])],
 "expired.example": fail("expired", "certificate-expired", "X509_V_ERR_CERT_HAS_EXPIRED"),
 "wrongname.example": fail("wrongname", "certificate-host-mismatch", "X509_V_ERR_HOSTNAME_MISMATCH"),
 "untrusted.example": fail("untrusted", "certificate-not-trusted", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
 "selfsigned.example": fail("selfsigned", "certificate-not-trusted", "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"),
 "nostarttls.example": fail("nostarttls", "starttls-not-supported", "starttls-not-offered"),
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
# common/report.c), to every domain's rua through the same Postfix: delivered where TLS
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

# The agent itself sends the day's reports through the same Postfix (its smtpd on
# 127.0.8.1), discovering each domain's rua in the test zone; the MX accepts them.
bed_exec postconf -c "$T/pf-send" -e "mynetworks = 127.0.0.0/8"
echo "127.0.8.1:25 inet n - n - - smtpd" >> "$T/pf-send/master.cf"
bed_exec postfix -c "$T/pf-send" reload >/dev/null 2>&1
wait_for 20 bed_exec bash -c "exec 3<>/dev/tcp/127.0.8.1/25"
bed_exec "$AGENT" -c "$T/c.conf" send --day "$day" --force > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; fail "the agent could not send the reports"; }
sleep 2
bed_settle 120
for c in good daneok; do
    grep -q "to=<tlsrpt@$c.example>.*status=sent" "$T/pf-mx/maillog" ||
        fail "the report for $c.example did not reach its MX"
done
sleep 1.5
expect_reports show || fail "the agent's report mail was counted"
stop_daemon
grep -q 'log: stopping: .* own_reports=16 ' "$T/daemon.log" ||
    fail "not 16 own report sessions: $(grep 'log: stopping' "$T/daemon.log")"
pass "reports sent by the agent through Postfix, their sessions not counted"
