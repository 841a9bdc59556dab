#!/usr/bin/python3
"""HTTPS endpoint for the agent tests: a real TLS server (http.server behind ssl) on
127.0.0.1 that records every request (path, headers, body) as DIR/NNNN.json and answers by
path: /ok 200, /created 201, /fail 500, /missing 404, /moved 301 (to /ok), /slow waits
SECONDS before answering 200, anything else 404.
usage: https_sink.py CERT KEY DIR PORTFILE [SLOW_SECONDS]"""
import base64
import http.server
import json
import os
import ssl
import sys
import threading
import time

CERT, KEY, DIR, PORTFILE = sys.argv[1:5]
SLOW = float(sys.argv[5]) if len(sys.argv) > 5 else 30
CODES = {"/ok": 200, "/created": 201, "/fail": 500, "/missing": 404, "/moved": 301, "/slow": 200}
lock = threading.Lock()
count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path = self.path.split("?")[0]
        with lock:
            count[0] += 1
            n = count[0]
        rec = {"path": self.path, "headers": dict(self.headers.items()),
               "body": base64.b64encode(body).decode()}
        tmp = os.path.join(DIR, ".%04d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(DIR, "%04d.json" % n))
        if path == "/slow":
            time.sleep(SLOW)
        code = CODES.get(path, 404)
        self.send_response(code)
        if code == 301:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
