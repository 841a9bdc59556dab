#!/bin/sh
# Reports real senders produced (tests/data/realworld-reports, sources in SOURCES.md), and
# the ways they reach an administrator (a UTF-8 BOM, a zip, an attachment known only by its
# file name, a forwarded message): each is accepted, except the one that is no report, and
# what is stored matches the file's own numbers, read by Python's email/gzip/zipfile/json.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
need unbound python3
RW="$DATA/realworld-reports"
# Their DKIM keys are looked up at a local unbound that refuses everything: nothing leaves.
: > "$T/zones"
start_unbound "$T/zones"
write_conf "$T/otr.conf" "retention_days=3660" "resolver=$DNS_RESOLVER"

mkdir "$T/variants"
python3 - "$RW" "$T/variants" <<'PY' || fail "cannot make the variants"
import email, email.policy, sys, zipfile
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
rw, out = sys.argv[1:3]
raw = lambda p: open("%s/%s" % (rw, p), "rb").read()
open(out + "/bom.json", "wb").write(b"\xef\xbb\xbf" + raw("dmarc-report-viewer/google.json"))
with zipfile.ZipFile(out + "/rpt03.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("google.com!example.org!1555200000!1555286399.json", raw("stalwart/rpt03.json"))
# A mail client's forward of the attachment alone: only the file name says what it is.
m = MIMEMultipart("mixed")
m["Subject"] = "Fwd: Report Domain: example.com"
m.attach(MIMEText("see attachment"))
a = MIMEApplication(raw("tlsrpt-digest/gz/tlsrpt_failure.json.gz"), "octet-stream")
a.add_header("Content-Disposition", "attachment",
             filename="google.com!example.com!1770508800!1770595199.json.gz")
m.attach(a)
open(out + "/attachment-octet.eml", "wb").write(m.as_bytes())
z = MIMEMultipart("mixed")
z["Subject"] = "zipped report"
a = MIMEApplication(open(out + "/rpt03.zip", "rb").read(), "zip")
a.add_header("Content-Disposition", "attachment", filename="report.zip")
z.attach(a)
open(out + "/attachment-zip.eml", "wb").write(z.as_bytes())
# Forwarded as an attachment: the whole report message inside message/rfc822.
f = MIMEMultipart("mixed")
f["Subject"] = "Fwd: Report Domain: example.com"
f.attach(MIMEText("forwarded from the old mailbox"))
f.attach(MIMEMessage(email.message_from_bytes(raw("stalwart/rpt02.eml"),
                                              policy=email.policy.compat32)))
open(out + "/forwarded.eml", "wb").write(f.as_bytes())
PY

files=$(find "$RW" -type f ! -name SOURCES.md | LC_ALL=C sort)
python3 "$top_srcdir/tests/tools/check_realworld.py" "$AGENT" "$T/otr.conf" "$T/spool/reports" \
    tlsrpt-rs/empty.eml $files "$T"/variants/*.json "$T"/variants/*.zip "$T"/variants/*.eml \
    > "$T/check.out" 2>&1 || { cat "$T/check.out"; fail "a real report was refused or misread"; }
n=$(printf '%s\n' $files | wc -l)
grep -q "^$((n - 1 + 5)) accepted, 1 refused\$" "$T/check.out" ||
    fail "not $((n - 1 + 5)) accepted: $(tail -n 1 "$T/check.out")"
grep -q "forwarded.eml: 1 policies" "$T/check.out" || fail "forwarded report not checked"
pass "$(tail -n 1 "$T/check.out") of $n real reports and 5 variants, numbers as in the files"
