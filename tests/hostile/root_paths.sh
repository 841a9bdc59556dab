#!/bin/sh
# As root the daemon never acts by path inside a directory a less privileged user can
# write. The user it runs as owns the spool and may have put symlinks there
# for the next root start to follow; a user who can write a socket's directory may swap the
# socket for a symlink right after bind() (tests/tools/hostile_shim.so plays that user,
# winning the race every time). Each symlink points at a root-only file, which must stay as
# it was.
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root: the attack is on what root does before dropping to user"
id nobody >/dev/null 2>&1 || skip "no user nobody"
SHIM="$top_builddir/tests/tools/hostile_shim.so"
[ -f "$SHIM" ] || fail "$SHIM not built"
# The shim is not built with ASan; in the sanitizer build ASan must not insist on coming first.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
chmod 755 "$T"
group=$(id -gn nobody)
mkdir "$T/victimdir"
chmod 700 "$T/victimdir"
printf 'root only\n' > "$T/victim"
chmod 600 "$T/victim"

untouched() {
    for v in "$T/victim" "$T/victimdir"; do
        got=$(stat -c '%U:%G %a' "$v")
        case "$v:$got" in
        "$T/victim:root:root 600" | "$T/victimdir:root:root 700") ;;
        *) fail "$1: $v is now $got" ;;
        esac
    done
    [ "$(cat "$T/victim")" = "root only" ] || fail "$1: victim's content changed"
}

# try_start CONF: runs the daemon until it exits or its tlsrpt socket answers, then stops it;
# the exit status is in $started (0: it ran).
try_start() {
    : > "$T/daemon.log"
    "$OTR" -f -c "$1" >> "$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    at_exit stop_daemon
    started=1
    for _ in $(seq 1 100); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        if grep -q "started" "$T/daemon.log"; then started=0; break; fi
        sleep 0.1
    done
    stop_daemon
}

# 1. <spool>/state and <spool>/journal as symlinks, planted by the daemon's user.
for sub in state journal; do
    rm -rf "$T/spool"
    mkdir -p "$T/spool/journal" "$T/spool/state"
    chown -R nobody "$T/spool"
    rmdir "$T/spool/$sub"
    target="$T/victim"
    [ "$sub" = journal ] && target="$T/victimdir"
    ln -s "$target" "$T/spool/$sub"
    write_conf "$T/c.conf" "user=nobody"
    try_start "$T/c.conf"
    untouched "symlink at spool/$sub"
    [ "$started" -ne 0 ] || fail "started with spool/$sub a symlink"
    grep -q "spool/$sub as a directory (a symbolic link is refused)" "$T/daemon.log" ||
        { cat "$T/daemon.log"; fail "no clear message for spool/$sub"; }
done
rm -rf "$T/spool"

# 2. Each socket swapped for a symlink right after bind(), with and without an owner/group
# to set: nothing may reach the target (neither chown nor chmod by path).
mkdir "$T/run"
chown nobody "$T/run"
for sock in tlsrpt policy; do
    for grp in "$group" ""; do
        path="$T/run/$sock.sock"
        set -- "user=nobody" "tlsrpt_socket=$T/run/tlsrpt.sock" "tlsrpt_socket_mode=0660" \
            "tlsrpt_socket_group=$grp" "policy_socket=unix:$T/run/policy.sock" \
            "policy_socket_mode=0660" "policy_socket_group=$grp"
        write_conf "$T/c.conf" "$@"
        OTR_HOSTILE_BIND=$path OTR_HOSTILE_TARGET=$T/victim LD_PRELOAD=$SHIM try_start "$T/c.conf"
        grep -q "hostile_shim: $path is now a symlink" "$T/daemon.log" ||
            { cat "$T/daemon.log"; fail "the shim did not act on $path"; }
        untouched "$sock socket swapped after bind (group '$grp')"
        if [ -n "$grp" ]; then
            [ "$started" -ne 0 ] || fail "$sock: started although its socket was replaced"
            grep -q "was replaced after bind" "$T/daemon.log" || { cat "$T/daemon.log"; fail "message"; }
        fi
        rm -f "$T/run"/*.sock
    done
done
pass "root follows no symlink planted in the spool or a socket directory"
