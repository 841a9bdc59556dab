#!/bin/sh
# `opentlsrpt-agent check DOMAIN` against a test bed on loopback: unbound serving unsigned
# test domains and two DNSSEC-signed ones (with their trust anchor), nginx serving MTA-STS
# policies (good, missing, malformed, one whose mx lines miss an MX), and SMTP servers with
# STARTTLS (tests/tools/check_smtpd.py) presenting good, expired, expiring, wrong-name and
# self-signed certificates, or no STARTTLS at all, and a private Postfix smtpd; TLSA
# records that match (DANE-EE, DANE-TA), that do not, and whose signature is broken.
# Every case asserts the step verdicts and the exit status; every JSON output is validated
# against tests/data/check.schema.json.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_sts.sh"
. "$top_srcdir/tests/lib_postfix.sh"
need python3 openssl
[ "$(id -u)" = 0 ] || skip "nginx must bind port 443 for the policy hosts: run as root"
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed (tests/deps.sh installs it)"

# Policy hosts (lib_sts.sh) need port 443: an address of their own where 443 is free, so
# that this test can run beside policy.sh or another copy of itself.
STS_IP=$(/usr/bin/python3 - <<'EOF'
import random, socket
for _ in range(200):
    ip = "127.85.%d.%d" % (random.randint(1, 250), random.randint(1, 250))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((ip, 443))
    except OSError:
        continue
    finally:
        s.close()
    print(ip)
    break
EOF
)
[ -n "$STS_IP" ] || fail "no free loopback address for port 443"
MX=127.0.85              # MX listeners: $MX.N
PORT=$(free_port)        # the SMTP port of every listener (check --port)
W=$T/www
mkdir -p "$W"

# ---- certificates: the test CA signs the policy hosts' and the MX hosts' certificates ----
sts_ca
STS_CERT_DAYS=60 sts_cert mx-good mx.good.example mx.daneok.example mx.danebad.example \
    mx1.uncovered.example mx2.uncovered.example mx.nopolicy.example mx.badpolicy.example \
    mx.testing.example mx.daneta.example mx.danebogus.example mx.postfix.example
cat "$T/mx-good.pem" "$T/ca.pem" > "$T/mx-good-chain.pem"   # DANE-TA needs the CA sent
STS_CERT_DAYS=60 sts_cert mx-wrongname mx.elsewhere.example
STS_CERT_DAYS=-1 sts_cert mx-expired mx.expired.example
STS_CERT_DAYS=5 sts_cert mx-soon mx.soon.example
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/mx-self.key" \
    -out "$T/mx-self.pem" -subj "/CN=mx.selfsigned.example" -days 60 \
    -addext "subjectAltName=DNS:mx.selfsigned.example" 2>/dev/null || fail "self-signed cert"
spki_sha256() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -r | cut -d' ' -f1
}
cert_sha256() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }

