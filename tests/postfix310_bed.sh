#!/bin/bash
# A real Postfix 3.10 with TLSRPT (built once by tests/postfix310.sh into
# /var/cache/opentlsrpt) against opentlsrpt, in the test bed of tests/e2e/bed.sh: its smtp(8)
# sends its TLSRPT datagrams to the tlsrpt role and asks the policy service (socketmap,
# postfix_tlsrpt_attributes = yes) at dane/dnssec, smtp_tls_loglevel "routine, untrusted".
# Domains: MTA-STS enforce with a good MX (stsok) and a wrong-name MX (stsbad), testing mode
# with an expired MX certificate (ststest), a policy that cannot be fetched (stsfail),
# DANE with an enforce policy too (daneok: DANE wins), and no policy with a good, a
# wrong-name, an expired and a no-STARTTLS MX. Each domain's report must hold the expected
# policy, and session for session what Postfix logged ("TLSRPT: status=..." lines), and
# name each MX's EHLO host only.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_sts.sh"
. "$top_srcdir/tests/e2e/bed.sh"
need python3 kdig script postmap
P=$(sh "$top_srcdir/tests/postfix310.sh" --check) ||
    skip "no cached Postfix 3.10 build: run tests/postfix310.sh (tests/deps.sh does)"
time_limit 300
BED_CASES="good expired wrongname nostarttls daneok stsok stsbad ststest stsfail"
bed_netns
bed_certs
# Policies: enforce for stsok, stsbad and daneok; testing for ststest; stsfail's policy host
# answers 404 (an sts-policy-fetch-error).
STS_IP=127.0.11.1
sts_ca
for c in stsok stsbad daneok ststest; do
    mode=enforce
    [ "$c" = ststest ] && mode=testing
    printf 'version: STSv1\nmode: %s\nmx: mx.%s.%s\nmax_age: 86400\n' "$mode" "$c" "$BED_TLD" \
        > "$T/sts-$c.txt"
    sts_site "$c.$BED_TLD" file "$T/sts-$c.txt"
    sts_txt "$c.$BED_TLD" "${c}1"
done
sts_site "stsfail.$BED_TLD" status:404
sts_txt "stsfail.$BED_TLD" stsfail1
sts_nginx ip netns exec "$BED_NS"
sts_zone_records > "$T/sts.zone"
bed_dns "$T/sts.zone"
bed_mx

POLICY_SOCKET="unix:$T/policy.sock"
write_conf "$T/c.conf" "policy_socket=$POLICY_SOCKET" "postfix_tlsrpt_attributes=yes" \
    "postfix_tls_level=dane" "resolver=127.0.10.1" "dnssec_trust_anchor_file=$T/dns/anchor.ds" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=5s"
ip netns exec "$BED_NS" "$OTR" -f -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 10 test -S "$T/tlsrpt.sock"
wait_for 10 test -S "$T/policy.sock"
for c in stsok stsbad daneok ststest stsfail; do q "$c.$BED_TLD" >/dev/null; done
for c in stsok stsbad; do
    eventually "$c.$BED_TLD" "secure match=mx.$c.$BED_TLD servername=hostname policy_type=sts policy_domain=$c.$BED_TLD mx_host_pattern=mx.$c.$BED_TLD { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx.$c.$BED_TLD } { policy_string = max_age: 86400 }"
done
eventually "ststest.$BED_TLD" "dane policy_type=sts policy_domain=ststest.$BED_TLD mx_host_pattern=mx.ststest.$BED_TLD { policy_string = version: STSv1 } { policy_string = mode: testing } { policy_string = mx: mx.ststest.$BED_TLD } { policy_string = max_age: 86400 }"
eventually "stsfail.$BED_TLD" "dane policy_type=sts policy_domain=stsfail.$BED_TLD policy_failure=sts-policy-fetch-error"
wait_for 15 grep -q "policy: daneok.$BED_TLD: fetched id" "$T/daemon.log"
eventually "daneok.$BED_TLD" NOTFOUND
bed_exec "$AGENT" -c "$T/c.conf" policy "daneok.$BED_TLD" > "$T/agent-policy.out" 2>&1
if ! grep -q "^DANE: every MX host has validated TLSA records" "$T/agent-policy.out" ||
    ! grep -q "^answer: NOTFOUND" "$T/agent-policy.out"; then
    fail "agent policy does not explain DANE first: $(cat "$T/agent-policy.out")"
fi

