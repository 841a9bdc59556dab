#!/bin/sh
# Builds a private Postfix 3.10 with TLSRPT support (Debian 12 ships 3.7) and prints the
# directory that holds it. Nothing is installed system-wide: the build lives in
# $OPENTLSRPT_CACHE/postfix-3.10 (default /var/cache/opentlsrpt/postfix-3.10) and is
# rebuilt only when absent or when this recipe changed. Postfix's source is fetched into a
# temporary directory and never enters the checkout.
#
# The sources come from Debian 13 (trixie) through a private apt configuration (its own
# sources list, package lists and cache under the temporary directory): the trixie entry
# exists only for the fetch and the system's apt state is never touched. Postfix comes as
# the source package (upstream tarball, built here); libtlsrpt as its -dev binary package,
# which holds the static library (the archive mirror serves no libtlsrpt source package).
#
# Usage: tests/postfix310.sh            build if needed, print the directory
#        tests/postfix310.sh --check    print the directory if the cached build is current,
#                                       else exit 1 (no network, no build)
set -eu
POSTFIX_VERSION=3.10.13-0+deb13u1
POSTFIX_UPSTREAM=3.10.13
TLSRPT_VERSION=0.5.0rc1-2
MIRROR=http://deb.debian.org/debian
CACHE=${OPENTLSRPT_CACHE:-/var/cache/opentlsrpt}/postfix-3.10
# Everything the build depends on; a change here rebuilds the cache. The compile-time paths
# point into the cache, so the 3.10 commands never read the system's /etc/postfix; no
# Berkeley DB (the tests use texthash: maps).
CCARGS="-DUSE_TLS -DUSE_TLSRPT -DNO_DB -DNO_NIS"
AUXLIBS="-l:libtlsrpt.a -lssl -lcrypto"
LAYOUT=1 # the hand-made install below
RECIPE="postfix=$POSTFIX_VERSION libtlsrpt=$TLSRPT_VERSION $CCARGS $AUXLIBS layout=$LAYOUT"

current() {
    [ -x "$CACHE/sbin/postfix" ] && [ -x "$CACHE/libexec/smtp" ] &&
        [ "$(cat "$CACHE/recipe" 2>/dev/null)" = "$RECIPE" ]
}
if current; then
    echo "$CACHE"
    exit 0
fi
[ "${1:-}" = "--check" ] && exit 1

W=$(mktemp -d /var/tmp/opentlsrpt-postfix310.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/apt/lists/partial" "$W/apt/cache/archives/partial" "$W/src"
KEYS=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$W/apt/sources.list" <<EOF
deb-src [signed-by=$KEYS] $MIRROR trixie main
deb [signed-by=$KEYS] $MIRROR trixie main
EOF
APT="-o Dir::Etc::sourcelist=$W/apt/sources.list -o Dir::Etc::sourceparts=/nonexistent
     -o Dir::State::Lists=$W/apt/lists -o Dir::Cache=$W/apt/cache
     -o Dir::State::status=/dev/null -o APT::Sandbox::User=root"
cd "$W/src"
# shellcheck disable=SC2086
apt-get $APT -qq update >&2
# shellcheck disable=SC2086
apt-get $APT -qq source --download-only "postfix=$POSTFIX_VERSION" >&2
# shellcheck disable=SC2086
apt-get $APT -qq download "libtlsrpt0-dev=$TLSRPT_VERSION" >&2
dpkg -x libtlsrpt0-dev_*.deb "$W/tlsrpt"
TLSRPT_INC="$W/tlsrpt/usr/include"
TLSRPT_LIB=$(dirname "$(find "$W/tlsrpt" -name libtlsrpt.a | head -1)")
if [ ! -f "$TLSRPT_INC/tlsrpt.h" ] || [ ! -f "$TLSRPT_LIB/libtlsrpt.a" ]; then
    echo "postfix310: libtlsrpt0-dev holds no static library" >&2
    exit 1
fi
tar xzf "postfix_$POSTFIX_UPSTREAM.orig.tar.gz"
cd "postfix-$POSTFIX_UPSTREAM"

rm -rf "$CACHE.new"
D="$CACHE.new"
P=$CACHE
nice make -s makefiles CCARGS="$CCARGS -I$TLSRPT_INC" AUXLIBS="-L$TLSRPT_LIB $AUXLIBS" \
    default_database_type=texthash \
    command_directory="$P/sbin" config_directory="$P/etc" meta_directory="$P/etc" \
    daemon_directory="$P/libexec" data_directory="$P/data" \
    queue_directory="$P/spool" sendmail_path="$P/sbin/sendmail" \
    newaliases_path="$P/sbin/newaliases" mailq_path="$P/sbin/mailq" \
    manpage_directory=no html_directory=no readme_directory=no >&2
nice make -s -j"$(nproc)" >&2
# Install by hand into the cache (postfix-install would also want users and a live system).
mkdir -p "$D/sbin" "$D/libexec" "$D/etc" "$D/data" "$D/spool"
for f in bin/*; do cp "$f" "$D/sbin/"; done
for f in libexec/*; do cp "$f" "$D/libexec/"; done
cp conf/postfix-script conf/post-install conf/postfix-wrapper conf/postfix-tls-script \
    conf/postfix-files conf/main.cf conf/master.cf "$D/etc/" 2>/dev/null || true
for f in postfix-script post-install postfix-wrapper postfix-tls-script; do
    [ -f "$D/etc/$f" ] && mv "$D/etc/$f" "$D/libexec/$f" && chmod 0755 "$D/libexec/$f"
done
"$D/sbin/postconf" -d mail_version >&2
echo "$RECIPE" > "$D/recipe"
rm -rf "$CACHE"
mv "$D" "$CACHE"
echo "$CACHE"
