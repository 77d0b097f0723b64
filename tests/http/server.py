#!/usr/bin/python3
"""A scripted HTTP server on loopback for the HTTP client's unit tests.

Not an API server: each path answers from a script, one entry per request,
the last entry repeating: a status code, "reset" (close without answering),
or a behaviour named below.  It also plays a few Kubernetes endpoints
(aggregated discovery, a list, watches that misbehave in chosen ways) so
the watch code's backoff can be measured.

Prints "PORT TLSPORT" on stdout once listening (TLSPORT 0 when openssl
is missing); the TLS port serves the same handler with a self-signed
certificate no client trusts.
"""
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SCRIPTS = {
    "/flaky": [503, 503, 200],
    "/slow-down": ["429+1", 200],
    "/timeout": [408, 200],
    "/reset": ["reset", 200],
    "/broken": [500],
    "/missing": [404],
    "/status": [422],
    "/silent": ["silent"],
    "/slowloris": ["slowloris"],
    "/retry-huge": ["429+99999999999999999999", 200],
    "/retry-day": ["429+86400"],
    "/hostile": ["hostile"],
    "/stream": ["stream"],
    "/ok": [200],
    "/headers": ["headers"],
    "/big": ["big"],
    "/api/v1/namespaces/demo/secrets/creds": ["secret-echo"],
}
COUNTS = {}
LOCK = threading.Lock()

SECRET_VALUE = "s3cr3t-Value-That-Must-Not-Print"

CORE = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
        "items": [{"metadata": {}, "versions": [{"version": "v1", "resources": [
            {"resource": "configmaps", "responseKind": {"kind": "ConfigMap"},
             "scope": "Namespaced"},
            {"resource": "secrets", "responseKind": {"kind": "Secret"},
             "scope": "Namespaced"},
            {"resource": "namespaces", "responseKind": {"kind": "Namespace"},
             "scope": "Cluster"}]}]}]}
GROUPS = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
          "items": []}


def cm(name, rv):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "events",
                         "resourceVersion": str(rv)}, "data": {"n": str(rv)}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json", extra=None):
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def kube(self, path, query):
        """The few API endpoints the watch tests use."""
        if path in ("/api", "/apis"):
            self.send(200, json.dumps(CORE if path == "/api" else GROUPS).encode())
            return True
        parts = path.split("/")
        # /api/v1/namespaces/MODE/configmaps
        if len(parts) != 6 or parts[1:4] != ["api", "v1", "namespaces"] or \
                parts[5] != "configmaps":
            return False
        mode = parts[4]
        if "watch=1" not in query:
            if mode == "listfail":
                self.send(500, b'{"kind":"Status","message":"etcd down","code":500}')
                return True
            self.send(200, json.dumps({"kind": "ConfigMapList", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": "5"},
                                       "items": [cm("first", 5)]}).encode())
            return True
        if mode == "close":		# a watch that ends at once
            self.send(200, b"")
        elif mode == "gone":		# 410: the resourceVersion expired
            self.send(410, b'{"kind":"Status","code":410,"reason":"Expired"}')
        elif mode == "broken":		# 500
            self.send(500, b'{"kind":"Status","code":500,"message":"boom"}')
        elif mode == "errorevent":	# an ERROR event with 410 inside a 200
            self.send(200, b'{"type":"ERROR","object":{"kind":"Status","code":410}}\n')
        elif mode == "events":		# a busy watch: the same object, changed
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for rv in range(6, 2006):
                    self.chunk((json.dumps({"type": "MODIFIED",
                                            "object": cm("first", rv)}) + "\n").encode())
                self.chunk(b"")
            except OSError:
                self.close_connection = True
        else:
            return False
        return True

    def answer(self):
        path, _, query = self.path.partition("?")
        with LOCK:
            n = COUNTS.get(path, 0)
            COUNTS[path] = n + 1
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        if path == "/count":
            self.send(200, json.dumps(COUNTS).encode())
            return
        if self.kube(path, query):
            return
        script = SCRIPTS.get(path, [200])
        step = script[min(n, len(script) - 1)]
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\1\0\0\0\0\0\0\0")
            self.connection.close()
            self.close_connection = True
            return
        if step == "silent":		# accepts, reads, never answers
            time.sleep(120)
            self.close_connection = True
            return
        if step == "slowloris":		# a header a byte at a time
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            for _ in range(120):
                time.sleep(1)
                try:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                except OSError:
                    break
            self.close_connection = True
            return
        if step == "hostile":		# a message with escapes, 200 KB long
            msg = "bad \x1b[31mred\x1b[0m \x1b]0;title\x07 " + "x" * 200000
            self.send(500 if n < 100 else 500, json.dumps(
                {"kind": "Status", "message": msg, "code": 500}).encode())
            return
        if step == "secret-echo":	# quotes what it was sent, as servers do
            self.send(422, json.dumps({"kind": "Status", "reason": "Invalid",
                                       "message": "Secret is invalid: data: %s" %
                                       body_in.decode(errors="replace"),
                                       "code": 422}).encode())
            return
        if step == "headers":
            self.send(200, json.dumps(dict(self.headers)).encode())
            return
        if step == "big":
            self.send(200, b"0123456789abcdef" * 65536)	# 1 MiB
            return
        if step == "stream":		# a watch that stays open for 4 s
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(20):
                    self.chunk(b'{"type":"BOOKMARK"}\n')
                    time.sleep(0.2)
                self.chunk(b"")
            except OSError:
                pass
            return
        extra = {}
        if isinstance(step, str) and "+" in step:
            code, after = step.split("+")
            step = int(code)
            extra["Retry-After"] = after
        body = b"ok"
        if step == 422:
            body = json.dumps({"kind": "Status", "status": "Failure",
                               "message": "the object is invalid: spec.x: Required value",
                               "reason": "Invalid", "code": 422}).encode()
        self.send(step, body, extra=extra)

    do_GET = do_PATCH = do_POST = do_DELETE = do_PUT = answer


def tls_server():
    """The same handler over TLS, with a certificate nobody trusts."""
    d = tempfile.mkdtemp()
    crt, key = os.path.join(d, "crt"), os.path.join(d, "key")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", crt, "-subj", "/CN=127.0.0.1",
                        "-days", "1"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


http.server.ThreadingHTTPServer.daemon_threads = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tls = tls_server()
# One write, whatever the buffering: the test reads up to the newline.
sys.stdout.write("%d %d\n" % (server.server_address[1],
                              tls.server_address[1] if tls else 0))
sys.stdout.flush()
server.serve_forever()
