#!/bin/sh
# import-log end to end: the real Postfix 3.7 capture (RFC 3339 timestamps) and the sendmail
# lines into a spool, then `report`: exact counts, result types, MX names and IPs per domain;
# our own report mail is not counted; several files are one log (a session split across
# rotated files is kept); DANE sessions get the MX's TLSA records as policy strings (from a
# local unbound); a second importer is refused while one runs.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_dns.sh"
need python3
write_conf "$T/c.conf"
L="$DATA/logs"
"$AGENT" -c "$T/c.conf" import-log "$L/postfix-3.7-rfc3339.log" > "$T/import.out" ||
    fail "import-log failed"
cat "$T/import.out"
grep -q 'outcomes=15 .*own_reports=1 ' "$T/import.out" || fail "wrong import counts"
# sendmail lines through stdin, format chosen on the command line
TZ=UTC "$AGENT" -c "$T/c.conf" import-log --format sendmail - < "$L/sendmail-8.17.log" > "$T/sm.out" ||
    fail "import-log of sendmail lines failed"
grep -q '^-: lines=17 .*outcomes=5 ' "$T/sm.out" || fail "wrong sendmail counts: $(cat "$T/sm.out")"
"$AGENT" -c "$T/c.conf" import-log --format exim "$L/sendmail-8.17.log" 2>/dev/null &&
    fail "an unknown format was accepted"
# Classic timestamps carry no year: the sendmail lines land in the latest past Nov 22.
smday=$(python3 -c 'import datetime as d; t=d.date.today(); y=t.year if d.date(t.year,11,22) <= t+d.timedelta(days=7) else t.year-1; print("%d-11-22" % y)')
"$AGENT" -c "$T/c.conf" report --day 2026-11-22 > "$T/report.jsonl"
[ "$smday" = 2026-11-22 ] || "$AGENT" -c "$T/c.conf" report --day "$smday" >> "$T/report.jsonl"
python3 - "$T/report.jsonl" <<'PY' || fail "reports differ"
import json, sys
got = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    for p in r["policies"]:
        pol = p["policy"]
        key = r["report-id"].split(".", 1)[1].rsplit(".otr-", 1)[0]
        fd = sorted((f["result-type"], f.get("receiving-mx-hostname"), f.get("receiving-ip"),
                     f.get("failure-reason-code"), f["failed-session-count"])
                    for f in p.get("failure-details", []))
        got.setdefault(key, []).append((pol["policy-type"], pol["policy-domain"],
            p["summary"]["total-successful-session-count"],
            p["summary"]["total-failure-session-count"], fd))