# The sending Postfix 3.10: its own binaries and master.cf, mail injected over SMTP.
dir="$T/pf-send"
bed_postfix_base "$dir"
cat >> "$dir/main.cf" <<EOF
myhostname = sender.$BED_TLD
inet_interfaces = 127.0.8.1
# post-install wants a path here; the build installed no manual pages
manpage_directory = $dir/man
mydestination =
mynetworks = 127.0.0.0/8
smtp_bind_address = 127.0.8.1
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
smtp_tls_CAfile = $T/certs/ca.pem
smtp_tls_loglevel = routine, untrusted
smtp_tls_policy_maps = socketmap:$POLICY_SOCKET:sts
smtp_tlsrpt_enable = yes
smtp_tlsrpt_socket_name = $T/tlsrpt.sock
smtp_connection_cache_on_demand = no
minimal_backoff_time = 3600s
maximal_backoff_time = 4000s
queue_run_delay = 3600s
EOF
awk '/^[a-z].*(inet|unix|fifo|pass|unix-dgram)[ \t]/ { $5 = "n" }
     /^smtp[ \t]+inet/ { $1 = "127.0.8.1:25" } { print }' "$P/etc/master.cf" > "$dir/master.cf" # 3.10's own
bed_exec script -qc "$P/sbin/postfix -c $dir start" /dev/null > "$T/pf-start.log" 2>&1 ||
    { cat "$T/pf-start.log" "$dir/maillog" 2>/dev/null; fail "Postfix 3.10 did not start"; }
at_exit "bed_exec $P/sbin/postfix -c $dir stop >/dev/null 2>&1"
wait_for 20 bed_exec bash -c "exec 3<>/dev/tcp/127.0.8.1/25"
wait_for 10 grep -q 'daemon started -- version 3\.10' "$dir/maillog"

# Two messages per domain over SMTP: each its own connection and handshake.
bed_exec python3 - "$BED_CASES" "$BED_TLD" <<'EOF' || fail "cannot inject the test mail"
import smtplib, sys
with smtplib.SMTP("127.0.8.1", 25) as s:
    for c in sys.argv[1].split():
        for n in (1, 2):
            s.sendmail("a@sender.%s" % sys.argv[2], ["u%d@%s.%s" % (n, c, sys.argv[2])],
                       "Subject: %s %d\n\nhello\n" % (c, n))
EOF
# Every message tried once: sent, or deferred (stsbad).
sent() {
    local n
    n=$(grep -c 'to=<u[12]@.*status=\(sent\|deferred\)' "$dir/maillog" 2>/dev/null)
    [ "${n:-0}" -ge $((2 * $(echo "$BED_CASES" | wc -w))) ]
}
wait_for 120 sent
grep -q "to=<u1@stsbad.$BED_TLD>.*status=deferred" "$dir/maillog" || fail "stsbad was not deferred"
grep -q "to=<u1@ststest.$BED_TLD>.*status=sent" "$dir/maillog" || fail "ststest (testing) was not delivered"
grep -q "to=<u1@stsfail.$BED_TLD>.*status=sent" "$dir/maillog" || fail "stsfail was not delivered"
pass "Postfix 3.10 delivered per policy: enforce, testing, failed fetch, DANE"