# ---- DNS: unsigned domains (local-data) and two signed zones (auth-zone) ----
zone() { echo "  local-data: '$1'" >> "$T/sts_zone"; }
# case domain, MX listener number, certificate (or - for no STARTTLS)
CASES="good:1:mx-good expired:2:mx-expired wrongname:3:mx-wrongname selfsigned:4:mx-self
nostarttls:5:- soon:6:mx-soon nopolicy:7:mx-good badpolicy:8:mx-good testing:9:mx-good"
LISTENERS=""
for c in $CASES; do
    d=${c%%:*}; rest=${c#*:}; n=${rest%%:*}; cert=${rest#*:}
    zone "$d.example. 1 IN MX 10 mx.$d.example."
    zone "mx.$d.example. 1 IN A $MX.$n"
    if [ "$cert" = - ]; then
        LISTENERS="$LISTENERS $MX.$n:$PORT:-"
    else
        LISTENERS="$LISTENERS $MX.$n:$PORT:$T/$cert.pem:$T/$cert.key"
    fi
done
# uncovered.example: two MX hosts, the policy names only the first.
zone "uncovered.example. 1 IN MX 10 mx1.uncovered.example."
zone "uncovered.example. 1 IN MX 20 mx2.uncovered.example."
zone "mx1.uncovered.example. 1 IN A $MX.10"
zone "mx2.uncovered.example. 1 IN A $MX.11"
LISTENERS="$LISTENERS $MX.10:$PORT:$T/mx-good.pem:$T/mx-good.key $MX.11:$PORT:$T/mx-good.pem:$T/mx-good.key"
# TLSRPT records: good, two records, a bad one, an https endpoint that does not resolve.
zone "_smtp._tls.good.example. 1 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@good.example,https://reports.good.example/tlsrpt\""
zone "reports.good.example. 1 IN A 127.0.85.200"
zone "_smtp._tls.expired.example. 1 IN TXT \"v=TLSRPTv1; rua=mailto:a@expired.example\""
zone "_smtp._tls.expired.example. 1 IN TXT \"v=TLSRPTv1; rua=mailto:b@expired.example\""
zone "_smtp._tls.wrongname.example. 1 IN TXT \"v=TLSRPTv1; rua=ftp://x.example/\""
zone "_smtp._tls.selfsigned.example. 1 IN TXT \"v=TLSRPTv1; rua=https://nothing.selfsigned.example/r\""
zone "_smtp._tls.nostarttls.example. 1 IN TXT \"v=TLSRPTv1 rua=mailto:x@nostarttls.example\""
zone "nomx.example. 1 IN A 127.0.85.201"
# An _mta-sts record whose id has characters the RFC does not allow.
zone "_mta-sts.badid.example. 1 IN TXT \"v=STSv1; id=bad_id!\""
# many.example: 6 MX hosts, the first with 3 addresses (the probe limits: 5 hosts, 2 each).
for i in 1 2 3 4 5 6; do
    zone "many.example. 1 IN MX $i m$i.many.example."
    zone "m$i.many.example. 1 IN A $MX.1"
done
# Its policy names the first 5: the 6th, never probed, is not covered.
zone "m1.many.example. 1 IN A $MX.2"
zone "m1.many.example. 1 IN A $MX.3"
# silent.example: the MX accepts the connection and never greets.
zone "silent.example. 1 IN MX 10 mx.silent.example."
zone "mx.silent.example. 1 IN A $MX.18"
LISTENERS="$LISTENERS $MX.18:$PORT:silent"
# tlssilent.example: STARTTLS is accepted, then the handshake is never answered.
zone "tlssilent.example. 1 IN MX 10 mx.tlssilent.example."
zone "mx.tlssilent.example. 1 IN A $MX.19"
LISTENERS="$LISTENERS $MX.19:$PORT:tlssilent"
echo '  local-zone: "servfail.example." refuse' >> "$T/sts_zone"

# ---- MTA-STS policies ----
policy() { # policy DOMAIN MODE MAX_AGE MX...
    local d=$1 mode=$2 age=$3; shift 3
    { echo "version: STSv1"; echo "mode: $mode"; for m in "$@"; do echo "mx: $m"; done
      echo "max_age: $age"; } > "$W/$d.txt"
    sts_site "$d.example" file "$W/$d.txt"
    sts_txt "$d.example" "${d}2026"
}
policy good enforce 604800 mx.good.example
policy expired enforce 604800 mx.expired.example
policy wrongname enforce 604800 "*.wrongname.example"
policy selfsigned enforce 604800 mx.selfsigned.example
policy nostarttls enforce 604800 mx.nostarttls.example
policy soon enforce 40000000 mx.soon.example
policy uncovered enforce 604800 mx1.uncovered.example
policy testing testing 3600 mx.testing.example
policy many enforce 604800 m1.many.example m2.many.example m3.many.example m4.many.example \
    m5.many.example
printf 'version: STSv1\nmode: enforce\nthis is not a policy line\nmax_age: 604800\n' > "$W/badpolicy.txt"
sts_site badpolicy.example file "$W/badpolicy.txt"
sts_txt badpolicy.example bad1
sts_site nopolicy.example status:404
sts_txt nopolicy.example nopolicy1

# postfix.example: a real Postfix smtpd on 127.0.0.1 (started below when Postfix is there).
zone "postfix.example. 1 IN MX 10 mx.postfix.example."
zone "mx.postfix.example. 1 IN A 127.0.0.1"
zone "_smtp._tls.postfix.example. 1 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@good.example\""
policy postfix enforce 86400 mx.postfix.example

# ---- the signed zones: DANE with a matching and a non-matching TLSA record ----
# daneok: DANE-EE matches; danebad: it does not; daneta: DANE-TA on the CA the server
# sends; danebogus: the TLSA record is altered after signing (its signature fails).
for c in daneok:12 danebad:13 daneta:14 danebogus:15; do
    d=${c%%:*}; n=${c#*:}; chain=mx-good
    case $d in
        daneok|danebogus) tlsa="3 1 1 $(spki_sha256 "$T/mx-good.pem")" ;;
        danebad) tlsa="3 1 1 $(printf '%064d' 0)" ;;
        daneta) tlsa="2 0 1 $(cert_sha256 "$T/ca.pem")"; chain=mx-good-chain ;;
    esac
    cat > "$T/$d.zone" <<EOF
