# The end-to-end test bed, sourced after tests/lib.sh: a network namespace of the test's own
# holding a DNSSEC-validating unbound (signed zone "test."), one Postfix MX instance with a
# listener per certificate case, and the sending Postfix 3.7 instance (dane + dnssec) whose
# maillog_file the log follower reads. Everything is stopped and removed by at_exit cleanups.
# With tests/lib_sts.sh sourced too, bed_sts serves MTA-STS policies from nginx.
#
# Addresses (inside the namespace only):
#   127.0.10.1  unbound          127.0.8.1  sending Postfix (smtp_bind_address)
#   127.0.9.N   one MX listener per case (BED_CASES, N = position)
#   127.0.11.1  nginx, the MTA-STS policy hosts (bed_sts)

. "$top_srcdir/tests/lib_postfix.sh" # postfix_base

# every case is the recipient domain <case>.$BED_TLD, MX mx.<case>.$BED_TLD; stsok and
# stsbad are MTA-STS enforce domains when bed_sts publishes their policies (else opportunistic)
BED_CASES="good expired wrongname untrusted selfsigned nostarttls daneok danebad stsok stsbad"
# BED_RUA_<case>: that case's rua instead of mailto:tlsrpt@<case>.$BED_TLD (set before bed_dns)
# BED_POLICY_SOCKET: when set (e.g. unix:/path), the sender also asks that opentlsrpt policy
# service (socketmap ...:sts) after its texthash map
BED_POLICY_SOCKET=""
# The zone: not .test, which libunbound (the daemon's and agent's resolver) answers itself.
BED_TLD=example
BED_NS=""
BED_ETC=""

bed_ip() { # bed_ip CASE: the MX address of a case
    local n=1 c
    for c in $BED_CASES; do
        [ "$c" = "$1" ] && { echo "127.0.9.$n"; return; }
        n=$((n + 1))
    done
    return 1
}

bed_exec() { ip netns exec "$BED_NS" "$@"; }

# bed_netns: the namespace, its loopback addresses, and its /etc overlay (hosts, resolv.conf
# and a private /etc/postfix whose main.cf admits the test's config directories).
bed_netns() {
    need ip unbound ldns-signzone ldns-keygen postfix openssl
    BED_NS="otr-e2e-$$"
    BED_ETC="/etc/netns/$BED_NS"
    ip netns add "$BED_NS" || skip "cannot create a network namespace (needs CAP_SYS_ADMIN)"
    at_exit "bed_netns_remove"
    bed_exec ip link set lo up
    bed_exec ip addr add 127.0.8.1/32 dev lo
    bed_exec ip addr add 127.0.10.1/32 dev lo
    bed_exec ip addr add 127.0.11.1/32 dev lo
    local c
    for c in $BED_CASES; do bed_exec ip addr add "$(bed_ip "$c")/32" dev lo; done
    mkdir -p "$BED_ETC"
    cp -a /etc/postfix "$BED_ETC/postfix"
    rm -f "$BED_ETC/postfix/main.cf"
    {
        echo "compatibility_level = 3.6"
        echo "alternate_config_directories = $T/pf-send $T/pf-mx"
        echo "multi_instance_directories ="
    } > "$BED_ETC/postfix/main.cf"
    printf 'nameserver 127.0.10.1\noptions trust-ad\n' > "$BED_ETC/resolv.conf"
    printf '127.0.0.1 localhost\n127.0.8.1 sender.%s\n' "$BED_TLD" > "$BED_ETC/hosts"
    # Postfix daemons drop to the postfix user and still open files under $T.
    chmod 0755 "$T"
}

