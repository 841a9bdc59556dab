#!/bin/sh
# No test-only behaviour in what make install installs: the installed
# programs neither read OTR_TEST_NOW (a clock the environment sets) nor OTR_TEST_KILL_AT
# (SIGKILL at a named point); only the test copy of the agent does.
. "$top_srcdir/tests/lib.sh"
for p in opentlsrpt opentlsrpt-agent; do
    [ -x "$top_builddir/$p" ] || fail "$p not built"
    if grep -a -q OTR_TEST_ "$top_builddir/$p"; then
        fail "$p still contains a test hook: $(grep -a -o 'OTR_TEST_[A-Z_]*' "$top_builddir/$p" | sort -u | tr '\n' ' ')"
    fi
done
# The test copy has both, so the tests that need them still work (and this test is not
# looking for the wrong name).
for h in OTR_TEST_NOW OTR_TEST_KILL_AT; do
    grep -a -q "$h" "$top_builddir/tests/tools/opentlsrpt-agent-test" || fail "the test agent lacks $h"
done
# The installed agent runs as usual with both set.
write_conf "$T/c.conf"
OTR_TEST_NOW=86400 OTR_TEST_KILL_AT=before-send "$AGENT" -c "$T/c.conf" run --now > "$T/run.out" 2>&1 ||
    { cat "$T/run.out"; fail "the installed agent did not run normally with the test variables set"; }
pass "no test hooks in the installed programs"
