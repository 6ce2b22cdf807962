#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny web service for the service-host tests: GET /health answers 200 "ok", or 500 while the
file named by $FAIL_FILE exists. Usage: health_app.py PORT"""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        fail = os.environ.get("FAIL_FILE")
        failing = bool(fail) and os.path.exists(fail)
        body = b"failing\n" if failing else b"ok\n"
        self.send_response(500 if failing and self.path == "/health" else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (os.getpid(), fmt % args))


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
