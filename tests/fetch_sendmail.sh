#!/bin/sh
# Unpacks Debian 12's sendmail 8.17 (sendmail-bin, sendmail-cf, sendmail-base) into a cache
# outside the checkout for tests/lib_sendmail.sh, without installing it: the packages
# conflict with the postfix package the rest of the suite needs. Run by tests/deps.sh;
# does nothing when the cache is there, refetches it when it is not.
#   tests/fetch_sendmail.sh [CACHE]      (default /var/cache/opentlsrpt/sendmail)
set -eu
cache=${1:-/var/cache/opentlsrpt/sendmail}
[ -x "$cache/usr/libexec/sendmail/sendmail" ] && [ -f "$cache/usr/share/sendmail/cf/m4/cf.m4" ] &&
    exit 0
dl=$(mktemp -d "${TMPDIR:-/tmp}/otr-sendmail.XXXXXX")
trap 'rm -rf "$dl"' EXIT
chmod 755 "$dl"
chown _apt "$dl" 2>/dev/null || true # apt-get download fetches as _apt
(cd "$dl" && apt-get download -qq sendmail-bin sendmail-cf sendmail-base)
mkdir -p "$(dirname "$cache")"
rm -rf "$cache.new"
for deb in "$dl"/*.deb; do dpkg -x "$deb" "$cache.new"; done
"$cache.new/usr/libexec/sendmail/sendmail" -d0.1 -bt < /dev/null 2>&1 | grep -q 'STARTTLS' ||
    { echo "fetch_sendmail: the unpacked sendmail does not run or lacks STARTTLS" >&2; exit 1; }
rm -rf "$cache"
mv "$cache.new" "$cache"
echo "sendmail unpacked in $cache"
