#!/bin/bash
# Captures the mail log of real Postfix runs through the test bed into tests/data/logs/
# (run by hand as root when the corpus needs refreshing; not a test):
#   top_srcdir=$PWD tests/e2e/capture.sh
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
# What an administrator with a few mandatory-TLS destinations has; the rest is dane/may.
bed_sender "expired.test secure" "wrongname.test secure" "untrusted.test secure" \
    "selfsigned.test secure" "nostarttls.test encrypt"
# 1: one message per case, tried once each.
for c in $BED_CASES; do bed_send a@sender.test "u1@$c.test" "case $c"; done
sleep 2
bed_settle 60
cp "$T/pf-send/maillog" "$T/phase1.log"
# 2: a burst to one domain (connection and TLS session reuse), two recipients in one
# message, and our own report mail (its sessions are not counted).
for i in 1 2 3 4 5 6; do bed_send a@sender.test "u$i@good.test" "burst $i"; done
printf 'From: a@sender.test\nTo: x@daneok.test, y@daneok.test\nSubject: two\n\nhi\n' |
    bed_exec sendmail -C "$T/pf-send" -f a@sender.test x@daneok.test y@daneok.test
bed_send tlsrpt@sender.test tlsrpt@good.test "Report Domain: good.test" \
    "<20261122.good.test.otr-0a1b2c3d@sender.test>"
sleep 2
bed_settle 60
grep -v 'postfix-script\|postfix/master' "$T/pf-send/maillog" > "$out/postfix-3.7-bed.log"
echo "wrote $out/postfix-3.7-bed.log ($(wc -l < "$out/postfix-3.7-bed.log") lines)"
