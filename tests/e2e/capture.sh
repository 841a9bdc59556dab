#!/bin/bash
# Captures the mail log of real Postfix runs through the test bed into tests/data/logs/
# (run by hand as root when the corpus needs refreshing; not a test):
#   top_srcdir=$PWD tests/e2e/capture.sh
#   top_srcdir=$PWD tests/e2e/capture.sh secure
# Each case's expected outcomes are written by hand next to the log (*.expect).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/bed.sh"
out="$top_srcdir/tests/data/logs"
mkdir -p "$out"
bed_netns
bed_certs
bed_dns
bed_mx
if [ "${1:-}" = secure ]; then
    # "Verified" without DANE: per-destination secure and verify entries (CA trust and a
    # name match), next to a DANE domain (daneok) and the dane default level.
    bed_sender "good.example secure" "wrongname.example secure" "expired.example verify"
    for c in good wrongname expired daneok stsok; do
        bed_send a@sender.example "u1@$c.example" "secure $c"
    done
    sleep 2
    bed_settle 60
    grep -v 'postfix-script\|postfix/master' "$T/pf-send/maillog" > "$out/postfix-3.7-secure.log"
    echo "wrote $out/postfix-3.7-secure.log ($(wc -l < "$out/postfix-3.7-secure.log") lines)"
    exit 0
fi
# What an administrator with a few mandatory-TLS destinations has; the rest is dane/may.
bed_sender "expired.example secure" "wrongname.example secure" "untrusted.example secure" \
    "selfsigned.example secure" "nostarttls.example encrypt"
# 1: one message per case, tried once each.
for c in $BED_CASES; do bed_send a@sender.example "u1@$c.example" "case $c"; done
sleep 2
bed_settle 60
cp "$T/pf-send/maillog" "$T/phase1.log"
# 2: a burst to one domain (connection and TLS session reuse), two recipients in one
# message, and our own report mail (its sessions are not counted).
for i in 1 2 3 4 5 6; do bed_send a@sender.example "u$i@good.example" "burst $i"; done
printf 'From: a@sender.example\nTo: x@daneok.example, y@daneok.example\nSubject: two\n\nhi\n' |
    bed_exec sendmail -C "$T/pf-send" -f a@sender.example x@daneok.example y@daneok.example
bed_send tlsrpt@sender.example tlsrpt@good.example "Report Domain: good.example" \
    "<20261122.good.example.otr-0a1b2c3d@sender.example>"
sleep 2
bed_settle 60
grep -v 'postfix-script\|postfix/master' "$T/pf-send/maillog" > "$out/postfix-3.7-bed.log"
echo "wrote $out/postfix-3.7-bed.log ($(wc -l < "$out/postfix-3.7-bed.log") lines)"
