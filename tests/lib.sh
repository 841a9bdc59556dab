# Shell test support, sourced by tests/*.sh. Every test runs in its own temporary directory
# and stops everything it started, even when it fails.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
OTR="$top_builddir/opentlsrpt"
AGENT="$top_builddir/opentlsrpt-agent"
AGENT_BIN=$AGENT
SEND="$top_builddir/tests/tools/tlsrpt-send"
DATA="$top_srcdir/tests/data"
T=$(mktemp -d "${TMPDIR:-/tmp}/otr-test.XXXXXX")
# The agent refuses root unless -u names a user: as root (CI), tests run it through a
# wrapper that says -u root, since their files belong to root.
# AGENT_TEST is the test copy of the agent (tests/tools/opentlsrpt-agent-test): the same
# program, but it honours OTR_TEST_NOW (its clock) and OTR_TEST_KILL_AT (SIGKILLs itself
# there); the installed agent has neither.
AGENT_TEST="$top_builddir/tests/tools/opentlsrpt-agent-test"
if [ "$(id -u)" -eq 0 ]; then
    mkdir "$T/.agent"
    printf '#!/bin/sh\nexec "%s" -u root "$@"\n' "$AGENT" > "$T/.agent/opentlsrpt-agent"
    printf '#!/bin/sh\nexec "%s" -u root "$@"\n' "$AGENT_TEST" > "$T/.agent/opentlsrpt-agent-test"
    chmod 755 "$T/.agent/opentlsrpt-agent" "$T/.agent/opentlsrpt-agent-test"
    AGENT="$T/.agent/opentlsrpt-agent"
    AGENT_TEST="$T/.agent/opentlsrpt-agent-test"
fi
_cleanups=""

# at_exit CMD: run CMD when the test ends (last registered runs first).
at_exit() { _cleanups="$1; $_cleanups"; }
_run_cleanups() {
    status=$?
    set +e
    eval "$_cleanups"
    if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
        echo "--- test failed (status $status); files in $T kept"
        for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
    else
        rm -rf "$T"
    fi
    exit "$status"
}
trap _run_cleanups EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
pass() { echo "ok: $*"; }

# need CMD...: skip (exit 77, saying why) when a tool is missing. CI installs them all.
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (tests/deps.sh installs it)"; done; }

# wait_for SECONDS CMD...: poll until CMD succeeds; fails the test on timeout.
wait_for() {
    local limit=$1; shift
    # date, not $SECONDS: the tests run under /bin/sh (dash), which has no SECONDS.
    local end=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${limit}s waiting for: $*"
        sleep 0.1
    done
}

# write_conf FILE [name=value...]: a configuration under $T with test-safe defaults.
write_conf() {
    local f=$1; shift
    {
        echo "spool_directory = $T/spool"
        echo "tlsrpt_socket = $T/tlsrpt.sock"
        echo "user = $(id -un)"
        echo "organization_name = opentlsrpt test"
        echo "contact_info = tlsrpt@sender.test"
        for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
    } > "$f"
}

# start_daemon CONF: runs opentlsrpt -f in the background, logging to $T/daemon.log.
start_daemon() {
    "$OTR" -f -c "$1" >>"$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    at_exit "stop_daemon"
    wait_for 10 test -S "$T/tlsrpt.sock"
}

# time_limit SECONDS: the test fails (its cleanups run as usual) once it has run that long.
# The shell acts on the TERM only when its foreground command ends, so that command (a hung
# agent or sleep) is killed too: a hang cannot outlive the limit.
time_limit() {
    local main=$$
    (
        s=""
        trap 'kill $s 2>/dev/null; exit 0' TERM
        sleep "$1" &
        s=$!
        wait $s
        trap '' TERM
        echo "FAIL: time limit of $1 s reached" >&2
        kill -TERM "$main" 2>/dev/null || true
        pkill -TERM -P "$main" 2>/dev/null || true
        exit 0
    ) &
    at_exit "kill $! 2>/dev/null"
}

stop_daemon() {
    if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID"
        for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    DAEMON_PID=
}

today() { date -u +%Y-%m-%d; }
