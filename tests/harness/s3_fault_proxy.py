#!/usr/bin/env python3
"""s3_fault_proxy.py — an HTTP/1.1 proxy that injects faults between an S3
client and tests/harness/s3_server.py (Python 3 standard library only).

    python3 s3_fault_proxy.py --upstream 127.0.0.1:PORT [--port 0] [--control-port 0]

Prints `ready port=N control_port=M` on stdout once both listen on
127.0.0.1.  Clients connect to PORT as if it were the server (the Host
header is passed through unchanged, so SigV4 signatures stay valid).  Each
client connection gets its own upstream connection; requests are relayed
one at a time (keep-alive, Content-Length and chunked bodies,
Expect: 100-continue).

Rules are set at run time on the control port (plain HTTP, unsigned):

    POST /rule    body: NAME [method=M] [match=REGEX] [nth=N] [times=K]
                        action=A [secs=T] [bytes=B]
    GET  /count/NAME  -> "FIRED SEEN"  (faults injected, requests matched)
    GET  /rules       -> one line per rule: NAME fired=F seen=S ...
    POST /clear       -> removes every rule
    GET  /log         -> one line per request relayed or faulted

A request matches a rule when its method equals M (default any) and REGEX
(Python re.search, default '') is found in "METHOD TARGET" (TARGET = path
and query as sent, e.g. "PUT /b/k?partNumber=2&uploadId=...").  The rule
fires on matches number N .. N+K-1 (nth default 1, times default 1; times=0
means every match from the Nth on).  The first rule (in the order added)
that matches and fires wins; every matching rule counts the request as
seen.  Actions:

    500            answer 500 InternalError (S3's XML), request not forwarded
    503            answer 503 SlowDown
    skew           answer 403 RequestTimeTooSkewed
    403            answer 403 AccessDenied (fatal: a client must not retry)
    429            answer 429 TooManyRequests (retriable)
    drop           close the client connection after reading the request
                   head, without forwarding (the client sees EOF / reset)
    drop-body      forward the head and B bytes (default half) of the body,
                   then close both connections (the server sees a short body)
    drop-after     forward the whole request, read the server's answer,
                   then close the client connection without answering (the
                   server did the work; the client must not trust it)
    drop-response  forward, then send the client only the answer's head and
                   B bytes (default half) of its body (half of the head
                   when the answer has no body), then close
    stall          wait T seconds (default 5) before forwarding (the client
                   may time out; the request is still forwarded afterwards
                   if the client is still connected)
    stall-response forward, then wait T seconds before answering
"""

