# Private sendmail 8.17 instances for shell tests (needs root), sourced after tests/lib.sh.
# The binaries are Debian 12's, unpacked by tests/fetch_sendmail.sh (tests/deps.sh runs it)
# into $SM_ROOT: the packages conflict with the installed postfix.
#
# sendmail logs only through syslog(3), to /dev/log. Each instance runs in a mount namespace
# of its own where /dev is a small tmpfs whose "log" is the socket of tests/tools/
# syslog_sink.py, which writes the lines to $SM_LOG as a syslog daemon would; /etc/hosts is
# $T/sm-hosts there (no DNS: the service switch says "hosts files"). Nothing outside the
# namespace changes. The daemon listens on 127.0.0.1:PORT only (no default MSA on :587).
#
#   sm_hosts "IP NAME..."...        the namespace's /etc/hosts lines (before sm_start)
#   sm_start NAME HOST PORT [MC]    builds $T/sm-NAME/sendmail.cf from m4 (the common part,
#                                   then the .mc lines MC), with its own queue, pid file and
#                                   statistics; the daemon listens on 127.0.0.1:PORT as
#                                   HOST; stopped when the test ends. The hash maps
#                                   mailertable and access are built from $T/sm-NAME/*.txt
#                                   when those exist.
#   sm_stop NAME
#   sm_run CMD...                   runs CMD (e.g. "$SM_BIN" -C ... -q) as an instance does
#   sm_readme SECTION REGEX         the example lines (indented by 4) of README's section
#                                   SECTION that match REGEX, unindented; the test fails
#                                   when there is none or one is not in opentlsrpt(8) too
SM_ROOT=${OTR_SENDMAIL:-/var/cache/opentlsrpt/sendmail}
SM_BIN="$SM_ROOT/usr/libexec/sendmail/sendmail"
SM_LOG="$T/sm-maillog"
SM_SINK_PID=

sm_need() {
    need m4 python3 unshare mount
    [ "$(id -u)" -eq 0 ] || skip "sendmail runs as root"
    [ -x "$SM_BIN" ] || skip "no sendmail in $SM_ROOT (tests/deps.sh runs tests/fetch_sendmail.sh)"
    unshare -m --propagation private true 2>/dev/null ||
        skip "no mount namespaces here (sendmail's private /dev/log needs one)"
}

sm_readme() {
    local lines
    lines=$(awk -v t="$1" '/^-+$/ && prev != "" { insec = (prev == t) }
        { if (insec && /^    [^ ]/) print substr($0, 5); prev = $0 }' "$top_srcdir/README" |
        grep -E "$2") || fail "README's section $1 has no line like $2"
    echo "$lines" | while IFS= read -r l; do
        grep -qxF "$l" "$top_srcdir/man/opentlsrpt.8" ||
            fail "README's \"$l\" is not in opentlsrpt(8)"
    done || exit 1
    echo "$lines"
}

sm_hosts() {
    printf '127.0.0.1 localhost\n' > "$T/sm-hosts"
    for l in "$@"; do echo "$l" >> "$T/sm-hosts"; done
}

# The syslog socket, started once for every instance of the test.
sm_syslog() {
    [ -z "$SM_SINK_PID" ] || return 0
    : >> "$SM_LOG"
    python3 "$top_srcdir/tests/tools/syslog_sink.py" "$T/sm-log.sock" "$SM_LOG" "$1" &
    SM_SINK_PID=$!
    at_exit "kill $SM_SINK_PID 2>/dev/null"
    wait_for 10 test -S "$T/sm-log.sock"
}

# What runs in each instance's mount namespace before sendmail: /dev with the socket of
# the syslog sink as its "log", the test's /etc/hosts. $0 is $T.
SM_NS_SETUP='
    set -e
    mount -t tmpfs -o mode=755,size=64k otr-sm-dev /dev
    mknod -m 666 /dev/null c 1 3
    mknod -m 666 /dev/zero c 1 5
    mknod -m 666 /dev/random c 1 8
    mknod -m 666 /dev/urandom c 1 9
    ln -s /proc/self/fd /dev/fd
    ln -s "$0/sm-log.sock" /dev/log
    mount --bind "$0/sm-hosts" /etc/hosts
    exec "$@"'

sm_run() {
    unshare -m --propagation private sh -c "$SM_NS_SETUP" "$T" "$@"
}

sm_start() {
    local name=$1 host=$2 port=$3 mc=${4:-} d map
    d="$T/sm-$name"
    sm_need
    sm_syslog "$host"
    mkdir -p "$d/queue"
    chmod 700 "$d/queue"
    printf 'hosts files\naliases files\n' > "$d/service.switch"
    : > "$d/aliases"
    : > "$d/statistics"
    cat > "$d/sendmail.mc" <<EOM
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$host')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confHOSTS_FILE', \`$T/sm-hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confCON_EXPENSIVE', \`false')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confTO_CONNECT', \`10s')dnl
define(\`confTO_INITIAL', \`10s')dnl
define(\`confTO_STARTTLS', \`10s')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=$port, Name=MTA')dnl
$mc
EOM
    m4 -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" \
        "$d/sendmail.mc" > "$d/sendmail.cf" || fail "m4 $d/sendmail.mc"
    for map in mailertable access; do
        [ -f "$d/$map.txt" ] || continue
        "$SM_ROOT/usr/libexec/sendmail/makemap" -C "$d/sendmail.cf" hash "$d/$map" \
            < "$d/$map.txt" 2> "$d/makemap.err" || { cat "$d/makemap.err"; fail "makemap $map"; }
    done
    [ -f "$T/sm-hosts" ] || sm_hosts
    # -bD: the daemon in the foreground, so that $! is sendmail itself.
    (exec unshare -m --propagation private sh -c "$SM_NS_SETUP" "$T" \
        "$SM_BIN" -C "$d/sendmail.cf" -bD) > "$d/start.out" 2>&1 &
    echo $! > "$d/daemon.pid"
    at_exit "sm_stop $name"
    wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

sm_stop() {
    local pid
    pid=$(cat "$T/sm-$1/daemon.pid" 2>/dev/null)
    [ -n "$pid" ] || return 0
    rm -f "$T/sm-$1/daemon.pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
