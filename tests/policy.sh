#!/bin/sh
# The MTA-STS policy service (role "policy") against real parts: unbound serving the
# _mta-sts TXT records, nginx serving the policies over HTTPS with a test CA, and Postfix's
# own socketmap client (postmap -q) checking every answer byte for byte, over a unix and
# an inet socket. Covers valid enforce/testing/CRLF policies, every fetch failure kind (each
# joined to the sessions an MTA reports), the lookup timeout, the id change, keeping a cached policy when
# a refresh fails, the cache surviving a restart, clients that misbehave, and the Postfix
# 3.10 TLSRPT attributes (policy_failure for a policy that could not be fetched).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
need postmap python3

W=$T/www
mkdir -p "$W"
printf 'version: STSv1\nmode: enforce\nmx: mx1.enforce.example\nmx: *.mail.enforce.example\nmax_age: 86400\n' > "$W/enforce.txt"
printf 'version: STSv1\nmode: testing\nmx: mx.testing.example\nmax_age: 86400\n' > "$W/testing.txt"
# CRLF, duplicated mode (first wins), an unknown field, an upper-case mx.
printf 'version: STSv1\r\nmode: enforce\r\nmode: none\r\nfoo: bar\r\nmx: MX.CRLF.example\r\nmax_age: 999999999\r\n' > "$W/crlf.txt"
printf 'version: STSv1\nmode: enforce\nthis line is not a field\nmx: mx.malformed.example\nmax_age: 600\n' > "$W/malformed.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.nomaxage.example\n' > "$W/nomaxage.txt"
printf 'version: STSv1\nmode: enforce\nmx: a.idchange.example\nmax_age: 86400\n' > "$W/idchange.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.slowok.example\nmax_age: 86400\n' > "$W/slowok.txt"
cp "$W/enforce.txt" "$W/plain.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.short.example\nmax_age: 10\n' > "$W/short.txt"
python3 -c "import sys; sys.stdout.write('version: STSv1\nmode: enforce\nmx: mx.oversize.example\nmax_age: 600\n' + '# padding\n' * 8000)" > "$W/oversize.txt"

sts_ca
sts_site enforce.example file "$W/enforce.txt"
sts_site testing.example file "$W/testing.txt"
sts_site crlf.example file "$W/crlf.txt"
sts_site malformed.example file "$W/malformed.txt"
sts_site nomaxage.example file "$W/nomaxage.txt"
sts_site idchange.example file "$W/idchange.txt"
sts_site oversize.example file "$W/oversize.txt"
sts_site notfound.example status:404
sts_site error500.example status:500
sts_site redirect.example redirect
sts_site ctype.example ctype "$W/plain.txt"
sts_site wrongname.example wrongname "$W/plain.txt"
sts_site expired.example expired "$W/plain.txt"
sts_site slow.example slow:6 "$W/plain.txt"
sts_site slowok.example slow:2 "$W/slowok.txt"
sts_site short.example file "$W/short.txt"
for d in short enforce testing crlf malformed nomaxage idchange oversize notfound error500 redirect \
         ctype wrongname expired slow slowok; do
    sts_txt "$d.example" "${d}1"
done
# Two STSv1 records: discarded, no policy (RFC 8461 3.1).
echo "  local-data: '_mta-sts.twotxt.example. 1 IN TXT \"v=STSv1; id=a\"'" >> "$T/sts_zone"
echo "  local-data: '_mta-sts.twotxt.example. 1 IN TXT \"v=STSv1; id=b\"'" >> "$T/sts_zone"
start_sts_world

POLICY_SOCKET="unix:$T/policy.sock"
write_conf "$T/otr.conf" "policy_socket=$POLICY_SOCKET" "resolver=$DNS_RESOLVER" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=4s" "policy_lookup_timeout=1s" \
    "policy_socket_mode=0660"
start_daemon "$T/otr.conf"
wait_for 10 test -S "$T/policy.sock"
[ "$(stat -c %a "$T/policy.sock")" = 660 ] || fail "policy_socket_mode not applied"

# ---- valid policies ----
eventually enforce.example "secure match=mx1.enforce.example:.mail.enforce.example servername=hostname"
expect Enforce.Example. "secure match=mx1.enforce.example:.mail.enforce.example servername=hostname"
eventually crlf.example "secure match=mx.crlf.example servername=hostname"
expect testing.example NOTFOUND
expect none.example NOTFOUND
expect twotxt.example NOTFOUND
expect .enforce.example NOTFOUND
expect "[mx1.enforce.example]:25" NOTFOUND
grep -q "testing.example: fetched id testing1" "$T/daemon.log" || fail "testing policy was not fetched"

