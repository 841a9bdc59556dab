#!/bin/sh
# The agent end to end over real servers: discovery from a real unbound (several records,
# multi-string, none, non-TLSRPT, several rua, bad URIs, SERVFAIL, REFUSED, DNSSEC secure and
# bogus),
# HTTPS delivery to a real TLS server (200, 201, 500, 404, 301, timeout), the delivery
# state across runs, send/--force/--domain, status, the private-address guard and the lock.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"

make_ca
start_https 30
U="https://reports.example:$HTTPS_PORT"

dns_tlsrpt_zone signed.example "$U/ok?from=signed" > "$T/signed.zone"
sed 's/signed/bogus/g' "$T/signed.zone" > "$T/bogus.zone"
dns_sign_zone signed.example "$T/signed.zone"
dns_sign_zone bogus.example "$T/bogus.zone"
sed -i 's/from=bogus/from=tampered/' "$T/bogus.zone.signed"
dns_tlsrpt_zone servfail.example "$U/ok?from=servfail" > "$T/servfail.zone"
dns_servfail_zone servfail.example "$T/servfail.zone"

cat > "$T/zones" <<ZONES
  local-zone: "example." static
  local-data: 'reports.example. A 127.0.0.1'
  local-data: 'other.example. A 127.0.0.1'
  local-data: '_smtp._tls.ok.example. TXT "v=TLSRPTv1; rua=$U/ok"'
  local-data: '_smtp._tls.created.example. TXT "v=TLSRPTv1;" "rua=" "$U/created"'
  local-data: '_smtp._tls.several.example. TXT "v=TLSRPTv1; rua=$U/fail,http://x.example/; rua=$U/created"'
  local-data: '_smtp._tls.fail.example. TXT "v=TLSRPTv1; rua=$U/fail"'
  local-data: '_smtp._tls.missing.example. TXT "v=TLSRPTv1; rua=$U/missing"'
  local-data: '_smtp._tls.moved.example. TXT "v=TLSRPTv1; rua=$U/moved"'
  local-data: '_smtp._tls.slow.example. TXT "v=TLSRPTv1; rua=$U/slow"'
  local-data: '_smtp._tls.mixed.example. TXT "v=spf1 -all"'
  local-data: '_smtp._tls.mixed.example. TXT "v=TLSRPTv1; rua=https://other.example:$HTTPS_PORT/ok"'
  local-data: '_smtp._tls.two.example. TXT "v=TLSRPTv1; rua=$U/ok"'
  local-data: '_smtp._tls.two.example. TXT "v=TLSRPTv1; rua=$U/created"'
  local-data: '_smtp._tls.badrec.example. TXT "v=TLSRPTv1; rua=$U/ok extra"'
  local-data: '_smtp._tls.baduri.example. TXT "v=TLSRPTv1; rua=ftp://x.example/,$U/ok!x"'
  local-data: '_smtp._tls.lower.example. TXT "v=tlsrptv1; rua=$U/ok"'
  local-data: '_smtp._tls.today.example. TXT "v=TLSRPTv1; rua=$U/created"'
  local-data: 'nothing.example. A 127.0.0.1'
  local-data: '_smtp._tls.dane.example. TXT "v=TLSRPTv1; rua=$U/ok?from=dane"'
  local-data: '_smtp._tls.mx.danehost.example. TXT "v=TLSRPTv1; rua=$U/created?from=mxhost"'
  local-zone: "refused.example." refuse
$(dns_auth_zone signed.example "$T/signed.zone.signed")
$(dns_auth_zone bogus.example "$T/bogus.zone.signed")
ZONES
start_unbound "$T/zones"
for r in servfail:SERVFAIL refused:REFUSED; do
    [ "$(dns_rcode "_smtp._tls.${r%%:*}.example" TXT)" = "${r#*:}" ] ||
        fail "${r%%:*}.example: unbound answers $(dns_rcode "_smtp._tls.${r%%:*}.example" TXT)"
done