\$ORIGIN $d.example.
\$TTL 3600
@ IN SOA ns.$d.example. hostmaster.$d.example. 1 3600 600 86400 300
@ IN NS ns.$d.example.
ns IN A 127.0.0.1
@ IN MX 10 mx.$d.example.
mx IN A $MX.$n
_$PORT._tcp.mx IN TLSA $tlsa
EOF
    # daneta publishes no _smtp._tls record: its absence is what gets validated.
    [ "$d" = daneta ] ||
        echo "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$d.example\"" >> "$T/$d.zone"
    dns_sign_zone "$d.example" "$T/$d.zone"
    LISTENERS="$LISTENERS $MX.$n:$PORT:$T/$chain.pem:$T/mx-good.key"
    echo "  local-zone: \"$d.example.\" transparent" >> "$T/sts_zone"
done
good_hash=$(spki_sha256 "$T/mx-good.pem")
sed -i "s/$good_hash/$(spki_sha256 "$T/mx-wrongname.pem")/I" "$T/danebogus.zone.signed"
grep -qi "$(spki_sha256 "$T/mx-wrongname.pem")" "$T/danebogus.zone.signed" || fail "could not alter the TLSA record"
for d in daneok danebad daneta danebogus; do
    printf 'auth-zone:\n  name: "%s.example."\n  zonefile: "%s"\n  for-downstream: yes\n  for-upstream: no\n' \
        "$d" "$T/$d.zone.signed" >> "$T/sts_zone"
done

start_sts_world
# shellcheck disable=SC2086
python3 "$top_srcdir/tests/tools/check_smtpd.py" "$T/smtpd.ready" $LISTENERS >>"$T/smtpd.log" 2>&1 &
SMTPD_PID=$!
at_exit "kill $SMTPD_PID 2>/dev/null; wait $SMTPD_PID 2>/dev/null"
wait_for 10 test -f "$T/smtpd.ready"

# A private Postfix instance as one more MX: real EHLO and STARTTLS replies, and its log
# says which commands the check sent.
start_postfix_mx() {
    chmod 0644 "$T/mx-good.key"
    postfix_start mx.postfix.example "$PORT" "smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/mx-good.pem
smtpd_tls_key_file = $T/mx-good.key"
}
HAVE_POSTFIX=no
if command -v postfix >/dev/null 2>&1 && command -v script >/dev/null 2>&1 && [ -f /etc/postfix/master.cf ]; then
    start_postfix_mx
    HAVE_POSTFIX=yes
fi

write_conf "$T/otr.conf" "resolver=$DNS_RESOLVER" "dnssec_trust_anchor_file=$T/ta.keys" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes"

# run_check DOMAIN WANT-EXIT [OPTIONS...]: text and JSON runs; the JSON is validated. The
# JSON run gives its options after the domain (GNU getopt order), the text run before it.
run_check() {
    local d=$1 want=$2 got; shift 2
    got=0
    # shellcheck disable=SC2086
    "$AGENT" -c "$T/otr.conf" ${XOPTS:-} check --port "$PORT" --timeout 5 "$@" "$d" > "$T/$d.txt" 2>>"$T/agent.log" || got=$?
    [ "$got" = "$want" ] || { cat "$T/$d.txt"; fail "$d: exit $got, want $want"; }
    got=0
    # shellcheck disable=SC2086
    "$AGENT" -c "$T/otr.conf" ${XOPTS:-} check "$d" --port "$PORT" --timeout 5 --format json "$@" > "$T/$d.json" 2>>"$T/agent.log" || got=$?
    [ "$got" = "$want" ] || fail "$d: --format json exit $got, want $want"
    python3 - "$top_srcdir/tests/data/check.schema.json" "$T/$d.json" "$want" <<'EOF' || fail "$d: JSON does not match the schema"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
assert doc["exit"] == int(sys.argv[3]), doc["exit"]
EOF
}

