#!/usr/bin/env python3
"""s3_server.py — a strict S3-compatible server and STS AssumeRole endpoint
for sinkpipe's tests (Python 3 standard library only).

    python3 s3_server.py --dir DIR [--port 0] [--sts-port 0]
        [--region us-east-1] [--cred AK:SECRET[:readonly]]...
        [--role ARN[#EXTERNAL_ID]]... [--sts-min-duration 900]
        [--sts-max-duration 3600] [--sts-lifetime 0] [--max-skew 900]
        [--bucket NAME[:REGION]]...

Prints one line `ready s3_port=N sts_port=M` on stdout when both listeners
accept connections (ports 0: the kernel picks).  Listens on 127.0.0.1.

S3 (path-style `http://127.0.0.1:N/bucket/key`, and virtual-hosted style
`bucket.localhost:N`): ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, PutObject, GetObject (Range), HeadObject, DeleteObject,
DeleteObjects, ListObjects (v1 and v2), CreateMultipartUpload, UploadPart,
CompleteMultipartUpload, AbortMultipartUpload, ListParts,
ListMultipartUploads.  Anything else is 501 NotImplemented.

Strict where S3 is strict: every request must carry a valid AWS Signature
Version 4 (Authorization header or presigned query), x-amz-content-sha256
is required and checked against the body (hex SHA-256, UNSIGNED-PAYLOAD, or
aws-chunked STREAMING-* bodies whose chunk signatures are verified), every
x-amz-* header must be signed, the clock skew is at most --max-skew seconds,
the region of the credential scope must be the bucket's region (a bucket's
region is its LocationConstraint, default us-east-1... or --region),
Content-MD5 and x-amz-checksum-{crc32,crc32c,sha1,sha256} are verified,
non-last multipart parts must be >= 5 MiB, If-None-Match: * (and GCS's
x-goog-if-generation-match: 0) is honoured on PutObject and
CompleteMultipartUpload.

What Debian's aws CLI (2.9, botocore inside) sends to an http:// endpoint:
the body's hex SHA-256 as x-amz-content-sha256 and Content-MD5 on PUTs and
parts, x-amz-checksum-* headers when asked for a checksum algorithm; no
aws-chunked bodies (those are verified all the same: AWS's published
chunked example passes, see tests/harness/s3_aws_examples.py).

STS (POST form or GET query on the STS port): Action=AssumeRole only,
SigV4 with service `sts`; RoleArn must be one of --role (ExternalId must
match when the role was given one); DurationSeconds between
--sts-min-duration and --sts-max-duration (default 3600).  The temporary
credentials it issues work on the S3 port with x-amz-security-token until
they expire (then 400 ExpiredToken); --sts-lifetime S makes them expire
after at most S seconds whatever DurationSeconds asked (the Expiration in
the answer says so), so tests can watch a client refresh them.

State (buckets, objects, uploads) lives in memory; object and part bytes on
disk under --dir.  Every request is logged as one JSON line to
DIR/requests.log (no secrets: credentials appear by label — `cred0`, ... or
`sts:<role session name>`).
"""

import argparse
import base64
import binascii
import calendar
import ctypes
import ctypes.util
import email.utils
import hashlib
import hmac
import json
import os
import queue
import re
import secrets
import shutil
import socket
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

S3NS = "http://s3.amazonaws.com/doc/2006-03-01/"
STSNS = "https://sts.amazonaws.com/doc/2011-06-15/"
MIB = 1024 * 1024
MIN_PART = 5 * MIB
MAX_PART = 5 * 1024 * MIB
MAX_PUT = 5 * 1024 * MIB
CHUNK = 1 * MIB
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
             "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
             "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
REGION_RE = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d+|auto)$")  # auto: GCS's XML API
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"


# ----------------------------------------------------------------- crc32c
def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C_T = _crc32c_table()


def crc32c_py(data, crc=0):
    """CRC-32C (Castagnoli), table-driven; crc is the previous value."""
    c = crc ^ 0xFFFFFFFF
    t = _CRC32C_T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _crc32c_native():
    """ext2fs_crc32c_le from libext2fs (e2fsprogs) when present: the same
    function at C speed, checked against the Python one before use."""
    name = ctypes.util.find_library("ext2fs")
    for cand in ([name] if name else []) + ["libext2fs.so.2"]:
        try:
            lib = ctypes.CDLL(cand)
            f = lib.ext2fs_crc32c_le
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_uint32
        f.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]

        def crc(data, crc=0, f=f):
            if not isinstance(data, bytes):
                data = bytes(data)
            return f(crc ^ 0xFFFFFFFF, data, len(data)) ^ 0xFFFFFFFF
        probe = b"123456789" * 7
        if crc(probe) == crc32c_py(probe) and crc(b"123456789") == 0xE3069283:
            return crc
    return None


crc32c = _crc32c_native() or crc32c_py


class Crc:
    """hashlib-like wrapper for CRC32 / CRC32C (big-endian digest)."""

    def __init__(self, fn):
        self.fn, self.v = fn, 0

    def update(self, data):
        self.v = self.fn(data, self.v)

    def digest(self):
        return self.v.to_bytes(4, "big")


