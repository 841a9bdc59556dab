#!/bin/sh
# The milter role driven by miltertest through every phase (connect, HELO with TLS macros,
# MAIL, RCPT, DATA, headers, body, end of message) with the report messages of
# tests/data/inreports: reports are stored once each, broken ones and ordinary mail pass
# untouched (accept), milter_action reject/discard, report_recipients, inbound TLS counts
# (and their place in the summary); messages larger than the milter's buffer: ordinary mail
# passes even under reject, reports are refused as too large.
. "$top_srcdir/tests/lib.sh"
need miltertest
IN="$DATA/inreports"
SOCK="$T/milter/milter.sock" # the directory does not exist: the role creates it

start_milter() {
    write_conf "$T/otr.conf" "milter_socket=local:$SOCK" record_inbound_tls=yes "$@"
    start_daemon "$T/otr.conf"
    wait_for 10 test -S "$SOCK"
}

# play FILE [RCPT]: prints the milter's final reply letter (c continue, a accept, d discard,
# y reply code i.e. reject with our text).
play() {
    case $1 in /*) msg=$1 ;; *) msg=$IN/$1 ;; esac
    MILTER_SOCK="local:$SOCK" MSG="$msg" RCPT="${2:-<tlsrpt@example.com>}" TLS=1 REPLY=$REPLY \
        miltertest -s "$top_srcdir/tests/milter/send.lua" > "$T/mt.out" 2>&1 ||
        { cat "$T/mt.out"; fail "miltertest on $1"; }
    sed -n 's/^reply=\(.\).*/\1/p' "$T/mt.out"
}

expect() {
    got=$(play "$2" "${3:-}")
    [ "$got" = "$1" ] || fail "$2: reply $got, want $1 ($(cat "$T/mt.out"))"
}

# expect_reply FILE "CODE XCODE TEXT": rejected with exactly that SMTP reply.
expect_reply() {
    REPLY=$2
    expect y "$1"
    REPLY=
    grep -qx 'smtpreply=as expected' "$T/mt.out" || fail "$1: not rejected with \"$2\" ($(cat "$T/mt.out"))"
}
REPLY=

nstored() { ls "$T/spool/reports" 2>/dev/null | wc -l; }

start_milter
for f in google google-prev microsoft microsoft-tz empty-strings null-contact json-plain \
    nested qp many-policies bare-gzip; do
    expect c "$f.eml"
done
[ "$(nstored)" -eq 11 ] || fail "$(nstored) reports stored, want 11"
grep -q 'stored TLS-RPT report from bare.example, id bare-3' "$T/daemon.log" ||
    fail "a bare application/tlsrpt+gzip message was not stored"
# Broken reports and ordinary mail: continue (the mail is delivered), nothing stored.
for f in bomb truncated-gzip invalid-json mixed-ordinary; do
    expect c "$f.eml"
done
expect a plain.eml # not even the body is looked at
# The same without TLS: counted as plaintext by record_inbound_tls.
MILTER_SOCK="local:$SOCK" MSG="$IN/plain.eml" miltertest -s "$top_srcdir/tests/milter/send.lua" \
    > "$T/mt.out" 2>&1 || fail "miltertest without TLS"
[ "$(nstored)" -eq 11 ] || fail "broken or ordinary mail stored"
expect c google.eml
[ "$(nstored)" -eq 11 ] || fail "a duplicate was stored"
grep -q 'duplicate TLS-RPT report from giant.example' "$T/daemon.log" || fail "duplicate not logged"
grep -q 'malformed TLS-RPT report (report larger than max_report_size once inflated)' \
    "$T/daemon.log" || fail "gzip bomb not refused"
grep -q 'malformed TLS-RPT report (invalid or truncated gzip data)' "$T/daemon.log" ||
    fail "truncated gzip not refused"
# What the milter stored is what ingest makes of the same files.
"$AGENT" -c "$T/otr.conf" ingest "$IN/google.eml" "$IN/microsoft.eml" "$IN/many-policies.eml" \
    > "$T/ingest.out" || fail "ingest"
[ "$(grep -c ': duplicate report' "$T/ingest.out")" -eq 3 ] || fail "ingest disagrees: $(cat "$T/ingest.out")"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-19 > "$T/summary.txt" || fail "summary"
grep -q 'served an expired certificate to Bigsoft Corporation: 12 sessions' "$T/summary.txt" ||
    fail "summary of milter-stored reports"
