#!/bin/sh
# Issue 13, item 1, through the real milter (miltertest): the 14 KB gzip bomb is refused as
# over the limits at once (550 under reject, never stored); a report near max_report_size is
# stored, at most 4 x its JSON; with milter_memory_max too small for it, the same report is
# deferred with 451 (the sender retries), under reject too, and logged as a shortage, not as
# malformed; a small report still passes then.
. "$top_srcdir/tests/lib.sh"
need miltertest
need python3
SOCK="$T/m/milter.sock"

python3 - "$T" <<'END_OF_PY'
import base64, gzip, sys
out = sys.argv[1]
head = ('{"organization-name":"Near","date-range":{"start-datetime":"2026-11-21T00:00:00Z",'
        '"end-datetime":"2026-11-21T23:59:59Z"},"contact-info":"tlsrpt@%s.example",'
        '"report-id":"%s","policies":[{"policy":{"policy-type":"sts","policy-domain":'
        '"example.com"},"summary":{"total-successful-session-count":1,'
        '"total-failure-session-count":%d},"failure-details":[')
def mail(name, body):
    b = base64.encodebytes(gzip.compress(body.encode(), 9, mtime=0)).decode()
    open("%s/%s.eml" % (out, name), "w").write(
        "From: tlsrpt@%s.example\r\nTo: tlsrpt@example.com\r\nSubject: Report\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n" % (name, b))
limit = 10 * 1024 * 1024
h = head % ("bomb", "bomb-1", 1)
mail("bomb", h + "{}," * ((limit - 64 - len(h)) // 3) + "{}]}]}")
items = ['{"result-type":"certificate-expired","additional-information":"%06d %s"}'
         % (i, "x" * 160) for i in range(36000)]
body = head % ("near", "near-1", len(items)) + ",".join(items) + "]}]}"
assert len(body) < limit
open(out + "/near.len", "w").write(str(len(body)))
mail("near", body)
END_OF_PY
[ "$(stat -c %s "$T/bomb.eml")" -lt 20000 ] || fail "the bomb mail is not small"

start_milter() {
    write_conf "$T/otr.conf" "milter_socket=local:$SOCK" "$@"
    start_daemon "$T/otr.conf"
    wait_for 10 test -S "$SOCK"
}
TEMP="451 4.3.1 too many TLS-RPT reports at once, please try again later"
OVER="550 5.6.0 malformed TLS-RPT report: report over the limits: more than 500000 JSON values"
# play FILE [REPLY]: prints the milter's reply letter, and "yes" when it set the SMTP reply
# REPLY ("other" when it set another).
play() {
    MILTER_SOCK="local:$SOCK" MSG="$1" RCPT="<tlsrpt@example.com>" REPLY="${2:-}" \
        miltertest -s "$top_srcdir/tests/milter/send.lua" > "$T/mt.out" 2>&1 ||
        { cat "$T/mt.out"; fail "miltertest on $1"; }
    echo $(sed -n 's/^reply=\(.\).*/\1/p; s/^smtpreply=as expected/yes/p; s/^smtpreply=//p' "$T/mt.out")
}
nstored() { ls "$T/spool/reports" 2>/dev/null | wc -l; }

start_milter milter_action=reject
got=$(play "$T/bomb.eml" "$OVER")
[ "$got" = "y yes" ] || fail "bomb: reply [$got], want [$OVER]"
grep -q 'malformed TLS-RPT report (report over the limits: more than' "$T/daemon.log" ||
    fail "bomb not refused as over the limits: $(cat "$T/daemon.log")"
[ "$(nstored)" -eq 0 ] || fail "the bomb was stored"
got=$(play "$T/near.eml")
[ "$got" = c ] || fail "near-limit report: reply [$got], want [c]"
[ "$(nstored)" -eq 1 ] || fail "the near-limit report was not stored"
size=$(stat -c %s "$T"/spool/reports/*.json)
[ "$size" -le $((4 * $(cat "$T/near.len") + 65536)) ] || fail "stored form of $size bytes"
"$AGENT" -c "$T/otr.conf" summary --since 2026-11-20 --format json > "$T/s.json" ||
    fail "summary cannot read what was stored"
grep -q '"failed":36000' "$T/s.json" || fail "summary did not read the stored report whole"
stop_daemon
pass "bomb refused as over the limits; near-limit report stored and read back"

rm -rf "$T/spool/reports"
: > "$T/daemon.log"
start_milter milter_action=reject milter_memory_max=16M
for i in 1 2; do
    got=$(play "$T/near.eml" "$TEMP")
    [ "$got" = "y yes" ] || fail "near-limit report over milter_memory_max: reply [$got], want [$TEMP]"
done
grep -q 'not enough memory for received reports now (milter_memory_max); answered 451' \
    "$T/daemon.log" || fail "shortage not logged: $(cat "$T/daemon.log")"
grep -q 'malformed' "$T/daemon.log" && fail "a shortage was logged as malformed"
[ "$(nstored)" -eq 0 ] || fail "a deferred report was stored"
got=$(play "$DATA/inreports/google.eml")
[ "$got" = c ] || fail "small report with milter_memory_max=16M: reply [$got]"
[ "$(nstored)" -eq 1 ] || fail "the small report was not stored"
pass "over milter_memory_max: 451, not 5xx, not malformed; small reports still pass"
