#!/bin/sh
# Every setting is documented in the configuration man page, and only settings that exist.
. "$top_srcdir/tests/lib.sh"
man5="$top_srcdir/man/opentlsrpt.conf.5"
sed -n 's/^SETTING(\([a-z_0-9]*\),.*/\1/p' "$top_srcdir/common/mail/settings.def" | sort > "$T/declared"
[ -s "$T/declared" ] || fail "no settings found in settings.def"
# Settings are documented as ".TP" followed by ".B name" in opentlsrpt.conf(5).
awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $1 }' "$man5" | sort > "$T/documented"
missing=$(comm -23 "$T/declared" "$T/documented")
extra=$(comm -13 "$T/declared" "$T/documented")
[ -z "$missing" ] || fail "settings not documented in opentlsrpt.conf(5): $missing"
[ -z "$extra" ] || fail "documented settings that do not exist: $extra"
# Documented once: no other man page or the README describes a setting as its own entry.
for f in "$top_srcdir"/man/opentlsrpt.8 "$top_srcdir"/man/opentlsrpt-agent.8; do
    dup=$(awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $1 }' "$f" | sort | comm -12 - "$T/declared")
    [ -z "$dup" ] || fail "$(basename "$f") documents settings again: $dup"
done
pass "$(wc -l < "$T/declared") settings documented"