# ---- a policy in use is fetched again at half its max_age, before it expires ----
eventually short.example "secure match=mx.short.example servername=hostname"
sleep 6
expect short.example "secure match=mx.short.example servername=hostname" # due: refresh behind
sleep 5 # the first copy has expired by now
expect short.example "secure match=mx.short.example servername=hostname"
[ "$(grep -c "policy: short.example: fetched id short1" "$T/daemon.log")" -ge 2 ] ||
    fail "short.example was not refreshed before it expired"

# ---- the first lookup of a slow domain waits policy_lookup_timeout, then NOTFOUND ----
start=$(date +%s)
expect slowok.example NOTFOUND
[ $(($(date +%s) - start)) -le 3 ] || fail "the first lookup waited longer than policy_lookup_timeout"
eventually slowok.example "secure match=mx.slowok.example servername=hostname" 10

# ---- failures: NOTFOUND, and each recorded in the spool with its reason ----
for d in notfound error500 redirect ctype oversize wrongname expired slow malformed nomaxage; do
    q "$d.example" >/dev/null
done
check_failure() {
    wait_for 15 grep -q "policy: $1: policy id .* not fetched: $2 $3" "$T/daemon.log"
    [ "$(q "$1")" = NOTFOUND ] || fail "$1 should have no policy"
    pass "$1: $2 $3"
}
check_failure notfound.example sts-policy-fetch-error http-404
check_failure error500.example sts-policy-fetch-error http-500
check_failure redirect.example sts-policy-fetch-error http-301
check_failure ctype.example sts-policy-invalid content-type-not-text-plain
check_failure oversize.example sts-policy-invalid policy-too-large
check_failure wrongname.example sts-webpki-invalid tls-cert-name-mismatch
check_failure expired.example sts-webpki-invalid tls-cert-expired
check_failure slow.example sts-policy-fetch-error timeout
check_failure malformed.example sts-policy-invalid line-malformed
check_failure nomaxage.example sts-policy-invalid max-age-missing

# A failed fetch is no session of its own: it marks the sessions the MTA made. Postfix 3.10
# sends what its settings give: a no-policy-found success (no attributes), an sts success
# without policy strings (policy_failure at "may"), an sts failure it judged itself
# (smtp_tls_loglevel "untrusted"); the first two get the policy service's failure, the
# third stays as Postfix said; a plain domain's session is left alone.
"$AGENT" -c "$T/otr.conf" report --day "$(today)" > "$T/report.out" 2>&1 || fail "agent report: $(cat "$T/report.out")"
[ -s "$T/report.out" ] && fail "a failed fetch alone made a report: $(cat "$T/report.out")"
python3 - "$T/tlsrpt.sock" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
def send(d, pol):
    s.sendto(json.dumps({"dpv": "1", "d": d, "policies": [pol]}).encode(), sys.argv[1])
send("notfound.example", {"policy-type": 9, "t": 0, "f": 0})
send("notfound.example", {"policy-type": 2, "policy-domain": "notfound.example", "t": 0, "f": 0})
send("notfound.example", {"policy-type": 2, "policy-domain": "notfound.example", "t": 1, "f": 1,
     "failure-details": [{"c": 301, "n": "mx.notfound.example", "r": "192.0.2.1"}]})
send("wrongname.example", {"policy-type": 9, "failure-details": [{"c": 201, "n": "mx.wrongname.example",
     "r": "192.0.2.2"}], "t": 1, "f": 1})
send("plain.example", {"policy-type": 9, "t": 0, "f": 0})
EOF
reported() {
    "$AGENT" -c "$T/otr.conf" report --day "$(today)" > "$T/report.out" 2>&1 &&
        [ "$(grep -c 'example' "$T/report.out")" -ge 3 ]
}
wait_for 10 reported
python3 - "$T/report.out" <<'EOF' || fail "fetch failures not joined to the sessions: $(cat "$T/report.out")"
import json, sys
got = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    for p in r["policies"]:
        pol = p["policy"]
        fd = sorted((f["result-type"], f.get("receiving-mx-hostname", "-"),
                     f.get("failure-reason-code", "-"), f["failed-session-count"])
                    for f in p.get("failure-details", []))
        got.setdefault(pol["policy-domain"], []).append((pol["policy-type"],
            p["summary"]["total-successful-session-count"], p["summary"]["total-failure-session-count"], fd))
