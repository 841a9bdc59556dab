#!/usr/bin/python3
"""An SMTP server that takes mail only after AUTH (PLAIN or LOGIN), for tests/report_mail.sh.

usage: smtp_auth_server.py PORT USER PASSWORD-FILE OUTDIR

aiosmtpd (python3-aiosmtpd) listening on 127.0.0.1:PORT; each accepted message is stored
as OUTDIR/N.eml exactly as received. Prints "ready" once listening; runs until killed.
"""
import os
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    port, user, pwfile, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(pwfile) as f:
        password = f.read().splitlines()[0]

    class Store:
        n = 0

        async def handle_DATA(self, server, session, envelope):
            Store.n += 1
            with open(os.path.join(out, "%d.eml" % Store.n), "wb") as f:
                f.write(envelope.original_content or envelope.content)
            return "250 2.0.0 stored"

    def authenticator(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and data.login.decode() == user and
              data.password.decode() == password)
        return AuthResult(success=ok, handled=False)

    ctl = Controller(Store(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                     auth_required=True, auth_require_tls=False)
    ctl.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        signal.pause()
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