bed_netns_remove() {
    if [ -n "$BED_NS" ]; then
        # Anything still running inside dies with the namespace's last reference.
        local p
        for p in $(ip netns pids "$BED_NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$BED_NS" 2>/dev/null
        rm -rf "$BED_ETC"
    fi
}

# bed_certs: a trusted CA, an untrusted CA, and a certificate per case in $T/certs.
bed_certs() {
    local d="$T/certs" c
    mkdir -p "$d" && cd "$d"
    for ca in ca badca; do
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$ca.key" -out "$ca.pem" -days 30 \
            -subj "/CN=opentlsrpt test $ca" >/dev/null 2>&1
    done
    # `openssl ca` is the tool that can put a validity period in the past.
    mkdir -p db && : > db/index && echo 1000 > db/serial
    cat > ca.cnf <<EOF
[ca]
default_ca = d
[d]
database = $d/db/index
serial = $d/db/serial
new_certs_dir = $d/db
default_md = sha256
policy = p
unique_subject = no
copy_extensions = copy
[p]
commonName = supplied
EOF
    for c in $BED_CASES; do
        local cn="mx.$c.$BED_TLD" issuer=ca dates="-days 30"
        case $c in
            wrongname | stsbad) cn="mx.elsewhere.$BED_TLD" ;;
            untrusted) issuer=badca ;;
            expired | ststest) dates="-startdate 20200101000000Z -enddate 20200201000000Z" ;;
        esac
        if [ "$c" = selfsigned ]; then
            openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c.key" -out "$c.pem" -days 30 \
                -subj "/CN=$cn" -addext "subjectAltName=DNS:$cn" >/dev/null 2>&1
            continue
        fi
        openssl req -newkey rsa:2048 -nodes -keyout "$c.key" -out "$c.csr" -subj "/CN=$cn" \
            -addext "subjectAltName=DNS:$cn" >/dev/null 2>&1
        # shellcheck disable=SC2086
        openssl ca -batch -config ca.cnf -cert "$issuer.pem" -keyfile "$issuer.key" $dates \
            -in "$c.csr" -out "$c.pem" -notext >/dev/null 2>&1 || fail "cannot issue $c"
    done
    chmod 0644 ./*.key
    cd - >/dev/null
}

# bed_dns [EXTRA-ZONE-LINES-FILE]: the signed zone "test." and unbound serving it validated.
bed_dns() {
    local d="$T/dns" c ip
    mkdir -p "$d"
    {
        echo "\$ORIGIN $BED_TLD."
        echo '$TTL 300'
        echo "@ SOA ns.$BED_TLD. hostmaster.$BED_TLD. 1 3600 600 86400 300"
        echo "@ NS ns.$BED_TLD."
        echo 'ns A 127.0.10.1'
        echo 'sender A 127.0.8.1'
        for c in $BED_CASES; do
            ip=$(bed_ip "$c")
            echo "$c MX 10 mx.$c.$BED_TLD."
            echo "mx.$c A $ip"
            echo "_smtp._tls.$c TXT \"v=TLSRPTv1; rua=$(bed_rua "$c")\""
        done
        local h
        h=$(openssl x509 -in "$T/certs/daneok.pem" -noout -pubkey |
            openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
        echo "_25._tcp.mx.daneok TLSA 3 1 1 $h"
        echo "_25._tcp.mx.danebad TLSA 3 1 1 $(printf '%064d' 0)"
        [ $# -gt 0 ] && cat "$1"
    } > "$d/test.zone"
    (cd "$d" && ldns-keygen -a ECDSAP256SHA256 -k $BED_TLD. > ksk.name &&
        ldns-keygen -a ECDSAP256SHA256 $BED_TLD. > zsk.name &&
        ldns-signzone -n -o $BED_TLD. test.zone "$(cat zsk.name)" "$(cat ksk.name)") >/dev/null 2>&1 ||
        fail "cannot sign the test zone"
    cp "$d/$(cat "$d/ksk.name").ds" "$d/anchor.ds"
    cat > "$d/unbound.conf" <<EOF
server:
    interface: 127.0.10.1
    port: 53
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    use-syslog: no
    logfile: "$d/unbound.log"
    verbosity: 1
    trust-anchor-file: "$d/anchor.ds"
    module-config: "validator iterator"
    do-not-query-localhost: no
    val-log-level: 2
    local-zone: "$BED_TLD." nodefault
auth-zone:
    name: "$BED_TLD."
    zonefile: "$d/test.zone.signed"
    for-upstream: yes
    for-downstream: no
    fallback-enabled: no
EOF
    bed_exec unbound -c "$d/unbound.conf" || fail "unbound did not start"
    at_exit "bed_stop_pidfile $d/unbound.pid"
    wait_for 10 bed_exec kdig +short @127.0.10.1 sender.$BED_TLD A
    bed_exec kdig +dnssec @127.0.10.1 mx.daneok.$BED_TLD A | grep -qi '^;; flags:.* ad' ||
        fail "unbound does not validate the test zone"
}

bed_rua() {
    local v
    eval "v=\${BED_RUA_$1:-}"
    echo "${v:-mailto:tlsrpt@$1.$BED_TLD}"
}

# bed_sts CASE...: an MTA-STS enforce policy naming mx.<case> for each case, served by nginx
# in the namespace (tests/lib_sts.sh, CA $T/ca.pem); the policy hosts' A and _mta-sts TXT
# records go to $T/sts.zone, for bed_dns. Run after bed_netns, before bed_dns.
bed_sts() {
    local c
    STS_IP=127.0.11.1
    sts_ca
    for c in "$@"; do
        printf 'version: STSv1\nmode: enforce\nmx: mx.%s.%s\nmax_age: 86400\n' "$c" "$BED_TLD" \
            > "$T/sts-$c.txt"
        sts_site "$c.$BED_TLD" file "$T/sts-$c.txt"
        sts_txt "$c.$BED_TLD" "${c}1" # an id is letters and digits only (RFC 8461 3.1)
    done
    sts_nginx ip netns exec "$BED_NS"
    sts_zone_records > "$T/sts.zone"
}

bed_stop_pidfile() {
    [ -f "$1" ] || return 0
    local p
    p=$(cat "$1")
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
}

# bed_postfix_base DIR: main.cf lines every instance shares; master.cf without chroot
# (Debian's chroots most daemons into the queue; a private instance does not).
bed_postfix_base() { postfix_base "$1"; }

bed_postfix_start() {
    local dir=$1
    bed_exec script -qc "postfix -c $dir start" /dev/null >/dev/null ||
        { cat "$dir/maillog" 2>/dev/null; fail "postfix -c $dir did not start"; }
    at_exit "bed_exec postfix -c $dir stop >/dev/null 2>&1"
}

# bed_mx: one Postfix with a listener per case, each with its own certificate; discards mail.
bed_mx() {
    local dir="$T/pf-mx" c ip doms="" ifs=""
    bed_postfix_base "$dir"
    for c in $BED_CASES; do doms="$doms $c.$BED_TLD"; ifs="$ifs $(bed_ip "$c")"; done
    cat >> "$dir/main.cf" <<EOF
myhostname = mx.$BED_TLD
inet_interfaces =$ifs
mydestination =$doms
local_transport = discard:
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/certs/good.pem
smtpd_tls_key_file = $T/certs/good.key
smtpd_banner = \$myhostname ESMTP
EOF
    sed -i '/^smtp[ \t]*inet/d' "$dir/master.cf"
    for c in $BED_CASES; do
        ip=$(bed_ip "$c")
        if [ "$c" = nostarttls ]; then
            echo "$ip:25 inet n - n - - smtpd -o myhostname=mx.$c.$BED_TLD -o smtpd_tls_security_level=none"
        else
            local chain="$T/certs/$c.pem"
            # A real server sends its intermediate/issuer; clients still decide trust.
            echo "$ip:25 inet n - n - - smtpd -o myhostname=mx.$c.$BED_TLD -o smtpd_tls_cert_file=$chain -o smtpd_tls_key_file=$T/certs/$c.key"
        fi
    done >> "$dir/master.cf"
    bed_postfix_start "$dir"
    wait_for 20 bed_exec bash -c "exec 3<>/dev/tcp/$(bed_ip good)/25"
}

# bed_sender POLICY-MAP-LINES: the sending Postfix; extra TLS policy entries go to its
# smtp_tls_policy_maps (e.g. "expired.$BED_TLD secure").
bed_sender() {
    local dir="$T/pf-send"
    bed_postfix_base "$dir"
    cat >> "$dir/main.cf" <<EOF
myhostname = sender.$BED_TLD
mydomain = sender.$BED_TLD
myorigin = sender.$BED_TLD
mydestination =
inet_interfaces = 127.0.8.1
smtp_bind_address = 127.0.8.1
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
smtp_tls_CAfile = $T/certs/ca.pem
smtp_tls_loglevel = 1
smtp_tls_session_cache_database = btree:\${data_directory}/smtp_scache
smtp_tls_policy_maps = texthash:$dir/tls_policy${BED_POLICY_SOCKET:+, socketmap:$BED_POLICY_SOCKET:sts}
# Each message is tried once while the test runs, so the expected counts are exact.
minimal_backoff_time = 3600s
maximal_backoff_time = 4000s
queue_run_delay = 3600s
EOF
    printf '%s\n' "$@" > "$dir/tls_policy"
    sed -i '/^smtp[ \t]*inet/d' "$dir/master.cf"
    bed_postfix_start "$dir"
}

# bed_send FROM TO SUBJECT [MESSAGE-ID]: one message through the sender's sendmail.
bed_send() {
    local mid=${4:-"<$(date +%s%N).$RANDOM@sender.$BED_TLD>"}
    printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\n\nhello\n' "$1" "$2" "$3" "$mid" |
        bed_exec sendmail -C "$T/pf-send" -f "$1" "$2" || fail "sendmail refused $2"
}

# bed_settle SECONDS: wait until the sender's queue holds nothing but deferred mail that has
# been tried (active and incoming empty, no recent delivery attempts).
bed_settle() {
    local limit=$1 end=$((SECONDS + $1)) q="$T/pf-send/queue"
    while [ "$SECONDS" -lt "$end" ]; do
        if [ -z "$(find "$q/maildrop" "$q/incoming" "$q/active" -type f 2>/dev/null | head -n 1)" ]; then
            sleep 1
            [ -z "$(find "$q/maildrop" "$q/incoming" "$q/active" -type f 2>/dev/null | head -n 1)" ] && return 0
        fi
        sleep 0.5
    done
    fail "the sender's queue did not settle within ${limit}s"
}
