#!/bin/sh
# The loop closes: a report that opentlsrpt-agent builds, signs and sends (discovering the
# rua address in a test unbound) goes through a real Postfix whose smtpd runs our milter;
# the milter stores it with a passing, aligned DKIM signature, and what it stored is the
# report the agent sent: what we send is what we parse.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_postfix.sh"
. "$top_srcdir/tests/lib_agent.sh"
need postfix unbound openssl script
[ -x "$OUTCOMES" ] || skip "tests/tools/otr-outcomes is not built"
SOCK="$T/milter/milter.sock"

{
    echo '  local-zone: "example.org." static'
    echo "  local-data: '_smtp._tls.example.org. TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.org\"'"
    echo '  local-zone: "sender.example." static'
    dns_dkim_key rsa._domainkey.sender.example. "k=rsa; s=tlsrpt;" "$DATA/dkim/rsa2048.pem"
} > "$T/zones"
start_unbound "$T/zones"

SMTP_PORT=$(free_port)
[ -n "$SMTP_PORT" ] || fail "no free port"
postfix_start mx.example.org "$SMTP_PORT" "$(postfix_virtual example.org)
smtpd_milters = unix:$SOCK
milter_default_action = accept"

# One spool: the agent sends from it, the milter stores into it.
write_conf "$T/otr.conf" "milter_socket=local:$SOCK" "resolver=$DNS_RESOLVER" \
    contact_info=tlsrpt@sender.example "smtp_relay=127.0.0.1:$SMTP_PORT" \
    report_from=tlsrpt-noreply@sender.example dkim_domain=sender.example dkim_selector=rsa \
    "dkim_key_file=$DATA/dkim/rsa2048.pem"
day=$(days_ago 2)
{
    dgram example.org
    dgram example.org
    dgram example.org fail
} | put_outcomes "$day"
start_daemon "$T/otr.conf"
wait_for 10 test -S "$SOCK"
"$AGENT" -c "$T/otr.conf" report --day "$day" --domain example.org > "$T/sent.json" ||
    fail "report"
"$AGENT" -v -c "$T/otr.conf" send --day "$day" --domain example.org > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; fail "send"; }
wait_for 30 sh -c "ls '$T/spool/reports' 2>/dev/null | grep -q json"
wait_for 30 sh -c "[ \$(find '$T/mail/tlsrpt/new' -type f 2>/dev/null | wc -l) -ge 1 ]"
stop_daemon
grep -q "stored TLS-RPT report from sender.example.*dkim=pass (d=sender.example)\$" \
    "$T/daemon.log" || fail "the milter did not store a DKIM-verified report"

python3 - "$T/sent.json" "$T"/spool/reports/*.json <<'END_OF_PY' || fail "what was stored is not what was sent"
import json, sys
sent = json.load(open(sys.argv[1]))
stored = json.load(open(sys.argv[2]))
got = stored["report"]
assert stored["dkim"] == "pass (d=sender.example)" and stored["dkim-aligned"] is True, stored
assert stored["tls-report-domain"] == "example.org", stored
for k in ("organization-name", "contact-info", "report-id", "date-range"):
    assert got[k] == sent[k], (k, got[k], sent[k])
def norm(r):
    # The store leaves out what is at its default (a count of 0, an empty list).
    out = []
    for p in r["policies"]:
        pol = p["policy"]
        fails = sorted((f["result-type"], f.get("receiving-mx-hostname"), f.get("receiving-ip"),
                        f.get("sending-mta-ip"), f.get("failed-session-count", 0))
                       for f in p.get("failure-details", []))
        summary = {k: p.get("summary", {}).get(k, 0)
                   for k in ("total-successful-session-count", "total-failure-session-count")}
        out.append((pol["policy-type"], pol.get("policy-domain"), pol.get("policy-string", []),
                    pol.get("mx-host", []), summary, fails))
    return sorted(out, key=repr)
assert norm(got) == norm(sent), (norm(got), norm(sent))
print("stored report equals the sent one:", got["report-id"])
END_OF_PY
pass "a report sent by opentlsrpt-agent is stored by the milter as sent"
