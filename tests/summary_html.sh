#!/bin/sh
# The html summary, opened in a real headless Chromium (no network, a fresh profile):
# asserted on the DOM Chromium built, not on pixels. A card per domain links to its
# section; each issue is one folded line; the chart puts each day at its real date
# (a day without reports is a gap), with years on the axis, on a scale where 2 failures
# in 4,802 sessions and a day where everything failed both sit visibly off the top line.
# The screenshot is kept as tests/summary_html.png in the build directory.
. "$top_srcdir/tests/lib.sh"
need chromium python3
write_conf "$T/otr.conf"
mkdir "$T/in"
# Two reporters for example.com over 20 days: 2 failures every 5th day, 300 of 300 failed
# on one day, no report at all on 2026-11-17 and -18; a second domain with IDN.
python3 - "$T/in" <<'PY'
import datetime, json, sys
def rep(org, day, dom, ok, f):
    return {"organization-name": org, "contact-info": "tlsrpt@%s.example" % org.split()[0].lower(),
            "report-id": "%s-%s-%s" % (org.split()[0], dom, day),
            "date-range": {"start-datetime": day + "T00:00:00Z", "end-datetime": day + "T23:59:59Z"},
            "policies": [{"policy": {"policy-type": "sts", "policy-domain": dom,
                                     "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1." + dom]},
                          "summary": {"total-successful-session-count": ok, "total-failure-session-count": f},
                          "failure-details": [{"result-type": "certificate-expired",
                                               "receiving-mx-hostname": "mx1." + dom,
                                               "failed-session-count": f}] if f else []}]}
n = 0
for i in range(20):
    day = (datetime.date(2026, 11, 10) + datetime.timedelta(days=i)).isoformat()
    if day in ("2026-11-17", "2026-11-18"):
        continue
    reps = [rep("Google LLC", day, "example.com", 4800, 2 if i % 5 == 0 else 0)]
    reps.append(rep("Microsoft", day, "example.com", 0 if i == 12 else 300, 300 if i == 12 else 0))
    if i % 3 == 0:
        reps.append(rep("Google LLC", day, "xn--bcher-kva.example", 40, 0))
    for r in reps:
        json.dump(r, open("%s/%03d.json" % (sys.argv[1], n), "w")); n += 1