stop_daemon
python3 - "$T/spool/inbound/$(today).json" <<'PY' || fail "inbound TLS counters"
import json, sys
d = json.load(open(sys.argv[1]))["domains"]["sender.example"]
assert d["messages"] == 18 and d["tls"] == 17 and d["versions"]["TLSv1.3"] == 17, d
PY
"$AGENT" -c "$T/otr.conf" summary --since 0d > "$T/summary.txt" || fail "summary"
grep -q "$(today)  18 messages, 17 over TLS (94.4%), TLSv1.3 17" "$T/summary.txt" ||
    fail "inbound TLS not in the summary: $(cat "$T/summary.txt")"
pass "accept: reports stored once, broken and ordinary mail untouched, TLS counted"

start_milter milter_action=reject
expect_reply bomb.eml "550 5.6.0 malformed TLS-RPT report: report larger than max_report_size once inflated"
expect_reply invalid-json.eml "550 5.6.0 malformed TLS-RPT report: invalid JSON: unexpected end of data"
expect c google.eml
expect a plain.eml
expect c mixed-ordinary.eml
stop_daemon
pass "reject: malformed reports rejected, good ones and ordinary mail accepted"

start_milter milter_action=discard
expect d google.eml
expect c truncated-gzip.eml
expect a plain.eml
stop_daemon
pass "discard: stored reports dropped, the rest delivered"

rm -rf "$T/spool/reports"
start_milter milter_action=discard "report_recipients=postmaster@example.com, @reports.example"
expect a google.eml "<tlsrpt@example.com>"
[ "$(nstored)" -eq 0 ] || fail "report to an unlisted recipient stored"
expect d google.eml "<POSTMASTER@example.com>"
expect d microsoft.eml "<x@reports.example>"
[ "$(nstored)" -eq 2 ] || fail "reports to listed recipients not stored"
stop_daemon
pass "report_recipients restricts capture"

# Larger than the buffer (max_report_size 64K: 64K * 1.5 + 1 MiB = 1,120 KiB): about 1.3 MiB
# each, made here rather than kept in tests/data.
python3 - "$T" <<'PY' || fail "making the large messages"
import base64, random, sys
blob = base64.encodebytes(random.Random(8460).randbytes(1000000)).decode()
head = "From: a@sender.example\nTo: tlsrpt@example.com\nSubject: big\nMIME-Version: 1.0\n"
def msg(name, top, part):
    text = (head + "Content-Type: " + top + "; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
            "--b\n" + part + "\nContent-Transfer-Encoding: base64\n\n" + blob + "--b--\n")
    open(sys.argv[1] + "/" + name, "w", newline="").write(text.replace("\n", "\r\n"))
msg("big-mixed.eml", "multipart/mixed", "Content-Type: application/pdf; name=big.pdf")
msg("big-report.eml", 'multipart/report; report-type="tlsrpt"',
    "Content-Type: application/tlsrpt+gzip; name=big.json.gz")
# Known as a report only by its part header, in the first bytes the milter keeps.
msg("big-mixed-report.eml", "multipart/mixed", "Content-Type: application/tlsrpt+gzip; name=big.json.gz")
PY
rm -rf "$T/spool/reports"
: > "$T/daemon.log"
start_milter milter_action=reject max_report_size=64K
expect a "$T/big-mixed.eml"
grep -q 'reply=a (in the body' "$T/mt.out" || fail "large ordinary mail not passed at once"
grep -q 'larger than' "$T/daemon.log" && fail "large ordinary mail logged: $(cat "$T/daemon.log")"
expect y "$T/big-report.eml"
expect y "$T/big-mixed-report.eml"
expect c google.eml # the small report next to them
[ "$(nstored)" -eq 1 ] || fail "$(nstored) reports stored, want 1"
[ "$(grep -c 'report message larger than 1146880 bytes; not stored' "$T/daemon.log")" -eq 2 ] ||
    fail "large reports not logged: $(cat "$T/daemon.log")"
stop_daemon
pass "larger than the buffer: ordinary mail accepted under reject, reports rejected"
