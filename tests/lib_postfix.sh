# A private Postfix for shell tests (needs root), sourced after tests/lib.sh and
# tests/lib_dns.sh: configuration and queue in $PF ($T/pf), log in $PF/maillog, smtpd only
# on 127.0.0.1, every service unchrooted; stopped when the test ends.
#
#   postfix_start HOSTNAME PORT MAIN [MASTER]   main.cf is the common part plus the lines
#                                               MAIN; smtpd listens on 127.0.0.1:PORT, and
#                                               the master.cf lines MASTER are added
#   postfix_virtual DOMAIN                      prints MAIN lines that store mail for
#                                               tlsrpt@DOMAIN in the maildir
#                                               $T/mail/tlsrpt/ and relay for 127.0.0.0/8
PF="$T/pf"

# postfix_base DIR: what every private instance shares (also tests/e2e/bed.sh's): queue
# and data in DIR, its log in DIR/maillog, DIR/main.cf's common lines, and DIR/master.cf
# as Debian's without chroot.
postfix_base() {
    local dir=$1
    mkdir -p "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    cat > "$dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
maillog_file_prefixes = $T
maillog_file = $dir/maillog
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
EOF
    awk '/^[a-z].*(inet|unix|fifo|pass|unix-dgram)[ \t]/ { $5 = "n" } { print }' \
        /etc/postfix/master.cf > "$dir/master.cf"
}

postfix_start() {
    local host=$1 port=$2 main=$3 master=${4:-}
    need postfix script
    chmod 0755 "$T" # Postfix's daemons run as postfix and nobody
    postfix_base "$PF"
    printf 'inet_interfaces = 127.0.0.1\nmyhostname = %s\nmydestination =\n%s\n' "$host" "$main" \
        >> "$PF/main.cf"
    awk -v port="$port" -v master="$master" '
        /^smtp[ \t]+inet/ {
            print "127.0.0.1:" port " inet n - n - - smtpd"
            if (master != "") print master
            next
        }
        { print }' "$PF/master.cf" > "$PF/master.cf.new" && mv "$PF/master.cf.new" "$PF/master.cf"
    at_exit postfix_stop
    script -qc "postfix -c $PF start" /dev/null > "$T/postfix-start.log" 2>&1 ||
        { cat "$T/postfix-start.log" "$PF/maillog" 2>/dev/null; fail "postfix did not start"; }
    wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

postfix_stop() {
    script -qc "postfix -c $PF stop" /dev/null >/dev/null 2>&1
    local pid
    pid=$(tr -d ' ' < "$PF/queue/pid/master.pid" 2>/dev/null)
    [ -n "$pid" ] || return 0
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
}

postfix_virtual() {
    mkdir -p "$PF" "$T/mail"
    chown nobody:nogroup "$T/mail"
    echo "tlsrpt@$1 tlsrpt/" > "$PF/vmailbox"
    cat <<EOF
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = $1
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = texthash:$PF/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
EOF
}