# v DOMAIN STEP [HOST]: the verdicts of STEP (for HOST), comma-separated, in order.
v() {
    python3 - "$T/$1.json" "$2" "${3:-}" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
print(",".join(s["verdict"] for s in doc["steps"]
               if s["step"] == sys.argv[2] and (not sys.argv[3] or s.get("host") == sys.argv[3])))
EOF
}
# expect_v DOMAIN STEP WANT [HOST]
expect_v() {
    local got
    got=$(v "$1" "$2" "${4:-}")
    [ "$got" = "$3" ] || { cat "$T/$1.txt"; fail "$1: $2${4:+ ($4)}: got [$got], want [$3]"; }
}
# summary DOMAIN: "sts-action sts-types... / dane-action dane-types..."
summary() {
    python3 - "$T/$1.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(" / ".join(" ".join([s[k]["policy"], s[k]["action"]] + s[k]["result-types"]) for k in ("sts", "dane")))
EOF
}
expect_summary() {
    local got
    got=$(summary "$1")
    [ "$got" = "$2" ] || { cat "$T/$1.txt"; fail "$1: summary [$got], want [$2]"; }
}

# ---- a domain with everything right (DANE does not apply: unsigned) ----
run_check good.example 0
for s in tlsrpt.record sts.txt sts.policy sts.mode sts.max_age sts.mx_coverage mx.records \
         mx.address mx.connect mx.ehlo mx.starttls mx.tls mx.chain mx.name mx.sts_name mx.expiry; do
    expect_v good.example $s ok
done
expect_v good.example tlsrpt.rua ok,ok
expect_summary good.example "enforce deliver / absent deliver"
grep -q "TLSv1.3, cipher" "$T/good.example.txt" || fail "no TLS version/cipher in the text output"
grep -q "^result: ok (exit 0)" "$T/good.example.txt" || fail "text result line"
# The step order (check.c): _smtp._tls, MTA-STS, MX, then per address in session order.
order=$(python3 -c 'import json,sys; print(" ".join(s["step"] for s in json.load(open(sys.argv[1]))["steps"]))' "$T/good.example.json")
case $order in
    "tlsrpt.record tlsrpt.rua tlsrpt.rua tlsrpt.dnssec sts.txt sts.policy sts.mode sts.max_age sts.mx_coverage mx.records mx.address mx.connect mx.ehlo mx.starttls mx.tls mx.chain mx.name mx.sts_name mx.expiry") ;;
    *) fail "step order: $order" ;;
esac
pass "good.example: every step ok, exit 0"

# ---- a real Postfix as the MX: only EHLO, STARTTLS, EHLO and QUIT reach it ----
if [ "$HAVE_POSTFIX" = yes ]; then
    run_check postfix.example 0
    expect_v postfix.example mx.ehlo ok
    expect_v postfix.example mx.starttls ok
    expect_v postfix.example mx.tls ok
    grep -q 'banner "220 mx.postfix.example ESMTP' "$T/postfix.example.txt" || fail "postfix banner"
    wait_for 10 grep -q "disconnect from .* ehlo=2 starttls=1 quit=1 commands=4$" "$PF/maillog"
    # (commands=0/0: the test's own port probe)
    if grep "disconnect from" "$PF/maillog" | grep -v "commands=0/0$" |
        grep -v "ehlo=2 starttls=1 quit=1 commands=4$"; then
        fail "the check sent Postfix other commands"
    fi
    pass "postfix.example: a real Postfix MX, EHLO/STARTTLS/EHLO/QUIT only"
else
    echo "note: Postfix is not installed: the real-Postfix MX case is not run (tests/deps.sh installs it)"
fi

# ---- certificate failures ----
run_check expired.example 2
expect_v expired.example tlsrpt.record error          # two TLSRPT records
expect_v expired.example tlsrpt.dnssec ok
expect_v expired.example mx.chain error
expect_v expired.example mx.expiry error
expect_v expired.example mx.name ok
expect_summary expired.example "enforce defer certificate-expired / absent deliver"
pass "expired certificate: defer, certificate-expired"

