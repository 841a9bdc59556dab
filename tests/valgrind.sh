#!/bin/sh
# valgrind --leak-check=full over every unit test, every fuzz corpus replay, a real daemon
# (all four roles, some traffic through each) and the agent (report, config, import-log,
# expire, run and send to deliver_to = file:, check against an MX on loopback): zero errors,
# zero definite leaks. Not in make check (slow); tests/run runs it on the plain build:
# `top_builddir=build-plain tests/valgrind.sh`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
. "$top_srcdir/tests/lib_agent.sh"
need valgrind openssl
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

# The daemon (supervisor and its forked roles: all four) and the agent, for real, with a
# local unbound: vg.example publishes a TLSRPT record and an MX on 127.0.0.1 (an SMTP
# server with STARTTLS and a self-signed certificate, for check); every other name is
# NXDOMAIN, so the policy role answers NOTFOUND.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=mx.vg.example" -keyout "$T/mx.key" -out "$T/mx.pem" >/dev/null 2>&1 || fail "openssl"
SMTP_PORT=$(free_port)
python3 "$top_srcdir/tests/tools/check_smtpd.py" "$T/smtpd.ready" \
    "127.0.0.1:$SMTP_PORT:$T/mx.pem:$T/mx.key" >>"$T/smtpd.log" 2>&1 &
SMTPD_PID=$!
at_exit "kill $SMTPD_PID 2>/dev/null; wait $SMTPD_PID 2>/dev/null"
wait_for 10 test -e "$T/smtpd.ready"
cat > "$T/zones" <<EOF
  local-zone: "example." static
  local-data: '_smtp._tls.vg.example. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@vg.example"'
  local-data: 'vg.example. MX 10 mx.vg.example.'
  local-data: 'mx.vg.example. A 127.0.0.1'
EOF
start_unbound "$T/zones"
write_conf "$T/c.conf" "policy_socket=unix:$T/policy.sock" "log_follow=$T/mail.log" \
    "milter_socket=local:$T/milter.sock" "resolver=$DNS_RESOLVER" "policy_lookup_timeout=1s" \
    "deliver_to=file:$T/out" "report_from=tlsrpt@sender.test" "send_window=0"
: > "$T/mail.log"
$VG --log-file="$T/vg.daemon.%p.log" "$OTR" -f -c "$T/c.conf" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 60 test -S "$T/tlsrpt.sock"
wait_for 60 test -S "$T/policy.sock"
wait_for 60 test -S "$T/milter.sock"
"$SEND" -s "$T/tlsrpt.sock" -b -n 200 -d 20 > /dev/null || fail "send"
"$SEND" -s "$T/tlsrpt.sock" -b -n 2 "$DATA"/datagrams/*.json "$DATA"/datagrams/*.bin > /dev/null || fail "send"
python3 "$top_srcdir/tests/tools/socketmap_ask.py" "$T/policy.sock" sts unknown.example \
    unknown.example other.example bad..name > "$T/answers" || fail "policy lookups"
[ "$(grep -cxE 'NOTFOUND ?' "$T/answers")" -eq 4 ] || fail "policy lookups: $(cat "$T/answers")"
sed -n '1,60p' "$DATA/logs/postfix-3.7-rfc3339.log" >> "$T/mail.log"
if command -v miltertest > /dev/null; then
    MILTER_SOCK="local:$T/milter.sock" MSG="$DATA/inreports/json-plain.eml" TLS=1 \
        miltertest -s "$top_srcdir/tests/milter/send.lua" > "$T/mt.out" 2>&1 || fail "miltertest: $(cat "$T/mt.out")"
    grep -q '^reply=c' "$T/mt.out" || fail "milter: $(cat "$T/mt.out")"
fi
wait_for 60 grep -q 'log: following' "$T/daemon.log"
sleep 3
stop_daemon
for r in 'tlsrpt: stopping: received=' 'policy: stopping:' 'log: stopping:' 'milter: stopped'; do
    grep -q "$r" "$T/daemon.log" || { cat "$T/daemon.log"; fail "daemon did not stop cleanly ($r)"; }
done
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
# run and send write the report for vg.example into $T/out (deliver_to = file:); check
# talks STARTTLS to the MX and finds its certificate untrusted (exit 1).
D=$(days_ago 2)
{ dgram vg.example; dgram vg.example fail; } | put_outcomes "$D"
# shellcheck disable=SC2086
vg agent-run $AG -c "$T/c.conf" run --now || fail "agent run: $(cat "$T/out.agent-run")"
ls "$T"/out/*vg.example*.json.gz > /dev/null 2>&1 || fail "run delivered nothing: $(cat "$T/out.agent-run")"
rm -rf "$T/out"
# shellcheck disable=SC2086
vg agent-send $AG -c "$T/c.conf" send --day "$D" --domain vg.example --force ||
    fail "agent send: $(cat "$T/out.agent-send")"
ls "$T"/out/*vg.example*.json.gz > /dev/null 2>&1 || fail "send delivered nothing: $(cat "$T/out.agent-send")"
# shellcheck disable=SC2086
vg agent-check $AG -c "$T/c.conf" check --port "$SMTP_PORT" --timeout 5 vg.example || [ $? -eq 1 ] ||
    fail "agent check: $(cat "$T/out.agent-check")"
grep -q 'mx.vg.example' "$T/out.agent-check" || fail "check did not reach the MX: $(cat "$T/out.agent-check")"
[ "$bad" -eq 0 ] || fail "$bad program(s) with valgrind errors or definite leaks"
pass "valgrind: no errors, no definite leaks"
