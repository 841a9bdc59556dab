#!/bin/sh
# docs/ARCHITECTURE.md's module map names every .c file of the tree, one line each
# ("- `path/file.c`: what it is"), and names no file that is gone.
. "$top_srcdir/tests/lib.sh"
doc="$top_srcdir/docs/ARCHITECTURE.md"
sed -n 's/^- `\([^`]*\.c\)`:.*/\1/p' "$doc" | sort > "$T/mapped"
[ -s "$T/mapped" ] || fail "no module map in $doc"
dup=$(uniq -d "$T/mapped")
[ -z "$dup" ] || fail "named twice in the module map: $dup"
# Every .c file of the source tree, but none of the build directories tests/run makes in it.
(cd "$top_srcdir" && find . -name '*.c' -not -path './build*' -not -path './.git/*' |
    sed 's|^\./||' | sort) > "$T/files"
[ "$(wc -l < "$T/files")" -ge 50 ] || fail "only $(wc -l < "$T/files") .c files found under $top_srcdir"
missing=$(comm -23 "$T/files" "$T/mapped")
gone=$(comm -13 "$T/files" "$T/mapped")
[ -z "$missing" ] || fail "add a line \"- \`FILE\`: what it is\" to the module map in docs/ARCHITECTURE.md for: $missing"
[ -z "$gone" ] || fail "the module map names files that do not exist: $gone"
pass "$(wc -l < "$T/mapped") .c files in the module map"
