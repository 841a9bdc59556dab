#!/bin/sh
# common/mail/dns.c against a real unbound: TXT strings concatenated, MX sorted and lower-cased,
# A then AAAA, TLSA presentation form, NODATA/NXDOMAIN, SERVFAIL (a validating unbound facing
# a broken signed zone), REFUSED and a silent server as temporary failures, DNSSEC secure and bogus answers with a trust anchor file.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
DNS="$top_builddir/tests/tools/otr-dns"

dns_tlsrpt_zone signed.example mailto:tlsrpt@signed.example > "$T/signed.zone"
sed 's/signed\.example/bogus.example/g' "$T/signed.zone" > "$T/bogus.zone"
dns_sign_zone signed.example "$T/signed.zone"
dns_sign_zone bogus.example "$T/bogus.zone"
# Changing signed data without re-signing is exactly what a validator must catch.
sed -i 's/rua=mailto:tlsrpt@bogus.example/rua=mailto:evil@bogus.example/' "$T/bogus.zone.signed"
grep -q 'evil@bogus' "$T/bogus.zone.signed" || fail "could not tamper with the bogus zone"
dns_tlsrpt_zone servfail.example mailto:tlsrpt@servfail.example > "$T/servfail.zone"
dns_servfail_zone servfail.example "$T/servfail.zone"

cat > "$T/zones" <<EOF
  local-zone: "example." static
  local-data: '_smtp._tls.multi.example. TXT "v=TLSRPTv1;" "rua=mailto:a@multi.example"'
  local-data: 'multi.example. MX 20 mx2.multi.example.'
  local-data: 'multi.example. MX 10 MX1.Multi.example.'
  local-data: 'multi.example. MX 10 mx0.multi.example.'
  local-data: 'multi.example. A 127.0.0.5'
  local-data: 'multi.example. AAAA 2001:db8:0:0:0:0:0:1'
  local-data: 'v4.example. A 127.0.0.6'
  local-data: '_25._tcp.mx1.multi.example. TLSA 3 1 1 abcdef0123'
  local-data: 'bin.example. TXT "a\\\\b\\"c"'
  local-zone: "refused.example." refuse
$(dns_auth_zone signed.example "$T/signed.zone.signed")
$(dns_auth_zone bogus.example "$T/bogus.zone.signed")
EOF
start_unbound "$T/zones"

q() { "$DNS" -o "resolver=$DNS_RESOLVER" "$@" 2>>"$T/why.log"; }
expect() {
    local want=$1; shift
    got=$(q "$@")
    [ "$got" = "$want" ] || fail "$*: got [$got], want [$want]"
}

expect "ok
v=TLSRPTv1;rua=mailto:a@multi.example" txt _smtp._tls.multi.example
expect "ok
10 mx0.multi.example
10 mx1.multi.example
20 mx2.multi.example" mx multi.example
expect "ok
127.0.0.5
2001:db8::1" addr multi.example
expect "ok
127.0.0.6" addr v4.example
expect "ok
3 1 1 ABCDEF0123" tlsa _25._tcp.mx1.multi.example
expect 'ok
a\x5cb"c' txt bin.example
expect "nodata" txt multi.example
expect "nxdomain" txt nothing.multi.example
pass "plain lookups"

# SERVFAIL and REFUSED say nothing about the name: temporary. libunbound reports both as
# SERVFAIL (it takes a REFUSED from its forwarder for a failed server), so kdig checks that
# unbound really gives each rcode: neither case can turn into another unnoticed.
[ "$(dns_rcode _smtp._tls.servfail.example TXT)" = SERVFAIL ] ||
    fail "unbound does not SERVFAIL servfail.example: $(dns_rcode _smtp._tls.servfail.example TXT)"
got=$("$DNS" -o "resolver=$DNS_RESOLVER" txt _smtp._tls.servfail.example 2>"$T/err")
[ "$got" = "tempfail" ] || fail "SERVFAIL: got [$got]"
grep -q "SERVFAIL" "$T/err" || fail "SERVFAIL reason: $(cat "$T/err")"
# Even under a trust anchor file for other zones: the validator's verdict reaches us as SERVFAIL.
got=$("$DNS" -o "resolver=$DNS_RESOLVER" -o "dnssec_trust_anchor_file=$T/ta.keys" txt _smtp._tls.servfail.example 2>"$T/err")
[ "$got" = "tempfail" ] || fail "SERVFAIL under a trust anchor file: got [$got]"
[ "$(dns_rcode _smtp._tls.refused.example TXT)" = REFUSED ] ||
    fail "unbound does not refuse refused.example: $(dns_rcode _smtp._tls.refused.example TXT)"
got=$("$DNS" -o "resolver=$DNS_RESOLVER" txt _smtp._tls.refused.example 2>"$T/err")
[ "$got" = "tempfail" ] || fail "REFUSED: got [$got]"
pass "SERVFAIL and REFUSED"

# Without a trust anchor nothing is validated; with one, good data is secure and tampered
# data is bogus, with the validator's reason.
expect "ok
v=TLSRPTv1; rua=mailto:evil@bogus.example" txt _smtp._tls.bogus.example
got=$("$DNS" -o "resolver=$DNS_RESOLVER" -o "dnssec_trust_anchor_file=$T/ta.keys" txt _smtp._tls.signed.example)
[ "$got" = "ok secure
v=TLSRPTv1; rua=mailto:tlsrpt@signed.example" ] || fail "signed zone: got [$got]"
got=$("$DNS" -o "resolver=$DNS_RESOLVER" -o "dnssec_trust_anchor_file=$T/ta.keys" txt _smtp._tls.bogus.example 2>"$T/bogus.err")
[ "$got" = "bogus" ] || fail "tampered zone: got [$got]"
grep -q "signature" "$T/bogus.err" || fail "no validator reason: $(cat "$T/bogus.err")"
got=$("$DNS" -o "resolver=$DNS_RESOLVER" -o "dnssec_trust_anchor_file=$T/ta.keys" txt _smtp._tls.multi.example)
[ "$got" = "ok
v=TLSRPTv1;rua=mailto:a@multi.example" ] || fail "unsigned zone under a trust anchor file: got [$got]"
pass "DNSSEC"

# Configuration errors are reported, not ignored.
if "$DNS" -o "resolver=not-an-ip" txt multi.example 2>"$T/err"; then fail "bad resolver accepted"; fi
grep -q "forwarder" "$T/err" || fail "bad resolver message: $(cat "$T/err")"
if "$DNS" -o "resolver=$DNS_RESOLVER" -o "dnssec_trust_anchor_file=$T/none" txt multi.example 2>"$T/err"; then
    fail "missing trust anchor file accepted"
fi

# A server that never answers is a temporary failure after the lookup deadline.
port=$(free_port)
/usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $port))
time.sleep(60)" &
sink=$!
at_exit "kill $sink 2>/dev/null || true"
got=$("$DNS" -o "resolver=127.0.0.1@$port" txt silent.example 2>"$T/err")
[ "$got" = "tempfail" ] || fail "silent server: got [$got]"
grep -q "timed out" "$T/err" || fail "silent server reason: $(cat "$T/err")"
pass "temporary failures"