PY
"$AGENT" -c "$T/otr.conf" ingest "$T"/in/*.json > /dev/null || fail "ingest"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-08 --until 2026-12-01 --format html \
    --output "$T/summary.html" || fail "summary --format html"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-08 --until 2026-12-01 --format json \
    > "$T/summary.json" || fail "summary --format json"
grep -qi '<script' "$T/summary.html" && fail "the page has a script"
grep -Eqi '(src|href)="?(https?:)?//' "$T/summary.html" && fail "the page loads something from outside"

chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --user-data-dir="$T/profile" --window-size=1200,1800 "$@" \
        "file://$T/summary.html"
}
chrome --dump-dom > "$T/dom.html" 2> "$T/chromium-dom.log" || fail "chromium --dump-dom failed"
python3 - "$T/dom.html" "$T/summary.json" <<'PY' || fail "the rendered page is not as it should be"
import datetime, json, re, sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    """Elements with their attributes and text, in document order."""
    def __init__(self):
        super().__init__()
        self.els, self.stack = [], []
    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [e["tag"] for e in self.stack]}
        self.els.append(el)
        if tag not in ("br", "meta", "img", "input"):
            self.stack.append(el)
    def handle_startendtag(self, tag, attrs):  # <line .../>: no children, no end tag
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "meta", "img", "input"):
            self.stack.pop()
    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break
    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

dom = Dom(); dom.feed(open(sys.argv[1], encoding="utf-8").read())
summ = json.load(open(sys.argv[2]))
els = dom.els
cls = lambda e: e["attrs"].get("class", "") or ""
assert not [e for e in els if e["tag"] == "script"], "script element"

# Cards at the top link to the domain sections.
cards = [e for e in els if e["tag"] == "a" and "nav" in e["parents"]]
sections = {e["attrs"]["id"]: e for e in els if e["tag"] == "section" and "domain" in cls(e)}
assert len(cards) == 2 == len(sections), (len(cards), list(sections))
for a in cards:
    target = a["attrs"]["href"].lstrip("#")
    assert target in sections, target
    name = a["text"].split("99")[0].split("100%")[0].strip()
    assert sections[target]["text"].strip().startswith(name), (name, sections[target]["text"][:40])
assert any("bücher.example" in a["text"] for a in cards), "no U-label on the IDN card"
assert "bad" in cls(cards[0]) and "example.com" in cards[0]["text"]

# Issues: one folded line each, as many as the summary found.
issues = [e for e in els if e["tag"] == "details" and "issue" in cls(e)]
assert len(issues) == len(summ["issues"]) > 0, (len(issues), len(summ["issues"]))
assert not any("open" in e["attrs"] for e in issues), "an issue is unfolded"
first_section = next(i for i, e in enumerate(els) if e["tag"] == "section" and "domain" in cls(e))
assert all(els.index(e) < first_section for e in issues), "issues after the data"

# The chart of example.com: one point per day with reports, at its date.
svg = next(e for e in els if e["tag"] == "svg" and "chart" in cls(e))
start = els.index(svg)
end = next(i for i in range(start + 1, len(els)) if "svg" not in els[i]["parents"])
pts = [e for e in els[start:end] if e["tag"] == "circle"]
days = [d for d in summ["domains"] if d["domain"] == "example.com"][0]["days"]
assert [p["attrs"]["data-day"] for p in pts] == [d["day"] for d in days]
date = lambda s: datetime.date.fromisoformat(s).toordinal()
xs = [(date(p["attrs"]["data-day"]), float(p["attrs"]["cx"])) for p in pts]
step = (xs[-1][1] - xs[0][1]) / (xs[-1][0] - xs[0][0])
for d, x in xs:
    assert abs(xs[0][1] + (d - xs[0][0]) * step - x) < 0.2, ("not at its date", d, x)
assert "2026-11-17" not in [p["attrs"]["data-day"] for p in pts]
labels = [e["text"] for e in els[start:end] if e["tag"] == "text" and "xlabel" in cls(e)]
assert labels and all(re.fullmatch(r"20\d\d-\d\d-\d\d", t) for t in labels), labels
grid = {e["text"]: float(e["attrs"]["y"]) - 4 for e in els[start:end] if e["tag"] == "text" and "ylabel" in cls(e)}
top, bottom = grid["100%"], grid["0%"]
by_day = {p["attrs"]["data-day"]: p for p in pts}
small = by_day["2026-11-10"]  # 2 of 5,102 failed
assert "failed" in cls(small) and float(small["attrs"]["cy"]) - top > 0.1 * (bottom - top), small
worst = by_day["2026-11-22"]  # 300 of 5,100 failed
assert float(worst["attrs"]["cy"]) > float(small["attrs"]["cy"])
assert all("ok" in cls(p) and abs(float(p["attrs"]["cy"]) - top) < 0.2
           for p in pts if p["attrs"]["data-failed"] == "0")
# Each report's JSON as received is one click away, in a folded block of its row.
raws = [e for e in els if e["tag"] == "details" and "raw" in cls(e)]
assert len(raws) == sum(len(r["domains"].split(", ")) for r in summ["report-list"]), len(raws)
pres = [e for e in els if e["tag"] == "pre" and "details" in e["parents"]]
sample = json.loads(pres[0]["text"])
assert sample["report-id"] in raws[0]["text"] and "policies" in sample, sample
# The rate text in the table never rounds the 2 failures away.
assert "99.96%" in sections[cards[0]["attrs"]["href"][1:]]["text"]
print("dom ok: %d cards, %d issues, %d points, axis %s..%s" % (len(cards), len(issues), len(pts), labels[0], labels[-1]))
PY
rm -rf "$T/profile"
chrome --screenshot="$T/summary.png" > "$T/chromium.log" 2>&1 || fail "chromium --screenshot failed"
[ -s "$T/summary.png" ] || fail "empty screenshot"
mkdir -p "$top_builddir/tests"
cp "$T/summary.png" "$top_builddir/tests/summary_html.png"
echo "screenshot: $top_builddir/tests/summary_html.png"

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
green = sum(n for (r, g, b), n in colours.items() if abs(r - 46) < 12 and abs(g - 139) < 12 and abs(b - 87) < 12)
red = sum(n for (r, g, b), n in colours.items() if abs(r - 192) < 12 and abs(g - 57) < 12 and abs(b - 43) < 12)
assert len(colours) > 50, "a blank page"
assert green > 100 and red > 100, (green, red)
print("screenshot %dx%d: %d colours, %d green and %d red pixels" % (w, h, len(colours), green, red))
PYEOF
pass "html summary renders in Chromium: cards, folded issues, a chart by date"
