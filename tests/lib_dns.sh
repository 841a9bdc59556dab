# DNS for shell tests, sourced after tests/lib.sh: a real unbound on 127.0.0.1 at a free
# port, answering only what the test gives it (everything else is REFUSED, so nothing ever
# leaves the machine), and zones signed in the test with ldnsutils.
#
#   dns_tlsrpt_zone ORIGIN RUA       prints a zone file for ORIGIN: SOA, NS and the TLSRPT
#                                    record "v=TLSRPTv1; rua=RUA"
#   dns_sign_zone ORIGIN ZONEFILE    signs ZONEFILE into ZONEFILE.signed and adds its key
#                                    to the trust anchor file $T/ta.keys
#   dns_servfail_zone ORIGIN ZONEFILE
#                                    signs ZONEFILE and strips the signatures of its data
#                                    (not of its DNSKEY); unbound, given that key as its own
#                                    trust anchor (not in $T/ta.keys), validates ORIGIN and
#                                    answers SERVFAIL to clients that do not set CD, like a
#                                    real resolver facing a broken signed zone. Call it
#                                    before start_unbound, which serves the zone.
#   dns_heal_zone ORIGIN             puts ORIGIN's properly signed data back and reloads
#                                    unbound (its cache goes too); returns once it answers
#   dns_rcode NAME TYPE              prints the rcode unbound gives a plain query (kdig)
#   start_unbound FILE               starts unbound with FILE's lines in its server: clause
#                                    (local-zone/local-data/auth-zone...); sets DNS_PORT
#                                    and DNS_RESOLVER (the value for the resolver setting)
# Test names must not be under .test/.invalid/.localhost: libunbound answers those itself.

# free_port: prints a TCP+UDP port on 127.0.0.1 that nobody listens on right now.
free_port() {
    /usr/bin/python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
EOF
}

dns_tlsrpt_zone() {
    printf '$ORIGIN %s.\n$TTL 3600\n' "$1"
    printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$1" "$1"
    printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$1"
    printf '_smtp._tls IN TXT "v=TLSRPTv1; rua=%s"\n' "$2"
}

# dns_sign ORIGIN ZONEFILE KEYS: signs ZONEFILE into ZONEFILE.signed with a new key and adds
# that key to the trust anchor file KEYS.
# dns_auth_zone NAME ZONEFILE: unbound lines that serve the signed ZONEFILE as NAME to
# clients (for-downstream), validated with the trust anchor. They open clauses of their
# own: put them after the file's local-zone and local-data lines.
dns_auth_zone() {
    printf 'server:\n  local-zone: "%s." transparent\n' "$1"
    printf 'auth-zone:\n  name: "%s."\n  zonefile: "%s"\n  for-downstream: yes\n  for-upstream: no\n' \
        "$1" "$2"
}

# dns_dkim_key NAME TAGS PEM: an unbound local-data line publishing PEM's public key at
# NAME as "v=DKIM1; TAGS p=...", the key split into TXT strings of at most 200 bytes.
dns_dkim_key() {
    local p
    p=$(openssl pkey -in "$3" -pubout -outform DER | base64 -w0) || fail "public key of $3"
    printf "  local-data: '%s TXT \"v=DKIM1; %s p=%s\" \"%s\"'\n" "$1" "$2" \
        "$(printf %s "$p" | cut -c1-200)" "$(printf %s "$p" | cut -c201-)"
}

dns_sign() {
    local origin=$1 zone=$2 key
    need ldns-keygen ldns-signzone
    key=$(cd "$T" && ldns-keygen -a ED25519 -k "$origin")
    (cd "$T" && ldns-signzone -o "$origin." "$zone" "$key") || fail "ldns-signzone $zone"
    cat "$T/$key.key" >> "$3"
}

dns_sign_zone() { dns_sign "$1" "$2" "$T/ta.keys"; }

dns_servfail_zone() {
    local origin=$1 zone=$2
    need kdig
    dns_sign "$origin" "$zone" "$T/unbound-ta.keys"
    mv "$zone.signed" "$zone.good"
    # Unsigned data under a trust anchor is bogus; with no RRSIG at all but the DNSKEY's, every
    # answer from the zone (data, NODATA, NXDOMAIN) is.
    awk '$4 != "RRSIG" || $5 == "DNSKEY"' "$zone.good" > "$zone.signed"
    grep -q RRSIG "$zone.signed" || fail "$zone: the DNSKEY signature went too"
    # The iterator, not the authoritative side, reads the zone: so the validator sees it.
    printf '  local-zone: "%s." transparent\n' "$origin" >> "$T/unbound-servfail.server"
    printf 'auth-zone:\n  name: "%s."\n  zonefile: "%s"\n  for-downstream: no\n  for-upstream: yes\n' \
        "$origin" "$zone.signed" >> "$T/unbound-servfail.zones"
    printf '%s %s\n' "$origin" "$zone" >> "$T/unbound-servfail.list"
}

dns_heal_zone() {
    local zone
    zone=$(awk -v o="$1" '$1 == o { print $2 }' "$T/unbound-servfail.list")
    [ -n "$zone" ] || fail "dns_heal_zone: $1 is not a dns_servfail_zone"
    cp "$zone.good" "$zone.signed"
    # SIGHUP rereads the configuration and zone files and empties the caches.
    kill -HUP "$UNBOUND_PID"
    wait_for 10 dns_answers "$1"
}

dns_answers() { [ "$(dns_rcode "$1" SOA)" = NOERROR ]; }

dns_rcode() {
    kdig -p "$DNS_PORT" @127.0.0.1 +retry=0 +timeout=5 +nocd "$2" "$1" |
        sed -n 's/^;; ->>HEADER<<- .*status: \([A-Z]*\).*/\1/p'
}

start_unbound() {
    local extra=$1
    need unbound
    DNS_PORT=$(free_port)
    DNS_RESOLVER="127.0.0.1@$DNS_PORT"
    cat > "$T/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $DNS_PORT
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$T"
  pidfile: ""
  use-syslog: no
  logfile: "$T/unbound.log"
  verbosity: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  local-zone: "." refuse
$(if [ -s "$T/unbound-servfail.list" ]; then
    echo "  trust-anchor-file: \"$T/unbound-ta.keys\""
    cat "$T/unbound-servfail.server"
fi)
$(cat "$extra")
$([ ! -s "$T/unbound-servfail.list" ] || cat "$T/unbound-servfail.zones")
remote-control:
  control-enable: no
EOF
    unbound-checkconf "$T/unbound.conf" >/dev/null || fail "bad unbound.conf: $(unbound-checkconf "$T/unbound.conf" 2>&1)"
    unbound -d -c "$T/unbound.conf" >>"$T/unbound.log" 2>&1 &
    UNBOUND_PID=$!
    at_exit stop_unbound
    wait_for 10 grep -q "start of service" "$T/unbound.log"
}

stop_unbound() {
    if [ -n "${UNBOUND_PID:-}" ]; then
        kill -TERM "$UNBOUND_PID" 2>/dev/null || true
        wait "$UNBOUND_PID" 2>/dev/null || true
    fi
    UNBOUND_PID=
}
