#!/bin/sh
# valgrind --leak-check=full over every unit test, every fuzz corpus replay, and a real
# daemon + agent run: zero errors, zero definite leaks. Not in make check (slow); tests/run
# runs it on the plain build: `top_builddir=build-plain tests/valgrind.sh`.
. "$top_srcdir/tests/lib.sh"
need valgrind
[ -x "$OTR" ] || skip "$OTR is not built"
# A sanitizer build cannot run under valgrind.
if nm "$OTR" 2>/dev/null | grep -q __asan_init; then skip "$OTR is built with sanitizers"; fi
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
VG="$VG --error-exitcode=99 --track-fds=no --child-silent-after-fork=no --trace-children=no"
bad=0
# vg NAME CMD...: runs CMD under valgrind, its report in $T/vg.NAME.log.
vg() {
    local name=$1; shift
    $VG --log-file="$T/vg.$name.%p.log" "$@" > "$T/out.$name" 2>&1
    local rc=$?
    if [ "$rc" -eq 99 ] || grep -qs 'definitely lost\|Invalid \|uninitialised\|Mismatched' "$T"/vg."$name".*.log; then
        echo "valgrind: $name:"; cat "$T"/vg."$name".*.log; bad=$((bad + 1))
    fi
    return "$rc"
}

n=0
for t in "$top_builddir"/tests/unit/*_test; do
    [ -x "$t" ] || continue
    (cd "$top_builddir" && vg "$(basename "$t")" "$t") || { [ $? -eq 99 ] || { cat "$T/out.$(basename "$t")"; fail "$(basename "$t") failed"; }; }
    n=$((n + 1))
done
for r in "$top_builddir"/tests/fuzz/*_replay; do
    [ -x "$r" ] || continue
    name=$(basename "$r" _replay)
    [ -d "$top_srcdir/tests/fuzz/corpus/$name" ] || continue
    vg "$name"_replay "$r" "$top_srcdir/tests/fuzz/corpus/$name"/* || [ $? -eq 99 ] ||
        { cat "$T/out.${name}_replay"; fail "${name}_replay failed"; }
    n=$((n + 1))
done
echo "unit tests and replays under valgrind: $n"

# The daemon (supervisor and its forked roles) and the agent, for real.
write_conf "$T/c.conf"
$VG --log-file="$T/vg.daemon.%p.log" "$OTR" -f -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 60 test -S "$T/tlsrpt.sock"
"$SEND" -s "$T/tlsrpt.sock" -b -n 200 -d 20 > /dev/null || fail "send"
"$SEND" -s "$T/tlsrpt.sock" -b -n 2 "$DATA"/datagrams/*.json "$DATA"/datagrams/*.bin > /dev/null || fail "send"
sleep 2
stop_daemon
grep -q 'tlsrpt: stopping: received=' "$T/daemon.log" || { cat "$T/daemon.log"; fail "daemon did not stop cleanly"; }
if grep -qs 'definitely lost\|Invalid \|uninitialised' "$T"/vg.daemon.*.log; then
    echo "valgrind: daemon:"; cat "$T"/vg.daemon.*.log; bad=$((bad + 1))
fi
AG="$AGENT_BIN"
[ "$(id -u)" -ne 0 ] || AG="$AGENT_BIN -u root"
# shellcheck disable=SC2086
vg agent-report $AG -c "$T/c.conf" report --day "$(today)" || fail "agent report: $(cat "$T/out.agent-report")"
# shellcheck disable=SC2086
vg agent-config $AG -c "$T/c.conf" config || fail "agent config"
# shellcheck disable=SC2086
vg agent-import $AG -c "$T/c.conf" import-log "$DATA/logs/postfix-3.7-rfc3339.log" || fail "agent import-log"
# shellcheck disable=SC2086
vg agent-expire $AG -c "$T/c.conf" expire || fail "agent expire"
[ "$bad" -eq 0 ] || fail "$bad program(s) with valgrind errors or definite leaks"
pass "valgrind: no errors, no definite leaks"