CHECKSUMS = {
    "crc32": lambda: Crc(lambda d, c: zlib.crc32(d, c)),
    "crc32c": lambda: Crc(crc32c),
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
CHECKSUM_LEN = {"crc32": 4, "crc32c": 4, "sha1": 20, "sha256": 32}


# ----------------------------------------------------------------- errors
class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = extra.pop("headers", {})


def err(status, code, message, **extra):
    return S3Error(status, code, message, **extra)


def no_such_bucket(b):
    return err(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=b)


# ----------------------------------------------------------------- helpers
def iso_ms(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int((ts % 1) * 1000)


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def uri_encode(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def x(tag, value):
    return "<%s>%s</%s>" % (tag, xml_escape(str(value)), tag)


def parse_query(raw):
    """[(name, value)] decoded; a bare name has value ''."""
    out = []
    if not raw:
        return out
    for part in raw.split("&"):
        if part == "":
            continue
        k, _, v = part.partition("=")
        out.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return out


def canonical_query(pairs, skip=()):
    enc = sorted((uri_encode(k), uri_encode(v)) for k, v in pairs if k not in skip)
    return "&".join("%s=%s" % kv for kv in enc)


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = hmac_sha256(("AWS4" + secret).encode(), date)
    k = hmac_sha256(k, region)
    k = hmac_sha256(k, service)
    return hmac_sha256(k, "aws4_request")


def parse_amz_date(s):
    try:
        return calendar.timegm(time.strptime(s, "%Y%m%dT%H%M%SZ"))
    except (ValueError, TypeError):
        return None


# ----------------------------------------------------------------- state
class Creds:
    def __init__(self, ak, secret, label, readonly=False, token=None,
                 expires=None, role=None):
        self.ak, self.secret, self.label, self.readonly = ak, secret, label, readonly
        self.token, self.expires, self.role = token, expires, role


class State:
    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.dir)
        self.tmp = os.path.join(self.root, "tmp")
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        self.lock = threading.Lock()
        self.buckets = {}   # name -> {"created", "region", "objects": {key: meta}}
        self.uploads = {}   # upload id -> {bucket, key, initiated, parts, ...}
        self.creds = {}
        for i, c in enumerate(args.cred):
            f = c.split(":")
            if len(f) < 2:
                sys.exit("s3_server: --cred wants AK:SECRET[:readonly]")
            self.creds[f[0]] = Creds(f[0], f[1], "cred%d" % i, readonly=(f[2:] == ["readonly"]))
        self.roles = {}
        for r in args.role:
            # ARN contains ':'; an external id follows a '#'
            arn, _, ext = r.partition("#")
            self.roles[arn] = ext or None
        self.log_lock = threading.Lock()
        self.log = open(os.path.join(self.root, "requests.log"), "a", buffering=1)

    def new_path(self):
        return os.path.join(self.data, uuid.uuid4().hex)

    def tmp_path(self):
        return os.path.join(self.tmp, uuid.uuid4().hex)

    def write_log(self, rec):
        with self.log_lock:
            self.log.write(json.dumps(rec, sort_keys=True) + "\n")


# ----------------------------------------------------------------- bodies
class Body:
    """The request body as sent (Content-Length bytes), decoded from
    aws-chunked when the payload hash says STREAMING-*: read(n) returns up
    to n decoded bytes, b'' at the end.  Verifies chunk signatures."""

    def __init__(self, rfile, length, mode=None, sig=None, trailer_names=()):
        self.rfile, self.left = rfile, length
        self.mode, self.sig = mode, sig   # sig: (key, amz_date, scope, seed_signature)
        self.chunk_left = 0
        self.done = False
        self.trailers = {}
        self.trailer_names = trailer_names
        self.raw_read = 0

    def _raw(self, n):
        n = min(n, self.left)
        if n <= 0:
            return b""
        # readinto a fresh buffer: large reads go straight to the socket
        buf = bytearray(n)
        k = self.rfile.readinto(buf)
        if not k:
            raise err(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
        self.left -= k
        self.raw_read += k
        return buf if k == n else memoryview(buf)[:k]

    def _line(self):
        out = bytearray()
        while not out.endswith(b"\r\n"):
            if len(out) > 8192 or self.left <= 0:
                raise err(400, "IncompleteBody", "malformed aws-chunked encoding")
            b = self.rfile.read(1)
            if not b:
                raise err(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
            self.left -= 1
            out += b
        return bytes(out[:-2]).decode("latin-1")

    def _exact(self, n):
        parts = []
        while n > 0:
            b = self._raw(n)
            if not b:
                raise err(400, "IncompleteBody", "aws-chunked body ends inside a chunk")
            parts.append(b)
            n -= len(b)
        return b"".join(parts)

    def read(self, n=CHUNK):
        if self.mode is None:
            return self._raw(n)
        if self.done:
            return b""
        if self.chunk_left == 0:
            head = self._line()
            size_s, _, ext = head.partition(";")
            try:
                size = int(size_s, 16)
            except ValueError:
                raise err(400, "InvalidChunkSizeError", "malformed aws-chunked chunk size")
            self.chunk_sig = None
            if ext.startswith("chunk-signature="):
                self.chunk_sig = ext[len("chunk-signature="):]
            if self.mode != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" and not self.chunk_sig:
                raise err(403, "SignatureDoesNotMatch", "aws-chunked chunk without chunk-signature")
            if size == 0:
                data = b""
                self._check_chunk(data)
                if self.mode.endswith("TRAILER"):
                    self._read_trailers()
                else:
                    if self._line() != "":
                        raise err(400, "IncompleteBody", "malformed aws-chunked end")
                if self.left != 0:
                    raise err(400, "IncompleteBody", "bytes after the last aws-chunked chunk")
                self.done = True
                return b""
            # chunks are verified whole: read the chunk, then hand it out
            data = self._exact(size)
            if self._exact(2) != b"\r\n":
                raise err(400, "IncompleteBody", "malformed aws-chunked chunk end")
            self._check_chunk(data)
            self.pending = data
            self.chunk_left = size
        out = self.pending[:n]
        self.pending = self.pending[n:]
        self.chunk_left -= len(out)
        return out

    def _check_chunk(self, data):
        if self.mode == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
            return
        key, amz_date, scope, prev = self.sig
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev,
                         EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
        want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, self.chunk_sig or ""):
            raise err(403, "SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided")
        self.sig = (key, amz_date, scope, want)

    def _read_trailers(self):
        lines = []
        while True:
            ln = self._line()
            if ln == "":
                break
            lines.append(ln)
        sig = None
        for ln in lines:
            k, _, v = ln.partition(":")
            k = k.strip().lower()
            if k == "x-amz-trailer-signature":
                sig = v.strip()
            else:
                self.trailers[k] = v.strip()
        if self.mode == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
            key, amz_date, scope, prev = self.sig
            canon = "".join("%s:%s\n" % (k, v) for k, v in self.trailers.items())
            sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                             hashlib.sha256(canon.encode()).hexdigest()])
            want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig or ""):
                raise err(403, "SignatureDoesNotMatch", "The trailer signature we calculated does not match the signature you provided")
        for name in self.trailer_names:
            if name not in self.trailers:
                raise err(400, "MalformedTrailerError", "The request contained trailing data that was not well-formed")

    def drain(self):
        while self.left > 0:
            if not self._raw(CHUNK):
                break


