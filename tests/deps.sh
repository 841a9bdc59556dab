#!/bin/sh
# Installs what building opentlsrpt and running its whole test suite needs (Debian 12).
# With --build, only what building needs.
set -eu
BUILD_DEPS="build-essential autoconf automake pkg-config
    libjson-c-dev libunbound-dev libevent-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
    libmilter-dev libesmtp-dev libpq-dev libmicrohttpd-dev"
if [ "${1:-}" = "--build" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $BUILD_DEPS >/dev/null
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests run private instances instead.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD_DEPS clang libclang-rt-14-dev \
    python3 python3-jsonschema python3-dkim python3-dnspython python3-aiosmtpd \
    postgresql postfix unbound nginx-light postfix-mta-sts-resolver opendkim-tools miltertest ldnsutils knot-dnsutils swaks \
    chromium prometheus prometheus-node-exporter curl \
    iproute2 procps openssl ca-certificates \
    valgrind debhelper lintian fakeroot dpkg-dev systemd linux-perf time \
    m4 libwrap0 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libicu-dev >/dev/null
# The metrics test starts its own prometheus and node_exporter on free ports; the
# packages' system services are not wanted.
systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
# sendmail 8.17 conflicts with postfix: unpacked, not installed (its libraries are above).
"$(dirname "$0")/fetch_sendmail.sh"
# Postfix 3.10 with TLSRPT for tests/postfix310_bed.sh: built once into
# /var/cache/opentlsrpt/postfix-3.10 (Debian 12 has 3.7; nothing is installed system-wide).
nice sh "$(dirname "$0")/postfix310.sh" >/dev/null