want = {
 "good.test": [("no-policy-found", "good.test", 7, 0, [])],
 # "Verified", but no resolver here confirms validated TLSA records: not DANE
 "daneok.test": [("no-policy-found", "daneok.test", 2, 0, [])],
 "expired.test": [("no-policy-found", "expired.test", 0, 1,
     [("certificate-expired", "mx.expired.test", "127.0.9.2", "X509_V_ERR_CERT_HAS_EXPIRED", 1)])],
 "wrongname.test": [("no-policy-found", "wrongname.test", 0, 1,
     [("certificate-host-mismatch", "mx.wrongname.test", "127.0.9.3", "X509_V_ERR_HOSTNAME_MISMATCH", 1)])],
 "untrusted.test": [("no-policy-found", "untrusted.test", 0, 1,
     [("certificate-not-trusted", "mx.untrusted.test", "127.0.9.4", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", 1)])],
 "selfsigned.test": [("no-policy-found", "selfsigned.test", 0, 1,
     [("certificate-not-trusted", "mx.selfsigned.test", "127.0.9.5", "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", 1)])],
 "nostarttls.test": [("no-policy-found", "nostarttls.test", 0, 1,
     [("starttls-not-supported", "mx.nostarttls.test", "127.0.9.6", "starttls-not-offered", 1)])],
 "danebad.test": [("tlsa", "mx.danebad.test", 0, 1,
     [("tlsa-invalid", "mx.danebad.test", "127.0.9.8", "X509_V_ERR_DANE_NO_MATCH", 1)])],
 "example.com": [("no-policy-found", "example.com", 1, 0, [])],
 "untrusted.example": [("no-policy-found", "untrusted.example", 0, 1,
     [("certificate-not-trusted", "mx.untrusted.example", "198.51.100.7", "verify-fail", 1)])],
 "nocert.example": [("no-policy-found", "nocert.example", 0, 1,
     [("validation-failure", "mx.nocert.example", "203.0.113.5", "no-certificate", 1)])],
 "broken.example": [("no-policy-found", "broken.example", 0, 1,
     [("validation-failure", "mx.broken.example", "203.0.113.9", "tls-handshake-failure", 1)])],
 "dane.example": [("tlsa", "mx.dane.example", 0, 1,
     [("tlsa-invalid", "mx.dane.example", "192.0.2.77", "dane-verification-failed", 1)])],
}
bad = 0
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print("domain %s:\n  want %s\n  got  %s" % (k, want.get(k), got.get(k)))
        bad = 1
sys.exit(bad)
PY
# Rotated files are read as one log: a session whose TLS line ends mail.log.1 and whose
# delivery line starts mail.log is kept.
n=$(grep -n 'TLS connection established to' "$L/postfix-3.7-rfc3339.log" | head -n 1 | cut -d: -f1)
head -n "$n" "$L/postfix-3.7-rfc3339.log" > "$T/mail.log.1"
tail -n "+$((n + 1))" "$L/postfix-3.7-rfc3339.log" > "$T/mail.log"
write_conf "$T/split.conf" "spool_directory=$T/split-spool"
"$AGENT" -c "$T/split.conf" import-log "$T/mail.log.1" "$T/mail.log" > "$T/split.out" ||
    fail "import-log of two files failed"
cat "$T/split.out"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] } }
     END { printf "outcomes=%d own_reports=%d unmatched=%d\n", sum["outcomes"], sum["own_reports"], sum["unmatched"] }' \
    "$T/split.out" > "$T/split.sum"
grep -qx 'outcomes=15 own_reports=1 unmatched=0' "$T/split.sum" ||
    fail "a session split across files was lost: $(cat "$T/split.sum")"

# TLSA policy strings, looked up as the follower does (postfix-edge.log's verified
# sessions): only DNSSEC-validated records make a session tlsa; the MX of port.example
# publishes its records in an unsigned zone, so its "Verified" is CA trust, not DANE.
if command -v unbound > /dev/null; then
    dns_tlsrpt_zone reuse.example "mailto:x@reuse.example" > "$T/reuse.zone"
    echo '_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef' >> "$T/reuse.zone"
    dns_sign_zone reuse.example "$T/reuse.zone" >/dev/null
    cat > "$T/zones" <<EOF
  local-zone: "example." static
  local-data: '_2525._tcp.mx.port.example. TLSA 2 0 1 fedcba9876543210'
  local-zone: "reuse.example." transparent
auth-zone:
  name: "reuse.example."
  zonefile: "$T/reuse.zone.signed"
EOF
    start_unbound "$T/zones"
    write_conf "$T/dane.conf" "spool_directory=$T/dane-spool" "resolver=$DNS_RESOLVER" \
        "dnssec_trust_anchor_file=$T/ta.keys"
    TZ=UTC "$AGENT" -c "$T/dane.conf" import-log "$L/postfix-edge.log" > "$T/dane.out" ||
        fail "import-log with a resolver failed"
    "$AGENT" -c "$T/dane.conf" report --day "$smday" > "$T/dane.jsonl"
    python3 - "$T/dane.jsonl" <<'PY' || fail "TLSA policy strings: $(cat "$T/dane.jsonl")"
import json, sys
got = {}
for line in open(sys.argv[1]):
    for p in json.loads(line)["policies"]:
        if p["policy"]["policy-type"] == "tlsa":
            got[p["policy"]["policy-domain"]] = p["policy"].get("policy-string")
    if p["policy"]["policy-domain"] == "port.example":
        got["port.example"] = p["policy"]["policy-type"]
want = {"mx.reuse.example": ["3 1 1 0123456789ABCDEF"], "port.example": "no-policy-found"}
if got != want:
    print("want %s\ngot  %s" % (want, got))
    sys.exit(1)
PY
else
    echo "skipping the TLSA part: unbound is not installed"
fi

# One importer at a time.
python3 -c 'import fcntl,sys,time; f=open(sys.argv[1],"a"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2],"w").close(); time.sleep(5)' \
    "$T/spool/import.lock" "$T/locked" &
locker=$!
wait_for 10 test -f "$T/locked"
"$AGENT" -c "$T/c.conf" import-log "$L/postfix-edge.log" 2>"$T/lock.err" && fail "a second importer ran"
grep -q 'another import-log is running' "$T/lock.err" || fail "no reason given: $(cat "$T/lock.err")"
wait "$locker"
pass "import-log: postfix and sendmail outcomes reported exactly, across files, with TLSA records"