import argparse
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUF = 1024 * 1024
ERRORS = {
    "500": (500, "Internal Server Error", "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
    "skew": (403, "Forbidden", "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."),
    "403": (403, "Forbidden", "AccessDenied", "Access Denied"),
    "429": (429, "Too Many Requests", "TooManyRequests", "Please reduce your request rate."),
}
ACTIONS = set(ERRORS) | {"drop", "drop-body", "drop-after", "drop-response", "stall", "stall-response"}


class Rule:
    def __init__(self, name, method=None, match="", nth=1, times=1, action=None, secs=5.0, nbytes=None):
        self.name, self.method, self.re = name, method, re.compile(match)
        self.match = match
        self.nth, self.times, self.action = nth, times, action
        self.secs, self.nbytes = secs, nbytes
        self.seen = 0
        self.fired = 0

    def describe(self):
        return "%s fired=%d seen=%d method=%s match=%s nth=%d times=%d action=%s" % (
            self.name, self.fired, self.seen, self.method or "*", self.match, self.nth, self.times, self.action)


class Rules:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []

    def add(self, line):
        f = line.split()
        if not f:
            raise ValueError("empty rule")
        kw = {}
        for a in f[1:]:
            k, eq, v = a.partition("=")
            if not eq:
                raise ValueError("expected key=value, got %r" % a)
            kw[k] = v
        unknown = set(kw) - {"method", "match", "nth", "times", "action", "secs", "bytes"}
        if unknown:
            raise ValueError("unknown rule keys: %s" % ", ".join(sorted(unknown)))
        if kw.get("action") not in ACTIONS:
            raise ValueError("action must be one of %s" % ", ".join(sorted(ACTIONS)))
        r = Rule(f[0], method=(kw.get("method") or "").upper() or None, match=kw.get("match", ""),
                 nth=int(kw.get("nth", "1")), times=int(kw.get("times", "1")), action=kw["action"],
                 secs=float(kw.get("secs", "5")), nbytes=int(kw["bytes"]) if "bytes" in kw else None)
        if r.nth < 1 or r.times < 0:
            raise ValueError("nth must be >= 1 and times >= 0")
        with self.lock:
            self.rules = [x for x in self.rules if x.name != r.name] + [r]

    def decide(self, method, target):
        subject = "%s %s" % (method, target)
        chosen = None
        with self.lock:
            for r in self.rules:
                if r.method and r.method != method:
                    continue
                if not r.re.search(subject):
                    continue
                r.seen += 1
                k = r.seen - r.nth
                if chosen is None and k >= 0 and (r.times == 0 or k < r.times):
                    r.fired += 1
                    chosen = r
            self.log.append("%s %s -> %s" % (method, target, chosen.name + ":" + chosen.action if chosen else "forward"))
            if len(self.log) > 100000:
                del self.log[:50000]
        return chosen


def read_head(f):
    """(first line, [(name, value)], raw bytes) of an HTTP message head, or
    None at a clean EOF before any byte."""
    raw = bytearray()
    lines = []
    while True:
        ln = f.readline(65537)
        if not ln:
            if not raw:
                return None
            raise ConnectionError("EOF inside a message head")
        raw += ln
        if ln in (b"\r\n", b"\n"):
            break
        lines.append(ln.rstrip(b"\r\n").decode("latin-1"))
        if len(raw) > 256 * 1024:
            raise ConnectionError("message head too large")
    if not lines:
        raise ConnectionError("empty message head")
    hdrs = []
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs.append((k.strip(), v.strip()))
    return lines[0], hdrs, bytes(raw)


def hget(hdrs, name):
    name = name.lower()
    for k, v in hdrs:
        if k.lower() == name:
            return v
    return None


def copy_exact(src, dst, n, limit=None):
    """Copies n bytes src -> dst (dst None: discard); stops after `limit`
    bytes when given.  Returns the bytes copied."""
    done = 0
    stop = n if limit is None else min(n, limit)
    while done < stop:
        b = src.read(min(BUF, stop - done))
        if not b:
            raise ConnectionError("EOF inside a body")
        if dst is not None:
            dst.write(b)
        done += len(b)
    return done


def copy_chunked(src, dst):
    """Relays a chunked body verbatim (sizes, data, trailers)."""
    while True:
        ln = src.readline(65537)
        if not ln:
            raise ConnectionError("EOF inside a chunked body")
        if dst is not None:
            dst.write(ln)
        size = int(ln.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:
                t = src.readline(65537)
                if not t:
                    raise ConnectionError("EOF inside chunked trailers")
                if dst is not None:
                    dst.write(t)
                if t in (b"\r\n", b"\n"):
                    return
        copy_exact(src, dst, size + 2)


def has_body(method, status):
    return not (method == "HEAD" or 100 <= status < 200 or status in (204, 304))


class Writer:
    """write() that sends everything (a raw socket file may write less)."""

    def __init__(self, sock):
        self.sock = sock

    def write(self, b):
        self.sock.sendall(b)

    def close(self):
        pass


class Conn:
    def __init__(self, sock, upstream, rules):
        self.c = sock
        self.cr = sock.makefile("rb", buffering=BUF)
        self.cw = Writer(sock)
        self.upstream, self.rules = upstream, rules
        self.u = self.ur = self.uw = None

    def up(self):
        if self.u is None:
            self.u = socket.create_connection(self.upstream)
            self.u.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.ur = self.u.makefile("rb", buffering=BUF)
            self.uw = Writer(self.u)

    def close_up(self):
        if self.u is not None:
            for f in (self.ur, self.uw, self.u):
                try:
                    f.close()
                except OSError:
                    pass
            self.u = None

    def run(self):
        try:
            while self.one():
                pass
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            self.close_up()
            for f in (self.cr, self.cw):
                try:
                    f.close()
                except OSError:
                    pass
            try:
                self.c.close()
            except OSError:
                pass

    def body_len(self, hdrs):
        te = hget(hdrs, "Transfer-Encoding")
        if te and "chunked" in te.lower():
            return "chunked"
        cl = hget(hdrs, "Content-Length")
        return int(cl) if cl else 0

    def send_request_body(self, hdrs, limit=None):
        n = self.body_len(hdrs)
        if n == "chunked":
            copy_chunked(self.cr, self.uw)
        else:
            copy_exact(self.cr, self.uw, n, limit)

    def discard_request_body(self, hdrs):
        n = self.body_len(hdrs)
        if n == "chunked":
            copy_chunked(self.cr, None)
        else:
            copy_exact(self.cr, None, n)

    def abort_client(self):
        """Closes the client connection so the client sees it end now,
        with a reset (SO_LINGER 0)."""
        try:
            self.c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        raise ConnectionError("fault: connection dropped")

    def answer_error(self, rule, method, hdrs):
        status, reason, code, msg = ERRORS[rule.action]
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                '<RequestId>FAULT%08d</RequestId></Error>' % (code, msg, rule.fired)).encode()
        expect = (hget(hdrs, "Expect") or "").lower() == "100-continue"
        keep = not expect
        if keep:
            self.discard_request_body(hdrs)
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                "x-amz-request-id: FAULT%08d\r\n%s\r\n" % (
                    status, reason, len(body), rule.fired, "" if keep else "Connection: close\r\n")).encode()
        self.cw.write(head + (body if method != "HEAD" else b""))
        if not keep:
            # the client may be sending the body anyway: let it finish
            # before closing, so it reads our answer rather than a reset
            try:
                self.c.shutdown(socket.SHUT_WR)
                self.c.settimeout(5)
                while self.cr.read1(BUF):
                    pass
            except OSError:
                pass
            return False
        return True

    def one(self):
        head = read_head(self.cr)
        if head is None:
            return False
        line, hdrs, raw = head
        parts = line.split(" ")
        if len(parts) != 3:
            raise ConnectionError("bad request line")
        method, target = parts[0], parts[1]
        rule = self.rules.decide(method, target)
        action = rule.action if rule else None
        if action in ERRORS:
            return self.answer_error(rule, method, hdrs)
        if action == "drop":
            self.abort_client()
        if action == "stall":
            time.sleep(rule.secs)
        self.up()
        self.uw.write(raw)
        expect = (hget(hdrs, "Expect") or "").lower() == "100-continue"
        if action == "drop-body":
            n = self.body_len(hdrs)
            lim = rule.nbytes if rule.nbytes is not None else (n // 2 if n != "chunked" else 1)
            if expect:
                interim = read_head(self.ur)
                if interim is None or not interim[0].split(" ")[1] == "100":
                    self.close_up()
                    self.abort_client()
            if n == "chunked":
                self.uw.write(self.cr.read1(max(lim, 1)))
            else:
                copy_exact(self.cr, self.uw, n, lim)
            self.close_up()
            self.abort_client()
        # the request body, minding 100-continue
        resp = None
        if expect:
            while True:
                resp = read_head(self.ur)
                if resp is None:
                    raise ConnectionError("upstream closed")
                st = int(resp[0].split(" ")[1])
                if st == 100:
                    self.cw.write(resp[2])
                    self.send_request_body(hdrs)
                    resp = None
                break
        else:
            self.send_request_body(hdrs)
        if resp is None:
            while True:
                resp = read_head(self.ur)
                if resp is None:
                    raise ConnectionError("upstream closed")
                if int(resp[0].split(" ")[1]) == 100:
                    continue   # a late 100 Continue: not for the client any more
                break
        rline, rhdrs, rraw = resp
        status = int(rline.split(" ")[1])
        n = self.body_len(rhdrs) if has_body(method, status) else 0
        upstream_close = (hget(rhdrs, "Connection") or "").lower() == "close"
        if action == "drop-after":
            if n == "chunked":
                copy_chunked(self.ur, None)
            else:
                copy_exact(self.ur, None, n)
            self.abort_client()
        if action == "stall-response":
            time.sleep(rule.secs)
        if action == "drop-response" and n == 0:
            # nothing after the head: cut the head itself
            self.cw.write(rraw[:len(rraw) // 2])
            self.close_up()
            self.abort_client()
        self.cw.write(rraw)
        if action == "drop-response":
            lim = rule.nbytes if rule.nbytes is not None else (n // 2 if n != "chunked" else 1)
            if n == "chunked":
                self.cw.write(self.ur.read1(max(lim, 1)))
            else:
                copy_exact(self.ur, self.cw, n, lim)
            self.close_up()
            self.abort_client()
        if n == "chunked":
            copy_chunked(self.ur, self.cw)
        else:
            copy_exact(self.ur, self.cw, n)
        if upstream_close:
            self.close_up()
            return False
        if (hget(hdrs, "Connection") or "").lower() == "close":
            return False
        if expect and status >= 300 and self.body_len(hdrs):
            return False
        return True


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def finish_request(self, request, client_address):
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Conn(request, self.upstream, self.rules).run()

    def shutdown_request(self, request):
        pass   # Conn.run closed it


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, text):
        b = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        rules = self.server.rules
        with rules.lock:
            if self.path.startswith("/count/"):
                name = self.path[len("/count/"):]
                for r in rules.rules:
                    if r.name == name:
                        return self.reply(200, "%d %d\n" % (r.fired, r.seen))
                return self.reply(404, "no rule %s\n" % name)
            if self.path == "/rules":
                return self.reply(200, "".join(r.describe() + "\n" for r in rules.rules))
            if self.path == "/log":
                return self.reply(200, "".join(ln + "\n" for ln in rules.log))
        self.reply(404, "unknown\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        rules = self.server.rules
        if self.path == "/rule":
            try:
                for ln in body.splitlines():
                    if ln.strip():
                        rules.add(ln.strip())
            except (ValueError, re.error) as e:
                return self.reply(400, "error: %s\n" % e)
            return self.reply(200, "ok\n")
        if self.path == "/clear":
            with rules.lock:
                rules.rules = []
            return self.reply(200, "ok\n")
        self.reply(404, "unknown\n")


def main():
    ap = argparse.ArgumentParser(description="fault-injecting HTTP proxy for S3 tests")
    ap.add_argument("--upstream", required=True, help="HOST:PORT")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    args = ap.parse_args()
    h, _, p = args.upstream.rpartition(":")
    rules = Rules()
    px = ProxyServer((args.host, args.port), BaseHTTPRequestHandler)
    px.upstream, px.rules = (h, int(p)), rules
    ctl = ThreadingHTTPServer((args.host, args.control_port), Control)
    ctl.daemon_threads = True
    ctl.rules = rules
    for s in (px, ctl):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready port=%d control_port=%d" % (px.server_address[1], ctl.server_address[1]), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
