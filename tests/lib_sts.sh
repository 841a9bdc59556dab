# MTA-STS test world, sourced after tests/lib.sh and tests/lib_dns.sh: a test CA made with
# openssl, nginx (run as root with a private config, everything under $T) serving
# https://mta-sts.<domain>/.well-known/mta-sts.txt for the test domains on $STS_IP:443, and
# unbound answering their _mta-sts TXT records and mta-sts A records.
#
#   sts_ca                              makes $T/ca.pem and sts_cert NAME SAN... certificates
#   sts_site DOMAIN KIND [POLICY_FILE]  declares a policy host; KIND: file (serve the file),
#                                       status:N, redirect, ctype (text/html), slow:SECONDS,
#                                       wrongname, expired
#   sts_txt DOMAIN ID                   publishes _mta-sts.DOMAIN (ID "" removes it)
#   start_sts_world                     starts nginx and unbound with what was declared
#   sts_nginx [PREFIX...]               starts only nginx (PREFIX: e.g. ip netns exec NS)
#   sts_zone_records                    the declared records as zone file lines
#   sts_dns_reload                      restarts unbound on the same port with new records
# An address of its own per test process, so that tests running at once do not collide on :443.
STS_IP=127.83.$(( ($$ / 250) % 250 + 1 )).$(( $$ % 250 + 1 ))
: > "$T/sts_sites.conf"
: > "$T/sts_zone"

sts_cert() {
    local name=$1; shift
    local san="" d
    for d in "$@"; do san="${san:+$san,}DNS:$d"; done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$name.key" \
        -out "$T/$name.csr" -subj "/CN=$1" 2>/dev/null || fail "openssl req $name"
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" > "$T/$name.ext"
    openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
        -days "${STS_CERT_DAYS:-2}" -extfile "$T/$name.ext" -out "$T/$name.pem" 2>/dev/null \
        || fail "openssl x509 $name"
}

sts_ca() {
    need openssl
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
        -out "$T/ca.pem" -subj "/CN=opentlsrpt test CA" -days 2 2>/dev/null || fail "openssl CA"
}

sts_site() {
    local domain=$1 kind=$2 file=${3:-} cert=good body
    case $kind in
        file) body="alias $file;" ;;
        status:*) body="return ${kind#status:};" ;;
        redirect) body="return 301 https://mta-sts.$domain/elsewhere.txt;" ;;
        ctype) body="default_type text/html; alias $file;" ;;
        slow:*) body="echo_sleep ${kind#slow:}; $(sed 's/^\(.*\)$/echo "\1";/' "$file" | tr '\n' ' ')" ;;
        wrongname) body="alias $file;"; cert=wrongname ;;
        expired) body="alias $file;"; cert=expired ;;
        *) fail "sts_site: unknown kind $kind" ;;
    esac
    cat >> "$T/sts_sites.conf" <<EOF
    server {
        listen $STS_IP:443 ssl;
        server_name mta-sts.$domain;
        ssl_certificate $T/$cert.pem;
        ssl_certificate_key $T/$cert.key;
        location = /.well-known/mta-sts.txt { $body }
    }
EOF
    echo "  local-data: 'mta-sts.$domain. 1 IN A $STS_IP'" >> "$T/sts_zone"
    STS_GOOD_NAMES="${STS_GOOD_NAMES:-} mta-sts.$domain"
}

sts_txt() {
    sed -i "/_mta-sts\\.$1\\. /d" "$T/sts_zone"
    [ -z "$2" ] || echo "  local-data: '_mta-sts.$1. 1 IN TXT \"v=STSv1; id=$2\"'" >> "$T/sts_zone"
}