want = {
    "notfound.example": [("sts", 0, 3, [("sts-policy-fetch-error", "-", "http-404", 2),
                                        ("sts-policy-fetch-error", "mx.notfound.example", "-", 1)])],
    "wrongname.example": [("sts", 0, 1, [("sts-webpki-invalid", "mx.wrongname.example",
                                          "tls-cert-name-mismatch", 1)])],
    "plain.example": [("no-policy-found", 1, 0, [])],
}
for k in want:
    if got.get(k) != want[k]:
        print("%s: want %s got %s" % (k, want[k], got.get(k)))
        sys.exit(1)
EOF
pass "a failed fetch marks the sessions it affected, never adds one"

# ---- the applied policy is kept per day ----
grep -q "^enforce.example 5 2 " "$T/spool/sts/applied/$(today).txt" || fail "applied policy not recorded"
pass "applied policies recorded"

# ---- id change: new policy; then a failing refresh keeps the cached one ----
eventually idchange.example "secure match=a.idchange.example servername=hostname"
printf 'version: STSv1\nmode: enforce\nmx: b.idchange.example\nmax_age: 86400\n' > "$W/idchange.txt"
sts_txt idchange.example idchange2
sts_dns_reload
kill -HUP "$DAEMON_PID" # restarts the role: the cache comes back from disk
eventually idchange.example "secure match=b.idchange.example servername=hostname" 20
rm "$W/idchange.txt"
sts_txt idchange.example idchange3
sts_dns_reload
kill -HUP "$DAEMON_PID"
sleep 1
q idchange.example >/dev/null # answered from the cache; re-checks the TXT id behind
wait_for 20 grep -q "policy: idchange.example: policy id idchange3 not fetched: sts-policy-fetch-error http-404" "$T/daemon.log"
expect idchange.example "secure match=b.idchange.example servername=hostname"
grep -q "idchange3 not fetched.*keeping the cached policy" "$T/daemon.log" || fail "no keep-cached note"
# The role restarted twice since notfound.example failed: its failure came back from the
# disk, and the same id is not fetched again within 5 minutes.
q notfound.example >/dev/null
sleep 1
[ "$(grep -c "policy: notfound.example: policy id notfound1 not fetched" "$T/daemon.log")" = 1 ] ||
    fail "a failed policy id was fetched again within 5 minutes"
pass "a failed fetch is not retried for the same id within 5 minutes, across restarts"

# ---- restart: the cache is on disk ----
stop_daemon
rm -f "$T/tlsrpt.sock"
start_daemon "$T/otr.conf"
wait_for 10 test -S "$T/policy.sock"
expect enforce.example "secure match=mx1.enforce.example:.mail.enforce.example servername=hostname"
# A domain not in memory whose policy is on disk (forgotten after a day unused) is answered
# from the disk at once; its TXT record being gone does not drop an unexpired policy.
now=$(date +%s)
printf 'OTRSTS1\nid d1\nfetched %s\nexpires %s\n\nversion: STSv1\nmode: enforce\nmx: mx.diskonly.example\nmax_age: 86400\n' \
    "$now" $((now + 86400)) > "$T/spool/sts/cache/diskonly.example"
expect diskonly.example "secure match=mx.diskonly.example servername=hostname"
sleep 1
expect diskonly.example "secure match=mx.diskonly.example servername=hostname"

# ---- misbehaving clients lose only their own connection ----
python3 - "$T/policy.sock" <<'EOF' || fail "misbehaving clients"
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); s.settimeout(15); return s
def ask(s, key):
    req = b"sts " + key
    s.sendall(str(len(req)).encode() + b":" + req + b",")
    buf = b""
    while not buf.endswith(b","):
        chunk = s.recv(4096)
        if not chunk: raise SystemExit("closed while reading")
        buf += chunk
    return buf
def closed(s):
    try:
        return s.recv(100) == b""
    except socket.timeout:
        return False
good = conn()
ok = b"OK secure match=mx1.enforce.example:.mail.enforce.example servername=hostname"
want = str(len(ok)).encode() + b":" + ok + b","
assert ask(good, b"enforce.example") == want, ask(good, b"enforce.example")
assert ask(good, b"none.example") == b"9:NOTFOUND ,"
bad = conn(); bad.sendall(b"12x:sts a,"); assert closed(bad), "malformed length"
big = conn(); big.sendall(b"99999999:sts "); assert closed(big), "oversize length"
nocomma = conn(); nocomma.sendall(b"3:abc;"); assert closed(nocomma), "missing comma"
half = conn(); half.sendall(b"20:sts enf")  # never finishes: closed after the timeout
# pipelined requests in one write
p = conn(); r1 = b"sts enforce.example"; r2 = b"sts none.example"
p.sendall(str(len(r1)).encode() + b":" + r1 + b"," + str(len(r2)).encode() + b":" + r2 + b",")
buf = b""
while buf.count(b",") < 2:
    buf += p.recv(4096)