check_reports() { # the reports of the day against Postfix's log and the expected policies
    "$AGENT" -c "$T/c.conf" report --day "$(today)" > "$T/report.jsonl" || return 1
    python3 - "$T/report.jsonl" "$dir/maillog" "$BED_TLD" "$1" "$2" <<'EOF'
import collections, json, re, sys
tld = sys.argv[3]
# What Postfix says it reported: "TLSRPT: status=success|failure, domain=D, ...failure_type=T"
logged = collections.defaultdict(collections.Counter)
for line in open(sys.argv[2], errors="replace"):
    m = re.search(r"TLSRPT: status=(\w+), domain=([^,\s]+)(?:.*failure_type=([\w_-]+))?", line)
    if m:
        logged[m.group(2)][(m.group(1), (m.group(3) or "").replace("_", "-"))] += 1
got, types, helos = collections.defaultdict(collections.Counter), {}, set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    dom = r["report-id"].split(".", 1)[1].rsplit(".otr-", 1)[0]
    for p in r["policies"]:
        pol = p["policy"]
        types.setdefault(dom, set()).add((pol["policy-type"], pol["policy-domain"],
                                          tuple(pol.get("policy-string", []))))
        got[dom][("success", "")] += p["summary"]["total-successful-session-count"]
        for f in p.get("failure-details", []):
            got[dom][("failure", f["result-type"])] += f["failed-session-count"]
            helos.add((dom, f.get("receiving-mx-hostname"), f.get("receiving-mx-helo")))
def sts(c, mode):
    return ("sts", "%s.%s" % (c, tld), ("version: STSv1", "mode: " + mode,
                                         "mx: mx.%s.%s" % (c, tld), "max_age: 86400"))
want_types = {
    "stsok": sts("stsok", "enforce"), "stsbad": sts("stsbad", "enforce"),
    "ststest": sts("ststest", "testing"), "stsfail": ("sts", "stsfail." + tld, ()),
    "daneok": ("tlsa", "mx.daneok." + tld, None), "good": ("no-policy-found", "good." + tld, ()),
}
bad = []
for c, want in want_types.items():
    have = types.get("%s.%s" % (c, tld), set())
    if len(have) != 1 or [t for t in have if t[:2] != want[:2] or (want[2] is not None and t[2] != want[2])]:
        bad.append("%s: policy %s, want %s" % (c, sorted(have), want))
# Session for session: what we report is what Postfix reported, except where opentlsrpt
# knows better: a failed fetch Postfix sent as an sts success (at "may" it ignores
# policy_failure) is that failure.
for dom in sorted(set(logged) | set(got)):
    want = collections.Counter(logged.get(dom, {}))
    if dom == "stsfail." + tld and want[("success", "")]:
        want[("failure", "sts-policy-fetch-error")] += want.pop(("success", ""))
    have = collections.Counter({k: v for k, v in got.get(dom, {}).items() if v})
    if have != +want:
        bad.append("%s: report %s, Postfix logged %s" % (dom, dict(have), dict(want)))
fails = got["stsfail." + tld][("failure", "sts-policy-fetch-error")]
if fails != int(sys.argv[5]):
    bad.append("stsfail: %d sts-policy-fetch-error sessions, want %s" % (fails, sys.argv[5]))
if sum(got["stsbad." + tld].values()) != 2 or got["stsbad." + tld][("success", "")]:
    bad.append("stsbad: want 2 failed sessions, got %s" % dict(got["stsbad." + tld]))
# receiving-mx-helo: the name the MX announced (its smtpd's myhostname), not the EHLO reply.
for dom, mx, helo in sorted(helos, key=str):
    if helo != mx:
        bad.append("%s: receiving-mx-helo %r for %s" % (dom, helo, mx))
if not helos:
    bad.append("no failure details at all")
if bad and sys.argv[4] == "show":
    print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
reports_match() { # STSFAIL-SESSIONS
    local n=0
    until check_reports quiet "$1"; do
        n=$((n + 1))
        [ "$n" -lt 100 ] || { check_reports show "$1"; grep TLSRPT "$dir/maillog"; fail "reports differ from what Postfix 3.10 logged"; }
        sleep 0.2
    done
}
reports_match 2
pass "Postfix 3.10: every domain's report matches what Postfix logged, session for session"

# At smtp_tls_loglevel = 1 Postfix ignores policy_failure and reports the failed fetch's
# sessions as sts successes: still one session each, now failures of the fetch.
bed_exec "$P/sbin/postconf" -c "$dir" -e "smtp_tls_loglevel = 1"
bed_exec "$P/sbin/postfix" -c "$dir" reload >/dev/null 2>&1
sleep 1
bed_exec python3 - "$BED_TLD" <<'EOF' || fail "cannot inject the test mail"
import smtplib, sys
with smtplib.SMTP("127.0.8.1", 25) as s:
    for n in (3, 4):
        s.sendmail("a@sender.%s" % sys.argv[1], ["u%d@stsfail.%s" % (n, sys.argv[1])],
                   "Subject: stsfail %d\n\nhello\n" % n)
EOF
wait_for 60 grep -q "to=<u4@stsfail.$BED_TLD>.*status=sent" "$dir/maillog"
wait_for 10 grep -q "to=<u3@stsfail.$BED_TLD>.*status=sent" "$dir/maillog"
[ "$(grep -c "TLSRPT: status=success, domain=stsfail.$BED_TLD" "$dir/maillog")" = 2 ] ||
    fail "Postfix did not report the failed fetch's sessions as successes at loglevel 1"
reports_match 4
pass "a failed fetch: as many sessions as Postfix made, whatever smtp_tls_loglevel"
