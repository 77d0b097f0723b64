#!/usr/bin/python3
"""A scripted HTTP server on loopback for the HTTP client's tests.

Each path answers from its own script, one entry per request, the last
entry repeating: a status code, or "reset" (close without answering).
Prints its port on stdout once listening.
"""
import http.server
import json
import socket
import sys
import threading

SCRIPTS = {
    "/flaky": [503, 503, 200],
    "/slow-down": ["429+1", 200],
    "/timeout": [408, 200],
    "/reset": ["reset", 200],
    "/broken": [500],
    "/missing": [404],
    "/status": [422],
}
COUNTS = {}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        path = self.path.split("?")[0]
        with LOCK:
            n = COUNTS.get(path, 0)
            COUNTS[path] = n + 1
        if path == "/count":
            body = json.dumps(COUNTS).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        script = SCRIPTS.get(path, [200])
        step = script[min(n, len(script) - 1)]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\1\0\0\0\0\0\0\0")
            self.connection.close()
            self.close_connection = True
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
        self.send_response(step)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PATCH = do_POST = do_DELETE = answer


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
# One write, whatever the buffering: the test reads up to the newline.
sys.stdout.write("%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