run_check wrongname.example 2
expect_v wrongname.example mx.chain ok
expect_v wrongname.example mx.name error
expect_v wrongname.example mx.sts_name error
expect_v wrongname.example tlsrpt.rua warning          # ftp: is not a report URI
expect_v wrongname.example tlsrpt.record error         # and then no usable URI is left
expect_summary wrongname.example "enforce defer certificate-host-mismatch / absent deliver"
pass "wrong name: defer, certificate-host-mismatch"

run_check selfsigned.example 2
expect_v selfsigned.example mx.chain error
expect_v selfsigned.example mx.name ok
expect_v selfsigned.example tlsrpt.rua error          # https host does not resolve
grep -q "self-signed certificate" "$T/selfsigned.example.txt" || fail "no OpenSSL reason for the self-signed chain"
expect_summary selfsigned.example "enforce defer certificate-not-trusted / absent deliver"
pass "self-signed: defer, certificate-not-trusted"

run_check nostarttls.example 2
expect_v nostarttls.example mx.ehlo ok
expect_v nostarttls.example mx.starttls error
expect_v nostarttls.example mx.tls ""
expect_v nostarttls.example tlsrpt.record error       # "v=TLSRPTv1 rua=" lacks its ";"
expect_summary nostarttls.example "enforce defer starttls-not-supported / absent deliver"
pass "no STARTTLS: defer, starttls-not-supported"

run_check soon.example 1
expect_v soon.example mx.expiry warning
expect_v soon.example sts.max_age warning              # above the RFC's cap
expect_v soon.example tlsrpt.record warning            # none published
expect_v soon.example tlsrpt.dnssec ok                 # its DNSSEC status all the same
grep -q "_smtp._tls.soon.example: the absence of a record is not DNSSEC-signed" \
    "$T/soon.example.txt" || fail "soon: no DNSSEC status for the missing record"
expect_summary soon.example "enforce deliver / absent deliver"
pass "expiring certificate and oversized max_age: warnings, exit 1"

# ---- policies ----
run_check nopolicy.example 2
expect_v nopolicy.example sts.txt ok
expect_v nopolicy.example sts.policy error
grep -q "sts-policy-fetch-error http-404" "$T/nopolicy.example.txt" || fail "no fetch error reason"
expect_v nopolicy.example sts.mx_coverage ""
expect_summary nopolicy.example "unusable deliver sts-policy-fetch-error / absent deliver"
pass "missing policy: sts-policy-fetch-error"

run_check badpolicy.example 2
expect_v badpolicy.example sts.policy error
grep -q "sts-policy-invalid" "$T/badpolicy.example.txt" || fail "no policy-invalid reason"
expect_summary badpolicy.example "unusable deliver sts-policy-invalid / absent deliver"
pass "malformed policy: sts-policy-invalid"

run_check uncovered.example 2
expect_v uncovered.example sts.mx_coverage error
expect_v uncovered.example mx.sts_name ok mx1.uncovered.example
expect_v uncovered.example mx.sts_name error mx2.uncovered.example
expect_v uncovered.example mx.name ok,ok
expect_summary uncovered.example "enforce deliver certificate-host-mismatch / absent deliver"
pass "policy mx lines miss an MX: error, the covered MX still takes mail"

run_check testing.example 1
expect_v testing.example sts.mode warning
expect_v testing.example sts.max_age warning
expect_summary testing.example "testing deliver / absent deliver"
pass "testing mode and a short max_age: warnings"

# ---- DANE in the signed zones ----
run_check daneok.example 1                              # no MTA-STS: a warning
expect_v daneok.example tlsrpt.record ok
expect_v daneok.example tlsrpt.dnssec ok
grep -q "_smtp._tls.daneok.example: the answer is DNSSEC-signed and validated" \
    "$T/daneok.example.txt" || fail "daneok: the _smtp._tls answer not seen as signed"
expect_v daneok.example mx.tlsa ok
expect_v daneok.example mx.dane ok
expect_v daneok.example sts.txt warning
grep -q "DNSSEC-signed and validated" "$T/daneok.example.txt" || fail "MX not seen as signed"
expect_summary daneok.example "absent deliver / usable deliver"
pass "DANE: matching TLSA record"

run_check danebad.example 2
expect_v danebad.example mx.tlsa ok
expect_v danebad.example mx.dane error
expect_summary danebad.example "absent deliver / usable defer tlsa-invalid"
pass "DANE: non-matching TLSA record: defer, tlsa-invalid"

