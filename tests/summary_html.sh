#!/bin/sh
# The html summary renders: the page is opened in headless Chromium (no network, a fresh
# profile), its DOM holds the chart with bars for successes and failures, and the
# screenshot is a real picture (not blank) with the chart's colours in it.
. "$top_srcdir/tests/lib.sh"
need chromium python3
IN="$DATA/inreports"
write_conf "$T/otr.conf"
"$AGENT" -c "$T/otr.conf" ingest "$IN/google.eml" "$IN/google-prev.eml" "$IN/microsoft.eml" \
    "$IN/microsoft-tz.eml" "$IN/json-plain.eml" "$IN/nested.eml" > /dev/null || fail "ingest"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --format html --output "$T/summary.html" ||
    fail "summary --format html"
grep -qi '<script' "$T/summary.html" && fail "the page has a script"
grep -Eqi '(src|href)="?(https?:)?//' "$T/summary.html" && fail "the page loads something from outside"

chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --user-data-dir="$T/profile" --window-size=1200,1600 "$@" \
        "file://$T/summary.html"
}
chrome --dump-dom > "$T/dom.html" 2> "$T/chromium-dom.log" || fail "chromium --dump-dom failed"
grep -q '<svg class="chart"' "$T/dom.html" || fail "no chart in the rendered DOM"
grep -q '<rect class="failed"' "$T/dom.html" || fail "no failure bar in the chart"
grep -q '<rect class="ok"' "$T/dom.html" || fail "no success bar in the chart"
grep -q 'served an expired certificate' "$T/dom.html" || fail "explanations missing from the DOM"
rm -rf "$T/profile"
chrome --screenshot="$T/summary.png" > "$T/chromium.log" 2>&1 || fail "chromium --screenshot failed"
[ -s "$T/summary.png" ] || fail "empty screenshot"

# A PNG decoder in a few lines: enough to count colours without extra packages.
python3 - "$T/summary.png" <<'PYEOF' || fail "the screenshot does not show the page"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, rows, i = bytearray(stride), [], 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
colours = {}
for line in rows:
    for x in range(0, stride, bpp):
        px = tuple(line[x:x + 3])
        colours[px] = colours.get(px, 0) + 1
white = colours.get((255, 255, 255), 0)
assert white < w * h * 0.98, "blank page"
green = sum(n for (r, g, b), n in colours.items() if abs(r - 46) < 12 and abs(g - 139) < 12 and abs(b - 87) < 12)
red = sum(n for (r, g, b), n in colours.items() if abs(r - 192) < 12 and abs(g - 57) < 12 and abs(b - 43) < 12)
assert green > 500, "no success bars in the picture (%d green pixels)" % green
assert red > 20, "no failure bars in the picture (%d red pixels)" % red
print("screenshot %dx%d: %d colours, %d green and %d red pixels" % (w, h, len(colours), green, red))
PYEOF
pass "html summary renders in Chromium with its chart"
