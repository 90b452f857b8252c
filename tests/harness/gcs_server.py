#!/usr/bin/env python3
"""gcs_server.py — a strict Google Cloud Storage JSON API server and OAuth2
token endpoint for sinkpipe's tests (Python 3 standard library, plus
`cryptography` to verify RS256 signatures).

    python3 gcs_server.py --dir DIR --account EMAIL=PUBKEY.pem...
        [--bucket NAME]... [--port 0] [--token-lifetime 3600]
        [--token-uses 0] [--admin-token TOKEN] [--max-skew 300]

Prints `ready port=N` on stdout once it accepts connections (127.0.0.1).

Token endpoint, POST /token (the token_uri of the test key files):
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT.  The
JWT must be RS256 (header alg/typ), signed by the private half of the
public key given for its `iss` (--account), with aud = this endpoint's
URL, a scope holding devstorage.read_write or devstorage.full_control,
iat within --max-skew of now, exp after now and at most 3600 s after iat.
Refusals are 400 {"error": "invalid_grant", "error_description": ...}.
Tokens live --token-lifetime seconds (expires_in says so) and, with
--token-uses N, are refused after N requests (401), as revoked early.

Storage (every request needs `Authorization: Bearer <token>`; a missing,
unknown or expired one is 401):
  GET    /storage/v1/b/B                          bucket
  GET    /storage/v1/b/B/o?prefix=P               list
  GET    /storage/v1/b/B/o/NAME[?alt=media]       metadata / bytes
  DELETE /storage/v1/b/B/o/NAME
  POST   /upload/storage/v1/b/B/o?uploadType=media&name=N
  POST   /upload/storage/v1/b/B/o?uploadType=multipart (multipart/related:
         JSON metadata, then the media; md5Hash verified when given)
  POST   /upload/storage/v1/b/B/o?uploadType=resumable&name=N (JSON body:
         metadata) -> 200, Location: the session URI (…&upload_id=ID)
  PUT    SESSION  Content-Range: bytes A-B/* (a non-last chunk: a
         multiple of 256 KiB, A = the bytes held) -> 308, Range: bytes=0-B;
         bytes A-B/T or bytes */T (the last) -> 200 and the object (an
         X-Goog-Hash md5 is verified); bytes */* -> 308 (status query)
  DELETE SESSION -> 499; the session is gone (404 after)
ifGenerationMatch=0 is honoured on uploads (checked when a resumable
session starts and again when it completes): 412 when the object exists.
An object only exists once its upload completes.

Faults (control, no token): POST /_fault {"name", "match" (substring of
"METHOD path?query Content-Range"), "action": an HTTP status (e.g. 503, 429) | "drop"
(close without answering, the request not applied) | "drop_after" (apply
it, then close without answering) | "delay" (hold it "secs" seconds, then
serve it) | "precreate" (an object appears under the name just before the
upload completes: another writer won), "nth" (first matching request that
fires, default 1), "times" (default 1)}; GET /_fault/NAME -> fired count;
POST /_clear; POST /_tokens {"uses": N, "lifetime": S} (tokens issued from
then on); GET /_sessions -> resumable sessions neither completed nor
cancelled.

Every request is logged as one JSON line to DIR/requests.log (op, method,
path, status, upload kind, bytes); tokens, assertions and keys never.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

UNIT = 256 * 1024
SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",
          "https://www.googleapis.com/auth/devstorage.full_control")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Fail(Exception):
    def __init__(self, status, message, body=None):
        super().__init__(message)
        self.status, self.message, self.body = status, message, body


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.accounts = {}
        for a in args.account:
            email, _, path = a.partition("=")
            with open(path, "rb") as f:
                self.accounts[email] = serialization.load_pem_public_key(f.read())
        self.buckets = {b: {} for b in args.bucket}
        self.tokens = {}    # token -> [expires_at, uses_left or None]
        self.sessions = {}  # id -> dict
        self.faults = []
        self.gen = 1000
        self.log = open(os.path.join(args.dir, "requests.log"), "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcs_server"

    def log_message(self, fmt, *a):
        pass

    # ------------------------------------------------------------ helpers
    @property
    def st(self):
        return self.server.state

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, data=b"", ctype="application/json; charset=UTF-8", headers=None):
        self.logrec["status"] = status
        if self.swallow:  # a drop_after fault: applied, never answered
            return
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype and data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def send_error_json(self, status, message):
        self.send(status, {"error": {"code": status, "message": message,
                                     "errors": [{"message": message, "reason": "x"}]}})

    def fault(self, when):
        """The action of the first fault rule matching this request."""
        desc = "%s %s %s" % (self.command, self.path, self.headers.get("Content-Range") or "")
        with self.st.lock:
            for r in self.st.faults:
                act = str(r["action"])
                if (act == "drop_after") != (when == "after"):
                    continue
                if r["match"] in desc and r.get("method", self.command) == self.command:
                    r["seen"] += 1
                    if r["seen"] >= r.get("nth", 1) and r["fired"] < r.get("times", 1):
                        r["fired"] += 1
                        self.logrec["fault"] = r["name"]
                        if act == "delay":
                            self.delay = float(r.get("secs", 1))
                        return act
                    return None
        return None

    def drop(self):
        self.close_connection = True
        self.logrec["status"] = "dropped"
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def auth(self):
        h = self.headers.get("Authorization") or ""
        self.logrec["op"] = "unauthorized"  # until the token is accepted
        if not h.startswith("Bearer "):
            raise Fail(401, "Anonymous caller does not have storage access (no bearer token).")
        tok = h[7:].strip()
        if self.st.args.admin_token and secrets.compare_digest(tok, self.st.args.admin_token):
            self.logrec["who"] = "admin"
            self.logrec.pop("op")
            return
        with self.st.lock:
            t = self.st.tokens.get(tok)
            if t is None:
                raise Fail(401, "Invalid Credentials")
            if time.time() >= t[0]:
                raise Fail(401, "Invalid Credentials (token expired)")
            if t[1] is not None:
                if t[1] <= 0:
                    raise Fail(401, "Invalid Credentials (token revoked)")
                t[1] -= 1
            self.logrec["who"] = "token%d" % t[2]
        self.logrec.pop("op")

    # ------------------------------------------------------------ dispatch
    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        self.q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        self.upath = u.path
        self.swallow = self.precreate = False
        self.logrec = {"t": time.time(), "method": self.command, "path": u.path,
                       "query": {k: v for k, v in self.q.items() if k != "upload_id"}}
        body = self.body() if self.command in ("POST", "PUT") else b""
        try:
            if u.path.startswith("/_"):
                return self.control(body)
            act = self.fault("before")
            if act == "drop":
                return self.drop()
            if act == "delay":  # hold the request, then serve it
                time.sleep(self.delay)
            elif act == "precreate":  # another writer wins the name first
                self.precreate = True
            elif act is not None:
                st = int(act)
                return self.send_error_json(st, "injected fault %d" % st)
            if u.path == "/token" and self.command == "POST":
                self.logrec["op"] = "token"
                return self.token(body)
            self.swallow = self.fault("after") == "drop_after"
            self.auth()
            self.route(body)
        except Fail as e:
            if e.body is not None:
                self.send(e.status, e.body)
            else:
                self.send_error_json(e.status, e.message)
        finally:
            if self.swallow:
                self.drop()
            self.st.log.write(json.dumps(self.logrec) + "\n")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def route(self, body):
        parts = self.upath.split("/")
        # /storage/v1/b/B[/o[/NAME]]  or  /upload/storage/v1/b/B/o
        if self.upath.startswith("/storage/v1/b/") and len(parts) >= 5:
            bucket = urllib.parse.unquote(parts[4])
            self.logrec["bucket"] = bucket
            objs = self.bucket(bucket)
            if len(parts) == 5 and self.command == "GET":
                self.logrec["op"] = "buckets.get"
                return self.send(200, {"kind": "storage#bucket", "name": bucket})
            if len(parts) == 6 and parts[5] == "o" and self.command == "GET":
                self.logrec["op"] = "objects.list"
                pre = self.q.get("prefix", "")
                with self.st.lock:
                    items = [self.resource(bucket, k, o) for k, o in sorted(objs.items())
                             if k.startswith(pre)]
                return self.send(200, {"kind": "storage#objects", "items": items})
            if len(parts) >= 7 and parts[5] == "o":
                name = urllib.parse.unquote("/".join(parts[6:]))
                self.logrec["key"] = name
                with self.st.lock:
                    o = objs.get(name)
                if self.command == "GET":
                    self.logrec["op"] = "objects.get"
                    if o is None:
                        raise Fail(404, "No such object: %s/%s" % (bucket, name))
                    if self.q.get("alt") == "media":
                        return self.send(200, o["data"], ctype=o["meta"].get("contentType") or
                                         "application/octet-stream")
                    return self.send(200, self.resource(bucket, name, o))
                if self.command == "DELETE":
                    self.logrec["op"] = "objects.delete"
                    with self.st.lock:
                        if objs.pop(name, None) is None:
                            raise Fail(404, "No such object: %s/%s" % (bucket, name))
                    return self.send(204)
        if self.upath.startswith("/upload/storage/v1/b/") and len(parts) == 7 and parts[6] == "o":
            bucket = urllib.parse.unquote(parts[5])
            self.logrec["bucket"] = bucket
            self.bucket(bucket)
            if "upload_id" in self.q:
                return self.session(bucket, body)
            if self.command == "POST":
                return self.upload(bucket, body)
        raise Fail(404, "Not Found")

    def bucket(self, name):
        b = self.st.buckets.get(name)
        if b is None:
            raise Fail(404, "The specified bucket does not exist.")
        return b

    def resource(self, bucket, name, o):
        m = o["meta"]
        r = {"kind": "storage#object", "bucket": bucket, "name": name,
             "size": str(len(o["data"])), "generation": str(o["gen"]),
             "md5Hash": base64.b64encode(hashlib.md5(o["data"]).digest()).decode()}
        for k in ("contentType", "contentEncoding", "metadata"):
            if k in m:
                r[k] = m[k]
        return r

    def precondition(self, objs, name, q):
        igm = q.get("ifGenerationMatch")
        if igm is None:
            return
        o = objs.get(name)
        if igm == "0" and o is not None:
            raise Fail(412, "At least one of the pre-conditions you specified did not hold.")
        if igm != "0" and (o is None or str(o["gen"]) != igm):
            raise Fail(412, "At least one of the pre-conditions you specified did not hold.")

    def install(self, bucket, name, data, meta, q):
        if not name or len(name.encode()) > 1024:
            raise Fail(400, "Invalid object name")
        want = meta.get("md5Hash")
        got = base64.b64encode(hashlib.md5(data).digest()).decode()
        if want and want != got:
            raise Fail(400, "Provided MD5 hash \"%s\" doesn't match calculated MD5 hash \"%s\"."
                       % (want, got))
        objs = self.st.buckets[bucket]
        with self.st.lock:
            if self.precreate:
                self.st.gen += 1
                objs[name] = {"data": b"written by another client\n", "meta": {},
                              "gen": self.st.gen}
            self.precondition(objs, name, q)
            self.st.gen += 1
            o = {"data": data, "meta": {k: v for k, v in meta.items() if k != "md5Hash"},
                 "gen": self.st.gen}
            objs[name] = o
        self.logrec["key"] = name
        self.logrec["size"] = len(data)
        return self.send(200, self.resource(bucket, name, o))

    # ------------------------------------------------------------ uploads
    def upload(self, bucket, body):
        kind = self.q.get("uploadType")
        self.logrec["op"] = "upload." + str(kind)
        if kind == "media":
            return self.install(bucket, self.q.get("name", ""), body, {}, self.q)
        if kind == "multipart":
            ct = self.headers.get("Content-Type") or ""
            if not ct.startswith("multipart/related") or "boundary=" not in ct:
                raise Fail(400, "multipart upload needs multipart/related with a boundary")
            bnd = ct.split("boundary=", 1)[1].strip().strip('"').encode()
            segs = body.split(b"--" + bnd)
            # '', part1, part2, '--\r\n'
            if len(segs) != 4 or not segs[3].startswith(b"--"):
                raise Fail(400, "Invalid multipart request: expected two parts")
            parts = []
            for s in segs[1:3]:
                if not s.startswith(b"\r\n") or not s.endswith(b"\r\n"):
                    raise Fail(400, "Invalid multipart request: bad part framing")
                head, sep, data = s[2:-2].partition(b"\r\n\r\n")
                if not sep:
                    raise Fail(400, "Invalid multipart request: part without headers")
                parts.append((head.decode("latin-1").lower(), data))
            if "application/json" not in parts[0][0]:
                raise Fail(400, "Invalid multipart request: the first part must be JSON metadata")
            meta = json.loads(parts[0][1])
            if parts[1][0] and "content-type" in parts[1][0] and "contentType" in meta:
                pass
            return self.install(bucket, meta.pop("name", self.q.get("name", "")), parts[1][1],
                                meta, self.q)
        if kind == "resumable":
            meta = json.loads(body) if body else {}
            name = self.q.get("name") or meta.get("name") or ""
            meta.pop("name", None)
            if not name:
                raise Fail(400, "Required object name")
            with self.st.lock:
                self.precondition(self.st.buckets[bucket], name, self.q)
                sid = secrets.token_hex(16)
                self.st.sessions[sid] = {"bucket": bucket, "name": name, "meta": meta,
                                         "q": dict(self.q), "data": bytearray(),
                                         "done": None}
            self.logrec["key"] = name
            host = self.headers.get("Host")
            loc = "http://%s/upload/storage/v1/b/%s/o?uploadType=resumable&upload_id=%s" % (
                host, urllib.parse.quote(bucket, safe=""), sid)
            return self.send(200, b"", headers={"Location": loc})
        raise Fail(400, "Invalid uploadType")

    def session(self, bucket, body):
        sid = self.q["upload_id"]
        with self.st.lock:
            s = self.st.sessions.get(sid)
        if s is None or s["bucket"] != bucket:
            raise Fail(404, "No such upload session")
        self.logrec["key"] = s["name"]
        if self.command == "DELETE":
            self.logrec["op"] = "session.cancel"
            with self.st.lock:
                self.st.sessions.pop(sid, None)
            return self.send(499, b"")
        if self.command != "PUT":
            raise Fail(405, "Method not allowed")
        self.logrec["op"] = "session.put"
        if s["done"] is not None:
            return self.send(200, s["done"])
        cr = (self.headers.get("Content-Range") or "").strip()
        self.logrec["range"] = cr
        if not cr.startswith("bytes "):
            raise Fail(400, "Content-Range required")
        rng, _, total = cr[6:].partition("/")
        held = len(s["data"])

        def status308():
            h = {"Range": "bytes=0-%d" % (len(s["data"]) - 1)} if s["data"] else {}
            return self.send(308, b"", headers=h)

        if rng == "*":
            if body:
                raise Fail(400, "a status query has no body")
            if total == "*" or int(total) != held:
                return status308()
            return self.finish(s, sid)
        a, _, b = rng.partition("-")
        a, b = int(a), int(b)
        if a != held:
            raise Fail(400, "Content-Range starts at %d, the session holds %d bytes" % (a, held))
        if b - a + 1 != len(body):
            raise Fail(400, "Content-Range length %d, body %d" % (b - a + 1, len(body)))
        if total == "*":
            if len(body) % UNIT:
                raise Fail(400, "a non-last chunk must be a multiple of 262144 bytes")
            s["data"] += body
            self.logrec["size"] = len(body)
            return status308()
        if int(total) != b + 1:
            raise Fail(400, "the last chunk must end at the total size")
        s["data"] += body
        self.logrec["size"] = len(body)
        return self.finish(s, sid)

    def finish(self, s, sid):
        h = self.headers.get("X-Goog-Hash") or ""
        meta = dict(s["meta"])
        for part in h.split(","):
            k, _, v = part.strip().partition("=")
            if k == "md5":
                meta["md5Hash"] = v
        self.logrec["op"] = "session.finish"
        try:
            self.install(s["bucket"], s["name"], bytes(s["data"]), meta, s["q"])
        except Fail:
            with self.st.lock:   # a failed finalization ends the session
                self.st.sessions.pop(sid, None)
            raise
        o = self.st.buckets[s["bucket"]][s["name"]]
        s["done"] = self.resource(s["bucket"], s["name"], o)

    # ------------------------------------------------------------ tokens
    def token(self, body):
        f = dict(urllib.parse.parse_qsl(body.decode()))

        def refuse(why):
            raise Fail(400, why, {"error": "invalid_grant", "error_description": why})

        if f.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise Fail(400, "", {"error": "unsupported_grant_type",
                                 "error_description": "Invalid grant_type"})
        jwt = f.get("assertion", "")
        segs = jwt.split(".")
        if len(segs) != 3:
            refuse("Invalid JWT: not three segments")
        try:
            head = json.loads(b64url_decode(segs[0]))
            claims = json.loads(b64url_decode(segs[1]))
            sig = b64url_decode(segs[2])
        except Exception:
            refuse("Invalid JWT: bad encoding")
        if head.get("alg") != "RS256" or head.get("typ") not in (None, "JWT"):
            refuse("Invalid JWT: alg must be RS256")
        pub = self.st.accounts.get(claims.get("iss"))
        if pub is None:
            refuse("Invalid JWT: unknown issuer")
        try:
            pub.verify(sig, (segs[0] + "." + segs[1]).encode(), padding.PKCS1v15(),
                       hashes.SHA256())
        except Exception:
            refuse("Invalid JWT Signature.")
        me = "http://%s/token" % self.headers.get("Host")
        if claims.get("aud") != me:
            refuse("Invalid JWT: aud must be the token endpoint")
        scope = (claims.get("scope") or "").split()
        if not any(s in SCOPES for s in scope):
            refuse("Invalid JWT: no storage scope")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            refuse("Invalid JWT: iat and exp must be integers")
        if abs(iat - now) > self.st.args.max_skew:
            refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
        if exp <= now or exp - iat > 3600:
            refuse("Invalid JWT: exp must be after now and at most an hour after iat")
        tok = "ya29.test-" + secrets.token_urlsafe(32)
        life = self.st.args.token_lifetime
        with self.st.lock:
            n = sum(1 for _ in self.st.tokens) + 1
            self.st.tokens[tok] = [now + life, self.st.args.token_uses or None, n]
        self.logrec["token"] = n
        return self.send(200, {"access_token": tok, "expires_in": life,
                               "token_type": "Bearer"})

    # ------------------------------------------------------------ control
    def control(self, body):
        self.logrec["op"] = "control"
        p = self.upath
        if p == "/_fault" and self.command == "POST":
            r = json.loads(body)
            r.setdefault("nth", 1)
            r.setdefault("times", 1)
            r["seen"] = r["fired"] = 0
            with self.st.lock:
                self.st.faults.append(r)
            return self.send(200, b"ok", ctype="text/plain")
        if p.startswith("/_fault/") and self.command == "GET":
            name = p[len("/_fault/"):]
            with self.st.lock:
                n = sum(r["fired"] for r in self.st.faults if r["name"] == name)
            return self.send(200, str(n).encode(), ctype="text/plain")
        if p == "/_clear" and self.command == "POST":
            with self.st.lock:
                self.st.faults = []
            return self.send(200, b"ok", ctype="text/plain")
        if p == "/_tokens" and self.command == "POST":
            r = json.loads(body)
            with self.st.lock:
                if "uses" in r:
                    self.st.args.token_uses = int(r["uses"])
                if "lifetime" in r:
                    self.st.args.token_lifetime = int(r["lifetime"])
            return self.send(200, b"ok", ctype="text/plain")
        if p == "/_sessions" and self.command == "GET":
            with self.st.lock:
                n = sum(1 for s in self.st.sessions.values() if s["done"] is None)
            return self.send(200, str(n).encode(), ctype="text/plain")
        raise Fail(404, "no such control")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--account", action="append", default=[], help="EMAIL=PUBKEY.pem")
    ap.add_argument("--bucket", action="append", default=[])
    ap.add_argument("--token-lifetime", type=int, default=3600)
    ap.add_argument("--token-uses", type=int, default=0)
    ap.add_argument("--admin-token", default="")
    ap.add_argument("--max-skew", type=int, default=300)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print("ready port=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
