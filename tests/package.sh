#!/bin/sh
# The Debian package, built and installed for real: dpkg-buildpackage -us -uc -b on a copy
# of the source, lintian (no errors), dpkg -i, then the installed daemon started directly
# (CI has no systemd) with the installed configuration as the package's user, one datagram
# through it, the installed agent reporting it, and a purge that leaves nothing behind.
# Not part of make check (it installs into the system and takes a minute or two):
# tests/run runs it after the suite, as `top_builddir=build-plain tests/package.sh`.
. "$top_srcdir/tests/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "installs a package: needs root (CI runs as root)"
need dpkg-buildpackage dh lintian fakeroot
[ -x "$SEND" ] || skip "$SEND is not built (run it with top_builddir=a build directory)"
if dpkg-query -W -f '${Status}' opentlsrpt 2>/dev/null | grep -q 'installed'; then
    skip "an opentlsrpt package is already installed here: not touching it"
fi
ver=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)

# A copy of the sources (the build cleans and configures in place).
src="$T/build/opentlsrpt-$ver"
mkdir -p "$src"
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top_srcdir" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\n" "$f"; done' sh) > "$T/files"
    tar -C "$top_srcdir" -cf - -T "$T/files" | tar -C "$src" -xf -
else
    tar -C "$top_srcdir" --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1 ||
    { tail -n 60 "$T/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$T"/build/opentlsrpt_"$ver"_*.deb)
pass "built $(basename "$deb")"
lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" > "$T/lintian.log" 2>&1 ||
    { cat "$T/lintian.log"; fail "lintian reports errors"; }
grep -c '^W:' "$T/lintian.log" | sed 's/^/lintian warnings: /'

at_exit "dpkg --purge opentlsrpt >/dev/null 2>&1"
dpkg -i "$deb" > "$T/install.log" 2>&1 || { cat "$T/install.log"; fail "dpkg -i"; }
id opentlsrpt >/dev/null 2>&1 || fail "no user opentlsrpt"
[ "$(stat -c '%U %G %a' /var/spool/opentlsrpt)" = "opentlsrpt opentlsrpt 750" ] ||
    fail "spool: $(stat -c '%U %G %a' /var/spool/opentlsrpt)"
for f in /usr/sbin/opentlsrpt /usr/bin/opentlsrpt-agent /etc/opentlsrpt/opentlsrpt.conf \
    /lib/systemd/system/opentlsrpt.service /lib/systemd/system/opentlsrpt-agent.service \
    /lib/systemd/system/opentlsrpt-agent.timer /etc/cron.d/opentlsrpt \
    /usr/lib/sysctl.d/60-opentlsrpt.conf /usr/share/man/man8/opentlsrpt.8.gz \
    /usr/share/man/man8/opentlsrpt-agent.8.gz /usr/share/man/man5/opentlsrpt.conf.5.gz; do
    [ -e "$f" ] || fail "not installed: $f"
done
dpkg-query -W -f '${Conffiles}\n' opentlsrpt | grep -q /etc/opentlsrpt/opentlsrpt.conf ||
    fail "the configuration is not a conffile"
/usr/sbin/opentlsrpt -n > /dev/null || fail "the installed configuration does not load"

# The installed units: valid for systemd, and sandboxed as well as the README says
# (systemd-analyze works offline; CI has no systemd to start them).
if command -v systemd-analyze > /dev/null; then
    systemd-analyze verify --man=no /lib/systemd/system/opentlsrpt.service \
        /lib/systemd/system/opentlsrpt-agent.service /lib/systemd/system/opentlsrpt-agent.timer \
        > "$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify"; }
    for u in opentlsrpt.service opentlsrpt-agent.service; do
        want=$(sed -n "s/^    $u  *\([0-9.]*\) OK\$/\1/p" "$top_srcdir/README")
        [ -n "$want" ] || fail "README gives no systemd-analyze score for $u"
        # --threshold counts tenths (0-100).
        systemd-analyze security --offline=true \
            --threshold="$(awk -v w="$want" 'BEGIN { printf "%d", w * 10 + 0.5 }')" \
            "/lib/systemd/system/$u" \
            > "$T/security.log" 2>&1 ||
            { tail -n 3 "$T/security.log"; fail "$u is exposed more than the README's $want"; }
    done
    pass "systemd units verified, exposure as the README says"
else
    echo "systemd-analyze is not installed: units not verified"
fi

# The installed daemon, as systemd would start it, but with its socket under $T.
chmod 755 "$T"
mkdir -p "$T/run"
/usr/sbin/opentlsrpt -f -o "tlsrpt_socket=$T/run/tlsrpt.sock" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "stop_daemon"
wait_for 10 test -S "$T/run/tlsrpt.sock"
[ "$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" = opentlsrpt ] ||
    fail "the daemon runs as $(ps -o user= -p "$DAEMON_PID")"
"$SEND" -s "$T/run/tlsrpt.sock" -n 1 "$DATA/datagrams/tlsa-success.json" | grep -q accepted=1 ||
    fail "datagram not accepted"
stop_daemon
grep -q 'stopping: received=1 stored=1' "$T/daemon.log" || { cat "$T/daemon.log"; fail "not stored"; }

# The installed agent refuses root, then reports the outcome as opentlsrpt.
/usr/bin/opentlsrpt-agent config > /dev/null 2>&1 && fail "the agent ran as root without -u"
day=$(ls /var/spool/opentlsrpt/journal | head -n 1)
/usr/bin/opentlsrpt-agent -u opentlsrpt report --day "$day" > "$T/report.json" 2> "$T/agent.err" ||
    { cat "$T/agent.err"; fail "agent report"; }
grep -q '"total-successful-session-count":1' "$T/report.json" || { cat "$T/report.json"; fail "report"; }
pass "installed daemon and agent"

dpkg --purge opentlsrpt > "$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "purge"; }
for f in /usr/sbin/opentlsrpt /etc/opentlsrpt /var/spool/opentlsrpt /etc/cron.d/opentlsrpt; do
    [ ! -e "$f" ] || fail "left after purge: $f"
done
pass "purged"
