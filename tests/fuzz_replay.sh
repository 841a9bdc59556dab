#!/bin/sh
# Replays every committed fuzz corpus through its target's plain driver.
. "$top_srcdir/tests/lib.sh"
n=0
for corpus in "$top_srcdir"/tests/fuzz/corpus/*/; do
    name=$(basename "$corpus")
    driver="$top_builddir/tests/fuzz/${name}_replay"
    [ -x "$driver" ] || fail "no replay driver for corpus $name ($driver)"
    "$driver" "$corpus" || fail "replaying $name"
    n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n corpora"
pass "$n corpora replayed"
