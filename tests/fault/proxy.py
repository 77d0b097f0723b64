#!/usr/bin/python3
"""A fault-injecting proxy between sector7 and the simulated cluster's API
server: a test tool, not part of sector7.

It terminates TLS (a test CA's certificate for 127.0.0.1) and speaks
HTTP/1.1 to sector7, so it can answer in the API server's place; each
request is forwarded over TLS to the API server whose port it reads from
the cluster's ports.env (the cluster may restart on new ports).  At seeded
random points it

  - answers 429 (Retry-After of 1 s, a day, or twenty digits), 500 or 503
    instead of the API server;
  - cuts the connection before answering, in the middle of an answer, or
    after forwarding a change (the change is made, the answer lost);
  - stalls an answer for a few seconds up to most of a minute;
  - ends watches at once (an empty 200), answers them 410 Gone or 500,
    cuts them after a few events, or holds them silent.

The faults of a run come from a seed and a rate written to a control file
(JSON {"seed": N, "rate": R}); it is read again whenever it changes, so a
runner can switch faults off between runs.  Every request is logged, one
JSON line each: time, method, path, fault.

    proxy.py --cluster DIR --cert C --key K --control FILE --log FILE

Prints its port on stdout once listening.
"""
import argparse
import http.client
import json
import os
import random
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "content-length", "host"}


class Faults:
    """Picks a fault per request from the seeded generator."""

    def __init__(self, control):
        self.control = control
        self.mtime = None
        self.rng = random.Random(0)
        self.rate = 0.0
        self.lock = threading.Lock()

    def reload(self):
        try:
            mtime = os.stat(self.control).st_mtime_ns
        except OSError:
            return
        if mtime == self.mtime:
            return
        self.mtime = mtime
        try:
            with open(self.control) as f:
                c = json.load(f)
        except (OSError, ValueError):
            return
        self.rng = random.Random(int(c.get("seed", 0)))
        self.rate = float(c.get("rate", 0))

    def pick(self, method, watch):
        with self.lock:
            self.reload()
            if self.rate <= 0:
                return None, None
            x = self.rng.random() / self.rate
            arg = self.rng.random()
        table = WATCH_FAULTS if watch else (
            MUTATING_FAULTS if method in ("PATCH", "POST", "PUT", "DELETE")
            else READ_FAULTS)
        for p, name in table:
            if x < p:
                return name, arg
            x -= p
        return None, None


# (probability, fault) at rate 1
READ_FAULTS = [(0.025, "429"), (0.02, "500"), (0.01, "503"),
               (0.015, "cut"), (0.015, "cut-mid"), (0.01, "stall")]
MUTATING_FAULTS = READ_FAULTS + [(0.02, "lost")]
WATCH_FAULTS = [(0.10, "watch-close"), (0.06, "watch-410"), (0.04, "watch-500"),
                (0.05, "watch-cut"), (0.02, "watch-silent")]


def apiserver_port(cluster):
    with open(os.path.join(cluster, "ports.env")) as f:
        for line in f:
            if line.startswith("APISERVER_PORT="):
                return int(line.split("=", 1)[1])
    raise OSError("no APISERVER_PORT in ports.env")


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None
    upstream_port = None

    def log_message(self, *args):
        pass

    def log(self, fault):
        rec = {"t": round(time.time(), 3), "m": self.command,
               "p": self.path[:200], "f": fault}
        with LOG_LOCK:
            LOG.write(json.dumps(rec) + "\n")
            LOG.flush()

    def cut(self):
        """Closes the connection at once (RST), no answer."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\1\0\0\0\0\0\0\0")
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def answer(self, code, body, extra=None):
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, message, extra=None):
        self.answer(code, json.dumps({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": code}).encode(), extra)

    def connect(self):
        port = apiserver_port(ARGS.cluster)
        if self.upstream is None or port != self.upstream_port:
            if self.upstream is not None:
                self.upstream.close()
            self.upstream = http.client.HTTPSConnection(
                "127.0.0.1", port, context=UPSTREAM_TLS, timeout=None)
            self.upstream_port = port
        return self.upstream

    def forward(self, fault, arg):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        try:
            up = self.connect()
            up.request(self.command, self.path, body=body, headers=headers)
            resp = up.getresponse()
        except (OSError, http.client.HTTPException):
            # The API server is down or restarting: no answer either.
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None
            self.cut()
            return
        if fault == "lost":		# the change was made; the answer is lost
            resp.read()
            self.cut()
            return
        # No body: 1xx, 204, 304 (a revalidated discovery document).
        if resp.status < 200 or resp.status in (204, 304):
            resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.end_headers()
            return
        chunked = resp.getheader("Content-Length") is None
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", resp.getheader("Content-Length"))
        self.end_headers()
        events = 0
        cut_after = int(arg * 6) if fault == "watch-cut" else -1
        try:
            if not chunked:
                data = resp.read()
                if fault == "cut-mid" and len(data) > 1:
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.cut()
                    return
                self.wfile.write(data)
                return
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                events += data.count(b"\n")
                if cut_after >= 0 and events > cut_after:
                    self.cut()
                    up.close()
                    self.upstream = None
                    return
                if fault == "cut-mid":
                    self.cut()
                    up.close()
                    self.upstream = None
                    return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (OSError, http.client.HTTPException):
            self.close_connection = True
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None

    def handle_one(self):
        watch = "watch=1" in self.path or "watch=true" in self.path
        fault, arg = FAULTS.pick(self.command, watch)
        self.log(fault)
        if fault in ("429",):
            after = ["1", "86400", "99999999999999999999", "2"][int(arg * 4)]
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.status(429, "TooManyRequests", "injected: slow down",
                        {"Retry-After": after})
            return
        if fault in ("500", "503", "watch-500"):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.status(503 if fault == "503" else 500, "InternalError",
                        "injected: an internal error")
            return
        if fault == "watch-410":
            self.status(410, "Expired", "injected: too old resource version")
            return
        if fault == "watch-close":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "cut":
            self.cut()
            return
        if fault == "stall":
            time.sleep(3 + arg * 42)
        if fault == "watch-silent":
            time.sleep(20 + arg * 40)
            self.cut()
            return
        self.forward(fault, arg)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one


def main():
    global ARGS, FAULTS, LOG, LOG_LOCK, UPSTREAM_TLS
    ap = argparse.ArgumentParser()
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ARGS = ap.parse_args()
    FAULTS = Faults(ARGS.control)
    LOG = open(ARGS.log, "a")
    LOG_LOCK = threading.Lock()
    UPSTREAM_TLS = ssl.create_default_context(
        cafile=os.path.join(ARGS.cluster, "pki", "ca.crt"))
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