write_conf "$T/a.conf" "resolver=$DNS_RESOLVER" "dnssec_trust_anchor_file=$T/ta.keys" \
    "https_ca_file=$T/ca.pem" "https_allow_private=yes" "https_timeout=3s" \
    "send_window=0" "report_from=tlsrpt@sender.test" "dane_host_reports=yes" $DKIM_CONF
A() { "$AGENT" -c "$T/a.conf" "$@"; }
D=$(days_ago 2)
DOMAINS="ok created several fail missing moved slow mixed two badrec baduri lower nothing servfail refused signed bogus"
for d in $DOMAINS; do dgram $d.example; dgram $d.example fail; done | put_outcomes "$D"
# A DANE failure at an MX host that publishes its own record (dane_host_reports = yes).
printf '%s\n' '{"dpv":"1","d":"dane.example","pr":"v=TLSRPTv1;","policies":[{"policy-type":1,"policy-domain":"mx.danehost.example","policy-string":["3 1 1 ABCD"],"failure-details":[{"c":304,"s":"192.0.2.1","n":"mx.danehost.example","r":"198.51.100.9"}],"t":1,"f":1}]}' | put_outcomes "$D"
dgram today.example | put_outcomes "$(today)"

# run: silent on success, exit 0 although some endpoints fail.
A run > "$T/run.out" 2> "$T/run.err" || fail "run exited $? ($(cat "$T/run.err"))"
[ ! -s "$T/run.out" ] || fail "run printed on stdout: $(cat "$T/run.out")"
[ ! -s "$T/run.err" ] || fail "run was not silent: $(cat "$T/run.err")"
posts > "$T/p1" || fail "a body is not a valid gzip report"
has() { grep -q "^$1 application/tlsrpt+gzip [^ ]*\.$2\.example\.otr-[0-9a-f]*@sender.test $2.example\$" "$T/p1" || fail "no POST of $2 to $1: $(cat "$T/p1")"; }
count() { grep -c " $1.example\$" "$T/p1" || true; }
has /ok ok
has /created created
has /fail several
has /created several
has /fail fail
has /missing missing
has /moved moved
has /slow slow
has /ok mixed
has "/ok?from=signed" signed
grep -q '^/ok?from=dane application/tlsrpt+gzip [0-9]*\.dane\.example\.otr-[0-9a-f]*@sender.test mx.danehost.example$' "$T/p1" || fail "dane.example: no report"
has "/created?from=mxhost" mx.danehost
for d in two badrec lower nothing servfail refused bogus today; do
    [ "$(count $d)" = 0 ] || fail "$d.example must not get a report"
done
[ "$(count baduri)" = 0 ] || fail "baduri: a URI with an unencoded ! was used"
[ "$(grep -c '^/ok ' "$T/p1")" = 2 ] || fail "301 was followed: $(cat "$T/p1")"
pass "discovery and first delivery"

# The body is the report that `report` prints, byte for byte.
n=$(grep -n ' ok.example$' "$T/p1" | head -1 | cut -d: -f1)
"$PY" "$top_srcdir/tests/tools/https_bodies.py" "$DATA/tlsrpt-report.schema.json" "$T/posts" --json "$n" > "$T/body.json"
A report --day "$D" --domain ok.example > "$T/report.json"
[ "$(cat "$T/body.json")" = "$(cat "$T/report.json")" ] || fail "POSTed body differs from report output"
pass "the POSTed body equals report --domain output"