# sts_nginx [PREFIX...]: the certificates and nginx serving the sites declared; PREFIX runs
# nginx elsewhere (tests/e2e/bed.sh: "ip netns exec NS", with STS_IP in the namespace).
sts_nginx() {
    need nginx openssl
    [ "$(id -u)" = 0 ] || skip "nginx must bind $STS_IP:443: run as root"
    [ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] ||
        skip "nginx's echo module is missing (Debian nginx-light ships it)"
    # shellcheck disable=SC2086
    sts_cert good $STS_GOOD_NAMES
    sts_cert wrongname mta-sts.someone-else.example
    STS_CERT_DAYS=-1 sts_cert expired $STS_GOOD_NAMES
    mkdir -p "$T/nginx-tmp"
    cat > "$T/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
user root;
worker_processes 1;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx.log info;
events { worker_connections 64; }
http {
    access_log $T/nginx-access.log;
    client_body_temp_path $T/nginx-tmp/body;
    proxy_temp_path $T/nginx-tmp/proxy;
    fastcgi_temp_path $T/nginx-tmp/fastcgi;
    uwsgi_temp_path $T/nginx-tmp/uwsgi;
    scgi_temp_path $T/nginx-tmp/scgi;
    types { }
    default_type text/plain;
$(cat "$T/sts_sites.conf")
}
EOF
    "$@" nginx -t -c "$T/nginx.conf" >"$T/nginx-check.log" 2>&1 || fail "bad nginx.conf: $(cat "$T/nginx-check.log")"
    # (a PREFIX like ip netns exec execs nginx: $! is nginx itself, for stop_nginx)
    "$@" nginx -c "$T/nginx.conf" >>"$T/nginx.log" 2>&1 &
    NGINX_PID=$!
    at_exit stop_nginx
    wait_for 10 grep -q "start worker process" "$T/nginx.log"
}

start_sts_world() {
    need unbound
    sts_nginx
    { echo '  local-zone: "example." static'; cat "$T/sts_zone"; } > "$T/sts_unbound"
    start_unbound "$T/sts_unbound"
}

# sts_zone_records: what sts_site and sts_txt declared, as zone file lines (for a signed zone
# instead of unbound's local-data).
sts_zone_records() { sed -n "s/^  local-data: '\(.*\)'\$/\1/p" "$T/sts_zone"; }

stop_nginx() {
    if [ -n "${NGINX_PID:-}" ]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    NGINX_PID=
}

# Restarts unbound on the same port with the current records (it has no remote control).
sts_dns_reload() {
    stop_unbound
    { echo '  local-zone: "example." static'; cat "$T/sts_zone"; } > "$T/sts_unbound"
    awk -v new="$T/sts_unbound" '
        /^remote-control:/ { while ((getline l < new) > 0) print l; skip = 0 }
        !skip { print }
        /local-zone: "\." refuse/ { skip = 1 }' "$T/unbound.conf" > "$T/unbound.conf.new"
    mv "$T/unbound.conf.new" "$T/unbound.conf"
    : > "$T/unbound.log"
    unbound -d -c "$T/unbound.conf" >>"$T/unbound.log" 2>&1 &
    UNBOUND_PID=$!
    wait_for 10 grep -q "start of service" "$T/unbound.log"
}

# q KEY: the socketmap answer for KEY as Postfix's own client prints it ("NOTFOUND" when
# postmap finds nothing).
q() {
    local out
    if out=$(postmap -c "$T/pfq" -q "$1" "socketmap:$POLICY_SOCKET:sts" 2>>"$T/postmap.log"); then
        printf '%s\n' "$out"
    else
        echo NOTFOUND
    fi
}

# expect KEY WANT: the answer must be WANT, byte for byte.
expect() {
    local got
    got=$(q "$1")
    [ "$got" = "$2" ] || fail "$1: got \"$got\", want \"$2\""
    pass "$1 -> $2"
}

# eventually KEY WANT: waits (background fetches) until the answer is WANT.
eventually() {
    local end=$((SECONDS + ${3:-15})) got
    while :; do
        got=$(q "$1")
        [ "$got" = "$2" ] && { pass "$1 -> $2"; return 0; }
        [ "$SECONDS" -lt "$end" ] || fail "$1: got \"$got\", want \"$2\""
        sleep 0.2
    done
}

mkdir -p "$T/pfq"
printf 'compatibility_level = 3.6\n' > "$T/pfq/main.cf"
