#!/usr/bin/python3
"""An SMTP sink and a webhook sink on 127.0.0.1 for the alerting test.

    sinks.py OUTDIR

Prints "SMTP_PORT WEBHOOK_PORT" once both listen.  The SMTP sink speaks
enough ESMTP for Alertmanager (EHLO, AUTH PLAIN and LOGIN, MAIL, RCPT,
DATA, RSET, NOOP, QUIT; no TLS) and writes each message to
OUTDIR/mail-N.json with the login it came with.  The webhook sink writes
each POST to OUTDIR/hook-N.json with its path and Authorization header.
"""
import base64
import http.server
import json
import os
import socketserver
import sys
import threading

OUT = sys.argv[1]
LOCK = threading.Lock()
COUNT = {"mail": 0, "hook": 0}


def save(kind, record):
    with LOCK:
        COUNT[kind] += 1
        path = os.path.join(OUT, "%s-%d.json" % (kind, COUNT[kind]))
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.rename(path + ".tmp", path)


class SMTP(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        login = None
        mail_from, rcpt = None, []
        self.send("220 sink.local ESMTP test sink")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-sink.local\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                parts = arg.split()
                if parts[0].upper() == "PLAIN":
                    if len(parts) > 1:
                        blob = parts[1]
                    else:
                        self.send("334 ")
                        blob = self.rfile.readline().decode().strip()
                    _, user, pw = base64.b64decode(blob).decode().split("\0")
                elif parts[0].upper() == "LOGIN":
                    self.send("334 " + base64.b64encode(b"Username:").decode())
                    user = base64.b64decode(self.rfile.readline().strip()).decode()
                    self.send("334 " + base64.b64encode(b"Password:").decode())
                    pw = base64.b64decode(self.rfile.readline().strip()).decode()
                else:
                    self.send("504 unsupported")
                    continue
                login = {"mechanism": parts[0].upper(), "user": user, "password": pw}
                self.send("235 ok")
            elif verb == "MAIL":
                mail_from, rcpt = arg, []
                self.send("250 ok")
            elif verb == "RCPT":
                rcpt.append(arg)
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go on")
                body = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    body.append(l.decode(errors="replace"))
                save("mail", {"login": login, "from": mail_from, "rcpt": rcpt, "data": "".join(body)})
                self.send("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.send("250 ok")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not implemented")


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        save("hook", {"path": self.path, "authorization": self.headers.get("Authorization"),
                      "content_type": self.headers.get("Content-Type"), "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class TS(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


smtp = TS(("127.0.0.1", 0), SMTP)
hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
for s in (smtp, hook):
    threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdout.write("%d %d\n" % (smtp.server_address[1], hook.server_address[1]))
sys.stdout.flush()
threading.Event().wait()