run_check daneta.example 1
expect_v daneta.example mx.dane ok
expect_v daneta.example tlsrpt.record warning           # none published
expect_v daneta.example tlsrpt.dnssec ok
grep -q "_smtp._tls.daneta.example: the absence of a record is DNSSEC-signed and validated" \
    "$T/daneta.example.txt" || fail "daneta: the missing _smtp._tls record not seen as signed"
grep -q "DANE-TA record 1 matches chain certificate 1" "$T/daneta.example.txt" || fail "DANE-TA evidence"
expect_summary daneta.example "absent deliver / usable deliver"
pass "DANE-TA: the CA the server sends matches; no _smtp._tls, its absence validated"

run_check danebogus.example 2
expect_v danebogus.example mx.tlsa error
expect_v danebogus.example mx.records ok
expect_v danebogus.example mx.dane ""
expect_summary danebogus.example "absent deliver / usable defer dnssec-invalid"
pass "DANE: TLSA record with a broken signature: defer, dnssec-invalid"

# Without the trust anchor nothing validates: DANE does not apply.
XOPTS="-o dnssec_trust_anchor_file=" run_check danebad.example 1
expect_v danebad.example mx.tlsa ""
expect_v danebad.example mx.dane ""
expect_summary danebad.example "absent deliver / absent deliver"
pass "without a trust anchor DANE does not apply"

# ---- the check cannot run, or finds nothing to check ----
run_check nomx.example 2
expect_v nomx.example mx.records error
run_check servfail.example 3
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "MX lookup" in d["error"], d' "$T/servfail.example.json" ||
    fail "servfail: no reason"
code=0; "$AGENT" -c "$T/otr.conf" check --format yaml good.example >/dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "bad option: exit $code, want 3"
code=0; "$AGENT" -c "$T/otr.conf" check 'bad domain!' >/dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "bad domain: exit $code, want 3"
pass "no MX, DNS failure, usage errors"

run_check badid.example 2
expect_v badid.example sts.txt error
expect_v badid.example sts.policy ""

# ---- bounded: at most 5 MX hosts and 2 addresses each, unless --all; a silent server ----
run_check many.example 2
expect_v many.example mx.connect ok,ok,ok,ok,ok,ok
expect_v many.example mx.address ok,ok,ok,ok,ok
grep -q "probing the first ones" "$T/many.example.txt" || fail "many: no note on the MX limit"
# Coverage is of every MX record, also the 6th that was not probed.
expect_v many.example sts.mx_coverage error
grep -q "1 of 6 MX host(s) not matched by any mx pattern: m6.many.example$" \
    "$T/many.example.txt" || fail "many: the unprobed 6th MX is not named as uncovered"
run_check many.example 2 --all
expect_v many.example mx.connect ok,ok,ok,ok,ok,ok,ok,ok
expect_v many.example mx.address ok,ok,ok,ok,ok,ok
run_check silent.example 2 --timeout 2
expect_v silent.example mx.connect ok
expect_v silent.example mx.ehlo error
grep -q "banner: timed out waiting for the server" "$T/silent.example.txt" || fail "silent: no timeout evidence"
run_check tlssilent.example 2 --timeout 2
expect_v tlssilent.example mx.starttls ok
expect_v tlssilent.example mx.tls error
grep -q "TLS handshake: timed out after 2 s" "$T/tlssilent.example.txt" || fail "tlssilent: no timeout evidence"
pass "limits: 5 MX hosts, 2 addresses each, --all; coverage of all 6; per-step timeout"

# ---- bounded: --port to a closed port gives a connect error per address, fast ----
closed=$(free_port)
code=0
"$AGENT" -c "$T/otr.conf" check --port "$closed" --timeout 2 --format json good.example > "$T/closed.json" || code=$?
[ "$code" = 2 ] || fail "closed port: exit $code"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [s["verdict"] for s in d["steps"] if s["step"]=="mx.connect"]==["error"], d' "$T/closed.json" ||
    fail "closed port: no mx.connect error"
pass "closed port"

# Sessions ended with QUIT, and no mail was ever offered to the servers.
grep -q "^QUIT" "$T/smtpd.log" || fail "no QUIT seen by the servers"
if grep -q "^MAIL\|^RCPT\|^DATA" "$T/smtpd.log"; then fail "the check sent mail commands"; fi
pass "QUIT, and no mail commands"
