#!/usr/bin/python3
"""An HTTPS server on loopback standing in for the ingress controller.

    https_server.py ADDR CERTDIR HOST...

Serves each HOST with CERTDIR/HOST.crt and .key, chosen by SNI (a name it
has no certificate for gets the first host's); answers health paths the
way the apps do, /status/NNN with NNN, /slow after 5 s.  Prints its port
once listening.  Requests are bounded: it serves until killed.
"""
import http.server
import json
import ssl
import sys
import threading
import time

addr, certdir, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
contexts = {}
for h in hosts:
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain("%s/%s.crt" % (certdir, h), "%s/%s.key" % (certdir, h))
    contexts[h] = c
default = contexts[hosts[0]]


def pick(sock, name, ctx):
    if name in contexts:
        sock.context = contexts[name]


default.sni_callback = pick
BODIES = {
    "/healthz": (200, {"status": "ok"}),
    "/api/health": (200, {"commit": "x", "database": "ok", "version": "12"}),
    "/api/v1/health": (200, {"message": "OK"}),
    "/gotrue/health": (200, {"name": "GoTrue", "version": "x"}),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        code, body = BODIES.get(path, (200, "ok"))
        if path.startswith("/status/"):
            code, body = int(path[8:]), "status"
        if path == "/slow":
            time.sleep(5)
        data = (json.dumps(body, separators=(",", ":")) if isinstance(body, dict) else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer((addr, 0), Handler)
server.daemon_threads = True
# Failed handshakes are what some probes test: not worth a traceback.
server.handle_error = lambda request, address: None
# The handshake happens in each request's thread, not in accept(), so
# probes that come at once are not served one after the other.
server.socket = default.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)
sys.stdout.write("%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
