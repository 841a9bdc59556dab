#!/bin/sh
# contrib/demo.sh, the README's first command, on the built tree: it feeds the daemon, prints
# a report per domain and delivers each to its outbox (deliver_to = file:) with the rua the
# datagrams carried - with no DNS server, as on a laptop.
. "$top_srcdir/tests/lib.sh"
need python3

OTR_DEMO_BUILD=$top_builddir OTR_DEMO_DIR=$T/demo sh "$top_srcdir/contrib/demo.sh" \
    > "$T/reports.out" 2> "$T/demo.log" || { cat "$T/demo.log"; fail "contrib/demo.sh"; }
# The tlsrpt-send domains d0..d11.example plus the three of the sample datagrams.
python3 - "$T/reports.out" "$T/demo/outbox" > "$T/check.out" 2>&1 <<'EOF' ||
import email, glob, gzip, json, os, sys
text, outbox = open(sys.argv[1]).read(), sys.argv[2]
reports, dec, i = {}, json.JSONDecoder(), 0
while text[i:].strip():
    while text[i].isspace():
        i += 1
    r, i = dec.raw_decode(text, i)
    reports[r["report-id"]] = r
want = {"d%d.example" % n for n in range(12)} | {"example.com", "example.net", "example.org"}
assert len(reports) == len(want), sorted(reports)
emls = glob.glob(os.path.join(outbox, "*.eml"))
gzs = glob.glob(os.path.join(outbox, "*.json.gz"))
assert len(emls) == len(want) and len(gzs) == len(want), (len(emls), len(gzs))
for path in emls:
    m = email.message_from_binary_file(open(path, "rb"))
    dom = m["TLS-Report-Domain"]
    assert dom in want, dom
    want.discard(dom)
    # The rua of the record Postfix saw: tlsrpt-send publishes rua=mailto:tlsrpt@<domain>.
    if dom.startswith("d"):
        assert m["To"] == "tlsrpt@" + dom, (dom, m["To"])
    name = os.path.basename(path).rsplit(".", 2)[0] + ".json.gz"
    stored = json.loads(gzip.open(os.path.join(outbox, name)).read())
    assert stored == reports[m["Message-ID"].strip("<>")], dom
assert not want, want
print("ok")
EOF
    { cat "$T/check.out"; fail "the demo's reports and outbox disagree"; }
grep -q '^== delivered to ' "$T/demo.log" || fail "the demo does not say where it delivered"
pass "contrib/demo.sh: 15 reports printed and written to the outbox as .eml + .json.gz"
