# DNS for shell tests, sourced after tests/lib.sh: a real unbound on 127.0.0.1 at a free
# port, answering only what the test gives it (everything else is REFUSED, so nothing ever
# leaves the machine), and zones signed in the test with ldnsutils.
#
#   dns_sign_zone ORIGIN ZONEFILE    signs ZONEFILE into ZONEFILE.signed and adds its key
#                                    to the trust anchor file $T/ta.keys
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

dns_sign_zone() {
    local origin=$1 zone=$2 key
    need ldns-keygen ldns-signzone
    key=$(cd "$T" && ldns-keygen -a ED25519 -k "$origin")
    (cd "$T" && ldns-signzone -o "$origin." "$zone" "$key") || fail "ldns-signzone $zone"
    cat "$T/$key.key" >> "$T/ta.keys"
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
$(cat "$extra")
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