# ----------------------------------------------------------------- handler
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""
    rbufsize = 256 * 1024
    timeout = 120   # a client silent this long mid-request is gone

    # we send 100 Continue ourselves, after authentication
    def handle_expect_100(self):
        self._expect = True
        return True

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        return "AmazonS3"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def st(self):
        return self.server.state

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    # ------------------------------------------------------------- framing
    def dispatch(self):
        self._expect = getattr(self, "_expect", False) and \
            self.headers.get("Expect", "").lower() == "100-continue"
        self.req_id = secrets.token_hex(8).upper()
        self.sent_continue = False
        self.body = None
        self.logrec = {"t": round(time.time(), 3), "method": self.command,
                       "path": self.path, "port": self.server.kind}
        raw = self.path
        if raw.startswith("http://") or raw.startswith("https://"):
            raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
        self.raw_path, _, self.raw_query = raw.partition("?")
        self.query = parse_query(self.raw_query)
        self.qd = {}
        for k, v in self.query:
            self.qd.setdefault(k, v)
        try:
            if self.server.kind == "sts":
                self.handle_sts()
            else:
                self.handle_s3()
        except S3Error as e:
            self.send_error_xml(e)
        except (ConnectionError, BrokenPipeError, socket.timeout) as e:
            self.logrec["status"] = 0
            self.logrec["code"] = "client-gone: %s" % type(e).__name__
            self.close_connection = True
        except Exception as e:   # a bug of ours: say so, loudly
            import traceback
            traceback.print_exc()
            self.close_connection = True
            self.send_error_xml(err(500, "InternalError", "s3_server bug: %s" % e))
        finally:
            self._expect = False
            self.st.write_log(self.logrec)

    def finish_body(self):
        """Before answering: the body must be consumed, or the connection
        closed (an answer before the body, like S3's, with Connection: close)."""
        b = self.body
        if b is None:
            n = self.content_length()
            if n and not (self._expect and not self.sent_continue):
                if n <= 1 * MIB:
                    try:
                        Body(self.rfile, n).drain()
                    except S3Error:
                        self.close_connection = True
                else:
                    self.close_connection = True
            elif n and self._expect:
                # the client waits for 100: it may send the body anyway
                self.close_connection = True
            if self.headers.get("Transfer-Encoding") and not n:
                self.close_connection = True
        elif b.left > 0:
            self.close_connection = True

    def content_length(self):
        v = self.headers.get("Content-Length")
        try:
            return int(v) if v is not None else 0
        except ValueError:
            return 0

    def send_continue(self):
        if self._expect and not self.sent_continue:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
            self.sent_continue = True

    def common_headers(self, status):
        self.send_response(status)
        self.send_header("x-amz-request-id", self.req_id)
        self.send_header("x-amz-id-2", base64.b64encode(self.req_id.encode()).decode())
        if self.close_connection:
            self.send_header("Connection", "close")

    def send_bytes(self, status, body=b"", ctype="application/xml", headers=None):
        self.finish_body()
        self.common_headers(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or ctype and status != 204:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.logrec.setdefault("status", status)

    def send_xml(self, status, xml, headers=None):
        self.send_bytes(status, ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode(),
                        headers=headers)

    def send_error_xml(self, e):
        self.logrec["status"] = e.status
        self.logrec["code"] = e.code
        if self.server.kind == "sts":
            body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type>%s%s</Error>%s</ErrorResponse>'
                    % (STSNS, "Sender" if e.status < 500 else "Receiver", x("Code", e.code),
                       x("Message", e.message), x("RequestId", str(uuid.uuid4()))))
            self.send_xml(e.status, body, headers=e.headers)
            return
        extra = "".join(x(k, v) for k, v in e.extra.items())
        body = "<Error>%s%s%s%s%s<HostId>%s</HostId></Error>" % (
            x("Code", e.code), x("Message", e.message), extra,
            x("Resource", urllib.parse.unquote(self.raw_path)), x("RequestId", self.req_id),
            base64.b64encode(self.req_id.encode()).decode())
        self.send_xml(e.status, body, headers=e.headers)

    # ------------------------------------------------------------- SigV4
    def authenticate(self, service, region_for):
        """Verifies the request's SigV4 signature; returns the Creds.
        region_for(scope_region) raises when the region is wrong."""
        st = self.st
        h = self.headers
        auth = h.get("Authorization")
        presigned = "X-Amz-Algorithm" in self.qd
        if auth is None and not presigned:
            raise err(403, "AccessDenied", "Access Denied") if service == "s3" else \
                err(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        if presigned:
            if self.qd.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                raise err(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
            cred_s = self.qd.get("X-Amz-Credential", "")
            signed_s = self.qd.get("X-Amz-SignedHeaders", "")
            sig = self.qd.get("X-Amz-Signature", "")
            amz_date = self.qd.get("X-Amz-Date", "")
            token = self.qd.get("X-Amz-Security-Token")
        else:
            m = re.match(r"^AWS4-HMAC-SHA256 (.*)$", auth)
            if not m:
                if auth.startswith("AWS "):
                    raise err(400, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
                raise err(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.")
            fields = {}
            for part in m.group(1).split(","):
                k, _, v = part.strip().partition("=")
                fields[k] = v
            if not all(k in fields for k in ("Credential", "SignedHeaders", "Signature")):
                raise err(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.")
            cred_s, signed_s, sig = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
            amz_date = h.get("x-amz-date")
            if amz_date is None and h.get("Date"):
                try:
                    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(
                        email.utils.mktime_tz(email.utils.parsedate_tz(h.get("Date")))))
                except (TypeError, ValueError):
                    amz_date = None
            token = h.get("x-amz-security-token")
        scope = cred_s.split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise err(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        ak, sdate, sregion, sservice = scope[:4]
        c = st.creds.get(ak)
        if c is None:
            if service == "sts":
                raise err(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
            raise err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=ak)
        if amz_date is None:
            raise err(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        t = parse_amz_date(amz_date)
        if t is None:
            raise err(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        if sdate != amz_date[:8]:
            raise err(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
        if sservice != service:
            raise err(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; incorrect service \"%s\". This endpoint belongs to \"%s\"." % (sservice, service))
        region_for(sregion)
        now = time.time()
        if presigned:
            try:
                exp = int(self.qd.get("X-Amz-Expires", ""))
            except ValueError:
                raise err(400, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number")
            if exp < 1 or exp > 604800:
                raise err(400, "AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
            if now > t + exp:
                raise err(403, "AccessDenied", "Request has expired", Expires=iso_ms(t + exp), ServerTime=iso_ms(now))
            if t - now > st.args.max_skew:
                raise err(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
        elif abs(now - t) > st.args.max_skew:
            raise err(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                      RequestTime=amz_date, ServerTime=iso_ms(now), MaxAllowedSkewMilliseconds=st.args.max_skew * 1000)
        if c.token is not None:
            if token is None:
                if service == "sts":
                    raise err(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
                raise err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=ak)
            if not hmac.compare_digest(token, c.token):
                if service == "sts":
                    raise err(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
                raise err(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
            if now >= c.expires:
                if service == "sts":
                    raise err(403, "ExpiredToken", "The security token included in the request is expired")
                raise err(400, "ExpiredToken", "The provided token has expired.")
        elif token is not None:
            raise err(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        signed = signed_s.split(";") if signed_s else []
        if signed != sorted(signed) or any(s != s.lower() for s in signed):
            raise err(403, "SignatureDoesNotMatch", "SignedHeaders must be lowercase and sorted")
        if "host" not in signed:
            raise err(400, "AuthorizationHeaderMalformed" if not presigned else "AuthorizationQueryParametersError",
                      "The authorization header is malformed; 'Host' must be a signed header.")
        present = {k.lower() for k in h.keys()}
        for name in present:
            if name.startswith("x-amz-") and name not in signed and \
                    not (presigned and name == "x-amz-content-sha256"):
                raise err(403, "AccessDenied", "There were headers present in the request which were not signed",
                          HeadersNotSigned=name)
        canon_headers = []
        for name in signed:
            vals = h.get_all(name)
            if vals is None:
                raise err(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
            v = ",".join(re.sub(r"\s+", " ", s.strip()) for s in vals)
            canon_headers.append("%s:%s\n" % (name, v))
        if presigned:
            payload = "UNSIGNED-PAYLOAD"
            if service == "s3" and h.get("x-amz-content-sha256"):
                payload = h.get("x-amz-content-sha256")
        elif service == "s3":
            payload = h.get("x-amz-content-sha256")
            if payload is None:
                raise err(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
        else:
            payload = None   # sts: the body's hash, computed by the caller
        if payload is not None and payload not in ("UNSIGNED-PAYLOAD",) + STREAMING and \
                not re.fullmatch(r"[0-9a-f]{64}", payload):
            raise err(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
                      ArgumentName="x-amz-content-sha256", ArgumentValue=payload)
        if service == "sts":
            payload = self.sts_body_hash
        canon_uri = uri_encode(urllib.parse.unquote(self.raw_path), safe="/-_.~")
        if service == "sts":
            # non-S3 services normalize the path and encode it twice
            canon_uri = uri_encode(canon_uri, safe="/-_.~") or "/"
        canon_req = "\n".join([self.command, canon_uri,
                               canonical_query(self.query, skip=("X-Amz-Signature",)),
                               "".join(canon_headers), signed_s, payload])
        cscope = "/".join([sdate, sregion, sservice, "aws4_request"])
        sts_ = "\n".join(["AWS4-HMAC-SHA256", amz_date, cscope,
                          hashlib.sha256(canon_req.encode()).hexdigest()])
        key = signing_key(c.secret, sdate, sregion, sservice)
        want = hmac.new(key, sts_.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            safe_canon = canon_req
            if token:
                safe_canon = safe_canon.replace(token, "<redacted>")
            raise err(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                      AWSAccessKeyId=ak, StringToSign=sts_, SignatureProvided=sig,
                      CanonicalRequest=safe_canon)
        self.logrec["cred"] = c.label
        self.sig_ctx = (key, amz_date, cscope, sig)
        self.payload_hash = payload
        return c

    # ------------------------------------------------------------- S3
    def handle_s3(self):
        st = self.st
        h = self.headers
        host = h.get("Host", "")
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        path = urllib.parse.unquote(self.raw_path)
        vhost = None
        suffix = "." + st.args.vhost_suffix
        if hostname.endswith(suffix) and hostname != st.args.vhost_suffix:
            vhost = hostname[:-len(suffix)]
        if vhost is not None:
            bucket, key = vhost, path[1:]
        else:
            p = path[1:]
            bucket, _, key = p.partition("/")
            if "/" not in p:
                key = ""
        self.bucket, self.key = bucket, key
        self.logrec.update(bucket=bucket, key=key)
        ops = self.op_name()
        self.logrec["op"] = ops

        def region_for(r):
            if not REGION_RE.match(r):
                raise err(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the region '%s' is wrong; expecting '%s'" % (r, st.args.region),
                          Region=st.args.region)
            b = st.buckets.get(bucket) if bucket else None
            # an unknown bucket answers NoSuchBucket whatever the region
            want = b["region"] if b else (st.args.region if not bucket else r)
            if r != want:
                raise err(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed; the region '%s' is wrong; expecting '%s'" % (r, want),
                          Region=want, headers={"x-amz-bucket-region": want})
            self.sign_region = r

        creds = self.authenticate("s3", region_for)
        self.creds = creds
        if ops is None:
            raise err(501, "NotImplemented", "A header or query you provided implies functionality that is not implemented")
        if creds.readonly and self.command in ("PUT", "POST", "DELETE"):
            raise err(403, "AccessDenied", "Access Denied")
        if bucket and ops != "CreateBucket" and bucket not in st.buckets:
            raise no_such_bucket(bucket)
        getattr(self, "op_" + ops)()

    def op_name(self):
        m, b, k, q = self.command, self.bucket, self.key, self.qd
        if not b:
            return "ListBuckets" if m == "GET" else None
        if not k:
            if m == "PUT" and not q:
                return "CreateBucket"
            if m == "HEAD" and not q:
                return "HeadBucket"
            if m == "DELETE" and not q:
                return "DeleteBucket"
            if m == "GET":
                if "uploads" in q:
                    return "ListMultipartUploads"
                if "location" in q:
                    return "GetBucketLocation"
                if q.get("list-type") == "2":
                    return "ListObjectsV2"
                if not (set(q) - {"prefix", "delimiter", "marker", "max-keys", "encoding-type"}):
                    return "ListObjects"
                return None
            if m == "POST" and "delete" in q:
                return "DeleteObjects"
            return None
        if "uploadId" in q:
            if m == "PUT" and "partNumber" in q:
                return "UploadPart" if "x-amz-copy-source" not in self.headers else None
            return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                    "GET": "ListParts"}.get(m)
        if m == "POST" and "uploads" in q:
            return "CreateMultipartUpload"
        other = set(q) - {"versionId", "response-content-type", "x-id"} - {k for k in q if k.startswith("X-Amz-")}
        if other:
            return None
        if m == "PUT":
            return "PutObject" if "x-amz-copy-source" not in self.headers else None
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(m)

    # ----------------------------------------------------------- buckets
    def op_ListBuckets(self):
        with self.st.lock:
            items = sorted(self.st.buckets.items())
        bs = "".join("<Bucket>%s%s</Bucket>" % (x("Name", n), x("CreationDate", iso_ms(b["created"])))
                     for n, b in items)
        self.send_xml(200, '<ListAllMyBucketsResult xmlns="%s"><Owner>%s%s</Owner><Buckets>%s</Buckets></ListAllMyBucketsResult>'
                      % (S3NS, x("ID", OWNER_ID), x("DisplayName", "sinkpipe-test"), bs))

    def read_small_body(self, limit=1 * MIB):
        n = self.content_length()
        if n > limit:
            raise err(400, "MaxMessageLengthExceeded", "Your request was too big.")
        self.setup_body(n)
        out = bytearray()
        while True:
            b = self.body.read(CHUNK)
            if not b:
                break
            out += b
        self.check_payload_hash(hashlib.sha256(out).hexdigest())
        return bytes(out)

    def op_CreateBucket(self):
        st, b = self.st, self.bucket
        if not BUCKET_RE.match(b) or ".." in b or re.match(r"^\d+\.\d+\.\d+\.\d+$", b):
            raise err(400, "InvalidBucketName", "The specified bucket is not valid.", BucketName=b)
        body = self.read_small_body()
        region = "us-east-1"
        if body.strip():
            try:
                root = ET.fromstring(body)
            except ET.ParseError:
                raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
            for el in root.iter():
                if el.tag.split("}")[-1] == "LocationConstraint" and (el.text or "").strip():
                    region = el.text.strip()
        if region != self.sign_region:
            if region == "us-east-1":
                raise err(400, "IllegalLocationConstraintException",
                          "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
            raise err(400, "IllegalLocationConstraintException",
                      "The %s location constraint is incompatible for the region specific endpoint this request was sent to." % region)
        with st.lock:
            if b in st.buckets:
                raise err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", BucketName=b)
            st.buckets[b] = {"created": time.time(), "region": region, "objects": {}}
        self.send_bytes(200, b"", ctype=None, headers={"Location": "/" + b})

    def op_HeadBucket(self):
        self.send_bytes(200, b"", ctype=None, headers={"x-amz-bucket-region": self.st.buckets[self.bucket]["region"]})

    def op_GetBucketLocation(self):
        r = self.st.buckets[self.bucket]["region"]
        self.send_xml(200, '<LocationConstraint xmlns="%s">%s</LocationConstraint>'
                      % (S3NS, "" if r == "us-east-1" else xml_escape(r)))

    def op_DeleteBucket(self):
        st = self.st
        with st.lock:
            if st.buckets[self.bucket]["objects"] or any(u["bucket"] == self.bucket for u in st.uploads.values()):
                raise err(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=self.bucket)
            del st.buckets[self.bucket]
        self.send_bytes(204, b"", ctype=None)

    # ----------------------------------------------------------- listing
    def int_param(self, name, default, lo=0, hi=1000):
        v = self.qd.get(name)
        if v is None:
            return default
        try:
            n = int(v)
        except ValueError:
            raise err(400, "InvalidArgument", "Provided %s not an integer or within integer range" % name,
                      ArgumentName=name, ArgumentValue=v)
        if n < lo:
            raise err(400, "InvalidArgument", "Argument %s must be an integer between %d and 2147483647" % (name, lo),
                      ArgumentName=name, ArgumentValue=v)
        return min(n, hi)

    def walk(self, keys, prefix, delimiter, after, max_keys):
        """S3's listing walk over sorted keys: (contents, prefixes,
        truncated, last item returned)."""
        contents, prefixes, last, n = [], [], None, 0
        seen_prefixes = set()
        truncated = False
        for k in keys:
            if not k.startswith(prefix) or (after is not None and k <= after):
                continue
            item = k
            if delimiter:
                i = k.find(delimiter, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delimiter)]
                    if cp in seen_prefixes or (after is not None and cp <= after):
                        continue
                    item = ("P", cp)
            if n >= max_keys:
                truncated = True
                break
            if isinstance(item, tuple):
                seen_prefixes.add(item[1])
                prefixes.append(item[1])
                last = item[1]
            else:
                contents.append(k)
                last = k
            n += 1
        return contents, prefixes, truncated, last

    def enc(self, s):
        return uri_encode(s, safe="/") if self.qd.get("encoding-type") == "url" else s

    def check_encoding(self):
        et = self.qd.get("encoding-type")
        if et is not None and et != "url":
            raise err(400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                      ArgumentName="encoding-type", ArgumentValue=et)

    def contents_xml(self, objs, keys):
        out = []
        for k in keys:
            o = objs[k]
            out.append("<Contents>%s%s%s%s%s</Contents>" % (
                x("Key", self.enc(k)), x("LastModified", iso_ms(o["mtime"])), x("ETag", '"%s"' % o["etag"]),
                x("Size", o["size"]), x("StorageClass", "STANDARD")))
        return "".join(out)

    def op_ListObjectsV2(self):
        self.check_encoding()
        q = self.qd
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        max_keys = self.int_param("max-keys", 1000)
        token = q.get("continuation-token")
        after = q.get("start-after")
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
                if not after.startswith("k:"):
                    raise ValueError
                after = after[2:]
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise err(400, "InvalidArgument", "The continuation token provided is incorrect",
                          ArgumentName="continuation-token")
        with self.st.lock:
            objs = dict(self.st.buckets[self.bucket]["objects"])
        contents, prefixes, trunc, last = self.walk(sorted(objs), prefix, delim, after, max_keys)
        parts = [x("Name", self.bucket), x("Prefix", self.enc(prefix))]
        if "start-after" in q:
            parts.append(x("StartAfter", self.enc(q["start-after"])))
        if token is not None:
            parts.append(x("ContinuationToken", token))
        if trunc:
            parts.append(x("NextContinuationToken", base64.urlsafe_b64encode(("k:" + last).encode()).decode()))
        parts.append(x("KeyCount", len(contents) + len(prefixes)))
        parts.append(x("MaxKeys", max_keys))
        if delim:
            parts.append(x("Delimiter", self.enc(delim)))
        if "encoding-type" in q:
            parts.append(x("EncodingType", "url"))
        parts.append(x("IsTruncated", "true" if trunc else "false"))
        parts.append(self.contents_xml(objs, contents))
        parts.extend("<CommonPrefixes>%s</CommonPrefixes>" % x("Prefix", self.enc(p)) for p in prefixes)
        self.send_xml(200, '<ListBucketResult xmlns="%s">%s</ListBucketResult>' % (S3NS, "".join(parts)))

    def op_ListObjects(self):
        self.check_encoding()
        q = self.qd
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        max_keys = self.int_param("max-keys", 1000)
        marker = q.get("marker")
        with self.st.lock:
            objs = dict(self.st.buckets[self.bucket]["objects"])
        contents, prefixes, trunc, last = self.walk(sorted(objs), prefix, delim, marker or None, max_keys)
        parts = [x("Name", self.bucket), x("Prefix", self.enc(prefix)), x("Marker", self.enc(marker or ""))]
        if trunc and delim:
            parts.append(x("NextMarker", self.enc(last)))
        parts.append(x("MaxKeys", max_keys))
        if delim:
            parts.append(x("Delimiter", self.enc(delim)))
        if "encoding-type" in q:
            parts.append(x("EncodingType", "url"))
        parts.append(x("IsTruncated", "true" if trunc else "false"))
        parts.append(self.contents_xml(objs, contents))
        parts.extend("<CommonPrefixes>%s</CommonPrefixes>" % x("Prefix", self.enc(p)) for p in prefixes)
        self.send_xml(200, '<ListBucketResult xmlns="%s">%s</ListBucketResult>' % (S3NS, "".join(parts)))

    def op_ListMultipartUploads(self):
        self.check_encoding()
        q = self.qd
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        max_up = self.int_param("max-uploads", 1000)
        km, um = q.get("key-marker", ""), q.get("upload-id-marker", "")
        with self.st.lock:
            ups = sorted(((u["key"], u["initiated"], i) for i, u in self.st.uploads.items()
                          if u["bucket"] == self.bucket))
        items, prefixes, seen, trunc = [], [], set(), False
        after_marker = not km
        for k, ini, uid in ups:
            if not k.startswith(prefix):
                continue
            if not after_marker:
                if k < km or (k == km and (not um or uid <= um)):
                    continue
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delim)]
                    if cp in seen:
                        continue
                    if len(items) + len(prefixes) >= max_up:
                        trunc = True
                        break
                    seen.add(cp)
                    prefixes.append(cp)
                    continue
            if len(items) + len(prefixes) >= max_up:
                trunc = True
                break
            items.append((k, ini, uid))
        parts = [x("Bucket", self.bucket), x("KeyMarker", self.enc(km)), x("UploadIdMarker", um)]
        if trunc and items:
            parts += [x("NextKeyMarker", self.enc(items[-1][0])), x("NextUploadIdMarker", items[-1][2])]
        if delim:
            parts.append(x("Delimiter", self.enc(delim)))
        parts.append(x("Prefix", self.enc(prefix)))
        if "encoding-type" in q:
            parts.append(x("EncodingType", "url"))
        parts += [x("MaxUploads", max_up), x("IsTruncated", "true" if trunc else "false")]
        who = "<ID>%s</ID><DisplayName>sinkpipe-test</DisplayName>" % OWNER_ID
        for k, ini, uid in items:
            parts.append("<Upload>%s%s<Initiator>%s</Initiator><Owner>%s</Owner>%s%s</Upload>" % (
                x("Key", self.enc(k)), x("UploadId", uid), who, who, x("StorageClass", "STANDARD"),
                x("Initiated", iso_ms(ini))))
        parts.extend("<CommonPrefixes>%s</CommonPrefixes>" % x("Prefix", self.enc(p)) for p in prefixes)
        self.send_xml(200, '<ListMultipartUploadsResult xmlns="%s">%s</ListMultipartUploadsResult>'
                      % (S3NS, "".join(parts)))

    # ----------------------------------------------------------- bodies in
    def setup_body(self, n):
        mode = self.payload_hash if self.payload_hash in STREAMING else None
        trailer_names = ()
        if mode:
            enc = [e.strip() for e in self.headers.get("Content-Encoding", "").split(",")]
            if "aws-chunked" not in enc:
                raise err(400, "InvalidArgument", "Content-Encoding must include aws-chunked for STREAMING payloads")
            if self.headers.get("x-amz-decoded-content-length") is None:
                raise err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
            if mode.endswith("TRAILER"):
                tr = self.headers.get("x-amz-trailer", "")
                trailer_names = tuple(t.strip().lower() for t in tr.split(",") if t.strip())
        self.send_continue()
        self.body = Body(self.rfile, n, mode, getattr(self, "sig_ctx", None), trailer_names)

    def check_payload_hash(self, got_hex):
        p = self.payload_hash
        if p and re.fullmatch(r"[0-9a-f]{64}", p) and p != got_hex:
            raise err(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                      ClientComputedContentSHA256=p, S3ComputedContentSHA256=got_hex)

    def checksum_headers(self, names=None):
        """{alg: expected raw digest} from x-amz-checksum-* headers (or the
        trailer names to come)."""
        want = {}
        for alg in CHECKSUMS:
            v = self.headers.get("x-amz-checksum-" + alg)
            if v is None:
                continue
            try:
                raw = base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != CHECKSUM_LEN[alg]:
                raise err(400, "InvalidRequest", "Value for x-amz-checksum-%s header is invalid." % alg)
            want[alg] = raw
        for h in ("x-amz-checksum-crc64nvme",):
            if self.headers.get(h) is not None:
                raise err(400, "InvalidRequest", "%s is not supported by this test server" % h)
        if len(want) > 1:
            raise err(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        sdk = self.headers.get("x-amz-sdk-checksum-algorithm")
        if sdk and sdk.lower() not in want and not self.body.trailer_names:
            raise err(400, "InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
        return want

    def receive(self, max_size):
        """Streams the body into a temp file, hashing; returns
        (path, size, md5 hex, {alg: digest}).  Raises after deleting the
        temp file if a check fails."""
        n = self.content_length()
        if self.headers.get("Content-Length") is None:
            raise err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        size_decl = n
        if self.payload_hash in STREAMING:
            try:
                size_decl = int(self.headers.get("x-amz-decoded-content-length", ""))
            except ValueError:
                raise err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        if size_decl > max_size:
            raise err(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                      ProposedSize=size_decl, MaxSizeAllowed=max_size)
        md5_hdr = self.headers.get("Content-MD5")
        md5_want = None
        if md5_hdr is not None:
            try:
                md5_want = base64.b64decode(md5_hdr, validate=True)
            except (binascii.Error, ValueError):
                md5_want = b""
            if len(md5_want) != 16:
                raise err(400, "InvalidDigest", "The Content-MD5 you specified was invalid.", **{"Content-MD5": md5_hdr})
        self.setup_body(n)
        want = self.checksum_headers()
        trail = [t[len("x-amz-checksum-"):] for t in self.body.trailer_names
                 if t.startswith("x-amz-checksum-")]
        hashers = {a: CHECKSUMS[a]() for a in list(want) + [t for t in trail if t in CHECKSUMS]}
        md5 = hashlib.md5()
        sha = hashlib.sha256() if self.payload_hash and re.fullmatch(r"[0-9a-f]{64}", self.payload_hash) else None
        path = self.st.tmp_path()
        size = 0
        # hashing runs on a thread of its own, beside receiving and
        # writing (hashlib and the file write release the GIL); at most
        # 8 chunks wait for it
        hq = queue.Queue(maxsize=8)
        all_h = [md5] + ([sha] if sha else []) + list(hashers.values())

        def hash_loop():
            while True:
                b = hq.get()
                if b is None:
                    return
                for hh in all_h:
                    hh.update(b)
        ht = threading.Thread(target=hash_loop, daemon=True)
        ht.start()
        try:
            try:
                with open(path, "wb", buffering=0) as f:
                    while True:
                        b = self.body.read(CHUNK)
                        if not b:
                            break
                        size += len(b)
                        hq.put(b)
                        f.write(b)
            finally:
                hq.put(None)
                ht.join()
            if self.body.mode and size != size_decl:
                raise err(400, "IncompleteBody", "x-amz-decoded-content-length does not match the decoded body")
            if sha:
                self.check_payload_hash(sha.hexdigest())
            if md5_want is not None and md5.digest() != md5_want:
                raise err(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                          ExpectedDigest=md5_hdr, CalculatedDigest=base64.b64encode(md5.digest()).decode())
            for t in trail:
                if t not in CHECKSUMS:
                    raise err(400, "InvalidRequest", "unsupported trailer checksum %s" % t)
                v = self.body.trailers.get("x-amz-checksum-" + t)
                try:
                    want[t] = base64.b64decode(v or "", validate=True)
                except (binascii.Error, ValueError):
                    want[t] = b""
                if len(want[t]) != CHECKSUM_LEN[t]:
                    raise err(400, "InvalidRequest", "Value for x-amz-checksum-%s trailing header is invalid." % t)
            digests = {}
            for a, raw in want.items():
                got = hashers[a].digest()
                if got != raw:
                    raise err(400, "BadDigest", "The %s you specified did not match the calculated checksum." % a.upper())
                digests[a] = got
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        self.logrec["size"] = size
        self.logrec["checksum"] = ",".join(sorted(digests)) or None
        self.logrec["payload"] = "sha256" if sha else self.payload_hash
        if md5_want is not None:
            self.logrec["content_md5"] = True
        return path, size, md5.hexdigest(), digests

    def user_meta(self):
        meta = {}
        total = 0
        for k, v in self.headers.items():
            kl = k.lower()
            if kl.startswith("x-amz-meta-"):
                name = kl[len("x-amz-meta-"):]
                meta[name] = v if name not in meta else meta[name] + "," + v
                total += len(name) + len(v)
        if total > 2048:
            raise err(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
        std = {}
        for k in ("Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
                  "Cache-Control", "Expires"):
            v = self.headers.get(k)
            if v is not None:
                if k == "Content-Encoding":
                    v = ",".join(e.strip() for e in v.split(",") if e.strip() != "aws-chunked")
                    if not v:
                        continue
                std[k] = v
        return meta, std

    def check_key(self):
        if len(self.key.encode()) > 1024:
            raise err(400, "KeyTooLongError", "Your key is too long")

    def check_put_conditions(self, objects):
        inm = self.headers.get("If-None-Match")
        im = self.headers.get("If-Match")
        cur = objects.get(self.key)
        if inm is not None:
            if inm.strip() != "*":
                raise err(501, "NotImplemented", "A header you provided implies functionality that is not implemented", Header="If-None-Match")
            if cur is not None:
                raise err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", Condition="If-None-Match")
        igm = self.headers.get("x-goog-if-generation-match")  # GCS's XML API
        if igm is not None:
            if igm.strip() != "0":
                raise err(501, "NotImplemented", "A header you provided implies functionality that is not implemented", Header="x-goog-if-generation-match")
            if cur is not None:
                raise err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", Condition="x-goog-if-generation-match")
        if im is not None:
            if cur is None:
                raise err(404, "NoSuchKey", "The specified key does not exist.", Key=self.key)
            if im.strip().strip('"') != cur["etag"] and im.strip() != "*":
                raise err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", Condition="If-Match")

    def install(self, path, meta):
        """Puts the object in place (under the lock, after the conditions
        are checked again); the replaced file is removed."""
        st = self.st
        final = st.new_path()
        with st.lock:
            b = st.buckets.get(self.bucket)
            if b is None:
                os.unlink(path)
                raise no_such_bucket(self.bucket)
            try:
                self.check_put_conditions(b["objects"])
            except S3Error:
                os.unlink(path)
                raise
            os.rename(path, final)
            meta["path"] = final
            old = b["objects"].get(self.key)
            b["objects"][self.key] = meta
        if old is not None:
            try:
                os.unlink(old["path"])
            except OSError:
                pass

    # ----------------------------------------------------------- objects
    def op_PutObject(self):
        self.check_key()
        with self.st.lock:
            self.check_put_conditions(self.st.buckets[self.bucket]["objects"])
        meta, std = self.user_meta()
        if self.headers.get("If-None-Match") is not None:
            self.logrec["if_none_match"] = True
        if self.headers.get("x-goog-if-generation-match") is not None:
            self.logrec["if_generation_match"] = True
        path, size, md5hex, digests = self.receive(MAX_PUT)
        obj = {"size": size, "etag": md5hex, "mtime": time.time(), "meta": meta, "std": std,
               "checksums": {a: base64.b64encode(d).decode() for a, d in digests.items()}}
        self.install(path, obj)
        hdrs = {"ETag": '"%s"' % md5hex}
        for a, v in obj["checksums"].items():
            hdrs["x-amz-checksum-" + a] = v
        self.logrec["meta"] = meta
        self.send_bytes(200, b"", ctype=None, headers=hdrs)

    def get_obj(self):
        with self.st.lock:
            o = self.st.buckets[self.bucket]["objects"].get(self.key)
        if o is None:
            raise err(404, "NoSuchKey", "The specified key does not exist.", Key=self.key)
        return o

    def obj_headers(self, o):
        h = {"ETag": '"%s"' % o["etag"], "Last-Modified": http_date(o["mtime"]),
             "Accept-Ranges": "bytes"}
        h["Content-Type"] = o["std"].get("Content-Type", "binary/octet-stream")
        for k, v in o["std"].items():
            h[k] = v
        for k, v in o["meta"].items():
            h["x-amz-meta-" + k] = v
        if "parts" in o:
            h["x-amz-mp-parts-count"] = str(o["parts"])
        if self.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
            for a, v in o["checksums"].items():
                h["x-amz-checksum-" + a] = v
        return h

    def check_get_conditions(self, o):
        h = self.headers
        im, inm = h.get("If-Match"), h.get("If-None-Match")
        if im is not None and im.strip() != "*" and o["etag"] not in [s.strip().strip('"') for s in im.split(",")]:
            raise err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", Condition="If-Match")
        if inm is not None and (inm.strip() == "*" or o["etag"] in [s.strip().strip('"') for s in inm.split(",")]):
            self.send_bytes(304, b"", ctype=None, headers={"ETag": '"%s"' % o["etag"]})
            return False
        return True

    def op_HeadObject(self):
        o = self.get_obj()
        if not self.check_get_conditions(o):
            return
        h = self.obj_headers(o)
        self.finish_body()
        self.common_headers(200)
        for k, v in h.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(o["size"]))
        self.end_headers()
        self.logrec["status"] = 200

    def op_GetObject(self):
        o = self.get_obj()
        if not self.check_get_conditions(o):
            return
        size = o["size"]
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        h = self.obj_headers(o)
        if rng:
            m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
            if m and (m.group(1) or m.group(2)):
                a, b = m.group(1), m.group(2)
                if a:
                    start = int(a)
                    end = min(int(b), size - 1) if b else size - 1
                    if b and int(b) < start:
                        start, end = 0, size - 1   # invalid: ignored, as S3 does
                    elif start >= size:
                        raise err(416, "InvalidRange", "The requested range is not satisfiable",
                                  RangeRequested=rng, ActualObjectSize=size,
                                  headers={"Content-Range": "bytes */%d" % size})
                    else:
                        status = 206
                else:
                    n = int(b)
                    if n == 0:
                        raise err(416, "InvalidRange", "The requested range is not satisfiable",
                                  RangeRequested=rng, ActualObjectSize=size,
                                  headers={"Content-Range": "bytes */%d" % size})
                    start, end, status = max(0, size - n), size - 1, 206
                if status == 206:
                    h["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
        count = max(0, end - start + 1)
        self.finish_body()
        self.common_headers(status)
        for k, v in h.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(count))
        self.end_headers()
        self.logrec["status"] = status
        self.logrec["size"] = count
        with open(o["path"], "rb") as f:
            if count:
                self.wfile.flush()
                self.connection.sendfile(f, start, count)

    def op_DeleteObject(self):
        st = self.st
        with st.lock:
            o = st.buckets[self.bucket]["objects"].pop(self.key, None)
        if o is not None:
            try:
                os.unlink(o["path"])
            except OSError:
                pass
        self.send_bytes(204, b"", ctype=None)

    def op_DeleteObjects(self):
        if self.headers.get("Content-MD5") is None and not any(
                self.headers.get("x-amz-checksum-" + a) for a in CHECKSUMS):
            raise err(400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        md5_hdr = self.headers.get("Content-MD5")
        body = self.read_small_body()
        if md5_hdr is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5_hdr:
            raise err(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        keys, quiet = [], False
        for el in root:
            tag = el.tag.split("}")[-1]
            if tag == "Quiet":
                quiet = (el.text or "").strip() == "true"
            elif tag == "Object":
                for c in el:
                    if c.tag.split("}")[-1] == "Key":
                        keys.append(c.text or "")
        if not keys or len(keys) > 1000:
            raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        out = []
        st = self.st
        for k in keys:
            with st.lock:
                o = st.buckets[self.bucket]["objects"].pop(k, None)
            if o is not None:
                try:
                    os.unlink(o["path"])
                except OSError:
                    pass
            if not quiet:
                out.append("<Deleted>%s</Deleted>" % x("Key", k))
        self.send_xml(200, '<DeleteResult xmlns="%s">%s</DeleteResult>' % (S3NS, "".join(out)))

    # ----------------------------------------------------------- multipart
    def op_CreateMultipartUpload(self):
        self.check_key()
        meta, std = self.user_meta()
        self.read_small_body()
        alg = self.headers.get("x-amz-checksum-algorithm")
        if alg is not None and alg.lower() not in CHECKSUMS:
            raise err(400, "InvalidRequest", "Checksum algorithm provided is unsupported.")
        uid = base64.urlsafe_b64encode(os.urandom(36)).decode().rstrip("=")
        with self.st.lock:
            self.st.uploads[uid] = {"bucket": self.bucket, "key": self.key, "initiated": time.time(),
                                    "meta": meta, "std": std, "parts": {},
                                    "alg": alg.lower() if alg else None}
        self.logrec["upload"] = uid
        self.logrec["meta"] = meta
        hdrs = {}
        if alg:
            hdrs["x-amz-checksum-algorithm"] = alg.upper()
        self.send_xml(200, '<InitiateMultipartUploadResult xmlns="%s">%s%s%s</InitiateMultipartUploadResult>'
                      % (S3NS, x("Bucket", self.bucket), x("Key", self.key), x("UploadId", uid)), headers=hdrs)

    def get_upload(self):
        uid = self.qd.get("uploadId", "")
        with self.st.lock:
            u = self.st.uploads.get(uid)
        if u is None or u["bucket"] != self.bucket or u["key"] != self.key:
            raise err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", UploadId=uid)
        self.logrec["upload"] = uid
        return uid, u

    def op_UploadPart(self):
        uid, u = self.get_upload()
        try:
            pn = int(self.qd.get("partNumber", ""))
        except ValueError:
            pn = 0
        if not 1 <= pn <= 10000:
            raise err(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
                      ArgumentName="partNumber", ArgumentValue=self.qd.get("partNumber", ""))
        self.logrec["part"] = pn
        path, size, md5hex, digests = self.receive(MAX_PART)
        alg = u["alg"]
        if alg and alg not in digests:
            os.unlink(path)
            raise err(400, "InvalidRequest", "The upload was created using a %s checksum. The part request is missing the checksum." % alg)
        part = {"size": size, "etag": md5hex, "mtime": time.time(), "path": path,
                "checksums": {a: base64.b64encode(d).decode() for a, d in digests.items()}}
        with self.st.lock:
            cur = self.st.uploads.get(uid)
            if cur is None:
                os.unlink(path)
                raise err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", UploadId=uid)
            old = cur["parts"].get(pn)
            cur["parts"][pn] = part
        if old:
            try:
                os.unlink(old["path"])
            except OSError:
                pass
        hdrs = {"ETag": '"%s"' % md5hex}
        for a, v in part["checksums"].items():
            hdrs["x-amz-checksum-" + a] = v
        self.send_bytes(200, b"", ctype=None, headers=hdrs)

    def remove_upload(self, uid):
        with self.st.lock:
            u = self.st.uploads.pop(uid, None)
        if u:
            for p in u["parts"].values():
                try:
                    os.unlink(p["path"])
                except OSError:
                    pass

    def op_AbortMultipartUpload(self):
        uid, u = self.get_upload()
        self.remove_upload(uid)
        self.send_bytes(204, b"", ctype=None)

    def op_ListParts(self):
        self.check_encoding()
        uid, u = self.get_upload()
        max_parts = self.int_param("max-parts", 1000)
        marker = self.int_param("part-number-marker", 0, hi=10000)
        with self.st.lock:
            parts = sorted((n, dict(p)) for n, p in u["parts"].items() if n > marker)
        trunc = len(parts) > max_parts
        parts = parts[:max_parts]
        who = "<ID>%s</ID><DisplayName>sinkpipe-test</DisplayName>" % OWNER_ID
        out = [x("Bucket", self.bucket), x("Key", self.enc(self.key)), x("UploadId", uid),
               "<Initiator>%s</Initiator><Owner>%s</Owner>" % (who, who), x("StorageClass", "STANDARD"),
               x("PartNumberMarker", marker)]
        if parts:
            out.append(x("NextPartNumberMarker", parts[-1][0]))
        out += [x("MaxParts", max_parts), x("IsTruncated", "true" if trunc else "false")]
        if u["alg"]:
            out.append(x("ChecksumAlgorithm", u["alg"].upper()))
        for n, p in parts:
            cks = "".join(x("Checksum" + a.upper(), v) for a, v in p["checksums"].items())
            out.append("<Part>%s%s%s%s%s</Part>" % (x("PartNumber", n), x("LastModified", iso_ms(p["mtime"])),
                                                    x("ETag", '"%s"' % p["etag"]), x("Size", p["size"]), cks))
        self.send_xml(200, '<ListPartsResult xmlns="%s">%s</ListPartsResult>' % (S3NS, "".join(out)))

    def op_CompleteMultipartUpload(self):
        uid, u = self.get_upload()
        body = self.read_small_body(4 * MIB)
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        listed = []
        for el in root:
            if el.tag.split("}")[-1] != "Part":
                continue
            d = {c.tag.split("}")[-1]: (c.text or "").strip() for c in el}
            try:
                n = int(d.get("PartNumber", ""))
            except ValueError:
                raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
            listed.append((n, d))
        if root.tag.split("}")[-1] != "CompleteMultipartUpload" or not listed:
            raise err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        if self.headers.get("If-None-Match") is not None:
            self.logrec["if_none_match"] = True
        with self.st.lock:
            self.check_put_conditions(self.st.buckets[self.bucket]["objects"])
            have = dict(u["parts"])
        prev = 0
        chosen = []
        for i, (n, d) in enumerate(listed):
            if n <= prev:
                raise err(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
                          UploadId=uid)
            prev = n
            p = have.get(n)
            etag = d.get("ETag", "").strip('"')
            if p is None or etag != p["etag"]:
                raise err(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                          UploadId=uid, PartNumber=n, ETag=d.get("ETag", ""))
            for a, v in p["checksums"].items():
                given = d.get("Checksum" + a.upper())
                if given is not None and given != v:
                    raise err(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                              UploadId=uid, PartNumber=n)
            chosen.append((n, p))
        for n, p in chosen[:-1]:
            if p["size"] < MIN_PART:
                raise err(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
                          UploadId=uid, ProposedSize=p["size"], MinSizeAllowed=MIN_PART, PartNumber=n,
                          ETag='"%s"' % p["etag"])
        tmp = self.st.tmp_path()
        total = 0
        md5s = hashlib.md5()
        try:
            with open(tmp, "wb") as out:
                for n, p in chosen:
                    md5s.update(bytes.fromhex(p["etag"]))
                    with open(p["path"], "rb") as src:
                        left = p["size"]
                        while left > 0:
                            try:
                                k = os.copy_file_range(src.fileno(), out.fileno(), left)
                            except OSError:
                                k = 0
                            if k <= 0:
                                src.seek(p["size"] - left)
                                shutil.copyfileobj(src, out, CHUNK)
                                out.flush()
                                break
                            left -= k
                    total += p["size"]
        except BaseException:
            os.unlink(tmp)
            raise
        etag = "%s-%d" % (md5s.hexdigest(), len(chosen))
        checksums = {}
        alg = u["alg"]
        if alg and all(alg in p["checksums"] for _, p in chosen):
            hh = CHECKSUMS[alg]()
            for _, p in chosen:
                hh.update(base64.b64decode(p["checksums"][alg]))
            checksums[alg] = "%s-%d" % (base64.b64encode(hh.digest()).decode(), len(chosen))
        obj = {"size": total, "etag": etag, "mtime": time.time(), "meta": u["meta"], "std": u["std"],
               "checksums": checksums, "parts": len(chosen)}
        with self.st.lock:
            if self.st.uploads.get(uid) is not u:
                os.unlink(tmp)
                raise err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", UploadId=uid)
        self.install(tmp, obj)
        self.remove_upload(uid)
        self.logrec["size"] = total
        self.logrec["parts"] = [p["size"] for _, p in chosen]
        loc = "http://%s/%s/%s" % (self.headers.get("Host", ""), self.bucket, uri_encode(self.key, safe="/"))
        cks = "".join(x("Checksum" + a.upper(), v) for a, v in checksums.items())
        self.send_xml(200, '<CompleteMultipartUploadResult xmlns="%s">%s%s%s%s%s</CompleteMultipartUploadResult>'
                      % (S3NS, x("Location", loc), x("Bucket", self.bucket), x("Key", self.key),
                         x("ETag", '"%s"' % etag), cks))

    # ------------------------------------------------------------- STS
    def handle_sts(self):
        st = self.st
        self.logrec["op"] = "sts"
        n = self.content_length()
        if n > 64 * 1024:
            raise err(413, "RequestEntityTooLarge", "Request body too large")
        if self.command == "POST" and self.headers.get("Content-Length") is None:
            raise err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        self.send_continue()
        body = self.rfile.read(n) if n else b""
        if len(body) != n:
            self.close_connection = True
            raise err(400, "IncompleteBody", "request body shorter than Content-Length")
        self.body = Body(self.rfile, 0)
        self.sts_body_hash = hashlib.sha256(body).hexdigest()
        params = dict(self.query)
        if self.command == "POST":
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("application/x-www-form-urlencoded"):
                raise err(400, "InvalidParameterValue", "Content-Type must be application/x-www-form-urlencoded")
            params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif self.command != "GET":
            raise err(405, "InvalidAction", "Could not find operation for this request")

        def region_for(r):
            if not REGION_RE.match(r):
                raise err(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.")
        creds = self.authenticate("sts", region_for)
        action = params.get("Action")
        self.logrec["op"] = "sts:%s" % action
        if action != "AssumeRole":
            raise err(400, "InvalidAction", "Could not find operation %s for version %s" % (action, params.get("Version")))
        if params.get("Version") != "2011-06-15":
            raise err(400, "InvalidAction", "Could not find operation AssumeRole for version %s" % params.get("Version"))
        arn = params.get("RoleArn")
        name = params.get("RoleSessionName")
        if not arn:
            raise err(400, "MissingParameter", "The request must contain the parameter RoleArn")
        if not name:
            raise err(400, "MissingParameter", "The request must contain the parameter RoleSessionName")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", name):
            raise err(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*" % name)
        try:
            dur = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            raise err(400, "ValidationError", "DurationSeconds must be an integer")
        if dur < st.args.sts_min_duration:
            raise err(400, "ValidationError", "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d" % (dur, st.args.sts_min_duration))
        if dur > st.args.sts_max_duration:
            raise err(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        self.logrec["role"] = arn
        self.logrec["session"] = name
        self.logrec["duration"] = dur
        denied = err(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                     % ("arn:aws:iam::123456789012:user/sinkpipe-test" if creds.role is None else creds.role, arn))
        if arn not in st.roles:
            raise denied
        ext = st.roles[arn]
        if ext is not None and params.get("ExternalId") != ext:
            raise denied
        ak = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        secret = base64.b64encode(os.urandom(30)).decode()
        token = "FwoGZXIvYXdzE" + base64.b64encode(os.urandom(120)).decode()
        expires = int(time.time()) + min(dur, st.args.sts_lifetime or dur)
        role_name = arn.rsplit("/", 1)[-1]
        with st.lock:
            st.creds[ak] = Creds(ak, secret, "sts:%s" % name, token=token, expires=expires,
                                 role="arn:aws:sts::123456789012:assumed-role/%s/%s" % (role_name, name))
        exp_s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        body = ('<AssumeRoleResponse xmlns="%s"><AssumeRoleResult>'
                '<AssumedRoleUser>%s%s</AssumedRoleUser>'
                '<Credentials>%s%s%s%s</Credentials>'
                '<PackedPolicySize>6</PackedPolicySize>'
                '</AssumeRoleResult><ResponseMetadata>%s</ResponseMetadata></AssumeRoleResponse>') % (
            STSNS, x("Arn", "arn:aws:sts::123456789012:assumed-role/%s/%s" % (role_name, name)),
            x("AssumedRoleId", "AROA3XFRBF535PLBIFPI4:%s" % name),
            x("AccessKeyId", ak), x("SecretAccessKey", secret), x("SessionToken", token),
            x("Expiration", exp_s), x("RequestId", str(uuid.uuid4())))
        self.send_xml(200, body, headers={"x-amzn-RequestId": str(uuid.uuid4())})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="strict S3 + STS test server")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--sts-port", type=int, default=0)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--cred", action="append", default=[], help="AK:SECRET[:readonly]")
    ap.add_argument("--role", action="append", default=[], help="ROLE_ARN[#EXTERNAL_ID]")
    ap.add_argument("--sts-min-duration", type=int, default=900)
    ap.add_argument("--sts-max-duration", type=int, default=3600)
    ap.add_argument("--sts-lifetime", type=int, default=0,
                    help="issued credentials expire after at most this many seconds, whatever DurationSeconds says (0: no cap)")
    ap.add_argument("--max-skew", type=int, default=900)
    ap.add_argument("--vhost-suffix", default="localhost")
    ap.add_argument("--bucket", action="append", default=[], help="NAME[:REGION] created at start")
    args = ap.parse_args()
    if not args.cred:
        sys.exit("s3_server: at least one --cred AK:SECRET is required")
    state = State(args)
    for b in args.bucket:
        name, _, region = b.partition(":")
        state.buckets[name] = {"created": time.time(), "region": region or args.region, "objects": {}}
    servers = []
    for kind, port in (("s3", args.port), ("sts", args.sts_port)):
        srv = Server((args.host, port), Handler)
        srv.state, srv.kind = state, kind
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("ready s3_port=%d sts_port=%d crc32c=%s" % (
        servers[0].server_address[1], servers[1].server_address[1],
        "native" if crc32c is not crc32c_py else "python"), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