A report --day "$D" --with-rua > "$T/rua.out"
grep -qx "# ok.example rua: $U/ok" "$T/rua.out" || fail "--with-rua: $(grep '^#' "$T/rua.out")"
grep -qx "# several.example rua: $U/fail $U/created" "$T/rua.out" || fail "--with-rua several"
grep -qx "# two.example rua: none (no usable TLSRPT record)" "$T/rua.out" || fail "--with-rua two"
[ "$(grep -vc "^#" "$T/rua.out")" = 18 ] || fail "--with-rua changed the reports"
pass "report --with-rua"

A status --day "$D" > "$T/status"
st() { grep -q "^  $1.example  $2 " "$T/status" || fail "status of $1: want $2: $(cat "$T/status")"; }
for d in ok created several mixed signed dane mx.danehost; do st $d delivered; done
for d in fail missing moved slow servfail refused; do st $d pending; done
for d in two badrec lower baduri nothing bogus; do st $d no-record; done
grep -q "^$D  domains 19  pending 6  delivered 7  failed 0  no-record 6 " "$T/status" || fail "status summary: $(head -1 "$T/status")"
grep -q "$U/fail  not-needed" "$T/status" || fail "several: the failed endpoint is still retried after another accepted"
grep -q "$U/slow  pending  attempts 1  .*[Tt]imeout\|$U/slow  pending  attempts 1  .*timed out" "$T/status" || fail "slow: no timeout recorded: $(grep slow "$T/status")"
grep -q "$U/missing  pending  attempts 1  HTTP 404" "$T/status" || fail "404 not recorded"
grep -q "$U/moved  pending  attempts 1  HTTP 301 (redirects are not followed)" "$T/status" || fail "301 not recorded"
grep -q "$U/fail  pending  attempts 1  HTTP 500" "$T/status" || fail "500 not recorded"
pass "state after the first run"

# A second run sends nothing: delivered stays delivered, failures wait for their back-off.
before=$(ls "$T/posts" | wc -l)
A -v run 2> "$T/run2.err" || fail "second run"
[ "$(ls "$T/posts" | wc -l)" = "$before" ] || fail "second run sent again"
grep -q "0 report(s) delivered" "$T/run2.err" || fail "-v summary: $(cat "$T/run2.err")"
pass "reruns send nothing twice"

# send ignores the back-off; a delivered report goes again only with --force, same id.
A send --day "$D" --domain fail.example || fail "send --domain"
[ "$(ls "$T/posts" | wc -l)" = $((before + 1)) ] || fail "send --domain fail.example did not retry once"
A send --day "$D" --domain ok.example || fail "send ok"
[ "$(ls "$T/posts" | wc -l)" = $((before + 1)) ] || fail "send re-sent a delivered report"
A send --day "$D" --domain ok.example --force || fail "send --force"
posts > "$T/p2"
[ "$(grep -c ' ok.example$' "$T/p2")" = 2 ] || fail "--force did not resend"
[ "$(grep ' ok.example$' "$T/p2" | cut -d' ' -f3 | sort -u | wc -l)" = 1 ] || fail "resend changed the report-id"
pass "send, --domain, --force"

# The current day is left alone by run, and sent by send on request.
A send --day "$(today)" || fail "send today"
posts | grep -q ' today.example$' || fail "send --day today did not deliver"
pass "send for the current day"

# Without https_allow_private, a loopback endpoint is refused and logged, not contacted.
n=$(ls "$T/posts" | wc -l)
"$AGENT" -c "$T/a.conf" -o https_allow_private=no -v send --day "$D" --domain missing.example 2> "$T/priv.err" || fail "send private"
[ "$(ls "$T/posts" | wc -l)" = "$n" ] || fail "a private address was contacted"
grep -q "refused: reports.example resolves only to private" "$T/priv.err" || fail "no refusal logged: $(cat "$T/priv.err")"
pass "private addresses refused"

# Certificate verification is on by default: without the test CA the TLS handshake fails.
"$AGENT" -c "$T/a.conf" -o https_ca_file= -v send --day "$D" --domain moved.example 2> "$T/ca.err" || fail "send without CA"
grep -qi "certificate" "$T/ca.err" || fail "no certificate error: $(cat "$T/ca.err")"
pass "certificate verification"

# A second run while one holds the lock: a notice and exit 0.
need flock
flock "$T/spool/agent.lock" -c "\"$AGENT\" -c \"$T/a.conf\" run" 2> "$T/lock.err" || fail "locked run exited non-zero"
grep -q "in progress" "$T/lock.err" || fail "no notice about the lock: $(cat "$T/lock.err")"
pass "lock"

# deliver_to = file: writes instead of sending.
"$AGENT" -c "$T/a.conf" -o "deliver_to=file:$T/out" send --day "$D" --domain created.example --force || fail "file: send"
ls "$T/out"/*created.example*.json.gz >/dev/null 2>&1 || fail "deliver_to=file: wrote nothing"
pass "deliver_to = file:"