assert buf == want + b"9:NOTFOUND ,", buf
assert ask(good, b"enforce.example") == want
t = time.time()
assert closed(half), "half-open client kept"
assert time.time() - t < 14
assert ask(good, b"enforce.example") == want
EOF
pass "misbehaving clients are dropped, the others served"

# ---- inet socket, same answers (SIGHUP applies the new socket) ----
PORT=$(free_port)
write_conf "$T/otr.conf" "policy_socket=inet:127.0.0.1:$PORT" "resolver=$DNS_RESOLVER" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=4s" "policy_lookup_timeout=1s" \
    "postfix_tlsrpt_attributes=yes" "testing_policy=may"
kill -HUP "$DAEMON_PID"
POLICY_SOCKET="inet:127.0.0.1:$PORT"
eventually enforce.example "secure match=mx1.enforce.example:.mail.enforce.example servername=hostname policy_type=sts policy_domain=enforce.example mx_host_pattern=mx1.enforce.example mx_host_pattern=*.mail.enforce.example { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx1.enforce.example } { policy_string = mx: *.mail.enforce.example } { policy_string = max_age: 86400 }"
expect testing.example "may policy_type=sts policy_domain=testing.example mx_host_pattern=mx.testing.example { policy_string = version: STSv1 } { policy_string = mode: testing } { policy_string = mx: mx.testing.example } { policy_string = max_age: 86400 }"
# A policy that could not be fetched (the failures came back from the disk with the
# restarted role) is no policy, delivered as testing ones are, and names its failure.
eventually notfound.example "may policy_type=sts policy_domain=notfound.example policy_failure=sts-policy-fetch-error" 5
eventually wrongname.example "may policy_type=sts policy_domain=wrongname.example policy_failure=sts-webpki-invalid" 5
# Once the domain stops publishing MTA-STS, its old failure is not reported any more.
sts_txt wrongname.example ""
sts_dns_reload
kill -HUP "$DAEMON_PID"
eventually wrongname.example NOTFOUND 20
grep -q "^failed_at" "$T/spool/sts/cache/wrongname.example" 2>/dev/null &&
    fail "the failure of wrongname.example stayed on disk"
pass "a failure ends with the domain's TXT record"

# ---- testing mode by default: the sts policy at the site's own level ----
write_conf "$T/otr.conf" "policy_socket=inet:127.0.0.1:$PORT" "resolver=$DNS_RESOLVER" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "sts_fetch_timeout=4s" "policy_lookup_timeout=1s" \
    "postfix_tlsrpt_attributes=yes" "postfix_tls_level=encrypt"
kill -HUP "$DAEMON_PID"
eventually testing.example "encrypt policy_type=sts policy_domain=testing.example mx_host_pattern=mx.testing.example { policy_string = version: STSv1 } { policy_string = mode: testing } { policy_string = mx: mx.testing.example } { policy_string = max_age: 86400 }" 10
eventually notfound.example "encrypt policy_type=sts policy_domain=notfound.example policy_failure=sts-policy-fetch-error" 10
pass "testing mode and failed fetches: the sts policy, the site's level kept"

# ---- the agent explains ----
"$AGENT" -c "$T/otr.conf" policy idchange.example > "$T/agent-policy.out" 2>&1 ||
    fail "agent policy: exit $?: $(cat "$T/agent-policy.out")"
grep -q "idchange2" "$T/agent-policy.out" || fail "agent policy: $(cat "$T/agent-policy.out")"
grep -q "http-404" "$T/agent-policy.out" || fail "agent policy lacks the last error: $(cat "$T/agent-policy.out")"
pass "agent policy"
"$AGENT" -c "$T/otr.conf" policy --fetch enforce.example > "$T/agent-fetch.out" 2>&1 ||
    fail "agent policy --fetch: exit $?: $(cat "$T/agent-fetch.out")"
grep -q "live fetch: ok" "$T/agent-fetch.out" || fail "agent policy --fetch: $(cat "$T/agent-fetch.out")"
# Policy hosts on loopback/private addresses are refused unless https_allow_private = yes.
"$AGENT" -c "$T/otr.conf" -o https_allow_private=no policy --fetch enforce.example > "$T/agent-fetch.out" 2>&1 ||
    fail "agent policy --fetch, private: exit $?: $(cat "$T/agent-fetch.out")"
grep -q "live fetch: sts-policy-fetch-error address-not-public" "$T/agent-fetch.out" ||
    fail "private policy host not refused: $(cat "$T/agent-fetch.out")"
pass "agent policy --fetch, private addresses refused by default"
