#!/usr/bin/env python3
"""A loopback WebSocket server over TLS, for the tests of src/http/ws.c
and src/kube/exec.c.  Written from RFC 6455 with the standard library
only; each path is a behaviour:

  /echo       every data message back, as three fragments with a ping
              between them; the close handshake
  /big?n=N    one binary message of N bytes
  /cut        a frame header promising 1000 bytes, 10 of them, then EOF
  /masked     a masked frame (servers must not mask)
  /rsv        a frame with a reserved bit set
  /noaccept   a 101 with a wrong Sec-WebSocket-Accept
  /noproto    a 101 that chooses no subprotocol
  /refuse     403 with a Kubernetes Status body
  /api/v1/namespaces/NS/pods/POD/exec?command=...   the API server's exec
              (v5.channel.k8s.io), simulated: the command runs here, on
              this machine, with stdin, stdout, stderr relayed on channels
              0, 1, 2, the outcome as a Status on channel 3.  Needs the
              bearer token given on the command line.

  wsserver.py CERT KEY TOKEN PORTFILE     (listens on 127.0.0.1, port 0)
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        b = conn.recv(4096)
        if not b:
            return None, b""
        data += b
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return (lines[0], headers), rest


class Conn:
    def __init__(self, sock, rest):
        self.sock = sock
        self.buf = rest

    def need(self, n):
        while len(self.buf) < n:
            b = self.sock.recv(65536)
            if not b:
                raise EOFError
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        """(fin, opcode, payload) of a client frame; clients must mask."""
        b0, b1 = self.need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.need(8))[0]
        if not b1 & 0x80:
            raise ValueError("client frame not masked")
        mask = self.need(4)
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(self.need(n)))
        return bool(b0 & 0x80), b0 & 0x0F, data

    def message(self):
        """The next data message (fragments joined), answering pings."""
        parts, op = [], None
        while True:
            fin, o, data = self.frame()
            if o == 0x8:
                return 0x8, data
            if o == 0x9:
                self.send(0xA, data)
                continue
            if o == 0xA:
                continue
            if op is None:
                op = o
            parts.append(data)
            if fin:
                return op, b"".join(parts)

    def send(self, op, data, fin=True, mask=False):
        h = bytes([(0x80 if fin else 0) | op])
        m = 0x80 if mask else 0
        if len(data) < 126:
            h += bytes([m | len(data)])
        elif len(data) < 65536:
            h += bytes([m | 126]) + struct.pack(">H", len(data))
        else:
            h += bytes([m | 127]) + struct.pack(">Q", len(data))
        if mask:
            key = b"\x01\x02\x03\x04"
            h += key
            data = bytes(c ^ key[i % 4] for i, c in enumerate(data))
        self.sock.sendall(h + data)


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def upgrade(sock, headers, proto, key=None):
    k = key if key is not None else accept_key(headers["sec-websocket-key"])
    resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n" % k)
    if proto:
        resp += "Sec-WebSocket-Protocol: %s\r\n" % proto
    sock.sendall((resp + "\r\n").encode())


def exec_command(c, query):
    argv = query.get("command", [])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lock = threading.Lock()

    def pump(stream, ch):
        while True:
            b = stream.read1(32768) if hasattr(stream, "read1") else stream.read(32768)
            if not b:
                return
            with lock:
                c.send(0x2, bytes([ch]) + b)

    outs = [threading.Thread(target=pump, args=(proc.stdout, 1)),
            threading.Thread(target=pump, args=(proc.stderr, 2))]
    for t in outs:
        t.start()
    stdin_open = True
    try:
        while stdin_open:
            op, data = c.message()
            if op == 0x8:
                break
            if not data:
                continue
            if data[0] == 0 and stdin_open:
                try:
                    proc.stdin.write(data[1:])
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass
            elif data[0] == 255 and data[1:] == b"\x00":
                stdin_open = False
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
    for t in outs:
        t.join()
    code = proc.wait()
    if code == 0:
        status = {"metadata": {}, "status": "Success"}
    else:
        status = {"metadata": {}, "status": "Failure",
                  "message": "command terminated with non-zero exit code: exit status %d" % code,
                  "reason": "NonZeroExitCode",
                  "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
    with lock:
        c.send(0x2, b"\x03" + json.dumps(status).encode())
        c.send(0x8, struct.pack(">H", 1000))


def handle(sock, token):
    try:
        req, rest = read_head(sock)
        if req is None:
            return
        line, headers = req
        target = line.split(" ")[1]
        url = urllib.parse.urlsplit(target)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        c = Conn(sock, rest)
        proto = headers.get("sec-websocket-protocol", "")
        if path == "/refuse" or (path.endswith("/exec") and
                                 headers.get("authorization") != "Bearer " + token):
            body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "message": "pods \"x\" is forbidden: no exec for you",
                               "reason": "Forbidden", "code": 403}).encode()
            sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return
        if path == "/noaccept":
            upgrade(sock, headers, proto, key="AAAA" + accept_key(headers["sec-websocket-key"])[4:])
            return
        if path == "/noproto":
            upgrade(sock, headers, None)
            return
        upgrade(sock, headers, proto.split(",")[0].strip() if proto else None)
        if path == "/echo":
            while True:
                op, data = c.message()
                if op == 0x8:
                    c.send(0x8, data[:2])
                    return
                third = max(1, len(data) // 3)
                c.send(op, data[:third], fin=False)
                c.send(0x9, b"are you there")
                c.send(0x0, data[third:2 * third], fin=False)
                c.send(0x0, data[2 * third:], fin=True)
                # the pong for our ping comes back before the next message
        elif path == "/big":
            c.send(0x2, b"x" * int(query["n"][0]))
            c.send(0x8, struct.pack(">H", 1000))
            c.message()
        elif path == "/cut":
            sock.sendall(bytes([0x82, 126]) + struct.pack(">H", 1000) + b"0123456789")
        elif path == "/masked":
            c.send(0x2, b"hidden", mask=True)
            c.message()
        elif path == "/rsv":
            sock.sendall(bytes([0x80 | 0x40 | 0x2, 2]) + b"hi")
            c.message()
        elif path.endswith("/exec"):
            if proto.split(",")[0].strip() != "v5.channel.k8s.io":
                return
            exec_command(c, query)
    except (EOFError, ConnectionError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def main():
    cert, key, token, portfile = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    while True:
        s, _ = ls.accept()
        try:
            t = ctx.wrap_socket(s, server_side=True)
        except (ssl.SSLError, OSError):
            s.close()
            continue
        threading.Thread(target=handle, args=(t, token), daemon=True).start()


if __name__ == "__main__":
    main()
