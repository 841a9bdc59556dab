#!/bin/sh
# `opentlsrpt-agent check DOMAIN` against a test bed on loopback: unbound serving unsigned
# test domains and two DNSSEC-signed ones (with their trust anchor), nginx serving MTA-STS
# policies (good, missing, malformed, one whose mx lines miss an MX), and SMTP servers with
# STARTTLS (tests/tools/check_smtpd.py) presenting good, expired, expiring, wrong-name and
# self-signed certificates, or no STARTTLS at all, and a private Postfix smtpd; TLSA
# records that match (DANE-EE, DANE-TA), that do not, and whose signature is broken.
# Every case (tests/data/check/verdicts) asserts the step verdicts and the exit status;
# every JSON output is validated against tests/data/check.schema.json.
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

# ---- the verdict table: one case a file in tests/data/check/verdicts, in name order
# (tests/tools/check_case.py says what each line asserts). Each case runs twice: text with
# its options before the domain, JSON with them after it (GNU getopt order). ----
case_key() { sed -n "s/^$1 //p" "$2"; }
ncases=0
for case in "$DATA"/check/verdicts/*.case; do
    label=$(basename "$case" .case)
    d=$(case_key domain "$case")
    [ -n "$d" ] || fail "$label: no domain"
    if [ "$(case_key needs "$case")" = postfix ] && [ "$HAVE_POSTFIX" = no ]; then
        echo "note: Postfix is not installed: case $label is not run (tests/deps.sh installs it)"
        continue
    fi
    args=$(case_key args "$case")
    global=$(case_key global "$case")
    rt=0
    # shellcheck disable=SC2086
    "$AGENT" -c "$T/otr.conf" $global check --port "$PORT" --timeout 5 $args "$d" \
        > "$T/$label.txt" 2>>"$T/agent.log" || rt=$?
    rj=0
    # shellcheck disable=SC2086
    "$AGENT" -c "$T/otr.conf" $global check "$d" --port "$PORT" --timeout 5 --format json $args \
        > "$T/$label.json" 2>>"$T/agent.log" || rj=$?
    python3 "$top_srcdir/tests/tools/check_case.py" "$case" "$T/$label.txt" "$T/$label.json" \
        "$DATA/check.schema.json" "$rt" "$rj" || { cat "$T/$label.txt"; fail "case $label"; }
    pass "$label: $(sed -n '1s/^# //p' "$case")"
    ncases=$((ncases + 1))
done
[ "$ncases" -ge 22 ] || fail "only $ncases verdict cases ran"

# The real Postfix MX saw only EHLO, STARTTLS, EHLO and QUIT.
if [ "$HAVE_POSTFIX" = yes ]; then
    wait_for 10 grep -q "disconnect from .* ehlo=2 starttls=1 quit=1 commands=4$" "$PF/maillog"
    # (commands=0/0: the test's own port probe)
    if grep "disconnect from" "$PF/maillog" | grep -v "commands=0/0$" |
        grep -v "ehlo=2 starttls=1 quit=1 commands=4$"; then
        fail "the check sent Postfix other commands"
    fi
    pass "postfix.example: a real Postfix MX, EHLO/STARTTLS/EHLO/QUIT only"
fi

# ---- usage errors ----
code=0; "$AGENT" -c "$T/otr.conf" check --format yaml good.example >/dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "bad option: exit $code, want 3"
code=0; "$AGENT" -c "$T/otr.conf" check 'bad domain!' >/dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "bad domain: exit $code, want 3"
pass "usage errors"

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
