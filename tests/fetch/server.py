#!/usr/bin/python3
"""An HTTPS file server on 127.0.0.1 for the fetch tests.

    server.py ROOT CERT KEY LOG

Serves the files under ROOT at /<path> (and /redir/<path>, which
redirects there), with byte ranges ("Range: bytes=N-"), over TLS with
CERT and KEY.  Prints its port on stdout once listening.  Each request is
logged to LOG as "GET <path> <range or ->".

A file can be made to misbehave, for the cases fetch must survive:
    POST /_mode?path=P&mode=M     M is one of
        normal     as it is
        corrupt    one byte changed (same size)
        pad        16 bytes more than the file
        cut-once   the first request gets half of the body, then the
                   connection closes; later ones are normal
        cut        every request gets half of what it asked for, then the
                   connection closes
        norange    Range is ignored: always the whole file (200)
        badrange   a Range is answered 206 from byte 0, not from where asked
        missing    404
    POST /_delay?ms=N             every file request waits N ms first
    POST /_reset                  starts max_active counting again
    GET  /_stats                  {"max_active": N, "requests": N}
"""
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

ROOT, CERT, KEY, LOG = sys.argv[1:5]
MODES = {}
SEEN = {}
STATE = {"active": 0, "max_active": 0, "requests": 0, "delay": 0}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with LOCK:
            if u.path == "/_mode":
                MODES[q["path"]] = q["mode"]
                SEEN.pop(q["path"], None)
            elif u.path == "/_delay":
                STATE["delay"] = int(q["ms"])
            elif u.path == "/_reset":
                STATE["max_active"] = STATE["active"]
        self.reply(200, b"ok\n")

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        path = urllib.parse.unquote(u.path)
        if path == "/_stats":
            with LOCK:
                body = json.dumps(STATE).encode()
            self.reply(200, body, [("Content-Type", "application/json")])
            return
        rng = self.headers.get("Range")
        with open(LOG, "a") as f:
            f.write("GET %s %s\n" % (path, rng or "-"))
        if path.startswith("/redir/"):
            self.reply(302, b"", [("Location", path[len("/redir"):])])
            return
        with LOCK:
            STATE["active"] += 1
            STATE["requests"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            delay = STATE["delay"]
        try:
            if delay:
                time.sleep(delay / 1000.0)
            self.serve(path.lstrip("/"), rng)
        finally:
            with LOCK:
                STATE["active"] -= 1

    def serve(self, rel, rng):
        full = os.path.realpath(os.path.join(ROOT, rel))
        with LOCK:
            mode = MODES.get(rel, "normal")
            first = rel not in SEEN
            SEEN[rel] = True
        if not full.startswith(os.path.realpath(ROOT) + os.sep) or \
                not os.path.isfile(full) or mode == "missing":
            self.reply(404, b"not found\n")
            return
        data = open(full, "rb").read()
        if mode == "corrupt":
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0x20]) + data[mid + 1:]
        elif mode == "pad":
            data = data + b"# sixteen bytes\n"
        start = 0
        if rng and mode != "norange" and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.reply(416, b"", [("Content-Range", "bytes */%d" % len(data))])
                return
        if start and mode == "badrange":
            start = 0
            body = data
            self.send_response(206)
            self.send_header("Content-Range", "bytes 0-%d/%d" % (len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "cut" or (mode == "cut-once" and first):
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.socket = ctx.wrap_socket(server.socket, server_side=True)
sys.stdout.write("%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
